#include "engine/order.hpp"

namespace qt {

std::string_view to_string(OrderEvent e) {
  switch (e) {
    case OrderEvent::kVenueAccepted: return "VenueAccepted";
    case OrderEvent::kVenueRejected: return "VenueRejected";
    case OrderEvent::kFill: return "Fill";
    case OrderEvent::kCancelRequested: return "CancelRequested";
    case OrderEvent::kCanceled: return "Canceled";
    case OrderEvent::kCancelRejected: return "CancelRejected";
    case OrderEvent::kOutcomeUnknown: return "OutcomeUnknown";
    case OrderEvent::kReconciled: return "Reconciled";
  }
  return "?";
}

namespace {

constexpr TransitionTarget kIllegal{TransitionResult::kIllegal, OrderState::kPendingNew};
constexpr TransitionTarget to(OrderState s) {
  return {TransitionResult::kApplied, s};
}

TransitionTarget after_fill(const Order& order, SizeUnits fill_size) {
  if (fill_size <= 0 || fill_size > order.leaves()) return kIllegal;
  return to(fill_size == order.leaves() ? OrderState::kFilled : OrderState::kPartiallyFilled);
}

}  // namespace

TransitionTarget next_order_state(const Order& order, OrderEvent event, SizeUnits fill_size) {
  using S = OrderState;
  using E = OrderEvent;
  if (event == E::kReconciled) {
    if (!order.is_live() || fill_size < 0 || fill_size > order.leaves()) return kIllegal;
    return to(S::kReconciled);
  }
  switch (order.state) {
    case S::kPendingNew:
      switch (event) {
        case E::kVenueAccepted: return to(S::kNew);
        case E::kVenueRejected: return to(S::kRejected);
        case E::kFill: return after_fill(order, fill_size);
        case E::kCancelRequested: return to(S::kPendingCancel);
        case E::kOutcomeUnknown: return to(S::kUnknown);
        case E::kCanceled: return to(S::kCanceled);  // e.g. an IOC remainder expired at once
        case E::kCancelRejected:
        case E::kReconciled: return kIllegal;
      }
      break;
    case S::kNew:
    case S::kPartiallyFilled:
      switch (event) {
        case E::kFill: return after_fill(order, fill_size);
        case E::kCancelRequested: return to(S::kPendingCancel);
        case E::kCanceled: return to(S::kCanceled);
        case E::kVenueAccepted:  // a duplicate acknowledgement is not a state change
        case E::kVenueRejected:
        case E::kCancelRejected:
        case E::kOutcomeUnknown:
        case E::kReconciled: return kIllegal;
      }
      break;
    case S::kPendingCancel:
      switch (event) {
        case E::kCanceled: return to(S::kCanceled);
        case E::kCancelRejected:
          // Back to where the order was, counting fills that arrived while the cancel was out.
          return to(order.filled_size > 0 ? S::kPartiallyFilled : order.state_before_cancel);
        case E::kFill: {
          const TransitionTarget t = after_fill(order, fill_size);
          if (t.result == TransitionResult::kIllegal) return t;
          return to(t.next == S::kFilled ? S::kFilled : S::kPendingCancel);
        }
        case E::kVenueAccepted: return to(S::kPendingCancel);  // late ack of the original order
        case E::kVenueRejected: return to(S::kRejected);       // the original never went live
        case E::kOutcomeUnknown: return to(S::kUnknown);       // the original's fate; intent kept
        case E::kCancelRequested:
        case E::kReconciled: return kIllegal;
      }
      break;
    case S::kUnknown:
      switch (event) {
        case E::kVenueAccepted: return to(S::kNew);
        case E::kVenueRejected: return to(S::kRejected);
        case E::kFill: return after_fill(order, fill_size);
        case E::kCanceled: return to(S::kCanceled);
        // Nothing to cancel at the venue yet: the intent is kept and acted on once it is live.
        case E::kCancelRequested: return to(S::kUnknown);
        case E::kCancelRejected: return to(S::kUnknown);  // the venue had nothing to cancel
        case E::kOutcomeUnknown:
        case E::kReconciled: return kIllegal;
      }
      break;
    case S::kFilled:
    case S::kCanceled:
    case S::kRejected:
    case S::kReconciled: return kIllegal;
  }
  return kIllegal;
}

TransitionResult apply_order_event(Order& order, OrderEvent event, SizeUnits fill_size,
                                   PriceUnits fill_price) {
  const TransitionTarget target = next_order_state(order, event, fill_size);
  if (target.result == TransitionResult::kIllegal) return TransitionResult::kIllegal;
  if (event == OrderEvent::kFill || (event == OrderEvent::kReconciled && fill_size > 0)) {
    order.filled_value += static_cast<__int128>(fill_price) * fill_size;
    order.filled_size += fill_size;
    order.average_fill_price =
        static_cast<PriceUnits>((order.filled_value + order.filled_size / 2) / order.filled_size);
  }
  const bool in_doubt = order.state == OrderState::kUnknown;
  if (event == OrderEvent::kCancelRequested) {
    order.cancel_wanted = in_doubt;  // otherwise the cancel is on its way now
    if (!in_doubt) order.state_before_cancel = order.state;
  }
  if (order.state == OrderState::kPendingCancel &&
      (event == OrderEvent::kOutcomeUnknown ||
       (event == OrderEvent::kCancelRejected &&
        order.state_before_cancel == OrderState::kPendingNew && order.filled_size == 0))) {
    // The cancel went out while the order was not acknowledged: the venue had nothing to cancel,
    // or the order itself went into doubt. Sent again once the order shows up live.
    order.cancel_wanted = true;
  }
  if (event == OrderEvent::kVenueAccepted && order.state == OrderState::kPendingCancel) {
    order.state_before_cancel = OrderState::kNew;  // the original is now known to be working
  }
  order.state = target.next;
  return TransitionResult::kApplied;
}

}  // namespace qt
