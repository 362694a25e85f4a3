// metrics::Registry (gateway/http/metrics_registry.hpp): what it accepts and refuses at
// registration, how children are found and bounded, exact histogram buckets, and collectors.
#include "gateway/http/metrics_registry.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

namespace qt::http::metrics {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

bool contains(const std::string& text, std::string_view piece) {
  return text.find(piece) != std::string::npos;
}

std::string render(const Registry& registry) {
  std::string out;
  registry.render(out);
  return out;
}

TEST(MetricsRegistry, RefusesNamesPromtoolWouldFlagOrPrometheusWouldReject) {
  Registry registry;
  struct Case {
    MetricSpec spec;
    MetricType type;
  };
  const Case refused[] = {
      {{"quanttrading_orders", "Orders."}, MetricType::kCounter},    // counter without _total
      {{"quanttrading_depth_total", "Depth."}, MetricType::kGauge},  // gauge with _total
      {{"_total", "Nothing but the suffix."}, MetricType::kCounter},
      {{"http-requests_total", "Dash."}, MetricType::kCounter},
      {{"2xx_total", "Digit first."}, MetricType::kCounter},
      {{"quanttrading_latency_count", "Suffix."}, MetricType::kGauge},
      {{"quanttrading_latency_sum", "Suffix."}, MetricType::kSummary},
      {{"quanttrading_latency_bucket", "Suffix."}, MetricType::kHistogram},
      {{"quanttrading_x_total", ""}, MetricType::kCounter},  // no HELP
      {{"quanttrading_x_total", "X.", {"__reserved"}}, MetricType::kCounter},
      {{"quanttrading_x_total", "X.", {"bad-label"}}, MetricType::kCounter},
      {{"quanttrading_x_total", "X.", {"route", "route"}}, MetricType::kCounter},
      {{"quanttrading_x_seconds", "X.", {"le"}}, MetricType::kHistogram},
      {{"quanttrading_x_seconds", "X.", {"quantile"}}, MetricType::kSummary},
      {{"quanttrading_x_total", "X.", {}, 0}, MetricType::kCounter},  // max_children 0
  };
  for (const Case& c : refused) {
    absl::Status status;
    switch (c.type) {
      case MetricType::kCounter: status = registry.add_counter(c.spec).status(); break;
      case MetricType::kGauge: status = registry.add_gauge(c.spec).status(); break;
      case MetricType::kHistogram: status = registry.add_histogram(c.spec, {1}).status(); break;
      case MetricType::kSummary: status = registry.add_summary(c.spec).status(); break;
    }
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << c.spec.name << ": " << status;
  }
  EXPECT_EQ(render(registry), "") << "a refused family registers nothing";

  // "le" is an ordinary label outside histograms, "quantile" outside summaries.
  EXPECT_TRUE(registry.add_gauge({"quanttrading_le_gauge", "Has le.", {"le", "quantile"}}).ok());
}

// Issue 12 asks for http_request_duration_seconds as a histogram and as a summary: both would
// write http_request_duration_seconds_sum and _count, so one of the two needs another name.
TEST(MetricsRegistry, RefusesASecondFamilyOfTheSameName) {
  Registry registry;
  ASSERT_TRUE(registry.add_summary({"http_request_duration_seconds", "Latency."}).ok());
  EXPECT_EQ(registry
                .add_histogram({"http_request_duration_seconds", "Latency."},
                               {kDefaultLatencyBuckets, std::end(kDefaultLatencyBuckets)})
                .status()
                .code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(registry
                .add_collector({"http_request_duration_seconds", "Latency."}, MetricType::kGauge,
                               [](SampleWriter&) {})
                .code(),
            absl::StatusCode::kAlreadyExists);
}

TEST(MetricsRegistry, RefusesBucketsThatAreNotFiniteAndStrictlyIncreasing) {
  Registry registry;
  const std::vector<std::vector<double>> refused = {
      {}, {kInf}, {1, 1}, {2, 1}, {1, std::nan(""), 3}, {-kInf, 1}};
  int n = 0;
  for (const std::vector<double>& bounds : refused) {
    const std::string name = "quanttrading_refused_" + std::to_string(n++) + "_seconds";
    EXPECT_EQ(registry.add_histogram({name, "X."}, bounds).status().code(),
              absl::StatusCode::kInvalidArgument)
        << name;
  }
  EXPECT_TRUE(registry.add_histogram({"quanttrading_ok_seconds", "X."}, {-1, 0, 1, kInf}).ok())
      << "negative bounds are fine; a trailing +Inf is the implicit bucket";
  EXPECT_TRUE(exponential_buckets(1, 1, 3).empty());
  EXPECT_EQ(exponential_buckets(0.001, 2, 4), (std::vector<double>{0.001, 0.002, 0.004, 0.008}));
}

TEST(MetricsRegistry, RefusesQuantilesOutsideZeroToOneOrUnsorted) {
  Registry registry;
  const std::vector<std::vector<double>> refused = {{}, {0}, {1.5}, {0.9, 0.5}, {0.5, 0.5}};
  int n = 0;
  for (const std::vector<double>& quantiles : refused) {
    const std::string name = "quanttrading_refused_" + std::to_string(n++) + "_seconds";
    SummaryOptions options;
    options.quantiles = quantiles;
    EXPECT_EQ(registry.add_summary({name, "X."}, options).status().code(),
              absl::StatusCode::kInvalidArgument)
        << name;
  }
  SummaryOptions no_age;
  no_age.age_buckets = 0;
  EXPECT_FALSE(registry.add_summary({"quanttrading_no_age_seconds", "X."}, no_age).ok());
}

TEST(MetricsRegistry, SameLabelValuesFindTheSameChild) {
  Registry registry;
  auto requests =
      registry.add_counter({"http_requests_total", "Requests.", {"route", "method", "code"}});
  ASSERT_TRUE(requests.ok());
  absl::StatusOr<Counter*> first = requests->child({"/health", "GET", "200"});
  absl::StatusOr<Counter*> again = requests->child({"/health", "GET", "200"});
  absl::StatusOr<Counter*> other = requests->child({"/health", "GET", "503"});
  ASSERT_TRUE(first.ok() && again.ok() && other.ok());
  EXPECT_EQ(*first, *again);
  EXPECT_NE(*first, *other);
  // Values are compared whole, not concatenated.
  auto pairs = registry.add_gauge({"quanttrading_pairs", "Pairs.", {"a", "b"}});
  ASSERT_TRUE(pairs.ok());
  EXPECT_NE(*pairs->child({"ab", "c"}), *pairs->child({"a", "bc"}));

  EXPECT_EQ(requests->child({"/health", "GET"}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(MetricsRegistry, LabelSetsAreBoundedByMaxChildren) {
  Registry registry;
  auto family = registry.add_counter({"quanttrading_bounded_total", "Bounded.", {"k"}, 3});
  ASSERT_TRUE(family.ok());
  Counter* a = *family->child({"a"});
  ASSERT_TRUE(family->child({"b"}).ok());
  ASSERT_TRUE(family->child({"c"}).ok());
  EXPECT_EQ(family->child({"d"}).status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(*family->child({"a"}), a) << "existing label sets are still found";
}

TEST(MetricsRegistry, UnlabeledFamiliesShowTheirChildFromTheStart) {
  Registry registry;
  auto family = registry.add_counter({"quanttrading_started_total", "Starts."});
  ASSERT_TRUE(family.ok());
  EXPECT_TRUE(contains(render(registry), "\nquanttrading_started_total 0\n"));
  family->unlabeled().inc(3);
  EXPECT_EQ(*family->child({}), &family->unlabeled());
  EXPECT_TRUE(contains(render(registry), "\nquanttrading_started_total 3\n"));
}

TEST(MetricsRegistryDeathTest, UnlabeledOnALabelledFamilyStopsTheProcess) {
  Registry registry;
  auto family = registry.add_counter({"quanttrading_labelled_total", "Labelled.", {"k"}});
  ASSERT_TRUE(family.ok());
  EXPECT_DEATH(family->unlabeled(), "unlabeled\\(\\) on quanttrading_labelled_total");
}

TEST(Counter, AddsWhatItIsGiven) {
  Counter counter;
  counter.inc();
  counter.inc(41);
  EXPECT_EQ(counter.value(), 42u);
}

TEST(Gauge, SetsAndMoves) {
  Gauge gauge;
  gauge.set(10);
  gauge.add(2.5);
  gauge.dec();
  gauge.inc();
  gauge.inc();
  EXPECT_EQ(gauge.value(), 13.5);
}

// le is "less than or equal": a value on a bound belongs to that bound's bucket.
TEST(Histogram, CountsEachObservationInExactlyOneBucket) {
  const std::vector<double> bounds = {0.001, 0.01, 0.1};
  Histogram histogram(bounds);
  const double observations[] = {0,         0.0005, 0.001,          // ≤ 0.001: 3
                                 0.002,     0.01,                   // ≤ 0.01: 2
                                 0.0100001,                         // ≤ 0.1: 1
                                 0.5,       2,      std::nan("")};  // +Inf: 3
  for (double value : observations) histogram.observe(value);
  std::vector<uint64_t> counts(bounds.size() + 1);
  const double sum = histogram.read(counts);
  EXPECT_EQ(counts, (std::vector<uint64_t>{3, 2, 1, 3}));
  EXPECT_TRUE(std::isnan(sum)) << "a NaN observation makes the sum NaN, as in client_golang";
}

TEST(Histogram, ExpositionIsCumulativeWithSumAndCount) {
  Registry registry;
  auto family = registry.add_histogram({"quanttrading_commit_seconds", "Commits."}, {0.001, 0.01});
  ASSERT_TRUE(family.ok());
  for (double value : {0.0005, 0.0005, 0.004, 0.25}) family->unlabeled().observe(value);
  EXPECT_TRUE(contains(render(registry),
                       "quanttrading_commit_seconds_bucket{le=\"0.001\"} 2\n"
                       "quanttrading_commit_seconds_bucket{le=\"0.01\"} 3\n"
                       "quanttrading_commit_seconds_bucket{le=\"+Inf\"} 4\n"
                       "quanttrading_commit_seconds_sum 0.255\n"
                       "quanttrading_commit_seconds_count 4\n"))
      << render(registry);
}

TEST(MetricsCollector, WritesTheValuesItReadsAtScrapeTime) {
  Registry registry;
  uint64_t depth = 5;
  ASSERT_TRUE(registry
                  .add_collector({"quanttrading_ring_depth", "Ring depth.", {"ring"}},
                                 MetricType::kGauge,
                                 [&depth](SampleWriter& out) {
                                   out.sample({"orders"}, static_cast<double>(depth));
                                   out.sample({"quotes"}, 0);
                                 })
                  .ok());
  EXPECT_TRUE(contains(render(registry), "quanttrading_ring_depth{ring=\"orders\"} 5\n"));
  depth = 7;
  EXPECT_TRUE(contains(render(registry), "quanttrading_ring_depth{ring=\"orders\"} 7\n"));
}

TEST(MetricsCollector, WritesHistograms) {
  Registry registry;
  ASSERT_TRUE(registry
                  .add_collector({"quanttrading_stage_seconds", "Stage.", {"stage"}},
                                 MetricType::kHistogram,
                                 [](SampleWriter& out) {
                                   const uint64_t counts[] = {4, 0, 1};
                                   out.histogram({"risk"}, counts, 0.0123);
                                 },
                                 {0.000001, 0.00001})
                  .ok());
  EXPECT_TRUE(contains(render(registry),
                       "quanttrading_stage_seconds_bucket{stage=\"risk\",le=\"1e-06\"} 4\n"
                       "quanttrading_stage_seconds_bucket{stage=\"risk\",le=\"1e-05\"} 4\n"
                       "quanttrading_stage_seconds_bucket{stage=\"risk\",le=\"+Inf\"} 5\n"
                       "quanttrading_stage_seconds_sum{stage=\"risk\"} 0.0123\n"
                       "quanttrading_stage_seconds_count{stage=\"risk\"} 5\n"))
      << render(registry);
}

TEST(MetricsCollector, SamplesThatDoNotFitTheFamilyAreDroppedAndCounted) {
  Registry registry;
  ASSERT_TRUE(registry
                  .add_collector({"quanttrading_misfit", "Misfit.", {"a"}}, MetricType::kGauge,
                                 [](SampleWriter& out) {
                                   out.sample({"x", "y"}, 1);  // two values for one label
                                   const uint64_t counts[] = {1};
                                   out.histogram({"x"}, counts, 1);
                                   out.sample({"ok"}, 2);
                                 })
                  .ok());
  const std::string text = render(registry);
  EXPECT_TRUE(contains(text, "quanttrading_misfit{a=\"ok\"} 2\n")) << text;
  EXPECT_FALSE(contains(text, "\"x\"")) << text;
  EXPECT_EQ(registry.dropped_collector_samples(), 2u);
  EXPECT_EQ(registry
                .add_collector({"quanttrading_summary_seconds", "X."}, MetricType::kSummary,
                               [](SampleWriter&) {})
                .code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace qt::http::metrics
