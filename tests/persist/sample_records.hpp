// Deterministic journal content for tests and test fixtures: one entry of a known record type
// per sequence number, cycling through every engine record type, its fields derived from the
// sequence, so any test can rebuild what a given sequence must hold.
//
// Header-only, no test framework (also used by the CLI test's fixture program).
#pragma once

#include <cstdint>
#include <cstdio>

#include "persist/journal_entry.hpp"

namespace qt::persist::test {

inline constexpr RecordType kEngineTypes[] = {
    RecordType::kEngineStarted, RecordType::kOrderReceived, RecordType::kOrderRejected,
    RecordType::kSentToVenue,   RecordType::kVenueEvent,    RecordType::kCancelRequested,
    RecordType::kControl,       RecordType::kFixSequence,
};

// The entry a test journal holds at `sequence`: types cycle through every engine record type,
// field values derive from the sequence.
inline JournalEntry sample_entry(uint64_t sequence) {
  const auto n = static_cast<int64_t>(sequence);
  const int64_t ts = 1'700'000'000'000'000'000 + n * 1000;
  char id[24];
  std::snprintf(id, sizeof id, "C%llu", static_cast<unsigned long long>(sequence));
  switch (kEngineTypes[sequence % 8]) {
    case RecordType::kEngineStarted: {
      EngineStartedRecord r{};
      r.epoch_ns = ts;
      r.recovered_through_sequence = sequence - 1;
      return make_entry(RecordType::kEngineStarted, sequence, ts, r);
    }
    case RecordType::kOrderReceived: {
      OrderReceivedRecord r{};
      r.order.client_order_id = ClientOrderId::from(id);
      r.order.source = 3;
      r.order.instrument = 1;
      r.order.side = sequence % 16 < 8 ? Side::kBuy : Side::kSell;
      r.order.type = OrderType::kLimit;
      r.order.limit_price = 230'000 + n;
      r.order.size = 10 * n;
      r.order.created_ns = n;
      r.order_id = sequence;
      return make_entry(RecordType::kOrderReceived, sequence, ts, r);
    }
    case RecordType::kOrderRejected: {
      OrderRejectedRecord r{};
      r.client_order_id = ClientOrderId::from(id);
      r.source = 4;
      r.order_id = 0;
      r.reason = RejectReason::kMaxPosition;
      return make_entry(RecordType::kOrderRejected, sequence, ts, r);
    }
    case RecordType::kSentToVenue: {
      SentToVenueRecord r{};
      r.request.kind = VenueRequestKind::kPlace;
      r.request.order_id = sequence - 2;
      r.request.size = 10 * n;
      r.request.limit_price = 230'000 + n;
      return make_entry(RecordType::kSentToVenue, sequence, ts, r);
    }
    case RecordType::kVenueEvent: {
      VenueEventRecord r{};
      r.event.kind = VenueEventKind::kFill;
      r.event.order_id = sequence - 3;
      r.event.fill_price = 230'000 + n;
      r.event.fill_size = 5 * n;
      std::snprintf(r.event.venue_order_id.data(), r.event.venue_order_id.size(), "deal-%llu",
                    static_cast<unsigned long long>(sequence));
      return make_entry(RecordType::kVenueEvent, sequence, ts, r);
    }
    case RecordType::kCancelRequested: {
      CancelRequestedRecord r{};
      r.cancel.client_order_id = ClientOrderId::from(id);
      r.cancel.order_id = sequence - 4;
      r.order_id = sequence - 4;
      r.reason = RejectReason::kNone;
      return make_entry(RecordType::kCancelRequested, sequence, ts, r);
    }
    case RecordType::kControl: {
      ControlRecord r{};
      r.command.kind = ControlKind::kKillSwitch;
      r.command.trading_state = TradingState::kHalted;
      r.command.source = 9;
      return make_entry(RecordType::kControl, sequence, ts, r);
    }
    default: {
      FixSequenceRecord r{};
      std::snprintf(r.session_id, sizeof r.session_id, "QT->CLIENT%llu",
                    static_cast<unsigned long long>(sequence % 3));
      r.next_incoming = sequence;
      r.next_outgoing = sequence + 1;
      return make_entry(RecordType::kFixSequence, sequence, ts, r);
    }
  }
}

}  // namespace qt::persist::test
