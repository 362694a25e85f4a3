// Typed messages of the Capital.com REST v1 and WebSocket APIs (/work/shared/capital-api.md):
// one struct per request or response body, named after what it is, members named after the
// JSON fields (camelCase → snake_case). JSON decoding and encoding are in parse.hpp / write.hpp.
//
// Conventions:
// - Plain members are always written; when absent on parse they keep their default (or, for the
//   fields marked "required", the parse fails naming the field).
// - std::optional members are fields the venue sometimes omits; nullopt is not written.
// - Prices, sizes and amounts of the trading messages (section 5) and the dealing rules are
//   Decimal (decimal.hpp): exactly the digits on the wire, read and written as text, converted
//   to the engine's fixed point only by Decimal::to_fixed_point / from_fixed_point. The other
//   numbers (market data, balances, WebSocket quotes) are double: informational here; the quote
//   path reads its own fixed point from the text (feeds/capital/quote_parser.hpp).
//   Timestamps in ms are int64.
// - Local/UTC date-time pairs stay strings ("2022-04-06T07:32:19.193"), as the venue sends them.
// - The CST and X-SECURITY-TOKEN session tokens are HTTP headers, never body fields
//   (SessionTokens); the WS envelopes carry them as "cst" / "securityToken".
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "engine/types.hpp"
#include "gateway/capital/protocol/decimal.hpp"

