#include "engine/latency_histogram.hpp"

namespace qt {

int64_t LatencyHistogram::bucket_upper_bound(std::size_t index) noexcept {
  if (index < static_cast<std::size_t>(kSubBuckets)) return static_cast<int64_t>(index);
  const int exponent = static_cast<int>(index / kSubBuckets) + kSubBucketBits - 1;
  const uint64_t sub = index % kSubBuckets;
  const uint64_t width = uint64_t{1} << (exponent - kSubBucketBits);
  // Bucket covers [2^e + sub*width, 2^e + (sub+1)*width); report its last value.
  return static_cast<int64_t>((uint64_t{1} << exponent) + (sub + 1) * width - 1);
}

LatencyHistogram::Snapshot LatencyHistogram::snapshot() const noexcept {
  Snapshot s;
  for (std::size_t i = 0; i < kBucketCount; ++i) {
    s.counts[i] = counts_[i].load(std::memory_order_relaxed);
  }
  return s;
}

void LatencyHistogram::reset_for_writer() noexcept {
  for (auto& c : counts_) c.store(0, std::memory_order_relaxed);
}

uint64_t LatencyHistogram::Snapshot::total() const {
  uint64_t sum = 0;
  for (uint64_t c : counts) sum += c;
  return sum;
}

int64_t LatencyHistogram::Snapshot::percentile(double q) const {
  const uint64_t n = total();
  if (n == 0) return 0;
  auto rank = static_cast<uint64_t>(q * static_cast<double>(n) + 0.999999);
  if (rank == 0) rank = 1;
  if (rank > n) rank = n;
  uint64_t seen = 0;
  for (std::size_t i = 0; i < kBucketCount; ++i) {
    seen += counts[i];
    if (seen >= rank) return bucket_upper_bound(i);
  }
  return bucket_upper_bound(kBucketCount - 1);
}

int64_t LatencyHistogram::Snapshot::max() const {
  for (std::size_t i = kBucketCount; i-- > 0;) {
    if (counts[i] != 0) return bucket_upper_bound(i);
  }
  return 0;
}

LatencyHistogram::Snapshot LatencyHistogram::Snapshot::minus(const Snapshot& earlier) const {
  Snapshot d;
  for (std::size_t i = 0; i < kBucketCount; ++i) {
    d.counts[i] = counts[i] >= earlier.counts[i] ? counts[i] - earlier.counts[i] : 0;
  }
  return d;
}

}  // namespace qt
