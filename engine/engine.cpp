#include "engine/engine.hpp"

#include <spdlog/spdlog.h>

#include <chrono>
#include <cstring>
#include <string>

#include "engine/clock.hpp"
#include "persist/records.hpp"

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
    case VenueEventKind::kStartupReconciled: break;  // not about an order; handled before
  }
  return OrderEvent::kOutcomeUnknown;
}

constexpr uint32_t kTimerCheckEvery = 64;  // duty cycles between clock reads for timers

// Outputs that may wait for durability; sized like the journal ring.
constexpr std::size_t kPendingCapacity = persist::JournalRing::kCapacity;
// Records one input can cause before the next budget check: a venue event (1) whose update
// makes a strategy submit and cancel (2 + 2), with slack.
constexpr std::size_t kRecordsPerInput = 8;

int64_t wall_now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

absl::Status replay_error(uint64_t sequence, const std::string& what) {
  return absl::DataLossError("journal record " + std::to_string(sequence) + ": " + what);
}

}  // namespace

std::string_view to_string(EngineReadiness readiness) {
  switch (readiness) {
    case EngineReadiness::kReady: return "READY";
    case EngineReadiness::kReconciling: return "RECONCILING";
  }
  return "?";
}

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

void Engine::set_journal(JournalPort port, uint64_t next_sequence) {
  journal_ = port;
  next_journal_sequence_ = next_sequence;
  journal_sequence_ = next_sequence - 1;
  pending_.assign(kPendingCapacity, PendingOutput{});
  pending_head_ = 0;
  pending_count_ = 0;
}

