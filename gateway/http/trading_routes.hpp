// The routes of the HTTP API (issue 12) on a Router: trading and queries through OrderEntry
// (the engine's client port), positions, quotes and account figures from the engine's
// published stats (single-writer atomics read with relaxed loads: no lock, no effect on the
// engine thread), health, readiness and the Prometheus exposition.
//
//   GET    /health                 liveness: this process and its I/O threads answer
//   GET    /ready                  200 only when every readiness check passes, else 503; the
//                                  body lists each check (ReadinessCheck) and its state
//   GET    /metrics                Prometheus text format (the registry given)
//   POST   /api/trade              trade   {epic, direction, size, type, level?, time_in_force?,
//                                           client_order_id}; 201 with the order once its journal
//                                           record is durable; 422 refused by risk (reason);
//                                           409 a client_order_id reused; 503 + Retry-After busy
//   GET    /api/orders/{id}        read    an order of this API, by order id or client order id
//   GET    /api/orders?status=     read    open (default) or all
//   DELETE /api/orders/{id}        trade   cancel: 202 with the order, 404, 409 not cancelable
//   GET    /api/positions          read    per epic: net size, average price, P&L, broker's size
//   GET    /api/quotes/{epic}      read    last bid/ask the engine has
//   GET    /api/account            read    readiness, trading state, totals
//   POST   /api/kill-switch        admin   {engaged: bool}
//   POST   /api/trading-state      admin   {state: ACTIVE|REDUCING|HALTED}
//
// Handlers run on the HTTP I/O threads and never block: order work goes to OrderEntry's
// thread and is answered from there.
#pragma once

#include <functional>
#include <string>
#include <variant>
#include <vector>

#include "engine/engine_stats.hpp"
#include "engine/instrument.hpp"
#include "gateway/http/metrics_registry.hpp"
#include "gateway/http/order_entry.hpp"
#include "gateway/http/router.hpp"

namespace qt::http {

struct ReadinessCheck {
  std::string name;  // "engine", "venue_session", "quotes", "journal"
  bool ok = false;
  std::string detail;
};
// Called on an I/O thread for every GET /ready: cheap, non-blocking reads only.
using ReadinessProbe = std::function<std::vector<ReadinessCheck>()>;

struct TradingRoutesContext {
  OrderEntry* orders = nullptr;
  const EngineStats* engine = nullptr;
  std::vector<InstrumentSpec> instruments;
  ReadinessProbe readiness;                    // null: ready when the engine says so
  const metrics::Registry* metrics = nullptr;  // null: /metrics answers 404
};

// Adds every route above to `router`. The context's pointers must outlive the server.
absl::Status add_trading_routes(Router& router, TradingRoutesContext context);

// POST /api/trade's body as a NewOrder (the instrument found by epic, sizes and prices exact to
// the instrument's decimals), or the 400/422 response naming the field. Exposed for tests and
// the fuzzer.
std::variant<NewOrder, Response> parse_trade(std::string_view body,
                                             const std::vector<InstrumentSpec>& instruments);

}  // namespace qt::http
