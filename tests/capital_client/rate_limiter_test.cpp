#include "gateway/capital/rate_limiter.hpp"

#include <gtest/gtest.h>

namespace qt::capital {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// Virtual time: sleeping advances it; nothing really waits.
class FakeClock final : public ClientClock {
 public:
  time_point now() override { return now_; }
  void sleep_until(time_point when) override {
    if (when > now_) now_ = when;
  }
  void advance(duration d) { now_ += d; }
  int64_t elapsed_ms() const {
    return std::chrono::duration_cast<milliseconds>(now_ - time_point{}).count();
  }

 private:
  time_point now_{};
};

RateLimitConfig broker_limits() {
  RateLimitConfig config;  // 10/s, orders 1 per 100 ms, logins 1/s, 1000 orders/h
  config.safety_margin = milliseconds(0);
  config.max_wait = seconds(10);
  return config;
}

int64_t ms(std::chrono::nanoseconds d) {
  return std::chrono::duration_cast<milliseconds>(d).count();
}

TEST(RateLimiter, TenRequestsPassAtOnceTheEleventhWaitsForTheWindow) {
  FakeClock clock;
  RateLimiter limiter(broker_limits(), clock);
  for (int i = 0; i < 10; ++i) {
    auto waited = limiter.acquire(RequestClass::kGeneral);
    ASSERT_TRUE(waited.ok());
    EXPECT_EQ(ms(*waited), 0) << "request " << i;
  }
  auto eleventh = limiter.acquire(RequestClass::kGeneral);
  ASSERT_TRUE(eleventh.ok());
  EXPECT_EQ(ms(*eleventh), 1000);  // the first of the ten leaves the 1 s window at t = 1000 ms
  EXPECT_EQ(clock.elapsed_ms(), 1000);
}

TEST(RateLimiter, NoOneSecondWindowEverHoldsMoreThanTen) {
  FakeClock clock;
  RateLimiter limiter(broker_limits(), clock);
  std::vector<int64_t> starts;
  for (int i = 0; i < 50; ++i) {
    clock.advance(milliseconds(37 * (i % 3)));  // irregular arrivals
    ASSERT_TRUE(limiter.acquire(RequestClass::kGeneral).ok());
    starts.push_back(clock.elapsed_ms());
  }
  for (std::size_t i = 10; i < starts.size(); ++i) {
    EXPECT_GE(starts[i] - starts[i - 10], 1000) << "requests " << i - 10 << " and " << i;
  }
}

TEST(RateLimiter, OrdersAreSpacedByOneHundredMilliseconds) {
  FakeClock clock;
  RateLimiter limiter(broker_limits(), clock);
  ASSERT_TRUE(limiter.acquire(RequestClass::kOrder).ok());
  auto second = limiter.acquire(RequestClass::kOrder);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(ms(*second), 100);
  clock.advance(milliseconds(250));
  auto third = limiter.acquire(RequestClass::kOrder);
  ASSERT_TRUE(third.ok());
  EXPECT_EQ(ms(*third), 0);
  // General requests are not held back by the order spacing.
  auto general = limiter.acquire(RequestClass::kGeneral);
  ASSERT_TRUE(general.ok());
  EXPECT_EQ(ms(*general), 0);
}

TEST(RateLimiter, OrdersAlsoCountTowardsTheOverallLimit) {
  FakeClock clock;
  RateLimiter limiter(broker_limits(), clock);
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(limiter.acquire(RequestClass::kGeneral).ok());
  auto order = limiter.acquire(RequestClass::kOrder);
  ASSERT_TRUE(order.ok());
  EXPECT_EQ(ms(*order), 1000);
}

TEST(RateLimiter, OneLoginPerSecond) {
  FakeClock clock;
  RateLimiter limiter(broker_limits(), clock);
  ASSERT_TRUE(limiter.acquire(RequestClass::kLogin).ok());
  clock.advance(milliseconds(400));
  auto second = limiter.acquire(RequestClass::kLogin);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(ms(*second), 600);
}

TEST(RateLimiter, RefusesWithTheBindingLimitWhenTheWaitIsTooLong) {
  FakeClock clock;
  RateLimiter limiter(broker_limits(), clock);
  ASSERT_TRUE(limiter.acquire(RequestClass::kOrder).ok());
  auto refused = limiter.acquire(RequestClass::kOrder, milliseconds(40));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(std::string(refused.status().message()),
            "client-side rate limit: order requests (1 per 100 ms): next order request slot in "
            "100 ms, beyond the 40 ms wait allowed");
  EXPECT_EQ(limiter.refused(), 1u);
  // A refusal reserves nothing: the next order still gets the slot at 100 ms.
  auto next = limiter.acquire(RequestClass::kOrder);
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(ms(*next), 100);
}

TEST(RateLimiter, DemoHourlyOrderCapRefusesTheThousandAndFirst) {
  FakeClock clock;
  RateLimitConfig config = broker_limits();
  config.max_wait = seconds(1);
  RateLimiter limiter(config, clock);
  for (int i = 0; i < 1000; ++i) {
    ASSERT_TRUE(limiter.acquire(RequestClass::kOrder).ok()) << "order " << i;
  }
  EXPECT_EQ(clock.elapsed_ms(), 99'900);  // 1000 orders, 100 ms apart
  auto refused = limiter.acquire(RequestClass::kOrder);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("demo order requests (1000 per 1 h)"),
            std::string::npos)
      << refused.status();
  EXPECT_NE(refused.status().message().find("58 min 20 s"), std::string::npos)
      << refused.status();  // 3600 s - 99.9 s = 3500.1 s
  clock.advance(seconds(3600));
  EXPECT_TRUE(limiter.acquire(RequestClass::kOrder).ok());
}

TEST(RateLimiter, LiveHasNoHourlyCap) {
  FakeClock clock;
  RateLimitConfig config = broker_limits();
  config.orders_per_hour = 0;
  RateLimiter limiter(config, clock);
  for (int i = 0; i < 1500; ++i) ASSERT_TRUE(limiter.acquire(RequestClass::kOrder).ok());
}

TEST(RateLimiter, SafetyMarginLengthensEachWindow) {
  FakeClock clock;
  RateLimitConfig config = broker_limits();
  config.safety_margin = milliseconds(10);
  RateLimiter limiter(config, clock);
  ASSERT_TRUE(limiter.acquire(RequestClass::kOrder).ok());
  auto second = limiter.acquire(RequestClass::kOrder);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(ms(*second), 110);
}

TEST(RateLimiter, A429ClosesTheClassForABackoffThatDoublesAndResets) {
  FakeClock clock;
  RateLimitConfig config = broker_limits();
  config.backoff_after_429 = milliseconds(1000);
  config.max_backoff_after_429 = milliseconds(3000);
  RateLimiter limiter(config, clock);

  limiter.on_rate_limited(RequestClass::kOrder, std::nullopt);
  auto order = limiter.acquire(RequestClass::kOrder);
  ASSERT_TRUE(order.ok());
  EXPECT_EQ(ms(*order), 1000);
  auto general = limiter.acquire(RequestClass::kGeneral);
  ASSERT_TRUE(general.ok());
  EXPECT_EQ(ms(*general), 0) << "an order 429 does not stop general requests";

  limiter.on_rate_limited(RequestClass::kOrder, std::nullopt);  // consecutive: 2 s
  EXPECT_EQ(ms(*limiter.acquire(RequestClass::kOrder)), 2000);
  limiter.on_rate_limited(RequestClass::kOrder, std::nullopt);  // 4 s, capped at 3 s
  EXPECT_EQ(ms(*limiter.acquire(RequestClass::kOrder)), 3000);

  limiter.on_answer(RequestClass::kOrder);
  limiter.on_rate_limited(RequestClass::kOrder, std::nullopt);  // reset: 1 s again
  EXPECT_EQ(ms(*limiter.acquire(RequestClass::kOrder)), 1000);
  EXPECT_EQ(limiter.server_429s(), 4u);
}

TEST(RateLimiter, A429OnAGeneralRequestHoldsEveryClassAndHonoursRetryAfter) {
  FakeClock clock;
  RateLimiter limiter(broker_limits(), clock);
  limiter.on_rate_limited(RequestClass::kGeneral, seconds(5));
  auto refused = limiter.acquire(RequestClass::kLogin, seconds(2));
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("backoff after HTTP 429 (all requests)"),
            std::string::npos)
      << refused.status();
  auto order = limiter.acquire(RequestClass::kOrder);
  ASSERT_TRUE(order.ok());
  EXPECT_EQ(ms(*order), 5000);
}

TEST(RateLimiter, DescribeDurationReadsNaturally) {
  EXPECT_EQ(describe_duration(milliseconds(350)), "350 ms");
  EXPECT_EQ(describe_duration(milliseconds(1200)), "1.2 s");
  EXPECT_EQ(describe_duration(seconds(723)), "12 min 3 s");
}

}  // namespace
}  // namespace qt::capital
