// The journal's record types and their payloads: one POD per kind of state-changing command or
// outcome the engine writes ahead. persist/engine_journal.hpp encodes the engine's EngineEvents
// into them and decodes them back; the layouts here are the on-disk format.
//
// Guarantees: every payload is trivially copyable and at most JournalEntry::kPayloadCapacity
// (104) bytes, static_asserted below, so journaling never allocates. The layouts are part of the
// on-disk format (persist/FORMAT.md): change a payload only together with kJournalFormatVersion.
// The structs defined here have no implicit padding (explicit reserved fields instead);
// make_entry() clears the padding inside the embedded engine messages, so every byte journaled
// is defined.
// No record carries a secret (credentials, tokens): the payloads are built from engine messages,
// which never hold one. Keep it so — a new field that could hold a secret does not belong here.
//
// record_type_name() and record_payload_json() live in persist/records.cpp (qt_persist) and
// allocate; they are for tools (`quanttrading journal dump`), not for the hot path.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>

#include "engine/engine_events.hpp"
#include "engine/messages.hpp"
#include "engine/types.hpp"

namespace qt::persist {

// Version 2 raised the longest record from 136 to 4096 bytes; readers read 1 and 2.
inline constexpr uint32_t kJournalFormatVersion = 2;
inline constexpr uint32_t kOldestReadableJournalFormatVersion = 1;
// The engine's records: at most this much payload (one JournalEntry slot on the ring).
inline constexpr std::size_t kMaxPayloadSize = 104;
// Any record the journal holds (JournalWriter's span append; 32-byte header + this = 4096).
inline constexpr std::size_t kMaxRecordPayload = 4064;

// Values are stored on disk; never renumber. 0 is never written (a zero length word ends the
// data, and a zero type marks an unset entry). Values from kFirstInternal up are written by the
// journal itself (not by the engine), carry no sequence number of their own, and are skipped by
// replay.
enum class RecordType : uint16_t {
  kInvalid = 0,
  kEngineStarted = 1,    // EngineStartedRecord
  kOrderReceived = 2,    // OrderReceivedRecord
  kOrderRejected = 3,    // OrderRejectedRecord
  kSentToVenue = 4,      // SentToVenueRecord
  kVenueEvent = 5,       // VenueEventRecord
  kCancelRequested = 6,  // CancelRequestedRecord
  kControl = 7,          // ControlRecord
  kFixSequence = 8,      // FixSequenceRecord

