#include "engine/types.hpp"

namespace qt {

std::string_view to_string(OrderState s) {
  switch (s) {
    case OrderState::kPendingNew: return "PendingNew";
    case OrderState::kNew: return "New";
    case OrderState::kPartiallyFilled: return "PartiallyFilled";
    case OrderState::kFilled: return "Filled";
    case OrderState::kCanceled: return "Canceled";
    case OrderState::kRejected: return "Rejected";
    case OrderState::kPendingCancel: return "PendingCancel";
    case OrderState::kUnknown: return "Unknown";
    case OrderState::kReconciled: return "Reconciled";
  }
  return "?";
}

std::string_view to_string(Side s) {
  return s == Side::kBuy ? "BUY" : "SELL";
}
std::string_view to_string(OrderType t) {
  return t == OrderType::kMarket ? "MARKET" : "LIMIT";
}

std::string_view to_string(RejectReason r) {
  switch (r) {
    case RejectReason::kNone: return "none";
    case RejectReason::kUnknownInstrument: return "unknown_instrument";
    case RejectReason::kInvalidSize: return "invalid_size";
    case RejectReason::kInvalidPrice: return "invalid_price";
    case RejectReason::kMaxOrderSize: return "max_order_size";
    case RejectReason::kMaxOrderNotional: return "max_order_notional";
    case RejectReason::kMaxPosition: return "max_position";
    case RejectReason::kPriceCollar: return "price_collar";
    case RejectReason::kNoMarketData: return "no_market_data";
    case RejectReason::kRateThrottle: return "rate_throttle";
    case RejectReason::kDuplicateClientOrderId: return "duplicate_client_order_id";
    case RejectReason::kTradingHalted: return "trading_halted";
    case RejectReason::kReducingOnly: return "reducing_only";
    case RejectReason::kKillSwitch: return "kill_switch";
    case RejectReason::kOrderPoolExhausted: return "order_pool_exhausted";
    case RejectReason::kUnknownOrder: return "unknown_order";
    case RejectReason::kNotCancelable: return "not_cancelable";
    case RejectReason::kVenueRejected: return "venue_rejected";
    case RejectReason::kVenueBusy: return "venue_busy";
    case RejectReason::kVenueNotExecuted: return "venue_not_executed";
    case RejectReason::kJournalBusy: return "journal_busy";
    case RejectReason::kNotReady: return "not_ready";
    case RejectReason::kJournalFailed: return "journal_failed";
    case RejectReason::kCount: break;
  }
  return "?";
}

std::string_view to_string(TradingState s) {
  switch (s) {
    case TradingState::kActive: return "ACTIVE";
    case TradingState::kReducing: return "REDUCING";
    case TradingState::kHalted: return "HALTED";
  }
  return "?";
}

}  // namespace qt
