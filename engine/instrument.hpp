// Static description of a tradable instrument: its fixed-point scales and dealing rules.
//
// Built at start-up (from config or, later, the venue's market details) and read-only after
// the engine starts, so any thread may read it without synchronisation.
#pragma once

#include <array>
#include <string_view>

#include "engine/types.hpp"

namespace qt {

struct InstrumentSpec {
  static constexpr std::size_t kSymbolCapacity = 32;

  InstrumentId id = 0;
  std::array<char, kSymbolCapacity> symbol{};  // the venue's epic, e.g. "GOLD"
  int8_t price_decimals = 2;
  int8_t size_decimals = 2;
  PriceUnits tick = 1;              // minimum price increment
  SizeUnits min_size = 1;           // minimum deal size
  SizeUnits size_increment = 1;     // sizes must be a multiple of this
  SizeUnits max_size = 0;           // venue's max deal size; 0 = no venue limit
  int64_t contract_multiplier = 1;  // money per (1 price unit * 1 size unit) is scaled by this

  std::string_view name() const;
  int64_t price_scale() const { return pow10(price_decimals); }
  int64_t size_scale() const { return pow10(size_decimals); }

  // Money value of size units at a price: price * size * multiplier, in MoneyUnits. Uses 128-bit
  // intermediates so it cannot overflow for any realistic price and size.
  MoneyUnits notional(PriceUnits price, SizeUnits size) const;

  // Money value of an exact (price units * size units) product, e.g. a position's cost basis.
  MoneyUnits money_from_value(__int128 price_times_size) const;

  PriceUnits price_from_double(double price) const;  // config and parsing only, never hot
  double price_to_double(PriceUnits price) const;    // display only
  SizeUnits size_from_double(double size) const;
  double size_to_double(SizeUnits size) const;
  double money_to_double(MoneyUnits money) const {
    return static_cast<double>(money) / kMoneyScale;
  }
};

InstrumentSpec make_instrument(InstrumentId id, std::string_view symbol, int price_decimals,
                               int size_decimals, double tick, double min_size,
                               double size_increment, double max_size);

}  // namespace qt