  kFirstInternal = 0xFF00,
  kSegmentSeal = 0xFF01,  // SegmentSealRecord: last record of a sealed segment
};

constexpr bool is_internal(RecordType type) {
  return static_cast<uint16_t>(type) >= static_cast<uint16_t>(RecordType::kFirstInternal);
}
constexpr bool is_internal(uint16_t type) {
  return is_internal(static_cast<RecordType>(type));
}

// The engine came up; the first record it writes after start or recovery.
struct EngineStartedRecord {
  int64_t epoch_ns = 0;                     // CLOCK_REALTIME at start
  uint64_t recovered_through_sequence = 0;  // last sequence replayed at start (0 = fresh)
  uint32_t format_version = kJournalFormatVersion;
  uint32_t reserved = 0;
};

// The engine accepted a new order (past validation and risk) and assigned it an id. The order
// carries its source and client order id.
struct OrderReceivedRecord {
  NewOrder order;
  OrderId order_id = 0;
};

// The engine refused a new order (validation or risk); order_id is 0 when none was assigned.
struct OrderRejectedRecord {
  ClientOrderId client_order_id;
  SourceId source = 0;
  RejectReason reason = RejectReason::kNone;
  uint8_t reserved0 = 0;  // explicit padding: every byte written is defined
  uint32_t reserved1 = 0;
  OrderId order_id = 0;
};

// A place or cancel request, journaled before it goes to the venue ring.
struct SentToVenueRecord {
  VenueRequest request;
};

// What the venue said: accepted (with its deal id), fill (price, size), canceled, rejected,
// cancel rejected, outcome unknown, and the explicit answers that resolve Unknown.
struct VenueEventRecord {
  VenueEvent event;
};

// A cancel request from a client; reason is kNone when the engine accepted it (and forwarded it
// to the venue), else why it was refused. order_id is the resolved order (0 = unknown order).
struct CancelRequestedRecord {
  CancelOrder cancel;
  OrderId order_id = 0;
  RejectReason reason = RejectReason::kNone;
  uint8_t reserved[7] = {};
};

// Kill switch and trading-state changes.
struct ControlRecord {
  ControlCommand command;
};

// A FIX session's next sequence numbers: the engine's own payload, stored as it is.
using FixSequenceRecord = FixSessionSequence;

// Written by the journal writer when it leaves a segment (moving on, or a clean shutdown). Its
// record header repeats the last sequence of the segment.
enum class SealReason : uint32_t { kNextSegment = 0, kShutdown = 1 };
struct SegmentSealRecord {
  uint64_t next_sequence = 0;  // the first sequence of the next segment
  uint64_t record_count = 0;   // engine records in this segment (the seal not counted)
  SealReason reason = SealReason::kNextSegment;
  uint32_t reserved = 0;
};

template <typename T>
inline constexpr bool kIsJournalPayload = std::is_trivially_copyable_v<T> &&
                                          sizeof(T) <= kMaxPayloadSize;

static_assert(kIsJournalPayload<EngineStartedRecord>);
static_assert(kIsJournalPayload<OrderReceivedRecord>);  // 56 + 8 bytes
static_assert(kIsJournalPayload<OrderRejectedRecord>);
static_assert(kIsJournalPayload<SentToVenueRecord>);
static_assert(kIsJournalPayload<VenueEventRecord>);  // 80 bytes, with the 40-byte venue id
static_assert(kIsJournalPayload<CancelRequestedRecord>);
static_assert(kIsJournalPayload<ControlRecord>);
static_assert(kIsJournalPayload<FixSequenceRecord>);
static_assert(kIsJournalPayload<SegmentSealRecord>);
// No implicit padding in the structs of this file (engine messages embedded in them aside).
static_assert(std::has_unique_object_representations_v<EngineStartedRecord>);
static_assert(std::has_unique_object_representations_v<OrderRejectedRecord>);
static_assert(std::has_unique_object_representations_v<FixSequenceRecord>);
static_assert(std::has_unique_object_representations_v<SegmentSealRecord>);
static_assert(sizeof(OrderReceivedRecord) == sizeof(NewOrder) + sizeof(OrderId));
static_assert(sizeof(CancelRequestedRecord) == sizeof(CancelOrder) + 16);
// Fields added to these messages take their padding: the records keep their size (format 2).
static_assert(sizeof(SentToVenueRecord) == 96);
static_assert(sizeof(VenueEventRecord) == 80);

// The payload struct of each engine record type, for generic code (tests, dump).
template <RecordType>
struct PayloadOf;
template <>
struct PayloadOf<RecordType::kEngineStarted> {
  using type = EngineStartedRecord;
};
template <>
struct PayloadOf<RecordType::kOrderReceived> {
  using type = OrderReceivedRecord;
};
template <>
struct PayloadOf<RecordType::kOrderRejected> {
  using type = OrderRejectedRecord;
};
template <>
struct PayloadOf<RecordType::kSentToVenue> {
  using type = SentToVenueRecord;
};
template <>
struct PayloadOf<RecordType::kVenueEvent> {
  using type = VenueEventRecord;
};
template <>
struct PayloadOf<RecordType::kCancelRequested> {
  using type = CancelRequestedRecord;
};
template <>
struct PayloadOf<RecordType::kControl> {
  using type = ControlRecord;
};
template <>
struct PayloadOf<RecordType::kFixSequence> {
  using type = FixSequenceRecord;
};
template <>
struct PayloadOf<RecordType::kSegmentSeal> {
  using type = SegmentSealRecord;
};

// "order_received", "venue_event", ...; "unknown" for a value this build does not know.
std::string_view record_type_name(RecordType type);
// The type named `name` (as record_type_name spells it), or kInvalid.
RecordType record_type_from_name(std::string_view name);

// The payload as one JSON object: integers in raw units (prices and sizes are the instrument's
// fixed-point mantissas), enums by name, ids as strings. A payload of the wrong size for its
// type, or of an unknown type, renders as {"raw_hex": "...", "size": N}.
std::string record_payload_json(uint16_t type, std::span<const std::byte> payload);

// The order this record is about (0 when none), for filtering a dump by order id.
OrderId record_order_id(uint16_t type, std::span<const std::byte> payload);

}  // namespace qt::persist