namespace qt::capital {

// Direction of a deal ("BUY" / "SELL") is the engine's qt::Side.

// snapshot.marketStatus / summary marketStatus. Unknown text parses as kUnknown.
enum class MarketStatus : uint8_t {
  kUnknown = 0,
  kTradeable,
  kClosed,
  kEditsOnly,
  kOffline,
  kOnAuction,
  kOnAuctionNoEdits,
  kSuspended,
};
constexpr bool is_tradeable(MarketStatus s) {
  return s == MarketStatus::kTradeable;
}

// Unit of a dealing rule value.
enum class RuleUnit : uint8_t { kPoints = 0, kPercentage };

// Confirm dealStatus: the deal's outcome.
enum class DealStatus : uint8_t { kAccepted = 0, kRejected };

// Confirm status (what happened to the position/order). Unknown text parses as kUnknown.
enum class DealOutcome : uint8_t {
  kUnknown = 0,
  kOpen,
  kAmended,
  kClosed,
  kDeleted,
  kPartiallyClosed
};

// affectedDeals[].status. Unknown text parses as kUnknown.
enum class AffectedDealStatus : uint8_t {
  kUnknown = 0,
  kOpened,
  kAmended,
  kDeleted,
  kFullyClosed,
  kPartiallyClosed,
};

enum class WorkingOrderType : uint8_t { kLimit = 0, kStop };
enum class WorkingOrderTimeInForce : uint8_t { kGoodTillCancelled = 0, kGoodTillDate };

// WS "destination".
enum class WsDestination : uint8_t {
  kUnknown = 0,
  kMarketDataSubscribe,    // "marketData.subscribe"
  kMarketDataUnsubscribe,  // "marketData.unsubscribe"
  kOhlcSubscribe,          // "OHLCMarketData.subscribe"
  kOhlcUnsubscribe,        // "OHLCMarketData.unsubscribe"
  kPing,                   // "ping"
  kQuote,                  // "quote" (server push)
  kOhlcEvent,              // "ohlc.event" (server push)
};
enum class WsStatus : uint8_t { kOk = 0, kError };

// Which spelling of renamed fields the writers use. Parsers accept both.
//   kCurrent: guaranteedStopAllowed, minGuaranteedStopDistance, minStopOrProfitDistance,
//             maxStopOrProfitDistance
//   kLegacy2022: controlledRiskAllowed, minControlledRiskStopDistance,
//             minNormalStopOrLimitDistance, maxStopOrLimitDistance
enum class FieldNaming : uint8_t { kCurrent = 0, kLegacy2022 };

// ---------------------------------------------------------------- session (section 2)

struct AccountBalance {
  double balance = 0;
  double deposit = 0;
  double profit_loss = 0;
  double available = 0;
  friend bool operator==(const AccountBalance&, const AccountBalance&) = default;
};

// POST /session body. Required: identifier, password.
struct SessionLoginRequest {
  std::string identifier;
  std::string password;  // plain, or encrypt_password() output with encrypted_password = true
  bool encrypted_password = false;
  friend bool operator==(const SessionLoginRequest&, const SessionLoginRequest&) = default;
};

// Response *headers* of POST /session, echoed by later calls. Never logged, never in a Status.
struct SessionTokens {
  std::string cst;             // header "CST"
  std::string security_token;  // header "X-SECURITY-TOKEN"
  friend bool operator==(const SessionTokens&, const SessionTokens&) = default;
};
inline constexpr std::string_view kHeaderApiKey = "X-CAP-API-KEY";
inline constexpr std::string_view kHeaderCst = "CST";
inline constexpr std::string_view kHeaderSecurityToken = "X-SECURITY-TOKEN";

// accounts[] of the session response. Required: accountId.
struct SessionAccount {
  std::string account_id;
  std::string account_name;
  bool preferred = false;
  std::string account_type;
  std::optional<std::string> currency;    // newer docs
  std::optional<std::string> symbol;      // newer docs
  std::optional<AccountBalance> balance;  // newer docs
  friend bool operator==(const SessionAccount&, const SessionAccount&) = default;
};

// POST /session 200 body. Required: currentAccountId, streamingHost.
struct SessionCreateResponse {
  std::string account_type;
  AccountBalance account_info;
  std::string currency_iso_code;
  std::string currency_symbol;
  std::string current_account_id;
  std::string streaming_host;  // "wss://api-streaming-capital.backend-capital.com/"
  std::vector<SessionAccount> accounts;
  std::string client_id;
  double timezone_offset = 0;  // hours
  bool has_active_demo_accounts = false;
  bool has_active_live_accounts = false;
  bool trailing_stops_enabled = false;
  friend bool operator==(const SessionCreateResponse&, const SessionCreateResponse&) = default;
};

// GET /session. Required: accountId.
struct SessionDetails {
  std::string client_id;
  std::string account_id;
  double timezone_offset = 0;
  std::string locale;
  std::string currency;
  std::string stream_endpoint;
  friend bool operator==(const SessionDetails&, const SessionDetails&) = default;
};

// PUT /session body. Required: accountId.
struct SwitchAccountRequest {
  std::string account_id;
  friend bool operator==(const SwitchAccountRequest&, const SwitchAccountRequest&) = default;
};

// PUT /session 200 body.
struct SwitchAccountResponse {
  bool trailing_stops_enabled = false;
  bool dealing_enabled = false;
  bool has_active_demo_accounts = false;
  bool has_active_live_accounts = false;
  friend bool operator==(const SwitchAccountResponse&, const SwitchAccountResponse&) = default;
};

// GET /session/encryptionKey. Required: encryptionKey, timeStamp.
struct EncryptionKeyResponse {
  std::string encryption_key;  // base64 DER (SubjectPublicKeyInfo) RSA public key
  int64_t time_stamp = 0;      // ms
  friend bool operator==(const EncryptionKeyResponse&, const EncryptionKeyResponse&) = default;
};

// {"status":"SUCCESS"} (DELETE /session, PUT preferences) and {"status":"OK"} (GET /ping).
// Required: status.
struct StatusResponse {
  std::string status;
  friend bool operator==(const StatusResponse&, const StatusResponse&) = default;
};

// GET /time. Required: serverTime.
struct ServerTimeResponse {
  int64_t server_time = 0;  // epoch ms
  friend bool operator==(const ServerTimeResponse&, const ServerTimeResponse&) = default;
};

// ---------------------------------------------------------------- accounts (section 3)

// GET /accounts item. Required: accountId.
struct Account {
  std::string account_id;
  std::string account_name;
  std::string status;  // "ENABLED"
  std::string account_type;
  bool preferred = false;
  AccountBalance balance;
  std::string currency;
  friend bool operator==(const Account&, const Account&) = default;
};

// GET /accounts. Required: accounts.
struct AccountsResponse {
  std::vector<Account> accounts;
  friend bool operator==(const AccountsResponse&, const AccountsResponse&) = default;
};

struct LeverageSetting {
  int32_t current = 0;
  std::vector<int32_t> available;
  friend bool operator==(const LeverageSetting&, const LeverageSetting&) = default;
};

// GET /accounts/preferences. leverages keyed by group (SHARES, CURRENCIES, INDICES,
// CRYPTOCURRENCIES, COMMODITIES).
struct AccountPreferences {
  bool hedging_mode = false;
  std::map<std::string, LeverageSetting> leverages;
  friend bool operator==(const AccountPreferences&, const AccountPreferences&) = default;
};

// PUT /accounts/preferences body.
struct UpdatePreferencesRequest {
  std::map<std::string, int32_t> leverages;  // group → leverage; empty = not sent
  std::optional<bool> hedging_mode;
  friend bool operator==(const UpdatePreferencesRequest&,
                         const UpdatePreferencesRequest&) = default;
};

// ---------------------------------------------------------------- markets (section 4)

// A market summary: GET /markets?searchTerm, positions[].market, workingOrders[].marketData.
// Required: epic. ("some may be absent": everything else is optional.)
struct MarketSummary {
  std::string epic;
  std::optional<std::string> symbol;
  std::optional<std::string> instrument_name;
  std::optional<std::string> instrument_type;  // COMMODITIES, SHARES, INDICES, CURRENCIES, ...
  std::optional<std::string> expiry;           // "-" for none
  std::optional<double> lot_size;
  MarketStatus market_status = MarketStatus::kUnknown;
  std::optional<double> bid;
  std::optional<double> offer;
  std::optional<double> high;
  std::optional<double> low;
  std::optional<double> net_change;
  std::optional<double> percentage_change;
  std::optional<std::string> update_time;
  std::optional<std::string> update_time_utc;
  std::optional<int64_t> delay_time;
  std::optional<bool> streaming_prices_available;
  std::optional<int32_t> scaling_factor;
  std::vector<std::string> market_modes;
  friend bool operator==(const MarketSummary&, const MarketSummary&) = default;
};

// instrument.openingHours: per day a list of "HH:MM - HH:MM" ranges, plus the zone ("UTC").
struct OpeningHours {
  std::array<std::vector<std::string>, 7> days;  // mon, tue, wed, thu, fri, sat, sun
  std::string zone;
  friend bool operator==(const OpeningHours&, const OpeningHours&) = default;
};
inline constexpr std::array<std::string_view, 7> kOpeningHoursDays = {"mon", "tue", "wed", "thu",
                                                                      "fri", "sat", "sun"};

struct OvernightFee {
  double long_rate = 0;
  double short_rate = 0;
  int64_t swap_charge_timestamp = 0;
  int64_t swap_charge_interval = 0;
  friend bool operator==(const OvernightFee&, const OvernightFee&) = default;
};

// GET /markets/{epic} "instrument". Required: epic.
struct MarketInstrument {
  std::string epic;
  std::optional<std::string> symbol;
  std::string name;
  std::string expiry;
  std::optional<double> lot_size;
  std::string type;
  bool guaranteed_stop_allowed = false;  // also read from "controlledRiskAllowed" (2022)
  bool streaming_prices_available = false;
  std::string currency;
  std::optional<double> margin_factor;
  std::optional<std::string> margin_factor_unit;  // "PERCENTAGE"
  std::optional<OpeningHours> opening_hours;
  std::optional<OvernightFee> overnight_fee;
  std::optional<std::string> country;
  friend bool operator==(const MarketInstrument&, const MarketInstrument&) = default;
};

// One dealing rule {"unit":"POINTS"|"PERCENTAGE","value":n}. Required: unit, value.
struct DealingRule {
  RuleUnit unit = RuleUnit::kPoints;
  Decimal value;
  friend bool operator==(const DealingRule&, const DealingRule&) = default;
};

// GET /markets/{epic} "dealingRules"; every rule may be absent.
struct DealingRules {
  std::optional<DealingRule> min_step_distance;
  std::optional<DealingRule> min_deal_size;
  std::optional<DealingRule> max_deal_size;
  std::optional<DealingRule> min_size_increment;
  std::optional<DealingRule> min_guaranteed_stop_distance;  // 2022: minControlledRiskStopDistance
  std::optional<DealingRule> min_stop_or_profit_distance;   // 2022: minNormalStopOrLimitDistance
  std::optional<DealingRule> max_stop_or_profit_distance;   // 2022: maxStopOrLimitDistance
  std::optional<std::string> market_order_preference;  // AVAILABLE_DEFAULT_ON|..._OFF|NOT_AVAILABLE
  std::optional<std::string> trailing_stops_preference;  // NOT_AVAILABLE|AVAILABLE
  friend bool operator==(const DealingRules&, const DealingRules&) = default;
};

// GET /markets/{epic} "snapshot". Required: marketStatus.
struct MarketSnapshot {
  MarketStatus market_status = MarketStatus::kUnknown;
  std::optional<double> net_change;
  std::optional<double> percentage_change;
  std::optional<std::string> update_time;
  std::optional<int64_t> delay_time;
  std::optional<double> bid;
  std::optional<double> offer;
  std::optional<double> high;
  std::optional<double> low;
  std::optional<int32_t> decimal_places_factor;  // price decimals (instrument_spec_from needs it)
  std::optional<int32_t> scaling_factor;
  std::vector<std::string> market_modes;
  friend bool operator==(const MarketSnapshot&, const MarketSnapshot&) = default;
};

// GET /markets/{epic}. Required: instrument, dealingRules, snapshot.
struct MarketDetails {
  MarketInstrument instrument;
  DealingRules dealing_rules;
  MarketSnapshot snapshot;
  friend bool operator==(const MarketDetails&, const MarketDetails&) = default;
};

// GET /markets (no query) and ?searchTerm= → {"markets":[...]}. Required: markets.
struct MarketSearchResponse {
  std::vector<MarketSummary> markets;
  friend bool operator==(const MarketSearchResponse&, const MarketSearchResponse&) = default;
};

// GET /markets?epics=A,B → {"marketDetails":[...]}. Required: marketDetails.
struct MarketDetailsListResponse {
  std::vector<MarketDetails> market_details;
  friend bool operator==(const MarketDetailsListResponse&,
                         const MarketDetailsListResponse&) = default;
};

struct BidAsk {
  std::optional<double> bid;
  std::optional<double> ask;
  friend bool operator==(const BidAsk&, const BidAsk&) = default;
};

// One bar of GET /prices/{epic}. Required: snapshotTime (or snapshotTimeUTC).
struct PriceBar {
  std::string snapshot_time;
  std::string snapshot_time_utc;
  BidAsk open_price;
  BidAsk close_price;
  BidAsk high_price;
  BidAsk low_price;
  int64_t last_traded_volume = 0;
  friend bool operator==(const PriceBar&, const PriceBar&) = default;
};

// GET /prices/{epic}. Required: prices.
struct PriceHistory {
  std::vector<PriceBar> prices;
  std::string instrument_type;
  friend bool operator==(const PriceHistory&, const PriceHistory&) = default;
};

// ---------------------------------------------------------------- trading (section 5)

// The optional stop/profit fields shared by create/amend position and working order bodies.
struct StopsAndLimits {
  std::optional<bool> guaranteed_stop;
  std::optional<bool> trailing_stop;
  std::optional<Decimal> stop_level;
  std::optional<Decimal> stop_distance;
  std::optional<Decimal> stop_amount;
  std::optional<Decimal> profit_level;
  std::optional<Decimal> profit_distance;
  std::optional<Decimal> profit_amount;
  friend bool operator==(const StopsAndLimits&, const StopsAndLimits&) = default;
};

// POST /positions body. Required: epic, direction, size.
struct CreatePositionRequest {
  std::string epic;
  Side direction = Side::kBuy;
  Decimal size;
  StopsAndLimits stops;
  friend bool operator==(const CreatePositionRequest&, const CreatePositionRequest&) = default;
};

// PUT /positions/{dealId} body.
struct AmendPositionRequest {
  StopsAndLimits stops;
  friend bool operator==(const AmendPositionRequest&, const AmendPositionRequest&) = default;
};

// POST /workingorders body. Required: epic, direction, size, level, type.
struct CreateWorkingOrderRequest {
  std::string epic;
  Side direction = Side::kBuy;
  Decimal size;
  Decimal level;
  WorkingOrderType type = WorkingOrderType::kLimit;
  std::optional<std::string> good_till_date;  // UTC "YYYY-MM-DDTHH:MM:SS"; absent = GTC
  StopsAndLimits stops;
  friend bool operator==(const CreateWorkingOrderRequest&,
                         const CreateWorkingOrderRequest&) = default;
};

// PUT /workingorders/{dealId} body.
struct AmendWorkingOrderRequest {
  std::optional<Decimal> level;
  std::optional<std::string> good_till_date;
  StopsAndLimits stops;
  friend bool operator==(const AmendWorkingOrderRequest&,
                         const AmendWorkingOrderRequest&) = default;
};

// {"dealReference":"o_..."} of every mutation. Required: dealReference.
struct DealReferenceResponse {
  std::string deal_reference;
  friend bool operator==(const DealReferenceResponse&, const DealReferenceResponse&) = default;
};

// positions[].position. Required: dealId, direction, size, level.
struct Position {
  Decimal contract_size = Decimal(1, 0);
  std::string created_date;
  std::string created_date_utc;
  std::string deal_id;
  std::string deal_reference;  // "p_" + dealId
  std::string working_order_id;
  Decimal size;
  Decimal leverage;
  Decimal upl;
  Side direction = Side::kBuy;
  Decimal level;
  std::string currency;
  bool guaranteed_stop = false;
  std::optional<bool> trailing_stop;  // [unconfirmed names] below
  std::optional<Decimal> stop_level;
  std::optional<Decimal> stop_distance;
  std::optional<Decimal> profit_level;
  std::optional<Decimal> profit_distance;
  friend bool operator==(const Position&, const Position&) = default;
};

// GET /positions item and GET /positions/{dealId}. Required: position, market.
struct PositionItem {
  Position position;
  MarketSummary market;
  friend bool operator==(const PositionItem&, const PositionItem&) = default;
};

// GET /positions. Required: positions.
struct PositionsResponse {
  std::vector<PositionItem> positions;
  friend bool operator==(const PositionsResponse&, const PositionsResponse&) = default;
};

// workingOrders[].workingOrderData. Required: dealId, direction, epic, orderSize, orderLevel,
// orderType.
struct WorkingOrderData {
  std::string deal_id;
  Side direction = Side::kBuy;
  std::string epic;
  Decimal order_size;
  Decimal order_level;
  WorkingOrderTimeInForce time_in_force = WorkingOrderTimeInForce::kGoodTillCancelled;
  std::optional<std::string> good_till_date;
  std::optional<std::string> good_till_date_utc;
  std::string created_date;
  std::string created_date_utc;
  bool guaranteed_stop = false;
  WorkingOrderType order_type = WorkingOrderType::kLimit;
  std::optional<Decimal> stop_level;
  std::optional<Decimal> stop_distance;
  std::optional<Decimal> profit_level;
  std::optional<Decimal> profit_distance;
  std::string currency_code;
  friend bool operator==(const WorkingOrderData&, const WorkingOrderData&) = default;
};

struct WorkingOrderItem {
  WorkingOrderData working_order_data;
  MarketSummary market_data;
  friend bool operator==(const WorkingOrderItem&, const WorkingOrderItem&) = default;
};

// GET /workingorders. Required: workingOrders.
struct WorkingOrdersResponse {
  std::vector<WorkingOrderItem> working_orders;
  friend bool operator==(const WorkingOrdersResponse&, const WorkingOrdersResponse&) = default;
};

// GET /history/activity (detailed=true adds details). source, type and status stay the
// broker's text: they are open sets (e.g. status ACCEPTED, EXECUTED, REJECTED, CANCELLED).
// Required: dateUTC, epic, dealId, type, status.
struct ActivityDetails {
  std::string deal_reference;
  std::string market_name;
  std::string currency;
  Decimal size;
  Side direction = Side::kBuy;
  Decimal level;
  bool guaranteed_stop = false;
  friend bool operator==(const ActivityDetails&, const ActivityDetails&) = default;
};

struct Activity {
  std::string date;
  std::string date_utc;
  std::string epic;
  std::string deal_id;
  std::string source;
  std::string type;
  std::string status;
  std::optional<ActivityDetails> details;
  friend bool operator==(const Activity&, const Activity&) = default;
};

struct ActivityHistoryResponse {
  std::vector<Activity> activities;
  friend bool operator==(const ActivityHistoryResponse&, const ActivityHistoryResponse&) = default;
};

struct AffectedDeal {
  std::string deal_id;  // the position id
  AffectedDealStatus status = AffectedDealStatus::kUnknown;
  friend bool operator==(const AffectedDeal&, const AffectedDeal&) = default;
};

// GET /confirms/{dealReference}. Required: dealStatus, dealReference. The position id is
// affected_deals[].deal_id; deal_id is the order's id.
struct DealConfirmation {
  std::string date;
  std::optional<DealOutcome> status;
  std::string reason;  // "SUCCESS" or a code such as INSUFFICIENT_FUNDS
  DealStatus deal_status = DealStatus::kAccepted;
  std::string epic;
  std::string deal_reference;
  std::string deal_id;
  std::vector<AffectedDeal> affected_deals;
  std::optional<Decimal> level;
  std::optional<Decimal> size;
  std::optional<Side> direction;
  bool guaranteed_stop = false;
  bool trailing_stop = false;
  std::optional<Decimal> stop_level;  // [unconfirmed live] below
  std::optional<Decimal> profit_level;
  std::optional<Decimal> stop_distance;
  std::optional<Decimal> profit_distance;
  std::optional<Decimal> profit;
  std::optional<std::string> profit_currency;
  friend bool operator==(const DealConfirmation&, const DealConfirmation&) = default;
};

// ---------------------------------------------------------------- errors (section 7)

// {"errorCode":"<code>[: <detail>]"}, split at the first ": ".
// "error.invalid.stoploss.minvalue: 17.146" → code "error.invalid.stoploss.minvalue",
// detail "17.146". Required: errorCode.
struct ErrorBody {
  std::string code;
  std::string detail;
  std::string wire_text() const { return detail.empty() ? code : code + ": " + detail; }
  friend bool operator==(const ErrorBody&, const ErrorBody&) = default;
};

// ---------------------------------------------------------------- WebSocket (section 6)

// Client → server envelope. destination selects which payload members are written:
//   marketData.subscribe/unsubscribe   {"epics":[...]}
//   OHLCMarketData.subscribe           {"epics":[...],"resolutions":[...]?,"type":"classic"?}
//   OHLCMarketData.unsubscribe         {"epics":[...],"resolutions":[...]?,"types":[...]?}
//   ping                               no payload
// Required: destination, cst, securityToken (correlationId may be a string or a number).
struct WsRequest {
  WsDestination destination = WsDestination::kPing;
  std::string correlation_id;
  std::string cst;
  std::string security_token;
  std::vector<std::string> epics;
  std::vector<std::string> resolutions;  // OHLC only; empty = not sent (MINUTE default)
  std::optional<std::string> ohlc_type;  // OHLC subscribe "type" (classic|heikin-ashi)
  std::vector<std::string> ohlc_types;   // OHLC unsubscribe "types"; empty = not sent
  friend bool operator==(const WsRequest&, const WsRequest&) = default;
};

// Server ack of a (un)subscribe, market data or OHLC: payload.subscriptions in arrival order,
// e.g. {"GOLD","PROCESSED"} or {"GOLD:MINUTE_5:classic","PROCESSED"}.
struct WsSubscriptionReply {
  WsDestination destination = WsDestination::kMarketDataSubscribe;
  std::string correlation_id;
  std::vector<std::pair<std::string, std::string>> subscriptions;
  friend bool operator==(const WsSubscriptionReply&, const WsSubscriptionReply&) = default;
};

// Server reply to ping: {"status":"OK","destination":"ping","correlationId":"..","payload":{}}.
struct WsPingReply {
  std::string correlation_id;
  friend bool operator==(const WsPingReply&, const WsPingReply&) = default;
};

// destination "quote" payload. Required: epic, bid, ofr, timestamp.
struct WsQuote {
  std::string epic;
  std::string product = "CFD";
  double bid = 0;
  double bid_qty = 0;
  double ofr = 0;  // the ask
  double ofr_qty = 0;
  int64_t timestamp = 0;  // epoch ms
  friend bool operator==(const WsQuote&, const WsQuote&) = default;
};

// destination "ohlc.event" payload. Required: epic, resolution, t, o, h, l, c.
struct WsOhlcBar {
  std::string resolution;  // MINUTE, MINUTE_5, ...
  std::string epic;
  std::string type = "classic";
  std::string price_type = "bid";
  int64_t t = 0;  // bar start, epoch ms
  double o = 0;
  double h = 0;
  double l = 0;
  double c = 0;
  friend bool operator==(const WsOhlcBar&, const WsOhlcBar&) = default;
};

// status "ERROR" for any request. destination is kept as text (it echoes the request's).
struct WsErrorReply {
  std::string destination;
  std::string correlation_id;
  ErrorBody error;  // payload.errorCode [unconfirmed]; empty code when the payload has none
  friend bool operator==(const WsErrorReply&, const WsErrorReply&) = default;
};

using WsServerMessage =
    std::variant<WsSubscriptionReply, WsPingReply, WsQuote, WsOhlcBar, WsErrorReply>;

// ---------------------------------------------------------------- enum text

std::string_view to_string(MarketStatus s);
std::string_view to_string(RuleUnit u);
std::string_view to_string(DealStatus s);
std::string_view to_string(DealOutcome s);
std::string_view to_string(AffectedDealStatus s);
std::string_view to_string(WorkingOrderType t);
std::string_view to_string(WorkingOrderTimeInForce t);
std::string_view to_string(WsDestination d);
std::string_view to_string(WsStatus s);

// Text → enum; false when the text is not one of the documented values.
bool from_string(std::string_view text, MarketStatus& out);
bool from_string(std::string_view text, RuleUnit& out);
bool from_string(std::string_view text, DealStatus& out);
bool from_string(std::string_view text, DealOutcome& out);
bool from_string(std::string_view text, AffectedDealStatus& out);
bool from_string(std::string_view text, WorkingOrderType& out);
bool from_string(std::string_view text, WorkingOrderTimeInForce& out);
bool from_string(std::string_view text, WsDestination& out);
bool from_string(std::string_view text, WsStatus& out);
bool from_string(std::string_view text, Side& out);

}  // namespace qt::capital
