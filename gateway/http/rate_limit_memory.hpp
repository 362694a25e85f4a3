// The in-process rate limit storage (`rate_limit_storage = "memory://"`), with limits'
// MemoryStorage semantics for both strategies (rate_limit.hpp).
//
// Guarantees:
//  - evaluate() completes inline, on the calling thread; any number of threads may call it.
//  - No global lock: 64 shards, each with its own mutex and hash maps. All windows of one
//    request live in the shard of the request's subject (client and route), so a request is
//    evaluated under one lock, atomically, and two threads never admit more than a limit allows.
//  - Bounded memory: a fixed window lives until its end, a moving window until its newest hit
//    leaves it, and a moving window keeps only the hits inside it. A shard sweeps out expired
//    windows whenever its maps have doubled since the last sweep (amortised O(1) per new
//    window); reclaim_expired() sweeps everything, for a periodic timer.
//  - Allocates only when a window is created or a moving window's log grows.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>

#include "gateway/http/rate_limit.hpp"

namespace qt::http {

class MemoryRateLimitStorage final : public RateLimitStorage {
 public:
  static constexpr std::size_t kShardCount = 64;

  MemoryRateLimitStorage();
  ~MemoryRateLimitStorage() override;
  MemoryRateLimitStorage(const MemoryRateLimitStorage&) = delete;
  MemoryRateLimitStorage& operator=(const MemoryRateLimitStorage&) = delete;

  // Calls `done` before returning.
  void evaluate(const RateLimitRequest& request, RateLimitStorageCompletion done) override;
  // The same, returned.
  std::optional<absl::StatusOr<RateLimitOutcome>> evaluate_inline(
      const RateLimitRequest& request) override {
    return evaluate_now(request);
  }
  absl::StatusOr<RateLimitOutcome> evaluate_now(const RateLimitRequest& request);

  // Removes every window that has expired at `now`; returns how many.
  std::size_t reclaim_expired(RateLimitTime now);
  // Windows held, expired ones not yet swept included.
  std::size_t window_count() const;

 private:
  struct Shard;
  std::unique_ptr<Shard[]> shards_;
};

}  // namespace qt::http
