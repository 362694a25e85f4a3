// Specification of the latency histogram (engine/latency_histogram.hpp): percentiles within
// 6.25 % of the exact value, snapshot differences, and clamping of huge values.
#include "engine/latency_histogram.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <memory>
#include <random>
#include <vector>

namespace qt {
namespace {

constexpr int64_t kTwoPow40 = int64_t{1} << 40;
constexpr std::size_t kLastBucket = LatencyHistogram::kBucketCount - 1;

// ~9.5 kB of atomics: keep it off the stack.
std::unique_ptr<LatencyHistogram> make_histogram() {
  return std::make_unique<LatencyHistogram>();
}

TEST(LatencyHistogram, EmptySnapshotReportsZero) {
  const auto histogram = make_histogram();
  const LatencyHistogram::Snapshot snapshot = histogram->snapshot();
  EXPECT_EQ(snapshot.total(), 0u);
  EXPECT_EQ(snapshot.percentile(0.5), 0);
  EXPECT_EQ(snapshot.max(), 0);
}

TEST(LatencyHistogram, ValuesBelowSixteenAreExact) {
  const auto histogram = make_histogram();
  for (int64_t v = 1; v <= 10; ++v) histogram->record(v);  // 1, 2, ..., 10 ns
  const LatencyHistogram::Snapshot snapshot = histogram->snapshot();
  EXPECT_EQ(snapshot.total(), 10u);
  EXPECT_EQ(snapshot.percentile(0.5), 5);  // 5th of 10
  EXPECT_EQ(snapshot.percentile(0.9), 9);
  EXPECT_EQ(snapshot.percentile(1.0), 10);
  EXPECT_EQ(snapshot.max(), 10);
}

TEST(LatencyHistogram, ReportsTheUpperBoundOfTheBucket) {
  const auto histogram = make_histogram();
  // 1000 = 512 + 15 * 32 + 8: above 2^9 the sub-buckets are 32 wide; 1000 is in [992, 1024).
  histogram->record(1000);
  EXPECT_EQ(histogram->snapshot().percentile(0.5), 1023);
}

TEST(LatencyHistogram, NegativeValuesCountAsZero) {
  const auto histogram = make_histogram();
  histogram->record(-5);
  EXPECT_EQ(histogram->snapshot().total(), 1u);
  EXPECT_EQ(histogram->snapshot().max(), 0);
}

TEST(LatencyHistogram, PercentilesAreWithinSixPointTwoFivePercentOfTheSortedExactValues) {
  const auto histogram = make_histogram();
  std::mt19937_64 rng(7);
  constexpr std::size_t kSamples = 100'000;
  std::vector<int64_t> values;
  values.reserve(kSamples);
  for (std::size_t i = 0; i < kSamples; ++i) {
    // Log-uniform over [1, 2^40): every power of two up to the top is exercised.
    const int exponent = static_cast<int>(rng() % 40);
    const int64_t base = int64_t{1} << exponent;
    const int64_t value = base + static_cast<int64_t>(rng() % static_cast<uint64_t>(base));
    values.push_back(value);
    histogram->record(value);
  }
  std::sort(values.begin(), values.end());
  const LatencyHistogram::Snapshot snapshot = histogram->snapshot();
  ASSERT_EQ(snapshot.total(), kSamples);

  // q in parts per million; the exact q-quantile is the nearest-rank value ceil(q * n).
  for (int64_t q_ppm : {1'000, 10'000, 100'000, 250'000, 500'000, 750'000, 900'000, 990'000,
                        999'000, 999'900, 1'000'000}) {
    const auto rank =
        static_cast<std::size_t>((q_ppm * static_cast<int64_t>(kSamples) + 999'999) / 1'000'000);
    const int64_t exact = values[rank - 1];
    const int64_t reported = snapshot.percentile(static_cast<double>(q_ppm) / 1e6);
    SCOPED_TRACE(testing::Message()
                 << "q=" << q_ppm / 1e6 << " exact=" << exact << " reported=" << reported);
    EXPECT_GE(reported, exact);
    EXPECT_LE((reported - exact) * 16, exact) << "error above 6.25 %";
  }
  EXPECT_EQ(snapshot.max(), snapshot.percentile(1.0));
}

TEST(LatencyHistogram, MinusGivesTheHistogramOfTheValuesRecordedBetweenSnapshots) {
  const auto histogram = make_histogram();
  for (int i = 0; i < 1000; ++i) histogram->record(100);  // 1000 x 100 ns
  const LatencyHistogram::Snapshot earlier = histogram->snapshot();
  for (int i = 0; i < 10; ++i) histogram->record(1'000'000);  // then 10 x 1 ms
  const LatencyHistogram::Snapshot later = histogram->snapshot();

  const LatencyHistogram::Snapshot window = later.minus(earlier);
  EXPECT_EQ(window.total(), 10u);
  // 1'000'000 = 2^19 + 14 * 2^15 + 16'960: in [983'040, 1'015'808), reported as 1'015'807.
  EXPECT_EQ(window.percentile(0.5), 1'015'807);
  EXPECT_EQ(window.percentile(0.0001), 1'015'807);  // nothing of the earlier 100 ns left

  // Across the whole run the 100 ns values dominate the median.
  EXPECT_EQ(later.total(), 1010u);
  EXPECT_EQ(later.percentile(0.5), 103);  // 100 = 64 + 9 * 4: in [100, 104)
}

TEST(LatencyHistogram, MinusOfASnapshotFromItselfIsEmpty) {
  const auto histogram = make_histogram();
  for (int i = 0; i < 100; ++i) histogram->record(i * 37);
  const LatencyHistogram::Snapshot snapshot = histogram->snapshot();
  const LatencyHistogram::Snapshot nothing = snapshot.minus(snapshot);
  EXPECT_EQ(nothing.total(), 0u);
  EXPECT_EQ(nothing.percentile(0.99), 0);
}

TEST(LatencyHistogram, MinusNeverUnderflowsAfterAReset) {
  const auto histogram = make_histogram();
  for (int i = 0; i < 5; ++i) histogram->record(200);
  const LatencyHistogram::Snapshot before_reset = histogram->snapshot();
  histogram->reset_for_writer();
  histogram->record(200);
  EXPECT_EQ(histogram->snapshot().minus(before_reset).total(), 0u);
}

TEST(LatencyHistogram, LargestValueBelowTwoPow40HasItsOwnTopBucket) {
  EXPECT_EQ(LatencyHistogram::bucket_index(kTwoPow40 - 1), kLastBucket);
  EXPECT_EQ(LatencyHistogram::bucket_upper_bound(kLastBucket), kTwoPow40 - 1);
}

TEST(LatencyHistogram, ValuesFarAboveTwoPow40ClampToTheLastBucket) {
  EXPECT_EQ(LatencyHistogram::bucket_index(kTwoPow40 * 2), kLastBucket);
  EXPECT_EQ(LatencyHistogram::bucket_index(std::numeric_limits<int64_t>::max()), kLastBucket);

  const auto histogram = make_histogram();
  histogram->record(std::numeric_limits<int64_t>::max());
  histogram->record(kTwoPow40 * 4);
  const LatencyHistogram::Snapshot snapshot = histogram->snapshot();
  EXPECT_EQ(snapshot.total(), 2u);
  EXPECT_EQ(snapshot.max(), kTwoPow40 - 1);
}

// Regression: values in [2^40, 2^41) once computed an index past the end of the counts.
TEST(LatencyHistogram, ValuesFromTwoPow40ClampToTheLastBucket) {
  EXPECT_EQ(LatencyHistogram::bucket_index(kTwoPow40), kLastBucket);
  EXPECT_EQ(LatencyHistogram::bucket_index(kTwoPow40 * 2 - 1), kLastBucket);

  const auto histogram = make_histogram();
  histogram->record(kTwoPow40);
  histogram->record(kTwoPow40 * 2 - 1);
  EXPECT_EQ(histogram->snapshot().total(), 2u);
  EXPECT_EQ(histogram->snapshot().max(), kTwoPow40 - 1);
}

}  // namespace
}  // namespace qt
