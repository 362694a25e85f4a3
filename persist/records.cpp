// Names and JSON renderings of journal records, for `quanttrading journal dump` and tests.
// Enum values are spelled here (not borrowed from the engine's display strings) so the dump
// format stays stable; a value this build does not name prints as its number (hence the
// default labels: an enum growing in engine/ must not break this file).
#include "persist/records.hpp"

#include <fmt/format.h>

#include <array>
#include <cstring>

#include "common/json_writer.hpp"
#include "persist/journal_entry.hpp"

namespace qt::persist {
namespace {

struct TypeName {
  RecordType type;
  std::string_view name;
};
constexpr std::array<TypeName, 9> kTypeNames{{
    {RecordType::kEngineStarted, "engine_started"},
    {RecordType::kOrderReceived, "order_received"},
    {RecordType::kOrderRejected, "order_rejected"},
    {RecordType::kSentToVenue, "sent_to_venue"},
    {RecordType::kVenueEvent, "venue_event"},
    {RecordType::kCancelRequested, "cancel_requested"},
    {RecordType::kControl, "control"},
    {RecordType::kFixSequence, "fix_sequence"},
    {RecordType::kSegmentSeal, "segment_seal"},
}};

// One record's JSON object, field by field, through the common writer. Strings are raw bytes from
// fixed-size fields: every byte outside printable ASCII is escaped, so the dump is valid JSON
// whatever a damaged or foreign record holds.
class JsonObject {
 public:
  JsonObject() { json_.begin_object(); }

  JsonObject& number(std::string_view key, int64_t value) {
    json_.key(key).integer(value);
    return *this;
  }
  JsonObject& unsigned_number(std::string_view key, uint64_t value) {
    json_.key(key).unsigned_integer(value);
    return *this;
  }
  JsonObject& string(std::string_view key, std::string_view value) {
    json_.key(key).string(value, NonAscii::kEscaped);
    return *this;
  }
  // An enum: its name when known, else its number.
  JsonObject& enumeration(std::string_view key, std::string_view name, uint64_t value) {
    if (name.empty()) return unsigned_number(key, value);
    return string(key, name);
  }
  std::string finish() { return json_.end_object().take(); }

