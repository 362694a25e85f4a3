#include "sim/market_catalogue.hpp"

#include <cstdio>

namespace qt::sim {

std::string_view to_string(InstrumentType type) {
  switch (type) {
    case InstrumentType::kCommodities: return "COMMODITIES";
    case InstrumentType::kCurrencies: return "CURRENCIES";
    case InstrumentType::kIndices: return "INDICES";
    case InstrumentType::kCryptocurrencies: return "CRYPTOCURRENCIES";
    case InstrumentType::kShares: return "SHARES";
  }
  return "COMMODITIES";
}

namespace {

// "HH:MM - HH:MM" -> [start, end) in minutes of the day; an end of 00:00 is 24:00.
bool parse_window(const std::string& text, int& start, int& end) {
  int h1 = 0, m1 = 0, h2 = 0, m2 = 0;
  if (std::sscanf(text.c_str(), "%d:%d - %d:%d", &h1, &m1, &h2, &m2) != 4) return false;
  start = h1 * 60 + m1;
  end = h2 * 60 + m2;
  if (end == 0) end = 24 * 60;
  return true;
}

}  // namespace

bool OpeningHours::is_open(std::chrono::system_clock::time_point when) const {
  const int64_t seconds =
      std::chrono::duration_cast<std::chrono::seconds>(when.time_since_epoch()).count();
  const int64_t days = seconds / 86'400;
  const int weekday = static_cast<int>((days + 3) % 7);  // 1970-01-01 was a Thursday; 0 = mon
  const int minute = static_cast<int>((seconds % 86'400) / 60);
  for (const std::string& window : this->days[static_cast<std::size_t>(weekday)]) {
    int start = 0, end = 0;
    if (parse_window(window, start, end) && minute >= start && minute < end) return true;
  }
  return false;
}

int64_t MarketSpec::price_scale() const {
  int64_t scale = 1;
  for (int i = 0; i < decimals; ++i) scale *= 10;
  return scale;
}

namespace {

OpeningHours make_hours(std::vector<std::string> mon_to_thu, std::vector<std::string> fri,
                        std::vector<std::string> sat, std::vector<std::string> sun) {
  OpeningHours hours;
  for (std::size_t d = 0; d < 4; ++d) hours.days[d] = mon_to_thu;
  hours.days[4] = std::move(fri);
  hours.days[5] = std::move(sat);
  hours.days[6] = std::move(sun);
  return hours;
}

// Sunday evening to Friday evening with a daily break (metals, energy, US index CFDs, FX).
OpeningHours weekly_with_break(const std::string& close, const std::string& reopen) {
  return make_hours({"00:00 - " + close, reopen + " - 00:00"}, {"00:00 - " + close}, {},
                    {reopen + " - 00:00"});
}

OpeningHours weekdays(const std::string& window) {
  return make_hours({window}, {window}, {}, {});
}

OpeningHours every_day() {
  const std::vector<std::string> all = {"00:00 - 00:00"};
  return make_hours(all, all, all, all);
}

struct Row {
  const char* epic;
  const char* name;
  InstrumentType type;
  const char* currency;
  double usd_per_unit;
  int decimals;
  double mid;
  double spread;
  double daily_vol_pct;
  double min_size;
  double increment;
  double max_size;
  double margin_pct;
  double quote_qty;
};

std::vector<MarketSpec> build() {
  using T = InstrumentType;
  // Prices as of late 2025; spreads, sizes and margins close to the broker's retail terms.
  const Row rows[] = {
      {"GOLD", "Gold", T::kCommodities, "USD", 1, 2, 4065.0, 0.30, 1.2, 0.01, 0.01, 1000, 5, 50},
      {"SILVER", "Silver", T::kCommodities, "USD", 1, 3, 50.85, 0.020, 2.0, 0.1, 0.1, 10000, 10,
       5000},
      {"OIL_CRUDE", "US Crude Oil", T::kCommodities, "USD", 1, 2, 58.90, 0.03, 2.2, 1, 1, 20000, 10,
       5000},
      {"NATURALGAS", "Natural Gas", T::kCommodities, "USD", 1, 3, 4.512, 0.005, 3.5, 100, 100,
       500000, 10, 100000},
      {"EURUSD", "EUR/USD", T::kCurrencies, "USD", 1, 5, 1.15620, 0.00006, 0.45, 100, 100,
       50'000'000, 3.33, 1'000'000},
      {"GBPUSD", "GBP/USD", T::kCurrencies, "USD", 1, 5, 1.31150, 0.00009, 0.5, 100, 100,
       50'000'000, 3.33, 1'000'000},
      {"USDJPY", "USD/JPY", T::kCurrencies, "JPY", 1 / 156.4, 3, 156.420, 0.007, 0.55, 100, 100,
       50'000'000, 3.33, 1'000'000},
      {"AUDUSD", "AUD/USD", T::kCurrencies, "USD", 1, 5, 0.64820, 0.00007, 0.6, 100, 100,
       50'000'000, 5, 1'000'000},
      {"USDCHF", "USD/CHF", T::kCurrencies, "CHF", 1 / 0.805, 5, 0.80510, 0.00010, 0.5, 100, 100,
       50'000'000, 3.33, 1'000'000},
      {"US500", "US 500", T::kIndices, "USD", 1, 1, 6705.0, 0.4, 1.0, 0.1, 0.1, 2000, 5, 250},
      {"US100", "US Tech 100", T::kIndices, "USD", 1, 1, 24820.0, 1.0, 1.3, 0.1, 0.1, 500, 5, 100},
      {"US30", "US Wall Street 30", T::kIndices, "USD", 1, 1, 46850.0, 2.4, 0.9, 0.1, 0.1, 500, 5,
       100},
      {"DE40", "Germany 40", T::kIndices, "EUR", 1.156, 1, 23410.0, 1.4, 1.1, 0.1, 0.1, 500, 5,
       100},
      {"UK100", "UK 100", T::kIndices, "GBP", 1.3115, 1, 9620.0, 1.0, 0.9, 0.1, 0.1, 1000, 5, 250},
      {"BTCUSD", "Bitcoin/USD", T::kCryptocurrencies, "USD", 1, 2, 87250.00, 60.0, 3.5, 0.0001,
       0.0001, 100, 50, 5},
      {"ETHUSD", "Ethereum/USD", T::kCryptocurrencies, "USD", 1, 2, 2935.00, 3.0, 4.5, 0.001, 0.001,
       1000, 50, 50},
      {"AAPL", "Apple Inc", T::kShares, "USD", 1, 2, 276.50, 0.16, 1.6, 1, 1, 5000, 20, 2000},
      {"TSLA", "Tesla Inc", T::kShares, "USD", 1, 2, 419.40, 0.42, 3.8, 1, 1, 3000, 20, 1000},
      {"NVDA", "NVIDIA Corp", T::kShares, "USD", 1, 2, 181.20, 0.18, 3.0, 1, 1, 5000, 20, 2000},
      {"AMZN", "Amazon.com Inc", T::kShares, "USD", 1, 2, 229.70, 0.16, 2.0, 1, 1, 5000, 20, 2000},
  };

  std::vector<MarketSpec> markets;
  for (const Row& row : rows) {
    MarketSpec m;
    m.epic = row.epic;
    m.symbol = row.epic;
    m.name = row.name;
    m.type = row.type;
    m.currency = row.currency;
    m.usd_per_currency_unit = row.usd_per_unit;
    m.decimals = row.decimals;
    m.initial_mid = row.mid;
    m.spread = row.spread;
    m.daily_volatility_pct = row.daily_vol_pct;
    m.min_deal_size = row.min_size;
    m.min_size_increment = row.increment;
    m.max_deal_size = row.max_size;
    m.margin_factor_pct = row.margin_pct;
    m.quote_qty = row.quote_qty;
    m.min_step_distance = 1.0 / static_cast<double>(m.price_scale());
    switch (row.type) {
      case T::kCommodities:
        m.hours = m.epic == "SILVER" ? weekly_with_break("22:00", "23:05")
                                     : weekly_with_break("22:00", "23:00");
        m.min_stop_distance_pct = 0.1;
        m.max_stop_distance_pct = 30;
        m.trailing_stops_available = m.epic != "SILVER";
        break;
      case T::kCurrencies:
        m.hours = weekly_with_break("22:00", "22:05");
        m.min_stop_distance_pct = 0.05;
        m.max_stop_distance_pct = 20;
        m.overnight_long_rate = -0.0075;
        m.overnight_short_rate = -0.0012;
        break;
      case T::kIndices:
        if (m.epic == "DE40") {
          m.hours = weekdays("06:00 - 21:00");
        } else if (m.epic == "UK100") {
          m.hours = weekdays("07:00 - 21:00");
        } else {
          m.hours = weekly_with_break("21:00", "22:00");
        }
        m.min_stop_distance_pct = 0.1;
        m.max_stop_distance_pct = 30;
        break;
      case T::kCryptocurrencies:
        m.hours = every_day();
        m.min_stop_distance_pct = 0.5;
        m.max_stop_distance_pct = 50;
        m.min_guaranteed_stop_pct = 5;
        m.overnight_long_rate = -0.0616;
        m.overnight_short_rate = -0.0137;
        break;
      case T::kShares:
        m.hours = weekdays("14:30 - 21:00");
        m.min_stop_distance_pct = 0.5;
        m.max_stop_distance_pct = 50;
        m.guaranteed_stop_allowed = false;
        m.trailing_stops_available = false;
        break;
    }
    markets.push_back(std::move(m));
  }
  return markets;
}

}  // namespace

const std::vector<MarketSpec>& default_catalogue() {
  static const std::vector<MarketSpec> markets = build();
  return markets;
}

}  // namespace qt::sim
