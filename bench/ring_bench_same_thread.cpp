// ring_bench's Google Benchmark functions (run with --gbench or any --benchmark_* flag):
// single-thread push+pop cost per queue, no core crossing.
#include <benchmark/benchmark.h>

#include <memory>

#include "bench/ring_bench_queues.hpp"

namespace qt::bench {
namespace {

template <typename Queue>
void BM_PushPopSameThread(benchmark::State& state) {
  auto queue = std::make_unique<Queue>();
  BenchMessage in{};
  BenchMessage out{};
  for (auto _ : state) {
    ++in.sequence;
    if (!queue->push(in) || !queue->pop(out)) {
      state.SkipWithError("queue refused a push or pop");
      break;
    }
    benchmark::DoNotOptimize(out);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK_TEMPLATE(BM_PushPopSameThread, OurRing);
BENCHMARK_TEMPLATE(BM_PushPopSameThread, MoodycamelQueue);
BENCHMARK_TEMPLATE(BM_PushPopSameThread, BoostQueue);

// 32 single pushes then 32 single pops: the like-for-like counterpart of the batch call below.
template <typename Queue>
void BM_Burst32SameThread(benchmark::State& state) {
  auto queue = std::make_unique<Queue>();
  BenchMessage in{};
  BenchMessage out{};
  for (auto _ : state) {
    bool ok = true;
    for (std::size_t i = 0; i < kBatch; ++i) {
      ++in.sequence;
      ok &= queue->push(in);
    }
    for (std::size_t i = 0; i < kBatch; ++i) {
      ok &= queue->pop(out);
      benchmark::DoNotOptimize(out);
    }
    if (!ok) {
      state.SkipWithError("queue refused a push or pop");
      break;
    }
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kBatch));
}
BENCHMARK_TEMPLATE(BM_Burst32SameThread, OurRing);
BENCHMARK_TEMPLATE(BM_Burst32SameThread, MoodycamelQueue);
BENCHMARK_TEMPLATE(BM_Burst32SameThread, BoostQueue);

void BM_OurRingBatch32SameThread(benchmark::State& state) {
  auto queue = std::make_unique<OurRing>();
  BenchMessage batch[kBatch] = {};
  uint64_t checksum = 0;
  for (auto _ : state) {
    for (std::size_t i = 0; i < kBatch; ++i) ++batch[i].sequence;
    const std::size_t pushed = queue->ring().try_push_batch(batch, kBatch);
    const std::size_t drained =
        queue->ring().drain([&](const BenchMessage& m) { checksum += m.sequence; }, kBatch);
    benchmark::DoNotOptimize(checksum);
    if (pushed != kBatch || drained != kBatch) {
      state.SkipWithError("ring refused a batch");
      break;
    }
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kBatch));
}
BENCHMARK(BM_OurRingBatch32SameThread);

}  // namespace
}  // namespace qt::bench
