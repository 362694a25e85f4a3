// Markets and prices: market summaries and details, navigation, search, price history,
// client sentiment and the quote frame of the stream; see broker_state.hpp.
#include <algorithm>
#include <cmath>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "sim/broker_state.hpp"

namespace qt::sim {
namespace {

std::string node_id(InstrumentType t) {
  return "hierarchy_v1." + absl::AsciiStrToLower(std::string(to_string(t)));
}

}  // namespace

void BrokerState::write_price(JsonWriter& w, std::string_view name, std::size_t m,
                              int64_t units_value) {
  w.key(name).decimal(units_value, markets[m].decimals);
}

void BrokerState::write_size(JsonWriter& w, std::string_view name, std::size_t m, double size) {
  const int d = market_state[m].size_decimals;
  w.key(name).decimal(std::llround(size * std::pow(10.0, d)), d);
}

void BrokerState::write_money(JsonWriter& w, std::string_view name, double money) {
  w.key(name).decimal(std::llround(money * 100), 2);
}

void BrokerState::write_summary(JsonWriter& w, std::size_t m) {
  const MarketSpec& s = spec(m);
  const SimQuote& q = quote(m);
  const PriceWalk& walk = market_state[m].walk;
  const int64_t t = quote_time(m);
  const int64_t change = q.bid - walk.day_open_bid();
  w.begin_object();
  w.member("epic", s.epic).member("symbol", s.symbol).member("instrumentName", s.name);
  w.member("instrumentType", to_string(s.type)).member("expiry", "-");
  w.member("lotSize", s.lot_size);
  w.member("marketStatus", is_open(m) ? "TRADEABLE" : "CLOSED");
  write_price(w, "bid", m, q.bid);
  write_price(w, "offer", m, q.ask);
  write_price(w, "high", m, walk.high_bid());
  write_price(w, "low", m, walk.low_bid());
  write_price(w, "netChange", m, change);
  w.key("percentageChange")
      .decimal(std::llround(static_cast<double>(change) * 1e6 /
                            static_cast<double>(walk.day_open_bid())),
               4);
  w.member("updateTime", format_time(t, options.timezone_offset_hours));
  w.member("updateTimeUTC", format_time(t));
  w.member("delayTime", 0).member("streamingPricesAvailable", true).member("scalingFactor", 1);
  w.key("marketModes").begin_array().string("REGULAR").end_array();
  w.end_object();
}

void BrokerState::write_details(JsonWriter& w, std::size_t m) {
  const MarketSpec& s = spec(m);
  const SimQuote& q = quote(m);
  const PriceWalk& walk = market_state[m].walk;
  const int64_t change = q.bid - walk.day_open_bid();
  auto rule = [&](std::string_view name, std::string_view unit, double value) {
    w.key(name).begin_object().member("unit", unit).member("value", value).end_object();
  };
  w.begin_object();
  w.key("instrument").begin_object();
  w.member("epic", s.epic).member("symbol", s.symbol).member("expiry", "-");
  w.member("name", s.name).member("lotSize", s.lot_size).member("type", to_string(s.type));
  w.member("guaranteedStopAllowed", s.guaranteed_stop_allowed);
  w.member("streamingPricesAvailable", true).member("currency", s.currency);
  w.member("marginFactor", s.margin_factor_pct).member("marginFactorUnit", "PERCENTAGE");
  w.key("openingHours").begin_object();
  for (std::size_t d = 0; d < 7; ++d) {
    w.key(OpeningHours::kDayNames[d]).begin_array();
    for (const std::string& window : s.hours.days[d]) w.string(window);
    w.end_array();
  }
  w.member("zone", "UTC").end_object();
  w.key("overnightFee").begin_object();
  w.member("longRate", s.overnight_long_rate).member("shortRate", s.overnight_short_rate);
  w.member("swapChargeTimestamp", bar_start_ms(Resolution::kDay, epoch_ms_now()) + 79'200'000);
  w.member("swapChargeInterval", 1440).end_object();
  w.member("country", "").end_object();

  w.key("dealingRules").begin_object();
  rule("minStepDistance", "POINTS", s.min_step_distance);
  rule("minDealSize", "POINTS", s.min_deal_size);
  rule("maxDealSize", "POINTS", s.max_deal_size);
  rule("minSizeIncrement", "POINTS", s.min_size_increment);
  rule("minGuaranteedStopDistance", "PERCENTAGE", s.min_guaranteed_stop_pct);
  rule("minStopOrProfitDistance", "PERCENTAGE", s.min_stop_distance_pct);
  rule("maxStopOrProfitDistance", "PERCENTAGE", s.max_stop_distance_pct);
  w.member("marketOrderPreference", "AVAILABLE_DEFAULT_ON");
  w.member("trailingStopsPreference", s.trailing_stops_available ? "AVAILABLE" : "NOT_AVAILABLE");
  w.end_object();

  w.key("snapshot").begin_object();
  w.member("marketStatus", is_open(m) ? "TRADEABLE" : "CLOSED");
  write_price(w, "netChange", m, change);
  w.key("percentageChange")
      .decimal(std::llround(static_cast<double>(change) * 1e6 /
                            static_cast<double>(walk.day_open_bid())),
               4);
  w.member("updateTime", format_time(quote_time(m), options.timezone_offset_hours));
  w.member("delayTime", 0);
  write_price(w, "bid", m, q.bid);
  write_price(w, "offer", m, q.ask);
  write_price(w, "high", m, walk.high_bid());
  write_price(w, "low", m, walk.low_bid());
  w.member("decimalPlacesFactor", s.decimals).member("scalingFactor", 1);
  w.key("marketModes").begin_array().string("REGULAR").end_array();
  w.end_object();
  w.end_object();
}

std::string BrokerState::quote_frame(std::size_t m) {
  const SimQuote& q = quote(m);
  JsonWriter w;
  w.begin_object().member("status", "OK").member("destination", "quote");
  w.key("payload").begin_object();
  w.member("epic", spec(m).epic).member("product", "CFD");
  write_price(w, "bid", m, q.bid);
  w.member("bidQty", spec(m).quote_qty);
  write_price(w, "ofr", m, q.ask);
  w.member("ofrQty", spec(m).quote_qty);
  w.member("timestamp", quote_time(m));
  w.end_object().end_object();
  return w.take();
}

BrokerResponse BrokerState::navigation_root() {
  JsonWriter w;
  w.begin_object().key("nodes").begin_array();
  for (const InstrumentType t :
       {InstrumentType::kCommodities, InstrumentType::kCurrencies, InstrumentType::kIndices,
        InstrumentType::kCryptocurrencies, InstrumentType::kShares}) {
    std::string name = absl::AsciiStrToLower(std::string(to_string(t)));
    name[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(name[0])));
    w.begin_object().member("id", node_id(t)).member("name", name).end_object();
  }
  w.end_array().end_object();
  return json_ok(w.take());
}

