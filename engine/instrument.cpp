#include "engine/instrument.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace qt {

std::string_view InstrumentSpec::name() const {
  return {symbol.data(), ::strnlen(symbol.data(), symbol.size())};
}

MoneyUnits InstrumentSpec::notional(PriceUnits price, SizeUnits size) const {
  return money_from_value(static_cast<__int128>(price) * size);
}

MoneyUnits InstrumentSpec::money_from_value(__int128 price_times_size) const {
  const __int128 raw = price_times_size * contract_multiplier * kMoneyScale;
  const __int128 divisor = static_cast<__int128>(price_scale()) * size_scale();
  return static_cast<MoneyUnits>(raw / divisor);
}

PriceUnits InstrumentSpec::price_from_double(double price) const {
  return static_cast<PriceUnits>(std::llround(price * static_cast<double>(price_scale())));
}
double InstrumentSpec::price_to_double(PriceUnits price) const {
  return static_cast<double>(price) / static_cast<double>(price_scale());
}
SizeUnits InstrumentSpec::size_from_double(double size) const {
  return static_cast<SizeUnits>(std::llround(size * static_cast<double>(size_scale())));
}
double InstrumentSpec::size_to_double(SizeUnits size) const {
  return static_cast<double>(size) / static_cast<double>(size_scale());
}

InstrumentSpec make_instrument(InstrumentId id, std::string_view symbol, int price_decimals,
                               int size_decimals, double tick, double min_size,
                               double size_increment, double max_size) {
  InstrumentSpec spec;
  spec.id = id;
  std::memcpy(spec.symbol.data(), symbol.data(), std::min(symbol.size(), spec.symbol.size() - 1));
  spec.price_decimals = static_cast<int8_t>(price_decimals);
  spec.size_decimals = static_cast<int8_t>(size_decimals);
  spec.tick = std::max<PriceUnits>(1, spec.price_from_double(tick));
  spec.min_size = std::max<SizeUnits>(1, spec.size_from_double(min_size));
  spec.size_increment = std::max<SizeUnits>(1, spec.size_from_double(size_increment));
  spec.max_size = spec.size_from_double(max_size);
  return spec;
}

}  // namespace qt
