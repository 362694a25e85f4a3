#include "gateway/http/trading_routes.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <variant>

#include "common/json_writer.hpp"
#include "engine/clock.hpp"
#include "gateway/capital/protocol/decimal.hpp"
#include "gateway/http/json_body.hpp"

namespace qt::http {

namespace {

Response error(int status, std::string_view code, std::string_view message,
               std::string_view field = {}) {
  JsonWriter w;
  w.begin_object().member("error", code).member("message", message);
  if (!field.empty()) w.member("field", field);
  w.end_object();
  return Response::json(status, w.take());
}

// A size or price exact to `decimals`: anything finer is refused, not rounded.
bool exact_units(std::string_view text, int decimals, int64_t& out) {
  int64_t finer = 0;
  if (capital::parse_fixed_point(text, decimals, out) != capital::DecimalStatus::kOk) return false;
  if (capital::parse_fixed_point(text, decimals + 1, finer) != capital::DecimalStatus::kOk) {
    return false;
  }
  return finer == out * 10;
}

std::string_view trading_state_text(TradingState state) {
  switch (state) {
    case TradingState::kActive: return "ACTIVE";
    case TradingState::kReducing: return "REDUCING";
    case TradingState::kHalted: return "HALTED";
  }
  return "UNKNOWN";
}

}  // namespace

std::variant<NewOrder, Response> parse_trade(std::string_view body,
                                             const std::vector<InstrumentSpec>& instruments) {
  JsonBody json(body);
  json.reject_unknown_fields({"epic", "direction", "size", "type", "level", "stop_level",
                              "profit_level", "time_in_force", "client_order_id"});
  const std::string_view epic = json.string("epic");
  const std::size_t direction = json.one_of("direction", {"BUY", "SELL"});
  const std::string_view size_text = json.number_text("size");
  const std::size_t type = json.one_of("type", {"MARKET", "LIMIT", "STOP"});
  const std::optional<std::string_view> level_text = json.optional_number_text("level");
  const std::optional<std::string_view> stop_level = json.optional_number_text("stop_level");
  const std::optional<std::string_view> profit_level = json.optional_number_text("profit_level");
  const std::optional<std::size_t> time_in_force =
      json.optional_one_of("time_in_force", {"GTC", "IOC"});
  const std::string_view client_order_id = json.string("client_order_id");
  if (!json.ok()) return json.error();

  NewOrder order;
  const InstrumentSpec* spec = nullptr;
  for (const InstrumentSpec& candidate : instruments) {
    if (candidate.name() == epic) spec = &candidate;
  }
  if (spec == nullptr) {
    return error(422, "unknown_instrument",
                 "epic \"" + std::string(epic) + "\" is not an instrument this engine trades",
                 "epic");
  }
  if (client_order_id.empty() || client_order_id.size() > ClientOrderId::kCapacity ||
      !std::all_of(client_order_id.begin(), client_order_id.end(),
                   [](unsigned char c) { return std::isgraph(c) != 0; })) {
    return error(400, "invalid_field",
                 "client_order_id must be 1 to " + std::to_string(ClientOrderId::kCapacity) +
                     " printable characters without spaces",
                 "client_order_id");
  }
  if (type == 2) {
    return error(422, "unsupported", "STOP orders are not supported by this engine yet", "type");
  }
  if (stop_level || profit_level) {
    return error(422, "unsupported",
                 "stop and profit levels on an order are not supported by this engine yet",
                 stop_level ? "stop_level" : "profit_level");
  }
  if (!exact_units(size_text, spec->size_decimals, order.size) || order.size <= 0) {
    return error(400, "invalid_field",
                 "size must be a positive number with at most " +
                     std::to_string(spec->size_decimals) + " decimals for " + std::string(epic),
                 "size");
  }
  order.type = type == 1 ? OrderType::kLimit : OrderType::kMarket;
  if (order.type == OrderType::kLimit) {
    if (!level_text) return error(400, "missing_field", "a LIMIT order needs a level", "level");
    if (!exact_units(*level_text, spec->price_decimals, order.limit_price) ||
        order.limit_price <= 0) {
      return error(400, "invalid_field",
                   "level must be a positive price with at most " +
                       std::to_string(spec->price_decimals) + " decimals for " + std::string(epic),
                   "level");
    }
  } else if (level_text) {
    return error(400, "invalid_field", "a MARKET order takes no level", "level");
  }
  order.instrument = spec->id;
  order.side = direction == 0 ? Side::kBuy : Side::kSell;
  order.time_in_force = time_in_force.value_or(0) == 1 ? TimeInForce::kImmediateOrCancel
                                                       : TimeInForce::kGoodTillCancel;
  order.client_order_id = ClientOrderId::from(client_order_id);
  return order;
}

absl::Status add_trading_routes(Router& router, TradingRoutesContext context) {
  auto shared = std::make_shared<const TradingRoutesContext>(std::move(context));

  auto readiness = [shared]() {
    std::vector<ReadinessCheck> checks;
    if (shared->readiness) return shared->readiness();
    const EngineReadiness state = shared->engine->readiness.load(std::memory_order_relaxed);
    checks.push_back({"engine", state == EngineReadiness::kReady, std::string(to_string(state))});
    return checks;
  };

  absl::Status status = router.add(Method::kGet, "/health", RouteOptions().with_label("/health"),
                                   [](const Request&, Responder responder) {
                                     responder.send(Response::json(200, R"({"status":"ok"})"));
                                   });
  if (!status.ok()) return status;

  status = router.add(Method::kGet, "/ready", RouteOptions().with_label("/ready"),
                      [readiness](const Request&, Responder responder) {
                        const std::vector<ReadinessCheck> checks = readiness();
                        bool ready = !checks.empty();
                        JsonWriter w;
                        w.begin_object().key("checks").begin_array();
                        for (const ReadinessCheck& check : checks) {
                          ready &= check.ok;
                          w.begin_object()
                              .member("name", check.name)
                              .member("ok", check.ok)
                              .member("detail", check.detail)
                              .end_object();
                        }
                        w.end_array().member("ready", ready).end_object();
                        responder.send(Response::json(ready ? 200 : 503, w.take()));
                      });
  if (!status.ok()) return status;

  status = router.add(Method::kGet, "/metrics", RouteOptions().with_label("/metrics"),
                      [shared](const Request&, Responder responder) {
                        if (shared->metrics == nullptr) {
                          responder.send(error(404, "not_found", "no metrics registry"));
                          return;
                        }
                        Response response;
                        response.content_type = std::string(metrics::kPrometheusTextContentType);
                        shared->metrics->render(response.body);
                        responder.send(std::move(response));
                      });
  if (!status.ok()) return status;

  status = router.add(
      Method::kPost, "/api/trade",
      RouteOptions().with_role(Role::kTrade).with_rate_limit_scope("trade").with_json_body(),
      [shared](const Request& request, Responder responder) {
        std::variant<NewOrder, Response> parsed = parse_trade(request.body(), shared->instruments);
        if (auto* refusal = std::get_if<Response>(&parsed)) {
          responder.send(std::move(*refusal));
          return;
        }
        TradeRequest trade;
        trade.order = std::get<NewOrder>(parsed);
        shared->orders->submit(trade, std::move(responder));
      });
  if (!status.ok()) return status;

  status = router.add(Method::kGet, "/api/orders/{id}", RouteOptions().with_role(Role::kRead),
                      [shared](const Request& request, Responder responder) {
                        shared->orders->find(std::string(request.path_param("id")),
                                             std::move(responder));
                      });
  if (!status.ok()) return status;

  status = router.add(
      Method::kGet, "/api/orders", RouteOptions().with_role(Role::kRead),
      [shared](const Request& request, Responder responder) {
        const std::string which = request.query_param("status").value_or("open");
        if (which != "open" && which != "all") {
          responder.send(error(400, "invalid_field", "status must be open or all", "status"));
          return;
        }
        shared->orders->list(which == "open", std::move(responder));
      });
  if (!status.ok()) return status;

  status = router.add(
      Method::kDelete, "/api/orders/{id}", RouteOptions().with_role(Role::kTrade),
      [shared](const Request& request, Responder responder) {
        const std::string_view id = request.path_param("id");
        const bool numeric = !id.empty() && std::all_of(id.begin(), id.end(), [](char ch) {
          return ch >= '0' && ch <= '9';
        });
        shared->orders->cancel(numeric ? std::string_view() : id,
                               numeric ? std::strtoull(std::string(id).c_str(), nullptr, 10) : 0,
                               std::move(responder));
      });
  if (!status.ok()) return status;

  status =
      router.add(Method::kGet, "/api/positions", RouteOptions().with_role(Role::kRead),
                 [shared](const Request&, Responder responder) {
                   JsonWriter w;
                   w.begin_object().key("positions").begin_array();
                   for (const InstrumentSpec& spec : shared->instruments) {
                     const EngineStats::InstrumentFigures& f = shared->engine->instruments[spec.id];
                     const auto load = [](const std::atomic<int64_t>& v) {
                       return v.load(std::memory_order_relaxed);
                     };
                     w.begin_object().member("epic", spec.name());
                     w.key("net_size").decimal(load(f.net_size), spec.size_decimals);
                     w.key("average_price").decimal(load(f.average_price), spec.price_decimals);
                     w.key("realized_pnl").decimal(load(f.realized_pnl), 2);
                     w.key("unrealized_pnl").decimal(load(f.unrealized_pnl), 2);
                     w.key("broker_net_size").decimal(load(f.broker_net_size), spec.size_decimals);
                     w.member("differs_from_broker", load(f.differs_from_broker) != 0);
                     w.member("reducing", load(f.reducing) != 0);
                     w.end_object();
                   }
                   w.end_array().end_object();
                   responder.send(Response::json(200, w.take()));
                 });
  if (!status.ok()) return status;

  status = router.add(
      Method::kGet, "/api/quotes/{epic}", RouteOptions().with_role(Role::kRead),
      [shared](const Request& request, Responder responder) {
        const std::string_view epic = request.path_param("epic");
        for (const InstrumentSpec& spec : shared->instruments) {
          if (spec.name() != epic) continue;
          const EngineStats::InstrumentFigures& f = shared->engine->instruments[spec.id];
          const int64_t bid = f.bid.load(std::memory_order_relaxed);
          const int64_t ask = f.ask.load(std::memory_order_relaxed);
          if (bid <= 0 || ask <= 0) {
            responder.send(error(404, "no_quote", "no quote for " + std::string(epic) + " yet"));
            return;
          }
          JsonWriter w;
          w.begin_object().member("epic", epic);
          w.key("bid").decimal(bid, spec.price_decimals);
          w.key("ask").decimal(ask, spec.price_decimals);
          w.end_object();
          responder.send(Response::json(200, w.take()));
          return;
        }
        responder.send(
            error(404, "not_found",
                  "epic \"" + std::string(epic) + "\" is not an instrument this engine trades"));
      });
  if (!status.ok()) return status;

  status = router.add(
      Method::kGet, "/api/account", RouteOptions().with_role(Role::kRead),
      [shared, readiness](const Request&, Responder responder) {
        const EngineStats& s = *shared->engine;
        const auto load = [](const auto& v) { return v.load(std::memory_order_relaxed); };
        JsonWriter w;
        w.begin_object()
            .member("readiness", to_string(load(s.readiness)))
            .member("trading_state", trading_state_text(load(s.trading_state)))
            .member("kill_switch", load(s.kill_switch))
            .member("live_orders", static_cast<int64_t>(load(s.live_orders)))
            .member("orders_received", static_cast<int64_t>(load(s.orders_received)))
            .member("fills", static_cast<int64_t>(load(s.fills)))
            .member("books_equal_epoch_ms", load(s.books_equal_epoch_ms))
            .end_object();
        responder.send(Response::json(200, w.take()));
      });
  if (!status.ok()) return status;

  status = router.add(
      Method::kPost, "/api/kill-switch", RouteOptions().with_role(Role::kAdmin).with_json_body(),
      [shared](const Request& request, Responder responder) {
        JsonBody json(request.body());
        json.reject_unknown_fields({"engaged"});
        const bool engaged = json.boolean("engaged");
        if (!json.ok()) {
          responder.send(json.error());
          return;
        }
        ControlCommand command;
        command.kind = engaged ? ControlKind::kKillSwitch : ControlKind::kResetKillSwitch;
        shared->orders->control(command, std::move(responder));
      });
  if (!status.ok()) return status;

  return router.add(
      Method::kPost, "/api/trading-state", RouteOptions().with_role(Role::kAdmin).with_json_body(),
      [shared](const Request& request, Responder responder) {
        JsonBody json(request.body());
        json.reject_unknown_fields({"state"});
        const std::size_t state = json.one_of("state", {"ACTIVE", "REDUCING", "HALTED"});
        if (!json.ok()) {
          responder.send(json.error());
          return;
        }
        ControlCommand command;
        command.kind = ControlKind::kSetTradingState;
        command.trading_state = static_cast<TradingState>(state);
        shared->orders->control(command, std::move(responder));
      });
}

}  // namespace qt::http
