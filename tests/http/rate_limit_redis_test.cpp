// gateway/http/rate_limit_redis: the Lua scripts on a real redis-server (started here) give the
// memory storage's decisions and header numbers for the same hits, evaluate all windows of a
// request in one call, hold across connections, and let Redis reclaim what has expired.
#include "gateway/http/rate_limit_redis.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "gateway/http/rate_limit_memory.hpp"
#include "tests/http/rate_limit_test_support.hpp"
#include "tests/http/redis_test_server.hpp"
#include "tests/support/test_files.hpp"

namespace qt::http {
namespace {

using namespace std::chrono_literals;
using test::check_and_wait;
using test::kAllowed;
using test::kRefused;
using test::kT0;
using test::ManualClock;
using test::RedisConnection;
using test::RedisReply;
using test::RedisTestServer;

// A Redis storage for tests: one blocking EVALSHA per request on its own connection (the real
// one pipelines on Asio; the script and its arguments are the same).
class BlockingRedisStorage final : public RateLimitStorage {
 public:
  explicit BlockingRedisStorage(std::unique_ptr<RedisConnection> connection)
      : connection_(std::move(connection)) {}

  void evaluate(const RateLimitRequest& request, RateLimitStorageCompletion done) override {
    ++calls;
    absl::StatusOr<RedisReply> reply =
        connection_->command(redis_rate_limit_command(request, RedisScriptForm::kEvalSha));
    if (reply.ok() && (*reply)->type == REDIS_REPLY_ERROR &&
        std::string_view((*reply)->str).starts_with("NOSCRIPT")) {
      reply = connection_->command(redis_rate_limit_command(request, RedisScriptForm::kEval));
    }
    if (!reply.ok()) {
      done(reply.status());
      return;
    }
    if ((*reply)->type != REDIS_REPLY_ARRAY) {
      done(absl::InternalError(std::string("rate limit script failed: ") +
                               ((*reply)->str != nullptr ? (*reply)->str : "not an array")));
      return;
    }
    std::vector<int64_t> integers;
    for (std::size_t i = 0; i < (*reply)->elements; ++i) {
      integers.push_back((*reply)->element[i]->integer);
    }
    done(parse_redis_rate_limit_reply(request, integers));
  }

  int calls = 0;

 private:
  std::unique_ptr<RedisConnection> connection_;
};

class RedisRateLimit : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<RedisTestServer>> server =
        RedisTestServer::start(scratch_.path() / "redis");
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
  }

  std::unique_ptr<RedisConnection> connect() {
    absl::StatusOr<std::unique_ptr<RedisConnection>> connection =
        RedisConnection::connect(server_->port());
    EXPECT_TRUE(connection.ok()) << connection.status();
    return connection.ok() ? *std::move(connection) : nullptr;
  }

  std::unique_ptr<BlockingRedisStorage> storage() {
    return std::make_unique<BlockingRedisStorage>(connect());
  }

  RedisReply redis(const std::vector<std::string>& args) {
    if (admin_ == nullptr) admin_ = connect();
    absl::StatusOr<RedisReply> reply = admin_->command(args);
    EXPECT_TRUE(reply.ok()) << reply.status();
    return *std::move(reply);
  }

  testing::ScratchDir scratch_{"redis_rate_limit"};
  std::unique_ptr<RedisTestServer> server_;
  std::unique_ptr<RedisConnection> admin_;
};

TEST_F(RedisRateLimit, ScriptsLoadUnderTheNamesEvalshaSends) {
  for (RateLimitStrategy strategy :
       {RateLimitStrategy::kFixedWindow, RateLimitStrategy::kMovingWindow}) {
    RedisReply sha1 = redis({"SCRIPT", "LOAD", std::string(redis_rate_limit_script(strategy))});
    ASSERT_EQ(sha1->type, REDIS_REPLY_STRING) << (sha1->str != nullptr ? sha1->str : "");
    EXPECT_EQ(std::string(sha1->str, sha1->len), redis_rate_limit_script_sha1(strategy));
  }
}