 private:
  JsonWriter json_;
};

std::string_view fixed_text(const char* chars, std::size_t capacity) {
  return {chars, ::strnlen(chars, capacity)};
}

std::string_view side_name(Side side) {
  switch (side) {
    case Side::kBuy: return "buy";
    case Side::kSell: return "sell";
    default: break;  // a value added after this build: printed as its number
  }
  return {};
}
std::string_view order_type_name(OrderType type) {
  switch (type) {
    case OrderType::kMarket: return "market";
    case OrderType::kLimit: return "limit";
    default: break;  // a value added after this build: printed as its number
  }
  return {};
}
std::string_view time_in_force_name(TimeInForce tif) {
  switch (tif) {
    case TimeInForce::kGoodTillCancel: return "good_till_cancel";
    case TimeInForce::kImmediateOrCancel: return "immediate_or_cancel";
    default: break;  // a value added after this build: printed as its number
  }
  return {};
}
std::string_view reject_reason_name(RejectReason reason) {
  if (static_cast<std::size_t>(reason) >= kRejectReasonCount) return {};
  return to_string(reason);  // the engine's names are already snake_case identifiers
}
std::string_view venue_request_kind_name(VenueRequestKind kind) {
  switch (kind) {
    case VenueRequestKind::kPlace: return "place";
    case VenueRequestKind::kCancel: return "cancel";
    case VenueRequestKind::kReconcile: return "reconcile";
    case VenueRequestKind::kForget: return "forget";
    case VenueRequestKind::kOwnedDeal: return "owned_deal";
    default: break;  // a value added after this build: printed as its number
  }
  return {};
}
std::string_view venue_event_kind_name(VenueEventKind kind) {
  switch (kind) {
    case VenueEventKind::kAccepted: return "accepted";
    case VenueEventKind::kRejected: return "rejected";
    case VenueEventKind::kFill: return "fill";
    case VenueEventKind::kCanceled: return "canceled";
    case VenueEventKind::kCancelRejected: return "cancel_rejected";
    case VenueEventKind::kOutcomeUnknown: return "outcome_unknown";
    case VenueEventKind::kSubmitted: return "submitted";
    case VenueEventKind::kReconciled: return "reconciled";
    case VenueEventKind::kPositionAdjusted: return "position_adjusted";
    case VenueEventKind::kDealOwned: return "deal_owned";
    default: break;  // a value added after this build: printed as its number
  }
  return {};
}
std::string_view control_kind_name(ControlKind kind) {
  switch (kind) {
    case ControlKind::kSetTradingState: return "set_trading_state";
    case ControlKind::kKillSwitch: return "kill_switch";
    case ControlKind::kResetKillSwitch: return "reset_kill_switch";
    default: break;  // a value added after this build: printed as its number
  }
  return {};
}
std::string_view trading_state_name(TradingState state) {
  switch (state) {
    case TradingState::kActive: return "active";
    case TradingState::kReducing: return "reducing";
    case TradingState::kHalted: return "halted";
    default: break;  // a value added after this build: printed as its number
  }
  return {};
}
std::string_view seal_reason_name(SealReason reason) {
  switch (reason) {
    case SealReason::kNextSegment: return "next_segment";
    case SealReason::kShutdown: return "shutdown";
    default: break;  // a value added after this build: printed as its number
  }
  return {};
}

template <typename E>
uint64_t raw(E value) {
  return static_cast<uint64_t>(value);
}

std::string raw_hex_json(std::span<const std::byte> payload) {
  std::string hex;
  for (const std::byte b : payload) hex += fmt::format("{:02x}", static_cast<unsigned>(b));
  return JsonObject().string("raw_hex", hex).unsigned_number("size", payload.size()).finish();
}

void add_new_order(JsonObject& json, const NewOrder& order) {
  json.string("client_order_id", order.client_order_id.view())
      .unsigned_number("source", order.source)
      .unsigned_number("instrument", order.instrument)
      .enumeration("side", side_name(order.side), raw(order.side))
      .enumeration("order_type", order_type_name(order.type), raw(order.type))
      .enumeration("time_in_force", time_in_force_name(order.time_in_force),
                   raw(order.time_in_force))
      .number("limit_price", order.limit_price)
      .number("size", order.size)
      .number("created_ns", order.created_ns);
}

}  // namespace

std::string_view record_type_name(RecordType type) {
  for (const TypeName& entry : kTypeNames) {
    if (entry.type == type) return entry.name;
  }
  return "unknown";
}

RecordType record_type_from_name(std::string_view name) {
  for (const TypeName& entry : kTypeNames) {
    if (entry.name == name) return entry.type;
  }
  return RecordType::kInvalid;
}

std::string record_payload_json(uint16_t type, std::span<const std::byte> payload) {
  // A payload must be exactly its struct (the writer copies sizeof(T)); anything else is shown
  // raw rather than guessed at.
  auto fits = [&](std::size_t size) { return payload.size() == size; };
  JsonObject json;
  switch (static_cast<RecordType>(type)) {
    case RecordType::kEngineStarted: {
      if (!fits(sizeof(EngineStartedRecord))) break;
      const auto r = payload_as<EngineStartedRecord>(payload);
      return json.number("epoch_ns", r.epoch_ns)
          .unsigned_number("recovered_through_sequence", r.recovered_through_sequence)
          .unsigned_number("format_version", r.format_version)
          .finish();
    }
    case RecordType::kOrderReceived: {
      if (!fits(sizeof(OrderReceivedRecord))) break;
      const auto r = payload_as<OrderReceivedRecord>(payload);
      json.unsigned_number("order_id", r.order_id);
      add_new_order(json, r.order);
      return json.finish();
    }
    case RecordType::kOrderRejected: {
      if (!fits(sizeof(OrderRejectedRecord))) break;
      const auto r = payload_as<OrderRejectedRecord>(payload);
      return json.unsigned_number("order_id", r.order_id)
          .string("client_order_id", r.client_order_id.view())
          .unsigned_number("source", r.source)
          .enumeration("reason", reject_reason_name(r.reason), raw(r.reason))
          .finish();
    }
    case RecordType::kSentToVenue: {
      if (!fits(sizeof(SentToVenueRecord))) break;
      const VenueRequest q = payload_as<SentToVenueRecord>(payload).request;
      return json.enumeration("kind", venue_request_kind_name(q.kind), raw(q.kind))
          .unsigned_number("order_id", q.order_id)
          .unsigned_number("instrument", q.instrument)
          .enumeration("side", side_name(q.side), raw(q.side))
          .enumeration("order_type", order_type_name(q.type), raw(q.type))
          .number("limit_price", q.limit_price)
          .number("size", q.size)
          .number("created_ns", q.created_ns)
          .finish();
    }
    case RecordType::kVenueEvent: {
      if (!fits(sizeof(VenueEventRecord))) break;
      const VenueEvent e = payload_as<VenueEventRecord>(payload).event;
      if (e.kind == VenueEventKind::kPositionAdjusted) {
        json.unsigned_number("instrument", e.instrument);  // the only kind not about an order
      }
      if (e.kind == VenueEventKind::kDealOwned) {
        // fill_price holds the epoch ms when the venue learned the deal.
        json.enumeration("deal", e.opened ? "opened" : "closed", e.opened ? 1 : 0);
      }
      return json.enumeration("kind", venue_event_kind_name(e.kind), raw(e.kind))
          .unsigned_number("order_id", e.order_id)
          .enumeration("reason", reject_reason_name(e.reason), raw(e.reason))
          .number("fill_price", e.fill_price)
          .number("fill_size", e.fill_size)
          .string("venue_order_id", fixed_text(e.venue_order_id.data(), e.venue_order_id.size()))
          .number("created_ns", e.created_ns)
          .finish();
    }
    case RecordType::kCancelRequested: {
      if (!fits(sizeof(CancelRequestedRecord))) break;
      const auto r = payload_as<CancelRequestedRecord>(payload);
      return json.unsigned_number("order_id", r.order_id)
          .string("client_order_id", r.cancel.client_order_id.view())
          .unsigned_number("source", r.cancel.source)
          .unsigned_number("requested_order_id", r.cancel.order_id)
          .enumeration("reason", reject_reason_name(r.reason), raw(r.reason))
          .number("created_ns", r.cancel.created_ns)
          .finish();
    }
    case RecordType::kControl: {
      if (!fits(sizeof(ControlRecord))) break;
      const ControlCommand c = payload_as<ControlRecord>(payload).command;
      return json.enumeration("kind", control_kind_name(c.kind), raw(c.kind))
          .enumeration("trading_state", trading_state_name(c.trading_state), raw(c.trading_state))
          .unsigned_number("source", c.source)
          .number("created_ns", c.created_ns)
          .finish();
    }
    case RecordType::kFixSequence: {
      if (!fits(sizeof(FixSequenceRecord))) break;
      const auto r = payload_as<FixSequenceRecord>(payload);
      return json
          .string("session_id", fixed_text(r.session_id, FixSequenceRecord::kSessionIdCapacity))
          .unsigned_number("next_incoming", r.next_incoming)
          .unsigned_number("next_outgoing", r.next_outgoing)
          .finish();
    }
    case RecordType::kSegmentSeal: {
      if (!fits(sizeof(SegmentSealRecord))) break;
      const auto r = payload_as<SegmentSealRecord>(payload);
      return json.unsigned_number("next_sequence", r.next_sequence)
          .unsigned_number("record_count", r.record_count)
          .enumeration("reason", seal_reason_name(r.reason), raw(r.reason))
          .finish();
    }
    default: break;
  }
  return raw_hex_json(payload);
}

OrderId record_order_id(uint16_t type, std::span<const std::byte> payload) {
  switch (static_cast<RecordType>(type)) {
    case RecordType::kOrderReceived: return payload_as<OrderReceivedRecord>(payload).order_id;
    case RecordType::kOrderRejected: return payload_as<OrderRejectedRecord>(payload).order_id;
    case RecordType::kSentToVenue: return payload_as<SentToVenueRecord>(payload).request.order_id;
    case RecordType::kVenueEvent: return payload_as<VenueEventRecord>(payload).event.order_id;
    case RecordType::kCancelRequested: {
      const auto r = payload_as<CancelRequestedRecord>(payload);
      return r.order_id != 0 ? r.order_id : r.cancel.order_id;
    }
    default: return 0;
  }
}

}  // namespace qt::persist
