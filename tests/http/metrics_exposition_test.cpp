// The whole exposition (metrics::Registry::render): a golden text of a small registry, the
// order of families and children, and promtool's verdict on an exposition with every kind of
// metric, the process collectors and build info.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <string>

#include "gateway/http/metrics_registry.hpp"
#include "gateway/http/process_metrics.hpp"
#include "persist/child_process.hpp"
#include "tests/support/test_files.hpp"

namespace qt::http::metrics {
namespace {

using qt::persist::ChildProcessResult;
using qt::persist::find_on_path;
using qt::persist::run_child_process;
using qt::testing::ScratchDir;

std::atomic<int64_t> g_virtual_now_ns{0};
int64_t virtual_now_ns() noexcept {
  return g_virtual_now_ns.load(std::memory_order_relaxed);
}

std::string render(const Registry& registry) {
  std::string out;
  registry.render(out);
  return out;
}

TEST(MetricsExposition, GoldenTextOfASmallRegistry) {
  Registry registry;
  auto requests = registry.add_counter({"http_requests_total",
                                        "HTTP requests by route, method and status code.",
                                        {"route", "method", "code"}});
  auto connections = registry.add_gauge({"quanttrading_http_connections", "Open connections."});
  auto commits = registry.add_histogram(
      {"quanttrading_journal_commit_seconds", "Journal commit time.\nFrom write to fsync."},
      {0.001, 0.01});
  SummaryOptions options;
  options.now_ns = &virtual_now_ns;
  auto latency = registry.add_summary({"http_request_duration_seconds",
                                       "HTTP request latency (C:\\ style \"quotes\" stay).",
                                       {"route"}},
                                      options);
  ASSERT_TRUE(requests.ok() && connections.ok() && commits.ok() && latency.ok());
  ASSERT_TRUE(
      registry
          .add_collector({"quanttrading_ring_depth", "Messages waiting in a ring.", {"ring"}},
                         MetricType::kGauge,
                         [](SampleWriter& out) {
                           out.sample({"orders"}, 3);
                           out.sample({"quotes \"L1\"\n\\"}, 0);
                         })
          .ok());

  (*requests->child({"/api/trade", "POST", "200"}))->inc(41);
  (*requests->child({"/api/trade", "POST", "200"}))->inc();
  (*requests->child({"/health", "GET", "200"}))->inc(7);
  connections->unlabeled().set(12);
  commits->unlabeled().observe(0.0005);
  commits->unlabeled().observe(0.25);
  Summary& trade_latency = **latency->child({"/api/trade"});
  for (int i = 1; i <= 100; ++i) trade_latency.observe(i <= 95 ? 0.000125 : 1.5);

  EXPECT_EQ(render(registry),
            "# HELP http_request_duration_seconds HTTP request latency (C:\\\\ style \"quotes\" "
            "stay).\n"
            "# TYPE http_request_duration_seconds summary\n"
            // 0.000125 = 1.024 * 2^-13: the bucket [2^-13, 2^-13 * 33/32), midpoint 2^-13 * 65/64.
            "http_request_duration_seconds{route=\"/api/trade\",quantile=\"0.5\"} "
            "0.0001239776611328125\n"
            "http_request_duration_seconds{route=\"/api/trade\",quantile=\"0.95\"} "
            "0.0001239776611328125\n"
            // 1.5 = 48/32: the bucket [1.5, 1.53125), midpoint 1.515625.
            "http_request_duration_seconds{route=\"/api/trade\",quantile=\"0.99\"} 1.515625\n"
            "http_request_duration_seconds_sum{route=\"/api/trade\"} 7.511875\n"
            "http_request_duration_seconds_count{route=\"/api/trade\"} 100\n"
            "# HELP http_requests_total HTTP requests by route, method and status code.\n"
            "# TYPE http_requests_total counter\n"
            "http_requests_total{route=\"/api/trade\",method=\"POST\",code=\"200\"} 42\n"
            "http_requests_total{route=\"/health\",method=\"GET\",code=\"200\"} 7\n"
            "# HELP quanttrading_http_connections Open connections.\n"
            "# TYPE quanttrading_http_connections gauge\n"
            "quanttrading_http_connections 12\n"
            "# HELP quanttrading_journal_commit_seconds Journal commit time.\\nFrom write to "
            "fsync.\n"
            "# TYPE quanttrading_journal_commit_seconds histogram\n"
            "quanttrading_journal_commit_seconds_bucket{le=\"0.001\"} 1\n"
            "quanttrading_journal_commit_seconds_bucket{le=\"0.01\"} 1\n"
            "quanttrading_journal_commit_seconds_bucket{le=\"+Inf\"} 2\n"
            "quanttrading_journal_commit_seconds_sum 0.2505\n"
            "quanttrading_journal_commit_seconds_count 2\n"
            "# HELP quanttrading_ring_depth Messages waiting in a ring.\n"
            "# TYPE quanttrading_ring_depth gauge\n"
            "quanttrading_ring_depth{ring=\"orders\"} 3\n"
            "quanttrading_ring_depth{ring=\"quotes \\\"L1\\\"\\n\\\\\"} 0\n");
}

TEST(MetricsExposition, FamiliesSortByNameAndChildrenByLabelValues) {
  Registry registry;
  auto zulu = registry.add_counter({"zulu_total", "Z.", {"k"}});
  auto alpha = registry.add_counter({"alpha_total", "A.", {"k"}});
  ASSERT_TRUE(zulu.ok() && alpha.ok());
  for (std::string_view key : {"c", "a", "b"}) {
    ASSERT_TRUE(zulu->child({key}).ok());
    ASSERT_TRUE(alpha->child({key}).ok());
  }
  const std::string text = render(registry);
  EXPECT_EQ(text,
            "# HELP alpha_total A.\n# TYPE alpha_total counter\n"
            "alpha_total{k=\"a\"} 0\nalpha_total{k=\"b\"} 0\nalpha_total{k=\"c\"} 0\n"
            "# HELP zulu_total Z.\n# TYPE zulu_total counter\n"
            "zulu_total{k=\"a\"} 0\nzulu_total{k=\"b\"} 0\nzulu_total{k=\"c\"} 0\n");
  EXPECT_EQ(render(registry), text) << "the same registry renders the same text";
}

TEST(MetricsExposition, FamiliesWithoutSamplesAreLeftOut) {
  Registry registry;
  ASSERT_TRUE(registry.add_counter({"quanttrading_unused_total", "Unused.", {"k"}}).ok());
  ASSERT_TRUE(registry
                  .add_collector({"quanttrading_silent", "Silent.", {}}, MetricType::kGauge,
                                 [](SampleWriter&) {})
                  .ok());
  EXPECT_EQ(render(registry), "");
}

TEST(MetricsExposition, RenderReusesTheCallersBuffer) {
  Registry registry;
  auto family = registry.add_counter({"quanttrading_things_total", "Things."});
  ASSERT_TRUE(family.ok());
  std::string out = "left over from the last scrape";
  out.reserve(4096);
  const char* buffer = out.data();
  registry.render(out);
  EXPECT_EQ(out,
            "# HELP quanttrading_things_total Things.\n"
            "# TYPE quanttrading_things_total counter\nquanttrading_things_total 0\n");
  EXPECT_EQ(out.data(), buffer);
}

// Every kind of metric, escaping, NaN quantiles of an empty window, collectors, the process's
// metrics and build info, through promtool, the reference parser and linter of the format.
TEST(MetricsExposition, PromtoolAcceptsAFullExpositionWithoutLintFindings) {
  const std::string promtool = find_on_path("promtool");
  ASSERT_FALSE(promtool.empty())
      << "promtool not found on PATH: install the Debian package `prometheus` "
         "(scripts/install-deps.sh does)";

  Registry registry;
  auto requests =
      registry.add_counter({"http_requests_total", "HTTP requests.", {"route", "method", "code"}});
  auto summary =
      registry.add_summary({"http_request_duration_seconds", "HTTP request latency.", {"route"}});
  auto histogram = registry.add_histogram(
      {"http_server_request_duration_seconds", "HTTP request latency.", {"route"}},
      {kDefaultLatencyBuckets, std::end(kDefaultLatencyBuckets)});
  auto gauge = registry.add_gauge({"quanttrading_quote_age_seconds", "Quote age.", {"epic"}});
  ASSERT_TRUE(requests.ok() && summary.ok() && histogram.ok() && gauge.ok());
  ASSERT_TRUE(registry
                  .add_collector({"quanttrading_engine_stage_seconds", "Engine stages.", {"stage"}},
                                 MetricType::kHistogram,
                                 [](SampleWriter& out) {
                                   const uint64_t counts[] = {3, 1, 0};
                                   out.histogram({"risk"}, counts, 2.5e-6);
                                 },
                                 {1e-6, 1e-5})
                  .ok());
  ASSERT_TRUE(add_process_metrics(registry).ok());
  ASSERT_TRUE(add_build_info(registry, this_build()).ok());

  (*requests->child({"/api/orders/{id}", "GET", "404"}))->inc();
  (*requests->child({"weird \"route\"\n\\", "POST", "400"}))->inc(2);
  (*summary->child({"/api/trade"}))->observe(0.0004);
  ASSERT_TRUE(summary->child({"/health"}).ok());  // empty window: NaN quantiles
  (*histogram->child({"/api/trade"}))->observe(0.0004);
  (*histogram->child({"/api/trade"}))->observe(30);
  (*gauge->child({"GOLD"}))->set(0.125);
  (*gauge->child({"EURUSD"}))->set(-1e-9);

  const std::string text = render(registry);
  for (std::string_view expected :
       {"process_cpu_seconds_total ", "process_resident_memory_bytes ",
        "process_virtual_memory_bytes ", "process_open_fds ", "process_max_fds ",
        "process_start_time_seconds ", "quanttrading_build_info{version=\"",
        "http_request_duration_seconds{route=\"/health\",quantile=\"0.95\"} NaN\n",
        "http_request_duration_seconds{route=\"/api/trade\",quantile=\"0.95\"} "}) {
    EXPECT_NE(text.find(expected), std::string::npos) << expected << "\n" << text;
  }

  ScratchDir dir("promtool_metrics");
  const std::filesystem::path file = dir.path() / "metrics.prom";
  qt::testing::write_file(file, text);
  // promtool reads the exposition on stdin; bash only redirects the file, passed as an argument.
  absl::StatusOr<ChildProcessResult> result =
      run_child_process({"bash", "-c", "\"$0\" check metrics < \"$1\"", promtool, file.string()});
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->exit_code, 0) << result->standard_output << result->standard_error << text;
  EXPECT_EQ(result->standard_error, "") << "promtool lint findings:\n" << text;
  EXPECT_EQ(result->standard_output, "");
}

}  // namespace
}  // namespace qt::http::metrics
