// The messages that travel on the rings between stages. Each is a fixed-size, trivially
// copyable POD of at most 128 bytes (two cache lines), static_asserted below, so a ring slot
// is a plain memcpy and nothing on the pipeline allocates.
//
// Timestamps are CLOCK_MONOTONIC nanoseconds (qt::now_ns()) unless named *_epoch_ms.
#pragma once

#include <array>
#include <type_traits>

#include "engine/types.hpp"

namespace qt {

// Top of book for one instrument, fixed point in the instrument's scales.
struct Quote {
  InstrumentId instrument = 0;
  PriceUnits bid = 0;
  PriceUnits ask = 0;
  SizeUnits bid_size = 0;
  SizeUnits ask_size = 0;
  int64_t venue_epoch_ms = 0;  // the venue's timestamp
  int64_t received_ns = 0;     // when the feed stage produced it
  uint64_t sequence = 0;       // per-feed sequence number
};

// A new order from any source (strategy, FIX, HTTP), as decoded by that source's stage.
struct NewOrder {
  ClientOrderId client_order_id;
  SourceId source = 0;
  InstrumentId instrument = 0;
  Side side = Side::kBuy;
  OrderType type = OrderType::kMarket;
  TimeInForce time_in_force = TimeInForce::kGoodTillCancel;
  PriceUnits limit_price = 0;  // ignored for market orders
  SizeUnits size = 0;
  int64_t created_ns = 0;
};

struct CancelOrder {
  ClientOrderId client_order_id;  // of the order to cancel
  SourceId source = 0;
  OrderId order_id = 0;  // used when non-zero, else looked up by client_order_id
  int64_t created_ns = 0;
};

// Operator and risk-control commands.
enum class ControlKind : uint8_t { kSetTradingState, kKillSwitch, kResetKillSwitch };
struct ControlCommand {
  ControlKind kind = ControlKind::kSetTradingState;
  TradingState trading_state = TradingState::kActive;
  SourceId source = 0;
  int64_t created_ns = 0;
};

// Everything a client-side stage (FIX, HTTP, strategy host) can ask of the engine.
enum class CommandKind : uint8_t { kNewOrder, kCancelOrder, kControl };
struct ClientCommand {
  CommandKind kind = CommandKind::kNewOrder;
  union {
    NewOrder new_order;
    CancelOrder cancel;
    ControlCommand control;
  };
  ClientCommand() : new_order() {}
};

// Engine → venue stage. kReconcile (after recovery): an order the journal shows live whose
// fate only the venue knows — working there (venue_order_id set) or sent without an answer —
// to be tracked and resolved from the venue's records, never sent again. kStartupReconcile:
// sent once, after the last kReconcile (alone when nothing was recovered): every recovered
// order has been handed over; the venue reconciles with its own records (positions, working
// orders, Unknown orders) and answers kStartupReconciled when done. Only the order of
// requests on the ring carries meaning for it; its fields are unused. Never journaled.
// kForget: the engine settled the order by reconciliation (or adopted it and now lets it go):
// the venue stops tracking it and frees its lane. Nothing is sent to the broker.
// kOwnedDeal (start-up, before kStartupReconcile): a deal of the broker the journal accounts for
// (a kDealOwned event of an earlier run) — order_id the order that made it, its instrument and
// side, venue_order_id the deal id (empty:
// deals of ours whose ids were not learned), deal_opened, sent_epoch_ms when it was confirmed;
// One with owned_deals_complete_since set comes first: the list is complete from sent_epoch_ms.
enum class VenueRequestKind : uint8_t {
  kPlace,
  kCancel,
  kReconcile,
  kStartupReconcile,
  kForget,
  kOwnedDeal,
};
struct VenueRequest {
  VenueRequestKind kind = VenueRequestKind::kPlace;
  Side side = Side::kBuy;
  OrderType type = OrderType::kMarket;
  InstrumentId instrument = 0;
  OrderId order_id = 0;
  PriceUnits limit_price = 0;
  SizeUnits size = 0;
  int64_t created_ns = 0;
  int64_t sent_epoch_ms = 0;              // kReconcile: when the original request was journaled
  std::array<char, 40> venue_order_id{};  // kReconcile: the venue's id, when it gave one
  bool cancel_requested = false;          // kReconcile: a cancel was journaled; send it again
  // kReconcile: venue_order_id is the request's name (kSubmitted), the order's id not yet known.
  bool venue_id_is_reference = false;
  bool deal_opened = false;  // kOwnedDeal: the deal opened a position (else it closed one)
  // kOwnedDeal: not a deal but the marker — the list is complete from sent_epoch_ms on.
  bool owned_deals_complete_since = false;
};

// Venue stage → engine: what the venue said about an order.
enum class VenueEventKind : uint8_t {
  kAccepted,        // working at the venue
  kRejected,        // refused by the venue
  kFill,            // (partial) execution; fill_size and fill_price set
  kCanceled,        // cancel confirmed, or the venue expired the order
  kCancelRejected,  // cancel refused, order still live
  kOutcomeUnknown,  // request sent but no answer (timeout, reset, 5xx): order becomes Unknown
  // The answer to kStartupReconcile: the venue's start-up reconciliation is complete and every
  // event it produced for recovered orders precedes this one on the ring. order_id is 0;
  // fill_size carries the number of recovered orders the venue left unresolved (flagged for the
  // operator) — it may count orders the engine holds as New, e.g. a market order acknowledged
  // but not yet filled when the engine stopped. The engine becomes ready on it and never
  // journals it (see engine/engine.hpp, Readiness).
  kStartupReconciled,
  // The venue took the request and named it (Capital.com's dealReference, in venue_order_id)
  // before its outcome is known: journaled at once, so that after a crash the order is found
  // by that name, not guessed at. No state change.
  kSubmitted,
  // Reconciliation (engine/README.md, "Reconciliation with the broker"):
  // The broker's net position on `instrument` (fill_size, signed; fill_price its average open
  // level) from one snapshot of positions and working orders; `settled` when nothing of the
  // venue's on that instrument was in flight then (no request unanswered, no outcome the venue
  // is still finding out). order_id is 0. Never journaled: the engine acts on it.
  kPositionReport,
  // Journaled by the engine, never produced by the venue: an order the engine settled from the
  // broker's positions (or the operator by hand), fill_size inferred executed at fill_price;
  // venue_order_id holds a short note saying how. The order becomes Reconciled.
  kReconciled,
  // Journaled by the engine: its position on `instrument` moved by fill_size (signed) at
  // fill_price to equal the broker's, when no order explains the difference. order_id is 0.
  kPositionAdjusted,
  // A working order at the broker that no order of the engine accounts for: `instrument`, size
  // signed by side in fill_size, level in fill_price, the broker's id in venue_order_id. The
  // engine adopts it (venue.orphan_working_orders = adopt). order_id is 0. Never journaled.
  kOrphanWorkingOrder,
  // Journaled, no state change: a deal at the broker that an order of the engine made — the
  // position it opened (`opened`) or one it closed, by the broker's deal id in venue_order_id
  // (empty: deals of the order whose ids the venue could not learn, e.g. a working order filled
  // by netting); fill_price carries the epoch ms when the venue learned it. After a crash the
  // venue subtracts these from the activity history, so what remains identifies an order whose
  // outcome was never learned (gateway/capital/capital_venue.hpp).
  kDealOwned,
};
struct VenueEvent {
  static constexpr std::size_t kVenueIdCapacity = 40;  // Capital.com dealId is a 36-char UUID

