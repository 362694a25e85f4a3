// Text of the protocol's enumerations, exactly as the venue spells them.
#include <array>
#include <utility>

#include "gateway/capital/protocol/messages.hpp"

namespace qt::capital {
namespace {

template <typename E, std::size_t N>
using Table = std::array<std::pair<E, std::string_view>, N>;

constexpr Table<MarketStatus, 8> kMarketStatus = {{
    {MarketStatus::kUnknown, "UNKNOWN"},
    {MarketStatus::kTradeable, "TRADEABLE"},
    {MarketStatus::kClosed, "CLOSED"},
    {MarketStatus::kEditsOnly, "EDITS_ONLY"},
    {MarketStatus::kOffline, "OFFLINE"},
    {MarketStatus::kOnAuction, "ON_AUCTION"},
    {MarketStatus::kOnAuctionNoEdits, "ON_AUCTION_NO_EDITS"},
    {MarketStatus::kSuspended, "SUSPENDED"},
}};
constexpr Table<RuleUnit, 2> kRuleUnit = {{
    {RuleUnit::kPoints, "POINTS"},
    {RuleUnit::kPercentage, "PERCENTAGE"},
}};
constexpr Table<DealStatus, 2> kDealStatus = {{
    {DealStatus::kAccepted, "ACCEPTED"},
    {DealStatus::kRejected, "REJECTED"},
}};
constexpr Table<DealOutcome, 6> kDealOutcome = {{
    {DealOutcome::kUnknown, "UNKNOWN"},
    {DealOutcome::kOpen, "OPEN"},
    {DealOutcome::kAmended, "AMENDED"},
    {DealOutcome::kClosed, "CLOSED"},
    {DealOutcome::kDeleted, "DELETED"},
    {DealOutcome::kPartiallyClosed, "PARTIALLY_CLOSED"},
}};
constexpr Table<AffectedDealStatus, 6> kAffectedDealStatus = {{
    {AffectedDealStatus::kUnknown, "UNKNOWN"},
    {AffectedDealStatus::kOpened, "OPENED"},
    {AffectedDealStatus::kAmended, "AMENDED"},
    {AffectedDealStatus::kDeleted, "DELETED"},
    {AffectedDealStatus::kFullyClosed, "FULLY_CLOSED"},
    {AffectedDealStatus::kPartiallyClosed, "PARTIALLY_CLOSED"},
}};
constexpr Table<WorkingOrderType, 2> kWorkingOrderType = {{
    {WorkingOrderType::kLimit, "LIMIT"},
    {WorkingOrderType::kStop, "STOP"},
}};
constexpr Table<WorkingOrderTimeInForce, 2> kTimeInForce = {{
    {WorkingOrderTimeInForce::kGoodTillCancelled, "GOOD_TILL_CANCELLED"},
    {WorkingOrderTimeInForce::kGoodTillDate, "GOOD_TILL_DATE"},
}};
constexpr Table<WsDestination, 8> kWsDestination = {{
    {WsDestination::kUnknown, "unknown"},
    {WsDestination::kMarketDataSubscribe, "marketData.subscribe"},
    {WsDestination::kMarketDataUnsubscribe, "marketData.unsubscribe"},
    {WsDestination::kOhlcSubscribe, "OHLCMarketData.subscribe"},
    {WsDestination::kOhlcUnsubscribe, "OHLCMarketData.unsubscribe"},
    {WsDestination::kPing, "ping"},
    {WsDestination::kQuote, "quote"},
    {WsDestination::kOhlcEvent, "ohlc.event"},
}};
constexpr Table<WsStatus, 2> kWsStatus = {{
    {WsStatus::kOk, "OK"},
    {WsStatus::kError, "ERROR"},
}};
constexpr Table<Side, 2> kSide = {{
    {Side::kBuy, "BUY"},
    {Side::kSell, "SELL"},
}};

template <typename E, std::size_t N>
std::string_view text_of(const Table<E, N>& table, E value) {
  for (const auto& [e, text] : table) {
    if (e == value) return text;
  }
  return "?";
}

// The kUnknown placeholder text ("UNKNOWN") is never accepted from the wire.
template <typename E, std::size_t N>
bool value_of(const Table<E, N>& table, std::string_view text, E& out) {
  for (const auto& [e, name] : table) {
    if (name == text && name != "UNKNOWN" && name != "unknown") {
      out = e;
      return true;
    }
  }
  return false;
}

}  // namespace

std::string_view to_string(MarketStatus s) {
  return text_of(kMarketStatus, s);
}
std::string_view to_string(RuleUnit u) {
  return text_of(kRuleUnit, u);
}
std::string_view to_string(DealStatus s) {
  return text_of(kDealStatus, s);
}
std::string_view to_string(DealOutcome s) {
  return text_of(kDealOutcome, s);
}
std::string_view to_string(AffectedDealStatus s) {
  return text_of(kAffectedDealStatus, s);
}
std::string_view to_string(WorkingOrderType t) {
  return text_of(kWorkingOrderType, t);
}
std::string_view to_string(WorkingOrderTimeInForce t) {
  return text_of(kTimeInForce, t);
}
std::string_view to_string(WsDestination d) {
  return text_of(kWsDestination, d);
}
std::string_view to_string(WsStatus s) {
  return text_of(kWsStatus, s);
}

bool from_string(std::string_view text, MarketStatus& out) {
  return value_of(kMarketStatus, text, out);
}
bool from_string(std::string_view text, RuleUnit& out) {
  return value_of(kRuleUnit, text, out);
}
bool from_string(std::string_view text, DealStatus& out) {
  return value_of(kDealStatus, text, out);
}
bool from_string(std::string_view text, DealOutcome& out) {
  return value_of(kDealOutcome, text, out);
}
bool from_string(std::string_view text, AffectedDealStatus& out) {
  return value_of(kAffectedDealStatus, text, out);
}
bool from_string(std::string_view text, WorkingOrderType& out) {
  return value_of(kWorkingOrderType, text, out);
}
bool from_string(std::string_view text, WorkingOrderTimeInForce& out) {
  return value_of(kTimeInForce, text, out);
}
bool from_string(std::string_view text, WsDestination& out) {
  return value_of(kWsDestination, text, out);
}
bool from_string(std::string_view text, WsStatus& out) {
  return value_of(kWsStatus, text, out);
}
bool from_string(std::string_view text, Side& out) {
  return value_of(kSide, text, out);
}

}  // namespace qt::capital
