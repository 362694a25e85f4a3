// JsonBody: typed fields, and the 400 that names the offending field.
#include "gateway/http/json_body.hpp"

#include <gtest/gtest.h>

namespace qt::http {
namespace {

constexpr std::string_view kTrade =
    R"({"epic":"CS.D.EURUSD.CFD.IP","direction":"BUY","size": 1.25 ,"type":"LIMIT",)"
    R"("level":1.08975,"client_order_id":"c-1","guaranteed":false,"count":3,"whole":20.0,)"
    R"("stop_level":null})";

TEST(JsonBody, ReadsTypedFields) {
  JsonBody body(kTrade);
  EXPECT_EQ(body.string("epic"), "CS.D.EURUSD.CFD.IP");
  EXPECT_EQ(body.one_of("direction", {"BUY", "SELL"}), 0u);
  EXPECT_EQ(body.number_text("size"), "1.25");
  EXPECT_EQ(body.number_text("level"), "1.08975");
  EXPECT_DOUBLE_EQ(body.number("level"), 1.08975);
  EXPECT_EQ(body.boolean("guaranteed"), false);
  EXPECT_EQ(body.integer("count"), 3);
  EXPECT_EQ(body.integer("whole"), 20);
  EXPECT_EQ(body.optional_number_text("stop_level"), std::nullopt);  // null = absent
  EXPECT_EQ(body.optional_string("time_in_force"), std::nullopt);
  body.reject_unknown_fields({"epic", "direction", "size", "type", "level", "client_order_id",
                              "guaranteed", "count", "whole", "stop_level"});
  EXPECT_TRUE(body.ok()) << body.error_message();
}

struct BadCase {
  std::string_view body;
  std::string_view code;
  std::string_view field;
  std::string_view message;
};

TEST(JsonBody, TheFirstProblemNamesTheField) {
  const BadCase cases[] = {
      {R"({"epic":"X")", "malformed_json", "", ""},
      {R"({"epic":"X"} trailing)", "malformed_json", "", ""},
      {"", "malformed_json", "", ""},
      {R"(["epic"])", "invalid_body", "", "the body must be a JSON object"},
      {R"({"direction":"BUY","size":1})", "missing_field", "epic", "field 'epic' is required"},
      {R"({"epic":null,"direction":"BUY","size":1})", "missing_field", "epic",
       "field 'epic' is required"},
      {R"({"epic":7,"direction":"BUY","size":1})", "invalid_field", "epic",
       "field 'epic' must be a string"},
      {R"({"epic":"X","direction":"buy","size":1})", "invalid_field", "direction",
       "field 'direction' must be one of BUY, SELL"},
      {R"({"epic":"X","direction":"BUY","size":"1"})", "invalid_field", "size",
       "field 'size' must be a number"},
      {R"({"epic":"X","direction":"BUY"})", "missing_field", "size", "field 'size' is required"},
      {R"({"epic":"X","direction":"BUY","size":1,"count":1.5})", "invalid_field", "count",
       "field 'count' must be an integer"},
      {R"({"epic":"X","direction":"BUY","size":1,"sise":1})", "unknown_field", "sise",
       "field 'sise' is not accepted here"},
  };
  for (const BadCase& c : cases) {
    JsonBody body(c.body);
    body.string("epic");
    body.one_of("direction", {"BUY", "SELL"});
    body.number_text("size");
    body.optional_integer("count");
    body.reject_unknown_fields({"epic", "direction", "size", "count"});
    ASSERT_FALSE(body.ok()) << c.body;
    const Response error = body.error();
    EXPECT_EQ(error.status, 400);
    EXPECT_EQ(body.error_field(), c.field) << c.body;
    if (!c.message.empty()) {
      EXPECT_EQ(body.error_message(), c.message) << c.body;
    }
    EXPECT_NE(error.body.find(std::string("\"error\":\"") + std::string(c.code) + "\""),
              std::string::npos)
        << error.body;
    if (!c.field.empty()) {
      EXPECT_NE(error.body.find(std::string("\"field\":\"") + std::string(c.field) + "\""),
                std::string::npos)
          << error.body;
    }
  }
}

TEST(JsonBody, ErrorMessagesNeverEchoValues) {
  JsonBody body(R"({"epic":"secret-value-123"})");
  body.integer("epic");
  ASSERT_FALSE(body.ok());
  EXPECT_EQ(body.error().body.find("secret-value-123"), std::string::npos);
}

TEST(JsonBody, HandlerChecksJoinTheSameError) {
  JsonBody body(R"({"size":-1})");
  const double size = body.number("size");
  if (size <= 0) body.fail("invalid_field", "size", "field 'size' must be positive");
  body.fail("invalid_field", "other", "not kept: the first problem wins");
  EXPECT_EQ(body.error_field(), "size");
}

TEST(JsonBody, SurvivesHostileInput) {
  const std::string deep(100000, '[');
  const std::string inputs[] = {deep,
                                std::string(1, '\0'),
                                "\xff\xfe",
                                R"({"a":"\ud800"})",
                                std::string("{\"a\":1}") + std::string(64, '\0'),
                                R"({"a":1e999999})"};
  for (const std::string& input : inputs) {
    JsonBody body(input);
    body.number_text("a");
    body.string("b");
    (void)body.error();
  }
}

}  // namespace
}  // namespace qt::http
