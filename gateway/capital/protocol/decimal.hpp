// Exact conversion between the decimal numbers of Capital.com's JSON and the engine's fixed
// point (PriceUnits / SizeUnits = value * 10^decimals in an int64).
//
// parse_fixed_point() reads the text of a JSON number digit by digit — no floating point, no
// allocation, noexcept — so "2300.1" at 2 decimals is exactly 230010. Digits beyond the
// requested decimals are rounded half away from zero on the first dropped digit:
// "1.234567" at 5 decimals → 123457, "-1.234565" → -123457, "0.004" at 2 → 0.
//
// fixed_point_from_double() is for values that already went through a double (the DTOs of the
// protocol layer): it prints the shortest text that reads back to the same double (std::to_chars)
// and parses that. A decimal with at most 15 significant digits survives text → double →
// shortest text unchanged, so the conversion is exact for every price and size the venue sends.
#pragma once

#include <charconv>
#include <cstdint>
#include <limits>
#include <string_view>

namespace qt::capital {

enum class DecimalStatus : uint8_t {
  kOk = 0,
  kSyntax,    // not a JSON number (RFC 8259: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?)
  kOverflow,  // |value| * 10^decimals does not fit in int64
};

constexpr std::string_view to_string(DecimalStatus s) {
  switch (s) {
    case DecimalStatus::kOk: return "ok";
    case DecimalStatus::kSyntax: return "not a JSON number";
    case DecimalStatus::kOverflow: return "out of the int64 fixed-point range";
  }
  return "?";
}

namespace decimal_detail {
constexpr bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
inline constexpr uint64_t kMaxMagnitude =
    static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
inline constexpr int64_t kExponentClamp = 100'000;  // beyond any int64 scale; keeps math in range

// acc = acc * 10 + digit, false on overflow past kMaxMagnitude.
constexpr bool push_digit(uint64_t& acc, char c) {
  const uint64_t d = static_cast<uint64_t>(c - '0');
  if (acc > (kMaxMagnitude - d) / 10) return false;
  acc = acc * 10 + d;
  return true;
}

inline constexpr uint64_t kPow10[19] = {1ULL,
                                        10ULL,
                                        100ULL,
                                        1'000ULL,
                                        10'000ULL,
                                        100'000ULL,
                                        1'000'000ULL,
                                        10'000'000ULL,
                                        100'000'000ULL,
                                        1'000'000'000ULL,
                                        10'000'000'000ULL,
                                        100'000'000'000ULL,
                                        1'000'000'000'000ULL,
                                        10'000'000'000'000ULL,
                                        100'000'000'000'000ULL,
                                        1'000'000'000'000'000ULL,
                                        10'000'000'000'000'000ULL,
                                        100'000'000'000'000'000ULL,
                                        1'000'000'000'000'000'000ULL};

// True when the 8 bytes of `chunk` (little-endian load) are all ASCII digits.
constexpr bool all_eight_digits(uint64_t chunk) {
  return (chunk & 0xF0F0F0F0F0F0F0F0ULL) == 0x3030303030303030ULL &&
         ((chunk + 0x0606060606060606ULL) & 0xF0F0F0F0F0F0F0F0ULL) == 0x3030303030303030ULL;
}

// The value of 8 ASCII digits loaded little-endian ("12345678" → 12345678), SWAR (the
// same arithmetic as simdjson's parse_eight_digits_unrolled).
constexpr uint64_t eight_digits_value(uint64_t chunk) {
  chunk = (chunk & 0x0F0F0F0F0F0F0F0FULL) * 2561 >> 8;
  chunk = (chunk & 0x00FF00FF00FF00FFULL) * 6553601 >> 16;
  return (chunk & 0x0000FFFF0000FFFFULL) * 42949672960001ULL >> 32;
}

// acc = acc * 10^k + the run of digits at p (advancing p): 8 digits at a time while 8 bytes
// of the text remain, then one at a time.
inline const char* accumulate_digits(const char* p, const char* end, uint64_t& acc) noexcept {
  while (end - p >= 8) {
    uint64_t chunk;
    __builtin_memcpy(&chunk, p, 8);
    if (!all_eight_digits(chunk)) break;
    acc = acc * 100'000'000ULL + eight_digits_value(chunk);
    p += 8;
  }
  while (p != end && is_digit(*p)) acc = acc * 10 + static_cast<uint64_t>(*p++ - '0');
  return p;
}

// The general path: any JSON number, exponent and rounding included.
[[gnu::noinline]] constexpr DecimalStatus parse_fixed_point_general(std::string_view text,
                                                                    int decimals,
                                                                    int64_t& out) noexcept {
  const char* p = text.data();
  const char* const end = p + text.size();
  bool negative = false;
  if (p != end && *p == '-') {
    negative = true;
    ++p;
  }
  if (p == end) return DecimalStatus::kSyntax;
  const char* const int_begin = p;
  if (*p == '0') {
    ++p;
  } else if (*p >= '1' && *p <= '9') {
    while (p != end && is_digit(*p)) ++p;
  } else {
    return DecimalStatus::kSyntax;
  }
  const char* const int_end = p;
  const char* frac_begin = p;
  const char* frac_end = p;
  if (p != end && *p == '.') {
    frac_begin = ++p;
    while (p != end && is_digit(*p)) ++p;
    frac_end = p;
    if (frac_begin == frac_end) return DecimalStatus::kSyntax;
  }
  int64_t exponent = 0;
  if (p != end && (*p == 'e' || *p == 'E')) {
    ++p;
    bool exponent_negative = false;
    if (p != end && (*p == '+' || *p == '-')) {
      exponent_negative = *p == '-';
      ++p;
    }
    if (p == end || !is_digit(*p)) return DecimalStatus::kSyntax;
    while (p != end && is_digit(*p)) {
      if (exponent < kExponentClamp) exponent = exponent * 10 + (*p - '0');
      ++p;
    }
    if (exponent_negative) exponent = -exponent;
  }
  if (p != end) return DecimalStatus::kSyntax;

  // The digits D = int digits ++ frac digits; value = D * 10^(exponent - frac_len), so
  // value * 10^decimals = D * 10^shift. Keep the first `kept` digits of D, round on the next.
  const int64_t int_len = int_end - int_begin;
  const int64_t frac_len = frac_end - frac_begin;
  const int64_t total = int_len + frac_len;
  const int64_t shift = exponent - frac_len + decimals;
  const int64_t kept = shift >= 0 ? total : total + shift;

  uint64_t acc = 0;
  const int64_t kept_int = kept < int_len ? kept : int_len;
  for (int64_t i = 0; i < kept_int; ++i) {
    if (!push_digit(acc, int_begin[i])) return DecimalStatus::kOverflow;
  }
  for (int64_t i = 0; i < kept - int_len; ++i) {
    if (!push_digit(acc, frac_begin[i])) return DecimalStatus::kOverflow;
  }
  if (shift > 0 && acc != 0) {
    for (int64_t i = 0; i < shift; ++i) {
      if (acc > kMaxMagnitude / 10) return DecimalStatus::kOverflow;
      acc *= 10;
    }
  } else if (kept >= 0 && kept < total) {
    const char round_digit = kept < int_len ? int_begin[kept] : frac_begin[kept - int_len];
    if (round_digit >= '5') {
      if (acc == kMaxMagnitude) return DecimalStatus::kOverflow;
      ++acc;
    }
  }
  out = negative ? -static_cast<int64_t>(acc) : static_cast<int64_t>(acc);
  return DecimalStatus::kOk;
}
}  // namespace decimal_detail

// value(text) * 10^decimals, rounded half away from zero. decimals in [0, 18].
// Fast path, one pass: -?digits(.digits)? with at most `decimals` fraction digits and at most
// 18 digits once scaled (every price and size the venue sends); anything else (exponents,
// rounding, overflow checks, syntax errors) goes through the general path.
inline DecimalStatus parse_fixed_point(std::string_view text, int decimals, int64_t& out) noexcept {
  using namespace decimal_detail;
  const char* p = text.data();
  const char* const end = p + text.size();
  const bool negative = p != end && *p == '-';
  if (negative) ++p;
  const char* const first = p;
  uint64_t acc = 0;  // wraps on absurdly long input, but is only used when it cannot have
  p = accumulate_digits(p, end, acc);
  const int64_t int_len = p - first;
  int64_t fraction = 0;
  bool bad_fraction = false;
  if (p != end && *p == '.') {
    const char* const fraction_begin = ++p;
    p = accumulate_digits(p, end, acc);
    fraction = p - fraction_begin;
    bad_fraction = fraction == 0;
  }
  const bool plain = p == end && int_len > 0 && !bad_fraction && !(int_len > 1 && *first == '0') &&
                     fraction <= decimals && int_len + decimals <= 18;
  if (plain) {
    const uint64_t scaled = acc * kPow10[decimals - fraction];
    out = negative ? -static_cast<int64_t>(scaled) : static_cast<int64_t>(scaled);
    return DecimalStatus::kOk;
  }
  return parse_fixed_point_general(text, decimals, out);
}

// Shortest round-trip text of `value` (std::to_chars), then parse_fixed_point. NaN and
// infinities are kSyntax.
inline DecimalStatus fixed_point_from_double(double value, int decimals, int64_t& out) noexcept {
  char buffer[64];
  const auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
  if (ec != std::errc()) return DecimalStatus::kSyntax;
  return parse_fixed_point(std::string_view(buffer, static_cast<std::size_t>(end - buffer)),
                           decimals, out);
}

// Number of digits after the decimal point in the shortest text of `value` (0.1 → 1,
// 0.001 → 3, 25 → 0, 1e-05 → 5); -1 for NaN, infinities and |value| ≥ 1e40. Used to derive a
// size scale from dealing rules.
inline int decimal_places_of(double value) noexcept {
  char buffer[64];
  const auto [end, ec] =
      std::to_chars(buffer, buffer + sizeof buffer, value, std::chars_format::fixed);
  if (ec != std::errc()) return -1;
  const std::string_view text(buffer, static_cast<std::size_t>(end - buffer));
  const std::size_t dot = text.find('.');
  if (text.find_first_of("ni") != std::string_view::npos) return -1;  // nan, inf
  return dot == std::string_view::npos ? 0 : static_cast<int>(text.size() - dot - 1);
}

}  // namespace qt::capital
