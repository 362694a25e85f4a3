// gateway/http/rate_limit*: flask-limiter's limit syntax, strategies and headers, with the
// memory storage. The worked numbers start at kT0 = 1'700'000'000.25 s (epoch), so that
// X-RateLimit-Reset shows flask-limiter's int(reset + 1).
#include "gateway/http/rate_limit.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "gateway/http/rate_limit_memory.hpp"
#include "tests/http/rate_limit_test_support.hpp"

namespace qt::http {
namespace {

using namespace std::chrono_literals;
using test::check_now;
using test::kAllowed;
using test::kRefused;
using test::kT0;
using test::ManualClock;

constexpr Granularity kSecond = Granularity::kSecond;
constexpr Granularity kMinute = Granularity::kMinute;
constexpr Granularity kHour = Granularity::kHour;
constexpr Granularity kDay = Granularity::kDay;
constexpr Granularity kMonth = Granularity::kMonth;
constexpr Granularity kYear = Granularity::kYear;

RouteLimits route_or_die(std::string scope, std::string_view limits) {
  absl::StatusOr<RouteLimits> route = RouteLimits::create(std::move(scope), limits);
  EXPECT_TRUE(route.ok()) << route.status();
  return *std::move(route);
}

// ---- Syntax: limits.parse_many
// -------------------------------------------------------------------

TEST(HttpRateLimitSyntax, ParsesWhatTheLimitsLibraryParses) {
  struct Case {
    std::string_view text;
    std::vector<RateLimitItem> items;
  };
  const Case cases[] = {
      {"1000 per hour; 100 per minute", {{1000, 1, kHour}, {100, 1, kMinute}}},
      {"10/minute", {{10, 1, kMinute}}},
      {"10 per 2 minutes", {{10, 2, kMinute}}},
      {"5/second", {{5, 1, kSecond}}},
      {"1 per day", {{1, 1, kDay}}},
      {"3 per month", {{3, 1, kMonth}}},
      {"2 per year", {{2, 1, kYear}}},
      {"10 PER Minute", {{10, 1, kMinute}}},
      {"10/MINUTES", {{10, 1, kMinute}}},
      {"10/2minutes", {{10, 2, kMinute}}},
      {"10per minute", {{10, 1, kMinute}}},
      {"10 persecond", {{10, 1, kSecond}}},
      {"10 / 2 minutes", {{10, 2, kMinute}}},
      {"  7  per   hour  ", {{7, 1, kHour}}},
      {"\t10\tper\t1\tseconds\n", {{10, 1, kSecond}}},
      {"007/minute", {{7, 1, kMinute}}},
      {"0 per minute", {{0, 1, kMinute}}},
      {"1/second, 5/minute | 100 per days", {{1, 1, kSecond}, {5, 1, kMinute}, {100, 1, kDay}}},
      {"1 per 100 years", {{1, 100, kYear}}},
      {"1 per 3110400000 seconds", {{1, 3'110'400'000, kSecond}}},
      {"1000000000/second", {{1'000'000'000, 1, kSecond}}},
  };
  for (const Case& c : cases) {
    absl::StatusOr<std::vector<RateLimitItem>> items = parse_rate_limits(c.text);
    ASSERT_TRUE(items.ok()) << c.text << ": " << items.status();
    EXPECT_EQ(*items, c.items) << c.text;
  }
}

TEST(HttpRateLimitSyntax, RefusesWhatItCannotParseNamingTheOffendingPart) {
  struct Case {
    std::string_view text;
    std::string_view message;
  };
  const Case cases[] = {
      {"", "empty rate limit string"},
      {"   ", "empty rate limit string"},
      {"10", "rate limit \"10\": no \"per\" or \"/\""},
      {"10 minute", "rate limit \"10 minute\": no \"per\" or \"/\""},
      {"1.5/minute", "rate limit \"1.5/minute\": no \"per\" or \"/\""},
      {"per minute", "rate limit \"per minute\": no amount"},
      {"ten per minute", "no amount"},
      {"-1/minute", "no amount"},
      {"10 per", "rate limit \"10 per\": unknown granularity"},
      {"10 per fortnight", "rate limit \"10 per fortnight\": unknown granularity"},
      {"10 per mins", "unknown granularity"},
      {"10 per 2 3 minutes", "unknown granularity"},
      {"10 per minutess", "rate limit \"10 per minutess\": text after the limit"},
      {"10 per minute 5", "text after the limit"},
      {"10 per 0 minutes", "rate limit \"10 per 0 minutes\": a window of 0 granularities"},
      {"1000000001/second", "the amount is above 1000000000"},
      {"99999999999999999999999999/second", "the amount is above 1000000000"},
      {"1 per 101 years", "a window longer than 100 years"},
      {"1 per 3110400001 seconds", "a window longer than 100 years"},
      {"1 per 99999999999999999999999 seconds", "a window longer than 100 years"},
      {"1/second; 10 per fortnight",
       "rate limit \"10 per fortnight\" in \"1/second; 10 per fortnight\": unknown granularity"},
      {"10/minute;", "has an empty limit at offset 10"},
      {";10/minute", "has an empty limit at offset 0"},
      {"10/minute;;5/second", "has an empty limit at offset 10"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<std::vector<RateLimitItem>> items = parse_rate_limits(c.text);
    ASSERT_FALSE(items.ok()) << "\"" << c.text << "\" parsed";
    EXPECT_EQ(items.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(std::string(items.status().message()).find(c.message), std::string::npos)
        << "\"" << c.text << "\": " << items.status().message();
  }
}

TEST(HttpRateLimitSyntax, GranularitiesAreLimitsSeconds) {
  EXPECT_EQ(RateLimitItem({1, 1, kSecond}).window(), 1s);
  EXPECT_EQ(RateLimitItem({1, 1, kMinute}).window(), 60s);
  EXPECT_EQ(RateLimitItem({1, 1, kHour}).window(), 3'600s);
  EXPECT_EQ(RateLimitItem({1, 1, kDay}).window(), 86'400s);
  EXPECT_EQ(RateLimitItem({1, 1, kMonth}).window(), 2'592'000s);  // 30 days
  EXPECT_EQ(RateLimitItem({1, 1, kYear}).window(), 31'104'000s);  // 12 × 30 days
  EXPECT_EQ(RateLimitItem({10, 2, kMinute}).window(), 120s);
  EXPECT_EQ(RateLimitItem({10, 2, kMinute}).to_string(), "10 per 2 minute");
}

TEST(HttpRateLimitSyntax, StrategiesAreNamedAsFlaskLimiterNamesThem) {
  EXPECT_EQ(*parse_rate_limit_strategy("fixed-window"), RateLimitStrategy::kFixedWindow);
  EXPECT_EQ(*parse_rate_limit_strategy("moving-window"), RateLimitStrategy::kMovingWindow);
  EXPECT_EQ(to_string(RateLimitStrategy::kMovingWindow), "moving-window");
  for (std::string_view unsupported : {"fixed-window-elastic-expiry", "sliding-window", ""}) {
    absl::StatusOr<RateLimitStrategy> strategy = parse_rate_limit_strategy(unsupported);
    ASSERT_FALSE(strategy.ok()) << unsupported;
    EXPECT_NE(std::string(strategy.status().message()).find(unsupported), std::string::npos);
  }
}

// ---- A route's limits ------------------------------------------------------------------------

TEST(HttpRateLimitRoute, EvaluatesInOrderOfGranularityStableAmongEquals) {
  const RouteLimits seed = route_or_die("api_orders", "1000 per hour; 100 per minute");
  ASSERT_EQ(seed.limits().size(), 2u);
  EXPECT_EQ(seed.limits()[0], RateLimitItem({100, 1, kMinute}));
  EXPECT_EQ(seed.limits()[1], RateLimitItem({1000, 1, kHour}));
  EXPECT_EQ(seed.key_suffix(0), "/100/1/minute");
  EXPECT_EQ(seed.key_suffix(1), "/1000/1/hour");

  // limits compares granularities, not window lengths: 120 seconds goes before 1 minute.
  const RouteLimits mixed = route_or_die("r", "10 per minute; 100 per 120 seconds; 5 per second");
  EXPECT_EQ(mixed.limits()[0], RateLimitItem({100, 120, kSecond}));
  EXPECT_EQ(mixed.limits()[1], RateLimitItem({5, 1, kSecond}));
  EXPECT_EQ(mixed.limits()[2], RateLimitItem({10, 1, kMinute}));
}

TEST(HttpRateLimitRoute, RefusesDuplicatesTooManyLimitsAndAnEmptyScope) {
  EXPECT_NE(RouteLimits::create("r", "10/minute; 10 per 1 minute")
                .status()
                .message()
                .find("10 per 1 minute appears twice"),
            absl::string_view::npos);
  EXPECT_TRUE(RouteLimits::create("r", "10/minute; 10 per 2 minutes").ok());
  EXPECT_NE(RouteLimits::create("r",
                                "1/second;2/second;3/second;4/second;5/second;6/second;"
                                "7/second;8/second;9/second")
                .status()
                .message()
                .find("9 limits, at most 8"),
            absl::string_view::npos);
  EXPECT_FALSE(RouteLimits::create("", "10/minute").ok());
  EXPECT_FALSE(RouteLimits::create("r", "10 per fortnight").ok());
}

// ---- Strategies: worked sequences --------------------------------------------------------------

void expect_steps(RateLimitStrategy strategy, std::string_view limits,
                  const std::vector<test::Step>& steps) {
  MemoryRateLimitStorage storage;
  test::expect_steps(storage, strategy, limits, steps);
}

TEST(HttpRateLimitFixedWindow,
     TheHundredthRequestOfAMinutePassesTheHundredAndFirstWaitsForTheWindow) {
  std::vector<test::Step> steps;
  // The window starts at the first hit (kT0) and ends at kT0 + 60 s = 1'700'000'060.25:
  // X-RateLimit-Reset = int(1'700'000'060.25 + 1) = 1'700'000'061. Retry-After is rounded up
  // to reach it: 60.75 s → 61 (flask-limiter would truncate to 60).
  for (uint64_t i = 1; i <= 100; ++i)
    steps.push_back({0s, kAllowed, 100, 100 - i, 1'700'000'061, 61});
  steps.push_back({30s, kRefused, 100, 0, 1'700'000'061, 31});       // 30.75 s to go
  steps.push_back({60s - 1us, kRefused, 100, 0, 1'700'000'061, 1});  // still the first window
  steps.push_back({60s, kAllowed, 100, 99, 1'700'000'121, 61});      // a new window
  expect_steps(RateLimitStrategy::kFixedWindow, "100 per minute", steps);
}

TEST(HttpRateLimitMovingWindow, TheHundredAndFirstRequestWaitsUntilTheOldestHitLeavesTheWindow) {
  std::vector<test::Step> steps;
  // A hit every 0.5 s: 100 hits by kT0 + 49.5 s. The window's reset is its oldest hit + 60 s.
  for (int i = 0; i < 100; ++i) {
    steps.push_back(
        {i * 500ms, kAllowed, 100, static_cast<uint64_t>(99 - i), 1'700'000'061, 61 - i / 2});
  }
  steps.push_back({50s, kRefused, 100, 0, 1'700'000'061, 11});  // 1'700'000'061 - 1'700'000'050.25
  // limits keeps hits with time >= now - 60 s: at kT0 + 60 s the hit of kT0 still counts.
  steps.push_back({60s, kRefused, 100, 0, 1'700'000'061, 1});
  // One µs later it has left: 99 hits (kT0 + 0.5 .. 49.5 s) and this one; the oldest is now
  // kT0 + 0.5 s, reset int(1'700'000'060.75 + 1).
  steps.push_back({60s + 1us, kAllowed, 100, 0, 1'700'000'061, 1});
  steps.push_back({60s + 200ms, kRefused, 100, 0, 1'700'000'061, 1});
  steps.push_back({60s + 500ms, kRefused, 100, 0, 1'700'000'061, 1});
  steps.push_back({60s + 501ms, kAllowed, 100, 0, 1'700'000'062, 2});
  expect_steps(RateLimitStrategy::kMovingWindow, "100 per minute", steps);
}

TEST(HttpRateLimitMovingWindow, KeepsOnlyAcceptedHits) {
  // The refusal at 0.5 s is not kept: at 1.05 s the window (0.05 .. 1.05 s) holds only 0.1 s.
  // Reset is the oldest hit + 1 s: int(1'700'000'001.25 + 1), then int(1'700'000'001.35 + 1).
  expect_steps(RateLimitStrategy::kMovingWindow, "2 per second",
               {{0s, kAllowed, 2, 1, 1'700'000'002, 2},
                {100ms, kAllowed, 2, 0, 1'700'000'002, 2},
                {500ms, kRefused, 2, 0, 1'700'000'002, 2},
                {1050ms, kAllowed, 2, 0, 1'700'000'002, 1}});
}

TEST(HttpRateLimitFixedWindow, StartsAtItsFirstHitNotOnTheClocksSecond) {
  // The first window is kT0 .. kT0 + 1 s; the next starts with the hit at 1.05 s and ends at
  // 2.05 s: X-RateLimit-Reset int(1'700'000'002.30 + 1).
  expect_steps(RateLimitStrategy::kFixedWindow, "2 per second",
               {{0s, kAllowed, 2, 1, 1'700'000'002, 2},
                {100ms, kAllowed, 2, 0, 1'700'000'002, 2},
                {500ms, kRefused, 2, 0, 1'700'000'002, 2},
                {1050ms, kAllowed, 2, 1, 1'700'000'003, 2}});
}

// ---- Several limits on one route -------------------------------------------------------------

TEST(HttpRateLimitSeveralLimits, StopAtTheFirstRefusalAndReportTheRefusingLimitElseTheFirst) {
  // "2 per minute; 3 per hour", fixed windows: the minute is hit first.
  expect_steps(
      RateLimitStrategy::kFixedWindow, "3 per hour; 2 per minute",
      {
          {0s, kAllowed, 2, 1, 1'700'000'061, 61},  // headers: the minute, the first evaluated
          {1s, kAllowed, 2, 0, 1'700'000'061, 60},
          // Refused by the minute; the hour is not hit (else it would refuse at 61 s).
          {2s, kRefused, 2, 0, 1'700'000'061, 59},
          // A new minute (until kT0 + 121 s); the hour reaches 3 of 3.
          {61s, kAllowed, 2, 1, 1'700'000'122, 61},
          // Refused by the hour: its numbers; its window ends kT0 + 3600 s. The minute counted it.
          {62s, kRefused, 3, 0, 1'700'003'601, 3'539},
          // So the minute is at 3 of 2 now and refuses first.
          {63s, kRefused, 2, 0, 1'700'000'122, 59},
      });
}

TEST(HttpRateLimitSeveralLimits, MovingWindowsStopAtTheFirstRefusalToo) {
  expect_steps(RateLimitStrategy::kMovingWindow, "3 per hour; 2 per minute",
               {
                   {0s, kAllowed, 2, 1, 1'700'000'061, 61},
                   {1s, kAllowed, 2, 0, 1'700'000'061, 60},
                   {2s, kRefused, 2, 0, 1'700'000'061, 59},      // the hour is not hit
                   {61s, kAllowed, 2, 0, 1'700'000'062, 1},      // minute: 1 s and 61 s
                   {62s, kRefused, 3, 0, 1'700'003'601, 3'539},  // hour: 0, 1, 61 s
                   {63s, kRefused, 2, 0, 1'700'000'122, 59},     // minute: 61 s and 62 s
               });
}

// ---- The limiter
// ---------------------------------------------------------------------------------

TEST(HttpRateLimiter, CountsEachClientAndEachRouteSeparately) {
  ManualClock clock;
  MemoryRateLimitStorage storage;
  RateLimiter limiter(storage, {RateLimitStrategy::kFixedWindow, ""}, clock);
  // The default limits on two routes, as flask-limiter applies them: per route.
  const RouteLimits orders = route_or_die("api_orders", "1 per minute");
  const RouteLimits positions = route_or_die("api_positions", "1 per minute");
  EXPECT_TRUE(check_now(limiter, "10.0.0.7", orders)->allowed);
  EXPECT_FALSE(check_now(limiter, "10.0.0.7", orders)->allowed);
  EXPECT_TRUE(check_now(limiter, "10.0.0.8", orders)->allowed);
  EXPECT_TRUE(check_now(limiter, "10.0.0.7", positions)->allowed);
  // Another prefix is another set of counters on the same storage.
  RateLimiter other_app(storage, {RateLimitStrategy::kFixedWindow, "other"}, clock);
  EXPECT_TRUE(check_now(other_app, "10.0.0.7", orders)->allowed);
}

TEST(HttpRateLimiter, RefusesAnEmptyClientKeyWithoutCounting) {
  MemoryRateLimitStorage storage;
  RateLimiter limiter(storage, {});
  const RouteLimits route = route_or_die("api_orders", "1 per minute");
  absl::StatusOr<RateLimitDecision> decision = check_now(limiter, "", route);
  EXPECT_EQ(decision.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(storage.window_count(), 0u);
}

// A storage that records what it is asked and completes when the test says so.
class RecordingStorage final : public RateLimitStorage {
 public:
  void evaluate(const RateLimitRequest& request, RateLimitStorageCompletion done) override {
    strategy = request.strategy;
    subject = std::string(request.subject);
    now = request.now;
    keys.clear();
    for (const RateLimitWindow& window : request.windows) {
      keys.emplace_back(window.key);
      amounts.push_back(window.amount);
      lengths.push_back(window.length);
    }
    pending = std::move(done);
  }

  RateLimitStrategy strategy{};
  std::string subject;
  RateLimitTime now;
  std::vector<std::string> keys;
  std::vector<uint64_t> amounts;
  std::vector<std::chrono::microseconds> lengths;
  RateLimitStorageCompletion pending;
};

TEST(HttpRateLimiter, NamesKeysAsFlaskLimiterDoesAndSendsAllWindowsInOneCall) {
  ManualClock clock;
  RecordingStorage storage;
  RateLimiter limiter(storage, {RateLimitStrategy::kMovingWindow, ""}, clock);
  const RouteLimits route = route_or_die("api_orders", "1000 per hour; 100 per minute");
  limiter.check("10.0.0.7", route, [](absl::StatusOr<RateLimitDecision>) {});
  EXPECT_EQ(storage.strategy, RateLimitStrategy::kMovingWindow);
  EXPECT_EQ(storage.subject, "LIMITER/10.0.0.7/api_orders");
  EXPECT_EQ(storage.keys, (std::vector<std::string>{"LIMITER/10.0.0.7/api_orders/100/1/minute",
                                                    "LIMITER/10.0.0.7/api_orders/1000/1/hour"}));
  EXPECT_EQ(storage.amounts, (std::vector<uint64_t>{100, 1000}));
  EXPECT_EQ(storage.lengths, (std::vector<std::chrono::microseconds>{60s, 3'600s}));
  EXPECT_EQ(storage.now, kT0);

  RateLimiter prefixed(storage, {RateLimitStrategy::kFixedWindow, "edge"}, clock);
  prefixed.check("trader-1", route, [](absl::StatusOr<RateLimitDecision>) {});
  EXPECT_EQ(storage.keys[0], "LIMITER/edge/trader-1/api_orders/100/1/minute");
}

TEST(HttpRateLimiter, PassesTheStoragesErrorToTheCaller) {
  RecordingStorage storage;
  RateLimiter limiter(storage, {});
  const RouteLimits route = route_or_die("api_trade", "10 per minute");
  std::optional<absl::Status> status;
  limiter.check("10.0.0.7", route,
                [&](absl::StatusOr<RateLimitDecision> decision) { status = decision.status(); });
  ASSERT_FALSE(status.has_value());  // not before the storage answers
  storage.pending(absl::UnavailableError("redis 127.0.0.1:6379: connection refused"));
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(status->code(), absl::StatusCode::kUnavailable);
}

TEST(HttpRateLimiter, CompletesOnTheStoragesThreadWithTheNumbersOfTheRequestsTime) {
  ManualClock clock;
  RecordingStorage storage;
  RateLimiter limiter(storage, {}, clock);
  const RouteLimits route = route_or_die("api_trade", "10 per minute");
  std::optional<absl::StatusOr<RateLimitDecision>> result;
  std::thread::id completed_on;
  limiter.check("10.0.0.7", route, [&](absl::StatusOr<RateLimitDecision> decision) {
    result = std::move(decision);
    completed_on = std::this_thread::get_id();
  });
  clock.advance(5s);  // the answer arrives later; Retry-After is from the request's time
  RateLimitOutcome outcome;
  outcome.evaluated = 1;
  outcome.refused = 0;
  outcome.reset = kT0 + 20s;
  std::thread storage_thread([&] { storage.pending(outcome); });
  const std::thread::id storage_thread_id = storage_thread.get_id();
  storage_thread.join();
  ASSERT_TRUE(result.has_value() && result->ok());
  EXPECT_EQ(completed_on, storage_thread_id);
  EXPECT_FALSE((*result)->allowed);
  EXPECT_EQ((*result)->reset_epoch_seconds, 1'700'000'021);
  EXPECT_EQ((*result)->retry_after_seconds, 21);  // 1'700'000'021 - 1'700'000'000.25, rounded up
}

// ---- Concurrency: several threads never over-admit ----------------------------------------------

class HttpRateLimitConcurrency : public ::testing::TestWithParam<RateLimitStrategy> {};

TEST_P(HttpRateLimitConcurrency, ThreadsHittingOneClientAdmitExactlyTheLimit) {
  ManualClock clock;  // still: every hit falls in the same windows
  MemoryRateLimitStorage storage;
  RateLimiter limiter(storage, {GetParam(), ""}, clock);
  const RouteLimits route = route_or_die("api_orders", "1000 per hour; 300 per minute");
  constexpr int kThreads = 4;
  constexpr int kHitsPerThread = 5'000;
  std::atomic<int> allowed{0};
  std::atomic<int> refused_by_minute{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kHitsPerThread; ++i) {
        absl::StatusOr<RateLimitDecision> decision = check_now(limiter, "10.0.0.7", route);
        if (decision.ok() && decision->allowed) allowed.fetch_add(1);
        if (decision.ok() && !decision->allowed && decision->limit == 300) {
          refused_by_minute.fetch_add(1);
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(allowed.load(), 300);
  EXPECT_EQ(refused_by_minute.load(), kThreads * kHitsPerThread - 300);
}

TEST_P(HttpRateLimitConcurrency, ThreadsHittingManyClientsAdmitExactlyTheLimitOfEach) {
  ManualClock clock;
  MemoryRateLimitStorage storage;
  RateLimiter limiter(storage, {GetParam(), ""}, clock);
  const RouteLimits route = route_or_die("api_orders", "20 per minute");
  constexpr int kThreads = 4;
  constexpr int kClients = 200;
  std::vector<std::atomic<int>> allowed(kClients);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 30; ++round) {
        for (int c = 0; c < kClients; ++c) {
          const int client = (c + t * 7) % kClients;  // the threads meet on every client
          absl::StatusOr<RateLimitDecision> decision =
              check_now(limiter, "10.1.0." + std::to_string(client), route);
          if (decision.ok() && decision->allowed) allowed[client].fetch_add(1);
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (int c = 0; c < kClients; ++c) EXPECT_EQ(allowed[c].load(), 20) << "client " << c;
}

INSTANTIATE_TEST_SUITE_P(Strategies, HttpRateLimitConcurrency,
                         ::testing::Values(RateLimitStrategy::kFixedWindow,
                                           RateLimitStrategy::kMovingWindow),
                         [](const auto& info) {
                           return info.param == RateLimitStrategy::kFixedWindow ? "Fixed"
                                                                                : "Moving";
                         });

// ---- Bounded memory
// ------------------------------------------------------------------------------

class HttpRateLimitMemory : public ::testing::TestWithParam<RateLimitStrategy> {};

TEST_P(HttpRateLimitMemory, ExpiredWindowsAreReclaimedAndLiveOnesKept) {
  ManualClock clock;
  MemoryRateLimitStorage storage;
  RateLimiter limiter(storage, {GetParam(), ""}, clock);
  const RouteLimits route = route_or_die("api_orders", "5 per second");
  for (int c = 0; c < 10'000; ++c) {
    ASSERT_TRUE(check_now(limiter, "client-" + std::to_string(c), route)->allowed);
  }
  // 10,000 live windows: the sweeps on insertion found nothing to remove.
  EXPECT_EQ(storage.window_count(), 10'000u);
  EXPECT_EQ(storage.reclaim_expired(kT0 + 1s - 1us), 0u);
  EXPECT_EQ(check_now(limiter, "client-42", route)->remaining, 3u);  // its count was kept

  // A fixed window ends at kT0 + 1 s; a moving one when its newest hit is older than 1 s.
  EXPECT_EQ(storage.reclaim_expired(kT0 + 1s + 1us), 10'000u);
  EXPECT_EQ(storage.window_count(), 0u);
}

TEST_P(HttpRateLimitMemory, StaysBoundedWhileNewClientsKeepArriving) {
  ManualClock clock;
  MemoryRateLimitStorage storage;
  RateLimiter limiter(storage, {GetParam(), ""}, clock);
  const RouteLimits route = route_or_die("api_orders", "5 per second");
  std::size_t most = 0;
  for (int round = 0; round < 20; ++round) {
    clock.advance(2s);  // the previous round's windows have all expired
    for (int c = 0; c < 1'000; ++c) {
      const std::string client = "r" + std::to_string(round) + "-" + std::to_string(c);
      ASSERT_TRUE(check_now(limiter, client, route)->allowed);
    }
    most = std::max(most, storage.window_count());
  }
  // 20,000 windows were created. A shard's map sweeps when it reaches twice what its last sweep
  // left live, and at least 64: it never holds more than max(64, 2 × live), so the storage holds
  // at most 64 shards × 64 + 2 × 1,000 live windows.
  EXPECT_LE(most, 64u * 64u + 2u * 1'000u);
  EXPECT_GE(storage.window_count(), 1'000u);  // the live round
  EXPECT_EQ(check_now(limiter, "r19-7", route)->remaining, 3u);
}

INSTANTIATE_TEST_SUITE_P(Strategies, HttpRateLimitMemory,
                         ::testing::Values(RateLimitStrategy::kFixedWindow,
                                           RateLimitStrategy::kMovingWindow),
                         [](const auto& info) {
                           return info.param == RateLimitStrategy::kFixedWindow ? "Fixed"
                                                                                : "Moving";
                         });

}  // namespace
}  // namespace qt::http
