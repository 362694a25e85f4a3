// Rate limits of the HTTP API as flask-limiter applies them (flask-limiter 3 on the Python
// `limits` library): the limit syntax ("1000 per hour; 100 per minute"), the fixed-window and
// moving-window strategies, the evaluation of a route's limits and the X-RateLimit-* numbers.
// Storage is an asynchronous interface: memory (rate_limit_memory.hpp) completes inline, a Redis
// storage runs the scripts of rate_limit_redis.hpp. tests/http/rate_limit_test.cpp is the
// specification, with the worked numbers.
//
// As flask-limiter does it:
//  - A route's limits are evaluated in order of granularity (second, minute, hour, day, month,
//    year; written order among equals). Each is hit in turn and the first refusal stops: limits
//    before it have counted the request, limits after it have not.
//  - Fixed window: a counter whose window starts at its first hit; refused hits are counted too.
//    Moving window: the times of the accepted hits of the last window; refused hits are not kept.
//  - The headers describe one limit: the refused one, else the first evaluated. Remaining is
//    what is left after this request; Reset is int(reset + 1) in epoch seconds.
//  - Keys are "LIMITER/[prefix/]<client>/<scope>/<amount>/<multiples>/<granularity>": the scope
//    names the route, so the default limits count each route separately, as flask-limiter's do.
// Deliberately different:
//  - Retry-After is rounded up to reach X-RateLimit-Reset; flask-limiter truncates, which can
//    send a client back up to a second before its window reopens. flask-limiter sends it on
//    every response; the issue asks for it on 429s, so the caller decides where it goes.
//  - Refused, where limits accepts something surprising: "10 per 0 minutes" (a window of zero
//    seconds or of one minute, depending on the limits version), the same limit twice, more
//    than kMaxLimitsPerRoute limits, amounts above 10^9, windows above 100 years of 360 days
//    (so that times stay exact in int64 µs and in Lua's doubles), an empty client key (which
//    flask-limiter skips silently, leaving the request unlimited).
//  - Moving-window times are stored non-decreasing (a hit whose clock reads earlier than the
//    newest entry is stored at the newest entry's time), so that expired entries leave from one
//    end: memory holds only the hits of the last window.
//  - A storage error goes to the caller (fail-open or fail-closed is its policy), where
//    flask-limiter would raise or fall back to its in-memory storage.
//
// Threads: everything here may be used from any number of threads at once; a RouteLimits is
// immutable. check() on the memory storage allocates nothing of its own (keys up to ~500 bytes
// in all are built on the stack); on a storage that completes later, one closure per request.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"

namespace qt::http {

// ---- Limit syntax ------------------------------------------------------------------------------

// limits' granularities; a month is 30 days and a year 12 such months.
enum class Granularity : uint8_t { kSecond, kMinute, kHour, kDay, kMonth, kYear };
std::string_view to_string(Granularity granularity);
std::chrono::seconds granularity_length(Granularity granularity);

// `amount` hits per `multiples` × granularity: "10 per 2 minutes" is {10, 2, kMinute}.
struct RateLimitItem {
  uint64_t amount = 0;
  uint32_t multiples = 1;
  Granularity granularity = Granularity::kMinute;

