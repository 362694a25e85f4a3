// JsonWriter: a small streaming JSON writer for the simulator's responses.
//
// Appends to one std::string; inserts commas itself. Prices are written from fixed-point units
// (`decimal`) so that 2300.12 prints as 2300.12, never 2300.1199999. Not a hot path: it
// allocates as the string grows.
#pragma once

#include <fmt/format.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace qt::sim {

class JsonWriter {
 public:
  JsonWriter& begin_object() { return open('{'); }
  JsonWriter& end_object() { return close('}'); }
  JsonWriter& begin_array() { return open('['); }
  JsonWriter& end_array() { return close(']'); }

  // Object member name; the next value call writes its value.
  JsonWriter& key(std::string_view name) {
    comma();
    quoted(name);
    out_ += ':';
    after_key_ = true;
    return *this;
  }

  JsonWriter& value(std::string_view text) {
    comma();
    quoted(text);
    return *this;
  }
  JsonWriter& value(const char* text) { return value(std::string_view(text)); }
  JsonWriter& value(const std::string& text) { return value(std::string_view(text)); }
  JsonWriter& value(bool flag) { return raw(flag ? "true" : "false"); }
  JsonWriter& value(int number) { return raw(fmt::format("{}", number)); }
  JsonWriter& value(int64_t number) { return raw(fmt::format("{}", number)); }
  JsonWriter& value(uint64_t number) { return raw(fmt::format("{}", number)); }
  JsonWriter& value(double number) { return raw(fmt::format("{}", number)); }
  JsonWriter& null() { return raw("null"); }

  // A fixed-point number: units * 10^-decimals, trailing zeros trimmed (24.400 -> 24.4).
  JsonWriter& decimal(int64_t units, int decimals) { return raw(format_decimal(units, decimals)); }

  // A value already serialised as JSON.
  JsonWriter& raw(std::string_view json) {
    comma();
    out_ += json;
    return *this;
  }

  template <typename T>
  JsonWriter& member(std::string_view name, const T& v) {
    key(name);
    return value(v);
  }

  const std::string& str() const { return out_; }
  std::string take() { return std::move(out_); }

  static std::string format_decimal(int64_t units, int decimals) {
    if (decimals <= 0) return fmt::format("{}", units);
    const bool negative = units < 0;
    uint64_t magnitude =
        negative ? static_cast<uint64_t>(-(units + 1)) + 1 : static_cast<uint64_t>(units);
    uint64_t scale = 1;
    for (int i = 0; i < decimals; ++i) scale *= 10;
    std::string fraction = fmt::format("{:0{}}", magnitude % scale, decimals);
    while (!fraction.empty() && fraction.back() == '0') fraction.pop_back();
    std::string text = fmt::format("{}{}", negative ? "-" : "", magnitude / scale);
    if (!fraction.empty()) text += "." + fraction;
    return text;
  }

 private:
  JsonWriter& open(char bracket) {
    comma();
    out_ += bracket;
    first_.push_back(true);
    return *this;
  }
  JsonWriter& close(char bracket) {
    out_ += bracket;
    first_.pop_back();
    return *this;
  }
  void comma() {
    if (after_key_) {
      after_key_ = false;
      return;
    }
    if (first_.empty()) return;
    if (!first_.back()) out_ += ',';
    first_.back() = false;
  }
  void quoted(std::string_view text) {
    out_ += '"';
    for (const char c : text) {
      switch (c) {
        case '"': out_ += "\\\""; break;
        case '\\': out_ += "\\\\"; break;
        case '\n': out_ += "\\n"; break;
        case '\r': out_ += "\\r"; break;
        case '\t': out_ += "\\t"; break;
        default:
          if (static_cast<unsigned char>(c) < 0x20) {
            out_ += fmt::format("\\u{:04x}", static_cast<int>(c));
          } else {
            out_ += c;
          }
      }
    }
    out_ += '"';
  }

  std::string out_;
  std::vector<bool> first_;
  bool after_key_ = false;
};

// {"errorCode":"<code>"}: the broker's error body.
inline std::string error_body(std::string_view code) {
  JsonWriter w;
  w.begin_object().member("errorCode", code).end_object();
  return w.take();
}

}  // namespace qt::sim
