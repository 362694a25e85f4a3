// Specification: every published Capital.com example payload (examples/, SOURCES.md) parses
// with the parser for its kind, with its key values as printed in the file.
#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <variant>

#include "gateway/capital/protocol.hpp"
#include "tests/capital_protocol/example_files.hpp"

namespace qt::capital {
namespace {

using testing::example_json_files;
using testing::read_example;
using namespace decimal_literals;

// Example file → the parser for its kind. The first test checks it covers the folder.
const std::map<std::string, std::function<absl::Status(std::string_view)>>& parsers_by_file() {
  static const std::map<std::string, std::function<absl::Status(std::string_view)>> parsers = {
      {"accounts_list.json", [](auto j) { return parse_accounts_response(j).status(); }},
      {"confirm_accepted.json", [](auto j) { return parse_deal_confirmation(j).status(); }},
      {"create_position_request.json",
       [](auto j) { return parse_create_position_request(j).status(); }},
      {"create_position_response.json",
       [](auto j) { return parse_deal_reference_response(j).status(); }},
      {"error_invalid_details.json", [](auto j) { return parse_error_body(j).status(); }},
      {"error_stoploss_minvalue.json", [](auto j) { return parse_error_body(j).status(); }},
      {"error_too_many_requests.json", [](auto j) { return parse_error_body(j).status(); }},
      {"market_details_silver.json", [](auto j) { return parse_market_details(j).status(); }},
      {"positions_list.json", [](auto j) { return parse_positions_response(j).status(); }},
      {"prices_minute_default.json", [](auto j) { return parse_price_history(j).status(); }},
      {"session_create_response.json",
       [](auto j) { return parse_session_create_response(j).status(); }},
      {"working_orders_list.json",
       [](auto j) { return parse_working_orders_response(j).status(); }},
      {"ws_marketdata_subscribe_request.json", [](auto j) { return parse_ws_request(j).status(); }},
      {"ws_marketdata_subscribe_response.json",
       [](auto j) { return parse_ws_server_message(j).status(); }},
      {"ws_quote.json", [](auto j) { return parse_ws_server_message(j).status(); }},
  };
  return parsers;
}

TEST(CapitalExamples, EveryExampleFileHasAParserAndParses) {
  const std::vector<std::string> files = example_json_files();
  ASSERT_EQ(files.size(), 15u) << "examples/ should hold the 15 published JSON payloads";
  for (const std::string& file : files) {
    const auto it = parsers_by_file().find(file);
    ASSERT_NE(it, parsers_by_file().end()) << file << " has no parser assigned in this test";
    EXPECT_TRUE(it->second(read_example(file)).ok()) << file;
  }
}

TEST(CapitalExamples, SessionCreateResponseBodyHasAccountsAndStreamingHost) {
  auto r = parse_session_create_response(read_example("session_create_response.json"));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->account_type, "CFD");
  EXPECT_DOUBLE_EQ(r->account_info.balance, 124.95);
  EXPECT_DOUBLE_EQ(r->account_info.deposit, 125.18);
  EXPECT_DOUBLE_EQ(r->account_info.profit_loss, -0.23);
  EXPECT_DOUBLE_EQ(r->account_info.available, 116.93);
  EXPECT_EQ(r->currency_iso_code, "USD");
  EXPECT_EQ(r->currency_symbol, "$");
  EXPECT_EQ(r->current_account_id, "12345678901234567");
  EXPECT_EQ(r->streaming_host, "wss://api-streaming-capital.backend-capital.com/");
  ASSERT_EQ(r->accounts.size(), 2u);
  EXPECT_EQ(r->accounts[0].account_id, "12345678901234567");
  EXPECT_EQ(r->accounts[0].account_name, "USD");
  EXPECT_TRUE(r->accounts[0].preferred);
  EXPECT_EQ(r->accounts[1].account_name, "Second account");
  EXPECT_FALSE(r->accounts[1].preferred);
  EXPECT_EQ(r->accounts[1].account_type, "CFD");
  EXPECT_FALSE(r->accounts[1].balance.has_value());  // the 2023 example has no per-account balance
  EXPECT_EQ(r->client_id, "12345678");
  EXPECT_DOUBLE_EQ(r->timezone_offset, 3);
  EXPECT_TRUE(r->has_active_demo_accounts);
  EXPECT_TRUE(r->has_active_live_accounts);
  EXPECT_FALSE(r->trailing_stops_enabled);
}

TEST(CapitalExamples, AccountsListHasBalancesOfBothAccounts) {
  auto r = parse_accounts_response(read_example("accounts_list.json"));
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->accounts.size(), 2u);
  const Account& first = r->accounts[0];
  EXPECT_EQ(first.account_id, "12345678901234567");
  EXPECT_EQ(first.account_name, "USD");
  EXPECT_EQ(first.status, "ENABLED");
  EXPECT_EQ(first.account_type, "CFD");
  EXPECT_TRUE(first.preferred);
  EXPECT_DOUBLE_EQ(first.balance.balance, 124.95);
  EXPECT_DOUBLE_EQ(first.balance.deposit, 125.18);
  EXPECT_DOUBLE_EQ(first.balance.profit_loss, -0.23);
  EXPECT_DOUBLE_EQ(first.balance.available, 116.93);
  EXPECT_EQ(first.currency, "USD");
  EXPECT_EQ(r->accounts[1].account_id, "12345678907654321");
  EXPECT_FALSE(r->accounts[1].preferred);
  EXPECT_DOUBLE_EQ(r->accounts[1].balance.available, 0.0);
}

