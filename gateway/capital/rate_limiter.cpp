#include "gateway/capital/rate_limiter.hpp"

#include <algorithm>
#include <thread>

#include "absl/status/status.h"
#include "fmt/format.h"

namespace qt::capital {
namespace {

using std::chrono::duration_cast;
using std::chrono::milliseconds;

class SteadyClock final : public ClientClock {
 public:
  time_point now() override { return std::chrono::steady_clock::now(); }
  void sleep_until(time_point when) override { std::this_thread::sleep_until(when); }
};

std::string per_window(int limit, milliseconds span) {
  if (span.count() % 3'600'000 == 0)
    return fmt::format("{} per {} h", limit, span.count() / 3'600'000);
  if (span.count() % 1000 == 0) return fmt::format("{} per {} s", limit, span.count() / 1000);
  return fmt::format("{} per {} ms", limit, span.count());
}

}  // namespace

std::string_view to_string(RequestClass request_class) {
  switch (request_class) {
    case RequestClass::kGeneral: return "general";
    case RequestClass::kOrder: return "order";
    case RequestClass::kLogin: return "login";
  }
  return "?";
}

ClientClock& ClientClock::steady() {
  static SteadyClock clock;
  return clock;
}

std::string describe_duration(std::chrono::nanoseconds d) {
  const int64_t ms = duration_cast<milliseconds>(d).count();
  if (ms < 1000) return fmt::format("{} ms", ms);
  if (ms < 60'000) return fmt::format("{:.1f} s", static_cast<double>(ms) / 1000.0);
  return fmt::format("{} min {} s", ms / 60'000, (ms % 60'000) / 1000);
}

ClientClock::time_point RateLimiter::Window::earliest(ClientClock::time_point now) const {
  ClientClock::time_point at = now;
  if (!starts.empty()) at = std::max(at, starts.back());  // FIFO: never before a reservation
  if (starts.size() >= limit) at = std::max(at, starts.front() + span);
  return at;
}

void RateLimiter::Window::record(ClientClock::time_point when) {
  starts.push_back(when);  // full: the oldest start drops out
}

RateLimiter::RateLimiter(const RateLimitConfig& config, ClientClock& clock)
    : config_(config), clock_(clock) {
  const auto margin = duration_cast<duration>(config.safety_margin);
  all_.name = "all requests (" + per_window(config.requests_per_second, milliseconds(1000)) + ")";
  all_.limit = static_cast<std::size_t>(std::max(1, config.requests_per_second));
  all_.span = duration_cast<duration>(std::chrono::seconds(1)) + margin;
  all_.starts.set_capacity(all_.limit);

  orders_.name = "order requests (" + per_window(1, config.order_spacing) + ")";
  orders_.limit = 1;
  orders_.span = duration_cast<duration>(config.order_spacing) + margin;
  orders_.starts.set_capacity(1);

  logins_.name = "logins (" + per_window(1, config.login_spacing) + ")";
  logins_.limit = 1;
  logins_.span = duration_cast<duration>(config.login_spacing) + margin;
  logins_.starts.set_capacity(1);

  if (config.orders_per_hour > 0) {
    orders_hourly_.emplace();
    orders_hourly_->name =
        "demo order requests (" + per_window(config.orders_per_hour, milliseconds(3'600'000)) + ")";
    orders_hourly_->limit = static_cast<std::size_t>(config.orders_per_hour);
    orders_hourly_->span = duration_cast<duration>(std::chrono::hours(1)) + margin;
    orders_hourly_->starts.set_capacity(orders_hourly_->limit);
  }
  all_backoff_.name = "backoff after HTTP 429 (all requests)";
  order_backoff_.name = "backoff after HTTP 429 (order requests)";
  login_backoff_.name = "backoff after HTTP 429 (logins)";
}

absl::StatusOr<RateLimiter::duration> RateLimiter::acquire(RequestClass request_class) {
  return acquire(request_class, duration_cast<duration>(config_.max_wait));
}

absl::StatusOr<RateLimiter::duration> RateLimiter::acquire(RequestClass request_class,
                                                           duration max_wait) {
  ClientClock::time_point start;
  ClientClock::time_point slot;
  {
    std::lock_guard lock(mutex_);
    start = clock_.now();
    // The windows and backoffs that apply, and the instant at which all of them allow it.
    Window* windows[3] = {&all_, nullptr, nullptr};
    const Backoff* backoffs[2] = {&all_backoff_, nullptr};
    if (request_class == RequestClass::kOrder) {
      windows[1] = &orders_;
      if (orders_hourly_) windows[2] = &*orders_hourly_;
      backoffs[1] = &order_backoff_;
    } else if (request_class == RequestClass::kLogin) {
      windows[1] = &logins_;
      backoffs[1] = &login_backoff_;
    }
    slot = start;
    std::string_view binding;
    for (const Window* w : windows) {
      if (w == nullptr) continue;
      const ClientClock::time_point at = w->earliest(start);
      if (at > slot) {
        slot = at;
        binding = w->name;
      }
    }
    for (const Backoff* b : backoffs) {
      if (b != nullptr && b->until > slot) {
        slot = b->until;
        binding = b->name;
      }
    }
    if (slot - start > max_wait) {
      ++refused_;
      return absl::ResourceExhaustedError(fmt::format(
          "client-side rate limit: {}: next {} request slot in {}, beyond the {} wait allowed",
          binding, to_string(request_class), describe_duration(slot - start),
          describe_duration(max_wait)));
    }
    for (Window* w : windows) {
      if (w != nullptr) w->record(slot);
    }
    ++granted_;
  }
  if (slot > start) clock_.sleep_until(slot);
  return slot - start;
}

RateLimiter::Backoff& RateLimiter::backoff_for(RequestClass request_class) {
  switch (request_class) {
    case RequestClass::kOrder: return order_backoff_;
    case RequestClass::kLogin: return login_backoff_;
    case RequestClass::kGeneral: break;
  }
  return all_backoff_;
}

void RateLimiter::on_rate_limited(RequestClass request_class, std::optional<duration> retry_after) {
  std::lock_guard lock(mutex_);
  ++server_429s_;
  Backoff& backoff = backoff_for(request_class);
  backoff.consecutive = std::min(backoff.consecutive + 1, 30);
  duration window = duration_cast<duration>(config_.backoff_after_429);
  for (int i = 1; i < backoff.consecutive && window < config_.max_backoff_after_429; ++i) {
    window *= 2;
  }
  window = std::min(window, duration_cast<duration>(config_.max_backoff_after_429));
  if (retry_after && *retry_after > window) window = *retry_after;
  backoff.until = std::max(backoff.until, clock_.now() + window);
}

void RateLimiter::on_answer(RequestClass request_class) {
  std::lock_guard lock(mutex_);
  backoff_for(request_class).consecutive = 0;
}

uint64_t RateLimiter::granted() const {
  std::lock_guard lock(mutex_);
  return granted_;
}

uint64_t RateLimiter::refused() const {
  std::lock_guard lock(mutex_);
  return refused_;
}

uint64_t RateLimiter::server_429s() const {
  std::lock_guard lock(mutex_);
  return server_429s_;
}

}  // namespace qt::capital
