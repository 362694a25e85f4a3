// What happened to a request sent to the broker, as far as the client can know: the three states
// that make "never re-send an order blindly" explicit (https_connection.hpp says which transport
// events lead to each; trading_api.hpp what the venue does with them).
#pragma once

#include <cstdint>
#include <string_view>

namespace qt::capital {

// kAnswered: the broker's word (accepted or refused). kNotSent: nothing reached the broker, the
// request had no effect. kOutcomeUnknown: it may or may not have been executed; reconcile, never
// re-send.
enum class RequestOutcome : uint8_t { kAnswered, kNotSent, kOutcomeUnknown };

constexpr std::string_view to_string(RequestOutcome outcome) {
  switch (outcome) {
    case RequestOutcome::kAnswered: return "answered";
    case RequestOutcome::kNotSent: return "not sent";
    case RequestOutcome::kOutcomeUnknown: return "outcome unknown";
  }
  return "?";
}

}  // namespace qt::capital
