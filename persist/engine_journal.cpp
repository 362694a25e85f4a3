// EngineEvent ↔ journal record; see engine_journal.hpp.
#include "persist/engine_journal.hpp"

#include <string>

#include "persist/records.hpp"

namespace qt::persist {

JournalEntry encode_event(const EngineEvent& e) noexcept {
  switch (e.kind) {
    case EngineEventKind::kEngineStarted: {
      EngineStartedRecord r;
      r.epoch_ns = e.started.epoch_ns != 0 ? e.started.epoch_ns : e.timestamp_ns;
      r.recovered_through_sequence = e.started.recovered_through_sequence;
      return make_entry(RecordType::kEngineStarted, e.sequence, e.timestamp_ns, r);
    }
    case EngineEventKind::kOrderReceived:
      return make_entry(RecordType::kOrderReceived, e.sequence, e.timestamp_ns,
                        OrderReceivedRecord{e.order, e.order_id});
    case EngineEventKind::kOrderRejected: {
      OrderRejectedRecord r;
      r.client_order_id = e.order.client_order_id;
      r.source = e.order.source;
      r.reason = e.reason;
      r.order_id = e.order_id;
      return make_entry(RecordType::kOrderRejected, e.sequence, e.timestamp_ns, r);
    }
    case EngineEventKind::kCancelRequested: {
      CancelRequestedRecord r;
      r.cancel = e.cancel;
      r.order_id = e.order_id;
      r.reason = e.reason;
      return make_entry(RecordType::kCancelRequested, e.sequence, e.timestamp_ns, r);
    }
    case EngineEventKind::kSentToVenue:
      return make_entry(RecordType::kSentToVenue, e.sequence, e.timestamp_ns,
                        SentToVenueRecord{e.sent});
    case EngineEventKind::kVenueEvent:
      return make_entry(RecordType::kVenueEvent, e.sequence, e.timestamp_ns,
                        VenueEventRecord{e.venue});
    case EngineEventKind::kControl:
      return make_entry(RecordType::kControl, e.sequence, e.timestamp_ns, ControlRecord{e.control});
    case EngineEventKind::kFixSequence:
      return make_entry(RecordType::kFixSequence, e.sequence, e.timestamp_ns, e.fix_sequence);
  }
  // An event kind this encoder does not know: an invalid record that the writer refuses.
  JournalEntry invalid;
  invalid.sequence = e.sequence;
  invalid.timestamp_ns = e.timestamp_ns;
  return invalid;
}

absl::StatusOr<EngineEvent> decode_event(uint64_t sequence, int64_t timestamp_ns, uint16_t type,
                                         std::span<const std::byte> payload) {
  EngineEvent e;
  e.sequence = sequence;
  e.timestamp_ns = timestamp_ns;
  switch (static_cast<RecordType>(type)) {
    case RecordType::kEngineStarted: {
      const auto r = payload_as<EngineStartedRecord>(payload);
      e.kind = EngineEventKind::kEngineStarted;
      e.started.recovered_through_sequence = r.recovered_through_sequence;
      e.started.epoch_ns = r.epoch_ns;
      return e;
    }
    case RecordType::kOrderReceived: {
      const auto r = payload_as<OrderReceivedRecord>(payload);
      e.kind = EngineEventKind::kOrderReceived;
      e.order = r.order;
      e.order_id = r.order_id;
      return e;
    }
    case RecordType::kOrderRejected: {
      const auto r = payload_as<OrderRejectedRecord>(payload);
      e.kind = EngineEventKind::kOrderRejected;
      e.order.client_order_id = r.client_order_id;
      e.order.source = r.source;
      e.reason = r.reason;
      e.order_id = r.order_id;
      return e;
    }
    case RecordType::kCancelRequested: {
      const auto r = payload_as<CancelRequestedRecord>(payload);
      e.kind = EngineEventKind::kCancelRequested;
      e.cancel = r.cancel;
      e.order_id = r.order_id;
      e.reason = r.reason;
      return e;
    }
    case RecordType::kSentToVenue:
      e.kind = EngineEventKind::kSentToVenue;
      e.sent = payload_as<SentToVenueRecord>(payload).request;
      e.order_id = e.sent.order_id;
      return e;
    case RecordType::kVenueEvent:
      e.kind = EngineEventKind::kVenueEvent;
      e.venue = payload_as<VenueEventRecord>(payload).event;
      e.order_id = e.venue.order_id;
      return e;
    case RecordType::kControl:
      e.kind = EngineEventKind::kControl;
      e.control = payload_as<ControlRecord>(payload).command;
      return e;
    case RecordType::kFixSequence:
      e.kind = EngineEventKind::kFixSequence;
      e.fix_sequence = payload_as<FixSequenceRecord>(payload);
      return e;
    default: break;
  }
  return absl::InvalidArgumentError("record " + std::to_string(sequence) + " of type " +
                                    std::to_string(type) + " is not an engine event");
}

namespace {
absl::Status replay_payload(Engine& engine, uint64_t sequence, int64_t timestamp_ns, uint16_t type,
                            std::span<const std::byte> payload) {
  absl::StatusOr<EngineEvent> event = decode_event(sequence, timestamp_ns, type, payload);
  if (!event.ok()) {
    return absl::DataLossError("journal record " + std::to_string(sequence) +
                               ": unknown record type " + std::to_string(type));
  }
  return engine.replay(*event);
}
}  // namespace

absl::Status replay_record(Engine& engine, const RecordView& record) {
  return replay_payload(engine, record.sequence, record.timestamp_ns, record.type, record.payload);
}

absl::Status replay_record(Engine& engine, const JournalEntry& entry) {
  return replay_payload(engine, entry.sequence, entry.timestamp_ns, entry.type,
                        {entry.payload.data(), entry.size});
}

}  // namespace qt::persist