TEST(CapitalExamples, MarketDetailsSilverReadsLegacyNamesIntoCurrentFields) {
  auto r = parse_market_details(read_example("market_details_silver.json"));
  ASSERT_TRUE(r.ok()) << r.status();
  const MarketInstrument& i = r->instrument;
  EXPECT_EQ(i.epic, "SILVER");
  EXPECT_EQ(i.expiry, "-");
  EXPECT_EQ(i.name, "Silver");
  EXPECT_EQ(i.lot_size, 1.0);
  EXPECT_EQ(i.type, "COMMODITIES");
  EXPECT_TRUE(i.guaranteed_stop_allowed);  // from "controlledRiskAllowed": true
  EXPECT_TRUE(i.streaming_prices_available);
  EXPECT_EQ(i.currency, "USD");
  EXPECT_EQ(i.margin_factor, 10.0);
  EXPECT_EQ(i.margin_factor_unit, "PERCENTAGE");
  EXPECT_EQ(i.country, "");
  ASSERT_TRUE(i.opening_hours.has_value());
  EXPECT_EQ(i.opening_hours->days[0], (std::vector<std::string>{"00:00 - 22:00", "23:05 - 00:00"}));
  EXPECT_EQ(i.opening_hours->days[4], std::vector<std::string>{"00:00 - 22:00"});  // fri
  EXPECT_TRUE(i.opening_hours->days[5].empty());                                   // sat
  EXPECT_EQ(i.opening_hours->days[6], std::vector<std::string>{"23:05 - 00:00"});  // sun
  EXPECT_EQ(i.opening_hours->zone, "UTC");

  const DealingRules& d = r->dealing_rules;
  EXPECT_EQ(d.min_step_distance, (DealingRule{RuleUnit::kPoints, 0.001_dec}));
  EXPECT_EQ(d.min_deal_size, (DealingRule{RuleUnit::kPoints, 0.1_dec}));
  EXPECT_FALSE(d.max_deal_size.has_value());
  EXPECT_FALSE(d.min_size_increment.has_value());
  EXPECT_EQ(d.min_guaranteed_stop_distance, (DealingRule{RuleUnit::kPercentage, 2_dec}));
  EXPECT_EQ(d.min_stop_or_profit_distance, (DealingRule{RuleUnit::kPercentage, 0.01_dec}));
  EXPECT_EQ(d.max_stop_or_profit_distance, (DealingRule{RuleUnit::kPercentage, 60_dec}));
  EXPECT_EQ(d.market_order_preference, "AVAILABLE_DEFAULT_ON");
  EXPECT_EQ(d.trailing_stops_preference, "NOT_AVAILABLE");

  const MarketSnapshot& s = r->snapshot;
  EXPECT_EQ(s.market_status, MarketStatus::kTradeable);
  EXPECT_EQ(s.net_change, -0.313);
  EXPECT_EQ(s.percentage_change, -1.2762);
  EXPECT_EQ(s.update_time, "2022-04-06T13:17:42.113");
  EXPECT_EQ(s.delay_time, 0);
  EXPECT_EQ(s.bid, 24.203);
  EXPECT_EQ(s.offer, 24.223);
  EXPECT_EQ(s.high, 24.405);
  EXPECT_EQ(s.low, 24.193);
  EXPECT_EQ(s.decimal_places_factor, 3);
  EXPECT_EQ(s.scaling_factor, 1);
}

