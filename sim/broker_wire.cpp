// Error and success responses, the broker's clock and date format; see broker_wire.hpp.
#include "sim/broker_wire.hpp"

#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <ctime>

#include "common/json_writer.hpp"

namespace qt::sim {

int64_t epoch_ms_now() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string format_time(int64_t epoch_ms, int offset_hours, bool with_ms) {
  const int64_t shifted = epoch_ms + static_cast<int64_t>(offset_hours) * 3'600'000;
  const std::time_t seconds = static_cast<std::time_t>(shifted / 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  if (!with_ms) {
    return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}", tm.tm_year + 1900, tm.tm_mon + 1,
                       tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
  }
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, shifted % 1000);
}

std::optional<int64_t> parse_time(const std::string& text) {
  std::tm tm{};
  int ms = 0;
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  const int n = std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d.%3d", &year, &month, &day, &hour,
                            &minute, &second, &ms);
  if (n < 6 || month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 ||
      second > 60) {
    return std::nullopt;
  }
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  return static_cast<int64_t>(timegm(&tm)) * 1000 + (n == 7 ? ms : 0);
}

std::string error_body(std::string_view code) {
  JsonWriter w;
  w.begin_object().member("errorCode", code).end_object();
  return w.take();
}

BrokerResponse error(int status, std::string_view code) {
  BrokerResponse r;
  r.status = status;
  r.body = error_body(code);
  return r;
}

BrokerResponse json_ok(std::string body) {
  BrokerResponse r;
  r.body = std::move(body);
  return r;
}

}  // namespace qt::sim
