// Exact decimal numbers for Capital.com's JSON and the engine's fixed point (PriceUnits /
// SizeUnits = value * 10^decimals in an int64). No allocation, noexcept.
//
// parse_fixed_point() reads the text of a JSON number digit by digit, so "2300.1" at 2 decimals
// is exactly 230010. Digits beyond the requested decimals are rounded half away from zero on the
// first dropped digit: "1.234567" at 5 decimals → 123457, "-1.234565" → -123457, "0.004" at 2 → 0.
//
// Decimal is a number exactly as the broker wrote it — mantissa * 10^-scale — the type of every
// price, size and amount of the trading messages (messages.hpp). parse_decimal() keeps every
// digit of the text (up to 18 after the point, 18 significant digits in all); format_decimal()
// writes the shortest exact text back ("1.08975", "0.3", "-25"). Between a Decimal and the engine's
// fixed point: Decimal::from_fixed_point() (exact) and to_fixed_point() (exact when the scale
// allows, else rounded as parse_fixed_point rounds).
//
// fixed_point_from_double() is for values that already went through a double (the market-data
// DTOs): it prints the shortest text that reads back to the same double (std::to_chars) and parses
// that. A decimal with at most 15 significant digits survives text → double → shortest text
// unchanged.
#pragma once

#include <charconv>
#include <cstdint>
#include <iosfwd>
#include <limits>
#include <string>
#include <string_view>

#include "common/json_writer.hpp"

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

// ---- Decimal ----------------------------------------------------------------------------------

inline constexpr int kMaxDecimalScale = 18;
inline constexpr std::size_t kMaxDecimalChars = kMaxDecimalTextChars;

struct Decimal {
  int64_t mantissa = 0;
  int8_t scale = 0;  // 0..kMaxDecimalScale; the value is mantissa * 10^-scale

  constexpr Decimal() = default;
  // Explicit, so that a bare number never becomes a Decimal by accident (is 5 a mantissa?).
  constexpr explicit Decimal(int64_t m, int s) noexcept
      : mantissa(m), scale(static_cast<int8_t>(s)) {}

  // The engine's fixed point as a Decimal: (108975, 5) → 1.08975. Exact.
  static constexpr Decimal from_fixed_point(int64_t units, int decimals) noexcept {
    return Decimal(units, decimals).normalized();
  }

  // value * 10^decimals into `out` (decimals in [0, 18]); digits beyond `decimals` are rounded
  // half away from zero. kOverflow when the result does not fit in int64.
  constexpr DecimalStatus to_fixed_point(int decimals, int64_t& out) const noexcept {
    if (decimals >= scale) {
      const uint64_t factor = decimal_detail::kPow10[decimals - scale];
      __int128 wide = static_cast<__int128>(mantissa) * static_cast<__int128>(factor);
      if (wide > std::numeric_limits<int64_t>::max() ||
          wide < -static_cast<__int128>(std::numeric_limits<int64_t>::max())) {
        return DecimalStatus::kOverflow;
      }
      out = static_cast<int64_t>(wide);
      return DecimalStatus::kOk;
    }
    const int64_t divisor = static_cast<int64_t>(decimal_detail::kPow10[scale - decimals]);
    const int64_t quotient = mantissa / divisor;
    const int64_t remainder = mantissa % divisor;
    const bool round_away = 2 * (remainder < 0 ? -remainder : remainder) >= divisor;
    out = quotient + (round_away ? (mantissa < 0 ? -1 : 1) : 0);
    return DecimalStatus::kOk;
  }

  // Lowest terms: no trailing zero after the point (2300.10 → 2300.1, 1.0 → 1).
  constexpr Decimal normalized() const noexcept {
    Decimal out = *this;
    while (out.scale > 0 && out.mantissa % 10 == 0) {
      out.mantissa /= 10;
      --out.scale;
    }
    return out;
  }

  constexpr Decimal operator-() const noexcept { return Decimal(-mantissa, scale); }
  // By value: 2300.1 == 2300.10.
  friend constexpr bool operator==(Decimal a, Decimal b) noexcept {
    const int common = a.scale > b.scale ? a.scale : b.scale;
    return static_cast<__int128>(a.mantissa) * decimal_detail::kPow10[common - a.scale] ==
           static_cast<__int128>(b.mantissa) * decimal_detail::kPow10[common - b.scale];
  }
};

// The JSON number `text` as a Decimal, every digit kept: "1.08975" → {108975, 5}, "2.5e-3" →
// {25, 4}, "1e3" → {1000, 0}. A number with more than 18 decimals or 18 significant digits is
// rounded (half away from zero) to the most digits that fit. kSyntax when not a JSON number,
// kOverflow when its integer part does not fit in int64.
constexpr DecimalStatus parse_decimal(std::string_view text, Decimal& out) noexcept {
  using namespace decimal_detail;
  // The scale that keeps every digit: digits after the point, minus the exponent.
  int64_t fraction_digits = 0;
  int64_t exponent = 0;
  std::size_t i = text.find('.');
  if (i != std::string_view::npos) {
    for (++i; i < text.size() && is_digit(text[i]); ++i) ++fraction_digits;
  }
  const std::size_t e = text.find_first_of("eE");
  if (e != std::string_view::npos) {
    std::size_t k = e + 1;
    const bool negative = k < text.size() && text[k] == '-';
    if (k < text.size() && (text[k] == '-' || text[k] == '+')) ++k;
    for (; k < text.size() && is_digit(text[k]) && exponent < kExponentClamp; ++k) {
      exponent = exponent * 10 + (text[k] - '0');
    }
    if (negative) exponent = -exponent;
  }
  int64_t scale = fraction_digits - exponent;
  scale = scale < 0 ? 0 : scale > kMaxDecimalScale ? kMaxDecimalScale : scale;
  for (;; --scale) {
    int64_t mantissa = 0;
    const DecimalStatus status = parse_fixed_point_general(text, static_cast<int>(scale), mantissa);
    if (status == DecimalStatus::kOk) {
      out = Decimal(mantissa, static_cast<int>(scale)).normalized();
      return status;
    }
    if (status != DecimalStatus::kOverflow || scale == 0) return status;
  }
}

// Writes the shortest exact text of `value` ("1.08975", "-0.3", "25") at `out`, which must have
// room for kMaxDecimalChars; returns the end. Any scale in [0, 18] is accepted, normalised or not.
constexpr char* format_decimal(Decimal value, char* out) noexcept {
  return write_decimal(value.mantissa, value.scale, out);
}

// Text of `value` for logs and messages (allocates).
std::string to_string(Decimal value);
std::ostream& operator<<(std::ostream& out, Decimal value);

namespace decimal_literals {
// 1.08975_dec, 25_dec: a Decimal from a numeric literal's exact text (tests, constants).
// A literal that is not a JSON number (hex, digit separators) is a compile error in constant
// evaluation.
consteval Decimal operator""_dec(const char* text) {
  Decimal out;
  if (parse_decimal(text, out) != DecimalStatus::kOk) throw "not a decimal number";
  return out;
}
}  // namespace decimal_literals

}  // namespace qt::capital
