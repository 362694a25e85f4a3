// metrics::Summary (gateway/http/metrics_instruments.hpp): quantile estimates against an exact
// sort of the same observations, and the sliding window of max_age in age_buckets slices.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "gateway/http/metrics_instruments.hpp"

namespace qt::http::metrics {
namespace {

using std::chrono::minutes;
using std::chrono::seconds;

std::atomic<int64_t> g_virtual_now_ns{0};
int64_t virtual_now_ns() noexcept {
  return g_virtual_now_ns.load(std::memory_order_relaxed);
}
void set_virtual_time(std::chrono::nanoseconds since_start) {
  g_virtual_now_ns.store(since_start.count(), std::memory_order_relaxed);
}

SummaryOptions virtual_time_options() {
  SummaryOptions options;
  options.now_ns = &virtual_now_ns;
  return options;
}

std::vector<double> quantiles_of(const Summary& summary, std::size_t count) {
  std::vector<double> out(count);
  Summary::Scratch scratch;
  summary.quantiles(out, scratch);
  return out;
}

// The nearest-rank quantile: the ceil(q*n)-th smallest value.
double exact_quantile(std::vector<double> sorted, double q) {
  std::sort(sorted.begin(), sorted.end());
  const auto rank = std::max<std::size_t>(
      1, static_cast<std::size_t>(std::ceil(q * static_cast<double>(sorted.size()))));
  return sorted[rank - 1];
}

TEST(SummaryBuckets, EveryValueIsWithinTheRelativeErrorOfItsBucketsValue) {
  std::mt19937_64 random(7);
  std::uniform_real_distribution<double> exponent(-32, 32);
  std::vector<double> values = {
      Summary::kLowest, 1, 1.0 / 3, 0.001, 1.5, 2 - 1e-12, Summary::kHighest * (1 - 1e-15)};
  for (int i = 0; i < 1'000'000; ++i) values.push_back(std::exp2(exponent(random)));
  for (double value : values) {
    const double reported = Summary::bucket_value(Summary::bucket_index(value));
    ASSERT_LE(std::fabs(reported - value), Summary::kRelativeError * value) << value;
  }
  EXPECT_EQ(Summary::kRelativeError, 1.0 / 64);
}

// Ranks can be counted bucket by bucket only because the bucket order is the value order.
TEST(SummaryBuckets, BucketsFollowTheOrderOfValues) {
  std::mt19937_64 random(8);
  std::uniform_real_distribution<double> exponent(-34, 34);
  std::vector<double> values;
  for (int i = 0; i < 200'000; ++i) values.push_back(std::exp2(exponent(random)));
  std::sort(values.begin(), values.end());
  for (std::size_t i = 1; i < values.size(); ++i) {
    ASSERT_LE(Summary::bucket_index(values[i - 1]), Summary::bucket_index(values[i])) << values[i];
  }
  EXPECT_EQ(Summary::bucket_index(0), 0u);
  EXPECT_EQ(Summary::bucket_index(-1), 0u);
  EXPECT_EQ(Summary::bucket_index(std::nan("")), 0u);
  EXPECT_EQ(Summary::bucket_value(Summary::bucket_index(1e12)), Summary::kHighest);
}

struct Distribution {
  std::string name;
  std::function<double(std::mt19937_64&)> draw;
  int count;
};

TEST(Summary, QuantilesAreWithinTheStatedErrorOfAnExactSort) {
  const std::vector<Distribution> distributions = {
      {"uniform 1 ms..1 s",
       [](std::mt19937_64& r) { return std::uniform_real_distribution<double>(0.001, 1)(r); },
       100'000},
      {"exponential, mean 50 ms",
       [](std::mt19937_64& r) { return std::exponential_distribution<double>(20)(r); }, 100'000},
      {"lognormal around 1 ms",
       [](std::mt19937_64& r) { return std::lognormal_distribution<double>(-7, 1.5)(r); }, 100'000},
      {"bimodal: 97 % near 200 µs, 3 % near 2 s",
       [](std::mt19937_64& r) {
         const bool slow = std::bernoulli_distribution(0.03)(r);
         return slow ? std::normal_distribution<double>(2, 0.1)(r)
                     : std::normal_distribution<double>(0.0002, 0.00002)(r);
       },
       100'000},
      {"pareto tail",
       [](std::mt19937_64& r) {
         return 0.001 / std::pow(std::uniform_real_distribution<double>(1e-9, 1)(r), 1 / 1.2);
       },
       100'000},
      {"one value", [](std::mt19937_64&) { return 0.0375; }, 1},
      {"three values", [](std::mt19937_64& r) { return 1 + static_cast<double>(r() % 3); }, 3},
      {"ten values", [](std::mt19937_64& r) { return 0.001 * static_cast<double>(1 + r() % 10); },
       10},
  };
  const std::vector<double> quantiles = {0.5, 0.9, 0.95, 0.99, 0.999, 1};
  std::mt19937_64 random(2024);
  for (const Distribution& distribution : distributions) {
    SummaryOptions options = virtual_time_options();
    options.quantiles = quantiles;
    set_virtual_time(seconds(1));
    Summary summary(options);
    std::vector<double> observed;
    for (int i = 0; i < distribution.count; ++i) {
      observed.push_back(distribution.draw(random));
      summary.observe(observed.back());
    }
    const std::vector<double> estimates = quantiles_of(summary, quantiles.size());
    for (std::size_t i = 0; i < quantiles.size(); ++i) {
      const double exact = exact_quantile(observed, quantiles[i]);
      EXPECT_LE(std::fabs(estimates[i] - exact), Summary::kRelativeError * exact)
          << distribution.name << ", q=" << quantiles[i] << ": estimate " << estimates[i]
          << ", exact " << exact;
    }
  }
}

TEST(Summary, SumAndCountCoverEveryObservation) {
  SummaryOptions options = virtual_time_options();
  set_virtual_time(seconds(0));
  Summary summary(options);
  for (double value : {0.25, 0.5, 4.0}) summary.observe(value);
  set_virtual_time(minutes(60));  // long after the window has let them go
  summary.observe(1);
  EXPECT_EQ(summary.count(), 4u);
  EXPECT_EQ(summary.sum(), 5.75);
}

TEST(Summary, AnEmptyWindowReportsNaN) {
  SummaryOptions options = virtual_time_options();
  set_virtual_time(seconds(0));
  Summary summary(options);
  for (double q : quantiles_of(summary, 3)) EXPECT_TRUE(std::isnan(q));
}

// max_age 10 min in 5 slices of 2 min: the window is the current slice and the four before it.
TEST(Summary, ObservationsLeaveTheWindowWhenTheirSliceIsFiveSlicesOld) {
  SummaryOptions options = virtual_time_options();
  set_virtual_time(seconds(0));
  Summary summary(options);
  for (int i = 0; i < 100; ++i) summary.observe(1.0);

  set_virtual_time(minutes(9) + seconds(59));  // slice 4: slices 0..4 in the window
  EXPECT_EQ(quantiles_of(summary, 3),
            (std::vector<double>(3, Summary::bucket_value(Summary::bucket_index(1.0)))));
  set_virtual_time(minutes(10));  // slice 5: slices 1..5, the observations of slice 0 are out
  for (double q : quantiles_of(summary, 3)) EXPECT_TRUE(std::isnan(q)) << q;

  // The slice's storage is reused for slice 5 and starts empty.
  summary.observe(2.0);
  const double two = Summary::bucket_value(Summary::bucket_index(2.0));
  EXPECT_EQ(quantiles_of(summary, 3), (std::vector<double>{two, two, two}));
}

TEST(Summary, TheWindowMixesTheSlicesItHolds) {
  SummaryOptions options = virtual_time_options();
  set_virtual_time(seconds(0));
  Summary summary(options);
  for (int i = 0; i < 60; ++i) summary.observe(0.001);  // slice 0
  set_virtual_time(minutes(4));
  for (int i = 0; i < 40; ++i) summary.observe(0.5);  // slice 2
  const double low = Summary::bucket_value(Summary::bucket_index(0.001));
  const double high = Summary::bucket_value(Summary::bucket_index(0.5));
  set_virtual_time(minutes(9));
  EXPECT_EQ(quantiles_of(summary, 3), (std::vector<double>{low, high, high}));  // 0.5, .95, .99
  set_virtual_time(minutes(10));  // slice 0 out; slice 2 in
  EXPECT_EQ(quantiles_of(summary, 3), (std::vector<double>{high, high, high}));
  set_virtual_time(minutes(14));  // slice 2 out
  for (double q : quantiles_of(summary, 3)) EXPECT_TRUE(std::isnan(q)) << q;
}

}  // namespace
}  // namespace qt::http::metrics
