// Recovery: events of an earlier run applied again through the code that produced them, the
// state a snapshot carries, and the start-up hand-over of recovered live orders to the venue that
// makes the engine ready (engine/README.md, Readiness).
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <string>

#include "engine/clock.hpp"
#include "engine/engine.hpp"

namespace qt {

namespace {

absl::Status replay_error(uint64_t sequence, const std::string& what) {
  return absl::DataLossError("journal record " + std::to_string(sequence) + ": " + what);
}

}  // namespace

absl::Status Engine::replay(const EngineEvent& event) {
  if (event.sequence != journal_sequence_ + 1) {
    return replay_error(event.sequence, "does not follow the state's sequence " +
                                            std::to_string(journal_sequence_));
  }
  replaying_ = true;
  absl::Status status = absl::OkStatus();
  switch (event.kind) {
    case EngineEventKind::kOrderReceived: {
      if (event.order_id != orders_.last_id() + 1) {
        status = replay_error(event.sequence, "order id " + std::to_string(event.order_id) +
                                                  " does not follow " +
                                                  std::to_string(orders_.last_id()));
        break;
      }
      if (event.order.instrument >= instruments_.size()) {
        status = replay_error(event.sequence, "order for instrument " +
                                                  std::to_string(event.order.instrument) +
                                                  " which this configuration does not have");
        break;
      }
      EngineStats::bump(stats_->orders_received);
      if (admit(event.order, event.timestamp_ns / 1'000'000) == nullptr) {
        status = replay_error(event.sequence, "order pool exhausted while replaying");
        break;
      }
      EngineStats::bump(stats_->orders_sent);
      break;
    }
    case EngineEventKind::kCancelRequested: {
      Order* order = orders_.find(event.order_id);
      if (event.reason == RejectReason::kNone && order != nullptr) apply_cancel_request(*order);
      break;
    }
    case EngineEventKind::kVenueEvent: on_venue_event(event.venue); break;
    case EngineEventKind::kControl: apply_control(event.control); break;
    case EngineEventKind::kOrderRejected:
      EngineStats::bump(stats_->orders_received);
      EngineStats::bump(
          stats_->rejects[static_cast<std::size_t>(event.reason) % kRejectReasonCount]);
      break;
    case EngineEventKind::kEngineStarted:
    case EngineEventKind::kSentToVenue:
    case EngineEventKind::kFixSequence: break;  // no engine state of their own
    default:
      status = replay_error(event.sequence,
                            "unknown event kind " + std::to_string(static_cast<int>(event.kind)));
  }
  replaying_ = false;
  if (status.ok()) {
    journal_sequence_ = event.sequence;
    next_sequence_ = event.sequence + 1;
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
  const auto n = static_cast<std::ptrdiff_t>(instruments_.size());
  state.positions.assign(positions_.begin(), positions_.begin() + n);
  state.open_buy_size.assign(open_buy_size_.begin(), open_buy_size_.begin() + n);
  state.open_sell_size.assign(open_sell_size_.begin(), open_sell_size_.begin() + n);
  state.trading_state = risk_.trading_state();
  state.kill_switch = risk_.kill_switch_engaged();
  state.owned_deals = owned_deals_.list();
  state.owned_deals_complete_since_epoch_ms = owned_deals_.complete_since_epoch_ms();
  return state;
}

absl::Status Engine::restore_state(const EngineState& state) {
  const std::size_t n = instruments_.size();
  if (state.positions.size() != n || state.open_buy_size.size() != n ||
      state.open_sell_size.size() != n) {
    return absl::FailedPreconditionError("snapshot has " + std::to_string(state.positions.size()) +
                                         " instruments, the configuration " + std::to_string(n));
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
  stats_->trading_state.store(risk_.trading_state(), std::memory_order_relaxed);
  stats_->kill_switch.store(risk_.kill_switch_engaged(), std::memory_order_relaxed);
  owned_deals_.restore(state.owned_deals, state.owned_deals_complete_since_epoch_ms);
  journal_sequence_ = state.journal_sequence;
  next_sequence_ = state.journal_sequence + 1;
  return absl::OkStatus();
}

void Engine::reconcile_recovered_orders() {
  const OrderId last = orders_.last_id();
  const OrderId first = last > orders_.capacity() ? last - orders_.capacity() + 1 : 1;
  std::size_t live = 0;
  int64_t oldest_live_epoch_ms = 0;
  for (OrderId id = first; id <= last; ++id) {
    const Order* order = orders_.find(id);
    if (order == nullptr || !order->is_live()) continue;
    ++live;
    if (oldest_live_epoch_ms == 0 || order->created_epoch_ms < oldest_live_epoch_ms) {
      oldest_live_epoch_ms = order->created_epoch_ms;
    }
  }
  // The venue looks for an order's deal in the history from a little before its send (its
  // clock-skew allowance, seconds): the owned deals from a minute before the oldest live order
  // (or now) on cover that, for the recovered orders and for the first orders of this run.
  constexpr int64_t kOwnedDealsLookbackMs = 60'000;
  owned_handover_pending_ = true;
  owned_handover_marker_sent_ = false;
  owned_handover_next_ = 0;
  owned_handover_from_ms_ =
      (live > 0 ? oldest_live_epoch_ms : wall_epoch_ms()) - kOwnedDealsLookbackMs;
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

int Engine::hand_over_recovered_orders() {
  int handed = 0;
  while (recovery_cursor_ != 0 && recovery_cursor_ <= recovery_end_) {
    if (!has_room(2)) break;  // next duty cycle, nothing lost
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
    send_to_venue(venue_request_for(*order, VenueRequestKind::kReconcile, now_ns()));
    recovery_pending_.store(recovery_pending_.load(std::memory_order_relaxed) - 1,
                            std::memory_order_relaxed);
    ++handed;
  }
  if (recovery_cursor_ > recovery_end_) recovery_cursor_ = 0;
  if (recovery_cursor_ == 0 && startup_reconcile_unsent_) handed += hand_over_owned_deals();
  if (recovery_cursor_ == 0 && startup_reconcile_unsent_ && !owned_handover_pending_ &&
      has_room(1)) {
    // Behind every kReconcile (the output queue and the ring are FIFO), so the venue has all of
    // them when it starts its reconciliation.
    VenueRequest request;
    request.kind = VenueRequestKind::kStartupReconcile;
    request.created_ns = now_ns();
    send_to_venue(request);
    startup_reconcile_unsent_ = false;
    ++handed;
  }
  return handed;
}

int Engine::hand_over_owned_deals() {
  if (!owned_handover_pending_) return 0;
  int handed = 0;
  if (!owned_handover_marker_sent_) {
    if (!has_room(1)) return 0;
    VenueRequest marker;
    marker.kind = VenueRequestKind::kOwnedDeal;
    marker.owned_deals_complete_since = true;
    marker.sent_epoch_ms =
        std::max<int64_t>({owned_deals_.complete_since_epoch_ms(), owned_handover_from_ms_, 1});
    marker.created_ns = now_ns();
    send_to_venue(marker);
    owned_handover_marker_sent_ = true;
    ++handed;
  }
  for (; owned_handover_next_ < owned_deals_.size(); ++owned_handover_next_) {
    const OwnedDeal& deal = owned_deals_[owned_handover_next_];
    if (deal.epoch_ms < owned_handover_from_ms_) continue;
    if (!has_room(1)) return handed;  // next duty cycle
    VenueRequest request;
    request.kind = VenueRequestKind::kOwnedDeal;
    request.order_id = deal.order_id;
    request.instrument = deal.instrument;
    request.side = deal.side;
    request.deal_opened = deal.opened;
    request.venue_order_id = deal.deal_id;
    request.sent_epoch_ms = deal.epoch_ms;
    request.created_ns = now_ns();
    send_to_venue(request);
    ++handed;
  }
  owned_handover_pending_ = false;
  return handed;
}

void Engine::record_owned_deal(const VenueEvent& event) {
  const Order* order = orders_.find(event.order_id);
  if (order == nullptr) {
    EngineStats::bump(stats_->unknown_order_events);
    if (!replaying_) spdlog::warn("deal owned by unknown order {}; ignored", event.order_id);
    return;
  }
  OwnedDeal deal;
  deal.deal_id = event.venue_order_id;
  deal.epoch_ms = event.fill_price;  // kDealOwned: when the venue learned it
  deal.order_id = order->id;
  deal.instrument = order->instrument;
  deal.side = order->side;
  deal.opened = event.opened;
  owned_deals_.record(deal);
}

void Engine::on_startup_reconciled(const VenueEvent& report) {
  if (ready() || startup_reconcile_unsent_) {
    // Not asked for (yet): a venue that reports on its own is not trusted to have reconciled.
    spdlog::warn("venue reported its start-up reconciliation unasked; ignored");
    return;
  }
  // The venue's report of each instrument (just before this answer, from the same snapshot):
  // what it could not resolve is settled from the broker's positions now, before trading.
  bool every_instrument_reported = true;
  std::size_t differences = 0;
  std::string books;
  const uint64_t settled_before = stats_->orders_reconciled.load(std::memory_order_relaxed);
  const uint64_t adjusted_before = stats_->position_adjustments.load(std::memory_order_relaxed);
  for (InstrumentId i = 0; i < instruments_.size(); ++i) {
    const BrokerView& view = broker_views_[i];
    every_instrument_reported &= view.reported;
    const bool compared = compare_with_broker(i, /*at_startup=*/true);
    const bool equal = compared && view.size == positions_[i].net_size();
    differences += equal ? 0 : 1;
    const InstrumentSpec& spec = instruments_[i];
    books += fmt::format(
        "{}{} engine {:g} broker {}{}", books.empty() ? "" : ", ", spec.name(),
        spec.size_to_double(positions_[i].net_size()),
        view.reported ? fmt::format("{:g}", spec.size_to_double(view.size)) : std::string("?"),
        equal ? "" : " (NOT EQUAL)");
  }
  spdlog::log(differences == 0 ? spdlog::level::info : spdlog::level::err,
              "reconcile: start-up: {} position differences, {} orders settled from positions, {} "
              "adjustments: {}",
              differences, stats_->orders_reconciled.load() - settled_before,
              stats_->position_adjustments.load() - adjusted_before, books);
  std::size_t unknown = 0;
  for (OrderId id = recovery_first_; id != 0 && id <= recovery_end_; ++id) {
    const Order* order = orders_.find(id);
    unknown += order != nullptr && order->state == OrderState::kUnknown ? 1 : 0;
  }
  // Without the broker's positions the venue's own count of what it left open stands.
  if (!every_instrument_reported && report.fill_size > 0 &&
      static_cast<std::size_t>(report.fill_size) > unknown) {
    unknown = static_cast<std::size_t>(report.fill_size);
  }
  const int64_t elapsed = now_ns() - started_ns_;
  readiness_ = EngineReadiness::kReady;
  stats_->unknown_at_ready.store(unknown, std::memory_order_relaxed);
  stats_->ready_after_ns.store(elapsed > 0 ? elapsed : 1, std::memory_order_relaxed);
  stats_->readiness.store(readiness(), std::memory_order_release);
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

}  // namespace qt
