// rate_limit_bench (Google Benchmark): the cost of one RateLimiter::check on the memory storage
// — key building, one shard lock, the route's windows, the header numbers, the completion — on
// one thread and on two threads sharing one storage (the HTTP server's I/O threads).
//
// Compared, each for fixed and moving windows with the seed's default limits
// "1000 per hour; 100 per minute":
//  - ManyClients: 4,096 clients per thread, each thread its own, on a clock advancing 1 ms per
//    check: every check is admitted (a client comes back every 4.1 s: 15 per minute, 879 per
//    hour) and the working set is 4,096 × 2 windows per thread.
//  - OneFloodingClient: one client on a clock advancing 1 µs per check: after 100 admitted the
//    rest are refused by the minute; with two threads both hit the same shard lock.
// Counters: admitted (fraction of checks) and, single-threaded, allocations per check.
#include <benchmark/benchmark.h>

#include <memory>
#include <string>
#include <vector>

#include "bench/registered_benchmarks.hpp"
#include "gateway/http/rate_limit.hpp"
#include "gateway/http/rate_limit_memory.hpp"
#include "tests/http/rate_limit_test_support.hpp"
#include "tests/support/allocation_counter.hpp"

namespace qt::http {
namespace {

constexpr std::string_view kSeedDefaultLimits = "1000 per hour; 100 per minute";

// Shared by the threads of one run; made before they start and dropped after they end.
std::unique_ptr<MemoryRateLimitStorage> g_storage;
std::unique_ptr<RouteLimits> g_route;

void set_up(const benchmark::State&) {
  g_storage = std::make_unique<MemoryRateLimitStorage>();
  g_route = std::make_unique<RouteLimits>(*RouteLimits::create("api_orders", kSeedDefaultLimits));
}

void tear_down(const benchmark::State&) {
  g_route.reset();
  g_storage.reset();
}

void run_checks(benchmark::State& state, RateLimitStrategy strategy, int clients,
                std::chrono::microseconds step) {
  test::ManualClock clock;  // this thread's; the storage is shared
  RateLimiter limiter(*g_storage, {strategy, ""}, clock);
  std::vector<std::string> names;
  // Many clients: each thread its own. One client: the same on every thread.
  const int thread = clients == 1 ? 0 : state.thread_index();
  for (int c = 0; c < clients; ++c) {
    names.push_back("10." + std::to_string(thread) + "." + std::to_string(c / 256) + "." +
                    std::to_string(c % 256));
  }
  const bool count_allocations =
      state.threads() == 1 && qt::testing::allocation_counting_available();
  std::unique_ptr<qt::testing::AllocationWindow> allocations;
  if (count_allocations) {
    allocations =
        std::make_unique<qt::testing::AllocationWindow>(qt::testing::CountedThreads::kAll);
  }
  int64_t admitted = 0;
  std::size_t next = 0;
  for (auto _ : state) {
    clock.advance(step);
    limiter.check(names[next], *g_route, [&admitted](absl::StatusOr<RateLimitDecision> decision) {
      admitted += decision->allowed ? 1 : 0;
    });
    if (++next == names.size()) next = 0;
  }
  state.SetItemsProcessed(state.iterations());  // summed over threads: checks per second
  state.counters["admitted"] =
      benchmark::Counter(static_cast<double>(admitted), benchmark::Counter::kAvgIterations);
  if (count_allocations) {
    allocations->close();
    state.counters["allocs/check"] = benchmark::Counter(
        static_cast<double>(allocations->allocations()), benchmark::Counter::kAvgIterations);
  }
}

void BM_FixedWindowManyClients(benchmark::State& state) {
  run_checks(state, RateLimitStrategy::kFixedWindow, 4'096, std::chrono::milliseconds(1));
}
void BM_MovingWindowManyClients(benchmark::State& state) {
  run_checks(state, RateLimitStrategy::kMovingWindow, 4'096, std::chrono::milliseconds(1));
}
void BM_FixedWindowOneFloodingClient(benchmark::State& state) {
  run_checks(state, RateLimitStrategy::kFixedWindow, 1, std::chrono::microseconds(1));
}
void BM_MovingWindowOneFloodingClient(benchmark::State& state) {
  run_checks(state, RateLimitStrategy::kMovingWindow, 1, std::chrono::microseconds(1));
}

BENCHMARK(BM_FixedWindowManyClients)->Setup(set_up)->Teardown(tear_down)->Threads(1)->Threads(2);
BENCHMARK(BM_MovingWindowManyClients)->Setup(set_up)->Teardown(tear_down)->Threads(1)->Threads(2);
BENCHMARK(BM_FixedWindowOneFloodingClient)
    ->Setup(set_up)
    ->Teardown(tear_down)
    ->Threads(1)
    ->Threads(2);
BENCHMARK(BM_MovingWindowOneFloodingClient)
    ->Setup(set_up)
    ->Teardown(tear_down)
    ->Threads(1)
    ->Threads(2);

}  // namespace
}  // namespace qt::http

int main(int argc, char** argv) {
  return qt::bench::run_registered_benchmarks(std::vector<std::string>(argv, argv + argc));
}
