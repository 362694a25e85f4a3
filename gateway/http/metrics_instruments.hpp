// The instruments of the Prometheus exposition: Counter, Gauge, Histogram and Summary. Each is
// one labelled child of a family that a metrics::Registry (metrics_registry.hpp) creates, owns
// and renders; a hot path looks its child up once and keeps the pointer.
//
// Guarantees:
//  - updates (inc, set, add, observe) are lock-free and allocation-free, from any number of
//    threads at once, and none is lost. Counter, Histogram and Summary count in one of kShards
//    cache-line shards, chosen once per thread, so that I/O threads on different cores do not
//    pass a line back and forth; a scrape sums the shards.
//  - a scrape reads every field atomically, not all fields at one instant: a histogram's _sum
//    may already hold an observation its buckets do not; _count is the sum of the buckets, so it
//    always equals the +Inf bucket.
//  - Summary: quantiles over a sliding window, as client_golang's MaxAge/AgeBuckets: max_age is
//    cut into age_buckets slices and the window is the current slice plus the age_buckets-1
//    before it. Each slice is a log-linear histogram: for observations in [2^-32, 2^32) the
//    reported q-quantile is within kRelativeError (1/64) of the exact nearest-rank quantile, the
//    ceil(q*n)-th smallest observation in the window. Smaller observations (0, negative, NaN)
//    report as 0, larger ones as 2^32. _sum and _count cover the whole life of the process.
//    The first observation of a new slice clears it (kBucketCount relaxed stores, once per slice
//    and child); observations racing that clear may be missing from the quantiles, never from
//    _sum and _count. A slice counts up to 2^32-1 observations per bucket. Memory: about 8 KiB
//    per slice and child (40 KiB with the default 5). The slices are shared by all threads, not
//    sharded: two threads observing without pause contend on the hot buckets' lines (see
//    bench/metrics_bench.cpp), far above any HTTP request rate.
#pragma once

#include <array>
#include <atomic>
#include <bit>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "engine/types.hpp"

namespace qt::http::metrics {

inline constexpr std::size_t kShards = 8;

namespace detail {

// Threads take shards round robin, at their first update.
std::size_t assign_thread_shard() noexcept;

inline std::size_t this_thread_shard() noexcept {
  thread_local std::size_t shard = kShards;  // constant-initialised: no TLS guard on each call
  if (shard == kShards) [[unlikely]]
    shard = assign_thread_shard();
  return shard;
}

// A double kept as its bits in an atomic word, so that it can share a shard with the counts.
inline void add_double(std::atomic<uint64_t>& bits, double delta) noexcept {
  uint64_t seen = bits.load(std::memory_order_relaxed);
  while (!bits.compare_exchange_weak(seen,
                                     std::bit_cast<uint64_t>(std::bit_cast<double>(seen) + delta),
                                     std::memory_order_relaxed)) {
  }
}

}  // namespace detail

class Counter {
 public:
  Counter() = default;
  Counter(const Counter&) = delete;
  Counter& operator=(const Counter&) = delete;

  void inc(uint64_t by = 1) noexcept {
    shards_[detail::this_thread_shard()].value.fetch_add(by, std::memory_order_relaxed);
  }
  uint64_t value() const noexcept;

 private:
  struct alignas(kCacheLine) Shard {
    std::atomic<uint64_t> value{0};
  };
  std::array<Shard, kShards> shards_{};
};

// One value, set or moved by any thread (gauges are set from slow paths: no shards).
class Gauge {
 public:
  Gauge() = default;
  Gauge(const Gauge&) = delete;
  Gauge& operator=(const Gauge&) = delete;

