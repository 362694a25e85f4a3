// Example strategy: moving-average crossover. Tracks fast and slow simple moving averages of
// the mid price of one instrument; when the fast average is above the slow one it targets a
// long position of `size`, below it a short one, and trades the difference with market orders,
// one order in flight at a time. Prices stay in fixed point (sums of bid+ask, no floats).
// Runs on the engine thread; the price windows are allocated in the constructor.
#pragma once

#include <string>
#include <vector>

#include "engine/strategy.hpp"

namespace qt {

class MovingAverageCrossover final : public Strategy {
 public:
  struct Params {
    std::string instrument;
    double size = 1;
    int fast_window = 20;
    int slow_window = 80;
  };
  explicit MovingAverageCrossover(Params params);

  std::string_view name() const override { return "ma_crossover"; }
  void on_start(StrategyContext& context) override;
  void on_quote(StrategyContext& context, const Quote& quote) override;
  void on_order_update(StrategyContext& context, const OrderUpdate& update) override;
  void on_stop(StrategyContext& context) override;

  int signal() const { return signal_; }  // +1 long, -1 short, 0 not yet warmed up
  uint64_t orders_submitted() const { return orders_submitted_; }

 private:
  void rebalance(StrategyContext& context);

  Params params_;
  InstrumentId instrument_ = 0;
  bool ready_ = false;
  SizeUnits target_size_ = 0;
  std::vector<int64_t> window_;  // last slow_window mids (as bid+ask)
  std::size_t count_ = 0;
  int64_t fast_sum_ = 0;
  int64_t slow_sum_ = 0;
  int signal_ = 0;
  OrderId in_flight_ = 0;
  uint64_t orders_submitted_ = 0;
};

}  // namespace qt