  std::chrono::seconds window() const { return granularity_length(granularity) * multiples; }
  // As limits writes it: "10 per 2 minute".
  std::string to_string() const;
  friend bool operator==(const RateLimitItem&, const RateLimitItem&) = default;
};

inline constexpr uint64_t kMaxRateLimitAmount = 1'000'000'000;
inline constexpr std::chrono::seconds kMaxRateLimitWindow{100LL * 360 * 86'400};
inline constexpr std::size_t kMaxLimitsPerRoute = 8;

// limits.parse_many: limits separated by ';', ',' or '|', each "N per [M] granularity" or
// "N/[M] granularity", case-insensitive, granularity optionally plural, blanks around every
// token. In written order. InvalidArgument names the part that does not parse.
absl::StatusOr<std::vector<RateLimitItem>> parse_rate_limits(std::string_view text);

// ---- Strategy ----------------------------------------------------------------------------------

enum class RateLimitStrategy : uint8_t { kFixedWindow, kMovingWindow };
std::string_view to_string(RateLimitStrategy strategy);  // "fixed-window", "moving-window"
absl::StatusOr<RateLimitStrategy> parse_rate_limit_strategy(std::string_view name);

// ---- The limits of one route -------------------------------------------------------------------

// The limits a route applies, in evaluation order, and the scope naming the route's counters
// (flask-limiter: the endpoint). A route with its own limits (`trade_limits` on POST /api/trade)
// applies only those, as flask-limiter's override_defaults does; every other route applies the
// default limits under its own scope.
class RouteLimits {
 public:
  static absl::StatusOr<RouteLimits> create(std::string scope, std::string_view limits);

  const std::string& scope() const { return scope_; }
  const std::string& text() const { return text_; }
  std::span<const RateLimitItem> limits() const { return limits_; }
  // "/<amount>/<multiples>/<granularity>" of limits()[i], the end of its key.
  std::string_view key_suffix(std::size_t i) const { return key_suffixes_[i]; }

 private:
  RouteLimits() = default;
  std::string scope_;
  std::string text_;
  std::vector<RateLimitItem> limits_;
  std::vector<std::string> key_suffixes_;
};

// ---- Time --------------------------------------------------------------------------------------

// Wall-clock time: X-RateLimit-Reset is epoch seconds, and instances sharing a Redis compare
// each other's times.
using RateLimitTime = std::chrono::time_point<std::chrono::system_clock, std::chrono::microseconds>;

class RateLimitClock {
 public:
  virtual ~RateLimitClock() = default;
  virtual RateLimitTime now() = 0;
  // std::chrono::system_clock.
  static RateLimitClock& system();
};

// ---- Storage -----------------------------------------------------------------------------------

// One window of one request as a storage sees it.
struct RateLimitWindow {
  std::string_view key;  // "LIMITER/[prefix/]<client>/<scope>/<amount>/<multiples>/<granularity>"
  uint64_t amount = 0;
  std::chrono::microseconds length{0};
};

// All windows of one request, evaluated in one storage call.
struct RateLimitRequest {
  RateLimitStrategy strategy = RateLimitStrategy::kFixedWindow;
  // "LIMITER/[prefix/]<client>/<scope>", the start of every window's key.
  std::string_view subject;
  std::span<const RateLimitWindow> windows;  // evaluation order, 1..kMaxLimitsPerRoute
  RateLimitTime now;                         // the caller's clock decides every window
};

// What a storage did with a request, and the numbers of the window the headers report: the
// refused one, else the first.
struct RateLimitOutcome {
  std::size_t evaluated = 0;           // windows hit: all, or up to the refused one
  std::optional<std::size_t> refused;  // index of the window that refused the request
  uint64_t remaining = 0;              // of the reported window, after this request
  RateLimitTime reset;                 // limits' get_window_stats() reset of that window

  std::size_t reported() const { return refused.value_or(0); }
};

using RateLimitStorageCompletion = absl::AnyInvocable<void(absl::StatusOr<RateLimitOutcome>)>;

class RateLimitStorage {
 public:
  virtual ~RateLimitStorage() = default;
  // Evaluates every window of `request` as one atomic step and calls `done` exactly once, inline
  // or later on another thread. The views in `request` are valid during this call only.
  // Unavailable: the storage could not be reached; the hits may or may not have counted.
  virtual void evaluate(const RateLimitRequest& request, RateLimitStorageCompletion done) = 0;

  // A storage that answers without I/O (memory) gives the outcome here, so that check() need not
  // build a completion closure (an allocation); the others answer nullopt and get evaluate().
  virtual std::optional<absl::StatusOr<RateLimitOutcome>> evaluate_inline(const RateLimitRequest&) {
    return std::nullopt;
  }
};

// ---- The limiter -------------------------------------------------------------------------------

struct RateLimitDecision {
  bool allowed = true;
  RateLimitItem reported_limit;     // the limit the numbers below describe
  uint64_t limit = 0;               // X-RateLimit-Limit
  uint64_t remaining = 0;           // X-RateLimit-Remaining
  int64_t reset_epoch_seconds = 0;  // X-RateLimit-Reset
  int64_t retry_after_seconds = 0;  // Retry-After, to send with a 429

  friend bool operator==(const RateLimitDecision&, const RateLimitDecision&) = default;
};

// The decision, or the storage's error: the caller applies its fail-open or fail-closed policy.
using RateLimitCompletion = absl::AnyInvocable<void(absl::StatusOr<RateLimitDecision>)>;

struct RateLimiterOptions {
  RateLimitStrategy strategy = RateLimitStrategy::kFixedWindow;
  std::string key_prefix;  // flask-limiter's RATELIMIT_KEY_PREFIX; none by default
};

class RateLimiter {
 public:
  // `storage` and `clock` outlive the limiter.
  RateLimiter(RateLimitStorage& storage, RateLimiterOptions options,
              RateLimitClock& clock = RateLimitClock::system());

  RateLimiter(const RateLimiter&) = delete;
  RateLimiter& operator=(const RateLimiter&) = delete;

  // Counts one request of `client` (its address or API key name, as the caller decides) on
  // `route`, which outlives the completion. `done` runs inline with the memory storage.
  void check(std::string_view client, const RouteLimits& route, RateLimitCompletion done);

  // The headers' numbers for `outcome` of a request on `route` made at `now`.
  static RateLimitDecision decide(const RouteLimits& route, const RateLimitOutcome& outcome,
                                  RateLimitTime now);

  RateLimitStrategy strategy() const { return options_.strategy; }

 private:
  RateLimitStorage& storage_;
  const RateLimiterOptions options_;
  RateLimitClock& clock_;
};

}  // namespace qt::http
