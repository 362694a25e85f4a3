#include "gateway/http/rate_limit_memory.hpp"

#include <algorithm>
#include <mutex>
#include <string>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/hash/hash.h"
#include "absl/status/status.h"
#include "fmt/format.h"

namespace qt::http {
namespace {

// limits' MemoryStorage.incr: the window starts at the first hit and ends `length` later.
struct FixedWindowCounter {
  uint64_t count = 0;
  RateLimitTime end;  // the epoch until the first hit: already over

  bool expired(RateLimitTime now) const { return end <= now; }
};

// The accepted hits inside one moving window, oldest first, in a ring that grows to at most
// the limit's amount (rounded up to a power of two).
class MovingWindowLog {
 public:
  explicit MovingWindowLog(std::chrono::microseconds length) : length_(length) {}

  std::size_t size() const { return size_; }
  RateLimitTime oldest() const { return times_[head_]; }
  RateLimitTime newest() const { return times_[(head_ + size_ - 1) & (capacity_ - 1)]; }
  bool expired(RateLimitTime now) const { return size_ == 0 || newest() < now - length_; }

  // limits keeps entries with time >= now - length.
  void drop_before(RateLimitTime cutoff) {
    while (size_ > 0 && oldest() < cutoff) {
      head_ = (head_ + 1) & (capacity_ - 1);
      --size_;
    }
  }

  void push(RateLimitTime time) {
    if (size_ == capacity_) grow();
    times_[(head_ + size_) & (capacity_ - 1)] = time;
    ++size_;
  }

 private:
  void grow() {
    const std::size_t capacity = capacity_ == 0 ? 4 : capacity_ * 2;
    std::unique_ptr<RateLimitTime[]> times(new RateLimitTime[capacity]);
    for (std::size_t i = 0; i < size_; ++i) times[i] = times_[(head_ + i) & (capacity_ - 1)];
    times_ = std::move(times);
    capacity_ = capacity;
    head_ = 0;
  }

  std::chrono::microseconds length_;
  std::unique_ptr<RateLimitTime[]> times_;
  std::size_t capacity_ = 0;
  std::size_t head_ = 0;
  std::size_t size_ = 0;
};

// A map sweeps its expired windows when it has doubled since the last sweep, and never below
// this size.
constexpr std::size_t kMinSweepSize = 64;

template <typename Map, typename Make>
typename Map::mapped_type& find_or_create(Map& map, std::size_t& sweep_at, std::string_view key,
                                          RateLimitTime now, Make make) {
  if (auto it = map.find(absl::string_view(key.data(), key.size())); it != map.end()) {
    return it->second;
  }
  if (map.size() >= sweep_at) {
    absl::erase_if(map, [now](const auto& entry) { return entry.second.expired(now); });
    sweep_at = std::max(kMinSweepSize, 2 * map.size());
  }
  return map.emplace(std::string(key), make()).first->second;
}

}  // namespace

struct alignas(64) MemoryRateLimitStorage::Shard {
  mutable std::mutex mutex;
  absl::flat_hash_map<std::string, FixedWindowCounter> counters;
  absl::flat_hash_map<std::string, MovingWindowLog> logs;
  std::size_t counters_sweep_at = kMinSweepSize;
  std::size_t logs_sweep_at = kMinSweepSize;

  RateLimitOutcome hit_fixed_windows(const RateLimitRequest& request);
  RateLimitOutcome hit_moving_windows(const RateLimitRequest& request);
};

RateLimitOutcome MemoryRateLimitStorage::Shard::hit_fixed_windows(const RateLimitRequest& request) {
  RateLimitOutcome outcome;
  for (std::size_t i = 0; i < request.windows.size(); ++i) {
    const RateLimitWindow& window = request.windows[i];
    FixedWindowCounter& counter = find_or_create(counters, counters_sweep_at, window.key,
                                                 request.now, [] { return FixedWindowCounter{}; });
    if (counter.expired(request.now)) counter = {0, request.now + window.length};
    ++counter.count;  // refused hits count too, as limits' incr() does
    outcome.evaluated = i + 1;
    const bool refused = counter.count > window.amount;
    if (i == 0 || refused) {
      outcome.remaining = refused ? 0 : window.amount - counter.count;
      outcome.reset = counter.end;
    }
    if (refused) {
      outcome.refused = i;
      break;
    }
  }
  return outcome;
}

RateLimitOutcome MemoryRateLimitStorage::Shard::hit_moving_windows(
    const RateLimitRequest& request) {
  RateLimitOutcome outcome;
  for (std::size_t i = 0; i < request.windows.size(); ++i) {
    const RateLimitWindow& window = request.windows[i];
    MovingWindowLog& log = find_or_create(logs, logs_sweep_at, window.key, request.now,
                                          [&window] { return MovingWindowLog(window.length); });
    log.drop_before(request.now - window.length);
    outcome.evaluated = i + 1;
    // limits' acquire_entry: refused while the amount-th newest hit is inside the window.
    if (log.size() >= window.amount) {
      outcome.refused = i;
      outcome.remaining = 0;
      outcome.reset = (log.size() > 0 ? log.oldest() : request.now) + window.length;
      break;
    }
    log.push(log.size() > 0 ? std::max(request.now, log.newest()) : request.now);
    if (i == 0) {
      outcome.remaining = window.amount - log.size();
      outcome.reset = log.oldest() + window.length;
    }
  }
  return outcome;
}

MemoryRateLimitStorage::MemoryRateLimitStorage() : shards_(new Shard[kShardCount]) {}

MemoryRateLimitStorage::~MemoryRateLimitStorage() = default;

void MemoryRateLimitStorage::evaluate(const RateLimitRequest& request,
                                      RateLimitStorageCompletion done) {
  done(evaluate_now(request));
}

absl::StatusOr<RateLimitOutcome> MemoryRateLimitStorage::evaluate_now(
    const RateLimitRequest& request) {
  if (request.windows.empty() || request.windows.size() > kMaxLimitsPerRoute) {
    return absl::InvalidArgumentError(
        fmt::format("rate limit request for {} with {} windows (1 to {})", request.subject,
                    request.windows.size(), kMaxLimitsPerRoute));
  }
  Shard& shard = shards_[absl::Hash<absl::string_view>{}(
                             absl::string_view(request.subject.data(), request.subject.size())) %
                         kShardCount];
  std::lock_guard lock(shard.mutex);
  return request.strategy == RateLimitStrategy::kFixedWindow ? shard.hit_fixed_windows(request)
                                                             : shard.hit_moving_windows(request);
}

std::size_t MemoryRateLimitStorage::reclaim_expired(RateLimitTime now) {
  std::size_t reclaimed = 0;
  auto expired = [now](const auto& entry) { return entry.second.expired(now); };
  for (std::size_t i = 0; i < kShardCount; ++i) {
    Shard& shard = shards_[i];
    std::lock_guard lock(shard.mutex);
    reclaimed += absl::erase_if(shard.counters, expired) + absl::erase_if(shard.logs, expired);
    shard.counters_sweep_at = std::max(kMinSweepSize, 2 * shard.counters.size());
    shard.logs_sweep_at = std::max(kMinSweepSize, 2 * shard.logs.size());
  }
  return reclaimed;
}

std::size_t MemoryRateLimitStorage::window_count() const {
  std::size_t count = 0;
  for (std::size_t i = 0; i < kShardCount; ++i) {
    const Shard& shard = shards_[i];
    std::lock_guard lock(shard.mutex);
    count += shard.counters.size() + shard.logs.size();
  }
  return count;
}

}  // namespace qt::http
