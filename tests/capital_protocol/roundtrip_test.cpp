// Specification: every writer's output parses back to an equal message (writer and parser share
// one schema), strings are escaped, doubles round-trip exactly, and the published examples
// survive parse → write → parse unchanged.
#include <gtest/gtest.h>

#include <limits>

#include "gateway/capital/protocol.hpp"
#include "tests/capital_protocol/example_files.hpp"

namespace qt::capital {
namespace {

using testing::read_example;
using namespace decimal_literals;

template <class T, class ParseFn>
void expect_round_trip(const T& message, ParseFn parse) {
  const std::string json = to_json(message);
  auto parsed = parse(json);
  ASSERT_TRUE(parsed.ok()) << parsed.status() << "\n" << json;
  EXPECT_TRUE(*parsed == message) << json;
}

AccountBalance balance() {
  return {124.95, 125.18, -0.23, 116.93};
}

MarketSummary full_summary() {
  MarketSummary m;
  m.epic = "NATURALGAS";
  m.symbol = "NG";
  m.instrument_name = "Natural Gas";
  m.instrument_type = "COMMODITIES";
  m.expiry = "-";
  m.lot_size = 1000;
  m.market_status = MarketStatus::kOnAuctionNoEdits;
  m.bid = 2.759;
  m.offer = 2.764;
  m.high = 2.798;
  m.low = 2.743;
  m.net_change = 0.022;
  m.percentage_change = 0.8053;
  m.update_time = "2022-04-05T17:41:38.492";
  m.update_time_utc = "2022-04-05T14:41:38.492";
  m.delay_time = 0;
  m.streaming_prices_available = true;
  m.scaling_factor = 1;
  m.market_modes = {"REGULAR", "CLOSING_ONLY"};
  return m;
}

MarketSummary summary_of(std::string epic) {
  MarketSummary m;
  m.epic = std::move(epic);
  return m;
}

MarketDetails full_details() {
  MarketDetails d;
  d.instrument.epic = "GOLD";
  d.instrument.symbol = "XAUUSD";
  d.instrument.name = "Gold";
  d.instrument.expiry = "-";
  d.instrument.lot_size = 1;
  d.instrument.type = "COMMODITIES";
  d.instrument.guaranteed_stop_allowed = true;
  d.instrument.streaming_prices_available = true;
  d.instrument.currency = "USD";
  d.instrument.margin_factor = 5;
  d.instrument.margin_factor_unit = "PERCENTAGE";
  OpeningHours hours;
  hours.days[0] = {"00:00 - 21:00", "22:05 - 00:00"};
  hours.days[6] = {"22:05 - 00:00"};
  hours.zone = "UTC";
  d.instrument.opening_hours = hours;
  d.instrument.overnight_fee = OvernightFee{-0.0123, 0.0045, 1714600800000, 86400};
  d.instrument.country = "";
  d.dealing_rules.min_step_distance = DealingRule{RuleUnit::kPoints, 0.01_dec};
  d.dealing_rules.min_deal_size = DealingRule{RuleUnit::kPoints, 0.01_dec};
  d.dealing_rules.max_deal_size = DealingRule{RuleUnit::kPoints, 500_dec};
  d.dealing_rules.min_size_increment = DealingRule{RuleUnit::kPoints, 0.01_dec};
  d.dealing_rules.min_guaranteed_stop_distance = DealingRule{RuleUnit::kPercentage, 0.5_dec};
  d.dealing_rules.min_stop_or_profit_distance = DealingRule{RuleUnit::kPercentage, 0.01_dec};
  d.dealing_rules.max_stop_or_profit_distance = DealingRule{RuleUnit::kPercentage, 60_dec};
  d.dealing_rules.market_order_preference = "AVAILABLE_DEFAULT_OFF";
  d.dealing_rules.trailing_stops_preference = "AVAILABLE";
  d.snapshot.market_status = MarketStatus::kClosed;
  d.snapshot.net_change = -3.2;
  d.snapshot.percentage_change = -0.14;
  d.snapshot.update_time = "2024-05-01T12:00:00.123";
  d.snapshot.delay_time = 0;
  d.snapshot.bid = 2300.1;
  d.snapshot.offer = 2300.4;
  d.snapshot.high = 2310.55;
  d.snapshot.low = 2290.05;
  d.snapshot.decimal_places_factor = 2;
  d.snapshot.scaling_factor = 1;
  d.snapshot.market_modes = {"REGULAR"};
  return d;
}

StopsAndLimits full_stops() {
  return {true, false, 2250.5_dec, 50_dec, 120.25_dec, 2400_dec, 100_dec, 250.75_dec};
}

TEST(CapitalRoundTrip, SessionLoginRequestWithEncryptedPassword) {
  expect_round_trip(SessionLoginRequest{"trader@example.com", "c2VjcmV0fDE3MTQ1NTc2MDAxMjM=", true},
                    parse_session_login_request);
}

TEST(CapitalRoundTrip, SessionCreateResponseWithNewerAccountFields) {
  SessionCreateResponse m;
  m.account_type = "CFD";
  m.account_info = balance();
  m.currency_iso_code = "USD";
  m.currency_symbol = "$";
  m.current_account_id = "12345678901234567";
  m.streaming_host = "wss://api-streaming-capital.backend-capital.com/";
  m.accounts = {{"12345678901234567", "USD", true, "CFD", "USD", "$", balance()},
                {"12345678907654321", "Second account", false, "CFD", {}, {}, {}}};
  m.client_id = "12345678";
  m.timezone_offset = 5.5;
  m.has_active_demo_accounts = true;
  m.has_active_live_accounts = false;
  m.trailing_stops_enabled = true;
  expect_round_trip(m, parse_session_create_response);
}

TEST(CapitalRoundTrip, SessionDetailsSwitchAccountAndKeys) {
  expect_round_trip(SessionDetails{"12345678", "12345678901234567", 3, "en", "USD",
                                   "wss://api-streaming-capital.backend-capital.com/"},
                    parse_session_details);
  expect_round_trip(SwitchAccountRequest{"12345678907654321"}, parse_switch_account_request);
  expect_round_trip(SwitchAccountResponse{true, true, false, true}, parse_switch_account_response);
  expect_round_trip(
      EncryptionKeyResponse{"MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA", 1714557600123},
      parse_encryption_key_response);
  expect_round_trip(StatusResponse{"SUCCESS"}, parse_status_response);
  expect_round_trip(ServerTimeResponse{1714557600123}, parse_server_time_response);
}

TEST(CapitalRoundTrip, AccountsAndPreferences) {
  expect_round_trip(
      AccountsResponse{{{"12345678901234567", "USD", "ENABLED", "CFD", true, balance(), "USD"}}},
      parse_accounts_response);
  AccountPreferences preferences;
  preferences.hedging_mode = true;
  preferences.leverages["SHARES"] = {2, {1, 2, 3, 5}};
  preferences.leverages["INDICES"] = {20, {1, 2, 3, 5, 10, 20}};
  expect_round_trip(preferences, parse_account_preferences);
  UpdatePreferencesRequest update;
  update.leverages["INDICES"] = 20;
  update.hedging_mode = false;
  expect_round_trip(update, parse_update_preferences_request);
}

TEST(CapitalRoundTrip, MarketSummaryListWithEveryField) {
  expect_round_trip(MarketSearchResponse{{full_summary(), summary_of("US500")}},
                    parse_market_search_response);
}

TEST(CapitalRoundTrip, MarketDetailsWithEveryField) {
  expect_round_trip(full_details(), parse_market_details);
  expect_round_trip(MarketDetailsListResponse{{full_details(), full_details()}},
                    parse_market_details_list_response);
}

TEST(CapitalRoundTrip, MarketDetailsInLegacy2022NamesParseToTheSameMessage) {
  const std::string json = to_json(full_details(), FieldNaming::kLegacy2022);
  EXPECT_NE(json.find("\"controlledRiskAllowed\":true"), std::string::npos) << json;
  EXPECT_NE(json.find("\"minNormalStopOrLimitDistance\""), std::string::npos) << json;
  EXPECT_EQ(json.find("guaranteedStopAllowed"), std::string::npos) << json;
  auto parsed = parse_market_details(json);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_TRUE(*parsed == full_details());
}

TEST(CapitalRoundTrip, PriceHistoryWithMissingAsk) {
  PriceHistory m;
  m.instrument_type = "COMMODITIES";
  m.prices = {{"2022-04-06T15:18:00",
               "2022-04-06T13:18:00",
               {24.356, 24.376},
               {24.378, {}},
               {24.378, 24.398},
               {24.355, 24.375},
               187}};
  expect_round_trip(m, parse_price_history);
}

TEST(CapitalRoundTrip, PositionRequestsWithEveryStopField) {
  expect_round_trip(CreatePositionRequest{"SILVER", Side::kSell, 1.5_dec, full_stops()},
                    parse_create_position_request);
  expect_round_trip(CreatePositionRequest{"SILVER", Side::kBuy, 1_dec, {}},
                    parse_create_position_request);
  expect_round_trip(AmendPositionRequest{full_stops()}, parse_amend_position_request);
  expect_round_trip(AmendPositionRequest{}, parse_amend_position_request);
}

TEST(CapitalRoundTrip, WorkingOrderRequests) {
  expect_round_trip(
      CreateWorkingOrderRequest{"GOLD", Side::kBuy, 0.5_dec, 2250.25_dec, WorkingOrderType::kStop,
                                "2030-06-09T01:01:00", full_stops()},
      parse_create_working_order_request);
  expect_round_trip(
      CreateWorkingOrderRequest{
          "GOLD", Side::kSell, 2_dec, 2400_dec, WorkingOrderType::kLimit, {}, {}},
      parse_create_working_order_request);
  expect_round_trip(AmendWorkingOrderRequest{2260.5_dec, "2030-06-09T01:01:00", full_stops()},
                    parse_amend_working_order_request);
}

TEST(CapitalRoundTrip, ActivityHistoryWithAndWithoutDetails) {
  Activity detailed;
  detailed.date = "2022-04-06T10:27:18.112";
  detailed.date_utc = "2022-04-06T07:27:18.112";
  detailed.epic = "GOLD";
  detailed.deal_id = "000fc7a4-0001-54c4-0000-00008056a66c";
  detailed.source = "USER";
  detailed.type = "POSITION";
  detailed.status = "ACCEPTED";
  detailed.details = ActivityDetails{"p_000fc7a4-0001-54c4-0000-00008056a66c",
                                     "Gold",
                                     "USD",
                                     1.5_dec,
                                     Side::kSell,
                                     2301.25_dec,
                                     false};
  Activity bare = detailed;
  bare.details.reset();
  bare.status = "EXECUTED";
  expect_round_trip(ActivityHistoryResponse{{detailed, bare}}, parse_activity_history_response);

  absl::StatusOr<ActivityHistoryResponse> missing_status = parse_activity_history_response(
      R"({"activities":[{"dateUTC":"2022-04-06T07:27:18","epic":"GOLD","dealId":"d","type":"POSITION"}]})");
  ASSERT_FALSE(missing_status.ok());
  EXPECT_NE(missing_status.status().message().find("status"), std::string::npos)
      << missing_status.status();
}

TEST(CapitalRoundTrip, TradingResponses) {
  expect_round_trip(DealReferenceResponse{"o_bad96cc0-d297-46cd-ab44-dbcda73d7921"},
                    parse_deal_reference_response);
  Position p;
  p.deal_id = "00018387-0001-54c4-0000-000080560014";
  p.deal_reference = "p_00018387-0001-54c4-0000-000080560014";
  p.working_order_id = "00018387-0001-54c4-0000-000080560012";
  p.created_date = "2022-04-05T12:46:01.872";
  p.created_date_utc = "2022-04-05T09:46:01.872";
  p.size = 10_dec;
  p.leverage = 20_dec;
  p.upl = -0.05_dec;
  p.direction = Side::kSell;
  p.level = 2.764_dec;
  p.currency = "USD";
  p.guaranteed_stop = true;
  p.trailing_stop = false;
  p.stop_level = 3.1_dec;
  p.stop_distance = 0.3_dec;
  p.profit_level = 2.1_dec;
  p.profit_distance = 0.6_dec;
  expect_round_trip(PositionsResponse{{{p, full_summary()}, {p, summary_of("X")}}},
                    parse_positions_response);
  expect_round_trip(PositionItem{p, full_summary()}, parse_position_item);

  WorkingOrderData w;
  w.deal_id = "006011e7-0001-54c4-0000-000080560078";
  w.direction = Side::kBuy;
  w.epic = "SILVER";
  w.order_size = 1_dec;
  w.order_level = 20_dec;
  w.time_in_force = WorkingOrderTimeInForce::kGoodTillDate;
  w.good_till_date = "2022-06-09T04:01:00.000";
  w.good_till_date_utc = "2022-06-09T01:01:00.000";
  w.created_date = "2022-04-06T12:48:28.114";
  w.created_date_utc = "2022-04-06T09:48:28.114";
  w.guaranteed_stop = true;
  w.order_type = WorkingOrderType::kStop;
  w.stop_level = 18_dec;
  w.stop_distance = -3_dec;
  w.profit_level = 23_dec;
  w.profit_distance = 3_dec;
  w.currency_code = "USD";
  expect_round_trip(WorkingOrdersResponse{{{w, full_summary()}}}, parse_working_orders_response);

  DealConfirmation c;
  c.date = "2022-04-06T07:32:19.193";
  c.status = DealOutcome::kPartiallyClosed;
  c.reason = "SUCCESS";
  c.deal_status = DealStatus::kAccepted;
  c.epic = "SILVER";
  c.deal_reference = "p_006011e7-0001-54c4-0000-000080560045";
  c.deal_id = "006011e7-0001-54c4-0000-000080560043";
  c.affected_deals = {
      {"006011e7-0001-54c4-0000-000080560045", AffectedDealStatus::kPartiallyClosed}};
  c.level = 24.285_dec;
  c.size = 0.5_dec;
  c.direction = Side::kSell;
  c.guaranteed_stop = false;
  c.trailing_stop = true;
  c.stop_level = 23_dec;
  c.profit_level = 26_dec;
  c.stop_distance = 1.285_dec;
  c.profit_distance = 1.715_dec;
  c.profit = -12.5_dec;
  c.profit_currency = "USD";
  expect_round_trip(c, parse_deal_confirmation);
  DealConfirmation rejected;
  rejected.deal_status = DealStatus::kRejected;
  rejected.reason = "INSUFFICIENT_FUNDS";
  rejected.deal_reference = "o_fcc7e6c0-c150-48aa-bf66-d6c6da071f1a";
  expect_round_trip(rejected, parse_deal_confirmation);
}

TEST(CapitalRoundTrip, ErrorBodyWithAndWithoutDetail) {
  expect_round_trip(ErrorBody{"error.invalid.details", ""}, parse_error_body);
  expect_round_trip(ErrorBody{"error.invalid.takeprofit.maxvalue", "30.5"}, parse_error_body);
  EXPECT_EQ(to_json(ErrorBody{"error.invalid.stoploss.minvalue", "17.146"}),
            R"({"errorCode":"error.invalid.stoploss.minvalue: 17.146"})");
}

TEST(CapitalRoundTrip, WsRequestsOfEveryDestination) {
  WsRequest subscribe{WsDestination::kMarketDataSubscribe,
                      "7",
                      "cst-token",
                      "security-token",
                      {"GOLD", "SILVER"},
                      {},
                      {},
                      {}};
  expect_round_trip(subscribe, parse_ws_request);
  EXPECT_EQ(to_json(subscribe),
            R"({"destination":"marketData.subscribe","correlationId":"7","cst":"cst-token",)"
            R"("securityToken":"security-token","payload":{"epics":["GOLD","SILVER"]}})");
  WsRequest unsubscribe = subscribe;
  unsubscribe.destination = WsDestination::kMarketDataUnsubscribe;
  expect_round_trip(unsubscribe, parse_ws_request);
  WsRequest ohlc{WsDestination::kOhlcSubscribe, "8",           "c", "s", {"GOLD"},
                 {"MINUTE_5", "HOUR"},          "heikin-ashi", {}};
  expect_round_trip(ohlc, parse_ws_request);
  WsRequest ohlc_off{
      WsDestination::kOhlcUnsubscribe, "9", "c", "s", {"GOLD"}, {"MINUTE_5"}, {}, {"classic"}};
  expect_round_trip(ohlc_off, parse_ws_request);
  WsRequest ping{WsDestination::kPing, "10", "c", "s", {}, {}, {}, {}};
  expect_round_trip(ping, parse_ws_request);
  EXPECT_EQ(to_json(ping),
            R"({"destination":"ping","correlationId":"10","cst":"c","securityToken":"s"})");
}

TEST(CapitalRoundTrip, WsServerMessagesOfEveryKind) {
  const std::vector<WsServerMessage> messages = {
      WsSubscriptionReply{WsDestination::kMarketDataSubscribe, "1", {{"OIL_CRUDE", "PROCESSED"}}},
      WsSubscriptionReply{
          WsDestination::kOhlcUnsubscribe,
          "2",
          {{"GOLD:MINUTE_5:classic", "PROCESSED"}, {"GOLD:HOUR:classic", "PROCESSED"}}},
      WsPingReply{"3"},
      WsQuote{"OIL_CRUDE", "CFD", 93.87, 4976.0, 93.9, 5000.0, 1660297190627},
      WsOhlcBar{"MINUTE_5", "GOLD", "classic", "bid", 1714557600000, 2300.1, 2301.5, 2299.05,
                2300.95},
      WsErrorReply{"marketData.subscribe", "4", {"error.invalid.session.token", ""}},
  };
  for (const WsServerMessage& message : messages) {
    const std::string json = to_json(message);
    auto parsed = parse_ws_server_message(json);
    ASSERT_TRUE(parsed.ok()) << parsed.status() << "\n" << json;
    EXPECT_TRUE(*parsed == message) << json;
  }
  EXPECT_EQ(to_json(WsQuote{"GOLD", "CFD", 2300.1, 100, 2300.4, 100, 1714557600123}),
            R"({"status":"OK","destination":"quote","payload":{"epic":"GOLD","product":"CFD",)"
            R"("bid":2300.1,"bidQty":100,"ofr":2300.4,"ofrQty":100,"timestamp":1714557600123}})");
  EXPECT_EQ(to_json(WsPingReply{"5"}),
            R"({"status":"OK","destination":"ping","correlationId":"5","payload":{}})");
}

TEST(CapitalRoundTrip, StringsWithQuotesBackslashesControlsAndUnicodeAreEscaped) {
  const SessionLoginRequest login{"a\"b\\c/d\n\t\x01 é ✓", "p\"w\\\b\f\r", false};
  const std::string json = to_json(login);
  EXPECT_NE(json.find(R"(a\"b\\c/d\n\t\u0001 é ✓)"), std::string::npos) << json;
  expect_round_trip(login, parse_session_login_request);
}

TEST(CapitalRoundTrip, DoublesRoundTripExactly) {
  for (const double value :
       {0.0, -0.23, 0.1, 24.203, 2300.1, 1.08543, 1e-7, 123456789.123, 9.87654321e14, 1.5e300,
        -2.5e-300, 1.0 / 3.0, std::numeric_limits<double>::min(),
        std::numeric_limits<double>::max()}) {
    const WsQuote quote{"X", "CFD", value, 0, value, 0, 0};
    const std::string json = to_json(quote);
    auto parsed = parse_ws_server_message(json);
    ASSERT_TRUE(parsed.ok()) << parsed.status() << json;
    EXPECT_EQ(std::get<WsQuote>(*parsed).bid, value) << json;
  }
}

TEST(CapitalRoundTrip, PricesAreWrittenInPlainNotation) {
  JsonWriter json;
  json.begin_array().number(2300.1).number(0.00001).number(100.0).number(-0.23).end_array();
  EXPECT_EQ(json.text(), "[2300.1,0.00001,100,-0.23]");
}

TEST(CapitalRoundTrip, PublishedExamplesSurviveParseWriteParse) {
  auto details = parse_market_details(read_example("market_details_silver.json"));
  ASSERT_TRUE(details.ok());
  expect_round_trip(*details, parse_market_details);
  auto session = parse_session_create_response(read_example("session_create_response.json"));
  ASSERT_TRUE(session.ok());
  expect_round_trip(*session, parse_session_create_response);
  auto accounts = parse_accounts_response(read_example("accounts_list.json"));
  ASSERT_TRUE(accounts.ok());
  expect_round_trip(*accounts, parse_accounts_response);
  auto positions = parse_positions_response(read_example("positions_list.json"));
  ASSERT_TRUE(positions.ok());
  expect_round_trip(*positions, parse_positions_response);
  auto orders = parse_working_orders_response(read_example("working_orders_list.json"));
  ASSERT_TRUE(orders.ok());
  expect_round_trip(*orders, parse_working_orders_response);
  auto prices = parse_price_history(read_example("prices_minute_default.json"));
  ASSERT_TRUE(prices.ok());
  expect_round_trip(*prices, parse_price_history);
  auto confirm = parse_deal_confirmation(read_example("confirm_accepted.json"));
  ASSERT_TRUE(confirm.ok());
  expect_round_trip(*confirm, parse_deal_confirmation);
  auto request = parse_create_position_request(read_example("create_position_request.json"));
  ASSERT_TRUE(request.ok());
  expect_round_trip(*request, parse_create_position_request);
  auto ws_request = parse_ws_request(read_example("ws_marketdata_subscribe_request.json"));
  ASSERT_TRUE(ws_request.ok());
  expect_round_trip(*ws_request, parse_ws_request);
}

}  // namespace
}  // namespace qt::capital