void Engine::on_start() {
  if (journaling()) {
    persist::EngineStartedRecord started;
    started.epoch_ns = wall_now_ns();
    started.recovered_through_sequence = journal_sequence_;
    journal(persist::RecordType::kEngineStarted, started);
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
  if (strategies_started_ || strategies_stopped_) return;
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
  if (pending_count_ > 0) work += release_durable_outputs();
  if (recovery_cursor_ != 0 || startup_reconcile_unsent_) {
    work += reconcile_some_recovered_orders();
  }
  // With a journal, inputs that cause records wait while it is nearly full (never dropped).
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
  if (pending_count_ > 0) work += release_durable_outputs();
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
  if (pending_count_ > 0 || recovery_cursor_ != 0 || startup_reconcile_unsent_) {
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
  last_quotes_[quote.instrument] = quote;
  has_quote_[quote.instrument] = true;
  positions_[quote.instrument].mark(quote.bid, quote.ask);
  for (StrategySlot& slot : strategies_) {
    if (strategies_started_ && !strategies_stopped_ && slot.context->subscribed(quote.instrument)) {
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
    case CommandKind::kControl: {
      ControlCommand control = command.control;
      control.source = source;
      apply_control(control);
      break;
    }
  }
}

SubmitResult Engine::submit(const NewOrder& request) {
  EngineStats::bump(stats_->orders_received);
  // Before risk, so that a refusal here spends none of the source's rate budget.
  if (!ready()) {
    reject(request, RejectReason::kNotReady);
    return {0, RejectReason::kNotReady};
  }
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
  // With a journal the request waits for durability in the engine's own bounded queue, which
  // journal_has_room() covers; without one it goes straight onto the venue ring.
  if (journal_.ring == nullptr && venue_requests_.size_approx() >= VenueRequestRing::kCapacity) {
    reject(request, RejectReason::kVenueBusy);
    return {0, RejectReason::kVenueBusy};
  }
  if (journaling() && !journal_has_room(3)) {  // admitted + sent + the refusal's own record
    reject(request, RejectReason::kJournalBusy);
    return {0, RejectReason::kJournalBusy};
  }
  const int64_t admitted_ns = wall_now_ns();
  Order* order = admit(request, admitted_ns / 1'000'000);
  if (order == nullptr) {
    reject(request, RejectReason::kOrderPoolExhausted);
    return {0, RejectReason::kOrderPoolExhausted};
  }

  VenueRequest venue_request;
  venue_request.kind = VenueRequestKind::kPlace;
  venue_request.side = order->side;
  venue_request.type = order->type;
  venue_request.instrument = order->instrument;
  venue_request.order_id = order->id;
  venue_request.limit_price = order->limit_price;
  venue_request.size = order->size;
  venue_request.created_ns = request.created_ns;
  if (journaling()) {
    journal(persist::RecordType::kOrderReceived, persist::OrderReceivedRecord{request, order->id},
            admitted_ns);
    journal(persist::RecordType::kSentToVenue, persist::SentToVenueRecord{venue_request});
  }
  send_to_venue(venue_request);  // cannot fail: capacity was checked above, one producer
  EngineStats::bump(stats_->orders_sent);
  // With a journal the request leaves once durable: measured there, durability included.
  if (journal_.ring == nullptr) stats_->order_latency.record(now_ns() - request.created_ns);
  publish_update(*order, RejectReason::kNone, 0, 0);
  return {order->id, RejectReason::kNone};
}

Order* Engine::admit(const NewOrder& request, int64_t epoch_ms) {
  Order* order = orders_.create();
  if (order == nullptr) return nullptr;
  order->created_epoch_ms = epoch_ms;
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
  return order;
}

bool Engine::send_to_venue(const VenueRequest& request) {
  if (replaying_) return true;
  if (journal_.ring != nullptr) {
    PendingOutput output;
    output.sequence = journal_sequence_;
    output.venue_request = true;
    output.request = request;
    hold_until_durable(output);
    return true;
  }
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
  if (journaling() && !journal_has_room(2)) return RejectReason::kJournalBusy;
  if (journal_.ring == nullptr && venue_requests_.size_approx() >= VenueRequestRing::kCapacity) {
    return RejectReason::kVenueBusy;
  }
  VenueRequest request;
  request.kind = VenueRequestKind::kCancel;
  request.side = order->side;
  request.type = order->type;
  request.instrument = order->instrument;
  request.order_id = order->id;
  request.size = order->leaves();
  request.created_ns = now_ns();
  if (journaling()) {
    persist::CancelRequestedRecord record;
    record.cancel.client_order_id = order->client_order_id;
    record.cancel.source = source;
    record.cancel.order_id = order->id;
    record.cancel.created_ns = request.created_ns;
    record.order_id = order->id;
    journal(persist::RecordType::kCancelRequested, record);
    journal(persist::RecordType::kSentToVenue, persist::SentToVenueRecord{request});
  }
  send_to_venue(request);  // capacity checked above
  apply_cancel_request(*order);
  return RejectReason::kNone;
}

void Engine::apply_cancel_request(Order& order) {
  apply_order_event(order, OrderEvent::kCancelRequested);
  publish_update(order, RejectReason::kNone, 0, 0);
}

void Engine::cancel_all(SourceId source_filter, bool all_sources) {
  orders_.for_each_live([&](Order& order) {
    if (all_sources || order.source == source_filter) cancel(kEngineSource, order.id);
  });
}

void Engine::engage_kill_switch() {
  ControlCommand command;
  command.kind = ControlKind::kKillSwitch;
  apply_control(command);
}

void Engine::set_trading_state(TradingState state) {
  ControlCommand command;
  command.kind = ControlKind::kSetTradingState;
  command.trading_state = state;
  apply_control(command);
}

void Engine::apply_control(const ControlCommand& command) {
  if (journaling()) journal(persist::RecordType::kControl, persist::ControlRecord{command});
  switch (command.kind) {
    case ControlKind::kSetTradingState:
      if (!replaying_) {
        spdlog::warn("trading state {} -> {}", to_string(risk_.trading_state()),
                     to_string(command.trading_state));
      }
      risk_.set_trading_state(command.trading_state);
      break;
    case ControlKind::kKillSwitch:
      risk_.engage_kill_switch();
      if (replaying_) break;  // the cancels it caused are journaled records of their own
      spdlog::error("kill switch engaged: new orders refused, cancelling all open orders");
      cancel_all(kEngineSource, /*all_sources=*/true);
      break;
    case ControlKind::kResetKillSwitch:
      risk_.reset_kill_switch();
      if (!replaying_) spdlog::warn("kill switch reset by source {}", command.source);
      break;
  }
}

void Engine::reject(const NewOrder& request, RejectReason reason) {
  EngineStats::bump(stats_->rejects[static_cast<std::size_t>(reason)]);
  if (journaling() && journal_has_room(1)) {
    persist::OrderRejectedRecord record;
    record.client_order_id = request.client_order_id;
    record.source = request.source;
    record.reason = reason;
    journal(persist::RecordType::kOrderRejected, record);
  }
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
  if (event.kind == VenueEventKind::kStartupReconciled) {
    if (!replaying_) on_startup_reconciled(event);  // never journaled: nothing to replay
    return;
  }
  if (journaling()) journal(persist::RecordType::kVenueEvent, persist::VenueEventRecord{event});
  Order* order = orders_.find(event.order_id);
  if (order == nullptr) {
    EngineStats::bump(stats_->unknown_order_events);
    if (!replaying_) spdlog::warn("venue event for unknown order {}", event.order_id);
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
  if (replaying_) return;
  if (journal_.ring != nullptr) {
    PendingOutput output;
    output.sequence = journal_sequence_;
    output.update = update;
    hold_until_durable(output);
    return;
  }
  deliver_update(update);
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

// ---- Journal ----------------------------------------------------------------------------------

template <typename Payload>
void Engine::journal(persist::RecordType type, const Payload& payload, int64_t timestamp_ns) {
  const persist::JournalEntry entry = persist::make_entry(
      type, next_journal_sequence_, timestamp_ns != 0 ? timestamp_ns : wall_now_ns(), payload);
  if (!journal_.ring->try_push(entry)) {
    // Callers check journal_has_room() first, so this is a bug; never silently.
    EngineStats::bump(stats_->journal_overflows);
    spdlog::critical("journal ring full: record {} (type {}) lost", next_journal_sequence_,
                     static_cast<int>(type));
    return;
  }
  journal_sequence_ = next_journal_sequence_++;
  EngineStats::bump(stats_->journal_records);
  if (journal_.doorbell != nullptr) journal_.doorbell->ring();
}

bool Engine::journal_has_room(std::size_t records) const {
  return persist::JournalRing::kCapacity - journal_.ring->size_approx() >= records &&
         kPendingCapacity - pending_count_ >= records;
}

std::size_t Engine::input_budget() const {
  if (!journaling()) return kMaxDrainBatch;
  const std::size_t ring_free = persist::JournalRing::kCapacity - journal_.ring->size_approx();
  const std::size_t pending_free = kPendingCapacity - pending_count_;
  const std::size_t room = ring_free < pending_free ? ring_free : pending_free;
  const std::size_t inputs = room / kRecordsPerInput;
  return inputs < kMaxDrainBatch ? inputs : kMaxDrainBatch;
}

void Engine::hold_until_durable(const PendingOutput& output) {
  // Room was reserved by the caller's journal_has_room(); a full queue would be a bug.
  if (pending_count_ == pending_.size()) {
    EngineStats::bump(stats_->journal_overflows);
    spdlog::critical("durability queue full: output for record {} dropped", output.sequence);
    return;
  }
  pending_[(pending_head_ + pending_count_) % pending_.size()] = output;
  ++pending_count_;
  stats_->awaiting_durability.store(pending_count_, std::memory_order_relaxed);
}

int Engine::release_durable_outputs() {
  const uint64_t durable = journal_.durable_sequence->load(std::memory_order_acquire);
  int released = 0;
  bool rang_venue = false;
  while (pending_count_ > 0) {
    PendingOutput& output = pending_[pending_head_];
    if (output.sequence > durable) break;
    if (output.venue_request) {
      if (!venue_requests_.try_push(output.request)) break;  // keeps its place; next cycle
      rang_venue = true;
      if (output.request.kind == VenueRequestKind::kPlace) {
        stats_->order_latency.record(now_ns() - output.request.created_ns);
      }
    }
    pending_head_ = (pending_head_ + 1) % pending_.size();
    --pending_count_;
    ++released;
    // May re-enter (a strategy submitting from its callback): the queue is consistent here.
    if (!output.venue_request) deliver_update(output.update);
  }
  if (rang_venue && venue_doorbell_ != nullptr) venue_doorbell_->ring();
  stats_->awaiting_durability.store(pending_count_, std::memory_order_relaxed);
  return released;
}

absl::Status Engine::replay(uint64_t sequence, int64_t timestamp_ns, uint16_t type,
                            std::span<const std::byte> payload) {
  if (sequence != journal_sequence_ + 1) {
    return replay_error(
        sequence, "does not follow the state's sequence " + std::to_string(journal_sequence_));
  }
  replaying_ = true;
  absl::Status status = absl::OkStatus();
  switch (static_cast<persist::RecordType>(type)) {
    case persist::RecordType::kOrderReceived: {
      const auto record = persist::payload_as<persist::OrderReceivedRecord>(payload);
      if (record.order_id != orders_.last_id() + 1) {
        status =
            replay_error(sequence, "order id " + std::to_string(record.order_id) +
                                       " does not follow " + std::to_string(orders_.last_id()));
        break;
      }
      if (record.order.instrument >= instruments_.size()) {
        status = replay_error(sequence, "order for instrument " +
                                            std::to_string(record.order.instrument) +
                                            " which this configuration does not have");
        break;
      }
      EngineStats::bump(stats_->orders_received);
      if (admit(record.order, timestamp_ns / 1'000'000) == nullptr) {
        status = replay_error(sequence, "order pool exhausted while replaying");
        break;
      }
      EngineStats::bump(stats_->orders_sent);
      break;
    }
    case persist::RecordType::kCancelRequested: {
      const auto record = persist::payload_as<persist::CancelRequestedRecord>(payload);
      Order* order = orders_.find(record.order_id);
      if (record.reason == RejectReason::kNone && order != nullptr) apply_cancel_request(*order);
      break;
    }
    case persist::RecordType::kVenueEvent:
      on_venue_event(persist::payload_as<persist::VenueEventRecord>(payload).event);
      break;
    case persist::RecordType::kControl:
      apply_control(persist::payload_as<persist::ControlRecord>(payload).command);
      break;
    case persist::RecordType::kOrderRejected: {
      const auto record = persist::payload_as<persist::OrderRejectedRecord>(payload);
      EngineStats::bump(stats_->orders_received);
      EngineStats::bump(
          stats_->rejects[static_cast<std::size_t>(record.reason) % kRejectReasonCount]);
      break;
    }
    case persist::RecordType::kEngineStarted:
    case persist::RecordType::kSentToVenue:
    case persist::RecordType::kFixSequence: break;  // no engine state of their own
    default: status = replay_error(sequence, "unknown record type " + std::to_string(type));
  }
  replaying_ = false;
  if (status.ok()) {
    journal_sequence_ = sequence;
    next_journal_sequence_ = sequence + 1;
    EngineStats::bump(stats_->replayed_records);
  }
  return status;
}

EngineState Engine::capture_state() const {
  EngineState state;
  state.journal_sequence = journal_sequence_;
  state.last_order_id = orders_.last_id();
  const OrderId first =
      state.last_order_id > orders_.capacity() ? state.last_order_id - orders_.capacity() + 1 : 1;
  for (OrderId id = first; id <= state.last_order_id; ++id) {
    if (const Order* order = orders_.find(id)) state.orders.push_back(*order);
  }
  const std::size_t n = instruments_.size();
  state.positions.assign(positions_.begin(), positions_.begin() + static_cast<std::ptrdiff_t>(n));
  state.open_buy_size.assign(open_buy_size_.begin(),
                             open_buy_size_.begin() + static_cast<std::ptrdiff_t>(n));
  state.open_sell_size.assign(open_sell_size_.begin(),
                              open_sell_size_.begin() + static_cast<std::ptrdiff_t>(n));
  state.trading_state = risk_.trading_state();
  state.kill_switch = risk_.kill_switch_engaged();
  return state;
}

absl::Status Engine::restore_state(const EngineState& state) {
  const std::size_t n = instruments_.size();
  if (state.positions.size() != n || state.open_buy_size.size() != n ||
      state.open_sell_size.size() != n) {
    return absl::FailedPreconditionError("snapshot has " + std::to_string(state.positions.size()) +
                                         " instruments, the "
                                         "configuration " +
                                         std::to_string(n));
  }
  if (orders_.last_id() != 0 || journal_sequence_ != 0) {
    return absl::FailedPreconditionError("restore_state needs a fresh engine");
  }
  if (absl::Status status = orders_.restore(state.orders, state.last_order_id); !status.ok()) {
    return status;
  }
  uint64_t live = 0;
  for (const Order& order : state.orders) live += order.is_live() ? 1 : 0;
  stats_->live_orders.store(live, std::memory_order_relaxed);
  for (std::size_t i = 0; i < n; ++i) {
    positions_[i] = state.positions[i];
    open_buy_size_[i] = state.open_buy_size[i];
    open_sell_size_[i] = state.open_sell_size[i];
    publish_instrument(static_cast<InstrumentId>(i));
  }
  risk_.set_trading_state(state.trading_state);
  if (state.kill_switch) risk_.engage_kill_switch();
  journal_sequence_ = state.journal_sequence;
  next_journal_sequence_ = state.journal_sequence + 1;
  return absl::OkStatus();
}

void Engine::reconcile_recovered_orders() {
  const OrderId last = orders_.last_id();
  const OrderId first = last > orders_.capacity() ? last - orders_.capacity() + 1 : 1;
  std::size_t live = 0;
  for (OrderId id = first; id <= last; ++id) {
    const Order* order = orders_.find(id);
    live += order != nullptr && order->is_live() ? 1 : 0;
  }
  recovery_cursor_ = live > 0 ? first : 0;
  recovery_first_ = first;
  recovery_end_ = last;
  recovery_pending_.store(live, std::memory_order_relaxed);
  // Even with nothing recovered the venue is asked: its positions and working orders are read
  // before the first new order goes out.
  startup_reconcile_unsent_ = true;
  readiness_ = EngineReadiness::kReconciling;
  stats_->readiness.store(readiness_, std::memory_order_relaxed);
  stats_->recovered_orders.store(live, std::memory_order_relaxed);
  stats_->ready_after_ns.store(0, std::memory_order_relaxed);
}

int Engine::reconcile_some_recovered_orders() {
  int handed = 0;
  while (recovery_cursor_ != 0 && recovery_cursor_ <= recovery_end_) {
    if (journal_.ring != nullptr && !journal_has_room(2)) break;  // next duty cycle
    if (journal_.ring == nullptr && venue_requests_.size_approx() >= VenueRequestRing::kCapacity) {
      break;  // the venue ring is full: next duty cycle, nothing lost
    }
    Order* order = orders_.find(recovery_cursor_++);
    if (order == nullptr || !order->is_live()) continue;
    // Sent, never answered: Unknown until the venue's records say what happened.
    if (order->state == OrderState::kPendingNew) {
      VenueEvent unknown;
      unknown.kind = VenueEventKind::kOutcomeUnknown;
      unknown.order_id = order->id;
      unknown.created_ns = now_ns();
      on_venue_event(unknown);
    }
    VenueRequest request;
    request.kind = VenueRequestKind::kReconcile;
    request.side = order->side;
    request.type = order->type;
    request.instrument = order->instrument;
    request.order_id = order->id;
    request.limit_price = order->limit_price;
    request.size = order->leaves();
    request.created_ns = now_ns();
    request.sent_epoch_ms = order->created_epoch_ms;
    request.venue_order_id = order->venue_order_id;
    request.cancel_requested = order->state == OrderState::kPendingCancel;
    send_to_venue(request);
    recovery_pending_.store(recovery_pending_.load(std::memory_order_relaxed) - 1,
                            std::memory_order_relaxed);
    ++handed;
  }
  if (recovery_cursor_ > recovery_end_) recovery_cursor_ = 0;
  if (recovery_cursor_ == 0 && startup_reconcile_unsent_) {
    // Behind every kReconcile (the durability queue and the ring are FIFO), so the venue has
    // all of them when it starts its reconciliation.
    VenueRequest request;
    request.kind = VenueRequestKind::kStartupReconcile;
    request.created_ns = now_ns();
    const bool room = journal_.ring != nullptr
                          ? journal_has_room(1)
                          : venue_requests_.size_approx() < VenueRequestRing::kCapacity;
    if (room && send_to_venue(request)) {
      startup_reconcile_unsent_ = false;
      ++handed;
    }
  }
  return handed;
}

void Engine::on_startup_reconciled(const VenueEvent& report) {
  if (ready() || startup_reconcile_unsent_) {
    // Not asked for (yet): a venue that reports on its own is not trusted to have reconciled.
    spdlog::warn("venue reported its start-up reconciliation unasked; ignored");
    return;
  }
  std::size_t unknown = 0;
  for (OrderId id = recovery_first_; id != 0 && id <= recovery_end_; ++id) {
    const Order* order = orders_.find(id);
    unknown += order != nullptr && order->state == OrderState::kUnknown ? 1 : 0;
  }
  if (report.fill_size > 0 && static_cast<std::size_t>(report.fill_size) > unknown) {
    unknown = static_cast<std::size_t>(report.fill_size);
  }
  const int64_t elapsed = now_ns() - started_ns_;
  readiness_ = EngineReadiness::kReady;
  stats_->unknown_at_ready.store(unknown, std::memory_order_relaxed);
  stats_->ready_after_ns.store(elapsed > 0 ? elapsed : 1, std::memory_order_relaxed);
  stats_->readiness.store(readiness_, std::memory_order_release);
  const uint64_t recovered = stats_->recovered_orders.load(std::memory_order_relaxed);
  if (unknown > 0) {
    spdlog::warn(
        "engine ready: reconciled {} recovered orders in {:.1f} ms, {} left Unknown (still live: "
        "they count against risk limits until the venue resolves them; the venue logged them for "
        "the operator)",
        recovered, static_cast<double>(elapsed) / 1e6, unknown);
  } else {
    spdlog::info("engine ready: reconciled {} recovered orders in {:.1f} ms, 0 left Unknown",
                 recovered, static_cast<double>(elapsed) / 1e6);
  }
  start_strategies();
}

// ---- StrategyContext -------------------------------------------------------------------------

SubmitResult StrategyContext::submit(const OrderRequest& request) {
  if (engine_.strategies_stopped()) return {0, RejectReason::kTradingHalted};
  NewOrder order;
  // "S<source>-<start>-<sequence>": unique per strategy, across restarts too, for the engine's
  // duplicate check and the journal.
  char text[ClientOrderId::kCapacity];
  int length = 0;
  text[length++] = 'S';
  auto append_number = [&](uint64_t value, uint64_t base) {
    char digits[20];
    int n = 0;
    do {
      digits[n++] = "0123456789abcdefghijklmnopqrstuvwxyz"[value % base];
      value /= base;
    } while (value != 0 && n < 20);
    while (n > 0 && length < static_cast<int>(sizeof text)) text[length++] = digits[--n];
  };
  append_number(source_, 10);
  text[length++] = '-';
  append_number(start_epoch_seconds_, 36);
  text[length++] = '-';
  append_number(next_client_sequence_++, 10);
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
