// JsonWriter: the project's one JSON writer and string escaper. It builds one compact JSON text
// into a std::string; the protocol layer's to_json(), the simulator's responses and the backup
// manifest all write through it, so escaping and number text are the same everywhere.
//
// Strings are escaped per RFC 8259 (quote, backslash, control characters; UTF-8 passes through).
// Doubles are written as the shortest text that reads back to the same double (std::to_chars):
// 2300.1 → 2300.1, 100.0 → 100, 1e-7 → 1e-07; NaN and infinities (not JSON) are written as null.
// Fixed point is written exactly: decimal(230012, 2) → 2300.12, trailing zeros trimmed.
// Not thread-safe; allocates only as the output string grows (not for the quote path).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace qt {

// What a JSON string does with bytes >= 0x7F: UTF-8 text passes through as it is; raw bytes that
// need not be UTF-8 (a journal's fixed-size fields) are each written as \u00XX, so the output is
// valid JSON whatever they hold.
enum class NonAscii : uint8_t { kAsIs, kEscaped };

class JsonWriter {
 public:
  JsonWriter& begin_object() { return open_scope('{'); }
  JsonWriter& end_object() { return close_scope('}'); }
  JsonWriter& begin_array() { return open_scope('['); }
  JsonWriter& end_array() { return close_scope(']'); }
  JsonWriter& key(std::string_view name);

  JsonWriter& string(std::string_view text, NonAscii non_ascii = NonAscii::kAsIs);
  JsonWriter& number(double value);
  JsonWriter& integer(int64_t value);
  JsonWriter& unsigned_integer(uint64_t value);
  JsonWriter& boolean(bool value);
  JsonWriter& null();
  // units * 10^-decimals as an exact JSON number (see append_decimal).
  JsonWriter& decimal(int64_t units, int decimals);
  // A value that is already JSON text, written as it is.
  JsonWriter& raw(std::string_view json);

  // key(name) then the value, its JSON type chosen by the C++ type: bool, integer, floating
  // point or anything convertible to std::string_view.
  template <typename T>
  JsonWriter& member(std::string_view name, const T& value) {
    key(name);
    if constexpr (std::is_same_v<T, bool>) {
      return boolean(value);
    } else if constexpr (std::is_integral_v<T>) {
      static_assert(std::is_signed_v<T> || sizeof(T) < sizeof(int64_t), "would not fit int64");
      return integer(static_cast<int64_t>(value));
    } else if constexpr (std::is_floating_point_v<T>) {
      return number(static_cast<double>(value));
    } else {
      return string(std::string_view(value));
    }
  }

  const std::string& text() const { return out_; }
  std::string take() { return std::move(out_); }

 private:
  void before_value();
  JsonWriter& open_scope(char bracket);
  JsonWriter& close_scope(char bracket);

  std::string out_;
  std::vector<bool> first_in_scope_;  // one per open object/array
  bool after_key_ = false;
};

// Appends `text` as a quoted, escaped JSON string to `out`: a std::string, an fmt::memory_buffer
// or anything else with push_back(char) and append(const char*, const char*).
template <typename Buffer>
void append_json_string(Buffer& out, std::string_view text, NonAscii non_ascii = NonAscii::kAsIs) {
  constexpr char kHex[] = "0123456789abcdef";
  const auto put = [&out](std::string_view s) { out.append(s.data(), s.data() + s.size()); };
  out.push_back('"');
  std::size_t plain_from = 0;  // start of the run of characters that need no escape
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && c != '"' && c != '\\' && (u < 0x7F || non_ascii == NonAscii::kAsIs)) {
      continue;
    }
    put(text.substr(plain_from, i - plain_from));
    plain_from = i + 1;
    switch (c) {
      case '"': put("\\\""); break;
      case '\\': put("\\\\"); break;
      case '\b': put("\\b"); break;
      case '\f': put("\\f"); break;
      case '\n': put("\\n"); break;
      case '\r': put("\\r"); break;
      case '\t': put("\\t"); break;
      default:
        put("\\u00");
        out.push_back(kHex[u >> 4]);
        out.push_back(kHex[u & 0xF]);
    }
  }
  put(text.substr(plain_from));
  out.push_back('"');
}
// `text` as a quoted, escaped JSON string.
std::string json_quoted(std::string_view text);
// Appends the shortest round-trip text of `value` (null for NaN and infinities).
void append_json_number(std::string& out, double value);
inline constexpr std::size_t kMaxDecimalTextChars = 24;  // "-0.000000000000000001", INT64_MIN

// Writes units * 10^-decimals as the shortest exact decimal text at `out` (room for
// kMaxDecimalTextChars) and returns the end: (108975, 5) → 1.08975, (-30, 2) → -0.3, (25, 0) → 25,
// (100, 2) → 1. decimals in [0, 18]; below 0, `units` unscaled. No floating point, no allocation.
constexpr char* write_decimal(int64_t units, int decimals, char* out) noexcept {
  if (decimals < 0) decimals = 0;
  while (decimals > 0 && units % 10 == 0) {
    units /= 10;
    --decimals;
  }
  if (units < 0) *out++ = '-';
  uint64_t magnitude = units < 0 ? 0 - static_cast<uint64_t>(units) : static_cast<uint64_t>(units);
  char digits[20];
  int count = 0;
  do {
    digits[count++] = static_cast<char>('0' + magnitude % 10);
    magnitude /= 10;
  } while (magnitude != 0);
  if (count <= decimals) {  // 0.000ddd
    *out++ = '0';
    *out++ = '.';
    for (int z = count; z < decimals; ++z) *out++ = '0';
    while (count > 0) *out++ = digits[--count];
    return out;
  }
  while (count > decimals) *out++ = digits[--count];
  if (decimals > 0) {
    *out++ = '.';
    while (count > 0) *out++ = digits[--count];
  }
  return out;
}

// Appends units * 10^-decimals in plain decimal notation with trailing fractional zeros trimmed:
// (230012, 2) → 2300.12, (24400, 3) → 24.4, (-5, 2) → -0.05, (100, 2) → 1. decimals <= 0 writes
// `units` unscaled. No floating point and no allocation beyond the output's growth.
void append_decimal(std::string& out, int64_t units, int decimals);
std::string format_decimal(int64_t units, int decimals);

}  // namespace qt