TEST(CapitalExamples, MarketDetailsSilverDealingRulesGiveTheInstrumentSpec) {
  auto details = parse_market_details(read_example("market_details_silver.json"));
  ASSERT_TRUE(details.ok()) << details.status();
  auto spec = instrument_spec_from(*details, 7);
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->id, 7);
  EXPECT_EQ(spec->name(), "SILVER");
  EXPECT_EQ(spec->price_decimals, 3);  // decimalPlacesFactor 3: 24.203 = 24203 units
  EXPECT_EQ(spec->tick, 1);            // 0.001
  EXPECT_EQ(spec->size_decimals, 1);   // minDealSize 0.1
  EXPECT_EQ(spec->min_size, 1);        // 0.1 = 1 size unit
  EXPECT_EQ(spec->size_increment, 1);  // no minSizeIncrement: one size unit, 0.1
  EXPECT_EQ(spec->max_size, 0);        // no maxDealSize: no venue limit
  EXPECT_EQ(spec->contract_multiplier, 1);
  EXPECT_TRUE(is_tradeable(details->snapshot.market_status));
  PriceUnits bid = 0;
  ASSERT_EQ(fixed_point_from_double(*details->snapshot.bid, spec->price_decimals, bid),
            DecimalStatus::kOk);
  EXPECT_EQ(bid, 24203);
}

TEST(CapitalExamples, PricesMinuteDefaultHasTenMinuteBars) {
  auto r = parse_price_history(read_example("prices_minute_default.json"));
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->prices.size(), 10u);
  const PriceBar& first = r->prices.front();
  EXPECT_EQ(first.snapshot_time, "2022-04-06T15:18:00");
  EXPECT_EQ(first.snapshot_time_utc, "2022-04-06T13:18:00");
  EXPECT_EQ(first.open_price, (BidAsk{24.356, 24.376}));
  EXPECT_EQ(first.close_price, (BidAsk{24.378, 24.398}));
  EXPECT_EQ(first.high_price, (BidAsk{24.378, 24.398}));
  EXPECT_EQ(first.low_price, (BidAsk{24.355, 24.375}));
  EXPECT_EQ(first.last_traded_volume, 187);
  EXPECT_EQ(r->prices[2].close_price, (BidAsk{24.4, 24.42}));
  EXPECT_EQ(r->prices.back().snapshot_time, "2022-04-06T15:27:00");
  EXPECT_EQ(r->prices.back().last_traded_volume, 44);
  EXPECT_EQ(r->instrument_type, "COMMODITIES");
}

TEST(CapitalExamples, PositionsListHasPositionAndMarketOfEachItem) {
  auto r = parse_positions_response(read_example("positions_list.json"));
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->positions.size(), 2u);
  const Position& gas = r->positions[0].position;
  EXPECT_EQ(gas.contract_size, 1_dec);
  EXPECT_EQ(gas.created_date, "2022-04-05T12:46:01.872");
  EXPECT_EQ(gas.created_date_utc, "2022-04-05T09:46:01.872");
  EXPECT_EQ(gas.deal_id, "00018387-0001-54c4-0000-000080560014");
  EXPECT_EQ(gas.deal_reference, "p_00018387-0001-54c4-0000-000080560014");
  EXPECT_EQ(gas.working_order_id, "00018387-0001-54c4-0000-000080560012");
  EXPECT_EQ(gas.size, 10.0_dec);
  EXPECT_EQ(gas.leverage, 20_dec);
  EXPECT_EQ(gas.upl, -0.05_dec);
  EXPECT_EQ(gas.direction, Side::kBuy);
  EXPECT_EQ(gas.level, 2.764_dec);
  EXPECT_EQ(gas.currency, "USD");
  EXPECT_FALSE(gas.guaranteed_stop);
  EXPECT_FALSE(gas.stop_level.has_value());
  const MarketSummary& gas_market = r->positions[0].market;
  EXPECT_EQ(gas_market.epic, "NATURALGAS");
  EXPECT_EQ(gas_market.instrument_name, "Natural Gas");
  EXPECT_EQ(gas_market.market_status, MarketStatus::kTradeable);
  EXPECT_EQ(gas_market.instrument_type, "COMMODITIES");
  EXPECT_EQ(gas_market.bid, 2.759);
  EXPECT_EQ(gas_market.offer, 2.764);
  EXPECT_EQ(gas_market.net_change, 0.022);
  EXPECT_EQ(gas_market.update_time_utc, "2022-04-05T14:41:38.492");
  EXPECT_EQ(gas_market.streaming_prices_available, true);
  const PositionItem& us500 = r->positions[1];
  EXPECT_EQ(us500.position.level, 3985.1_dec);
  EXPECT_EQ(us500.position.upl, -0.8_dec);
  EXPECT_EQ(us500.market.epic, "US500");
  EXPECT_EQ(us500.market.instrument_name, "S&P 500");
  EXPECT_EQ(us500.market.expiry, "2022-02-01");
  EXPECT_EQ(us500.market.percentage_change, -0.0301);
}

