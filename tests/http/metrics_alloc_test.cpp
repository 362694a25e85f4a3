// What the metrics cost in allocations (tests/support/allocation_counter.hpp): none to update
// an instrument or find an existing child, none to scrape into a warm buffer.
#include <gtest/gtest.h>

#include <atomic>
#include <string>

#include "gateway/http/metrics_registry.hpp"
#include "gateway/http/process_metrics.hpp"
#include "tests/support/allocation_counter.hpp"

namespace qt::http::metrics {
namespace {

using qt::testing::AllocationWindow;
using qt::testing::CountedThreads;

#define SKIP_WITHOUT_COUNTING()                      \
  if (!qt::testing::allocation_counting_available()) \
  GTEST_SKIP() << qt::testing::kAllocationCountingUnavailable

std::atomic<int64_t> g_virtual_now_ns{0};
int64_t virtual_now_ns() noexcept {
  return g_virtual_now_ns.load(std::memory_order_relaxed);
}

SummaryOptions virtual_time_options() {
  SummaryOptions options;
  options.now_ns = &virtual_now_ns;
  return options;
}

// Every kind of family, a collector, the process collectors and build info.
struct FullRegistry {
  FullRegistry() {
    EXPECT_TRUE(registry
                    .add_collector({"quanttrading_ring_depth", "Depth.", {"ring"}},
                                   MetricType::kGauge,
                                   [](SampleWriter& out) { out.sample({"orders"}, 3); })
                    .ok());
    EXPECT_TRUE(add_process_metrics(registry).ok());
    EXPECT_TRUE(add_build_info(registry, this_build()).ok());
  }
  Registry registry;
  Family<Counter> requests =
      *registry.add_counter({"http_requests_total", "Requests.", {"route", "code"}});
  Family<Summary> latency = *registry.add_summary(
      {"http_request_duration_seconds", "Latency.", {"route"}}, virtual_time_options());
  Family<Histogram> histogram =
      *registry.add_histogram({"http_server_request_duration_seconds", "Latency.", {"route"}},
                              {kDefaultLatencyBuckets, std::end(kDefaultLatencyBuckets)});
  Family<Gauge> connections =
      *registry.add_gauge({"quanttrading_http_connections", "Connections."});
};

TEST(MetricsAllocations, CountingWorksInThisProgram) {
  SKIP_WITHOUT_COUNTING();
  EXPECT_GE(qt::testing::allocations_counted_for_one_new(), 1u);
}

TEST(MetricsAllocations, UpdatesAndLookupsOfExistingChildrenAllocateNothing) {
  SKIP_WITHOUT_COUNTING();
  FullRegistry metrics;
  ASSERT_TRUE(metrics.requests.child({"/api/trade", "200"}).ok());
  ASSERT_TRUE(metrics.latency.child({"/api/trade"}).ok());
  ASSERT_TRUE(metrics.histogram.child({"/api/trade"}).ok());
  AllocationWindow window(CountedThreads::kAll);
  for (int i = 0; i < 10'000; ++i) {
    (*metrics.requests.child({"/api/trade", "200"}))->inc();
    (*metrics.latency.child({"/api/trade"}))->observe(0.0001 * i);
    (*metrics.histogram.child({"/api/trade"}))->observe(0.0001 * i);
    metrics.connections.unlabeled().set(i);
    // Age slices rotate inside the window: rotation clears in place.
    g_virtual_now_ns.fetch_add(std::chrono::nanoseconds(std::chrono::seconds(30)).count());
  }
  window.close();
  EXPECT_EQ(window.allocations(), 0u);
}

TEST(MetricsAllocations, AScrapeIntoAWarmBufferAllocatesNothing) {
  SKIP_WITHOUT_COUNTING();
  FullRegistry metrics;
  (*metrics.requests.child({"/api/trade", "200"}))->inc();
  (*metrics.requests.child({"/health", "200"}))->inc();
  (*metrics.latency.child({"/api/trade"}))->observe(0.001);
  (*metrics.histogram.child({"/api/trade"}))->observe(0.001);
  std::string out;
  metrics.registry.render(out);  // the buffer grows once
  out.reserve(out.size() * 2);   // room for figures that grow a digit
  AllocationWindow window(CountedThreads::kAll);
  metrics.registry.render(out);
  window.close();
  EXPECT_EQ(window.allocations(), 0u) << out;
  EXPECT_NE(out.find("process_open_fds "), std::string::npos);
}

}  // namespace
}  // namespace qt::http::metrics
