// Example strategy: a simple two-sided quoter. On every timer tick it keeps one limit bid and
// one limit offer `quote_offset_bps` away from the mid (rounded outwards to the tick), replacing
// a quote whose price has drifted from the target, and stops quoting the side that would take
// the position beyond ±max_position. Runs on the engine thread; no allocation.
#pragma once

#include <string>

#include "engine/strategy.hpp"

namespace qt {

class SimpleQuoter final : public Strategy {
 public:
  struct Params {
    std::string instrument;
    double size = 1;
    double quote_offset_bps = 5;
    double max_position = 10;
    int timer_ms = 1000;
  };
  explicit SimpleQuoter(Params params) : params_(std::move(params)) {}

  std::string_view name() const override { return "quoter"; }
  void on_start(StrategyContext& context) override;
  void on_timer(StrategyContext& context, int64_t now_ns) override;
  void on_order_update(StrategyContext& context, const OrderUpdate& update) override;
  void on_stop(StrategyContext& context) override;

  OrderId live_bid() const { return live_[0]; }
  OrderId live_ask() const { return live_[1]; }

 private:
  void requote(StrategyContext& context, Side side, PriceUnits target);

  Params params_;
  bool ready_ = false;
  InstrumentId instrument_ = 0;
  SizeUnits size_ = 0;
  SizeUnits max_position_ = 0;
  int64_t offset_bps_x100_ = 0;  // basis points * 100, integer
  OrderId live_[2] = {0, 0};     // indexed by Side
  PriceUnits live_price_[2] = {0, 0};
};

}  // namespace qt
