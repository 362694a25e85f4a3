// The common JSON writer: RFC 8259 escaping (checked by reading the text back with simdjson),
// exact fixed-point decimals, shortest round-trip doubles and the writer's commas and nesting.
#include "common/json_writer.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <simdjson.h>

#include <cmath>
#include <limits>
#include <string>

namespace qt {
namespace {

std::string reparsed_string(const std::string& json) {
  simdjson::dom::parser parser;
  std::string_view text;
  EXPECT_EQ(parser.parse(json).get_string().get(text), simdjson::SUCCESS) << json;
  return std::string(text);
}

TEST(JsonWriterEscaping, ShortEscapesForTheNamedCharacters) {
  EXPECT_EQ(json_quoted("a\"b\\c\b\f\n\r\t"), R"("a\"b\\c\b\f\n\r\t")");
  EXPECT_EQ(json_quoted(""), R"("")");
  EXPECT_EQ(json_quoted("/"), R"("/")");  // solidus needs no escape
}

TEST(JsonWriterEscaping, OtherControlCharactersAsUnicodeEscapes) {
  EXPECT_EQ(json_quoted(std::string_view("\x00\x01\x1f", 3)), R"("\u0000\u0001\u001f")");
  EXPECT_EQ(json_quoted("\x7f"), "\"\x7f\"");  // DEL is not a control character in JSON
}

TEST(JsonWriterEscaping, Utf8PassesThroughUnchanged) {
  EXPECT_EQ(json_quoted("€ 2300,12 – Zürich"), "\"€ 2300,12 – Zürich\"");
}

TEST(JsonWriterEscaping, EveryAsciiCharacterReadsBackAsItself) {
  std::string all;
  for (int c = 0; c < 128; ++c) all.push_back(static_cast<char>(c));
  all += "tail € after";
  EXPECT_EQ(reparsed_string(json_quoted(all)), all);
}

TEST(JsonWriterEscaping, WritesIntoAnFmtMemoryBufferTheSameText) {
  const std::string_view text("line\none \"q\" \x02", 14);
  fmt::memory_buffer buffer;
  append_json_string(buffer, text);
  EXPECT_EQ(fmt::to_string(buffer), json_quoted(text));
}

TEST(JsonWriterDecimal, ExactAndTrimmed) {
  EXPECT_EQ(format_decimal(230012, 2), "2300.12");
  EXPECT_EQ(format_decimal(24400, 3), "24.4");
  EXPECT_EQ(format_decimal(100, 2), "1");
  EXPECT_EQ(format_decimal(-5, 2), "-0.05");
  EXPECT_EQ(format_decimal(-100, 2), "-1");
  EXPECT_EQ(format_decimal(0, 2), "0");
  EXPECT_EQ(format_decimal(123, 5), "0.00123");
  EXPECT_EQ(format_decimal(108975, 5), "1.08975");
  EXPECT_EQ(format_decimal(7, 0), "7");
  EXPECT_EQ(format_decimal(1, 20), "0.00000000000000000001");
}

TEST(JsonWriterDecimal, WholeInt64Range) {
  EXPECT_EQ(format_decimal(std::numeric_limits<int64_t>::max(), 2), "92233720368547758.07");
  EXPECT_EQ(format_decimal(std::numeric_limits<int64_t>::min(), 2), "-92233720368547758.08");
  EXPECT_EQ(format_decimal(std::numeric_limits<int64_t>::min(), 0), "-9223372036854775808");
}

TEST(JsonWriterNumber, ShortestRoundTripInPlainNotation) {
  JsonWriter json;
  json.begin_array().number(2300.1).number(0.00001).number(100.0).number(-0.23);
  json.number(std::nan("")).number(std::numeric_limits<double>::infinity()).end_array();
  EXPECT_EQ(json.text(), "[2300.1,0.00001,100,-0.23,null,null]");
}

TEST(JsonWriter, CommasNestingAndMemberTypes) {
  JsonWriter w;
  w.begin_object().member("a", "x\"y").member("n", 3).member("f", 0.5).member("b", true);
  w.key("list").begin_array().integer(1).boolean(false).null().decimal(2440, 2).end_array();
  w.key("raw").raw(R"({"k":[]})").key("empty").begin_object().end_object();
  w.member("s", std::string("t")).end_object();
  EXPECT_EQ(w.text(), R"({"a":"x\"y","n":3,"f":0.5,"b":true,"list":[1,false,null,24.4],)"
                      R"("raw":{"k":[]},"empty":{},"s":"t"})");
}

}  // namespace
}  // namespace qt
