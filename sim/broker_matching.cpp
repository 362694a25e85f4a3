// The market moving: each tick steps the price walks, updates live bars, fills working orders
// and triggers stops and take-profits; see broker_state.hpp.
#include <algorithm>

#include "sim/broker_state.hpp"

namespace qt::sim {

std::vector<StreamTick> BrokerState::tick(const std::set<std::string>& ohlc_keys) {
  std::vector<StreamTick> ticks;
  const int64_t now = epoch_ms_now();
  for (std::size_t m = 0; m < markets.size(); ++m) {
    if (!is_open(m)) continue;
    market_state[m].walk.step(now);
    update_bars(m);
    match(m);
    StreamTick t;
    t.epic = spec(m).epic;
    t.quote_json = quote_frame(m);
    for (std::size_t r = 0; r < 8; ++r) {
      for (const bool ha : {false, true}) {
        const std::string key = spec(m).epic + ":" + std::string(to_string(kAllResolutions[r])) +
                                ":" + (ha ? "heikin-ashi" : "classic");
        if (ohlc_keys.count(key) != 0) t.ohlc_json.emplace_back(key, ohlc_frame(m, r, ha));
      }
    }
    ticks.push_back(std::move(t));
  }
  return ticks;
}

void BrokerState::match(std::size_t m) {
  if (!is_open(m)) return;
  const SimQuote& q = quote(m);
  const int64_t now = epoch_ms_now();
  for (std::size_t i = 0; i < working_orders.size();) {
    WorkingOrder& o = working_orders[i];
    if (o.market != m) {
      ++i;
      continue;
    }
    if (o.good_till_ms && now >= *o.good_till_ms) {
      record(m, o.deal_id, "SYSTEM", "WORKING_ORDER", "EXPIRED", "", o.size, o.direction, o.level,
             o.guaranteed_stop);
      working_orders.erase(working_orders.begin() + static_cast<std::ptrdiff_t>(i));
      continue;
    }
    const int64_t market = o.direction == Direction::kBuy ? q.ask : q.bid;
    const bool buy = o.direction == Direction::kBuy;
    const bool crossed = o.limit ? (buy ? market <= o.level : market >= o.level)
                                 : (buy ? market >= o.level : market <= o.level);
    if (!crossed) {
      ++i;
      continue;
    }
    WorkingOrder filled = std::move(o);
    working_orders.erase(working_orders.begin() + static_cast<std::ptrdiff_t>(i));
    Account* account = find_account(filled.account_id);
    if (account == nullptr) continue;
    StopProfit sp;
    const double fill = price(m, market);
    const double sign = buy ? 1 : -1;
    if (filled.stop_distance) sp.stop_level = fill - sign * *filled.stop_distance;
    if (filled.profit_distance) sp.profit_level = fill + sign * *filled.profit_distance;
    sp.stop_distance = filled.stop_distance;
    sp.guaranteed_stop = filled.guaranteed_stop;
    sp.trailing_stop = filled.trailing_stop;
    record(m, filled.deal_id, "SYSTEM", "WORKING_ORDER", "EXECUTED", "", filled.size,
           filled.direction, market, filled.guaranteed_stop);
    std::string opened;
    double realised = 0;
    execute_deal(*account, m, filled.direction, filled.size, sp, filled.deal_id, opened, realised);
  }
  for (std::size_t i = 0; i < positions.size();) {
    Position& p = positions[i];
    if (p.market != m) {
      ++i;
      continue;
    }
    const bool buy = p.direction == Direction::kBuy;
    const double exit = price(m, exit_level(m, p.direction));
    if (p.trailing_stop && p.trailing_distance && p.stop_level) {
      const double trail = buy ? exit - *p.trailing_distance : exit + *p.trailing_distance;
      p.stop_level = buy ? std::max(*p.stop_level, trail) : std::min(*p.stop_level, trail);
    }
    const bool stopped = p.stop_level && (buy ? exit <= *p.stop_level : exit >= *p.stop_level);
    const bool took = p.profit_level && (buy ? exit >= *p.profit_level : exit <= *p.profit_level);
    if (!stopped && !took) {
      ++i;
      continue;
    }
    realise(i, p.size, stopped ? "SL" : "TP");
    positions.erase(positions.begin() + static_cast<std::ptrdiff_t>(i));
  }
}

void BrokerState::update_bars(std::size_t m) {
  MarketState& ms = market_state[m];
  const SimQuote& q = ms.walk.current();
  for (std::size_t r = 0; r < 8; ++r) {
    const int64_t start = bar_start_ms(kAllResolutions[r], q.epoch_ms);
    LiveBar& bar = ms.bars[r];
    if (bar.start_ms != start) {
      if (bar.start_ms >= 0) ms.previous_bars[r] = bar;
      bar = {start, q.bid, q.bid, q.bid, q.bid};
    } else {
      bar.h = std::max(bar.h, q.bid);
      bar.l = std::min(bar.l, q.bid);
      bar.c = q.bid;
    }
  }
}

std::string BrokerState::ohlc_frame(std::size_t m, std::size_t r, bool heikin_ashi) {
  const MarketState& ms = market_state[m];
  LiveBar bar = ms.bars[r];
  if (heikin_ashi) {
    const LiveBar& prev = ms.previous_bars[r];
    const int64_t close = (bar.o + bar.h + bar.l + bar.c) / 4;
    const int64_t open = prev.start_ms >= 0 && prev.o > 0 ? (prev.o + prev.c) / 2 : bar.o;
    bar = {bar.start_ms, open, std::max({bar.h, open, close}), std::min({bar.l, open, close}),
           close};
  }
  JsonWriter w;
  w.begin_object().member("status", "OK").member("destination", "ohlc.event");
  w.key("payload").begin_object();
  w.member("resolution", to_string(kAllResolutions[r])).member("epic", spec(m).epic);
  w.member("type", heikin_ashi ? "heikin-ashi" : "classic").member("priceType", "bid");
  w.member("t", bar.start_ms);
  write_price(w, "o", m, bar.o);
  write_price(w, "h", m, bar.h);
  write_price(w, "l", m, bar.l);
  write_price(w, "c", m, bar.c);
  w.end_object().end_object();
  return w.take();
}

}  // namespace qt::sim