BrokerResponse BrokerState::navigation_node(const BrokerRequest& r, const std::string& id) {
  long limit = 500;
  if (const auto it = r.query.find("limit"); it != r.query.end()) {
    char* end = nullptr;
    limit = std::strtol(it->second.c_str(), &end, 10);
    if (*end != '\0' || limit <= 0 || limit > 500) return error(400, "error.invalid.limit");
  }
  bool known = false;
  JsonWriter w;
  w.begin_object().key("nodes").begin_array().end_array().key("markets").begin_array();
  long written = 0;
  for (std::size_t m = 0; m < markets.size(); ++m) {
    if (node_id(spec(m).type) != id) continue;
    known = true;
    if (written++ < limit) write_summary(w, m);
  }
  w.end_array().end_object();
  if (!known) return error(404, "error.not-found.nodeId");
  return json_ok(w.take());
}

BrokerResponse BrokerState::markets_query(const BrokerRequest& r) {
  JsonWriter w;
  w.begin_object();
  if (const auto it = r.query.find("searchTerm"); it != r.query.end()) {
    if (it->second.empty()) return error(400, "error.null.searchTerm");
    const std::string term = absl::AsciiStrToLower(it->second);
    w.key("markets").begin_array();
    for (std::size_t m = 0; m < markets.size(); ++m) {
      if (absl::StrContains(absl::AsciiStrToLower(spec(m).epic), term) ||
          absl::StrContains(absl::AsciiStrToLower(spec(m).name), term)) {
        write_summary(w, m);
      }
    }
    w.end_array();
  } else if (const auto e = r.query.find("epics"); e != r.query.end()) {
    const std::vector<std::string> epics = absl::StrSplit(e->second, ',', absl::SkipEmpty());
    if (epics.empty()) return error(400, "error.null.epics");
    if (epics.size() > 50) return error(400, "error.invalid.epics");
    w.key("marketDetails").begin_array();
    for (const std::string& epic : epics) {
      if (const auto m = find_market(epic)) write_details(w, *m);
    }
    w.end_array();
  } else {
    w.key("markets").begin_array();
    for (std::size_t m = 0; m < markets.size(); ++m) write_summary(w, m);
    w.end_array();
  }
  w.end_object();
  return json_ok(w.take());
}

BrokerResponse BrokerState::market_details(const std::string& epic) {
  const auto m = find_market(epic);
  if (!m) return error(404, "error.not-found.epic");
  JsonWriter w;
  write_details(w, *m);
  return json_ok(w.take());
}

