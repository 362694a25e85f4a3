// Specification: every documented Capital.com error code maps to the expected absl status code
// with a message that explains it, names the code and the HTTP status, and carries no secret.
#include <gtest/gtest.h>

#include <set>

#include "gateway/capital/protocol.hpp"
#include "tests/capital_protocol/example_files.hpp"

namespace qt::capital {
namespace {

struct Expected {
  std::string_view code;
  int http;
  absl::StatusCode status;
};

// capital-api.md sections 2-7, written out independently of the table in errors.cpp.
constexpr Expected kDocumented[] = {
    {"error.null.api.key", 400, absl::StatusCode::kUnauthenticated},
    {"error.invalid.details", 401, absl::StatusCode::kUnauthenticated},
    {"error.too-many.requests", 429, absl::StatusCode::kResourceExhausted},
    {"error.invalid.session.token", 401, absl::StatusCode::kUnauthenticated},
    {"error.invalid.api.key", 401, absl::StatusCode::kUnauthenticated},
    {"error.not-found.epic", 404, absl::StatusCode::kNotFound},
    {"error.not-found.dealId", 404, absl::StatusCode::kNotFound},
    {"error.not-found.dealReference", 404, absl::StatusCode::kNotFound},
    {"error.invalid.accountId", 400, absl::StatusCode::kInvalidArgument},
    {"error.invalid.leverage.value", 400, absl::StatusCode::kInvalidArgument},
    {"error.invalid.from", 400, absl::StatusCode::kInvalidArgument},
    {"error.null.searchTerm", 400, absl::StatusCode::kInvalidArgument},
    {"error.invalid.limit", 400, absl::StatusCode::kInvalidArgument},
    {"error.invalid.resolution", 400, absl::StatusCode::kInvalidArgument},
    {"error.not-in-future.goodTillDate", 400, absl::StatusCode::kInvalidArgument},
    {"error.invalid.stoploss.minvalue", 400, absl::StatusCode::kInvalidArgument},
    {"error.invalid.stoploss.maxvalue", 400, absl::StatusCode::kInvalidArgument},
    {"error.invalid.takeprofit.minvalue", 400, absl::StatusCode::kInvalidArgument},
    {"error.invalid.takeprofit.maxvalue", 400, absl::StatusCode::kInvalidArgument},
};

std::string message_of(const absl::Status& status) {
  return std::string(status.message().data(), status.message().size());
}

TEST(CapitalErrors, TableListsExactlyTheDocumentedCodes) {
  std::set<std::string_view> documented;
  for (const Expected& e : kDocumented) documented.insert(e.code);
  std::set<std::string_view> table;
  for (const CapitalErrorInfo& info : kCapitalErrors) table.insert(info.code);
  EXPECT_EQ(table, documented);
  for (std::size_t i = 0; i < kCapitalErrors.size(); ++i) {
    EXPECT_EQ(static_cast<std::size_t>(kCapitalErrors[i].id), i) << "table order = enum order";
    EXPECT_FALSE(kCapitalErrors[i].explanation.empty());
  }
}

TEST(CapitalErrors, EveryDocumentedCodeMapsToItsStatusWithCodeAndHttpInTheMessage) {
  for (const Expected& e : kDocumented) {
    const absl::Status status = to_status(e.http, ErrorBody{std::string(e.code), ""});
    EXPECT_EQ(status.code(), e.status) << e.code;
    const std::string message = message_of(status);
    EXPECT_TRUE(message.starts_with("Capital.com ")) << message;
    EXPECT_NE(message.find(std::string(e.code)), std::string::npos) << message;
    EXPECT_NE(message.find("HTTP " + std::to_string(e.http)), std::string::npos) << message;
    EXPECT_EQ(capital_error_code(status), std::string(e.code));
    const CapitalErrorInfo* info = find_capital_error(e.code);
    ASSERT_NE(info, nullptr) << e.code;
    EXPECT_EQ(info->http_status, e.http) << e.code;
    EXPECT_NE(message.find(std::string(info->explanation)), std::string::npos) << message;
  }
}

TEST(CapitalErrors, InvalidDetailsReadsAsARejectedLogin) {
  const absl::Status status = to_status(401, ErrorBody{"error.invalid.details", ""});
  EXPECT_EQ(status.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(message_of(status),
            "Capital.com rejected the login: invalid identifier or password "
            "(error.invalid.details, HTTP 401)");
}

TEST(CapitalErrors, StopLossMinValueKeepsTheVenueLimitInTheMessage) {
  auto body = parse_error_body(testing::read_example("error_stoploss_minvalue.json"));
  ASSERT_TRUE(body.ok());
  const absl::Status status = to_status(400, *body);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(message_of(status),
            "Capital.com rejected the stop loss: below the minimum allowed value given in the "
            "detail (error.invalid.stoploss.minvalue: 17.146, HTTP 400)");
  EXPECT_EQ(capital_error_code(status), "error.invalid.stoploss.minvalue");
  EXPECT_EQ(find_capital_error("error.invalid.stoploss.minvalue: 17.146")->id,
            CapitalErrorCode::kInvalidStopLossMinValue);
}

TEST(CapitalErrors, TooManyRequestsExampleIsResourceExhausted) {
  const absl::Status status =
      status_from_http_response(429, testing::read_example("error_too_many_requests.json"));
  EXPECT_EQ(status.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(capital_error_code(status), "error.too-many.requests");
}

TEST(CapitalErrors, UndocumentedCodesFallBackByFamily) {
  EXPECT_EQ(to_status(400, {"error.invalid.epic", ""}).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(to_status(400, {"error.null.identifier", ""}).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(to_status(404, {"error.not-found.watchlist", ""}).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(to_status(429, {"error.too-many.topups", ""}).code(),
            absl::StatusCode::kResourceExhausted);
}

TEST(CapitalErrors, UnknownCodesFallBackByHttpStatus) {
  EXPECT_EQ(to_status(401, {"error.security.token-expired", ""}).code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(to_status(403, {"error.forbidden", ""}).code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(to_status(500, {"error.internal", ""}).code(), absl::StatusCode::kInternal);
  EXPECT_EQ(to_status(503, {"error.service.unavailable", ""}).code(),
            absl::StatusCode::kUnavailable);
  EXPECT_EQ(to_status(504, {"", ""}).code(), absl::StatusCode::kDeadlineExceeded);
}

TEST(CapitalErrors, NonJsonErrorBodyGivesHttpFallbackWithoutEchoingTheBody) {
  const absl::Status status =
      status_from_http_response(502, "<html><body>Bad Gateway secret-cookie</body></html>");
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(message_of(status),
            "Capital.com is unreachable behind its gateway (no error code, HTTP 502)");
  EXPECT_FALSE(capital_error_code(status).has_value());
}

TEST(CapitalErrors, ParseErrorsNeverQuoteStringValuesSuchAsThePassword) {
  auto login = parse_session_login_request(R"({"identifier":5,"password":"hunter2-secret"})");
  ASSERT_FALSE(login.ok());
  EXPECT_EQ(message_of(login.status()),
            "Capital.com session login request: field 'identifier' must be a string");
  auto truncated = parse_session_login_request(R"({"identifier":"me","password":"hunter2-sec)");
  ASSERT_FALSE(truncated.ok());
  EXPECT_EQ(message_of(truncated.status()).find("hunter2"), std::string::npos);
  auto ws = parse_ws_request(R"({"destination":"marketData.subscribe","cst":"CST-SECRET",)"
                             R"("securityToken":"XST-SECRET","payload":{"epics":"GOLD"}})");
  ASSERT_FALSE(ws.ok());
  EXPECT_EQ(message_of(ws.status()).find("SECRET"), std::string::npos);
  EXPECT_EQ(message_of(ws.status()),
            "Capital.com WS request: field 'payload.epics' must be an array");
}

}  // namespace
}  // namespace qt::capital
