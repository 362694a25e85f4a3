// Specification of the order state machine (engine/order.hpp).
//
// The full 8 x 7 transition table is written out below by hand from the state diagram in
// engine/order.hpp; it is deliberately not computed from the implementation.
#include <gtest/gtest.h>

#include <array>
#include <cstring>
#include <optional>
#include <string>
#include <tuple>

#include "engine/order.hpp"

namespace qt {
namespace {

// Prices in price units of a 2-decimal instrument: 10000 = 100.00.
constexpr PriceUnits kPrice100 = 10000;
constexpr SizeUnits kOrderSize = 10;

// An order of size 10 that is in `state`, with the fill history that state implies:
// PartiallyFilled and Canceled have 4 filled @ 100.00, Filled has all 10 @ 100.00, and
// PendingCancel was requested from New.
Order order_in(OrderState state) {
  Order order;
  order.id = 42;
  order.client_order_id = ClientOrderId::from("CL-42");
  order.source = 3;
  order.instrument = 1;
  order.side = Side::kBuy;
  order.type = OrderType::kLimit;
  order.limit_price = kPrice100;
  order.size = kOrderSize;
  order.created_ns = 123'456'789;
  order.state = state;
  order.state_before_cancel = OrderState::kPendingNew;
  switch (state) {
    case OrderState::kPartiallyFilled:
    case OrderState::kCanceled:
      order.filled_size = 4;
      order.average_fill_price = kPrice100;
      break;
    case OrderState::kFilled:
      order.filled_size = kOrderSize;
      order.average_fill_price = kPrice100;
      break;
    case OrderState::kPendingCancel: order.state_before_cancel = OrderState::kNew; break;
    default: break;
  }
  return order;
}

// The exact bytes of an order, to prove an illegal event touched nothing at all.
std::array<unsigned char, sizeof(Order)> bytes_of(const Order& order) {
  std::array<unsigned char, sizeof(Order)> bytes;
  std::memcpy(bytes.data(), &order, sizeof(Order));
  return bytes;
}

// Asserts `event` is refused and that the order is left exactly as it was.
void expect_illegal_and_untouched(Order order, OrderEvent event, SizeUnits fill_size = 0,
                                  PriceUnits fill_price = 0) {
  const Order before = order;
  const auto before_bytes = bytes_of(order);
  EXPECT_EQ(next_order_state(order, event, fill_size).result, TransitionResult::kIllegal);
  EXPECT_EQ(apply_order_event(order, event, fill_size, fill_price), TransitionResult::kIllegal);
  EXPECT_EQ(order.state, before.state);
  EXPECT_EQ(order.filled_size, before.filled_size);
  EXPECT_EQ(order.average_fill_price, before.average_fill_price);
  EXPECT_EQ(order.state_before_cancel, before.state_before_cancel);
  EXPECT_TRUE(bytes_of(order) == before_bytes) << "illegal event modified the order's bytes";
}

// ---------------------------------------------------------------------------------------------
// The full transition table.
// ---------------------------------------------------------------------------------------------

constexpr std::optional<OrderState> kIllegalCell = std::nullopt;
constexpr std::optional<OrderState> kPendingNew = OrderState::kPendingNew;
constexpr std::optional<OrderState> kNew = OrderState::kNew;
constexpr std::optional<OrderState> kPartial = OrderState::kPartiallyFilled;
constexpr std::optional<OrderState> kFilled = OrderState::kFilled;
constexpr std::optional<OrderState> kCanceled = OrderState::kCanceled;
constexpr std::optional<OrderState> kRejected = OrderState::kRejected;
constexpr std::optional<OrderState> kPendingCancel = OrderState::kPendingCancel;
constexpr std::optional<OrderState> kUnknown = OrderState::kUnknown;
constexpr std::optional<OrderState> kReconciled = OrderState::kReconciled;

// Rows: OrderState in enum order. Columns: OrderEvent in enum order. The kFill column is a
// partial fill of 1 (of the order's 10); fills that complete the order are tabled separately.
// The PendingCancel row is for a cancel requested from New.
// clang-format off
constexpr std::array<std::array<std::optional<OrderState>, kOrderEventCount>, kOrderStateCount>
    kExpectedNextState = {{
  //                    VenueAccepted   VenueRejected  Fill(1 of 10)   CancelRequested  Canceled   CancelRejected OutcomeUnknown Reconciled
  /* PendingNew    */ {{kNew,           kRejected,     kPartial,       kPendingCancel,  kCanceled, kIllegalCell,  kUnknown,      kReconciled}},
  /* New           */ {{kIllegalCell,   kIllegalCell,  kPartial,       kPendingCancel,  kCanceled, kIllegalCell,  kIllegalCell,  kReconciled}},
  /* PartiallyFill */ {{kIllegalCell,   kIllegalCell,  kPartial,       kPendingCancel,  kCanceled, kIllegalCell,  kIllegalCell,  kReconciled}},
  /* Filled        */ {{kIllegalCell,   kIllegalCell,  kIllegalCell,   kIllegalCell,    kIllegalCell, kIllegalCell, kIllegalCell, kIllegalCell}},
  /* Canceled      */ {{kIllegalCell,   kIllegalCell,  kIllegalCell,   kIllegalCell,    kIllegalCell, kIllegalCell, kIllegalCell, kIllegalCell}},
  /* Rejected      */ {{kIllegalCell,   kIllegalCell,  kIllegalCell,   kIllegalCell,    kIllegalCell, kIllegalCell, kIllegalCell, kIllegalCell}},
  /* PendingCancel */ {{kPendingCancel, kRejected,     kPendingCancel, kIllegalCell,    kCanceled, kNew,          kUnknown,      kReconciled}},
  /* Unknown       */ {{kNew,           kRejected,     kPartial,       kUnknown,        kCanceled, kUnknown,      kIllegalCell,  kReconciled}},
  /* Reconciled    */ {{kIllegalCell,   kIllegalCell,  kIllegalCell,   kIllegalCell,    kIllegalCell, kIllegalCell, kIllegalCell, kIllegalCell}},
}};
// clang-format on

class OrderTransitionTable : public ::testing::TestWithParam<std::tuple<int, int>> {
 protected:
  OrderState state() const { return static_cast<OrderState>(std::get<0>(GetParam())); }
  OrderEvent event() const { return static_cast<OrderEvent>(std::get<1>(GetParam())); }
};

TEST_P(OrderTransitionTable, MatchesTheSpecifiedTable) {
  const std::optional<OrderState> expected =
      kExpectedNextState[static_cast<std::size_t>(state())][static_cast<std::size_t>(event())];
  const SizeUnits fill_size = event() == OrderEvent::kFill ? 1 : 0;
  const PriceUnits fill_price = event() == OrderEvent::kFill ? 10100 : 0;  // 101.00
  Order order = order_in(state());

  if (!expected.has_value()) {
    expect_illegal_and_untouched(order, event(), fill_size, fill_price);
    return;
  }
  const TransitionTarget target = next_order_state(order, event(), fill_size);
  EXPECT_EQ(target.result, TransitionResult::kApplied);
  EXPECT_EQ(target.next, *expected) << "pure table says " << to_string(target.next);
  ASSERT_EQ(apply_order_event(order, event(), fill_size, fill_price), TransitionResult::kApplied);
  EXPECT_EQ(order.state, *expected) << "applied event led to " << to_string(order.state);
}

std::string TransitionName(const ::testing::TestParamInfo<std::tuple<int, int>>& info) {
  return std::string(to_string(static_cast<OrderState>(std::get<0>(info.param)))) + "_on_" +
         std::string(to_string(static_cast<OrderEvent>(std::get<1>(info.param))));
}

INSTANTIATE_TEST_SUITE_P(AllStatesTimesAllEvents, OrderTransitionTable,
                         ::testing::Combine(::testing::Range(0, static_cast<int>(kOrderStateCount)),
                                            ::testing::Range(0,
                                                             static_cast<int>(kOrderEventCount))),
                         TransitionName);

// A fill of exactly the remaining size completes the order from every live state, including
// PendingCancel (the fill beat the cancel) and Unknown (the fill proves the order existed).
TEST(OrderStateMachine, FillOfExactlyTheLeavesCompletesTheOrderFromEveryLiveState) {
  for (OrderState state : {OrderState::kPendingNew, OrderState::kNew, OrderState::kPartiallyFilled,
                           OrderState::kPendingCancel, OrderState::kUnknown}) {
    SCOPED_TRACE(std::string(to_string(state)));
    Order order = order_in(state);
    const SizeUnits leaves = order.leaves();  // 10, or 6 when 4 are already filled
    ASSERT_EQ(apply_order_event(order, OrderEvent::kFill, leaves, kPrice100),
              TransitionResult::kApplied);
    EXPECT_EQ(order.state, OrderState::kFilled);
    EXPECT_EQ(order.filled_size, kOrderSize);
    EXPECT_EQ(order.leaves(), 0);
  }
}

// ---------------------------------------------------------------------------------------------
// Fills and the average price.
// ---------------------------------------------------------------------------------------------

TEST(OrderStateMachine, PartialThenFullFillGivesSizeWeightedAveragePrice) {
  Order order = order_in(OrderState::kNew);
  order.size = 4;

  // 3 @ 100.00: partially filled, average 100.00.
  ASSERT_EQ(apply_order_event(order, OrderEvent::kFill, 3, 10000), TransitionResult::kApplied);
  EXPECT_EQ(order.state, OrderState::kPartiallyFilled);
  EXPECT_EQ(order.filled_size, 3);
  EXPECT_EQ(order.average_fill_price, 10000);

  // 1 @ 104.00: filled, average (3 * 100.00 + 1 * 104.00) / 4 = 101.00.
  ASSERT_EQ(apply_order_event(order, OrderEvent::kFill, 1, 10400), TransitionResult::kApplied);
  EXPECT_EQ(order.state, OrderState::kFilled);
  EXPECT_EQ(order.filled_size, 4);
  EXPECT_EQ(order.average_fill_price, 10100);
}

TEST(OrderStateMachine, AveragePriceRoundsToTheNearestPriceUnit) {
  Order order = order_in(OrderState::kNew);
  order.size = 3;
  // 2 @ 100.00 then 1 @ 100.02: 300.02 / 3 = 100.00667 -> 100.01.
  ASSERT_EQ(apply_order_event(order, OrderEvent::kFill, 2, 10000), TransitionResult::kApplied);
  ASSERT_EQ(apply_order_event(order, OrderEvent::kFill, 1, 10002), TransitionResult::kApplied);
  EXPECT_EQ(order.average_fill_price, 10001);
}

// Regression: the average once was re-derived from the previous *rounded* average, so rounding
// errors accumulated; Order now keeps the exact sum of price * size.
TEST(OrderStateMachine, AveragePriceIsTheRoundedExactWeightedAverageAfterManyFills) {
  Order order = order_in(OrderState::kNew);
  order.size = 7;
  // Seven fills of 1 @ 100.00, 99.99, 99.99, 99.98, 99.98, 99.97, 99.97.
  // Exact: 699.88 / 7 = 99.98286 -> 99.98.
  // Buggy: each fill moves the stored average by less than half a unit, so it re-rounds back to
  // 100.00 every time and never moves at all.
  for (PriceUnits price : {10000, 9999, 9999, 9998, 9998, 9997, 9997}) {
    ASSERT_EQ(apply_order_event(order, OrderEvent::kFill, 1, price), TransitionResult::kApplied);
  }
  EXPECT_EQ(order.state, OrderState::kFilled);
  EXPECT_EQ(order.average_fill_price, 9998);
}

TEST(OrderStateMachine, OverfillIsIllegal) {
  // 4 of 10 filled, 6 left: a fill of 7 is refused, a fill of 6 would complete it.
  const Order order = order_in(OrderState::kPartiallyFilled);
  ASSERT_EQ(order.leaves(), 6);
  expect_illegal_and_untouched(order, OrderEvent::kFill, 7, 10100);
  expect_illegal_and_untouched(order_in(OrderState::kNew), OrderEvent::kFill, 11, 10100);
  expect_illegal_and_untouched(order_in(OrderState::kPendingCancel), OrderEvent::kFill, 11, 10100);
}

TEST(OrderStateMachine, ZeroSizeFillIsIllegal) {
  for (OrderState state : {OrderState::kPendingNew, OrderState::kNew, OrderState::kPartiallyFilled,
                           OrderState::kPendingCancel, OrderState::kUnknown}) {
    SCOPED_TRACE(std::string(to_string(state)));
    expect_illegal_and_untouched(order_in(state), OrderEvent::kFill, 0, 10100);
  }
}

TEST(OrderStateMachine, NegativeSizeFillIsIllegal) {
  expect_illegal_and_untouched(order_in(OrderState::kPartiallyFilled), OrderEvent::kFill, -1,
                               10100);
}

// ---------------------------------------------------------------------------------------------
// Cancels.
// ---------------------------------------------------------------------------------------------

TEST(OrderStateMachine, CancelRejectRestoresNew) {
  Order order = order_in(OrderState::kNew);
  ASSERT_EQ(apply_order_event(order, OrderEvent::kCancelRequested), TransitionResult::kApplied);
  EXPECT_EQ(order.state, OrderState::kPendingCancel);
  EXPECT_EQ(order.state_before_cancel, OrderState::kNew);
  ASSERT_EQ(apply_order_event(order, OrderEvent::kCancelRejected), TransitionResult::kApplied);
  EXPECT_EQ(order.state, OrderState::kNew);
}

TEST(OrderStateMachine, CancelRejectRestoresPartiallyFilled) {
  Order order = order_in(OrderState::kPartiallyFilled);  // 4 of 10 filled
  ASSERT_EQ(apply_order_event(order, OrderEvent::kCancelRequested), TransitionResult::kApplied);
  EXPECT_EQ(order.state_before_cancel, OrderState::kPartiallyFilled);
  ASSERT_EQ(apply_order_event(order, OrderEvent::kCancelRejected), TransitionResult::kApplied);
  EXPECT_EQ(order.state, OrderState::kPartiallyFilled);
  EXPECT_EQ(order.filled_size, 4);
}

TEST(OrderStateMachine, CancelRejectRestoresPendingNew) {
  // Cancel sent before the venue acknowledged the order; the venue refuses the cancel.
  Order order = order_in(OrderState::kPendingNew);
  ASSERT_EQ(apply_order_event(order, OrderEvent::kCancelRequested), TransitionResult::kApplied);
  EXPECT_EQ(order.state_before_cancel, OrderState::kPendingNew);
  ASSERT_EQ(apply_order_event(order, OrderEvent::kCancelRejected), TransitionResult::kApplied);
  EXPECT_EQ(order.state, OrderState::kPendingNew);
}

TEST(OrderStateMachine, LateVenueAckWhilePendingCancelThenCancelRejectGivesNew) {
  Order order = order_in(OrderState::kPendingNew);
  ASSERT_EQ(apply_order_event(order, OrderEvent::kCancelRequested), TransitionResult::kApplied);
  // The acknowledgement of the original order arrives after the cancel went out.
  ASSERT_EQ(apply_order_event(order, OrderEvent::kVenueAccepted), TransitionResult::kApplied);
  EXPECT_EQ(order.state, OrderState::kPendingCancel);
  ASSERT_EQ(apply_order_event(order, OrderEvent::kCancelRejected), TransitionResult::kApplied);
  EXPECT_EQ(order.state, OrderState::kNew);
}

TEST(OrderStateMachine, PartialFillWhilePendingCancelThenCancelRejectGivesPartiallyFilled) {
  Order order = order_in(OrderState::kNew);
  ASSERT_EQ(apply_order_event(order, OrderEvent::kCancelRequested), TransitionResult::kApplied);
  // 3 of 10 @ 101.00 while the cancel is out: still pending cancel.
  ASSERT_EQ(apply_order_event(order, OrderEvent::kFill, 3, 10100), TransitionResult::kApplied);
  EXPECT_EQ(order.state, OrderState::kPendingCancel);
  EXPECT_EQ(order.filled_size, 3);
  ASSERT_EQ(apply_order_event(order, OrderEvent::kCancelRejected), TransitionResult::kApplied);
  EXPECT_EQ(order.state, OrderState::kPartiallyFilled);
}

TEST(OrderStateMachine, SecondCancelRequestWhilePendingCancelIsIllegal) {
  expect_illegal_and_untouched(order_in(OrderState::kPendingCancel), OrderEvent::kCancelRequested);
}

// ---------------------------------------------------------------------------------------------
// Unknown outcome.
// ---------------------------------------------------------------------------------------------

TEST(OrderStateMachine, OutcomeUnknownFromPendingNewGivesUnknown) {
  Order order = order_in(OrderState::kPendingNew);
  ASSERT_EQ(apply_order_event(order, OrderEvent::kOutcomeUnknown), TransitionResult::kApplied);
  EXPECT_EQ(order.state, OrderState::kUnknown);
  EXPECT_TRUE(order.is_live());
}

TEST(OrderStateMachine, UnknownResolvesOnVenueAccepted) {
  Order order = order_in(OrderState::kUnknown);
  ASSERT_EQ(apply_order_event(order, OrderEvent::kVenueAccepted), TransitionResult::kApplied);
  EXPECT_EQ(order.state, OrderState::kNew);
}

TEST(OrderStateMachine, UnknownResolvesOnVenueRejected) {
  Order order = order_in(OrderState::kUnknown);
  ASSERT_EQ(apply_order_event(order, OrderEvent::kVenueRejected), TransitionResult::kApplied);
  EXPECT_EQ(order.state, OrderState::kRejected);
}

TEST(OrderStateMachine, UnknownResolvesOnFill) {
  Order order = order_in(OrderState::kUnknown);
  // 2 of 10 @ 101.00: the order exists and is partially filled.
  ASSERT_EQ(apply_order_event(order, OrderEvent::kFill, 2, 10100), TransitionResult::kApplied);
  EXPECT_EQ(order.state, OrderState::kPartiallyFilled);
  EXPECT_EQ(order.filled_size, 2);
  EXPECT_EQ(order.average_fill_price, 10100);
}

TEST(OrderStateMachine, UnknownResolvesOnCanceled) {
  Order order = order_in(OrderState::kUnknown);
  ASSERT_EQ(apply_order_event(order, OrderEvent::kCanceled), TransitionResult::kApplied);
  EXPECT_EQ(order.state, OrderState::kCanceled);
}

// Cancel intent survives doubt (issue 11): kept on the order, acted on once it is live.
TEST(OrderStateMachine, CancelRequestedWhileUnknownIsKeptAsIntent) {
  Order order = order_in(OrderState::kUnknown);
  ASSERT_EQ(apply_order_event(order, OrderEvent::kCancelRequested), TransitionResult::kApplied);
  EXPECT_EQ(order.state, OrderState::kUnknown);
  EXPECT_TRUE(order.cancel_wanted);
  ASSERT_EQ(apply_order_event(order, OrderEvent::kCancelRejected), TransitionResult::kApplied);
  EXPECT_TRUE(order.cancel_wanted) << "the venue had nothing to cancel: the intent stays";
  ASSERT_EQ(apply_order_event(order, OrderEvent::kVenueAccepted), TransitionResult::kApplied);
  EXPECT_EQ(order.state, OrderState::kNew);
  EXPECT_TRUE(order.cancel_wanted);
  ASSERT_EQ(apply_order_event(order, OrderEvent::kCancelRequested), TransitionResult::kApplied);
  EXPECT_EQ(order.state, OrderState::kPendingCancel);
  EXPECT_FALSE(order.cancel_wanted) << "the cancel is on its way now";
}

TEST(OrderStateMachine, ACancelWhoseOrderGoesUnknownKeepsTheIntent) {
  Order order = order_in(OrderState::kPendingNew);
  ASSERT_EQ(apply_order_event(order, OrderEvent::kCancelRequested), TransitionResult::kApplied);
  ASSERT_EQ(order.state, OrderState::kPendingCancel);
  ASSERT_EQ(apply_order_event(order, OrderEvent::kOutcomeUnknown), TransitionResult::kApplied);
  EXPECT_EQ(order.state, OrderState::kUnknown);
  EXPECT_TRUE(order.cancel_wanted);
}

TEST(OrderStateMachine, ACancelRefusedBeforeTheAcknowledgementKeepsTheIntent) {
  Order order = order_in(OrderState::kPendingNew);
  ASSERT_EQ(apply_order_event(order, OrderEvent::kCancelRequested), TransitionResult::kApplied);
  ASSERT_EQ(apply_order_event(order, OrderEvent::kCancelRejected), TransitionResult::kApplied);
  EXPECT_EQ(order.state, OrderState::kPendingNew);
  EXPECT_TRUE(order.cancel_wanted);
  // Refused once the order was known to be working: a real refusal, not kept.
  Order working = order_in(OrderState::kNew);
  ASSERT_EQ(apply_order_event(working, OrderEvent::kCancelRequested), TransitionResult::kApplied);
  ASSERT_EQ(apply_order_event(working, OrderEvent::kCancelRejected), TransitionResult::kApplied);
  EXPECT_EQ(working.state, OrderState::kNew);
  EXPECT_FALSE(working.cancel_wanted);
}

TEST(OrderStateMachine, UnknownRejectsAnotherOutcomeUnknown) {
  expect_illegal_and_untouched(order_in(OrderState::kUnknown), OrderEvent::kOutcomeUnknown);
}

// ---------------------------------------------------------------------------------------------
// Terminal states.
// ---------------------------------------------------------------------------------------------

TEST(OrderStateMachine, TerminalStatesAcceptNoEvent) {
  for (OrderState state : {OrderState::kFilled, OrderState::kCanceled, OrderState::kRejected}) {
    for (std::size_t e = 0; e < kOrderEventCount; ++e) {
      const auto event = static_cast<OrderEvent>(e);
      SCOPED_TRACE(std::string(to_string(state)) + " on " + std::string(to_string(event)));
      expect_illegal_and_untouched(order_in(state), event, 1, 10100);
    }
    EXPECT_FALSE(order_in(state).is_live());
  }
}

}  // namespace
}  // namespace qt
