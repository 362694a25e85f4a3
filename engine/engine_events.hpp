// EngineEvent: the engine's own account of each state change it makes, in the order it makes
// them — what a write-ahead log stores and what recovery applies again (Engine::replay).
// Written in the engine's message types only; persist/ encodes it into journal records and
// decodes records back into it (persist/engine_journal.hpp).
//
// WriteAheadLog: where the engine writes those events. The engine thread is the only caller; an
// implementation must not block or allocate in append() (persist's puts each on an SPSC ring).
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "engine/messages.hpp"
#include "engine/types.hpp"

namespace qt {

enum class EngineEventKind : uint8_t {
  kEngineStarted,    // started: the last event recovery applied (0 = fresh)
  kOrderReceived,    // order, order_id: a new order admitted past validation and risk
  kOrderRejected,    // order (its client id and source), reason: a new order refused
  kCancelRequested,  // cancel, order_id, reason (kNone: accepted and sent to the venue)
  kSentToVenue,      // sent: a place or cancel request, written before it may leave
  kVenueEvent,       // venue: what the venue said about an order
  kControl,          // control: kill switch or trading-state change
  kFixSequence,      // fix_sequence: a FIX session's next sequence numbers (no engine state)
};

struct EngineStart {
  uint64_t recovered_through_sequence = 0;
  int64_t epoch_ns = 0;  // wall clock at start; 0 = the event's timestamp
};

// A FIX session's next sequence numbers, written ahead on the FIX stage's behalf.
struct FixSessionSequence {
  static constexpr std::size_t kSessionIdCapacity = 48;
  char session_id[kSessionIdCapacity] = {};  // NUL-padded "SENDER->TARGET"
  uint64_t next_incoming = 0;
  uint64_t next_outgoing = 0;
};

struct EngineEvent {
  EngineEventKind kind = EngineEventKind::kEngineStarted;
  RejectReason reason = RejectReason::kNone;
  uint64_t sequence = 0;     // dense from 1, assigned by the engine
  int64_t timestamp_ns = 0;  // wall clock (CLOCK_REALTIME), comparable across restarts
  OrderId order_id = 0;
  union {
    EngineStart started;
    NewOrder order;
    CancelOrder cancel;
    VenueRequest sent;
    VenueEvent venue;
    ControlCommand control;
    FixSessionSequence fix_sequence;
  };
  EngineEvent() : order() {}
};
static_assert(std::is_trivially_copyable_v<EngineEvent>);
static_assert(sizeof(EngineEvent) <= 128, "an event is at most two cache lines");

class WriteAheadLog {
 public:
  virtual ~WriteAheadLog() = default;
  // How many more events append() takes right now: a lower bound, at least `wanted` whenever
  // that many fit (an implementation may answer from a cached view while it has that much room).
  // Engine thread only.
  virtual std::size_t room(std::size_t wanted) noexcept = 0;
  // False only when there was no room: the engine checks room() first, so that is a bug.
  virtual bool append(const EngineEvent& event) noexcept = 0;
  // Every event up to this sequence is durable (acquire load of what the writer publishes).
  virtual uint64_t durable_sequence() const noexcept = 0;
  // True once the log can make nothing more durable (disk full, I/O error), for good: the
  // durable sequence has stopped where it is. Read by the engine every duty cycle.
  virtual bool failed() const noexcept { return false; }
};

}  // namespace qt
