#include "engine/strategies/moving_average_crossover.hpp"

#include <spdlog/spdlog.h>

namespace qt {

MovingAverageCrossover::MovingAverageCrossover(Params params)
    : params_(std::move(params)), window_(static_cast<std::size_t>(params_.slow_window), 0) {}

void MovingAverageCrossover::on_start(StrategyContext& context) {
  const InstrumentSpec* spec = context.instrument(params_.instrument);
  if (spec == nullptr) {
    spdlog::error("ma_crossover: unknown instrument {}", params_.instrument);
    return;
  }
  instrument_ = spec->id;
  target_size_ = spec->size_from_double(params_.size);
  ready_ = true;
  context.subscribe(instrument_);
}

void MovingAverageCrossover::on_quote(StrategyContext& context, const Quote& quote) {
  if (!ready_ || quote.instrument != instrument_) return;
  const auto slow = static_cast<std::size_t>(params_.slow_window);
  const auto fast = static_cast<std::size_t>(params_.fast_window);
  const int64_t mid2 = quote.bid + quote.ask;
  // The price leaving the fast window is the one `fast` quotes ago.
  if (count_ >= fast) fast_sum_ -= window_[(count_ - fast) % slow];
  if (count_ >= slow) slow_sum_ -= window_[count_ % slow];
  window_[count_ % slow] = mid2;
  fast_sum_ += mid2;
  slow_sum_ += mid2;
  ++count_;
  if (count_ < slow) return;
  // fast_sum/fast vs slow_sum/slow, cross-multiplied to stay in integers.
  const __int128 lhs = static_cast<__int128>(fast_sum_) * params_.slow_window;
  const __int128 rhs = static_cast<__int128>(slow_sum_) * params_.fast_window;
  const int new_signal = lhs > rhs ? 1 : (lhs < rhs ? -1 : signal_);
  if (new_signal != signal_) {
    signal_ = new_signal;
    rebalance(context);
  }
}

void MovingAverageCrossover::rebalance(StrategyContext& context) {
  if (in_flight_ != 0 || signal_ == 0) return;
  const SizeUnits wanted = signal_ * target_size_;
  const SizeUnits delta = wanted - context.position(instrument_).net_size();
  if (delta == 0) return;
  OrderRequest request;
  request.instrument = instrument_;
  request.side = delta > 0 ? Side::kBuy : Side::kSell;
  request.type = OrderType::kMarket;
  request.size = delta > 0 ? delta : -delta;
  const SubmitResult result = context.submit(request);
  if (result.accepted()) {
    in_flight_ = result.order_id;
    ++orders_submitted_;
  }
}

void MovingAverageCrossover::on_order_update(StrategyContext& context, const OrderUpdate& update) {
  if (update.order_id != in_flight_ || !is_terminal(update.state)) return;
  in_flight_ = 0;
  rebalance(context);  // the signal may have flipped while the order was out
}

void MovingAverageCrossover::on_stop(StrategyContext& context) {
  context.cancel_all();
}

}  // namespace qt
