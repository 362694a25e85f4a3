#include "engine/engine.hpp"

#include <spdlog/spdlog.h>

#include <cstring>

#include "engine/clock.hpp"

namespace qt {

namespace {

OrderEvent to_order_event(VenueEventKind kind) {
  switch (kind) {
    case VenueEventKind::kAccepted: return OrderEvent::kVenueAccepted;
    case VenueEventKind::kRejected: return OrderEvent::kVenueRejected;
    case VenueEventKind::kFill: return OrderEvent::kFill;
    case VenueEventKind::kCanceled: return OrderEvent::kCanceled;
    case VenueEventKind::kCancelRejected: return OrderEvent::kCancelRejected;
    case VenueEventKind::kOutcomeUnknown: return OrderEvent::kOutcomeUnknown;
  }
  return OrderEvent::kOutcomeUnknown;
}

constexpr uint32_t kTimerCheckEvery = 64;  // duty cycles between clock reads for timers

}  // namespace

Engine::Engine(EngineOptions options, QuoteRing& quotes, VenueRequestRing& venue_requests,
               VenueEventRing& venue_events)
    : instruments_(std::move(options.instruments)),
      cancel_on_shutdown_(options.cancel_on_shutdown),
      risk_(options.risk),
      orders_(options.order_capacity),
      quotes_(quotes),
      venue_requests_(venue_requests),
      venue_events_(venue_events),
      stats_(std::make_unique<EngineStats>()) {
  risk_.set_trading_state(options.initial_trading_state);
  strategy_of_source_.fill(-1);
  port_of_source_.fill(-1);
  ports_.reserve(64);
  strategies_.reserve(64);
}

Engine::~Engine() = default;

SourceId Engine::add_strategy(Strategy& strategy) {
  const SourceId source = next_source_++;
  strategy_of_source_[source] = static_cast<int16_t>(strategies_.size());
  strategies_.push_back({&strategy, std::make_unique<StrategyContext>(*this, source)});
  return source;
}

SourceId Engine::add_client_port(ClientPort port) {
  port.source = next_source_++;
  port_of_source_[port.source] = static_cast<int16_t>(ports_.size());
  ports_.push_back(port);
  return port.source;
}

StrategyContext& Engine::context_of(SourceId source) {
  return *strategies_[strategy_of_source_[source]].context;
}

const InstrumentSpec* Engine::find_instrument(std::string_view symbol) const {
  for (const InstrumentSpec& spec : instruments_) {
    if (spec.name() == symbol) return &spec;
  }
  return nullptr;
}

void Engine::on_start() {
  const int64_t now = now_ns();
  for (StrategySlot& slot : strategies_) {
    slot.strategy->on_start(*slot.context);
    if (slot.context->timer_interval_ns() > 0) {
      slot.context->next_timer_ns = now + slot.context->timer_interval_ns();
    }
  }
}

void Engine::on_close() {
  if (!shutdown_done_.load(std::memory_order_relaxed)) begin_shutdown();
}

int Engine::do_work() {
  int work = 0;
  work += static_cast<int>(
      venue_events_.drain([this](const VenueEvent& e) { on_venue_event(e); }, kMaxDrainBatch));
  work += static_cast<int>(quotes_.drain([this](const Quote& q) { on_quote(q); }, kMaxDrainBatch));
  for (const ClientPort& port : ports_) {
    const SourceId source = port.source;
    work += static_cast<int>(port.commands->drain(
        [this, source](const ClientCommand& c) { on_command(source, c); }, kMaxDrainBatch));
  }
  if (work == 0 || ++timer_check_countdown_ >= kTimerCheckEvery) {
    timer_check_countdown_ = 0;
    run_timers(now_ns());
  }
  if (shutdown_requested_.load(std::memory_order_relaxed) &&
      !shutdown_done_.load(std::memory_order_relaxed)) {
    begin_shutdown();
  }
  return work;
}

void Engine::run_timers(int64_t now) {
  if (strategies_stopped_) return;
  for (StrategySlot& slot : strategies_) {
    StrategyContext& context = *slot.context;
    if (context.timer_interval_ns() <= 0 || now < context.next_timer_ns) continue;
    context.next_timer_ns = now + context.timer_interval_ns();
    slot.strategy->on_timer(context, now);
  }
}

void Engine::begin_shutdown() {
  for (StrategySlot& slot : strategies_) slot.strategy->on_stop(*slot.context);
  // After on_stop a strategy gets no more callbacks and cannot submit.
  strategies_stopped_ = true;
  if (cancel_on_shutdown_) cancel_all(kEngineSource, /*all_sources=*/true);
  shutdown_done_.store(true, std::memory_order_release);
}

void Engine::on_quote(const Quote& quote) {
  if (quote.instrument >= instruments_.size()) return;
  last_quotes_[quote.instrument] = quote;
  has_quote_[quote.instrument] = true;
  positions_[quote.instrument].mark(quote.bid, quote.ask);
  for (StrategySlot& slot : strategies_) {
    if (!strategies_stopped_ && slot.context->subscribed(quote.instrument)) {
      slot.strategy->on_quote(*slot.context, quote);
    }
  }
  EngineStats::bump(stats_->quotes);
  EngineStats::InstrumentFigures& figures = stats_->instruments[quote.instrument];
  figures.bid.store(quote.bid, std::memory_order_relaxed);
  figures.ask.store(quote.ask, std::memory_order_relaxed);
  figures.unrealized_pnl.store(
      positions_[quote.instrument].unrealized_pnl(instruments_[quote.instrument]),
      std::memory_order_relaxed);
  stats_->quote_latency.record(now_ns() - quote.received_ns);
}

void Engine::on_command(SourceId source, const ClientCommand& command) {
  switch (command.kind) {
    case CommandKind::kNewOrder: {
      NewOrder order = command.new_order;
      order.source = source;  // a port cannot speak for another source
      submit(order);
      break;
    }
    case CommandKind::kCancelOrder: {
      OrderId id = command.cancel.order_id;
      if (id == 0) id = orders_.find_by_client_id(source, command.cancel.client_order_id);
      cancel(source, id);
      break;
    }
    case CommandKind::kControl:
      switch (command.control.kind) {
        case ControlKind::kSetTradingState: set_trading_state(command.control.trading_state); break;
        case ControlKind::kKillSwitch: engage_kill_switch(); break;
        case ControlKind::kResetKillSwitch:
          risk_.reset_kill_switch();
          spdlog::warn("kill switch reset by source {}", source);
          break;
      }
      break;
  }
}

SubmitResult Engine::submit(const NewOrder& request) {
  EngineStats::bump(stats_->orders_received);
  const bool known = request.instrument < instruments_.size();
  const int64_t now = now_ns();
  RiskContext context;
  context.spec = known ? &instruments_[request.instrument] : nullptr;
  context.last_quote = known ? last_quote(request.instrument) : nullptr;
  context.net_position = known ? positions_[request.instrument].net_size() : 0;
  context.open_buy_size = known ? open_buy_size_[request.instrument] : 0;
  context.open_sell_size = known ? open_sell_size_[request.instrument] : 0;
  context.duplicate_client_order_id =
      !request.client_order_id.empty() &&
      orders_.find_by_client_id(request.source, request.client_order_id) != 0;
  context.now_ns = now;

  const RejectReason reason = risk_.check_new_order(request, context);
  if (reason != RejectReason::kNone) {
    reject(request, reason);
    return {0, reason};
  }
  if (venue_requests_.size_approx() >= VenueRequestRing::kCapacity) {
    reject(request, RejectReason::kVenueBusy);
    return {0, RejectReason::kVenueBusy};
  }
  Order* order = orders_.create();
  if (order == nullptr) {
    reject(request, RejectReason::kOrderPoolExhausted);
    return {0, RejectReason::kOrderPoolExhausted};
  }
  order->client_order_id = request.client_order_id;
  order->source = request.source;
  order->instrument = request.instrument;
  order->side = request.side;
  order->type = request.type;
  order->time_in_force = request.time_in_force;
  order->limit_price = request.type == OrderType::kLimit ? request.limit_price : 0;
  order->size = request.size;
  order->created_ns = request.created_ns;
  order->state = OrderState::kPendingNew;
  if (!order->client_order_id.empty()) orders_.index_client_id(*order);
  (order->side == Side::kBuy ? open_buy_size_ : open_sell_size_)[order->instrument] += order->size;
  EngineStats::bump(stats_->live_orders);

  VenueRequest venue_request;
  venue_request.kind = VenueRequestKind::kPlace;
  venue_request.side = order->side;
  venue_request.type = order->type;
  venue_request.instrument = order->instrument;
  venue_request.order_id = order->id;
  venue_request.limit_price = order->limit_price;
  venue_request.size = order->size;
  venue_request.created_ns = request.created_ns;
  send_to_venue(venue_request);  // cannot fail: capacity was checked above, one producer
  EngineStats::bump(stats_->orders_sent);
  stats_->order_latency.record(now_ns() - request.created_ns);
  publish_update(*order, RejectReason::kNone, 0, 0);
  return {order->id, RejectReason::kNone};
}

bool Engine::send_to_venue(const VenueRequest& request) {
  if (!venue_requests_.try_push(request)) return false;
  if (venue_doorbell_ != nullptr) venue_doorbell_->ring();
  return true;
}

RejectReason Engine::cancel(SourceId source, OrderId order_id) {
  Order* order = orders_.find(order_id);
  if (order == nullptr || (source != kEngineSource && order->source != source)) {
    return RejectReason::kUnknownOrder;
  }
  if (next_order_state(*order, OrderEvent::kCancelRequested).result == TransitionResult::kIllegal) {
    return RejectReason::kNotCancelable;
  }
  VenueRequest request;
  request.kind = VenueRequestKind::kCancel;
  request.side = order->side;
  request.type = order->type;
  request.instrument = order->instrument;
  request.order_id = order->id;
  request.size = order->leaves();
  request.created_ns = now_ns();
  if (!send_to_venue(request)) return RejectReason::kVenueBusy;
  apply_order_event(*order, OrderEvent::kCancelRequested);
  publish_update(*order, RejectReason::kNone, 0, 0);
  return RejectReason::kNone;
}

void Engine::cancel_all(SourceId source_filter, bool all_sources) {
  orders_.for_each_live([&](Order& order) {
    if (all_sources || order.source == source_filter) cancel(kEngineSource, order.id);
  });
}

void Engine::engage_kill_switch() {
  risk_.engage_kill_switch();
  spdlog::error("kill switch engaged: new orders refused, cancelling all open orders");
  cancel_all(kEngineSource, /*all_sources=*/true);
}

void Engine::set_trading_state(TradingState state) {
  spdlog::warn("trading state {} -> {}", to_string(risk_.trading_state()), to_string(state));
  risk_.set_trading_state(state);
}

void Engine::reject(const NewOrder& request, RejectReason reason) {
  EngineStats::bump(stats_->rejects[static_cast<std::size_t>(reason)]);
  Order rejected;
  rejected.client_order_id = request.client_order_id;
  rejected.source = request.source;
  rejected.instrument = request.instrument;
  rejected.side = request.side;
  rejected.type = request.type;
  rejected.size = request.size;
  rejected.state = OrderState::kRejected;
  publish_update(rejected, reason, 0, 0);
}

void Engine::release_exposure(const Order& order, SizeUnits size) {
  (order.side == Side::kBuy ? open_buy_size_ : open_sell_size_)[order.instrument] -= size;
}

void Engine::on_venue_event(const VenueEvent& event) {
  Order* order = orders_.find(event.order_id);
  if (order == nullptr) {
    EngineStats::bump(stats_->unknown_order_events);
    spdlog::warn("venue event for unknown order {}", event.order_id);
    return;
  }
  const OrderState before = order->state;
  if (event.kind == VenueEventKind::kCancelRejected && is_terminal(before)) {
    // The order filled (or ended) while our cancel was on its way: the venue's "too late to
    // cancel" is expected, not a broken state machine.
    EngineStats::bump(stats_->late_cancel_rejects);
    return;
  }
  const SizeUnits leaves_before = order->leaves();
  const OrderEvent order_event = to_order_event(event.kind);
  if (apply_order_event(*order, order_event, event.fill_size, event.fill_price) ==
      TransitionResult::kIllegal) {
    EngineStats::bump(stats_->illegal_transitions);
    spdlog::error("illegal order transition ignored: order {} in {} got {} (fill size {})",
                  order->id, to_string(before), to_string(order_event), event.fill_size);
    return;
  }
  if (event.venue_order_id[0] != '\0') order->venue_order_id = event.venue_order_id;

  PriceUnits fill_price = 0;
  SizeUnits fill_size = 0;
  if (order_event == OrderEvent::kFill) {
    fill_price = event.fill_price;
    fill_size = event.fill_size;
    Position& position = positions_[order->instrument];
    position.apply_fill(instruments_[order->instrument], order->side, fill_price, fill_size);
    release_exposure(*order, fill_size);
    EngineStats::bump(stats_->fills);
    publish_instrument(order->instrument);
  }
  if (is_terminal(order->state) && !is_terminal(before)) {
    release_exposure(*order, leaves_before - fill_size);
    stats_->live_orders.store(stats_->live_orders.load(std::memory_order_relaxed) - 1,
                              std::memory_order_relaxed);
    if (order->state == OrderState::kFilled) EngineStats::bump(stats_->filled_orders);
    if (order->state == OrderState::kCanceled) EngineStats::bump(stats_->canceled_orders);
    if (order->state == OrderState::kRejected) {
      EngineStats::bump(stats_->venue_rejects);
      EngineStats::bump(stats_->rejects[static_cast<std::size_t>(RejectReason::kVenueRejected)]);
    }
  }
  publish_update(*order, order->state == OrderState::kRejected ? event.reason : RejectReason::kNone,
                 fill_price, fill_size);
}

void Engine::publish_instrument(InstrumentId id) {
  const Position& position = positions_[id];
  const InstrumentSpec& spec = instruments_[id];
  EngineStats::InstrumentFigures& figures = stats_->instruments[id];
  figures.net_size.store(position.net_size(), std::memory_order_relaxed);
  figures.average_price.store(position.average_price(), std::memory_order_relaxed);
  figures.realized_pnl.store(position.realized_pnl(), std::memory_order_relaxed);
  figures.unrealized_pnl.store(position.unrealized_pnl(spec), std::memory_order_relaxed);
}

void Engine::publish_update(const Order& order, RejectReason reason, PriceUnits fill_price,
                            SizeUnits fill_size) {
  OrderUpdate update;
  update.client_order_id = order.client_order_id;
  update.order_id = order.id;
  update.source = order.source;
  update.instrument = order.instrument;
  update.side = order.side;
  update.state = order.state;
  update.reason = reason;
  update.order_size = order.size;
  update.filled_size = order.filled_size;
  update.last_fill_price = fill_price;
  update.last_fill_size = fill_size;
  update.average_fill_price = order.average_fill_price;
  update.created_ns = now_ns();

  if (order.source < strategy_of_source_.size() && strategy_of_source_[order.source] >= 0) {
    if (strategies_stopped_) return;
    StrategySlot& slot = strategies_[strategy_of_source_[order.source]];
    slot.strategy->on_order_update(*slot.context, update);
    if (fill_size > 0) slot.strategy->on_fill(*slot.context, update);
    return;
  }
  if (order.source < port_of_source_.size() && port_of_source_[order.source] >= 0) {
    const ClientPort& port = ports_[port_of_source_[order.source]];
    if (port.updates != nullptr && port.updates->try_push(update) &&
        port.updates_doorbell != nullptr) {
      port.updates_doorbell->ring();
    }
  }
}

// ---- StrategyContext -------------------------------------------------------------------------

SubmitResult StrategyContext::submit(const OrderRequest& request) {
  if (engine_.strategies_stopped()) return {0, RejectReason::kTradingHalted};
  NewOrder order;
  // "S<source>-<sequence>": unique per strategy for the engine's duplicate check and the journal.
  char text[ClientOrderId::kCapacity];
  int length = 0;
  text[length++] = 'S';
  auto append_number = [&](uint64_t value) {
    char digits[20];
    int n = 0;
    do {
      digits[n++] = static_cast<char>('0' + value % 10);
      value /= 10;
    } while (value != 0 && n < 20);
    while (n > 0 && length < static_cast<int>(sizeof text)) text[length++] = digits[--n];
  };
  append_number(source_);
  text[length++] = '-';
  append_number(next_client_sequence_++);
  order.client_order_id = ClientOrderId::from(std::string_view(text, static_cast<size_t>(length)));
  order.source = source_;
  order.instrument = request.instrument;
  order.side = request.side;
  order.type = request.type;
  order.time_in_force = request.time_in_force;
  order.limit_price = request.limit_price;
  order.size = request.size;
  order.created_ns = qt::now_ns();
  return engine_.submit(order);
}

RejectReason StrategyContext::cancel(OrderId order_id) {
  return engine_.cancel(source_, order_id);
}
void StrategyContext::cancel_all() {
  engine_.cancel_all(source_, /*all_sources=*/false);
}
void StrategyContext::set_timer(int64_t interval_ns) {
  timer_interval_ns_ = interval_ns;
  next_timer_ns = interval_ns > 0 ? qt::now_ns() + interval_ns : 0;
}
const InstrumentSpec* StrategyContext::instrument(std::string_view symbol) const {
  return engine_.find_instrument(symbol);
}
const InstrumentSpec& StrategyContext::instrument(InstrumentId id) const {
  return engine_.instruments()[id];
}
const Position& StrategyContext::position(InstrumentId instrument) const {
  return engine_.position(instrument);
}
const Quote* StrategyContext::last_quote(InstrumentId instrument) const {
  return engine_.last_quote(instrument);
}
const Order* StrategyContext::order(OrderId order_id) const {
  return engine_.find_order(order_id);
}
int64_t StrategyContext::now_ns() const {
  return qt::now_ns();
}

}  // namespace qt