TEST(CapitalExamples, CreatePositionRequestHasStopAndProfitLevels) {
  auto r = parse_create_position_request(read_example("create_position_request.json"));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->epic, "SILVER");
  EXPECT_EQ(r->direction, Side::kBuy);
  EXPECT_EQ(r->size, 1_dec);
  EXPECT_EQ(r->stops.guaranteed_stop, true);
  EXPECT_EQ(r->stops.stop_level, 20_dec);
  EXPECT_EQ(r->stops.profit_level, 27_dec);
  EXPECT_FALSE(r->stops.trailing_stop.has_value());
  EXPECT_FALSE(r->stops.stop_distance.has_value());
  EXPECT_FALSE(r->stops.profit_amount.has_value());
}

TEST(CapitalExamples, CreatePositionResponseIsADealReference) {
  auto r = parse_deal_reference_response(read_example("create_position_response.json"));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->deal_reference, "o_bad96cc0-d297-46cd-ab44-dbcda73d7921");
}

TEST(CapitalExamples, ConfirmAcceptedNamesThePositionInAffectedDeals) {
  auto r = parse_deal_confirmation(read_example("confirm_accepted.json"));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->date, "2022-04-06T07:32:19.193");
  EXPECT_EQ(r->status, DealOutcome::kOpen);
  EXPECT_EQ(r->reason, "SUCCESS");
  EXPECT_EQ(r->deal_status, DealStatus::kAccepted);
  EXPECT_EQ(r->epic, "SILVER");
  EXPECT_EQ(r->deal_reference, "o_fcc7e6c0-c150-48aa-bf66-d6c6da071f1a");
  EXPECT_EQ(r->deal_id, "006011e7-0001-54c4-0000-000080560043");  // the order
  ASSERT_EQ(r->affected_deals.size(), 1u);
  EXPECT_EQ(r->affected_deals[0].deal_id, "006011e7-0001-54c4-0000-000080560045");  // position
  EXPECT_EQ(r->affected_deals[0].status, AffectedDealStatus::kOpened);
  EXPECT_EQ(r->level, 24.285_dec);
  EXPECT_EQ(r->size, 1_dec);
  EXPECT_EQ(r->direction, Side::kBuy);
  EXPECT_FALSE(r->guaranteed_stop);
  EXPECT_FALSE(r->trailing_stop);
}

