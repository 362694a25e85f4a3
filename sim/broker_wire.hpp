// What every resource of the simulated broker uses to answer a request: error and success
// responses and the broker's clock and date format. Internal to sim/ (the broker_*.cpp files).
// Bodies are written with the project's JsonWriter (common/json_writer.hpp) and read with
// JsonBody (sim/json_body.hpp); nothing in sim/ escapes or formats numbers itself.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "sim/broker.hpp"

namespace qt::sim {

int64_t epoch_ms_now();
// "YYYY-MM-DDTHH:MM:SS.mmm" (with_ms) or "YYYY-MM-DDTHH:MM:SS", shifted by offset_hours.
std::string format_time(int64_t epoch_ms, int offset_hours = 0, bool with_ms = true);
// Parses UTC "YYYY-MM-DDTHH:MM:SS" (optionally ".mmm").
std::optional<int64_t> parse_time(const std::string& text);

// The status code with the broker's error body {"errorCode": code}.
BrokerResponse error(int status, std::string_view code);
// 200 with `body`.
BrokerResponse json_ok(std::string body);

}  // namespace qt::sim
