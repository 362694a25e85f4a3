#include "sim/price_walk.hpp"

#include <algorithm>
#include <cmath>

namespace qt::sim {

namespace {

uint64_t splitmix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

uint64_t fnv1a(std::string_view text) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (const char c : text) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;
  }
  return h;
}

constexpr double kSecondsPerDay = 86'400;
constexpr double kReversionDays = 5;  // half-life scale of the pull back to the initial price

}  // namespace

uint64_t market_seed(uint64_t seed, std::string_view epic) {
  return splitmix64(seed ^ fnv1a(epic));
}

PriceWalk::PriceWalk(const MarketSpec& spec, uint64_t seed, double steps_per_second,
                     double volatility_scale)
    : scale_(spec.price_scale()),
      spread_units_(std::max<int64_t>(1, std::llround(spec.spread * spec.price_scale()))),
      initial_mid_(spec.initial_mid),
      mid_(spec.initial_mid),
      rng_(market_seed(seed, spec.epic)) {
  const double dt = 1.0 / (steps_per_second > 0 ? steps_per_second : 1.0);
  sigma_ = spec.daily_volatility_pct / 100.0 * volatility_scale * std::sqrt(dt / kSecondsPerDay);
  reversion_ = dt / (kReversionDays * kSecondsPerDay);
  requote(0);
  open_bid_ = high_bid_ = low_bid_ = quote_.bid;
}

void PriceWalk::requote(int64_t epoch_ms) {
  const double mid_units = mid_ * static_cast<double>(scale_);
  quote_.bid =
      std::max<int64_t>(1, std::llround(mid_units - static_cast<double>(spread_units_) / 2.0));
  quote_.ask = quote_.bid + spread_units_;
  quote_.epoch_ms = epoch_ms;
  high_bid_ = std::max(high_bid_, quote_.bid);
  low_bid_ = low_bid_ == 0 ? quote_.bid : std::min(low_bid_, quote_.bid);
}

const SimQuote& PriceWalk::step(int64_t epoch_ms) {
  const double z = normal_(rng_);
  mid_ *= std::exp(sigma_ * z - reversion_ * std::log(mid_ / initial_mid_));
  ++quote_.step;
  requote(epoch_ms);
  return quote_;
}

const SimQuote& PriceWalk::set_mid(double mid, int64_t epoch_ms) {
  mid_ = mid;
  requote(epoch_ms);
  return quote_;
}

std::optional<Resolution> parse_resolution(std::string_view text) {
  for (const Resolution r : kAllResolutions) {
    if (to_string(r) == text) return r;
  }
  return std::nullopt;
}

std::string_view to_string(Resolution r) {
  switch (r) {
    case Resolution::kMinute: return "MINUTE";
    case Resolution::kMinute5: return "MINUTE_5";
    case Resolution::kMinute15: return "MINUTE_15";
    case Resolution::kMinute30: return "MINUTE_30";
    case Resolution::kHour: return "HOUR";
    case Resolution::kHour4: return "HOUR_4";
    case Resolution::kDay: return "DAY";
    case Resolution::kWeek: return "WEEK";
  }
  return "MINUTE";
}

int64_t resolution_seconds(Resolution r) {
  switch (r) {
    case Resolution::kMinute: return 60;
    case Resolution::kMinute5: return 300;
    case Resolution::kMinute15: return 900;
    case Resolution::kMinute30: return 1800;
    case Resolution::kHour: return 3600;
    case Resolution::kHour4: return 14'400;
    case Resolution::kDay: return 86'400;
    case Resolution::kWeek: return 604'800;
  }
  return 60;
}

int64_t bar_start_ms(Resolution r, int64_t epoch_ms) {
  const int64_t period_ms = resolution_seconds(r) * 1000;
  if (r == Resolution::kWeek) {
    // The epoch was a Thursday; Monday 1970-01-05 is 4 days later.
    const int64_t monday_offset = 4 * 86'400'000LL;
    const int64_t shifted = epoch_ms - monday_offset;
    const int64_t floored =
        shifted >= 0 ? shifted / period_ms : (shifted - period_ms + 1) / period_ms;
    return floored * period_ms + monday_offset;
  }
  return epoch_ms / period_ms * period_ms;
}

std::vector<PriceBar> price_history(const MarketSpec& spec, uint64_t seed, Resolution r,
                                    int64_t now_ms, double current_mid, std::size_t count) {
  std::vector<PriceBar> bars(count);
  if (count == 0) return bars;
  const int64_t period_ms = resolution_seconds(r) * 1000;
  const int64_t last_start = bar_start_ms(r, now_ms);
  std::mt19937_64 rng(splitmix64(market_seed(seed, spec.epic) ^
                                 splitmix64(static_cast<uint64_t>(period_ms)) ^
                                 static_cast<uint64_t>(last_start)));
  std::normal_distribution<double> normal(0.0, 1.0);
  std::uniform_int_distribution<int64_t> volume(40, 320);
  const double sigma = spec.daily_volatility_pct / 100.0 *
                       std::sqrt(static_cast<double>(period_ms) / 1000.0 / kSecondsPerDay);
  const double scale = static_cast<double>(spec.price_scale());
  const int64_t spread_units = std::max<int64_t>(1, std::llround(spec.spread * scale));
  auto units = [&](double mid) {
    return std::max<int64_t>(1, std::llround(mid * scale - static_cast<double>(spread_units) / 2));
  };
  // Walk backwards from the current price: the close of bar i-1 is the open of bar i.
  double close = current_mid;
  for (std::size_t n = count; n-- > 0;) {
    const double open = close * std::exp(-sigma * normal(rng));
    const double high = std::max(open, close) * std::exp(std::abs(normal(rng)) * sigma * 0.4);
    const double low = std::min(open, close) * std::exp(-std::abs(normal(rng)) * sigma * 0.4);
    PriceBar& bar = bars[n];
    bar.start_ms = last_start - static_cast<int64_t>(count - 1 - n) * period_ms;
    bar.open_bid = units(open);
    bar.close_bid = units(close);
    bar.high_bid = std::max({units(high), bar.open_bid, bar.close_bid});
    bar.low_bid = std::min({units(low), bar.open_bid, bar.close_bid});
    bar.spread_units = spread_units;
    bar.volume = volume(rng);
    close = open;
  }
  return bars;
}

}  // namespace qt::sim
