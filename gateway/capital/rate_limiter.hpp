// Client-side copies of Capital.com's request limits, so that the client never earns a 429:
//
//   window                    applies to                       default (capital-api.md §7)
//   all requests              every request                    10 per 1 s
//   order requests            POST /positions, /workingorders  1 per 100 ms
//   logins                    POST /session                    1 per 1 s
//   demo order requests       POST /positions, /workingorders  1000 per 1 h (demo only)
//
// Each window is a sliding log (the times of the last N requests): a request may start once
// fewer than N requests started within the window before it, for every alignment of the
// window, which is exactly how "N per window" is counted by the party we must please. Each
// window is lengthened by a small safety margin against network jitter.
//
// acquire() reserves the earliest instant at which every window that applies has room, in
// arrival order (FIFO), then sleeps until that instant and reports how long it waited. If the
// instant is further away than the allowed wait, nothing is reserved and the caller gets
// ResourceExhausted with the limit that binds and the wait it would have needed.
//
// A 429 that still arrives (another client on the same account, a limit we do not know)
// closes the request's class for a backoff window: 1 s, doubled per consecutive 429 up to
// 30 s, or the server's Retry-After if longer. A 429 on a general request closes all classes;
// on an order request, orders; on a login, logins. The next non-429 answer resets the doubling.
//
// Thread-safe (one mutex, held only to compute and record a reservation, never while
// sleeping). The clock is injectable so that tests run on virtual time.
#pragma once

#include <boost/circular_buffer.hpp>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "gateway/capital/client_config.hpp"

namespace qt::capital {

// Which of the broker's limits a request counts against.
enum class RequestClass : uint8_t {
  kGeneral,  // everything not below
  kOrder,    // POST /positions, POST /workingorders (new orders only)
  kLogin,    // POST /session
};
std::string_view to_string(RequestClass request_class);

// Time source and sleeper of the rate limiter and of retry backoff.
class ClientClock {
 public:
  using time_point = std::chrono::steady_clock::time_point;
  using duration = std::chrono::steady_clock::duration;

  virtual ~ClientClock() = default;
  virtual time_point now() = 0;
  virtual void sleep_until(time_point when) = 0;
  void sleep_for(duration d) { sleep_until(now() + d); }

  // The process's steady clock with std::this_thread::sleep_until.
  static ClientClock& steady();
};

class RateLimiter {
 public:
  using duration = ClientClock::duration;

  explicit RateLimiter(const RateLimitConfig& config, ClientClock& clock = ClientClock::steady());

  RateLimiter(const RateLimiter&) = delete;
  RateLimiter& operator=(const RateLimiter&) = delete;

  // Waits for a slot of `request_class` for at most `max_wait` (config max_wait when omitted).
  // Returns how long it waited, or ResourceExhausted naming the binding limit.
  absl::StatusOr<duration> acquire(RequestClass request_class);
  absl::StatusOr<duration> acquire(RequestClass request_class, duration max_wait);

  // The broker answered 429 to a request of `request_class`.
  void on_rate_limited(RequestClass request_class, std::optional<duration> retry_after);
  // The broker answered something other than 429.
  void on_answer(RequestClass request_class);

  // Counters, for metrics and tests.
  uint64_t granted() const;
  uint64_t refused() const;
  uint64_t server_429s() const;

 private:
  struct Window {
    std::string name;
    std::size_t limit = 0;
    duration span{};
    // Start times of the last `limit` requests (capacity `limit`, allocated once).
    boost::circular_buffer<ClientClock::time_point> starts;
    ClientClock::time_point earliest(ClientClock::time_point now) const;
    void record(ClientClock::time_point when);
  };
  struct Backoff {
    std::string name;
    ClientClock::time_point until{};
    int consecutive = 0;
  };

  Backoff& backoff_for(RequestClass request_class);

  const RateLimitConfig config_;
  ClientClock& clock_;
  mutable std::mutex mutex_;
  Window all_;
  Window orders_;
  Window logins_;
  std::optional<Window> orders_hourly_;
  Backoff all_backoff_;
  Backoff order_backoff_;
  Backoff login_backoff_;
  uint64_t granted_ = 0;
  uint64_t refused_ = 0;
  uint64_t server_429s_ = 0;
};

// "350 ms", "1.2 s", "12 min 3 s": durations as people read them in reasons and logs.
std::string describe_duration(std::chrono::nanoseconds d);

}  // namespace qt::capital
