// The engine end to end on one thread: client commands and strategies through risk, the order
// state machine, the paper venue and back, with positions and P&L.
#include "engine/engine.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "engine/strategies/moving_average_crossover.hpp"
#include "engine/strategies/simple_quoter.hpp"
#include "tests/engine_test_support.hpp"

namespace qt {
namespace {

using testing::EngineRig;
using testing::new_order;

constexpr InstrumentId kGold = 0;

TEST(Engine, MarketOrderFillsAtTheAskAndUpdatesPosition) {
  EngineRig rig;
  rig.start();
  rig.quote(kGold, 230000, 230030);                                          // 2300.00 / 2300.30
  rig.send(new_order("c1", kGold, Side::kBuy, OrderType::kMarket, 0, 150));  // buy 1.50

  const std::vector<OrderUpdate> updates = rig.drain_updates();
  ASSERT_EQ(updates.size(), 3u);  // PendingNew, New, Filled
  EXPECT_EQ(updates[0].state, OrderState::kPendingNew);
  EXPECT_EQ(updates[1].state, OrderState::kNew);
  EXPECT_EQ(updates[2].state, OrderState::kFilled);
  EXPECT_EQ(updates[2].last_fill_price, 230030);
  EXPECT_EQ(updates[2].last_fill_size, 150);
  EXPECT_EQ(updates[2].client_order_id.view(), "c1");

  const Position& position = rig.engine->position(kGold);
  EXPECT_EQ(position.net_size(), 150);
  EXPECT_EQ(position.average_price(), 230030);
  // Marked at the bid 2300.00: 1.50 * (2300.00 - 2300.30) = -0.45
  EXPECT_EQ(position.unrealized_pnl(rig.engine->instruments()[kGold]), -450'000);
}

TEST(Engine, RiskRejectionIsReportedWithItsReasonAndCreatesNoOrder) {
  EngineRig rig;
  rig.start();
  rig.quote(kGold, 230000, 230030);
  rig.send(new_order("big", kGold, Side::kBuy, OrderType::kMarket, 0, 5'010));  // 50.10 > 50.00

  const std::vector<OrderUpdate> updates = rig.drain_updates();
  ASSERT_EQ(updates.size(), 1u);
  EXPECT_EQ(updates[0].state, OrderState::kRejected);
  EXPECT_EQ(updates[0].reason, RejectReason::kMaxOrderSize);
  EXPECT_EQ(rig.engine->stats().rejects[static_cast<int>(RejectReason::kMaxOrderSize)].load(), 1u);
  EXPECT_EQ(rig.engine->stats().orders_sent.load(), 0u);
  EXPECT_TRUE(rig.requests->empty_approx());
}

TEST(Engine, DuplicateClientOrderIdIsRejectedPerSource) {
  EngineRig rig;
  rig.start();
  rig.quote(kGold, 230000, 230030);
  rig.send(new_order("same", kGold, Side::kBuy, OrderType::kMarket, 0, 10));
  rig.send(new_order("same", kGold, Side::kBuy, OrderType::kMarket, 0, 10));
  const std::vector<OrderUpdate> updates = rig.drain_updates();
  ASSERT_FALSE(updates.empty());
  EXPECT_EQ(updates.back().state, OrderState::kRejected);
  EXPECT_EQ(updates.back().reason, RejectReason::kDuplicateClientOrderId);
}

TEST(Engine, RestingLimitOrderFillsWhenTheMarketCrossesIt) {
  EngineRig rig;
  rig.start();
  rig.quote(kGold, 230000, 230030);
  rig.send(new_order("l1", kGold, Side::kBuy, OrderType::kLimit, 229900, 100));  // bid 2299.00
  EXPECT_EQ(rig.drain_updates().back().state, OrderState::kNew);
  rig.quote(kGold, 229880, 229890);  // ask 2298.90 ≤ 2299.00
  const std::vector<OrderUpdate> updates = rig.drain_updates();
  ASSERT_EQ(updates.size(), 1u);
  EXPECT_EQ(updates[0].state, OrderState::kFilled);
  EXPECT_EQ(updates[0].last_fill_price, 229900);
  EXPECT_EQ(rig.engine->position(kGold).net_size(), 100);
}

TEST(Engine, CancelOfRestingOrderEndsCanceledAndReleasesExposure) {
  RiskLimits limits = testing::permissive_limits();
  limits.instruments[kGold].max_position = 100;  // 1.00
  EngineRig rig(limits);
  rig.start();
  rig.quote(kGold, 230000, 230030);
  rig.send(new_order("l1", kGold, Side::kBuy, OrderType::kLimit, 229900, 100));
  // A second buy would exceed the position limit while the first is open...
  rig.send(new_order("l2", kGold, Side::kBuy, OrderType::kLimit, 229900, 100));
  EXPECT_EQ(rig.drain_updates().back().reason, RejectReason::kMaxPosition);

  ClientCommand cancel;
  cancel.kind = CommandKind::kCancelOrder;
  cancel.cancel.client_order_id = ClientOrderId::from("l1");
  rig.send(cancel);
  const std::vector<OrderUpdate> updates = rig.drain_updates();
  ASSERT_EQ(updates.size(), 2u);
  EXPECT_EQ(updates[0].state, OrderState::kPendingCancel);
  EXPECT_EQ(updates[1].state, OrderState::kCanceled);
  // ...and passes once the first is canceled.
  rig.send(new_order("l3", kGold, Side::kBuy, OrderType::kLimit, 229900, 100));
  EXPECT_EQ(rig.drain_updates().back().state, OrderState::kNew);
}

TEST(Engine, KillSwitchCancelsOpenOrdersAndRefusesNewOnes) {
  EngineRig rig;
  rig.start();
  rig.quote(kGold, 230000, 230030);
  rig.send(new_order("l1", kGold, Side::kBuy, OrderType::kLimit, 229900, 100));
  rig.send(new_order("l2", kGold, Side::kSell, OrderType::kLimit, 230100, 100));
  rig.drain_updates();
  ClientCommand kill;
  kill.kind = CommandKind::kControl;
  kill.control.kind = ControlKind::kKillSwitch;
  rig.send(kill);
  EXPECT_EQ(rig.engine->stats().live_orders.load(), 0u);
  EXPECT_EQ(rig.engine->stats().canceled_orders.load(), 2u);
  rig.send(new_order("l3", kGold, Side::kBuy, OrderType::kMarket, 0, 100));
  EXPECT_EQ(rig.drain_updates().back().reason, RejectReason::kKillSwitch);
}

TEST(Engine, IllegalVenueEventIsCountedAndNotApplied) {
  EngineRig rig;
  rig.start();
  rig.quote(kGold, 230000, 230030);
  rig.send(new_order("m1", kGold, Side::kBuy, OrderType::kMarket, 0, 100));
  ASSERT_EQ(rig.drain_updates().back().state, OrderState::kFilled);
  const OrderId id = rig.engine->stats().orders_sent.load();  // the first and only order: id 1
  VenueEvent late_fill;
  late_fill.kind = VenueEventKind::kFill;
  late_fill.order_id = id;
  late_fill.fill_price = 230030;
  late_fill.fill_size = 100;
  rig.events->try_push(late_fill);
  rig.pump();
  EXPECT_EQ(rig.engine->stats().illegal_transitions.load(), 1u);
  EXPECT_EQ(rig.engine->position(kGold).net_size(), 100);  // not 200
  EXPECT_TRUE(rig.drain_updates().empty());
}

// The engine alone, the venue played by hand: `order` admitted and its request taken off the
// venue ring; answer() writes the venue's events and runs a duty cycle.
VenueRequest place_by_hand(EngineRig& rig, const ClientCommand& order) {
  rig.commands->try_push(order);
  rig.engine->do_work();
  VenueRequest request;
  EXPECT_TRUE(rig.requests->try_pop(request));
  return request;
}
void answer(EngineRig& rig, VenueEventKind kind, OrderId order_id, std::string_view venue_id = "",
            PriceUnits fill_price = 0, SizeUnits fill_size = 0) {
  VenueEvent e;
  e.kind = kind;
  e.order_id = order_id;
  e.fill_price = fill_price;
  e.fill_size = fill_size;
  std::copy(venue_id.begin(), venue_id.end(), e.venue_order_id.begin());
  rig.events->try_push(e);
  rig.engine->do_work();
}

TEST(Engine, OutcomeUnknownHoldsTheOrderUntilAnExplicitAnswer) {
  EngineRig rig;
  rig.start();
  rig.quote(kGold, 230000, 230030);
  const VenueRequest request =
      place_by_hand(rig, new_order("u1", kGold, Side::kBuy, OrderType::kMarket, 0, 100));
  answer(rig, VenueEventKind::kOutcomeUnknown, request.order_id);
  EXPECT_EQ(rig.engine->find_order(request.order_id)->state, OrderState::kUnknown);
  answer(rig, VenueEventKind::kFill, request.order_id, "", 230030, 100);
  EXPECT_EQ(rig.engine->find_order(request.order_id)->state, OrderState::kFilled);
  EXPECT_EQ(rig.engine->position(kGold).net_size(), 100);
}

// Issue 11: a kill switch engaged while a limit order is in doubt cannot cancel it at once
// (nothing the venue could cancel is known), but the intent survives: when the venue finds the
// order working, the engine cancels it — the order does not stay live under the kill switch.
TEST(Engine, KillSwitchWhileAnOrderIsUnknownCancelsItOnceItShowsUpWorking) {
  EngineRig rig;
  rig.start();
  rig.quote(kGold, 230000, 230030);
  const VenueRequest place =
      place_by_hand(rig, new_order("k1", kGold, Side::kBuy, OrderType::kLimit, 229000, 100));
  answer(rig, VenueEventKind::kOutcomeUnknown, place.order_id);
  ASSERT_EQ(rig.engine->find_order(place.order_id)->state, OrderState::kUnknown);

  rig.engine->engage_kill_switch();
  rig.engine->do_work();
  VenueRequest none;
  EXPECT_FALSE(rig.requests->try_pop(none)) << "nothing to cancel at the venue while in doubt";
  const Order* order = rig.engine->find_order(place.order_id);
  EXPECT_EQ(order->state, OrderState::kUnknown);
  EXPECT_TRUE(order->cancel_wanted);

  answer(rig, VenueEventKind::kAccepted, place.order_id);
  VenueRequest cancel;
  ASSERT_TRUE(rig.requests->try_pop(cancel)) << "the order is working and nobody cancels it";
  EXPECT_EQ(cancel.kind, VenueRequestKind::kCancel);
  EXPECT_EQ(cancel.order_id, place.order_id);
  EXPECT_EQ(order->state, OrderState::kPendingCancel);

  answer(rig, VenueEventKind::kCanceled, place.order_id);
  EXPECT_EQ(order->state, OrderState::kCanceled);
  EXPECT_EQ(rig.engine->stats().illegal_transitions.load(), 0u);
}

// A cancel that went out while the order was unacknowledged, when the order then goes Unknown:
// the venue's "nothing to cancel" does not end the intent, and the order is cancelled once it
// is found working.
TEST(Engine, ACancelBeforeTheAcknowledgementSurvivesTheOrderGoingUnknown) {
  EngineRig rig;
  rig.start();
  rig.quote(kGold, 230000, 230030);
  const VenueRequest place =
      place_by_hand(rig, new_order("c1", kGold, Side::kBuy, OrderType::kLimit, 229000, 100));
  ASSERT_EQ(rig.engine->cancel(rig.port_source, place.order_id), RejectReason::kNone);
  VenueRequest first_cancel;
  ASSERT_TRUE(rig.requests->try_pop(first_cancel));
  EXPECT_EQ(first_cancel.kind, VenueRequestKind::kCancel);
  answer(rig, VenueEventKind::kOutcomeUnknown, place.order_id);
  answer(rig, VenueEventKind::kCancelRejected, place.order_id);
  EXPECT_EQ(rig.engine->find_order(place.order_id)->state, OrderState::kUnknown);
  answer(rig, VenueEventKind::kAccepted, place.order_id);
  VenueRequest second_cancel;
  ASSERT_TRUE(rig.requests->try_pop(second_cancel));
  EXPECT_EQ(second_cancel.kind, VenueRequestKind::kCancel);
  EXPECT_EQ(rig.engine->stats().illegal_transitions.load(), 0u);
}

// Issue 11: a zero, negative or crossed price is no market. It must not mark the position (a
// bid of 0 would show the whole long as lost) nor become the last quote risk checks against.
TEST(Engine, ZeroNegativeAndCrossedQuotesAreRefusedAndCounted) {
  EngineRig rig;
  rig.start();
  rig.quote(kGold, 230000, 230030);
  rig.send(new_order("m1", kGold, Side::kBuy, OrderType::kMarket, 0, 100));
  ASSERT_EQ(rig.engine->position(kGold).net_size(), 100);
  const int64_t unrealized = rig.engine->stats().instruments[kGold].unrealized_pnl.load();

  rig.quote(kGold, 0, 230030);       // zero bid
  rig.quote(kGold, -5, 230030);      // negative
  rig.quote(kGold, 230000, 0);       // zero ask
  rig.quote(kGold, 230100, 230000);  // crossed
  EXPECT_EQ(rig.engine->stats().quotes_refused.load(), 4u);
  ASSERT_NE(rig.engine->last_quote(kGold), nullptr);
  EXPECT_EQ(rig.engine->last_quote(kGold)->bid, 230000);
  EXPECT_EQ(rig.engine->last_quote(kGold)->ask, 230030);
  EXPECT_EQ(rig.engine->stats().instruments[kGold].unrealized_pnl.load(), unrealized);

  rig.quote(kGold, 230010, 230010);  // locked is a market
  EXPECT_EQ(rig.engine->stats().quotes_refused.load(), 4u);
  EXPECT_EQ(rig.engine->last_quote(kGold)->bid, 230010);
}

// Issue 11: the venue's name for a request (kSubmitted) is kept on the order until the venue
// names the order itself; it changes no state and tells the client nothing.
TEST(Engine, TheRequestsNameIsKeptUntilTheVenueNamesTheOrder) {
  EngineRig rig;
  rig.start();
  rig.quote(kGold, 230000, 230030);
  const VenueRequest place =
      place_by_hand(rig, new_order("n1", kGold, Side::kBuy, OrderType::kLimit, 229000, 100));
  rig.drain_updates();
  answer(rig, VenueEventKind::kSubmitted, place.order_id, "o_ref-7");
  const Order* order = rig.engine->find_order(place.order_id);
  EXPECT_EQ(order->state, OrderState::kPendingNew);
  EXPECT_EQ(std::string_view(order->venue_order_id.data()), "o_ref-7");
  EXPECT_TRUE(order->venue_id_is_reference);
  EXPECT_TRUE(rig.drain_updates().empty());
  EXPECT_EQ(rig.engine->stats().venue_references.load(), 1u);

  answer(rig, VenueEventKind::kOutcomeUnknown, place.order_id);
  const VenueRequest recovered = venue_request_for(*order, VenueRequestKind::kReconcile, 0);
  EXPECT_EQ(std::string_view(recovered.venue_order_id.data()), "o_ref-7");
  EXPECT_TRUE(recovered.venue_id_is_reference);

  answer(rig, VenueEventKind::kAccepted, place.order_id, "deal-7");
  EXPECT_EQ(std::string_view(order->venue_order_id.data()), "deal-7");
  EXPECT_FALSE(order->venue_id_is_reference);
  EXPECT_EQ(rig.engine->stats().illegal_transitions.load(), 0u);
}

// A strategy that records every callback it receives.
class RecordingStrategy final : public Strategy {
 public:
  std::string_view name() const override { return "recording"; }
  void on_start(StrategyContext& context) override {
    calls.push_back("start");
    context.subscribe(kGold);
    context.set_timer(1);  // due at the first timer check
  }
  void on_quote(StrategyContext& context, const Quote& quote) override {
    calls.push_back("quote");
    if (!submitted) {
      submitted = true;
      OrderRequest request;
      request.instrument = quote.instrument;
      request.side = Side::kSell;
      request.size = 20;
      result = context.submit(request);
    }
  }
  void on_order_update(StrategyContext&, const OrderUpdate& update) override {
    calls.push_back(std::string("update:") + std::string(to_string(update.state)));
  }
  void on_fill(StrategyContext& context, const OrderUpdate& update) override {
    calls.push_back("fill");
    fill_position = context.position(update.instrument).net_size();
  }
  void on_timer(StrategyContext&, int64_t) override { ++timers; }
  void on_stop(StrategyContext&) override { calls.push_back("stop"); }

  std::vector<std::string> calls;
  bool submitted = false;
  SubmitResult result;
  SizeUnits fill_position = 0;
  int timers = 0;
};

TEST(Engine, StrategyReceivesCallbacksInPipelineOrder) {
  EngineRig rig;
  RecordingStrategy strategy;
  rig.engine->add_strategy(strategy);
  rig.start();
  rig.quote(kGold, 230000, 230030);
  rig.engine->request_shutdown();
  rig.pump();

  EXPECT_TRUE(strategy.result.accepted());
  const std::vector<std::string> expected = {
      "start", "quote", "update:PendingNew", "update:New", "update:Filled", "fill", "stop"};
  EXPECT_EQ(strategy.calls, expected);
  EXPECT_EQ(strategy.fill_position, -20);  // the position already includes the fill
  EXPECT_GE(strategy.timers, 1);
  EXPECT_TRUE(rig.engine->shutdown_done());
}

TEST(Engine, StrategyDoesNotReceiveQuotesItDidNotSubscribeTo) {
  EngineRig rig;
  RecordingStrategy strategy;
  rig.engine->add_strategy(strategy);
  rig.start();
  rig.quote(1, 108500, 108506);  // EURUSD, not subscribed
  EXPECT_EQ(strategy.calls, std::vector<std::string>{"start"});
}

TEST(Engine, MovingAverageCrossoverGoesLongOnAnUptrendAndShortOnADowntrend) {
  EngineRig rig;
  MovingAverageCrossover strategy({"GOLD", 1.0, 3, 6});
  rig.engine->add_strategy(strategy);
  rig.start();
  PriceUnits mid = 230000;
  for (int i = 0; i < 10; ++i) {  // rising
    mid += 100;
    rig.quote(kGold, mid, mid + 10);
  }
  EXPECT_EQ(strategy.signal(), 1);
  EXPECT_EQ(rig.engine->position(kGold).net_size(), 100);  // long 1.00
  for (int i = 0; i < 10; ++i) {                           // falling
    mid -= 100;
    rig.quote(kGold, mid, mid + 10);
  }
  EXPECT_EQ(strategy.signal(), -1);
  EXPECT_EQ(rig.engine->position(kGold).net_size(), -100);  // short 1.00
  EXPECT_EQ(strategy.orders_submitted(), 2u);
}

TEST(Engine, QuoterKeepsOneBidAndOneOfferAroundTheMid) {
  EngineRig rig;
  SimpleQuoter strategy({"EURUSD", 1000, 10, 10'000, 1});  // 10 bps away, timer 1 ms
  rig.engine->add_strategy(strategy);
  rig.start();
  rig.quote(1, 108500, 108506);  // mid 1.08503
  strategy.on_timer(rig.engine->context_of(1), 0);
  rig.pump();
  const Order* bid = rig.engine->find_order(strategy.live_bid());
  const Order* ask = rig.engine->find_order(strategy.live_ask());
  ASSERT_NE(bid, nullptr);
  ASSERT_NE(ask, nullptr);
  // 10 bps of 1.08503 = 0.00108503 → bid 1.08394 (rounded down), ask 1.08612 (rounded up).
  EXPECT_EQ(bid->limit_price, 108394);
  EXPECT_EQ(ask->limit_price, 108612);
  EXPECT_EQ(bid->state, OrderState::kNew);
  EXPECT_EQ(ask->state, OrderState::kNew);
}

}  // namespace
}  // namespace qt