BrokerResponse BrokerState::prices(const BrokerRequest& r, const std::string& epic) {
  const auto m = find_market(epic);
  if (!m) return error(404, "error.not-found.epic");
  Resolution resolution = Resolution::kMinute;
  if (const auto it = r.query.find("resolution"); it != r.query.end()) {
    const std::optional<Resolution> parsed = parse_resolution(it->second);
    if (!parsed) return error(400, "error.invalid.resolution");
    resolution = *parsed;
  }
  std::size_t max = 10;
  const bool has_max = r.query.count("max") != 0;
  if (has_max) {
    char* end = nullptr;
    const long v = std::strtol(r.query.at("max").c_str(), &end, 10);
    if (*end != '\0' || v <= 0 || v > 1000) return error(400, "error.invalid.max");
    max = static_cast<std::size_t>(v);
  }
  const int64_t now = epoch_ms_now();
  const int64_t period_ms = resolution_seconds(resolution) * 1000;
  int64_t from = 0, to = now;
  bool ranged = false;
  if (const auto it = r.query.find("from"); it != r.query.end()) {
    const std::optional<int64_t> t = parse_time(it->second);
    if (!t) return error(400, "error.invalid.from");
    from = *t;
    ranged = true;
  }
  if (const auto it = r.query.find("to"); it != r.query.end()) {
    const std::optional<int64_t> t = parse_time(it->second);
    if (!t) return error(400, "error.invalid.to");
    to = std::min(*t, now);
  }
  if (ranged && from > to) return error(400, "error.invalid.from");
  // Bars are generated from the current bar backwards far enough to cover the window.
  const int64_t current_start = bar_start_ms(resolution, now);
  std::size_t depth = max;
  if (ranged) {
    depth = static_cast<std::size_t>(std::min<int64_t>(
        (current_start - bar_start_ms(resolution, from)) / period_ms + 1, 100'000));
  }
  const std::vector<PriceBar> bars =
      price_history(spec(*m), options.seed, resolution, now, market_state[*m].walk.mid(), depth);
  std::vector<const PriceBar*> selected;
  for (const PriceBar& bar : bars) {
    if (ranged && (bar.start_ms < bar_start_ms(resolution, from) || bar.start_ms > to)) continue;
    selected.push_back(&bar);
  }
  if (selected.size() > max && (has_max || !ranged)) {
    selected.erase(selected.begin(), selected.end() - static_cast<std::ptrdiff_t>(max));
  }
  if (ranged && !has_max && selected.size() > 1000) selected.resize(1000);
  JsonWriter w;
  w.begin_object().key("prices").begin_array();
  auto pair = [&](std::string_view name, int64_t bid, int64_t spread) {
    w.key(name).begin_object();
    write_price(w, "bid", *m, bid);
    write_price(w, "ask", *m, bid + spread);
    w.end_object();
  };
  for (const PriceBar* bar : selected) {
    w.begin_object();
    w.member("snapshotTime", format_time(bar->start_ms, options.timezone_offset_hours, false));
    w.member("snapshotTimeUTC", format_time(bar->start_ms, 0, false));
    pair("openPrice", bar->open_bid, bar->spread_units);
    pair("closePrice", bar->close_bid, bar->spread_units);
    pair("highPrice", bar->high_bid, bar->spread_units);
    pair("lowPrice", bar->low_bid, bar->spread_units);
    w.member("lastTradedVolume", bar->volume).end_object();
  }
  w.end_array().member("instrumentType", to_string(spec(*m).type)).end_object();
  return json_ok(w.take());
}

BrokerResponse BrokerState::client_sentiment(const BrokerRequest& r, const std::string& one) {
  auto write_one = [&](JsonWriter& w, const std::string& id) {
    const int64_t long_pct = 35 + static_cast<int64_t>(market_seed(options.seed, id) % 40);
    w.begin_object().member("marketId", id).member("longPositionPercentage", long_pct);
    w.member("shortPositionPercentage", 100 - long_pct).end_object();
  };
  JsonWriter w;
  if (!one.empty()) {
    if (!find_market(one)) return error(404, "error.not-found.marketId");
    write_one(w, one);
    return json_ok(w.take());
  }
  const auto it = r.query.find("marketIds");
  if (it == r.query.end() || it->second.empty()) return error(400, "error.null.marketIds");
  w.begin_object().key("clientSentiments").begin_array();
  const std::vector<std::string> ids = absl::StrSplit(it->second, ',', absl::SkipEmpty());
  for (const std::string& id : ids) {
    if (find_market(id)) write_one(w, id);
  }
  w.end_array().end_object();
  return json_ok(w.take());
}

}  // namespace qt::sim
