// Trading domain primitives shared by every stage: identifiers, sides, order states and the
// fixed-point representation of prices, sizes and money.
//
// Guarantees: every type here is trivially copyable and allocation-free; no floating point is
// ever stored in order or position state. Prices and sizes are int64 mantissas scaled by a
// per-instrument power of ten (InstrumentSpec::price_decimals / size_decimals); money (P&L,
// notional) is int64 with the fixed kMoneyDecimals scale so it can be summed across instruments.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace qt {

inline constexpr std::size_t kCacheLine = 64;

using InstrumentId = uint16_t;  // index into the instrument table, dense from 0
using OrderId = uint64_t;       // engine-assigned, dense from 1; 0 means "none"
using SourceId = uint16_t;      // who sent a command: a strategy, a FIX session, an HTTP client
using PriceUnits = int64_t;     // price * 10^price_decimals
using SizeUnits = int64_t;      // size * 10^size_decimals
using MoneyUnits = int64_t;     // money * 10^kMoneyDecimals

inline constexpr int kMoneyDecimals = 6;
inline constexpr int64_t kMoneyScale = 1'000'000;
inline constexpr std::size_t kMaxInstruments = 256;

enum class Side : uint8_t { kBuy = 0, kSell = 1 };
enum class OrderType : uint8_t { kMarket = 0, kLimit = 1 };
enum class TimeInForce : uint8_t { kGoodTillCancel = 0, kImmediateOrCancel = 1 };

inline constexpr int64_t side_sign(Side side) {
  return side == Side::kBuy ? 1 : -1;
}
inline constexpr Side opposite(Side side) {
  return side == Side::kBuy ? Side::kSell : Side::kBuy;
}

enum class OrderState : uint8_t {
  kPendingNew = 0,
  kNew,
  kPartiallyFilled,
  kFilled,
  kCanceled,
  kRejected,
  kPendingCancel,
  kUnknown,  // sent to the venue, outcome not known; only an explicit venue answer resolves it
  // Terminal, by reconciliation with the broker's positions (or an operator) rather than by a
  // venue answer about the order itself; filled_size is what the reconciliation inferred.
  kReconciled,
};
inline constexpr std::size_t kOrderStateCount = 9;

constexpr bool is_terminal(OrderState s) {
  return s == OrderState::kFilled || s == OrderState::kCanceled || s == OrderState::kRejected ||
         s == OrderState::kReconciled;
}
std::string_view to_string(OrderState s);
std::string_view to_string(Side s);
std::string_view to_string(OrderType t);

// Why an order or cancel was refused. Every rejection carries exactly one.
enum class RejectReason : uint8_t {
  kNone = 0,
  kUnknownInstrument,
  kInvalidSize,   // zero, negative, below the minimum or off the size increment
  kInvalidPrice,  // limit order without a positive price, or off the tick
  kMaxOrderSize,
  kMaxOrderNotional,
  kMaxPosition,
  kPriceCollar,
  kNoMarketData,  // limit collar or notional check impossible without a quote
  kRateThrottle,
  kDuplicateClientOrderId,
  kTradingHalted,
  kReducingOnly,  // trading state REDUCING and the order would grow the position
  kKillSwitch,
  kOrderPoolExhausted,
  kUnknownOrder,   // cancel for an order the engine does not know
  kNotCancelable,  // cancel for an order already terminal or pending cancel
  kVenueRejected,
  kVenueBusy,         // the venue stage's ring is full: refused rather than queued blind
  kVenueNotExecuted,  // outcome was Unknown; the venue's records show it never executed
  kJournalBusy,       // the journal cannot take more records right now: refused, not queued
  kNotReady,          // the engine has not finished its start-up reconciliation with the venue yet
  kJournalFailed,     // the journal failed (disk full, I/O error): nothing can be acknowledged
  kCount
};
inline constexpr std::size_t kRejectReasonCount = static_cast<std::size_t>(RejectReason::kCount);
std::string_view to_string(RejectReason r);

enum class TradingState : uint8_t { kActive = 0, kReducing = 1, kHalted = 2 };
std::string_view to_string(TradingState s);

// Fixed-capacity, NUL-padded client order id (FIX ClOrdID, HTTP client id). Trivially copyable.
struct ClientOrderId {
  static constexpr std::size_t kCapacity = 24;
  char chars[kCapacity] = {};

  static ClientOrderId from(std::string_view text) {
    ClientOrderId id;
    std::memcpy(id.chars, text.data(), text.size() < kCapacity ? text.size() : kCapacity);
    return id;
  }
  std::string_view view() const { return {chars, ::strnlen(chars, kCapacity)}; }
  bool empty() const { return chars[0] == '\0'; }
  friend bool operator==(const ClientOrderId& a, const ClientOrderId& b) {
    return std::memcmp(a.chars, b.chars, kCapacity) == 0;
  }
};

// 10^n for n in [0, 18].
constexpr int64_t pow10(int n) {
  int64_t value = 1;
  for (int i = 0; i < n; ++i) value *= 10;
  return value;
}

}  // namespace qt
