// metrics_bench (Google Benchmark): what the HTTP API's Prometheus instruments cost the threads
// that update them (gateway/http/metrics_instruments.hpp), and what a scrape costs.
//
// Compared, each on one thread and on two threads updating the same child at once (gbench's
// threads, not pinned):
//   - one std::atomic<uint64_t> shared by the threads (relaxed fetch_add): the unsharded counter
//     the instruments are measured against — its cache line moves between the cores;
//   - Counter::inc, Histogram::observe (client_golang's 11 default buckets), Summary::observe
//     (log-linear window, coarse clock read per observation) on their per-thread shards;
//   - Family::child() finding an existing child (three label values), for hot paths that do not
//     keep the pointer;
//   - Registry::render of an exposition like the HTTP API's (requests by route, method and code,
//     latency summary and histogram by route, process collectors) into a warm buffer.
#include <benchmark/benchmark.h>

#include <array>
#include <atomic>
#include <random>
#include <string>
#include <vector>

#include "bench/bench_cli.hpp"
#include "bench/registered_benchmarks.hpp"
#include "gateway/http/metrics_registry.hpp"
#include "gateway/http/process_metrics.hpp"

namespace qt::http::metrics {
namespace {

// Request latencies around 300 µs with a tail, cycled through by each thread.
const std::array<double, 4096>& latencies() {
  static const std::array<double, 4096> values = [] {
    std::array<double, 4096> drawn{};
    std::mt19937_64 random(42);
    std::lognormal_distribution<double> latency(-8.1, 0.8);
    for (double& value : drawn) value = latency(random);
    return drawn;
  }();
  return values;
}

void BM_SharedAtomicFetchAdd(benchmark::State& state) {
  static std::atomic<uint64_t> shared{0};
  for (auto _ : state) shared.fetch_add(1, std::memory_order_relaxed);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SharedAtomicFetchAdd)->Threads(1)->Threads(2)->UseRealTime();

void BM_CounterInc(benchmark::State& state) {
  static Counter counter;
  for (auto _ : state) counter.inc();
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_CounterInc)->Threads(1)->Threads(2)->UseRealTime();

void BM_HistogramObserve(benchmark::State& state) {
  static const std::vector<double> bounds(std::begin(kDefaultLatencyBuckets),
                                          std::end(kDefaultLatencyBuckets));
  static Histogram histogram(bounds);
  const auto& values = latencies();
  std::size_t next = static_cast<std::size_t>(state.thread_index()) * 997;
  for (auto _ : state) {
    histogram.observe(values[next++ & (values.size() - 1)]);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_HistogramObserve)->Threads(1)->Threads(2)->UseRealTime();

void BM_SummaryObserve(benchmark::State& state) {
  static const SummaryOptions options;
  static Summary summary(options);
  const auto& values = latencies();
  std::size_t next = static_cast<std::size_t>(state.thread_index()) * 997;
  for (auto _ : state) {
    summary.observe(values[next++ & (values.size() - 1)]);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SummaryObserve)->Threads(1)->Threads(2)->UseRealTime();

const std::array<std::string_view, 6> kRoutes = {
    "/health", "/ready", "/api/trade", "/api/orders/{id}", "/api/positions", "/api/quotes/{epic}"};
const std::array<std::string_view, 3> kMethods = {"GET", "POST", "DELETE"};
const std::array<std::string_view, 5> kCodes = {"200", "400", "404", "429", "503"};

// The HTTP API's families with 6 routes × 3 methods × 5 codes of requests.
struct HttpMetrics {
  HttpMetrics() {
    for (std::string_view route : kRoutes) {
      for (std::string_view method : kMethods) {
        for (std::string_view code : kCodes) (*requests.child({route, method, code}))->inc();
      }
      for (int i = 0; i < 1000; ++i) {
        (*latency.child({route}))->observe(latencies()[static_cast<std::size_t>(i)]);
        (*histogram.child({route}))->observe(latencies()[static_cast<std::size_t>(i)]);
      }
    }
    (void)add_process_metrics(registry);
    (void)add_build_info(registry, this_build());
  }
  Registry registry;
  Family<Counter> requests =
      *registry.add_counter({"http_requests_total", "HTTP requests.", {"route", "method", "code"}});
  Family<Summary> latency =
      *registry.add_summary({"http_request_duration_seconds", "HTTP latency.", {"route"}});
  Family<Histogram> histogram =
      *registry.add_histogram({"http_server_request_duration_seconds", "HTTP latency.", {"route"}},
                              {kDefaultLatencyBuckets, std::end(kDefaultLatencyBuckets)});
};

HttpMetrics& http_metrics() {
  static HttpMetrics metrics;
  return metrics;
}

void BM_ChildLookupExisting(benchmark::State& state) {
  const Family<Counter>& requests = http_metrics().requests;
  std::size_t next = 0;
  for (auto _ : state) {
    const std::string_view route = kRoutes[next % kRoutes.size()];
    const std::string_view code = kCodes[next % kCodes.size()];
    benchmark::DoNotOptimize(requests.child({route, "POST", code}));
    ++next;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ChildLookupExisting);

void BM_ScrapeHttpExposition(benchmark::State& state) {
  const Registry& registry = http_metrics().registry;
  std::string out;
  registry.render(out);
  out.reserve(out.size() * 2);
  for (auto _ : state) {
    registry.render(out);
    benchmark::DoNotOptimize(out.data());
  }
  state.counters["bytes"] = static_cast<double>(out.size());
}
BENCHMARK(BM_ScrapeHttpExposition)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace qt::http::metrics

int main(int argc, char** argv) {
  CLI::App app(
      "metrics_bench: cost of Prometheus counter/histogram/summary updates on 1 and 2 threads, "
      "against a shared atomic, and of a scrape");
  app.footer("Every --benchmark_* flag is passed to Google Benchmark.");
  std::vector<std::string> benchmark_args;
  if (const auto exit = qt::bench::parse_command_line(app, argc, argv, &benchmark_args)) {
    return *exit;
  }
  return qt::bench::run_registered_benchmarks(benchmark_args);
}
