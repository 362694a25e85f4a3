#include "engine/position.hpp"

namespace qt {

namespace {
int64_t abs64(int64_t v) {
  return v < 0 ? -v : v;
}
}  // namespace

void Position::apply_fill(const InstrumentSpec& spec, Side side, PriceUnits price, SizeUnits size) {
  if (size <= 0) return;
  (side == Side::kBuy ? bought_size_ : sold_size_) += size;
  const SizeUnits signed_size = side_sign(side) * size;
  const bool reduces = net_size_ != 0 && ((net_size_ > 0) != (signed_size > 0));
  if (!reduces) {
    net_size_ += signed_size;
    open_value_ += static_cast<__int128>(price) * signed_size;
    return;
  }
  const SizeUnits closed = size < abs64(net_size_) ? size : abs64(net_size_);
  // Cost of the closed part, proportional to the open basis; exact when the whole is closed.
  const __int128 closed_cost =
      closed == abs64(net_size_) ? open_value_ : open_value_ * closed / abs64(net_size_);
  const int64_t direction = net_size_ > 0 ? 1 : -1;
  const __int128 proceeds = static_cast<__int128>(price) * closed * direction;
  realized_pnl_ += spec.money_from_value(proceeds - closed_cost);
  open_value_ -= closed_cost;
  net_size_ += signed_size;
  if (closed < size) {  // flipped: the rest opens a new position at the fill price
    open_value_ = static_cast<__int128>(price) * net_size_;
  }
}

PriceUnits Position::average_price() const {
  if (net_size_ == 0) return 0;
  const __int128 half = abs64(net_size_) / 2;
  const __int128 magnitude = open_value_ < 0 ? -open_value_ : open_value_;
  return static_cast<PriceUnits>((magnitude + half) / abs64(net_size_));
}

MoneyUnits Position::unrealized_pnl(const InstrumentSpec& spec) const {
  if (net_size_ == 0 || !has_mark()) return 0;
  const PriceUnits mark_price = net_size_ > 0 ? last_bid_ : last_ask_;
  return spec.money_from_value(static_cast<__int128>(mark_price) * net_size_ - open_value_);
}

}  // namespace qt
