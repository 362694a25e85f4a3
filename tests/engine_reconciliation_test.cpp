// Reconciliation with the broker's positions (engine/reconciliation.cpp), the venue played by
// hand: the engine settles a lasting difference from the broker's side — the orders in doubt
// that explain it in exactly one way, else a position adjustment with an alert and the
// instrument REDUCING — and never before a difference has lasted.
#include <gtest/gtest.h>

#include <string_view>

#include "engine/engine.hpp"
#include "tests/engine_test_support.hpp"

namespace qt {
namespace {

using testing::EngineRig;
using testing::new_order;

constexpr InstrumentId kGold = 0;

// Grace 0: a difference is settled at the second report that still shows it.
EngineRig rig_without_grace() {
  return EngineRig(testing::permissive_limits(), 1024, /*reconcile_grace_ns=*/0);
}

OrderId place_in_doubt(EngineRig& rig, std::string_view client_id, Side side, OrderType type,
                       SizeUnits size) {
  rig.commands->try_push(
      new_order(client_id, kGold, side, type, type == OrderType::kLimit ? 229000 : 0, size));
  rig.engine->do_work();
  VenueRequest place;
  EXPECT_TRUE(rig.requests->try_pop(place));
  VenueEvent unknown;
  unknown.kind = VenueEventKind::kOutcomeUnknown;
  unknown.order_id = place.order_id;
  rig.events->try_push(unknown);
  rig.engine->do_work();
  EXPECT_EQ(rig.engine->find_order(place.order_id)->state, OrderState::kUnknown);
  return place.order_id;
}

void report(EngineRig& rig, SizeUnits broker_net, PriceUnits level, bool settled = true) {
  VenueEvent e;
  e.kind = VenueEventKind::kPositionReport;
  e.instrument = kGold;
  e.fill_size = broker_net;
  e.fill_price = level;
  e.settled = settled;
  rig.events->try_push(e);
  rig.engine->do_work();
}

std::vector<VenueRequest> requests_of(EngineRig& rig, VenueRequestKind kind) {
  std::vector<VenueRequest> out;
  rig.requests->drain([&](const VenueRequest& r) {
    if (r.kind == kind) out.push_back(r);
  });
  return out;
}

TEST(EngineReconciliation, AnOrderInDoubtThePositionExplainsIsSettledExecuted) {
  EngineRig rig = rig_without_grace();
  rig.start();
  rig.quote(kGold, 230000, 230030);
  const OrderId id = place_in_doubt(rig, "u1", Side::kBuy, OrderType::kMarket, 100);

  report(rig, 100, 230030);
  EXPECT_EQ(rig.engine->find_order(id)->state, OrderState::kUnknown)
      << "one report settles nothing";
  report(rig, 100, 230030);
  const Order* order = rig.engine->find_order(id);
  EXPECT_EQ(order->state, OrderState::kReconciled);
  EXPECT_EQ(order->filled_size, 100);
  EXPECT_EQ(order->average_fill_price, 230030);
  EXPECT_EQ(rig.engine->position(kGold).net_size(), 100);
  EXPECT_EQ(rig.engine->stats().position_adjustments.load(), 0u);
  EXPECT_EQ(rig.engine->stats().live_orders.load(), 0u);
  const std::vector<VenueRequest> forget = requests_of(rig, VenueRequestKind::kForget);
  ASSERT_EQ(forget.size(), 1u) << "the venue must stop tracking it and free its lane";
  EXPECT_EQ(forget[0].order_id, id);
}

TEST(EngineReconciliation, AnOrderInDoubtThePositionRulesOutIsSettledNotExecuted) {
  EngineRig rig = rig_without_grace();
  rig.start();
  rig.quote(kGold, 230000, 230030);
  const OrderId id = place_in_doubt(rig, "u1", Side::kSell, OrderType::kMarket, 100);
  report(rig, 0, 0);
  report(rig, 0, 0);
  const Order* order = rig.engine->find_order(id);
  EXPECT_EQ(order->state, OrderState::kReconciled);
  EXPECT_EQ(order->filled_size, 0);
  EXPECT_EQ(rig.engine->position(kGold).net_size(), 0);
  EXPECT_EQ(rig.engine->stats().position_adjustments.load(), 0u);
}

TEST(EngineReconciliation, TwoExplanationsAreNotGuessedBetween) {
  // A buy and a sell of the same size in doubt, the broker flat: both executed, or neither.
  EngineRig rig = rig_without_grace();
  rig.start();
  rig.quote(kGold, 230000, 230030);
  const OrderId buy = place_in_doubt(rig, "b", Side::kBuy, OrderType::kMarket, 100);
  const OrderId sell = place_in_doubt(rig, "s", Side::kSell, OrderType::kMarket, 100);
  report(rig, 0, 0);
  report(rig, 0, 0);
  for (const OrderId id : {buy, sell}) {
    const Order* order = rig.engine->find_order(id);
    EXPECT_EQ(order->state, OrderState::kReconciled);
    EXPECT_EQ(order->filled_size, 0) << "no fill is invented for either";
  }
  EXPECT_EQ(rig.engine->stats().orders_reconciled.load(), 2u);
  EXPECT_EQ(rig.engine->position(kGold).net_size(), 0);
  EXPECT_EQ(rig.engine->stats().position_adjustments.load(), 0u) << "the books were equal";
}

TEST(EngineReconciliation, ADifferenceNoOrderExplainsIsAdjustedAndHaltsTheInstrument) {
  EngineRig rig = rig_without_grace();
  rig.start();
  rig.quote(kGold, 230000, 230030);
  report(rig, 300, 229500);  // a trade made by hand at the broker
  EXPECT_EQ(rig.engine->position(kGold).net_size(), 0);
  report(rig, 300, 229500);
  EXPECT_EQ(rig.engine->position(kGold).net_size(), 300);
  EXPECT_EQ(rig.engine->position(kGold).average_price(), 229500);
  EXPECT_EQ(rig.engine->stats().position_adjustments.load(), 1u);
  EXPECT_EQ(rig.engine->stats().instruments[kGold].reducing.load(), 1);

  rig.send(new_order("more", kGold, Side::kBuy, OrderType::kMarket, 0, 100));
  EXPECT_EQ(rig.drain_updates().back().reason, RejectReason::kReducingOnly);
  rig.send(new_order("less", kGold, Side::kSell, OrderType::kMarket, 0, 100));
  EXPECT_EQ(rig.drain_updates().back().state, OrderState::kFilled);

  rig.engine->set_trading_state(TradingState::kActive);  // the operator has looked
  rig.send(new_order("again", kGold, Side::kBuy, OrderType::kMarket, 0, 100));
  EXPECT_EQ(rig.drain_updates().back().state, OrderState::kFilled);
}

TEST(EngineReconciliation, APassingOrUnsettledDifferenceIsNotActedOn) {
  EngineRig rig(testing::permissive_limits(), 1024, /*reconcile_grace_ns=*/60'000'000'000);
  rig.start();
  rig.quote(kGold, 230000, 230030);
  const OrderId id = place_in_doubt(rig, "u1", Side::kBuy, OrderType::kMarket, 100);
  for (int i = 0; i < 5; ++i) report(rig, 100, 230030);  // within the grace period
  EXPECT_EQ(rig.engine->find_order(id)->state, OrderState::kUnknown);

  EngineRig unsettled = rig_without_grace();
  unsettled.start();
  unsettled.quote(kGold, 230000, 230030);
  const OrderId other = place_in_doubt(unsettled, "u2", Side::kBuy, OrderType::kMarket, 100);
  for (int i = 0; i < 5; ++i) report(unsettled, 100, 230030, /*settled=*/false);
  EXPECT_EQ(unsettled.engine->find_order(other)->state, OrderState::kUnknown)
      << "the venue was still finding out: nothing may be inferred";
  report(unsettled, 0, 0);  // the broker's side moved: the picture starts again
  report(unsettled, 100, 230030);
  EXPECT_EQ(unsettled.engine->find_order(other)->state, OrderState::kUnknown);
}

TEST(EngineReconciliation, AnOrphanWorkingOrderIsAdoptedAndTheKillSwitchCancelsIt) {
  EngineRig rig = rig_without_grace();
  rig.start();
  rig.quote(kGold, 230000, 230030);
  VenueEvent orphan;
  orphan.kind = VenueEventKind::kOrphanWorkingOrder;
  orphan.instrument = kGold;
  orphan.fill_size = -200;  // a sell
  orphan.fill_price = 231000;
  const std::string_view deal = "deal-placed-by-hand";
  std::copy(deal.begin(), deal.end(), orphan.venue_order_id.begin());
  rig.events->try_push(orphan);
  rig.engine->do_work();

  const std::vector<VenueRequest> tracked = requests_of(rig, VenueRequestKind::kReconcile);
  ASSERT_EQ(tracked.size(), 1u) << "the venue is asked to track it";
  const Order* order = rig.engine->find_order(tracked[0].order_id);
  ASSERT_NE(order, nullptr);
  EXPECT_EQ(order->state, OrderState::kNew);
  EXPECT_EQ(order->side, Side::kSell);
  EXPECT_EQ(order->size, 200);
  EXPECT_EQ(order->limit_price, 231000);
  EXPECT_EQ(std::string_view(order->venue_order_id.data()), deal);
  EXPECT_EQ(rig.engine->stats().orphans_adopted.load(), 1u);

  rig.engine->engage_kill_switch();
  rig.engine->do_work();
  const std::vector<VenueRequest> cancels = requests_of(rig, VenueRequestKind::kCancel);
  ASSERT_EQ(cancels.size(), 1u);
  EXPECT_EQ(cancels[0].order_id, order->id);
}

}  // namespace
}  // namespace qt
