// The broker's rate limits (capital-api.md): requests per second per user, orders per hour and
// the minimum gap between orders, POST /session per API key; see broker_state.hpp.
#include "sim/broker_state.hpp"

namespace qt::sim {

bool BrokerState::within_limit(std::deque<SteadyClock::time_point>& times,
                               SteadyClock::duration window, int limit,
                               SteadyClock::time_point now) {
  while (!times.empty() && now - times.front() >= window) times.pop_front();
  if (static_cast<int>(times.size()) >= limit) return false;
  times.push_back(now);
  return true;
}

bool BrokerState::allow_request() {
  if (!options.limits.enabled) return true;
  return within_limit(request_times, std::chrono::seconds(1), options.limits.requests_per_second,
                      SteadyClock::now());
}

bool BrokerState::allow_order() {
  if (!options.limits.enabled) return true;
  const auto now = SteadyClock::now();
  if (last_order &&
      now - *last_order < std::chrono::milliseconds(options.limits.order_min_interval_ms)) {
    return false;
  }
  if (!within_limit(order_times, std::chrono::hours(1), options.limits.orders_per_hour, now)) {
    return false;
  }
  last_order = now;
  return true;
}

BrokerResponse BrokerState::too_many() {
  ++stats.rate_limited;
  return error(429, "error.too-many.requests");
}

}  // namespace qt::sim
