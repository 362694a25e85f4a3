// The order flow, in pipeline order: a new order through readiness, risk and admission to the
// venue; cancels; kill switch and trading state; the venue's answers applied to orders and
// positions; the order updates they publish.
#include <spdlog/spdlog.h>

#include <memory>

#include "engine/clock.hpp"
#include "engine/engine.hpp"

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
    case VenueEventKind::kStartupReconciled:  // not about an order; handled before
    case VenueEventKind::kSubmitted:          // no state change; handled before
    case VenueEventKind::kPositionReport:
    case VenueEventKind::kPositionAdjusted:
    case VenueEventKind::kOrphanWorkingOrder:
    case VenueEventKind::kDealOwned: break;
    case VenueEventKind::kReconciled: return OrderEvent::kReconciled;
  }
  return OrderEvent::kOutcomeUnknown;
}

inline void describe(OrderUpdate& update, const Order& order, RejectReason reason,
                     PriceUnits fill_price, SizeUnits fill_size) {
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
}

}  // namespace

SubmitResult Engine::submit(const NewOrder& request) {
  EngineStats::bump(stats_->orders_received);
  // Before risk, so that a refusal here spends none of the source's rate budget.
  if (!ready()) {
    const RejectReason reason =
        journal_failed_ ? RejectReason::kJournalFailed : RejectReason::kNotReady;
    reject(request, reason);
    return {0, reason};
  }
  const bool known = request.instrument < instruments_.size();
  RiskContext context;
  context.spec = known ? &instruments_[request.instrument] : nullptr;
  context.last_quote = known ? last_quote(request.instrument) : nullptr;
  context.net_position = known ? positions_[request.instrument].net_size() : 0;
  context.open_buy_size = known ? open_buy_size_[request.instrument] : 0;
  context.open_sell_size = known ? open_sell_size_[request.instrument] : 0;
  context.duplicate_client_order_id =
      !request.client_order_id.empty() &&
      orders_.find_by_client_id(request.source, request.client_order_id) != 0;
  context.now_ns = now_ns();

  const RejectReason reason = risk_.check_new_order(request, context);
  if (reason != RejectReason::kNone) {
    reject(request, reason);
    return {0, reason};
  }
  // Room for: order received + sent to venue + the refusal's own event (a log), or the request
  // on the venue ring and its update (none).
  if (!has_room(3)) {
    const RejectReason busy =
        log_ != nullptr ? RejectReason::kJournalBusy : RejectReason::kVenueBusy;
    reject(request, busy);
    return {0, busy};
  }
  // One wall-clock read stamps both the order and its event, so replay rebuilds the same order.
  const int64_t admitted_ns = wall_now_ns();
  Order* order = admit(request, admitted_ns / 1'000'000);
  if (order == nullptr) {
    reject(request, RejectReason::kOrderPoolExhausted);
    return {0, RejectReason::kOrderPoolExhausted};
  }
  const VenueRequest venue_request =
      venue_request_for(*order, VenueRequestKind::kPlace, request.created_ns);
  write_order_received(*order, request, admitted_ns);
  write_ahead_and_send(venue_request);
  EngineStats::bump(stats_->orders_sent);
  // With a log the request leaves once durable: measured there, durability included.
  if (log_ == nullptr) stats_->order_latency.record(now_ns() - request.created_ns);
  publish_update(*order, RejectReason::kNone, 0, 0);
  return {order->id, RejectReason::kNone};
}

