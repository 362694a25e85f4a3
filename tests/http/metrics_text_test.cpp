// The text exposition format's pieces (gateway/http/prometheus_text.hpp): escaping as the format
// defines it, numbers as Prometheus's parser reads them, and the name rules.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <limits>
#include <random>
#include <string>

#include "gateway/http/prometheus_text.hpp"

namespace qt::http::metrics {
namespace {

std::string label_value(std::string_view value) {
  std::string out;
  append_escaped_label_value(out, value);
  return out;
}

std::string help(std::string_view text) {
  std::string out;
  append_escaped_help(out, text);
  return out;
}

std::string number(double value) {
  std::string out;
  append_number(out, value);
  return out;
}

TEST(PrometheusText, LabelValuesEscapeBackslashQuoteAndLineFeedOnly) {
  EXPECT_EQ(label_value(R"(C:\path)"), R"(C:\\path)");
  EXPECT_EQ(label_value(R"(say "hi")"), R"(say \"hi\")");
  EXPECT_EQ(label_value("two\nlines"), R"(two\nlines)");
  EXPECT_EQ(label_value("tab\there, ünïcode, {braces}=,"), "tab\there, ünïcode, {braces}=,");
  EXPECT_EQ(label_value(""), "");
}

TEST(PrometheusText, HelpEscapesBackslashAndLineFeedButNotQuotes) {
  EXPECT_EQ(help("a \\ b\n\"c\""), R"(a \\ b\n"c")");
}

TEST(PrometheusText, NumbersAreWrittenAsPrometheusReadsThem) {
  EXPECT_EQ(number(0), "0");
  EXPECT_EQ(number(-0.0), "0");
  EXPECT_EQ(number(1), "1");
  EXPECT_EQ(number(-2), "-2");
  EXPECT_EQ(number(0.005), "0.005");
  EXPECT_EQ(number(2.5), "2.5");
  EXPECT_EQ(number(0.1 + 0.2), "0.30000000000000004");  // every digit a round trip needs
  EXPECT_EQ(number(1e-9), "1e-09");
  EXPECT_EQ(number(1'000'000), "1000000");                    // integral: no exponent
  EXPECT_EQ(number(9007199254740992.0), "9007199254740992");  // 2^53, the last exact integer
  EXPECT_EQ(number(1e20), "1e+20");
  EXPECT_EQ(number(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(number(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(number(std::nan("")), "NaN");
  std::string out;
  append_number(out, std::numeric_limits<uint64_t>::max());
  EXPECT_EQ(out, "18446744073709551615");
}

TEST(PrometheusText, EveryFiniteNumberReadsBackAsTheSameDouble) {
  std::mt19937_64 random(12);
  std::uniform_int_distribution<uint64_t> bits;
  int checked = 0;
  while (checked < 100'000) {
    const double value = std::bit_cast<double>(bits(random));
    if (!std::isfinite(value)) continue;
    ++checked;
    const std::string text = number(value);
    char* end = nullptr;
    const double read_back = std::strtod(text.c_str(), &end);
    ASSERT_EQ(*end, '\0') << text;
    ASSERT_EQ(std::bit_cast<uint64_t>(read_back), std::bit_cast<uint64_t>(value == 0 ? 0.0 : value))
        << text;
  }
}

TEST(PrometheusText, MetricNamesFollowThePrometheusPattern) {
  EXPECT_TRUE(is_valid_metric_name("quanttrading_orders_total"));
  EXPECT_TRUE(is_valid_metric_name("_x"));
  EXPECT_TRUE(is_valid_metric_name("job:requests:rate5m"));  // recording rules' colons
  EXPECT_FALSE(is_valid_metric_name(""));
  EXPECT_FALSE(is_valid_metric_name("1st"));
  EXPECT_FALSE(is_valid_metric_name("http-requests"));
  EXPECT_FALSE(is_valid_metric_name("latency µs"));
}

TEST(PrometheusText, LabelNamesFollowThePrometheusPatternAndAvoidTheReservedPrefix) {
  EXPECT_TRUE(is_valid_label_name("route"));
  EXPECT_TRUE(is_valid_label_name("_private"));
  EXPECT_FALSE(is_valid_label_name("__name__"));
  EXPECT_FALSE(is_valid_label_name("a:b"));
  EXPECT_FALSE(is_valid_label_name("9"));
  EXPECT_FALSE(is_valid_label_name(""));
}

}  // namespace
}  // namespace qt::http::metrics
