// The engine's events in the journal: each EngineEvent encoded as one journal record (the
// layouts of persist/records.hpp) and decoded back, and the engine's WriteAheadLog over the
// journal ring that the journal thread (JournalAgent) drains.
//
// encode_event() and JournalRingLog::append() run on the engine thread: no allocation, no
// system call. decode_event() and replay_record() run wherever recovery runs.
#pragma once

#include <atomic>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "engine/engine.hpp"
#include "engine/engine_events.hpp"
#include "engine/idle_strategy.hpp"
#include "persist/journal_entry.hpp"
#include "persist/journal_reader.hpp"

namespace qt::persist {

JournalEntry encode_event(const EngineEvent& event) noexcept;

// The event a record holds. InvalidArgument for a type that is not an engine event (the
// journal's internal records, an unknown type).
absl::StatusOr<EngineEvent> decode_event(uint64_t sequence, int64_t timestamp_ns, uint16_t type,
                                         std::span<const std::byte> payload);

// decode_event() + Engine::replay(): one record of an earlier run applied to `engine`; DataLoss
// naming the sequence when the record is not an engine event or replay refuses it.
absl::Status replay_record(Engine& engine, const RecordView& record);
absl::Status replay_record(Engine& engine, const JournalEntry& entry);  // one not yet on disk

class JournalRingLog final : public WriteAheadLog {
 public:
  // `durable` is the writer's published durable sequence; `doorbell` (may be null) is rung after
  // every append, for a journal thread that parks.
  JournalRingLog(JournalRing& ring, const std::atomic<uint64_t>& durable,
                 Doorbell* doorbell = nullptr)
      : ring_(ring), durable_(durable), doorbell_(doorbell) {}

  void set_doorbell(Doorbell* doorbell) { doorbell_ = doorbell; }
  // The journal stage's failure flag (JournalAgent::failed_flag()), which failed() reports.
  void set_failed_flag(const std::atomic<bool>* failed) { failed_ = failed; }

  std::size_t room(std::size_t wanted) noexcept override { return ring_.producer_room(wanted); }
  bool append(const EngineEvent& event) noexcept override {
    if (!ring_.try_push(encode_event(event))) return false;
    if (doorbell_ != nullptr) doorbell_->ring();
    return true;
  }
  uint64_t durable_sequence() const noexcept override {
    return durable_.load(std::memory_order_acquire);
  }
  bool failed() const noexcept override {
    return failed_ != nullptr && failed_->load(std::memory_order_acquire);
  }

 private:
  JournalRing& ring_;
  const std::atomic<uint64_t>& durable_;
  Doorbell* doorbell_;
  const std::atomic<bool>* failed_ = nullptr;
};

}  // namespace qt::persist
