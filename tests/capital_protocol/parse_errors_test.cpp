// Specification of the parsers' strictness and tolerance: a missing required field fails with
// the payload kind and the field path; absent/null optional fields, unknown fields, renamed
// fields and open enums are tolerated; malformed or truncated JSON fails without crashing.
#include <gtest/gtest.h>

#include <random>

#include "gateway/capital/protocol.hpp"
#include "tests/capital_protocol/example_files.hpp"

namespace qt::capital {
namespace {

using namespace decimal_literals;

using testing::read_example;

std::string message_of(const absl::Status& s) {
  return std::string(s.message());
}

// Removes the first occurrence of `member` (a complete `"key": value` text) from `json`.
std::string without(std::string json, const std::string& member) {
  const std::size_t at = json.find(member);
  EXPECT_NE(at, std::string::npos) << member;
  json.erase(at, member.size());
  return json;
}

TEST(CapitalParseErrors, MissingRequiredTopLevelFieldIsNamed) {
  auto r = parse_session_create_response(without(read_example("session_create_response.json"),
                                                 "\"currentAccountId\": \"12345678901234567\","));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(message_of(r.status()),
            "Capital.com session response: missing required field 'currentAccountId'");
}

TEST(CapitalParseErrors, MissingRequiredNestedFieldIsNamedWithItsPath) {
  auto details = parse_market_details(
      without(read_example("market_details_silver.json"), "\"marketStatus\": \"TRADEABLE\","));
  EXPECT_EQ(message_of(details.status()),
            "Capital.com market details: missing required field 'snapshot.marketStatus'");

  auto rule = parse_market_details(
      R"({"instrument":{"epic":"X"},"dealingRules":{"minDealSize":{"value":1}},)"
      R"("snapshot":{"marketStatus":"TRADEABLE"}})");
  EXPECT_EQ(message_of(rule.status()),
            "Capital.com market details: missing required field 'dealingRules.minDealSize.unit'");
}

TEST(CapitalParseErrors, MissingFieldInsideAnArrayItemIsNamedWithItsIndex) {
  auto r =
      parse_positions_response(without(read_example("positions_list.json"),
                                       "\"dealId\": \"004d0627-0001-54c4-0000-000080560017\","));
  EXPECT_EQ(message_of(r.status()),
            "Capital.com positions list: missing required field 'positions[1].position.dealId'");
}

TEST(CapitalParseErrors, ConfirmWithoutDealStatusIsRejected) {
  auto r = parse_deal_confirmation(
      without(read_example("confirm_accepted.json"), "\"dealStatus\": \"ACCEPTED\","));
  EXPECT_EQ(message_of(r.status()),
            "Capital.com deal confirmation: missing required field 'dealStatus'");
}

TEST(CapitalParseErrors, EveryRequiredFieldOfARequestIsChecked) {
  EXPECT_EQ(message_of(parse_create_position_request(R"({"epic":"GOLD","size":1})").status()),
            "Capital.com create position request: missing required field 'direction'");
  EXPECT_EQ(message_of(parse_create_working_order_request(
                           R"({"epic":"GOLD","direction":"BUY","size":1,"level":2300})")
                           .status()),
            "Capital.com create working order request: missing required field 'type'");
  EXPECT_EQ(message_of(parse_error_body("{}").status()),
            "Capital.com error body: missing required field 'errorCode'");
  EXPECT_EQ(message_of(parse_ws_request(R"({"destination":"ping","cst":"c"})").status()),
            "Capital.com WS request: missing required field 'securityToken'");
  EXPECT_EQ(message_of(parse_ws_server_message(
                           R"({"status":"OK","destination":"quote","payload":{"epic":"GOLD",)"
                           R"("bid":1,"timestamp":1}})")
                           .status()),
            "Capital.com WS message: missing required field 'payload.ofr'");
}

TEST(CapitalParseErrors, WrongTypesAndUnknownClosedEnumValuesAreRejected) {
  EXPECT_EQ(
      message_of(parse_create_position_request(R"({"epic":"GOLD","direction":"BUY","size":"1"})")
                     .status()),
      "Capital.com create position request: field 'size' must be a number");
  EXPECT_EQ(
      message_of(
          parse_create_position_request(R"({"epic":"GOLD","direction":"HOLD","size":1})").status()),
      "Capital.com create position request: field 'direction' has unexpected value "
      "\"HOLD\"");
  EXPECT_EQ(message_of(parse_server_time_response(R"({"serverTime":1.5})").status()),
            "Capital.com server time: field 'serverTime' must be an integer");
  EXPECT_EQ(message_of(parse_accounts_response(R"({"accounts":{}})").status()),
            "Capital.com accounts list: field 'accounts' must be an array");
  EXPECT_FALSE(parse_ws_request(R"({"destination":"quote","cst":"c","securityToken":"s"})").ok());
  EXPECT_FALSE(parse_ws_server_message(R"({"status":"OK","destination":"nope"})").ok());
}

TEST(CapitalParseErrors, AbsentNullAndUnknownFieldsAreTolerated) {
  auto r = parse_market_details(
      R"({"instrument":{"epic":"X","lotSize":null,"brandNewField":[1,2]},"dealingRules":{},)"
      R"("snapshot":{"marketStatus":"TRADEABLE","bid":null},"extra":{"a":1}})");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_FALSE(r->instrument.lot_size.has_value());
  EXPECT_FALSE(r->snapshot.bid.has_value());
  EXPECT_FALSE(r->dealing_rules.min_deal_size.has_value());
}

TEST(CapitalParseErrors, CurrentAndLegacyFieldNamesAreBothRead) {
  auto current = parse_market_details(
      R"({"instrument":{"epic":"X","guaranteedStopAllowed":true},"dealingRules":{)"
      R"("minGuaranteedStopDistance":{"unit":"PERCENTAGE","value":2}},)"
      R"("snapshot":{"marketStatus":"CLOSED"}})");
  ASSERT_TRUE(current.ok()) << current.status();
  EXPECT_TRUE(current->instrument.guaranteed_stop_allowed);
  EXPECT_EQ(current->dealing_rules.min_guaranteed_stop_distance,
            (DealingRule{RuleUnit::kPercentage, 2_dec}));
  EXPECT_EQ(current->snapshot.market_status, MarketStatus::kClosed);
}

TEST(CapitalParseErrors, UnknownOpenEnumValuesBecomeUnknown) {
  auto r =
      parse_market_search_response(R"({"markets":[{"epic":"X","marketStatus":"SOMETHING_NEW"}]})");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->markets[0].market_status, MarketStatus::kUnknown);
}

TEST(CapitalParseErrors, IntegersWrittenAsDecimalsAndNumericCorrelationIdsAreAccepted) {
  auto time = parse_server_time_response(R"({"serverTime":1714557600123.0})");
  ASSERT_TRUE(time.ok()) << time.status();
  EXPECT_EQ(time->server_time, 1714557600123);
  auto ws = parse_ws_request(R"({"destination":"marketData.subscribe","correlationId":7,)"
                             R"("cst":"c","securityToken":"s","payload":{"epics":["GOLD"]}})");
  ASSERT_TRUE(ws.ok()) << ws.status();
  EXPECT_EQ(ws->correlation_id, "7");
}

TEST(CapitalParseErrors, WsErrorStatusIsAnErrorReplyWhateverTheDestination) {
  auto r = parse_ws_server_message(
      R"({"status":"ERROR","destination":"marketData.subscribe","correlationId":"3",)"
      R"("payload":{"errorCode":"error.invalid.session.token"}})");
  ASSERT_TRUE(r.ok()) << r.status();
  const auto& error = std::get<WsErrorReply>(*r);
  EXPECT_EQ(error.destination, "marketData.subscribe");
  EXPECT_EQ(error.correlation_id, "3");
  EXPECT_EQ(error.error.code, "error.invalid.session.token");
}

TEST(CapitalParseErrors, MalformedJsonIsInvalidArgument) {
  for (const char* bad : {"", "   ", "{", "}", "[]", "null", "42", "\"text\"", "{\"a\":}",
                          "{\"errorCode\":\"x\",}", "{\"errorCode\" \"x\"}", "{'errorCode':'x'}",
                          "{\"errorCode\":\"\xff\xfe\"}", "{\"errorCode\":\"x\"} trailing"}) {
    auto r = parse_error_body(bad);
    EXPECT_FALSE(r.ok()) << "'" << bad << "'";
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
  EXPECT_EQ(message_of(parse_error_body("[]").status()),
            "Capital.com error body: expected a JSON object");
}

TEST(CapitalParseErrors, EveryTruncationOfEveryExampleFailsCleanly) {
  for (const std::string& file : testing::example_json_files()) {
    const std::string json = read_example(file);
    const std::size_t last_brace = json.rfind('}');
    for (std::size_t length = 0; length < last_brace; ++length) {
      const std::string_view prefix(json.data(), length);
      // Any parser must refuse a cut object; use the strictest-looking and the WS ones.
      EXPECT_FALSE(parse_market_details(prefix).ok()) << file << " @" << length;
      EXPECT_FALSE(parse_ws_server_message(prefix).ok()) << file << " @" << length;
      EXPECT_FALSE(parse_positions_response(prefix).ok()) << file << " @" << length;
    }
  }
}

// What must hold for any input, however damaged: the parser returns (ASan/UBSan builds check
// it reads nothing out of bounds), an error is InvalidArgument with a message that says what is
// wrong, the same text always gives the same answer, and a mutation that left the text as it
// was gives exactly the original's value.
template <typename Parse>
void expect_well_behaved(Parse parse, const std::string& json, const std::string& original,
                         const std::string& file, int& parsed, int& refused) {
  const auto first = parse(json);
  const auto again = parse(json);
  ASSERT_EQ(first.ok(), again.ok()) << file;
  if (!first.ok()) {
    ++refused;
    EXPECT_EQ(first.status().code(), absl::StatusCode::kInvalidArgument)
        << file << ": " << first.status();
    EXPECT_FALSE(first.status().message().empty()) << file;
    EXPECT_EQ(first.status(), again.status()) << file;
    return;
  }
  ++parsed;
  EXPECT_TRUE(*first == *again) << file << ": the same text parsed to two values";
  if (json == original) {
    const auto reference = parse(original);
    ASSERT_TRUE(reference.ok()) << file;
    EXPECT_TRUE(*first == *reference) << file;
  }
}

TEST(CapitalParseErrors, RandomMutationsOfEveryExampleAreRefusedCleanlyOrParsedConsistently) {
  std::mt19937_64 rng(7);
  const char alphabet[] = "{}[]\":,.-+eE0123456789 \\nultrfase\x01\xff";
  int parsed = 0;
  int refused = 0;
  for (const std::string& file : testing::example_json_files()) {
    const std::string original = read_example(file);
    for (int i = 0; i < 300; ++i) {
      std::string json = original;
      const int edits = 1 + static_cast<int>(rng() % 4);
      for (int e = 0; e < edits && !json.empty(); ++e) {
        const std::size_t at = rng() % json.size();
        switch (rng() % 3) {
          case 0: json[at] = alphabet[rng() % (sizeof alphabet - 1)]; break;
          case 1: json.erase(at, 1 + rng() % 8); break;
          default: json.insert(at, 1, alphabet[rng() % (sizeof alphabet - 1)]); break;
        }
      }
      expect_well_behaved(parse_market_details, json, original, file, parsed, refused);
      expect_well_behaved(parse_positions_response, json, original, file, parsed, refused);
      expect_well_behaved(parse_working_orders_response, json, original, file, parsed, refused);
      expect_well_behaved(parse_session_create_response, json, original, file, parsed, refused);
      expect_well_behaved(parse_ws_server_message, json, original, file, parsed, refused);
      expect_well_behaved(parse_ws_request, json, original, file, parsed, refused);
      expect_well_behaved(parse_error_body, json, original, file, parsed, refused);
      expect_well_behaved(parse_deal_confirmation, json, original, file, parsed, refused);
      if (HasFatalFailure()) return;
    }
  }
  // Both outcomes happened: the mutations reached the parsers' error paths and their
  // tolerance (whitespace, string contents) alike.
  EXPECT_GT(parsed, 0);
  EXPECT_GT(refused, parsed);
}

TEST(CapitalParseErrors, BrokerUtcTimestampsBecomeEpochMillisecondsAndGarbageZero) {
  EXPECT_EQ(parse_broker_utc_ms("2024-05-01T09:59:59.123"), 1714557599123);
  EXPECT_EQ(parse_broker_utc_ms("2024-05-01T09:59:59"), 1714557599000);
  EXPECT_EQ(parse_broker_utc_ms("yesterday"), 0);
  EXPECT_EQ(parse_broker_utc_ms(""), 0);
}

}  // namespace
}  // namespace qt::capital
