// Net position and P&L of one instrument, updated by fills and marked to quotes.
//
// Exact arithmetic: the open cost basis is kept as the 128-bit sum of price*size products, so
// opening, adding, reducing, flipping and closing never lose a unit to rounding; realized P&L
// of a full close is exact. Unrealized P&L marks a long at the bid and a short at the ask (what
// closing would get). Owned by the engine thread; plain data, no allocation.
#pragma once

#include "engine/instrument.hpp"
#include "engine/types.hpp"

namespace qt {

class Position {
 public:
  void apply_fill(const InstrumentSpec& spec, Side side, PriceUnits price, SizeUnits size);
  void mark(PriceUnits bid, PriceUnits ask) {
    last_bid_ = bid;
    last_ask_ = ask;
  }

  SizeUnits net_size() const { return net_size_; }
  // Size-weighted entry price of the open position, rounded to the nearest price unit; 0 when
  // flat.
  PriceUnits average_price() const;
  MoneyUnits realized_pnl() const { return realized_pnl_; }
  MoneyUnits unrealized_pnl(const InstrumentSpec& spec) const;
  MoneyUnits total_pnl(const InstrumentSpec& spec) const {
    return realized_pnl_ + unrealized_pnl(spec);
  }
  SizeUnits bought_size() const { return bought_size_; }
  SizeUnits sold_size() const { return sold_size_; }
  bool has_mark() const { return last_bid_ != 0 || last_ask_ != 0; }

 private:
  SizeUnits net_size_ = 0;   // signed: > 0 long, < 0 short
  __int128 open_value_ = 0;  // signed sum of price*size of the open part, same sign as net
  MoneyUnits realized_pnl_ = 0;
  SizeUnits bought_size_ = 0;
  SizeUnits sold_size_ = 0;
  PriceUnits last_bid_ = 0;
  PriceUnits last_ask_ = 0;
};

}  // namespace qt
