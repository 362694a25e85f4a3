// The simulator's market catalogue: about twenty of the broker's popular markets (metals,
// energy, FX majors, indices, crypto, US shares) with realistic prices, decimals, spreads,
// dealing rules and opening hours (UTC, daylight saving ignored).
//
// Immutable after construction; any thread may read it.
#pragma once

#include <array>
#include <chrono>
#include <string>
#include <string_view>
#include <vector>

namespace qt::sim {

enum class InstrumentType : uint8_t {
  kCommodities,
  kCurrencies,
  kIndices,
  kCryptocurrencies,
  kShares
};
std::string_view to_string(InstrumentType type);  // "COMMODITIES", ... as the broker spells them

// Weekly trading windows in the broker's format: per day a list of "HH:MM - HH:MM" (UTC), an
// end of "00:00" meaning midnight at the end of that day; "00:00 - 00:00" is the whole day.
struct OpeningHours {
  std::array<std::vector<std::string>, 7> days;  // mon, tue, ..., sun

  bool is_open(std::chrono::system_clock::time_point when) const;
  static constexpr std::array<const char*, 7> kDayNames = {"mon", "tue", "wed", "thu",
                                                           "fri", "sat", "sun"};
};

struct MarketSpec {
  std::string epic;
  std::string symbol;
  std::string name;
  InstrumentType type = InstrumentType::kCommodities;
  std::string currency = "USD";
  double usd_per_currency_unit = 1;  // converts P&L and margin to the USD account

  int decimals = 2;  // decimalPlacesFactor: prices are multiples of 10^-decimals
  double initial_mid = 100;
  double spread = 0.1;  // in price
  double daily_volatility_pct = 1;
  double quote_qty = 100;  // bidQty/ofrQty on quotes

  double min_deal_size = 1;
  double min_size_increment = 1;
  double max_deal_size = 1000;
  double min_step_distance = 0.01;     // POINTS
  double min_stop_distance_pct = 0.1;  // minStopOrProfitDistance, PERCENTAGE
  double max_stop_distance_pct = 30;   // maxStopOrProfitDistance, PERCENTAGE
  double min_guaranteed_stop_pct = 2;  // minGuaranteedStopDistance, PERCENTAGE
  double margin_factor_pct = 5;
  int lot_size = 1;
  bool guaranteed_stop_allowed = true;
  bool trailing_stops_available = true;
  double overnight_long_rate = -0.0205;
  double overnight_short_rate = -0.0045;

  OpeningHours hours;

  int64_t price_scale() const;  // 10^decimals
};

// The default catalogue, in a stable order.
const std::vector<MarketSpec>& default_catalogue();

}  // namespace qt::sim
