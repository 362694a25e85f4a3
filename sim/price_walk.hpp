// Deterministic prices for the simulator.
//
// PriceWalk: one market's mid follows a seeded geometric random walk (per-step sigma from the
// market's daily volatility, a weak pull back to the initial price so that long runs stay
// realistic); bid and ask sit on the market's price grid with the catalogue's spread. Each
// market has its own generator, seeded from (seed, epic): the k-th step of a market is the same
// in every run with the same seed, whatever the other markets do.
//
// price_history(): bars for GET /prices, generated backwards from the current price by a
// generator seeded from (seed, epic, resolution, last bar start) — the same query at the same
// moment gives the same bars.
//
// Single-threaded objects; the simulator guards them with its mutex.
#pragma once

#include <cstdint>
#include <optional>
#include <random>
#include <string_view>
#include <vector>

#include "sim/market_catalogue.hpp"

namespace qt::sim {

struct SimQuote {
  int64_t bid = 0;  // price units: price * 10^decimals
  int64_t ask = 0;
  int64_t epoch_ms = 0;
  uint64_t step = 0;  // how many walk steps produced this quote; 0 = initial price
};

class PriceWalk {
 public:
  PriceWalk(const MarketSpec& spec, uint64_t seed, double steps_per_second,
            double volatility_scale);

  const SimQuote& step(int64_t epoch_ms);  // one step of the walk
  const SimQuote& current() const { return quote_; }
  // Moves the mid to `mid` (tests: push the market through a working order's level).
  const SimQuote& set_mid(double mid, int64_t epoch_ms);

  double mid() const { return mid_; }
  int64_t day_open_bid() const { return open_bid_; }
  int64_t high_bid() const { return high_bid_; }
  int64_t low_bid() const { return low_bid_; }

 private:
  void requote(int64_t epoch_ms);

  int64_t scale_;
  int64_t spread_units_;
  double initial_mid_;
  double mid_;
  double sigma_;
  double reversion_;
  std::mt19937_64 rng_;
  std::normal_distribution<double> normal_{0.0, 1.0};
  SimQuote quote_;
  int64_t open_bid_ = 0;
  int64_t high_bid_ = 0;
  int64_t low_bid_ = 0;
};

enum class Resolution : uint8_t {
  kMinute,
  kMinute5,
  kMinute15,
  kMinute30,
  kHour,
  kHour4,
  kDay,
  kWeek
};
std::optional<Resolution> parse_resolution(std::string_view text);
std::string_view to_string(Resolution r);
int64_t resolution_seconds(Resolution r);
inline constexpr Resolution kAllResolutions[] = {
    Resolution::kMinute, Resolution::kMinute5, Resolution::kMinute15, Resolution::kMinute30,
    Resolution::kHour,   Resolution::kHour4,   Resolution::kDay,      Resolution::kWeek};

// Start of the bar containing `epoch_ms` (weeks start on Monday 00:00 UTC).
int64_t bar_start_ms(Resolution r, int64_t epoch_ms);

struct PriceBar {
  int64_t start_ms = 0;
  int64_t open_bid = 0, high_bid = 0, low_bid = 0, close_bid = 0;  // price units
  int64_t spread_units = 0;                                        // ask = bid + spread
  int64_t volume = 0;
};

// `count` bars of resolution `r`, oldest first, the last one being the bar containing `now_ms`
// and closing at `current_mid`.
std::vector<PriceBar> price_history(const MarketSpec& spec, uint64_t seed, Resolution r,
                                    int64_t now_ms, double current_mid, std::size_t count);

// The seed of a market's walk: a mix of the simulator seed and the epic.
uint64_t market_seed(uint64_t seed, std::string_view epic);

}  // namespace qt::sim