TEST(CapitalExamples, WorkingOrdersListHasGoodTillDateAndCancelledOrders) {
  auto r = parse_working_orders_response(read_example("working_orders_list.json"));
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->working_orders.size(), 2u);
  const WorkingOrderData& silver = r->working_orders[0].working_order_data;
  EXPECT_EQ(silver.deal_id, "006011e7-0001-54c4-0000-000080560078");
  EXPECT_EQ(silver.direction, Side::kBuy);
  EXPECT_EQ(silver.epic, "SILVER");
  EXPECT_EQ(silver.order_size, 1_dec);
  EXPECT_EQ(silver.order_level, 20_dec);
  EXPECT_EQ(silver.time_in_force, WorkingOrderTimeInForce::kGoodTillDate);
  EXPECT_EQ(silver.good_till_date, "2022-06-09T04:01:00.000");
  EXPECT_EQ(silver.good_till_date_utc, "2022-06-09T01:01:00.000");
  EXPECT_EQ(silver.created_date_utc, "2022-04-06T09:48:28.114");
  EXPECT_TRUE(silver.guaranteed_stop);
  EXPECT_EQ(silver.order_type, WorkingOrderType::kLimit);
  EXPECT_EQ(silver.stop_distance, -3_dec);
  EXPECT_EQ(silver.profit_distance, 3_dec);
  EXPECT_EQ(silver.currency_code, "USD");
  EXPECT_EQ(r->working_orders[0].market_data.lot_size, 50);
  EXPECT_EQ(r->working_orders[0].market_data.bid, 24.387);
  const WorkingOrderData& gas = r->working_orders[1].working_order_data;
  EXPECT_EQ(gas.epic, "NATURALGAS");
  EXPECT_EQ(gas.time_in_force, WorkingOrderTimeInForce::kGoodTillCancelled);
  EXPECT_FALSE(gas.good_till_date.has_value());
  EXPECT_FALSE(gas.stop_distance.has_value());
  EXPECT_EQ(gas.order_level, 6_dec);
  EXPECT_EQ(r->working_orders[1].market_data.lot_size, 1000);
}

TEST(CapitalExamples, ErrorInvalidDetailsHasNoDetail) {
  auto r = parse_error_body(read_example("error_invalid_details.json"));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->code, "error.invalid.details");
  EXPECT_EQ(r->detail, "");
}

TEST(CapitalExamples, ErrorStopLossMinValueSplitsTheLimitIntoTheDetail) {
  auto r = parse_error_body(read_example("error_stoploss_minvalue.json"));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->code, "error.invalid.stoploss.minvalue");
  EXPECT_EQ(r->detail, "17.146");
  EXPECT_EQ(r->wire_text(), "error.invalid.stoploss.minvalue: 17.146");
}

TEST(CapitalExamples, ErrorTooManyRequestsParses) {
  auto r = parse_error_body(read_example("error_too_many_requests.json"));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->code, "error.too-many.requests");
}

TEST(CapitalExamples, WsSubscribeRequestCarriesTokensAndEpics) {
  auto r = parse_ws_request(read_example("ws_marketdata_subscribe_request.json"));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->destination, WsDestination::kMarketDataSubscribe);
  EXPECT_EQ(r->correlation_id, "1");
  EXPECT_EQ(r->cst, "zvkT26****nsHKk");
  EXPECT_EQ(r->security_token, "g6K90****QKvCS7");
  EXPECT_EQ(r->epics, std::vector<std::string>{"OIL_CRUDE"});
}

TEST(CapitalExamples, WsSubscribeResponseListsProcessedEpics) {
  auto r = parse_ws_server_message(read_example("ws_marketdata_subscribe_response.json"));
  ASSERT_TRUE(r.ok()) << r.status();
  const auto* reply = std::get_if<WsSubscriptionReply>(&*r);
  ASSERT_NE(reply, nullptr);
  EXPECT_EQ(reply->destination, WsDestination::kMarketDataSubscribe);
  EXPECT_EQ(reply->correlation_id, "1");
  ASSERT_EQ(reply->subscriptions.size(), 1u);
  EXPECT_EQ(reply->subscriptions[0].first, "OIL_CRUDE");
  EXPECT_EQ(reply->subscriptions[0].second, "PROCESSED");
}

TEST(CapitalExamples, WsQuoteHasBidOfrQuantitiesAndTimestamp) {
  auto r = parse_ws_server_message(read_example("ws_quote.json"));
  ASSERT_TRUE(r.ok()) << r.status();
  const auto* quote = std::get_if<WsQuote>(&*r);
  ASSERT_NE(quote, nullptr);
  EXPECT_EQ(quote->epic, "OIL_CRUDE");
  EXPECT_EQ(quote->product, "CFD");
  EXPECT_EQ(quote->bid, 93.87);
  EXPECT_EQ(quote->bid_qty, 4976.0);
  EXPECT_EQ(quote->ofr, 93.9);
  EXPECT_EQ(quote->ofr_qty, 5000.0);
  EXPECT_EQ(quote->timestamp, 1660297190627);
}

}  // namespace
}  // namespace qt::capital
