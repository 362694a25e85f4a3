// The common JSON writer; see json_writer.hpp.
#include "common/json_writer.hpp"

#include <charconv>
#include <cmath>

namespace qt {

std::string json_quoted(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 2);
  append_json_string(out, text);
  return out;
}

void append_json_number(std::string& out, double value) {
  if (!std::isfinite(value)) {
    out += "null";
    return;
  }
  char buffer[64];
  // Plain notation for the magnitudes of prices and sizes, shortest general form otherwise.
  const double magnitude = std::fabs(value);
  const bool plain = magnitude == 0 || (magnitude >= 1e-6 && magnitude < 1e15);
  const auto result =
      plain ? std::to_chars(buffer, buffer + sizeof buffer, value, std::chars_format::fixed)
            : std::to_chars(buffer, buffer + sizeof buffer, value);
  out.append(buffer, result.ptr);
}

void append_decimal(std::string& out, int64_t units, int decimals) {
  char text[kMaxDecimalTextChars];
  out.append(text, write_decimal(units, decimals, text));
}

std::string format_decimal(int64_t units, int decimals) {
  std::string out;
  append_decimal(out, units, decimals);
  return out;
}

void JsonWriter::before_value() {
  if (after_key_) {
    after_key_ = false;
    return;
  }
  if (!first_in_scope_.empty()) {
    if (!first_in_scope_.back()) out_.push_back(',');
    first_in_scope_.back() = false;
  }
}

JsonWriter& JsonWriter::open_scope(char bracket) {
  before_value();
  out_.push_back(bracket);
  first_in_scope_.push_back(true);
  return *this;
}

JsonWriter& JsonWriter::close_scope(char bracket) {
  out_.push_back(bracket);
  first_in_scope_.pop_back();
  return *this;
}

JsonWriter& JsonWriter::key(std::string_view name) {
  before_value();
  append_json_string(out_, name);
  out_.push_back(':');
  after_key_ = true;
  return *this;
}

JsonWriter& JsonWriter::string(std::string_view text, NonAscii non_ascii) {
  before_value();
  append_json_string(out_, text, non_ascii);
  return *this;
}

JsonWriter& JsonWriter::number(double value) {
  before_value();
  append_json_number(out_, value);
  return *this;
}

JsonWriter& JsonWriter::integer(int64_t value) {
  before_value();
  char buffer[24];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
  out_.append(buffer, result.ptr);
  return *this;
}

JsonWriter& JsonWriter::unsigned_integer(uint64_t value) {
  before_value();
  char buffer[24];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
  out_.append(buffer, result.ptr);
  return *this;
}

JsonWriter& JsonWriter::boolean(bool value) {
  before_value();
  out_ += value ? "true" : "false";
  return *this;
}

JsonWriter& JsonWriter::null() {
  before_value();
  out_ += "null";
  return *this;
}

JsonWriter& JsonWriter::decimal(int64_t units, int decimals) {
  before_value();
  append_decimal(out_, units, decimals);
  return *this;
}

JsonWriter& JsonWriter::raw(std::string_view json) {
  before_value();
  out_ += json;
  return *this;
}

}  // namespace qt
