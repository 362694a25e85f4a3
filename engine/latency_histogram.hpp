// LatencyHistogram: a fixed-size log-linear histogram of nanosecond latencies (HdrHistogram's
// layout with 16 sub-buckets per power of two, so any reported percentile is within 6.25 % of
// the true value). Values ≥ 2^40 ns (about 18 minutes) all land in the last bucket.
//
// One thread records (record() is two loads, a shift and one relaxed store — no RMW, no
// allocation); any thread may snapshot() concurrently and compute percentiles over the
// snapshot or the difference of two snapshots. Values ≥ 2^40 ns land in the last bucket.
#pragma once

#include <array>
#include <atomic>
#include <bit>
#include <cstdint>

namespace qt {

class LatencyHistogram {
 public:
  static constexpr int kSubBucketBits = 4;
  static constexpr int kSubBuckets = 1 << kSubBucketBits;
  static constexpr int kMaxExponent = 40;
  static constexpr std::size_t kBucketCount = (kMaxExponent - kSubBucketBits + 1) * kSubBuckets;

  struct Snapshot {
    std::array<uint64_t, kBucketCount> counts{};
    uint64_t total() const;
    // Upper bound of the bucket holding the q-quantile (0 < q ≤ 1); 0 when empty.
    int64_t percentile(double q) const;
    int64_t max() const;
    Snapshot minus(const Snapshot& earlier) const;
  };

  // Single writer.
  void record(int64_t value_ns) noexcept {
    std::atomic<uint64_t>& bucket = counts_[bucket_index(value_ns)];
    bucket.store(bucket.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  }

  Snapshot snapshot() const noexcept;
  void reset_for_writer() noexcept;  // writer thread only, or when no writer runs

  static std::size_t bucket_index(int64_t value) noexcept {
    if (value < kSubBuckets) return value < 0 ? 0 : static_cast<std::size_t>(value);
    const auto v = static_cast<uint64_t>(value);
    int exponent = 63 - std::countl_zero(v);  // ≥ kSubBucketBits
    if (exponent >= kMaxExponent) return kBucketCount - 1;
    const auto sub =
        static_cast<std::size_t>((v >> (exponent - kSubBucketBits)) & (kSubBuckets - 1));
    return static_cast<std::size_t>(exponent - kSubBucketBits + 1) * kSubBuckets + sub;
  }
  static int64_t bucket_upper_bound(std::size_t index) noexcept;

 private:
  std::array<std::atomic<uint64_t>, kBucketCount> counts_{};
};

}  // namespace qt
