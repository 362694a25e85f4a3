// Test and benchmark support for gateway/http/rate_limit*: a clock that tests move by hand, a
// synchronous check(), and worked sequences of requests with the numbers they must get.
//
// Header-only; tests and benchmarks only.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "gateway/http/rate_limit.hpp"

namespace qt::http {
inline void PrintTo(RateLimitStrategy strategy, std::ostream* out) {
  *out << to_string(strategy);
}
}  // namespace qt::http

namespace qt::http::test {

// 2023-11-14T22:13:20.250Z: a quarter second past a whole second, so that the worked numbers
// show flask-limiter's int(reset + 1).
inline constexpr RateLimitTime kT0{std::chrono::microseconds(1'700'000'000'250'000)};

// Readable from any thread; moved by the test.
class ManualClock final : public RateLimitClock {
 public:
  explicit ManualClock(RateLimitTime start = kT0) : micros_(start.time_since_epoch().count()) {}
  RateLimitTime now() override {
    return RateLimitTime(std::chrono::microseconds(micros_.load(std::memory_order_relaxed)));
  }
  void set(RateLimitTime time) {
    micros_.store(time.time_since_epoch().count(), std::memory_order_relaxed);
  }
  void advance(std::chrono::microseconds by) {
    micros_.fetch_add(by.count(), std::memory_order_relaxed);
  }

 private:
  std::atomic<int64_t> micros_;
};

// check() on a storage that completes inline; Internal if the completion did not run.
inline absl::StatusOr<RateLimitDecision> check_now(RateLimiter& limiter, std::string_view client,
                                                   const RouteLimits& route) {
  std::optional<absl::StatusOr<RateLimitDecision>> result;
  limiter.check(client, route, [&result](absl::StatusOr<RateLimitDecision> decision) {
    result = std::move(decision);
  });
  if (!result.has_value()) return absl::InternalError("the completion did not run inline");
  return *std::move(result);
}

// check() on a storage that completes on another thread: waits for the completion.
inline absl::StatusOr<RateLimitDecision> check_and_wait(RateLimiter& limiter,
                                                        std::string_view client,
                                                        const RouteLimits& route) {
  std::promise<absl::StatusOr<RateLimitDecision>> promise;
  std::future<absl::StatusOr<RateLimitDecision>> answer = promise.get_future();
  limiter.check(client, route, [&promise](absl::StatusOr<RateLimitDecision> decision) {
    promise.set_value(std::move(decision));
  });
  return answer.get();
}

inline constexpr bool kAllowed = true;
inline constexpr bool kRefused = false;

// One request at kT0 + at, and the numbers flask-limiter's headers would carry.
struct Step {
  std::chrono::microseconds at;
  bool allowed;
  uint64_t limit;
  uint64_t remaining;
  int64_t reset;        // X-RateLimit-Reset
  int64_t retry_after;  // Retry-After
};

// Plays `steps` for client 10.0.0.7 on route "api_orders" with `limits`, on `storage`.
inline void expect_steps(RateLimitStorage& storage, RateLimitStrategy strategy,
                         std::string_view limits, const std::vector<Step>& steps) {
  ManualClock clock;
  RateLimiter limiter(storage, {strategy, ""}, clock);
  absl::StatusOr<RouteLimits> route = RouteLimits::create("api_orders", limits);
  ASSERT_TRUE(route.ok()) << route.status();
  for (std::size_t i = 0; i < steps.size(); ++i) {
    const Step& step = steps[i];
    clock.set(kT0 + step.at);
    absl::StatusOr<RateLimitDecision> decision = check_and_wait(limiter, "10.0.0.7", *route);
    ASSERT_TRUE(decision.ok()) << decision.status();
    const std::string where =
        "step " + std::to_string(i) + " at kT0 + " + std::to_string(step.at.count()) + " µs";
    EXPECT_EQ(decision->allowed, step.allowed) << where;
    EXPECT_EQ(decision->limit, step.limit) << where;
    EXPECT_EQ(decision->remaining, step.remaining) << where;
    EXPECT_EQ(decision->reset_epoch_seconds, step.reset) << where;
    EXPECT_EQ(decision->retry_after_seconds, step.retry_after) << where;
  }
}

}  // namespace qt::http::test
