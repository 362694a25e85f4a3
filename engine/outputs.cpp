// Write-ahead and the output queue: every state change is an EngineEvent on the log before its
// effects; venue requests and order updates wait in the output queue until their event is
// durable, and updates until the work that produced them is done (engine/output_queue.hpp).
#include <spdlog/spdlog.h>

#include <chrono>
#include <limits>

#include "engine/clock.hpp"
#include "engine/engine.hpp"

namespace qt {

namespace {

// Events and outputs one input can cause before the next budget check: a venue event (1) whose
// update makes a strategy submit and cancel (2 + 2), with slack.
constexpr std::size_t kEventsPerInput = 8;

int64_t wall_now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

void Engine::set_write_ahead_log(WriteAheadLog* log, uint64_t next_sequence) {
  log_ = log;
  next_sequence_ = next_sequence;
  journal_sequence_ = next_sequence - 1;
}

bool Engine::has_room(std::size_t events) const {
  if (outputs_.room() < events) return false;
  if (log_ != nullptr) return log_->room() >= events;
  return venue_requests_.size_approx() < VenueRequestRing::kCapacity;
}

std::size_t Engine::input_budget() const {
  std::size_t room = outputs_.room();
  if (writing_ahead() && log_->room() < room) room = log_->room();
  const std::size_t inputs = room / kEventsPerInput;
  return inputs < kMaxDrainBatch ? inputs : kMaxDrainBatch;
}

void Engine::write_ahead(EngineEvent& event) {
  event.sequence = next_sequence_;
  if (event.timestamp_ns == 0) event.timestamp_ns = wall_now_ns();
  if (!log_->append(event)) {
    // Callers check has_room() first, so this is a bug; never silently.
    EngineStats::bump(stats_->journal_overflows);
    spdlog::critical("write-ahead log full: event {} (kind {}) lost", next_sequence_,
                     static_cast<int>(event.kind));
    return;
  }
  journal_sequence_ = next_sequence_++;
  EngineStats::bump(stats_->journal_records);
}

void Engine::send_to_venue(const VenueRequest& request) {
  if (replaying_) return;
  if (log_ != nullptr) {
    EngineOutput output;
    output.sequence = journal_sequence_;
    output.venue_request = true;
    output.request = request;
    hold(output);
    return;
  }
  // Without a log the request needs no durability: straight onto the ring (callers checked
  // has_room(), and the engine is the ring's only producer).
  if (venue_requests_.try_push(request)) {
    if (venue_doorbell_ != nullptr) venue_doorbell_->ring();
  }
}

void Engine::hold(const EngineOutput& output) {
  if (!outputs_.push(output)) {
    // Room was reserved by the caller's has_room(): a full queue is a bug.
    EngineStats::bump(stats_->journal_overflows);
    spdlog::critical("output queue full: output for event {} dropped", output.sequence);
    return;
  }
  stats_->awaiting_durability.store(outputs_.size(), std::memory_order_relaxed);
}

// Two phases per batch: take what may leave — venue requests onto their ring, updates into
// deliveries_ — and only then deliver the updates. A callback therefore never runs while the
// queue is being taken from; what it requests (it may submit or cancel, synchronously, with the
// same results as ever) queues behind everything taken and leaves at a later release, in order.
// Only what was queued when the call began is considered, so a strategy that answers every update
// with an order cannot keep the engine here.
int Engine::release_outputs() {
  ++work_depth_;
  const uint64_t durable =
      log_ != nullptr ? log_->durable_sequence() : std::numeric_limits<uint64_t>::max();
  std::size_t budget = outputs_.size();
  int released = 0;
  bool blocked = false;
  while (budget > 0 && !blocked) {
    std::size_t taken = 0;
    bool rang_venue = false;
    while (budget > 0 && taken < deliveries_.size()) {
      const EngineOutput& output = outputs_.front();
      if (output.sequence > durable) {
        blocked = true;
        break;
      }
      if (output.venue_request) {
        if (!venue_requests_.try_push(output.request)) {  // keeps its place; next cycle
          blocked = true;
          break;
        }
        rang_venue = true;
        if (output.request.kind == VenueRequestKind::kPlace) {
          stats_->order_latency.record(now_ns() - output.request.created_ns);
        }
      } else {
        deliveries_[taken++] = output.update;
      }
      outputs_.pop();
      --budget;
      ++released;
    }
    if (rang_venue && venue_doorbell_ != nullptr) venue_doorbell_->ring();
    for (std::size_t i = 0; i < taken; ++i) deliver_update(deliveries_[i]);
  }
  stats_->awaiting_durability.store(outputs_.size(), std::memory_order_relaxed);
  --work_depth_;
  return released;
}

}  // namespace qt