  void set(double value) noexcept { value_.store(value, std::memory_order_relaxed); }
  void add(double delta) noexcept { value_.fetch_add(delta, std::memory_order_relaxed); }
  void inc() noexcept { add(1); }
  void dec() noexcept { add(-1); }
  double value() const noexcept { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

// Counts of observations at or below fixed upper bounds (Prometheus `le`), plus their sum.
class Histogram {
 public:
  // upper_bounds: finite and strictly increasing (the registry checks); the +Inf bucket is
  // implicit. The span must outlive the histogram (the family keeps the bounds).
  explicit Histogram(std::span<const double> upper_bounds);
  Histogram(const Histogram&) = delete;
  Histogram& operator=(const Histogram&) = delete;

  void observe(double value) noexcept {
    std::atomic<uint64_t>* shard = shard_words(detail::this_thread_shard());
    shard[bucket_index(value)].fetch_add(1, std::memory_order_relaxed);
    detail::add_double(shard[sum_word()], value);
  }

  // The first bucket whose upper bound is ≥ value; upper_bounds().size() (the +Inf bucket) for
  // larger values and NaN, as client_golang.
  std::size_t bucket_index(double value) const noexcept {
    const std::size_t n = upper_bounds_.size();
    std::size_t i = 0;
    while (i < n && !(value <= upper_bounds_[i])) ++i;
    return i;
  }

  std::span<const double> upper_bounds() const noexcept { return upper_bounds_; }
  // Per-bucket counts (not cumulative), upper_bounds().size() + 1 of them, summed over shards;
  // returns the sum of the observations.
  double read(std::span<uint64_t> bucket_counts) const noexcept;

 private:
  std::size_t sum_word() const noexcept { return upper_bounds_.size() + 1; }
  std::atomic<uint64_t>* shard_words(std::size_t shard) const noexcept {
    return first_word_ + shard * words_per_shard_;
  }

  std::span<const double> upper_bounds_;
  std::size_t words_per_shard_;  // buckets + sum, rounded up to whole cache lines
  std::unique_ptr<std::atomic<uint64_t>[]> words_;
  std::atomic<uint64_t>* first_word_;  // the first cache-line-aligned word of words_
};

// Monotonic time for Summary windows; coarse (a few ms), which is ample for minutes-long slices.
int64_t monotonic_coarse_ns() noexcept;

struct SummaryOptions {
  std::vector<double> quantiles{0.5, 0.95, 0.99};  // strictly increasing, each in (0, 1]
  std::chrono::nanoseconds max_age = std::chrono::minutes(10);
  int age_buckets = 5;
  int64_t (*now_ns)() noexcept = &monotonic_coarse_ns;  // ≥ 0; tests pass virtual time
};

class Summary {
 public:
  static constexpr int kMinExponent = -32;
  static constexpr int kMaxExponent = 32;
  static constexpr int kSubBucketBits = 5;
  static constexpr double kLowest = 1.0 / 4294967296.0;  // 2^kMinExponent
  static constexpr double kHighest = 4294967296.0;       // 2^kMaxExponent
  // Bucket 0: below kLowest; then (kMaxExponent - kMinExponent) powers of two cut into
  // 2^kSubBucketBits equal parts; last: kHighest and above.
  static constexpr std::size_t kBucketCount =
      2 + (static_cast<std::size_t>(kMaxExponent - kMinExponent) << kSubBucketBits);
  // A bucket spans 1/32 of its power of two; its midpoint is within 1/64 of any value in it.
  static constexpr double kRelativeError = 1.0 / (2 << kSubBucketBits);

  // `options` (checked by the registry) must outlive the summary: the family keeps them.
  explicit Summary(const SummaryOptions& options);
  Summary(const Summary&) = delete;
  Summary& operator=(const Summary&) = delete;

  void observe(double value) noexcept {
    Totals& totals = totals_[detail::this_thread_shard()];
    totals.count.fetch_add(1, std::memory_order_relaxed);
    detail::add_double(totals.sum_bits, value);
    const int64_t epoch = options_.now_ns() / slice_ns_;
    AgeSlice& slice = slices_[static_cast<std::size_t>(epoch % options_.age_buckets)];
    if (slice.epoch.load(std::memory_order_acquire) != epoch && !enter_slice(slice, epoch)) return;
    slice.counts[bucket_index(value)].fetch_add(1, std::memory_order_relaxed);
  }

  uint64_t count() const noexcept;
  double sum() const noexcept;

  // Memory a scrape reuses across summaries (kBucketCount words of each kind).
  struct Scratch {
    Scratch();
    std::vector<uint64_t> window;
    std::vector<uint32_t> slice;
  };
  // The options' quantiles over the window that ends now, in the options' order (out must hold
  // as many); NaN each when the window holds no observation.
  void quantiles(std::span<double> out, Scratch& scratch) const noexcept;

  static std::size_t bucket_index(double value) noexcept {
    if (!(value >= kLowest)) return 0;
    if (value >= kHighest) return kBucketCount - 1;
    const auto bits = std::bit_cast<uint64_t>(value);
    const int exponent = static_cast<int>(bits >> 52) - 1023;  // the sign bit is 0 here
    const uint64_t sub = (bits >> (52 - kSubBucketBits)) & ((uint64_t{1} << kSubBucketBits) - 1);
    return 1 + (static_cast<std::size_t>(exponent - kMinExponent) << kSubBucketBits) +
           static_cast<std::size_t>(sub);
  }
  // The value a bucket reports: 0 below kLowest, kHighest at the top, else its midpoint.
  static double bucket_value(std::size_t index) noexcept;

 private:
  static constexpr int64_t kNeverUsed = -1;
  static constexpr int64_t kClearing = -2;

  struct AgeSlice {
    std::atomic<int64_t> epoch{kNeverUsed};  // slice number (now / slice length) it counts
    std::array<std::atomic<uint32_t>, kBucketCount> counts{};
  };
  struct alignas(kCacheLine) Totals {
    std::atomic<uint64_t> count{0};
    std::atomic<uint64_t> sum_bits{0};  // a double (0.0 is all zero bits)
  };

  // Makes `slice` count `epoch`; false when this observation must skip the window.
  bool enter_slice(AgeSlice& slice, int64_t epoch) noexcept;

  const SummaryOptions& options_;
  const int64_t slice_ns_;
  std::unique_ptr<AgeSlice[]> slices_;
  std::array<Totals, kShards> totals_{};
};

}  // namespace qt::http::metrics
