// Pre-trade risk: every new order passes RiskCheck::check_new_order before it exists; each
// refusal names exactly one RejectReason.
//
// Checks, in order: kill switch, trading state HALTED, instrument known, size valid (positive,
// ≥ minimum, on the increment, ≤ the venue's max), limit price valid (positive, on the tick),
// duplicate client order id, order-rate throttle per source (token bucket), max order size,
// max order notional, price collar of a limit order against the last mid, then max net position
// (worst case: position + same-side open orders + this order) and, in REDUCING, that the order
// only shrinks the position. An instrument can be REDUCING on its own (reconciliation found the
// engine's position differing from the broker's): the same rule, for that instrument only.
//
// Owned by the engine thread (no synchronisation); fixed-size state, no allocation.
#pragma once

#include <array>
#include <cstdint>

#include "engine/instrument.hpp"
#include "engine/messages.hpp"
#include "engine/types.hpp"

namespace qt {

struct InstrumentRiskLimits {
  SizeUnits max_order_size = 0;  // 0 = unlimited
  SizeUnits max_position = 0;    // absolute net; 0 = unlimited
};

struct RiskLimits {
  MoneyUnits max_order_notional = 0;  // 0 = unlimited
  int64_t price_collar_bps = 0;       // 0 = no collar
  int64_t max_orders_per_second = 0;  // per source; 0 = unlimited
  std::array<InstrumentRiskLimits, kMaxInstruments> instruments{};
};

// What the engine knows at the moment of the check.
struct RiskContext {
  const InstrumentSpec* spec = nullptr;  // null when the instrument is unknown
  const Quote* last_quote = nullptr;     // null before the first quote
  SizeUnits net_position = 0;
  SizeUnits open_buy_size = 0;   // leaves of live buy orders
  SizeUnits open_sell_size = 0;  // leaves of live sell orders
  bool duplicate_client_order_id = false;
  int64_t now_ns = 0;
};

class RiskCheck {
 public:
  static constexpr std::size_t kMaxSources = 1024;

  explicit RiskCheck(const RiskLimits& limits) : limits_(limits) {}

  RejectReason check_new_order(const NewOrder& order, const RiskContext& context);

  TradingState trading_state() const { return trading_state_; }
  void set_trading_state(TradingState state) { trading_state_ = state; }
  bool kill_switch_engaged() const { return kill_switch_; }
  void engage_kill_switch() { kill_switch_ = true; }
  void reset_kill_switch() { kill_switch_ = false; }
  void set_instrument_reducing(InstrumentId instrument, bool reducing) {
    if (instrument < kMaxInstruments) instrument_reducing_[instrument] = reducing;
  }
  bool instrument_reducing(InstrumentId instrument) const {
    return instrument < kMaxInstruments && instrument_reducing_[instrument];
  }
  void clear_instrument_reducing() { instrument_reducing_.fill(false); }
  const RiskLimits& limits() const { return limits_; }

 private:
  bool take_rate_token(SourceId source, int64_t now_ns);

  struct TokenBucket {
    int64_t tokens_ns = -1;  // tokens scaled by 1e9; -1 = never used (starts full)
    int64_t last_ns = 0;
  };

  RiskLimits limits_;
  TradingState trading_state_ = TradingState::kActive;
  bool kill_switch_ = false;
  std::array<bool, kMaxInstruments> instrument_reducing_{};
  std::array<TokenBucket, kMaxSources> buckets_{};
};

}  // namespace qt
