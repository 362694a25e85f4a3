// JsonWriter: builds one compact JSON text into a std::string. Used by every to_json() of the
// protocol layer; the simulator may use it directly for ad-hoc bodies.
//
// Strings are escaped per RFC 8259 (quote, backslash, control characters; UTF-8 passes through).
// Doubles are written as the shortest text that reads back to the same double (std::to_chars):
// 2300.1 → 2300.1, 100.0 → 100, 1e-7 → 1e-07; NaN and infinities (not JSON) are written as null.
// Not thread-safe; allocates (not for the hot path).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace qt::capital {

class JsonWriter {
 public:
  JsonWriter& begin_object();
  JsonWriter& end_object();
  JsonWriter& begin_array();
  JsonWriter& end_array();
  JsonWriter& key(std::string_view name);

  JsonWriter& string(std::string_view text);
  JsonWriter& number(double value);
  JsonWriter& integer(int64_t value);
  // A number already written as JSON text (e.g. an exact decimal); the caller vouches for it.
  JsonWriter& number_text(std::string_view json_number);
  JsonWriter& boolean(bool value);
  JsonWriter& null();

  const std::string& text() const { return out_; }
  std::string take() { return std::move(out_); }

 private:
  void before_value();

  std::string out_;
  std::vector<bool> first_in_scope_;  // one per open object/array
  bool after_key_ = false;
};

// Appends `text` as a quoted, escaped JSON string.
void append_json_string(std::string& out, std::string_view text);
// Appends the shortest round-trip text of `value` (null for NaN and infinities).
void append_json_number(std::string& out, double value);

}  // namespace qt::capital
