// Internal to the protocol module: the JSON field list of every message, written once and
// walked by both the reader (parse.cpp) and the writer (write.cpp), so a writer and its parser
// cannot disagree on a name, and every writer round-trips through its parser.
//
// A visitor V provides v.field(Keys, member, Need): one JSON member of any supported type
// (string, Decimal, double, int32/int64, bool, enum, std::optional, std::vector, std::map, or
// another described struct as a nested object). The WebSocket envelopes, whose payload depends on
// the destination, are coded by hand in parse.cpp / write.cpp. Keys carries the current name and,
// for renamed fields, the 2022 name (parsers accept both; writers pick one per FieldNaming).
// Need::kRequired fields make the parse fail when absent.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "gateway/capital/protocol/messages.hpp"

namespace qt::capital::schema {

enum class Need : uint8_t { kOptional = 0, kRequired };
inline constexpr Need kRequired = Need::kRequired;

struct Keys {
  std::string_view current;
  std::string_view legacy;                                  // empty: never renamed
  constexpr Keys(const char* name) : current(name) {}       // NOLINT: implicit on purpose
  constexpr Keys(std::string_view name) : current(name) {}  // NOLINT
  constexpr Keys(std::string_view now, std::string_view old) : current(now), legacy(old) {}
};

// The member types a visitor tells apart; both walkers dispatch on them.
template <class T>
struct IsOptional : std::false_type {};
template <class T>
struct IsOptional<std::optional<T>> : std::true_type {};
template <class T>
struct IsVector : std::false_type {};
template <class T>
struct IsVector<std::vector<T>> : std::true_type {};
template <class T>
struct IsStringMap : std::false_type {};
template <class T>
struct IsStringMap<std::map<std::string, T>> : std::true_type {};

// A JSON object of strings read and written in member order (the stream's subscriptions).
using OrderedStringPairs = std::vector<std::pair<std::string, std::string>>;

// Every describe() takes a mutable reference; the writer passes a const_cast object and only
// reads it.

template <class V>
void describe(V& v, AccountBalance& x) {
  v.field("balance", x.balance);
  v.field("deposit", x.deposit);
  v.field("profitLoss", x.profit_loss);
  v.field("available", x.available);
}

template <class V>
void describe(V& v, SessionLoginRequest& x) {
  v.field("identifier", x.identifier, kRequired);
  v.field("password", x.password, kRequired);
  v.field("encryptedPassword", x.encrypted_password);
}

template <class V>
void describe(V& v, SessionAccount& x) {
  v.field("accountId", x.account_id, kRequired);
  v.field("accountName", x.account_name);
  v.field("preferred", x.preferred);
  v.field("accountType", x.account_type);
  v.field("currency", x.currency);
  v.field("symbol", x.symbol);
  v.field("balance", x.balance);
}

template <class V>
void describe(V& v, SessionCreateResponse& x) {
  v.field("accountType", x.account_type);
  v.field("accountInfo", x.account_info);
  v.field("currencyIsoCode", x.currency_iso_code);
  v.field("currencySymbol", x.currency_symbol);
  v.field("currentAccountId", x.current_account_id, kRequired);
  v.field("streamingHost", x.streaming_host, kRequired);
  v.field("accounts", x.accounts);
  v.field("clientId", x.client_id);
  v.field("timezoneOffset", x.timezone_offset);
  v.field("hasActiveDemoAccounts", x.has_active_demo_accounts);
  v.field("hasActiveLiveAccounts", x.has_active_live_accounts);
  v.field("trailingStopsEnabled", x.trailing_stops_enabled);
}

template <class V>
void describe(V& v, SessionDetails& x) {
  v.field("clientId", x.client_id);
  v.field("accountId", x.account_id, kRequired);
  v.field("timezoneOffset", x.timezone_offset);
  v.field("locale", x.locale);
  v.field("currency", x.currency);
  v.field("streamEndpoint", x.stream_endpoint);
}

template <class V>
void describe(V& v, SwitchAccountRequest& x) {
  v.field("accountId", x.account_id, kRequired);
}

template <class V>
void describe(V& v, SwitchAccountResponse& x) {
  v.field("trailingStopsEnabled", x.trailing_stops_enabled);
  v.field("dealingEnabled", x.dealing_enabled);
  v.field("hasActiveDemoAccounts", x.has_active_demo_accounts);
  v.field("hasActiveLiveAccounts", x.has_active_live_accounts);
}

template <class V>
void describe(V& v, EncryptionKeyResponse& x) {
  v.field("encryptionKey", x.encryption_key, kRequired);
  v.field("timeStamp", x.time_stamp, kRequired);
}

template <class V>
void describe(V& v, StatusResponse& x) {
  v.field("status", x.status, kRequired);
}

template <class V>
void describe(V& v, ServerTimeResponse& x) {
  v.field("serverTime", x.server_time, kRequired);
}

template <class V>
void describe(V& v, Account& x) {
  v.field("accountId", x.account_id, kRequired);
  v.field("accountName", x.account_name);
  v.field("status", x.status);
  v.field("accountType", x.account_type);
  v.field("preferred", x.preferred);
  v.field("balance", x.balance);
  v.field("currency", x.currency);
}

template <class V>
void describe(V& v, AccountsResponse& x) {
  v.field("accounts", x.accounts, kRequired);
}

template <class V>
void describe(V& v, LeverageSetting& x) {
  v.field("current", x.current, kRequired);
  v.field("available", x.available);
}

template <class V>
void describe(V& v, AccountPreferences& x) {
  v.field("hedgingMode", x.hedging_mode);
  v.field("leverages", x.leverages);
}

template <class V>
void describe(V& v, UpdatePreferencesRequest& x) {
  v.field("leverages", x.leverages);
  v.field("hedgingMode", x.hedging_mode);
}

template <class V>
void describe(V& v, MarketSummary& x) {
  v.field("epic", x.epic, kRequired);
  v.field("symbol", x.symbol);
  v.field("instrumentName", x.instrument_name);
  v.field("instrumentType", x.instrument_type);
  v.field("expiry", x.expiry);
  v.field("lotSize", x.lot_size);
  v.field("marketStatus", x.market_status);
  v.field("bid", x.bid);
  v.field("offer", x.offer);
  v.field("high", x.high);
  v.field("low", x.low);
  v.field("netChange", x.net_change);
  v.field("percentageChange", x.percentage_change);
  v.field("updateTime", x.update_time);
  v.field("updateTimeUTC", x.update_time_utc);
  v.field("delayTime", x.delay_time);
  v.field("streamingPricesAvailable", x.streaming_prices_available);
  v.field("scalingFactor", x.scaling_factor);
  v.field("marketModes", x.market_modes);
}

template <class V>
void describe(V& v, OpeningHours& x) {
  for (std::size_t day = 0; day < kOpeningHoursDays.size(); ++day) {
    v.field(kOpeningHoursDays[day], x.days[day]);
  }
  v.field("zone", x.zone);
}

template <class V>
void describe(V& v, OvernightFee& x) {
  v.field("longRate", x.long_rate);
  v.field("shortRate", x.short_rate);
  v.field("swapChargeTimestamp", x.swap_charge_timestamp);
  v.field("swapChargeInterval", x.swap_charge_interval);
}

template <class V>
void describe(V& v, MarketInstrument& x) {
  v.field("epic", x.epic, kRequired);
  v.field("symbol", x.symbol);
  v.field("name", x.name);
  v.field("expiry", x.expiry);
  v.field("lotSize", x.lot_size);
  v.field("type", x.type);
  v.field(Keys("guaranteedStopAllowed", "controlledRiskAllowed"), x.guaranteed_stop_allowed);
  v.field("streamingPricesAvailable", x.streaming_prices_available);
  v.field("currency", x.currency);
  v.field("marginFactor", x.margin_factor);
  v.field("marginFactorUnit", x.margin_factor_unit);
  v.field("openingHours", x.opening_hours);
  v.field("overnightFee", x.overnight_fee);
  v.field("country", x.country);
}

template <class V>
void describe(V& v, DealingRule& x) {
  v.field("unit", x.unit, kRequired);
  v.field("value", x.value, kRequired);
}

template <class V>
void describe(V& v, DealingRules& x) {
  v.field("minStepDistance", x.min_step_distance);
  v.field("minDealSize", x.min_deal_size);
  v.field("maxDealSize", x.max_deal_size);
  v.field("minSizeIncrement", x.min_size_increment);
  v.field(Keys("minGuaranteedStopDistance", "minControlledRiskStopDistance"),
          x.min_guaranteed_stop_distance);
  v.field(Keys("minStopOrProfitDistance", "minNormalStopOrLimitDistance"),
          x.min_stop_or_profit_distance);
  v.field(Keys("maxStopOrProfitDistance", "maxStopOrLimitDistance"), x.max_stop_or_profit_distance);
  v.field("marketOrderPreference", x.market_order_preference);
  v.field("trailingStopsPreference", x.trailing_stops_preference);
}

template <class V>
void describe(V& v, MarketSnapshot& x) {
  v.field("marketStatus", x.market_status, kRequired);
  v.field("netChange", x.net_change);
  v.field("percentageChange", x.percentage_change);
  v.field("updateTime", x.update_time);
  v.field("delayTime", x.delay_time);
  v.field("bid", x.bid);
  v.field("offer", x.offer);
  v.field("high", x.high);
  v.field("low", x.low);
  v.field("decimalPlacesFactor", x.decimal_places_factor);
  v.field("scalingFactor", x.scaling_factor);
  v.field("marketModes", x.market_modes);
}

template <class V>
void describe(V& v, MarketDetails& x) {
  v.field("instrument", x.instrument, kRequired);
  v.field("dealingRules", x.dealing_rules, kRequired);
  v.field("snapshot", x.snapshot, kRequired);
}

template <class V>
void describe(V& v, MarketSearchResponse& x) {
  v.field("markets", x.markets, kRequired);
}

template <class V>
void describe(V& v, MarketDetailsListResponse& x) {
  v.field("marketDetails", x.market_details, kRequired);
}

template <class V>
void describe(V& v, BidAsk& x) {
  v.field("bid", x.bid);
  v.field("ask", x.ask);
}

template <class V>
void describe(V& v, PriceBar& x) {
  v.field("snapshotTime", x.snapshot_time, kRequired);
  v.field("snapshotTimeUTC", x.snapshot_time_utc);
  v.field("openPrice", x.open_price);
  v.field("closePrice", x.close_price);
  v.field("highPrice", x.high_price);
  v.field("lowPrice", x.low_price);
  v.field("lastTradedVolume", x.last_traded_volume);
}

template <class V>
void describe(V& v, PriceHistory& x) {
  v.field("prices", x.prices, kRequired);
  v.field("instrumentType", x.instrument_type);
}

// Flattened into the request bodies (not a nested object).
template <class V>
void describe(V& v, StopsAndLimits& x) {
  v.field("guaranteedStop", x.guaranteed_stop);
  v.field("trailingStop", x.trailing_stop);
  v.field("stopLevel", x.stop_level);
  v.field("stopDistance", x.stop_distance);
  v.field("stopAmount", x.stop_amount);
  v.field("profitLevel", x.profit_level);
  v.field("profitDistance", x.profit_distance);
  v.field("profitAmount", x.profit_amount);
}

template <class V>
void describe(V& v, CreatePositionRequest& x) {
  v.field("epic", x.epic, kRequired);
  v.field("direction", x.direction, kRequired);
  v.field("size", x.size, kRequired);
  describe(v, x.stops);
}

template <class V>
void describe(V& v, AmendPositionRequest& x) {
  describe(v, x.stops);
}

template <class V>
void describe(V& v, CreateWorkingOrderRequest& x) {
  v.field("epic", x.epic, kRequired);
  v.field("direction", x.direction, kRequired);
  v.field("size", x.size, kRequired);
  v.field("level", x.level, kRequired);
  v.field("type", x.type, kRequired);
  v.field("goodTillDate", x.good_till_date);
  describe(v, x.stops);
}

template <class V>
void describe(V& v, AmendWorkingOrderRequest& x) {
  v.field("level", x.level);
  v.field("goodTillDate", x.good_till_date);
  describe(v, x.stops);
}

template <class V>
void describe(V& v, DealReferenceResponse& x) {
  v.field("dealReference", x.deal_reference, kRequired);
}

template <class V>
void describe(V& v, Position& x) {
  v.field("contractSize", x.contract_size);
  v.field("createdDate", x.created_date);
  v.field("createdDateUTC", x.created_date_utc);
  v.field("dealId", x.deal_id, kRequired);
  v.field("dealReference", x.deal_reference);
  v.field("workingOrderId", x.working_order_id);
  v.field("size", x.size, kRequired);
  v.field("leverage", x.leverage);
  v.field("upl", x.upl);
  v.field("direction", x.direction, kRequired);
  v.field("level", x.level, kRequired);
  v.field("currency", x.currency);
  v.field("guaranteedStop", x.guaranteed_stop);
  v.field("trailingStop", x.trailing_stop);
  v.field("stopLevel", x.stop_level);
  v.field("stopDistance", x.stop_distance);
  v.field("profitLevel", x.profit_level);
  v.field("profitDistance", x.profit_distance);
}

template <class V>
void describe(V& v, PositionItem& x) {
  v.field("position", x.position, kRequired);
  v.field("market", x.market, kRequired);
}

template <class V>
void describe(V& v, PositionsResponse& x) {
  v.field("positions", x.positions, kRequired);
}

template <class V>
void describe(V& v, WorkingOrderData& x) {
  v.field("dealId", x.deal_id, kRequired);
  v.field("direction", x.direction, kRequired);
  v.field("epic", x.epic, kRequired);
  v.field("orderSize", x.order_size, kRequired);
  v.field("orderLevel", x.order_level, kRequired);
  v.field("timeInForce", x.time_in_force);
  v.field("goodTillDate", x.good_till_date);
  v.field("goodTillDateUTC", x.good_till_date_utc);
  v.field("createdDate", x.created_date);
  v.field("createdDateUTC", x.created_date_utc);
  v.field("guaranteedStop", x.guaranteed_stop);
  v.field("orderType", x.order_type, kRequired);
  v.field("stopLevel", x.stop_level);
  v.field("stopDistance", x.stop_distance);
  v.field("profitLevel", x.profit_level);
  v.field("profitDistance", x.profit_distance);
  v.field("currencyCode", x.currency_code);
}

template <class V>
void describe(V& v, WorkingOrderItem& x) {
  v.field("workingOrderData", x.working_order_data, kRequired);
  v.field("marketData", x.market_data, kRequired);
}

template <class V>
void describe(V& v, WorkingOrdersResponse& x) {
  v.field("workingOrders", x.working_orders, kRequired);
}

template <class V>
void describe(V& v, ActivityDetails& x) {
  v.field("dealReference", x.deal_reference);
  v.field("marketName", x.market_name);
  v.field("currency", x.currency);
  v.field("size", x.size);
  v.field("direction", x.direction);
  v.field("level", x.level);
  v.field("guaranteedStop", x.guaranteed_stop);
}

template <class V>
void describe(V& v, Activity& x) {
  v.field("date", x.date);
  v.field("dateUTC", x.date_utc, kRequired);
  v.field("epic", x.epic, kRequired);
  v.field("dealId", x.deal_id, kRequired);
  v.field("source", x.source);
  v.field("type", x.type, kRequired);
  v.field("status", x.status, kRequired);
  v.field("details", x.details);
}

template <class V>
void describe(V& v, ActivityHistoryResponse& x) {
  v.field("activities", x.activities, kRequired);
}

template <class V>
void describe(V& v, AffectedDeal& x) {
  v.field("dealId", x.deal_id, kRequired);
  v.field("status", x.status);
}

template <class V>
void describe(V& v, DealConfirmation& x) {
  v.field("date", x.date);
  v.field("status", x.status);
  v.field("reason", x.reason);
  v.field("dealStatus", x.deal_status, kRequired);
  v.field("epic", x.epic);
  v.field("dealReference", x.deal_reference, kRequired);
  v.field("dealId", x.deal_id);
  v.field("affectedDeals", x.affected_deals);
  v.field("level", x.level);
  v.field("size", x.size);
  v.field("direction", x.direction);
  v.field("guaranteedStop", x.guaranteed_stop);
  v.field("trailingStop", x.trailing_stop);
  v.field("stopLevel", x.stop_level);
  v.field("profitLevel", x.profit_level);
  v.field("stopDistance", x.stop_distance);
  v.field("profitDistance", x.profit_distance);
  v.field("profit", x.profit);
  v.field("profitCurrency", x.profit_currency);
}

template <class V>
void describe(V& v, WsQuote& x) {
  v.field("epic", x.epic, kRequired);
  v.field("product", x.product);
  v.field("bid", x.bid, kRequired);
  v.field("bidQty", x.bid_qty);
  v.field("ofr", x.ofr, kRequired);
  v.field("ofrQty", x.ofr_qty);
  v.field("timestamp", x.timestamp, kRequired);
}

template <class V>
void describe(V& v, WsOhlcBar& x) {
  v.field("resolution", x.resolution, kRequired);
  v.field("epic", x.epic, kRequired);
  v.field("type", x.type);
  v.field("priceType", x.price_type);
  v.field("t", x.t, kRequired);
  v.field("o", x.o, kRequired);
  v.field("h", x.h, kRequired);
  v.field("l", x.l, kRequired);
  v.field("c", x.c, kRequired);
}

// Which enums map unknown wire text to their kUnknown (= 0) value instead of failing.
template <class E>
inline constexpr bool kTolerantEnum = false;
template <>
inline constexpr bool kTolerantEnum<MarketStatus> = true;
template <>
inline constexpr bool kTolerantEnum<DealOutcome> = true;
template <>
inline constexpr bool kTolerantEnum<AffectedDealStatus> = true;

template <class V, class T>
concept Describable = requires(V& v, T& t) {
  describe(v, t);
};

}  // namespace qt::capital::schema
