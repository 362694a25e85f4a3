// Write-ahead and the output queue: every state change is an EngineEvent on the log before its
// effects; venue requests and order updates wait in the output queue until their event is
// durable, and updates until the work that produced them is done (engine/output_queue.hpp).
#include <spdlog/spdlog.h>

#include <algorithm>
#include <limits>
#include <memory>

#include "engine/clock.hpp"
#include "engine/engine.hpp"

namespace qt {

namespace {

// Events and outputs one input can cause before the next budget check: a venue event (1) whose
// update makes a strategy submit and cancel (2 + 2), with slack.
constexpr std::size_t kEventsPerInput = 8;

}  // namespace

void Engine::set_write_ahead_log(WriteAheadLog* log, uint64_t next_sequence) {
  log_ = log;
  next_sequence_ = next_sequence;
  journal_sequence_ = next_sequence - 1;
}

std::size_t Engine::input_budget() {
  constexpr std::size_t kFullBudgetRoom = kMaxDrainBatch * kEventsPerInput;
  std::size_t room = outputs_.room();
  if (writing_ahead() && !journal_failed_) room = std::min(room, log_->room(kFullBudgetRoom));
  const std::size_t inputs = room / kEventsPerInput;
  return inputs < kMaxDrainBatch ? inputs : kMaxDrainBatch;
}

void Engine::write_ahead(EngineEvent& event) {
  if (journal_failed_) {
    // Applied in memory only. A restart recovers the journal up to its last durable record and
    // the venue's reconciliation re-learns what happened since (the broker is the record).
    EngineStats::bump(stats_->unjournaled_events);
    return;
  }
  event.sequence = next_sequence_;
  if (event.timestamp_ns == 0) event.timestamp_ns = wall_now_ns();
  if (!log_->append(event)) {
    // Callers check has_room() first, so this is a bug; never silently.
    EngineStats::bump(stats_->output_overflows);
    spdlog::critical("write-ahead log full: event {} (kind {}) lost", next_sequence_,
                     static_cast<int>(event.kind));
    return;
  }
  journal_sequence_ = next_sequence_++;
  EngineStats::bump(stats_->journal_records);
}

void Engine::write_ahead_and_send(const VenueRequest& request) {
  if (writing_ahead()) {
    EngineEvent sent;
    sent.kind = EngineEventKind::kSentToVenue;
    sent.order_id = request.order_id;
    sent.sent = request;
    write_ahead(sent);
  }
  send_to_venue(request);
}

void Engine::send_to_venue(const VenueRequest& request) {
  if (replaying_) return;
  if (log_ != nullptr) {
    if (EngineOutput* output = queue_output(/*venue_request=*/true)) {
      std::construct_at(&output->request, request);
    }
    return;
  }
  // Without a log the request needs no durability: straight onto the ring (callers checked
  // has_room(), and the engine is the ring's only producer).
  if (venue_requests_.try_push(request)) {
    if (venue_doorbell_ != nullptr) venue_doorbell_->ring();
  }
}

EngineOutput* Engine::queue_output(bool venue_request) {
  if (outputs_.room() == 0) {
    // Room was reserved by the caller's has_room(): a full queue is a bug.
    EngineStats::bump(stats_->output_overflows);
    spdlog::critical("output queue full: output after event {} dropped", journal_sequence_);
    return nullptr;
  }
  EngineOutput& output = outputs_.append();
  output.sequence = log_ != nullptr ? journal_sequence_ : 0;
  output.venue_request = venue_request;
  stats_->outputs_waiting.store(outputs_.size(), std::memory_order_relaxed);
  return &output;
}

// Called by the duty cycle before and after it takes its inputs. Per batch, what may leave is
// taken first (venue requests onto their ring), then the batch's updates are delivered, read in
// place: callbacks append behind the batch, never over it (engine/README.md, "Callbacks never
// nest"). Only what was queued when the call began is considered, so a strategy that answers every
// update with an order cannot keep the engine here.
int Engine::release_outputs() {
  constexpr std::size_t kBatch = 64;
  const uint64_t durable =
      log_ != nullptr ? log_->durable_sequence() : std::numeric_limits<uint64_t>::max();
  std::size_t budget = outputs_.size();
  int released = 0;
  bool blocked = false;
  while (budget > 0 && !blocked) {
    const std::size_t limit = budget < kBatch ? budget : kBatch;
    std::size_t taken = 0;
    bool rang_venue = false;
    for (; taken < limit; ++taken) {
      const EngineOutput& output = outputs_.at(taken);
      if (output.sequence > durable) {
        if (!journal_failed_) {
          blocked = true;
          break;
        }
        if (output.venue_request && !leaves_unjournaled(output.request)) continue;
      }
      if (!output.venue_request) continue;
      if (!venue_requests_.try_push(output.request)) {  // keeps its place; next cycle
        blocked = true;
        break;
      }
      rang_venue = true;
      if (output.request.kind == VenueRequestKind::kPlace) {
        stats_->order_latency.record(now_ns() - output.request.created_ns);
      }
    }
    if (rang_venue && venue_doorbell_ != nullptr) venue_doorbell_->ring();
    for (std::size_t i = 0; i < taken; ++i) {
      const EngineOutput& output = outputs_.at(i);
      if (output.venue_request) continue;
      if (output.sequence > durable && journal_failed_ && !delivered_unjournaled(output.update)) {
        continue;
      }
      deliver_update(output.update);
    }
    outputs_.pop(taken);
    budget -= taken;
    released += static_cast<int>(taken);
  }
  stats_->outputs_waiting.store(outputs_.size(), std::memory_order_relaxed);
  return released;
}

void Engine::on_journal_failed() {
  journal_failed_ = true;
  stats_->readiness.store(EngineReadiness::kJournalFailed, std::memory_order_release);
  spdlog::critical(
      "engine: JOURNAL FAILED at durable sequence {} (last written {}): not ready for good; new "
      "orders are refused ({}) and those not yet durable are refused instead of sent; cancels and "
      "the kill switch still reach the venue; venue events are applied in memory only; restart "
      "once the journal's disk is fixed",
      log_->durable_sequence(), journal_sequence_, to_string(RejectReason::kJournalFailed));
}

// A venue request whose event can no longer become durable. A new order does not leave: no
// record, no ack, no order — it is refused here (its client never had an ack) and its update says
// so. Everything else leaves: a cancel reduces risk, and one lost in a crash is harmless — the
// venue still has the order and the start-up reconciliation re-learns its state from the broker;
// the start-up hand-over's requests only ask the venue.
bool Engine::leaves_unjournaled(const VenueRequest& request) {
  Order* order = request.order_id != 0 ? orders_.find(request.order_id) : nullptr;
  if (request.kind == VenueRequestKind::kPlace) {
    if (order == nullptr) return false;
    const SizeUnits leaves = order->leaves();
    if (apply_order_event(*order, OrderEvent::kVenueRejected) == TransitionResult::kApplied) {
      release_exposure(*order, leaves);
      stats_->live_orders.store(stats_->live_orders.load(std::memory_order_relaxed) - 1,
                                std::memory_order_relaxed);
      EngineStats::bump(stats_->rejects[static_cast<std::size_t>(RejectReason::kJournalFailed)]);
      publish_update(*order, RejectReason::kJournalFailed, 0, 0);
    }
    return false;
  }
  // A cancel of an order refused just above (never sent) would ask the venue about nothing.
  if (request.kind == VenueRequestKind::kCancel)
    return order != nullptr && !is_terminal(order->state);
  return true;
}

// An update whose event was not durable when the log failed. An order refused unsent is told
// only that (its ack and anything queued behind it described an order that never was).
bool Engine::delivered_unjournaled(const OrderUpdate& update) const {
  const Order* order = orders_.find(update.order_id);
  if (order == nullptr || order->state != OrderState::kRejected) return true;
  return update.state == OrderState::kRejected;
}

}  // namespace qt
