// Order record and its state machine.
//
//   PendingNew ─accepted─► New ─fill─► PartiallyFilled ─fill─► Filled
//        │  └─rejected─► Rejected        │ cancel request      ▲
//        └─outcome unknown─► Unknown      ▼                     │
//   (any live) ─cancel request─► PendingCancel ─canceled─► Canceled
//                                     └─cancel rejected─► state before the cancel
//   Unknown leaves only on an explicit venue answer: accepted, rejected, fill, canceled — or
//   when reconciliation with the broker's positions settles it: (any live) ─► Reconciled.
//
// Cancel intent survives doubt: a cancel asked for while the order is Unknown, or one whose
// order went Unknown (or that the venue refused because the order was not yet acknowledged),
// sets cancel_wanted; the engine sends the cancel as soon as the venue shows the order live.
//
// apply_order_event() never crashes and never applies an illegal event: it returns
// kIllegal, leaves the order untouched, and the caller counts and logs it.
// Owned by the engine thread; plain data, no allocation.
#pragma once

#include <array>

#include "engine/messages.hpp"
#include "engine/types.hpp"

namespace qt {

enum class OrderEvent : uint8_t {
  kVenueAccepted,
  kVenueRejected,
  kFill,  // partial or full, decided by the remaining size
  kCancelRequested,
  kCanceled,
  kCancelRejected,
  kOutcomeUnknown,
  // Settled by reconciliation (engine/README.md): from any live state to Reconciled; fill_size
  // (0 allowed, at most leaves) is the size inferred executed, at fill_price.
  kReconciled,
};
inline constexpr std::size_t kOrderEventCount = 8;
std::string_view to_string(OrderEvent e);

struct Order {
  OrderId id = 0;
  ClientOrderId client_order_id;
  SourceId source = 0;
  InstrumentId instrument = 0;
  Side side = Side::kBuy;
  OrderType type = OrderType::kMarket;
  TimeInForce time_in_force = TimeInForce::kGoodTillCancel;
  OrderState state = OrderState::kPendingNew;
  OrderState state_before_cancel = OrderState::kPendingNew;  // restored on cancel reject
  bool cancel_wanted = false;  // asked for, not yet sendable: sent once the order is seen live
  // venue_order_id holds the request's name (kSubmitted) until the venue gives the order's id.
  bool venue_id_is_reference = false;
  PriceUnits limit_price = 0;
  SizeUnits size = 0;
  SizeUnits filled_size = 0;
  PriceUnits average_fill_price = 0;  // size-weighted, rounded to the nearest price unit
  __int128 filled_value = 0;          // exact sum of fill price * fill size behind the average
  int64_t created_ns = 0;
  int64_t created_epoch_ms = 0;  // wall clock when admitted: the venue matches Unknown orders by it
  std::array<char, VenueEvent::kVenueIdCapacity> venue_order_id{};

  SizeUnits leaves() const { return size - filled_size; }
  bool is_live() const { return !is_terminal(state); }
};

enum class TransitionResult : uint8_t { kApplied, kIllegal };

// The pure table: the state `event` leads to from `order`, or nullopt-like kIllegal.
// For kFill, fill_size decides partial vs full; a fill larger than leaves() is illegal.
struct TransitionTarget {
  TransitionResult result;
  OrderState next;
};
TransitionTarget next_order_state(const Order& order, OrderEvent event, SizeUnits fill_size = 0);

// Applies the event if legal (state, filled size, average price); otherwise touches nothing.
TransitionResult apply_order_event(Order& order, OrderEvent event, SizeUnits fill_size = 0,
                                   PriceUnits fill_price = 0);

// The venue request of `kind` for `order` as it stands: its remaining size; a place also its limit
// price; a kReconcile also its venue id, when it was admitted and whether a cancel is pending (what
// the venue needs to resume it). Exactly the fields each kind always carried in the journal.
inline VenueRequest venue_request_for(const Order& order, VenueRequestKind kind,
                                      int64_t created_ns) {
  VenueRequest request;
  request.kind = kind;
  request.side = order.side;
  request.type = order.type;
  request.instrument = order.instrument;
  request.order_id = order.id;
  request.size = order.leaves();
  request.created_ns = created_ns;
  if (kind == VenueRequestKind::kCancel) return request;  // the venue knows the rest
  request.limit_price = order.limit_price;
  if (kind != VenueRequestKind::kReconcile) return request;
  request.sent_epoch_ms = order.created_epoch_ms;
  request.venue_order_id = order.venue_order_id;
  request.venue_id_is_reference = order.venue_id_is_reference;
  request.cancel_requested = order.state == OrderState::kPendingCancel || order.cancel_wanted;
  return request;
}

}  // namespace qt
