// The engine's set-up, its duty cycle, quotes and the strategies' lifecycle and callbacks.
#include "engine/engine.hpp"

#include <spdlog/spdlog.h>

#include "engine/clock.hpp"

namespace qt {

namespace {
constexpr uint32_t kTimerCheckEvery = 64;  // duty cycles between clock reads for timers
}  // namespace

std::string_view to_string(EngineReadiness readiness) {
  switch (readiness) {
    case EngineReadiness::kReady: return "READY";
    case EngineReadiness::kReconciling: return "RECONCILING";
    case EngineReadiness::kJournalFailed: return "JOURNAL FAILED";
  }
  return "?";
}

Engine::Engine(EngineOptions options, QuoteRing& quotes, VenueRequestRing& venue_requests,
               VenueEventRing& venue_events)
    : instruments_(std::move(options.instruments)),
      cancel_on_shutdown_(options.cancel_on_shutdown),
      reconcile_grace_ns_(options.reconcile_grace_ns),
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
  if (writing_ahead()) {
    EngineEvent started;
    started.kind = EngineEventKind::kEngineStarted;
    started.started.recovered_through_sequence = journal_sequence_;
    write_ahead(started);
  }
  started_ns_ = now_ns();
  if (ready()) {
    start_strategies();
    return;
  }
  spdlog::info(
      "engine not ready: reconciling {} recovered live orders with the venue; new orders are "
      "refused ({}) and strategies wait until it reports",
      recovery_pending_.load(std::memory_order_relaxed), to_string(RejectReason::kNotReady));
}

void Engine::start_strategies() {
  // After a journal failure every order they submit would be refused.
  if (strategies_started_ || strategies_stopped_ || journal_failed_) return;
  strategies_started_ = true;
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
  if (log_ != nullptr && !journal_failed_ && log_->failed()) on_journal_failed();
  if (!outputs_.empty()) work += release_outputs();
  if (recovery_cursor_ != 0 || startup_reconcile_unsent_) work += hand_over_recovered_orders();
  // Inputs that cause events or outputs wait while either is nearly full (never dropped).
  std::size_t budget = input_budget();
  work += static_cast<int>(
      venue_events_.drain([this](const VenueEvent& e) { on_venue_event(e); }, budget));
  work += static_cast<int>(quotes_.drain([this](const Quote& q) { on_quote(q); }, kMaxDrainBatch));
  for (const ClientPort& port : ports_) {
    const SourceId source = port.source;
    budget = input_budget();
    work += static_cast<int>(port.commands->drain(
        [this, source](const ClientCommand& c) { on_command(source, c); }, budget));
  }
  if (work == 0 || ++timer_check_countdown_ >= kTimerCheckEvery) {
    timer_check_countdown_ = 0;
    run_timers(now_ns());
  }
  // Updates of this cycle reach the strategies before on_stop, not after.
  if (!outputs_.empty()) work += release_outputs();
  if (shutdown_requested_.load(std::memory_order_relaxed) &&
      !shutdown_done_.load(std::memory_order_relaxed)) {
    begin_shutdown();
  }
  return work;
}

void Engine::run_timers(int64_t now) {
  if (!strategies_started_ || strategies_stopped_) return;
  for (StrategySlot& slot : strategies_) {
    StrategyContext& context = *slot.context;
    if (context.timer_interval_ns() <= 0 || now < context.next_timer_ns) continue;
    context.next_timer_ns = now + context.timer_interval_ns();
    slot.strategy->on_timer(context, now);
  }
}

int64_t Engine::next_deadline_ns() const {
  // Room in the venue or journal ring is not announced by a ring: retry as a 1 ms park did.
  constexpr int64_t kBackPressureRetryNs = 1'000'000;
  int64_t deadline = kNoDeadline;
  if (!outputs_.empty() || recovery_cursor_ != 0 || startup_reconcile_unsent_) {
    deadline = now_ns() + kBackPressureRetryNs;
  }
  if (!strategies_started_ || strategies_stopped_) return deadline;
  for (const StrategySlot& slot : strategies_) {
    const StrategyContext& context = *slot.context;
    if (context.timer_interval_ns() > 0 && context.next_timer_ns < deadline) {
      deadline = context.next_timer_ns;
    }
  }
  return deadline;
}

void Engine::begin_shutdown() {
  // A strategy that never started (the engine never got ready) has nothing to stop.
  if (strategies_started_) {
    for (StrategySlot& slot : strategies_) slot.strategy->on_stop(*slot.context);
  }
  // After on_stop a strategy gets no more callbacks and cannot submit; one that never started
  // never will.
  strategies_stopped_ = true;
  if (cancel_on_shutdown_) cancel_all(kEngineSource, /*all_sources=*/true);
  shutdown_done_.store(true, std::memory_order_release);
}

void Engine::on_quote(const Quote& quote) {
  if (quote.instrument >= instruments_.size()) return;
  // A zero, negative or crossed price is no market: it would mark positions and move risk's
  // collar. Refused and counted, never applied (locked, bid == ask, is a market).
  if (quote.bid <= 0 || quote.ask <= 0 || quote.bid > quote.ask) {
    EngineStats::bump(stats_->quotes_refused);
    return;
  }
  last_quotes_[quote.instrument] = quote;
  has_quote_[quote.instrument] = true;
  positions_[quote.instrument].mark(quote.bid, quote.ask);
  if (strategies_started_ && !strategies_stopped_) {
    for (StrategySlot& slot : strategies_) {
      if (slot.context->subscribed(quote.instrument)) {
        slot.strategy->on_quote(*slot.context, quote);
      }
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
    case CommandKind::kControl: {
      ControlCommand control = command.control;
      control.source = source;
      apply_control(control);
      break;
    }
  }
}

void Engine::deliver_update(const OrderUpdate& update) {
  if (update.source < strategy_of_source_.size() && strategy_of_source_[update.source] >= 0) {
    if (!strategies_started_ || strategies_stopped_) return;
    StrategySlot& slot = strategies_[strategy_of_source_[update.source]];
    slot.strategy->on_order_update(*slot.context, update);
    if (update.last_fill_size > 0) slot.strategy->on_fill(*slot.context, update);
    return;
  }
  if (update.source < port_of_source_.size() && port_of_source_[update.source] >= 0) {
    const ClientPort& port = ports_[port_of_source_[update.source]];
    if (port.updates != nullptr && port.updates->try_push(update) &&
        port.updates_doorbell != nullptr) {
      port.updates_doorbell->ring();
    }
  }
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

}  // namespace qt
