// The engine and order flow of the order benchmarks (order_path_bench, journal_bench's restart
// rows): one instrument, GOLD, with limits that alternating minimum-size market orders never
// trip, the per-source rate throttle off (it is a policy, not a cost), and a quote at
// 2300.00 / 2300.30 to trade against. Header-only; benchmark code.
#pragma once

#include <cstddef>
#include <cstdio>

#include "engine/engine.hpp"
#include "engine/instrument.hpp"

namespace qt::bench {

inline EngineOptions gold_engine_options() {
  EngineOptions options;
  options.instruments = {make_instrument(0, "GOLD", 2, 2, 0.01, 0.1, 0.1, 500)};
  options.risk.max_order_notional = 1'000'000 * kMoneyScale;
  options.risk.price_collar_bps = 200;
  options.risk.max_orders_per_second = 0;
  options.risk.instruments[0] = {5'000, 100'000};
  options.order_capacity = 1 << 16;
  return options;
}

inline Quote gold_quote() {
  Quote quote;
  quote.bid = 230000;
  quote.ask = 230030;
  return quote;
}

// Order n: a 0.10 GOLD market order with client id <prefix><n>, a buy for even n, else a sell.
inline ClientCommand gold_market_order(char prefix, std::size_t n) {
  ClientCommand c;
  c.kind = CommandKind::kNewOrder;
  char id[ClientOrderId::kCapacity];
  std::snprintf(id, sizeof id, "%c%zu", prefix, n);
  c.new_order.client_order_id = ClientOrderId::from(id);
  c.new_order.instrument = 0;
  c.new_order.side = n % 2 == 0 ? Side::kBuy : Side::kSell;
  c.new_order.type = OrderType::kMarket;
  c.new_order.size = 10;
  return c;
}

}  // namespace qt::bench
