// Reconciliation with the broker (engine/README.md, "Reconciliation with the broker"): after
// every snapshot of the broker's positions and working orders the venue reports the broker's net
// position per instrument; the engine compares it with its own. A difference that lasts, with
// nothing in flight on that instrument, is settled from the broker's side — never by sending
// anything to find out:
//  - orders in doubt (Unknown, the venue done looking) whose sizes explain the difference in
//    exactly one way: those executed, the others did not (each journaled as kReconciled);
//  - otherwise (none or several explanations: a manual trade, a history that lost entries) the
//    orders in doubt are settled as undetermined and the position is moved to the broker's by a
//    journaled kPositionAdjusted — an alert (position_adjustments, an error line), and while
//    trading the instrument goes REDUCING until the operator sets the trading state ACTIVE.
// Working orders the venue finds at the broker that no order accounts for are adopted as
// external orders (source 0): tracked, shown, cancelled by the kill switch.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstring>

#include "engine/clock.hpp"
#include "engine/engine.hpp"

namespace qt {

namespace {

constexpr std::size_t kMaxExplained = 8;  // orders in doubt tried as subsets (2^8 sums)

void copy_note(std::array<char, VenueEvent::kVenueIdCapacity>& to, std::string_view note) {
  to.fill('\0');
  std::memcpy(to.data(), note.data(), std::min(note.size(), to.size()));
}

// Unknown; a market order acknowledged and not (fully) filled — at Capital.com its accept and
// fill come together, so one left between them (recovered) is as much in doubt; and an order
// whose cancel went out before the broker ever named it (its fate is as unknown: the cancel had
// nothing to act on).
bool in_doubt_for_reconciliation(const Order& order) {
  const bool never_named = order.venue_order_id[0] == '\0' || order.venue_id_is_reference;
  return order.state == OrderState::kUnknown ||
         (order.type == OrderType::kMarket &&
          (order.state == OrderState::kNew || order.state == OrderState::kPartiallyFilled)) ||
         (order.state == OrderState::kPendingCancel && never_named);
}

SizeUnits signed_leaves(const Order& order) {
  return order.side == Side::kBuy ? order.leaves() : -order.leaves();
}

}  // namespace

void Engine::on_position_report(const VenueEvent& report) {
  if (report.instrument >= instruments_.size()) return;
  EngineStats::bump(stats_->position_reports);
  BrokerView& view = broker_views_[report.instrument];
  view.reported = true;
  view.settled = report.settled;
  view.size = report.fill_size;
  view.level = report.fill_price;
  stats_->instruments[report.instrument].broker_net_size.store(report.fill_size,
                                                               std::memory_order_relaxed);
  // Before readiness the recovered orders are still being handed over: the report that counts
  // is the last one before kStartupReconciled, settled there at once.
  if (!ready()) return;
  bool all_equal = compare_with_broker(report.instrument, /*at_startup=*/false);
  for (InstrumentId i = 0; all_equal && i < instruments_.size(); ++i) {
    all_equal = stats_->instruments[i].differs_from_broker.load(std::memory_order_relaxed) == 0 &&
                broker_views_[i].reported;
  }
  if (all_equal) stats_->books_equal_epoch_ms.store(wall_now_ns() / 1'000'000);
}

bool Engine::compare_with_broker(InstrumentId instrument, bool at_startup) {
  BrokerView& view = broker_views_[instrument];
  if (!view.reported) return false;
  // What is in flight is the venue's to say (settled): a place still waiting in its lane, or
  // not yet seen by the venue, has changed nothing at the broker. An answer the venue has
  // produced but the engine not yet applied is what the grace period is for.
  const bool in_flight = !view.settled;
  std::size_t in_doubt = 0;
  orders_.for_each_live([&](Order& order) {
    if (order.instrument == instrument && in_doubt_for_reconciliation(order)) ++in_doubt;
  });
  const SizeUnits difference = view.size - positions_[instrument].net_size();
  auto& figures = stats_->instruments[instrument];
  if (in_flight || (difference == 0 && in_doubt == 0)) {
    if (!in_flight && view.differing_reports != 0) {
      spdlog::info("reconcile: {}: the engine's position equals the broker's again ({})",
                   instruments_[instrument].name(), view.size);
    }
    view.differing_reports = 0;
    view.differing_since_ns = 0;
    figures.differs_from_broker.store(0, std::memory_order_relaxed);
    return !in_flight;
  }
  const int64_t now = now_ns();
  // A difference lasts only while the broker's side of it stays put: a position that moved in
  // between is a new picture, its grace period starts again.
  if (view.differing_reports != 0 && view.size != view.differing_broker_size) {
    view.differing_reports = 0;
  }
  if (view.differing_reports++ == 0) {
    view.differing_since_ns = now;
    view.differing_broker_size = view.size;
  }
  figures.differs_from_broker.store(difference != 0 ? 1 : 0, std::memory_order_relaxed);
  if (!at_startup &&
      (view.differing_reports < 2 || now - view.differing_since_ns < reconcile_grace_ns_)) {
    return false;
  }
  settle_with_broker(instrument, difference, at_startup);
  return true;
}

void Engine::settle_with_broker(InstrumentId instrument, SizeUnits difference, bool at_startup) {
  std::array<Order*, kMaxExplained> doubtful{};
  std::size_t count = 0;
  bool too_many = false;
  orders_.for_each_live([&](Order& order) {
    if (order.instrument != instrument || !in_doubt_for_reconciliation(order)) return;
    if (count == doubtful.size()) {
      too_many = true;
      return;
    }
    doubtful[count++] = &order;
  });
  // Each settled order: its event, its update, the venue's kForget; and one adjustment.
  if (too_many || !has_room(2 * count + 2)) {
    if (too_many) {
      spdlog::error("reconcile: {}: more than {} orders in doubt; settle them by hand",
                    instruments_[instrument].name(), kMaxExplained);
    }
    return;  // the next report tries again; nothing changed
  }
  uint32_t explanation = 0;
  std::size_t explanations = 0;
  for (uint32_t subset = 0; subset < (1U << count); ++subset) {
    SizeUnits sum = 0;
    for (std::size_t i = 0; i < count; ++i) {
      if ((subset >> i) & 1U) sum += signed_leaves(*doubtful[i]);
    }
    if (sum == difference) {
      explanation = subset;
      ++explanations;
    }
  }
  const bool explained = explanations == 1;
  const std::string_view symbol = instruments_[instrument].name();
  for (std::size_t i = 0; i < count; ++i) {
    Order& order = *doubtful[i];
    const bool executed = explained && ((explanation >> i) & 1U);
    VenueEvent settled;
    settled.kind = VenueEventKind::kReconciled;
    settled.order_id = order.id;
    settled.instrument = instrument;
    settled.fill_size = executed ? order.leaves() : 0;
    settled.fill_price = executed ? reconciliation_price(instrument, &order) : 0;
    settled.created_ns = now_ns();
    copy_note(settled.venue_order_id, !explained ? "positions: undetermined"
                                      : executed ? "positions: executed"
                                                 : "positions: not executed");
    spdlog::warn("reconcile: order {} ({} {} {}): settled from the broker's position: {}", order.id,
                 symbol, to_string(order.side), order.size,
                 !explained ? "undetermined (no single explanation)"
                 : executed ? "executed"
                            : "not executed");
    on_venue_event(settled);
    VenueRequest forget = venue_request_for(order, VenueRequestKind::kForget, now_ns());
    send_to_venue(forget);
  }
  if (explained) return;
  if (difference != 0) {
    VenueEvent adjusted;
    adjusted.kind = VenueEventKind::kPositionAdjusted;
    adjusted.instrument = instrument;
    adjusted.fill_size = difference;
    adjusted.fill_price = reconciliation_price(instrument, nullptr);
    adjusted.created_ns = now_ns();
    copy_note(adjusted.venue_order_id, "broker position differs");
    on_venue_event(adjusted);
    spdlog::error(
        "reconcile ALERT: {}: the engine's position differed from the broker's by {} and no "
        "order explains it (a trade made outside this engine?); aligned to the broker ({}) by a "
        "journaled adjustment{}",
        symbol, difference, broker_views_[instrument].size,
        at_startup ? "" : "; the instrument is REDUCING until the trading state is set ACTIVE");
    if (!at_startup) {
      risk_.set_instrument_reducing(instrument, true);
      stats_->instruments[instrument].reducing.store(1, std::memory_order_relaxed);
    }
  }
  broker_views_[instrument].differing_reports = 0;
  broker_views_[instrument].differing_since_ns = 0;
  stats_->instruments[instrument].differs_from_broker.store(0, std::memory_order_relaxed);
}

PriceUnits Engine::reconciliation_price(InstrumentId instrument, const Order* order) const {
  // What the broker's books say first; then the order's own limit; then the market's mid.
  if (order != nullptr && order->type == OrderType::kLimit && order->limit_price > 0) {
    return order->limit_price;
  }
  if (broker_views_[instrument].level > 0) return broker_views_[instrument].level;
  if (has_quote_[instrument])
    return (last_quotes_[instrument].bid + last_quotes_[instrument].ask) / 2;
  return 0;
}

void Engine::apply_reconciled(Order& order, const VenueEvent& event) {
  const SizeUnits leaves_before = order.leaves();
  const OrderState before = order.state;
  if (apply_order_event(order, OrderEvent::kReconciled, event.fill_size, event.fill_price) ==
      TransitionResult::kIllegal) {
    EngineStats::bump(stats_->illegal_transitions);
    spdlog::error("illegal reconciliation ignored: order {} in {} (size {})", order.id,
                  to_string(before), event.fill_size);
    return;
  }
  if (event.fill_size > 0) {
    positions_[order.instrument].apply_fill(instruments_[order.instrument], order.side,
                                            event.fill_price, event.fill_size);
    EngineStats::bump(stats_->fills);
    publish_instrument(order.instrument);
  }
  release_exposure(order, leaves_before);
  stats_->live_orders.store(stats_->live_orders.load(std::memory_order_relaxed) - 1,
                            std::memory_order_relaxed);
  EngineStats::bump(stats_->orders_reconciled);
  publish_update(order, RejectReason::kNone, event.fill_price, event.fill_size);
}

void Engine::apply_position_adjustment(const VenueEvent& event) {
  if (event.instrument >= instruments_.size() || event.fill_size == 0) return;
  const Side side = event.fill_size > 0 ? Side::kBuy : Side::kSell;
  const SizeUnits size = event.fill_size > 0 ? event.fill_size : -event.fill_size;
  positions_[event.instrument].apply_fill(instruments_[event.instrument], side, event.fill_price,
                                          size);
  EngineStats::bump(stats_->position_adjustments);
  publish_instrument(event.instrument);
}

void Engine::adopt_orphan(const VenueEvent& orphan) {
  if (orphan.instrument >= instruments_.size() || orphan.fill_size == 0 || !has_room(4)) {
    return;  // the venue reports it again at its next snapshot while it stays unaccounted for
  }
  NewOrder adopted;
  const std::string_view deal_id(
      orphan.venue_order_id.data(),
      ::strnlen(orphan.venue_order_id.data(), VenueEvent::kVenueIdCapacity));
  // "adopted:" and the start of the broker's id: unique enough to find it, no allocation.
  std::array<char, ClientOrderId::kCapacity> name{};
  constexpr std::string_view kPrefix = "adopted:";
  std::memcpy(name.data(), kPrefix.data(), kPrefix.size());
  std::memcpy(name.data() + kPrefix.size(), deal_id.data(),
              std::min(deal_id.size(), name.size() - kPrefix.size()));
  adopted.client_order_id =
      ClientOrderId::from(std::string_view(name.data(), ::strnlen(name.data(), name.size())));
  adopted.source = kEngineSource;
  adopted.instrument = orphan.instrument;
  adopted.side = orphan.fill_size > 0 ? Side::kBuy : Side::kSell;
  adopted.type = OrderType::kLimit;
  adopted.limit_price = orphan.fill_price;
  adopted.size = orphan.fill_size > 0 ? orphan.fill_size : -orphan.fill_size;
  adopted.created_ns = now_ns();
  const int64_t admitted_ns = wall_now_ns();
  Order* order = admit(adopted, admitted_ns / 1'000'000);
  if (order == nullptr) return;
  write_order_received(*order, adopted, admitted_ns);
  EngineStats::bump(stats_->orders_received);
  EngineStats::bump(stats_->orphans_adopted);
  VenueEvent accepted;
  accepted.kind = VenueEventKind::kAccepted;
  accepted.order_id = order->id;
  accepted.venue_order_id = orphan.venue_order_id;
  accepted.created_ns = now_ns();
  on_venue_event(accepted);
  spdlog::warn(
      "reconcile: adopted the broker's working order {} ({} {} {} at {}) as order {}: nothing "
      "in the journal accounts for it; it is tracked and cancelled with the others",
      deal_id, instruments_[orphan.instrument].name(), to_string(adopted.side), adopted.size,
      adopted.limit_price, order->id);
  send_to_venue(venue_request_for(*order, VenueRequestKind::kReconcile, now_ns()));
}

}  // namespace qt