// The worked sequences of rate_limit_test.cpp, on Redis: the same numbers.
TEST_F(RedisRateLimit, FixedWindowGivesTheWorkedNumbersOfTheMemoryStorage) {
  std::vector<test::Step> steps;
  for (uint64_t i = 1; i <= 100; ++i) {
    steps.push_back({0s, kAllowed, 100, 100 - i, 1'700'000'061, 61});
  }
  steps.push_back({30s, kRefused, 100, 0, 1'700'000'061, 31});
  steps.push_back({60s - 1us, kRefused, 100, 0, 1'700'000'061, 1});
  steps.push_back({60s, kAllowed, 100, 99, 1'700'000'121, 61});
  std::unique_ptr<BlockingRedisStorage> redis_storage = storage();
  test::expect_steps(*redis_storage, RateLimitStrategy::kFixedWindow, "100 per minute", steps);
}

TEST_F(RedisRateLimit, MovingWindowGivesTheWorkedNumbersOfTheMemoryStorage) {
  std::vector<test::Step> steps;
  for (int i = 0; i < 100; ++i) {
    steps.push_back(
        {i * 500ms, kAllowed, 100, static_cast<uint64_t>(99 - i), 1'700'000'061, 61 - i / 2});
  }
  steps.push_back({50s, kRefused, 100, 0, 1'700'000'061, 11});
  steps.push_back({60s, kRefused, 100, 0, 1'700'000'061, 1});
  steps.push_back({60s + 1us, kAllowed, 100, 0, 1'700'000'061, 1});
  steps.push_back({60s + 501ms, kAllowed, 100, 0, 1'700'000'062, 2});
  std::unique_ptr<BlockingRedisStorage> redis_storage = storage();
  test::expect_steps(*redis_storage, RateLimitStrategy::kMovingWindow, "100 per minute", steps);
}

TEST_F(RedisRateLimit, SeveralLimitsStopAtTheFirstRefusalInOneCall) {
  std::unique_ptr<BlockingRedisStorage> redis_storage = storage();
  test::expect_steps(*redis_storage, RateLimitStrategy::kFixedWindow, "3 per hour; 2 per minute",
                     {
                         {0s, kAllowed, 2, 1, 1'700'000'061, 61},
                         {1s, kAllowed, 2, 0, 1'700'000'061, 60},
                         {2s, kRefused, 2, 0, 1'700'000'061, 59},
                         {61s, kAllowed, 2, 1, 1'700'000'122, 61},
                         {62s, kRefused, 3, 0, 1'700'003'601, 3'539},
                         {63s, kRefused, 2, 0, 1'700'000'122, 59},
                     });
  EXPECT_EQ(redis_storage->calls, 6);  // one EVALSHA per request, both windows in it
}

// 3,000 requests of 3 clients on 3 routes at random intervals: every decision and header
// number from Redis equals the memory storage's.
class RedisAgreesWithMemory : public RedisRateLimit,
                              public ::testing::WithParamInterface<RateLimitStrategy> {};

TEST_P(RedisAgreesWithMemory, OnEveryDecisionAndHeader) {
  const RouteLimits orders = *RouteLimits::create("api_orders", "20 per hour; 5 per minute");
  const RouteLimits positions = *RouteLimits::create("api_positions", "20 per hour; 5 per minute");
  const RouteLimits trade = *RouteLimits::create("api_trade", "2 per 10 seconds; 4 per minute");
  const RouteLimits* routes[] = {&orders, &positions, &trade};
  const std::chrono::microseconds steps[] = {0us, 1us, 50ms, 250ms, 1s, 3s, 9s, 30s};

  ManualClock clock;
  MemoryRateLimitStorage memory_storage;
  std::unique_ptr<BlockingRedisStorage> redis_storage = storage();
  RateLimiter in_memory(memory_storage, {GetParam(), ""}, clock);
  RateLimiter on_redis(*redis_storage, {GetParam(), ""}, clock);

  std::mt19937 random(20231114);
  int allowed = 0;
  int refused = 0;
  for (int i = 0; i < 3'000; ++i) {
    clock.advance(steps[random() % std::size(steps)]);
    const std::string client = "10.0.0." + std::to_string(random() % 3);
    const RouteLimits& route = *routes[random() % std::size(routes)];
    absl::StatusOr<RateLimitDecision> expected = check_and_wait(in_memory, client, route);
    absl::StatusOr<RateLimitDecision> actual = check_and_wait(on_redis, client, route);
    ASSERT_TRUE(expected.ok() && actual.ok()) << expected.status() << " " << actual.status();
    ASSERT_EQ(*actual, *expected) << "request " << i << " of " << client << " on " << route.scope()
                                  << ": redis says " << (actual->allowed ? "allowed" : "refused")
                                  << " " << actual->limit << "/" << actual->remaining << " reset "
                                  << actual->reset_epoch_seconds << " retry "
                                  << actual->retry_after_seconds << "; memory says "
                                  << (expected->allowed ? "allowed" : "refused") << " "
                                  << expected->limit << "/" << expected->remaining << " reset "
                                  << expected->reset_epoch_seconds << " retry "
                                  << expected->retry_after_seconds;
    (expected->allowed ? allowed : refused) += 1;
  }
  // The sequence exercises both outcomes, not one.
  std::printf("%d allowed, %d refused\n", allowed, refused);
  EXPECT_GT(allowed, 500);
  EXPECT_GT(refused, 500);
}

INSTANTIATE_TEST_SUITE_P(Strategies, RedisAgreesWithMemory,
                         ::testing::Values(RateLimitStrategy::kFixedWindow,
                                           RateLimitStrategy::kMovingWindow),
                         [](const auto& info) {
                           return info.param == RateLimitStrategy::kFixedWindow ? "Fixed"
                                                                                : "Moving";
                         });

TEST_F(RedisRateLimit, KeysAreNamedAsLimitsNamesThemAndOutliveTheirWindowByASecond) {
  std::unique_ptr<BlockingRedisStorage> redis_storage = storage();
  ManualClock clock;
  const RouteLimits trade = *RouteLimits::create("api_trade", "10 per minute");
  RateLimiter fixed(*redis_storage, {RateLimitStrategy::kFixedWindow, ""}, clock);
  ASSERT_TRUE(check_and_wait(fixed, "10.0.0.7", trade)->allowed);
  RateLimiter moving(*redis_storage, {RateLimitStrategy::kMovingWindow, "moving"}, clock);
  ASSERT_TRUE(check_and_wait(moving, "10.0.0.7", trade)->allowed);

  const std::string fixed_key = "LIMITS:LIMITER/10.0.0.7/api_trade/10/1/minute";
  const std::string moving_key = "LIMITS:LIMITER/moving/10.0.0.7/api_trade/10/1/minute";
  RedisReply keys = redis({"KEYS", "*"});
  ASSERT_EQ(keys->type, REDIS_REPLY_ARRAY);
  std::vector<std::string> names;
  for (std::size_t i = 0; i < keys->elements; ++i) names.emplace_back(keys->element[i]->str);
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{fixed_key, moving_key}));
  EXPECT_EQ(std::string(redis({"TYPE", fixed_key})->str), "hash");
  EXPECT_EQ(std::string(redis({"TYPE", moving_key})->str), "list");
  for (const std::string& key : {fixed_key, moving_key}) {
    const long long ttl = redis({"PTTL", key})->integer;
    EXPECT_GT(ttl, 60'000) << key;  // the window, plus the grace that lets the caller decide
    EXPECT_LE(ttl, 61'000) << key;
  }
}

TEST_F(RedisRateLimit, MovingWindowListHoldsOnlyTheWindowsHits) {
  std::unique_ptr<BlockingRedisStorage> redis_storage = storage();
  ManualClock clock;
  const RouteLimits route = *RouteLimits::create("api_orders", "50 per second");
  RateLimiter limiter(*redis_storage, {RateLimitStrategy::kMovingWindow, ""}, clock);
  for (int i = 0; i < 40; ++i) {
    clock.advance(10ms);
    ASSERT_TRUE(check_and_wait(limiter, "10.0.0.7", route)->allowed);
  }
  const std::string key = "LIMITS:LIMITER/10.0.0.7/api_orders/50/1/second";
  EXPECT_EQ(redis({"LLEN", key})->integer, 40);
  clock.advance(1'200ms);  // none of the 40 is inside the window any more
  absl::StatusOr<RateLimitDecision> decision = check_and_wait(limiter, "10.0.0.7", route);
  EXPECT_EQ(decision->remaining, 49u);
  EXPECT_EQ(redis({"LLEN", key})->integer, 1);
}

TEST_F(RedisRateLimit, TwoConnectionsShareOneLimitExactly) {
  // Two instances of the gateway, each with its own connection, on one Redis; the clock is
  // still, so every hit falls in the same windows.
  ManualClock clock;
  const RouteLimits route = *RouteLimits::create("api_trade", "300 per hour; 100 per minute");
  for (RateLimitStrategy strategy :
       {RateLimitStrategy::kFixedWindow, RateLimitStrategy::kMovingWindow}) {
    redis({"FLUSHALL"});
    std::atomic<int> allowed{0};
    std::vector<std::thread> instances;
    for (int instance = 0; instance < 2; ++instance) {
      instances.emplace_back([&] {
        std::unique_ptr<BlockingRedisStorage> redis_storage = storage();
        RateLimiter limiter(*redis_storage, {strategy, ""}, clock);
        for (int i = 0; i < 250; ++i) {
          absl::StatusOr<RateLimitDecision> decision = check_and_wait(limiter, "10.0.0.7", route);
          if (decision.ok() && decision->allowed) allowed.fetch_add(1);
        }
      });
    }
    for (std::thread& instance : instances) instance.join();
    EXPECT_EQ(allowed.load(), 100) << to_string(strategy);
  }
}

TEST_F(RedisRateLimit, ARealOneSecondFixedWindowEndsAndRedisReclaimsItsKey) {
  // The system clock: the window of "3 per second" starts at the first hit and ends 1 s later;
  // Redis removes the key one second after that.
  std::unique_ptr<BlockingRedisStorage> redis_storage = storage();
  RateLimiter limiter(*redis_storage, {RateLimitStrategy::kFixedWindow, ""});
  const RouteLimits route = *RouteLimits::create("api_orders", "3 per second");
  const auto first = std::chrono::system_clock::now();
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(check_and_wait(limiter, "10.0.0.7", route)->allowed);
  absl::StatusOr<RateLimitDecision> fourth = check_and_wait(limiter, "10.0.0.7", route);
  if (std::chrono::system_clock::now() - first < 900ms) {  // a loaded machine may be slower
    EXPECT_FALSE(fourth->allowed);
    // Up to int(first + 1 s + 1), rounded up: 1 or 2 s depending on first's fraction.
    EXPECT_GE(fourth->retry_after_seconds, 1);
    EXPECT_LE(fourth->retry_after_seconds, 2);
  }
  std::this_thread::sleep_until(first + 1'100ms);
  absl::StatusOr<RateLimitDecision> next_window = check_and_wait(limiter, "10.0.0.7", route);
  EXPECT_TRUE(next_window->allowed);
  EXPECT_EQ(next_window->remaining, 2u);
  const std::string key = "LIMITS:LIMITER/10.0.0.7/api_orders/3/1/second";
  EXPECT_EQ(redis({"EXISTS", key})->integer, 1);
  std::this_thread::sleep_until(first + 3'300ms);  // its end (≈ first + 2.1 s) + 1 s of grace
  EXPECT_EQ(redis({"EXISTS", key})->integer, 0);
}

TEST(RedisRateLimitReply, RefusesRepliesThatDoNotFitTheRequest) {
  const RateLimitWindow windows[] = {{"LIMITER/a/r/2/1/minute", 2, 60s},
                                     {"LIMITER/a/r/5/1/hour", 5, 3'600s}};
  const RateLimitRequest request{RateLimitStrategy::kFixedWindow, "LIMITER/a/r", windows, kT0};
  const int64_t reset = (kT0 + 60s).time_since_epoch().count();
  EXPECT_TRUE(parse_redis_rate_limit_reply(request, std::vector<int64_t>{2, 0, 1, reset}).ok());
  EXPECT_TRUE(parse_redis_rate_limit_reply(request, std::vector<int64_t>{1, 1, 0, reset}).ok());
  EXPECT_TRUE(parse_redis_rate_limit_reply(request, std::vector<int64_t>{2, 2, 0, reset}).ok());
  for (const std::vector<int64_t>& bad : std::vector<std::vector<int64_t>>{
           {2, 0, 1},         // three numbers
           {0, 0, 1, reset},  // nothing evaluated
           {3, 0, 1, reset},  // more windows than sent
           {1, 0, 1, reset},  // stopped without a refusal
           {2, 1, 0, reset},  // refused by a window before the last evaluated
           {2, 0, 3, reset},  // more remaining than the amount
           {2, 0, 1, 0}}) {   // no reset
    EXPECT_EQ(parse_redis_rate_limit_reply(request, bad).status().code(),
              absl::StatusCode::kInternal);
  }
  const std::vector<std::string> command =
      redis_rate_limit_command(request, RedisScriptForm::kEvalSha);
  const std::string now = std::to_string(kT0.time_since_epoch().count());
  EXPECT_EQ(command,
            (std::vector<std::string>{
                "EVALSHA", redis_rate_limit_script_sha1(RateLimitStrategy::kFixedWindow), "2",
                "LIMITS:LIMITER/a/r/2/1/minute", "LIMITS:LIMITER/a/r/5/1/hour", now, "2",
                "60000000", "1700000060250000", "5", "3600000000", "1700003600250000"}));
}

}  // namespace
}  // namespace qt::http
