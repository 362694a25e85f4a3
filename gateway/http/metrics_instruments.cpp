// Counter, Gauge, Histogram and Summary; see metrics_instruments.hpp.
#include "gateway/http/metrics_instruments.hpp"

#include <time.h>

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace qt::http::metrics {
namespace detail {

std::size_t assign_thread_shard() noexcept {
  static std::atomic<std::size_t> next_thread{0};
  return next_thread.fetch_add(1, std::memory_order_relaxed) % kShards;
}

}  // namespace detail

namespace {

constexpr std::size_t kWordsPerLine = kCacheLine / sizeof(std::atomic<uint64_t>);

double sum_of_bits(const std::atomic<uint64_t>& bits) {
  return std::bit_cast<double>(bits.load(std::memory_order_relaxed));
}

}  // namespace

uint64_t Counter::value() const noexcept {
  uint64_t total = 0;
  for (const Shard& shard : shards_) total += shard.value.load(std::memory_order_relaxed);
  return total;
}

Histogram::Histogram(std::span<const double> upper_bounds)
    : upper_bounds_(upper_bounds),
      words_per_shard_((upper_bounds.size() + 2 + kWordsPerLine - 1) / kWordsPerLine *
                       kWordsPerLine),
      // One line more than the shards need, so that the first shard can start on a line.
      words_(
          std::make_unique<std::atomic<uint64_t>[]>(kShards * words_per_shard_ + kWordsPerLine)) {
  const auto address = reinterpret_cast<std::uintptr_t>(words_.get());
  const std::size_t misalignment = address % kCacheLine;
  first_word_ =
      words_.get() +
      (misalignment == 0 ? 0 : (kCacheLine - misalignment) / sizeof(std::atomic<uint64_t>));
}

double Histogram::read(std::span<uint64_t> bucket_counts) const noexcept {
  const std::size_t buckets = upper_bounds_.size() + 1;
  std::fill(bucket_counts.begin(), bucket_counts.begin() + static_cast<std::ptrdiff_t>(buckets), 0);
  double sum = 0;
  for (std::size_t shard = 0; shard < kShards; ++shard) {
    const std::atomic<uint64_t>* words = shard_words(shard);
    for (std::size_t i = 0; i < buckets; ++i) {
      bucket_counts[i] += words[i].load(std::memory_order_relaxed);
    }
    sum += sum_of_bits(words[sum_word()]);
  }
  return sum;
}

int64_t monotonic_coarse_ns() noexcept {
  timespec now{};
  ::clock_gettime(CLOCK_MONOTONIC_COARSE, &now);
  return static_cast<int64_t>(now.tv_sec) * 1'000'000'000 + now.tv_nsec;
}

Summary::Scratch::Scratch() : window(kBucketCount), slice(kBucketCount) {}

Summary::Summary(const SummaryOptions& options)
    : options_(options),
      slice_ns_(std::max<int64_t>(1, options.max_age.count() / options.age_buckets)),
      slices_(std::make_unique<AgeSlice[]>(static_cast<std::size_t>(options.age_buckets))) {}

uint64_t Summary::count() const noexcept {
  uint64_t total = 0;
  for (const Totals& totals : totals_) total += totals.count.load(std::memory_order_relaxed);
  return total;
}

double Summary::sum() const noexcept {
  double total = 0;
  for (const Totals& totals : totals_) total += sum_of_bits(totals.sum_bits);
  return total;
}

bool Summary::enter_slice(AgeSlice& slice, int64_t epoch) noexcept {
  int64_t seen = slice.epoch.load(std::memory_order_acquire);
  while (seen != epoch) {
    // Another thread is clearing it, or it already counts a later slice (this thread's clock
    // reading went stale before it got here).
    if (seen == kClearing || seen > epoch) return false;
    if (slice.epoch.compare_exchange_weak(seen, kClearing, std::memory_order_acquire,
                                          std::memory_order_acquire)) {
      // A scrape that reads any of the zeroes below then sees kClearing (or later) when it
      // checks the epoch again, and drops what it read (quantiles()).
      std::atomic_thread_fence(std::memory_order_release);
      for (std::atomic<uint32_t>& count : slice.counts) count.store(0, std::memory_order_relaxed);
      slice.epoch.store(epoch, std::memory_order_release);
      return true;
    }
  }
  return true;
}

void Summary::quantiles(std::span<double> out, Scratch& scratch) const noexcept {
  const int64_t now_epoch = options_.now_ns() / slice_ns_;
  std::fill(scratch.window.begin(), scratch.window.end(), 0);
  for (int s = 0; s < options_.age_buckets; ++s) {
    const AgeSlice& slice = slices_[static_cast<std::size_t>(s)];
    const int64_t epoch = slice.epoch.load(std::memory_order_acquire);
    if (epoch < 0 || epoch <= now_epoch - options_.age_buckets) continue;  // unused or too old
    for (std::size_t i = 0; i < kBucketCount; ++i) {
      scratch.slice[i] = slice.counts[i].load(std::memory_order_relaxed);
    }
    std::atomic_thread_fence(std::memory_order_acquire);
    // Cleared for a later slice while being read: it has left the window.
    if (slice.epoch.load(std::memory_order_relaxed) != epoch) continue;
    for (std::size_t i = 0; i < kBucketCount; ++i) scratch.window[i] += scratch.slice[i];
  }

  uint64_t n = 0;
  for (uint64_t count : scratch.window) n += count;
  if (n == 0) {
    std::fill(out.begin(), out.end(), std::nan(""));
    return;
  }
  std::size_t bucket = 0;
  uint64_t at_or_below = scratch.window[0];
  for (std::size_t q = 0; q < options_.quantiles.size() && q < out.size(); ++q) {
    const auto rank = std::max<uint64_t>(
        1, static_cast<uint64_t>(std::ceil(options_.quantiles[q] * static_cast<double>(n))));
    while (at_or_below < rank && bucket + 1 < kBucketCount) at_or_below += scratch.window[++bucket];
    out[q] = bucket_value(bucket);
  }
}

double Summary::bucket_value(std::size_t index) noexcept {
  if (index == 0) return 0;
  if (index >= kBucketCount - 1) return kHighest;
  const std::size_t offset = index - 1;
  const int exponent = static_cast<int>(offset >> kSubBucketBits) + kMinExponent;
  const auto sub = static_cast<double>(offset & ((std::size_t{1} << kSubBucketBits) - 1));
  const double part = std::ldexp(1.0, exponent - kSubBucketBits);  // the bucket's width
  return std::ldexp(1.0, exponent) + (sub + 0.5) * part;
}

}  // namespace qt::http::metrics
