// Specification of decimal text → fixed point and of Decimal (gateway/capital/protocol/
// decimal.hpp): exact, rounded half away from zero beyond the requested decimals, strict JSON
// number grammar, overflow detected; a Decimal keeps the text's digits and writes them back.
// Checked against a slow string-based reference on random prices.
#include "gateway/capital/protocol/decimal.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <random>
#include <string>

namespace qt::capital {
namespace {

using namespace decimal_literals;

int64_t fixed(std::string_view text, int decimals) {
  int64_t out = -999;
  EXPECT_EQ(parse_fixed_point(text, decimals, out), DecimalStatus::kOk) << text;
  return out;
}

DecimalStatus status_of(std::string_view text, int decimals) {
  int64_t out = 0;
  return parse_fixed_point(text, decimals, out);
}

TEST(DecimalToFixed, ExactAtTheInstrumentsDecimals) {
  EXPECT_EQ(fixed("2300.1", 2), 230010);
  EXPECT_EQ(fixed("1.08543", 5), 108543);
  EXPECT_EQ(fixed("93.87", 2), 9387);
  EXPECT_EQ(fixed("93.9", 2), 9390);
  EXPECT_EQ(fixed("4976.0", 2), 497600);
  EXPECT_EQ(fixed("24.203", 3), 24203);
  EXPECT_EQ(fixed("0", 5), 0);
  EXPECT_EQ(fixed("-0.0", 2), 0);
  EXPECT_EQ(fixed("-37.63", 2), -3763);  // WTI went below zero in April 2020
  EXPECT_EQ(fixed("1660297190627", 0), 1660297190627);
  EXPECT_EQ(fixed("25", 3), 25000);
  EXPECT_EQ(fixed("12345678.87654321", 8), 1234567887654321);  // 8-digit SWAR chunks
  EXPECT_EQ(status_of("1234567a", 0), DecimalStatus::kSyntax);
  EXPECT_EQ(status_of("12345678.1234567a", 8), DecimalStatus::kSyntax);
}

TEST(DecimalToFixed, ExtraDecimalsRoundHalfAwayFromZero) {
  EXPECT_EQ(fixed("1.085435", 5), 108544);  // exactly half → away from zero
  EXPECT_EQ(fixed("-1.085435", 5), -108544);
  EXPECT_EQ(fixed("1.0854349999", 5), 108543);
  EXPECT_EQ(fixed("1.08543500001", 5), 108544);
  EXPECT_EQ(fixed("0.005", 2), 1);
  EXPECT_EQ(fixed("-0.005", 2), -1);
  EXPECT_EQ(fixed("0.0049", 2), 0);
  EXPECT_EQ(fixed("0.0004", 2), 0);
  EXPECT_EQ(fixed("2300.149", 2), 230015);
  EXPECT_EQ(fixed("2300.999", 2), 230100);  // carry into the integer part
  EXPECT_EQ(fixed("99.995", 2), 10000);
}

TEST(DecimalToFixed, ExponentsAreApplied) {
  EXPECT_EQ(fixed("2.3001e3", 2), 230010);
  EXPECT_EQ(fixed("2.3001E+3", 2), 230010);
  EXPECT_EQ(fixed("1e-2", 2), 1);
  EXPECT_EQ(fixed("5e-3", 2), 1);
  EXPECT_EQ(fixed("4.9e-3", 2), 0);
  EXPECT_EQ(fixed("1e-05", 5), 1);
  EXPECT_EQ(fixed("1e-100000", 2), 0);
  EXPECT_EQ(fixed("0e100000", 2), 0);
  EXPECT_EQ(fixed("123e-1", 0), 12);
}

TEST(DecimalToFixed, RejectsAnythingButAJsonNumber) {
  for (const char* bad :
       {"",        "-",  "01", "1.",  ".5",       "1e",   "1e+", "+1",  "1.2.3", "null", "true",
        "\"1.5\"", "1 ", " 1", "NaN", "Infinity", "0x10", "1,5", "--1", "1e5.5", "{",    "[1]"}) {
    EXPECT_EQ(status_of(bad, 2), DecimalStatus::kSyntax) << "'" << bad << "'";
  }
}

TEST(DecimalToFixed, DetectsInt64Overflow) {
  EXPECT_EQ(fixed("9223372036854775807", 0), INT64_MAX);
  EXPECT_EQ(fixed("-9223372036854775807", 0), -INT64_MAX);
  EXPECT_EQ(status_of("9223372036854775808", 0), DecimalStatus::kOverflow);
  EXPECT_EQ(status_of("92233720368547758.08", 2), DecimalStatus::kOverflow);
  EXPECT_EQ(status_of("9223372036854775807.5", 0), DecimalStatus::kOverflow);  // rounds past max
  EXPECT_EQ(status_of("1e19", 0), DecimalStatus::kOverflow);
  EXPECT_EQ(status_of("1e100000", 0), DecimalStatus::kOverflow);
  EXPECT_EQ(status_of("100000000000", 9), DecimalStatus::kOverflow);
}

TEST(DecimalToFixed, DoubleThroughShortestTextIsExact) {
  int64_t out = 0;
  ASSERT_EQ(fixed_point_from_double(24.203, 3, out), DecimalStatus::kOk);
  EXPECT_EQ(out, 24203);
  ASSERT_EQ(fixed_point_from_double(1.08543, 5, out), DecimalStatus::kOk);
  EXPECT_EQ(out, 108543);
  ASSERT_EQ(fixed_point_from_double(0.1, 1, out), DecimalStatus::kOk);
  EXPECT_EQ(out, 1);
  EXPECT_EQ(fixed_point_from_double(std::nan(""), 2, out), DecimalStatus::kSyntax);
}

// Why the quote path never multiplies a double: 1.005 is stored as 1.00499999999999989...,
// so llround(1.005 * 100) is 100, while the text "1.005" rounds half away from zero to 101.
TEST(DecimalToFixed, FloatingPointWouldRoundHalfCasesTheWrongWay) {
  EXPECT_EQ(std::llround(1.005 * 100), 100);
  EXPECT_EQ(fixed("1.005", 2), 101);
}

Decimal decimal(std::string_view text) {
  Decimal out(-999, 0);
  EXPECT_EQ(parse_decimal(text, out), DecimalStatus::kOk) << text;
  return out;
}

std::string text_of(Decimal value) {
  char buffer[kMaxDecimalChars];
  return std::string(buffer, format_decimal(value, buffer));
}

TEST(Decimal, ParsingKeepsEveryDigitOfTheText) {
  EXPECT_EQ(decimal("1.08975").mantissa, 108975);
  EXPECT_EQ(decimal("1.08975").scale, 5);
  EXPECT_EQ(decimal("0.30000000000000004").mantissa, 30000000000000004);  // not 0.3
  EXPECT_EQ(decimal("0.30000000000000004").scale, 17);
  EXPECT_EQ(decimal("2300.10").scale, 1);  // lowest terms: 2300.1
  EXPECT_EQ(decimal("2.5e-3"), Decimal(25, 4));
  EXPECT_EQ(decimal("1e3"), Decimal(1000, 0));
  EXPECT_EQ(decimal("-0.0"), Decimal(0, 0));
  EXPECT_EQ(decimal("-37.63"), Decimal(-3763, 2));
  EXPECT_EQ(decimal("9223372036854775807"), Decimal(INT64_MAX, 0));
}

TEST(Decimal, MoreThanEighteenDigitsAreRoundedToTheDigitsThatFit) {
  EXPECT_EQ(decimal("0.1234567890123456789"), Decimal(123456789012345679, 18));
  EXPECT_EQ(decimal("123456789012.123456789"), Decimal(1234567890121234568, 7));
  Decimal out;
  EXPECT_EQ(parse_decimal("92233720368547758070", out), DecimalStatus::kOverflow);
  for (const char* bad : {"", "-", "01", "1.", ".5", "1e", "+1", "null", "\"1.5\"", "1 ", "NaN"}) {
    EXPECT_EQ(parse_decimal(bad, out), DecimalStatus::kSyntax) << "'" << bad << "'";
  }
}

TEST(Decimal, FormattingWritesTheShortestExactText) {
  EXPECT_EQ(text_of(Decimal(108975, 5)), "1.08975");
  EXPECT_EQ(text_of(Decimal(3, 1)), "0.3");
  EXPECT_EQ(text_of(Decimal(30, 2)), "0.3");
  EXPECT_EQ(text_of(Decimal(-5, 2)), "-0.05");
  EXPECT_EQ(text_of(Decimal(25, 0)), "25");
  EXPECT_EQ(text_of(Decimal(0, 4)), "0");
  EXPECT_EQ(text_of(Decimal(230010, 2)), "2300.1");
  EXPECT_EQ(text_of(Decimal(1, 18)), "0.000000000000000001");
  EXPECT_EQ(text_of(Decimal(INT64_MIN, 18)), "-9.223372036854775808");
  EXPECT_EQ(to_string(Decimal(-108975, 5)), "-1.08975");
}

TEST(Decimal, ComparesByValue) {
  EXPECT_EQ(Decimal(23001, 1), Decimal(230010, 2));
  EXPECT_NE(Decimal(23001, 1), Decimal(23001, 2));
  EXPECT_EQ(2300.1_dec, Decimal(23001, 1));
  EXPECT_EQ(-0.05_dec, Decimal(-5, 2));
}

TEST(Decimal, ToAndFromTheEnginesFixedPoint) {
  EXPECT_EQ(Decimal::from_fixed_point(108975, 5), 1.08975_dec);
  EXPECT_EQ(Decimal::from_fixed_point(30, 2), 0.3_dec);
  int64_t units = 0;
  ASSERT_EQ((1.08975_dec).to_fixed_point(5, units), DecimalStatus::kOk);
  EXPECT_EQ(units, 108975);
  ASSERT_EQ((1.08975_dec).to_fixed_point(7, units), DecimalStatus::kOk);
  EXPECT_EQ(units, 10897500);
  ASSERT_EQ((1.08975_dec).to_fixed_point(4, units), DecimalStatus::kOk);
  EXPECT_EQ(units, 10898);  // half away from zero, as parse_fixed_point
  ASSERT_EQ((-1.08975_dec).to_fixed_point(4, units), DecimalStatus::kOk);
  EXPECT_EQ(units, -10898);
  ASSERT_EQ((1.08974_dec).to_fixed_point(4, units), DecimalStatus::kOk);
  EXPECT_EQ(units, 10897);
  EXPECT_EQ(Decimal(INT64_MAX, 0).to_fixed_point(1, units), DecimalStatus::kOverflow);
}

// Slow and obviously correct: pad the fraction, cut at `decimals`, look at the next digit.
int64_t reference_fixed(const std::string& text, int decimals) {
  const bool negative = text[0] == '-';
  const std::string body = negative ? text.substr(1) : text;
  const std::size_t dot = body.find('.');
  std::string whole = dot == std::string::npos ? body : body.substr(0, dot);
  std::string fraction = dot == std::string::npos ? "" : body.substr(dot + 1);
  fraction.resize(static_cast<std::size_t>(decimals) + 1, '0');
  const int64_t kept = std::stoll(whole + fraction.substr(0, static_cast<std::size_t>(decimals)));
  const int64_t rounded = kept + (fraction[static_cast<std::size_t>(decimals)] >= '5' ? 1 : 0);
  return negative ? -rounded : rounded;
}

TEST(DecimalToFixed, AgreesWithTheReferenceOnRandomDecimals) {
  std::mt19937_64 rng(20240501);
  for (int i = 0; i < 200'000; ++i) {
    const int integer_digits = static_cast<int>(rng() % 7);   // 0 → "0.xxx"
    const int fraction_digits = static_cast<int>(rng() % 8);  // up to 7
    const int decimals = static_cast<int>(rng() % 7);         // instrument scale 0..6
    std::string text = (rng() % 10 == 0) ? "-" : "";
    if (integer_digits == 0) {
      text += '0';
    } else {
      text += static_cast<char>('1' + rng() % 9);
      for (int d = 1; d < integer_digits; ++d) text += static_cast<char>('0' + rng() % 10);
    }
    if (fraction_digits > 0) {
      text += '.';
      for (int d = 0; d < fraction_digits; ++d) text += static_cast<char>('0' + rng() % 10);
    }
    ASSERT_EQ(fixed(text, decimals), reference_fixed(text, decimals)) << text << " @" << decimals;

    // As a Decimal: the same digits back as text (in lowest terms), and the same fixed point.
    const Decimal exact = decimal(text);
    std::string lowest = text;
    if (lowest.find('.') != std::string::npos) {
      lowest.erase(lowest.find_last_not_of('0') + 1);
      if (lowest.back() == '.') lowest.pop_back();
    }
    if (lowest == "-0") lowest = "0";
    ASSERT_EQ(text_of(exact), lowest) << text;
    int64_t units = 0;
    ASSERT_EQ(exact.to_fixed_point(decimals, units), DecimalStatus::kOk);
    ASSERT_EQ(units, reference_fixed(text, decimals)) << text << " @" << decimals;

    // Through a double (the protocol DTO path): the shortest text of the double is the same
    // decimal (≤ 15 significant digits survive text → double → text), rounding included.
    if (integer_digits + fraction_digits > 15) continue;
    int64_t via_double = 0;
    ASSERT_EQ(fixed_point_from_double(std::strtod(text.c_str(), nullptr), decimals, via_double),
              DecimalStatus::kOk);
    ASSERT_EQ(via_double, reference_fixed(text, decimals)) << text << " @" << decimals;
  }
}

}  // namespace
}  // namespace qt::capital