void Engine::write_order_received(const Order& order, const NewOrder& request,
                                  int64_t admitted_ns) {
  if (!writing_ahead()) return;
  EngineEvent received;
  received.kind = EngineEventKind::kOrderReceived;
  received.timestamp_ns = admitted_ns;
  received.order_id = order.id;
  received.order = request;
  write_ahead(received);
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

void Engine::reject(const NewOrder& request, RejectReason reason) {
  EngineStats::bump(stats_->rejects[static_cast<std::size_t>(reason)]);
  if (writing_ahead() && has_room(1)) {
    EngineEvent rejected;
    rejected.kind = EngineEventKind::kOrderRejected;
    rejected.reason = reason;
    rejected.order = request;
    write_ahead(rejected);
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

RejectReason Engine::cancel(SourceId source, OrderId order_id) {
  Order* order = orders_.find(order_id);
  if (order == nullptr || (source != kEngineSource && order->source != source)) {
    return RejectReason::kUnknownOrder;
  }
  if (next_order_state(*order, OrderEvent::kCancelRequested).result == TransitionResult::kIllegal) {
    return RejectReason::kNotCancelable;
  }
  if (!has_room(2)) return log_ != nullptr ? RejectReason::kJournalBusy : RejectReason::kVenueBusy;
  const VenueRequest request = venue_request_for(*order, VenueRequestKind::kCancel, now_ns());
  if (writing_ahead()) {
    EngineEvent requested;
    requested.kind = EngineEventKind::kCancelRequested;
    requested.order_id = order->id;
    requested.cancel.client_order_id = order->client_order_id;
    requested.cancel.source = source;
    requested.cancel.order_id = order->id;
    requested.cancel.created_ns = request.created_ns;
    write_ahead(requested);
  }
  // In doubt, there is nothing the venue could cancel yet: the intent is kept (journaled above)
  // and the cancel goes out when the venue shows the order live (send_wanted_cancel).
  if (order->state != OrderState::kUnknown) write_ahead_and_send(request);
  apply_cancel_request(*order);
  return RejectReason::kNone;
}

void Engine::send_wanted_cancel(Order& order) {
  if (replaying_ || !order.cancel_wanted ||
      (order.state != OrderState::kNew && order.state != OrderState::kPartiallyFilled)) {
    return;  // in replay the cancel it caused is an event of its own
  }
  const RejectReason refused = cancel(kEngineSource, order.id);
  if (refused != RejectReason::kNone) {
    spdlog::error(
        "order {}: the cancel asked for while it was in doubt could not be sent ({}); "
        "it is live at the venue",
        order.id, to_string(refused));
  }
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
  if (writing_ahead()) {
    EngineEvent control;
    control.kind = EngineEventKind::kControl;
    control.control = command;
    write_ahead(control);
  }
  switch (command.kind) {
    case ControlKind::kSetTradingState:
      if (!replaying_) {
        spdlog::warn("trading state {} -> {}", to_string(risk_.trading_state()),
                     to_string(command.trading_state));
      }
      risk_.set_trading_state(command.trading_state);
      if (command.trading_state == TradingState::kActive) {
        // ACTIVE is the operator's word that the instruments reconciliation halted may trade.
        risk_.clear_instrument_reducing();
        for (auto& figures : stats_->instruments) figures.reducing.store(0);
      }
      break;
    case ControlKind::kKillSwitch:
      risk_.engage_kill_switch();
      if (replaying_) break;  // the cancels it caused are events of their own
      spdlog::error("kill switch engaged: new orders refused, cancelling all open orders");
      cancel_all(kEngineSource, /*all_sources=*/true);
      break;
    case ControlKind::kResetKillSwitch:
      risk_.reset_kill_switch();
      if (!replaying_) spdlog::warn("kill switch reset by source {}", command.source);
      break;
  }
  stats_->trading_state.store(risk_.trading_state(), std::memory_order_relaxed);
  stats_->kill_switch.store(risk_.kill_switch_engaged(), std::memory_order_relaxed);
}

void Engine::release_exposure(const Order& order, SizeUnits size) {
  (order.side == Side::kBuy ? open_buy_size_ : open_sell_size_)[order.instrument] -= size;
}

void Engine::on_venue_event(const VenueEvent& event) {
  switch (event.kind) {  // never written ahead: nothing to replay
    case VenueEventKind::kStartupReconciled:
      if (!replaying_) on_startup_reconciled(event);
      return;
    case VenueEventKind::kPositionReport:
      if (!replaying_) on_position_report(event);
      return;
    case VenueEventKind::kOrphanWorkingOrder:
      if (!replaying_) adopt_orphan(event);  // its own events are written ahead there
      return;
    default: break;
  }
  if (writing_ahead()) {
    EngineEvent answered;
    answered.kind = EngineEventKind::kVenueEvent;
    answered.order_id = event.order_id;
    answered.venue = event;
    write_ahead(answered);
  }
  if (event.kind == VenueEventKind::kPositionAdjusted) {
    apply_position_adjustment(event);
    return;
  }
  if (event.kind == VenueEventKind::kDealOwned) {
    record_owned_deal(event);
    return;
  }
  Order* order = orders_.find(event.order_id);
  if (order == nullptr) {
    EngineStats::bump(stats_->unknown_order_events);
    if (!replaying_) spdlog::warn("venue event for unknown order {}", event.order_id);
    return;
  }
  if (event.kind == VenueEventKind::kSubmitted) {
    // The request's name, kept until the venue names the order itself.
    if (order->venue_order_id[0] == '\0' || order->venue_id_is_reference) {
      order->venue_order_id = event.venue_order_id;
      order->venue_id_is_reference = true;
    }
    EngineStats::bump(stats_->venue_references);
    return;
  }
  if (event.kind == VenueEventKind::kReconciled) {
    apply_reconciled(*order, event);
    return;
  }
  const OrderState before = order->state;
  if (before == OrderState::kReconciled) {
    // Settled from the broker's positions while the venue was still finding out: its answer
    // is journaled (above) but changes nothing here — if it contradicts the settlement, the
    // positions differ again and the next reconciliation says so.
    EngineStats::bump(stats_->late_venue_answers);
    if (!replaying_) {
      spdlog::warn("order {}: venue answer {} after it was reconciled; ignored", order->id,
                   static_cast<int>(event.kind));
    }
    return;
  }
  if (event.kind == VenueEventKind::kCancelRejected && is_terminal(before)) {
    // The order filled (or ended) while our cancel was on its way: the venue's "too late to
    // cancel" is expected, not a broken state machine.
    EngineStats::bump(stats_->late_cancel_rejects);
    return;
  }
  const SizeUnits leaves_before = order->leaves();
  const bool never_named = order->venue_order_id[0] == '\0' || order->venue_id_is_reference;
  const OrderEvent order_event = to_order_event(event.kind);
  if (apply_order_event(*order, order_event, event.fill_size, event.fill_price) ==
      TransitionResult::kIllegal) {
    EngineStats::bump(stats_->illegal_transitions);
    spdlog::error("illegal order transition ignored: order {} in {} got {} (fill size {})",
                  order->id, to_string(before), to_string(order_event), event.fill_size);
    return;
  }
  if (event.venue_order_id[0] != '\0') {
    order->venue_order_id = event.venue_order_id;
    order->venue_id_is_reference = false;
  }
  if (order_event == OrderEvent::kVenueAccepted && before == OrderState::kPendingCancel &&
      never_named) {
    // Its cancel went out before the broker had named the order (it was recovered with the
    // cancel pending, or the cancel overtook the answer): a cancel names the order's id, so that
    // one may have had nothing to act on. Asked again now that the order is known to be live; if
    // the first did act, the second is refused as too late, which changes nothing.
    order->state = OrderState::kNew;
    order->cancel_wanted = true;
  }

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
  send_wanted_cancel(*order);
}

void Engine::publish_update(const Order& order, RejectReason reason, PriceUnits fill_price,
                            SizeUnits fill_size) {
  if (replaying_) return;
  // Without a log, a client port's update needs neither durability nor to wait for a callback
  // to finish: straight onto its ring. So does a strategy's when the queue is full (a strategy
  // flooding submits from one callback): called back nested, rather than the update lost.
  if (log_ == nullptr && (!is_strategy(order.source) || outputs_.room() == 0)) {
    OrderUpdate update;
    describe(update, order, reason, fill_price, fill_size);
    deliver_update(update);
    return;
  }
  if (EngineOutput* output = queue_output(/*venue_request=*/false)) {
    describe(*std::construct_at(&output->update), order, reason, fill_price, fill_size);
  }
}

}  // namespace qt
