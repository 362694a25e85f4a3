#include "engine/strategies/simple_quoter.hpp"

#include <spdlog/spdlog.h>

#include <cmath>

namespace qt {

void SimpleQuoter::on_start(StrategyContext& context) {
  const InstrumentSpec* spec = context.instrument(params_.instrument);
  if (spec == nullptr) {
    spdlog::error("quoter: unknown instrument {}", params_.instrument);
    return;
  }
  instrument_ = spec->id;
  size_ = spec->size_from_double(params_.size);
  max_position_ = spec->size_from_double(params_.max_position);
  offset_bps_x100_ = std::llround(params_.quote_offset_bps * 100);
  ready_ = true;
  context.subscribe(instrument_);
  context.set_timer(static_cast<int64_t>(params_.timer_ms) * 1'000'000);
}

void SimpleQuoter::on_timer(StrategyContext& context, int64_t) {
  if (!ready_) return;
  const Quote* quote = context.last_quote(instrument_);
  if (quote == nullptr) return;
  const InstrumentSpec& spec = context.instrument(instrument_);
  // Exact targets mid * (1 ∓ bps/10^4), with mid = mid2 / 2 and bps carried as bps * 100:
  // bid = floor(mid2 * (10^6 - bps_x100) / (2 * 10^6)), ask = ceil(mid2 * (10^6 + bps_x100) / ...),
  // then outwards onto the tick grid so a quote never sits closer than asked.
  const __int128 mid2 = static_cast<__int128>(quote->bid) + quote->ask;
  const __int128 scale = 2'000'000;
  const auto bid_exact = static_cast<PriceUnits>(mid2 * (1'000'000 - offset_bps_x100_) / scale);
  const auto ask_exact =
      static_cast<PriceUnits>((mid2 * (1'000'000 + offset_bps_x100_) + scale - 1) / scale);
  const PriceUnits bid = (bid_exact / spec.tick) * spec.tick;
  const PriceUnits ask = ((ask_exact + spec.tick - 1) / spec.tick) * spec.tick;
  requote(context, Side::kBuy, bid);
  requote(context, Side::kSell, ask);
}

void SimpleQuoter::requote(StrategyContext& context, Side side, PriceUnits target) {
  const auto index = static_cast<std::size_t>(side);
  if (live_[index] != 0) {
    if (live_price_[index] != target) context.cancel(live_[index]);  // replaced once canceled
    return;
  }
  const SizeUnits net = context.position(instrument_).net_size();
  const SizeUnits after = net + side_sign(side) * size_;
  if (after > max_position_ || after < -max_position_) return;
  OrderRequest request;
  request.instrument = instrument_;
  request.side = side;
  request.type = OrderType::kLimit;
  request.limit_price = target;
  request.size = size_;
  const SubmitResult result = context.submit(request);
  if (result.accepted()) {
    live_[index] = result.order_id;
    live_price_[index] = target;
  }
}

void SimpleQuoter::on_order_update(StrategyContext&, const OrderUpdate& update) {
  const auto index = static_cast<std::size_t>(update.side);
  if (update.order_id == live_[index] && is_terminal(update.state)) live_[index] = 0;
}

void SimpleQuoter::on_stop(StrategyContext& context) {
  context.cancel_all();
}

}  // namespace qt
