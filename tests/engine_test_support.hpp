// A single-threaded rig around the real Engine and PaperVenue for tests: the stages' duty
// cycles are called by hand in pipeline order, so every outcome is deterministic.
#pragma once

#include <memory>
#include <vector>

#include "engine/engine.hpp"
#include "engine/instrument.hpp"
#include "gateway/paper/paper_venue.hpp"

namespace qt::testing {

inline std::vector<InstrumentSpec> test_instruments() {
  // GOLD: prices with 2 decimals, sizes with 2 decimals, min 0.10, step 0.10.
  // EURUSD: 5 price decimals, whole units, min 100, step 100.
  return {make_instrument(0, "GOLD", 2, 2, 0.01, 0.1, 0.1, 500),
          make_instrument(1, "EURUSD", 5, 0, 0.00001, 100, 100, 10'000'000)};
}

inline RiskLimits permissive_limits() {
  RiskLimits limits;
  limits.max_order_notional = 10'000'000 * kMoneyScale;
  limits.price_collar_bps = 500;
  limits.max_orders_per_second = 1'000'000;
  limits.instruments[0] = {5'000, 100'000};  // GOLD: 50.00 per order, 1000.00 net
  limits.instruments[1] = {1'000'000, 10'000'000};
  return limits;
}

struct EngineRig {
  std::unique_ptr<QuoteRing> engine_quotes = std::make_unique<QuoteRing>();
  std::unique_ptr<QuoteRing> venue_quotes = std::make_unique<QuoteRing>();
  std::unique_ptr<VenueRequestRing> requests = std::make_unique<VenueRequestRing>();
  std::unique_ptr<VenueEventRing> events = std::make_unique<VenueEventRing>();
  std::unique_ptr<CommandRing> commands = std::make_unique<CommandRing>();
  std::unique_ptr<OrderUpdateRing> updates = std::make_unique<OrderUpdateRing>();
  std::unique_ptr<Engine> engine;
  std::unique_ptr<PaperVenue> venue;
  SourceId port_source = 0;
  uint64_t quote_sequence = 0;

  explicit EngineRig(RiskLimits limits = permissive_limits(), std::size_t order_capacity = 1024,
                     int64_t reconcile_grace_ns = 3'000'000'000) {
    EngineOptions options;
    options.instruments = test_instruments();
    options.risk = limits;
    options.order_capacity = order_capacity;
    options.reconcile_grace_ns = reconcile_grace_ns;
    engine = std::make_unique<Engine>(std::move(options), *engine_quotes, *requests, *events);
    venue = std::make_unique<PaperVenue>(*requests, *events, venue_quotes.get());
  }

  // Call after adding strategies.
  void start() {
    port_source = engine->add_client_port({commands.get(), updates.get(), nullptr, 0});
    engine->on_start();
  }

  // One quote to the engine and the paper venue, not yet processed.
  void push_quote(InstrumentId id, PriceUnits bid, PriceUnits ask) {
    Quote q;
    q.instrument = id;
    q.bid = bid;
    q.ask = ask;
    q.bid_size = q.ask_size = 1000;
    q.sequence = ++quote_sequence;
    q.received_ns = 0;
    engine_quotes->try_push(q);
    venue_quotes->try_push(q);
  }

  void quote(InstrumentId id, PriceUnits bid, PriceUnits ask) {
    push_quote(id, bid, ask);
    pump();
  }

  void send(const ClientCommand& command) {
    commands->try_push(command);
    pump();
  }

  // Runs engine and venue duty cycles until neither has work.
  void pump() {
    for (int i = 0; i < 100; ++i) {
      if (engine->do_work() + venue->do_work() == 0) return;
    }
  }

  std::vector<OrderUpdate> drain_updates() {
    std::vector<OrderUpdate> out;
    updates->drain([&](const OrderUpdate& u) { out.push_back(u); });
    return out;
  }
};

inline ClientCommand new_order(std::string_view client_id, InstrumentId instrument, Side side,
                               OrderType type, PriceUnits price, SizeUnits size) {
  ClientCommand command;
  command.kind = CommandKind::kNewOrder;
  command.new_order.client_order_id = ClientOrderId::from(client_id);
  command.new_order.instrument = instrument;
  command.new_order.side = side;
  command.new_order.type = type;
  command.new_order.limit_price = price;
  command.new_order.size = size;
  return command;
}

}  // namespace qt::testing