  VenueEventKind kind = VenueEventKind::kAccepted;
  RejectReason reason = RejectReason::kNone;
  InstrumentId instrument = 0;  // kPositionReport, kPositionAdjusted, kOrphanWorkingOrder
  bool settled = false;         // kPositionReport
  bool opened = false;          // kDealOwned
  OrderId order_id = 0;
  PriceUnits fill_price = 0;
  SizeUnits fill_size = 0;
  int64_t created_ns = 0;  // when the venue stage produced the event
  std::array<char, kVenueIdCapacity> venue_order_id{};
};

// Engine → client-side stages: one per order state change.
struct OrderUpdate {
  ClientOrderId client_order_id;
  OrderId order_id = 0;
  SourceId source = 0;
  InstrumentId instrument = 0;
  Side side = Side::kBuy;
  OrderState state = OrderState::kPendingNew;
  RejectReason reason = RejectReason::kNone;
  SizeUnits order_size = 0;
  SizeUnits filled_size = 0;
  PriceUnits last_fill_price = 0;
  SizeUnits last_fill_size = 0;
  PriceUnits average_fill_price = 0;
  int64_t created_ns = 0;
};

template <typename T>
inline constexpr bool kIsRingMessage = std::is_trivially_copyable_v<T> && sizeof(T) <= 128;

static_assert(kIsRingMessage<Quote>);
static_assert(kIsRingMessage<NewOrder>);
static_assert(kIsRingMessage<CancelOrder>);
static_assert(kIsRingMessage<ClientCommand>);
static_assert(kIsRingMessage<VenueRequest>);
static_assert(kIsRingMessage<VenueEvent>);
static_assert(kIsRingMessage<OrderUpdate>);

}  // namespace qt
