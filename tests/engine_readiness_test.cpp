// Engine readiness after recovery (engine/engine.hpp, "Readiness"): an engine that recovered
// from its journal refuses new orders with not_ready and keeps its strategies unstarted until
// the venue answers the start-up reconciliation; cancels of recovered orders flow meanwhile;
// the transition is not journaled and replay and restore are unaffected by it. An engine with
// nothing to recover from (no reconcile_recovered_orders()) is ready at once.
//
// The test plays the journal thread (drains the ring, publishes the durable sequence) and, where
// the venue's timing matters, the venue too; elsewhere the PaperVenue answers.
#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <vector>

#include "engine/clock.hpp"
#include "persist/engine_journal.hpp"
#include "persist/journal_entry.hpp"
#include "persist/records.hpp"
#include "tests/engine_journal_support.hpp"
#include "tests/engine_test_support.hpp"

namespace qt {
namespace {

using persist::JournalEntry;
using persist::RecordType;
using testing::EngineRig;
using testing::new_order;

constexpr InstrumentId kGold = 0;

// Subscribes to GOLD on start; once armed, buys the minimum at market on every quote.
class BuyOnQuote final : public Strategy {
 public:
  std::string_view name() const override { return "buy_on_quote"; }
  void on_start(StrategyContext& context) override {
    ++starts;
    context.subscribe(kGold);
  }
  void on_quote(StrategyContext& context, const Quote&) override {
    ++quotes;
    if (!armed) return;
    OrderRequest request;
    request.instrument = kGold;
    request.size = 10;
    results.push_back(context.submit(request));
  }
  void on_order_update(StrategyContext&, const OrderUpdate&) override { ++updates; }
  void on_stop(StrategyContext&) override { ++stops; }

  bool armed = false;
  int starts = 0;
  int quotes = 0;
  int updates = 0;
  int stops = 0;
  std::vector<SubmitResult> results;
};

struct JournaledEngine : testing::JournalTap {
  EngineRig rig;
  BuyOnQuote strategy;

  // Same set-up in every life (strategy = source 1, client port = source 2), so that recovered
  // orders keep their sources.
  JournaledEngine() { rig.engine->add_strategy(strategy); }

  void attach(uint64_t next_sequence) { attach_to(*rig.engine, next_sequence); }
  // The engine and the journal, the venue not running.
  void engine_only() {
    for (int i = 0; i < 50; ++i) {
      const std::size_t before = records.size();
      const int work = rig.engine->do_work();
      journal_pass();
      if (work == 0 && records.size() == before) return;
    }
  }
  // Everyone, the PaperVenue included.
  void pump() {
    for (int i = 0; i < 200; ++i) {
      const std::size_t before = records.size();
      const int work = rig.engine->do_work() + rig.venue->do_work();
      journal_pass();
      if (work == 0 && records.size() == before) return;
    }
  }
  void quote(PriceUnits bid, PriceUnits ask, bool with_venue = true) {
    Quote q;
    q.instrument = kGold;
    q.bid = bid;
    q.ask = ask;
    q.bid_size = q.ask_size = 1000;
    rig.engine_quotes->try_push(q);
    rig.venue_quotes->try_push(q);
    with_venue ? pump() : engine_only();
  }
  void send(const ClientCommand& command, bool with_venue = true) {
    rig.commands->try_push(command);
    with_venue ? pump() : engine_only();
  }
  std::vector<VenueRequest> take_requests() {
    std::vector<VenueRequest> out;
    rig.requests->drain([&](const VenueRequest& r) { out.push_back(r); });
    return out;
  }
  std::size_t count_rejected(RejectReason reason) const {
    std::size_t n = 0;
    for (const JournalEntry& e : records) {
      if (e.record_type() != RecordType::kOrderRejected) continue;
      const auto record =
          persist::payload_as<persist::OrderRejectedRecord>({e.payload.data(), e.size});
      n += record.reason == reason ? 1 : 0;
    }
    return n;
  }
};

ClientCommand cancel_of(std::string_view client_id) {
  ClientCommand command;
  command.kind = CommandKind::kCancelOrder;
  command.cancel.client_order_id = ClientOrderId::from(client_id);
  return command;
}

const OrderUpdate* find_update(const std::vector<OrderUpdate>& updates, std::string_view id) {
  for (const OrderUpdate& u : updates) {
    if (u.client_order_id.view() == id) return &u;
  }
  return nullptr;
}

// A first life that leaves two live orders in the journal: "rest", a limit buy at 2290.00
// working at the venue (order 1, New), and "lost", a market buy the venue never heard of
// (order 2, PendingNew: sent, no answer).
std::vector<JournalEntry> first_life() {
  JournaledEngine first;
  first.attach(1);
  first.rig.start();
  first.quote(230000, 230030);
  first.send(new_order("rest", kGold, Side::kBuy, OrderType::kLimit, 229000, 100));
  first.auto_durable = false;  // the market order's records never become durable: never sent
  first.send(new_order("lost", kGold, Side::kBuy, OrderType::kMarket, 0, 100));
  EXPECT_EQ(first.rig.engine->find_order(1)->state, OrderState::kNew);
  EXPECT_EQ(first.rig.engine->find_order(2)->state, OrderState::kPendingNew);
  return first.records;
}

// The second life: replayed, journal attached, recovered orders queued, started.
void recover(JournaledEngine& engine, const std::vector<JournalEntry>& journal) {
  for (const JournalEntry& e : journal) {
    ASSERT_TRUE(persist::replay_record(*engine.rig.engine, e).ok());
  }
  engine.attach(journal.back().sequence + 1);
  engine.rig.engine->reconcile_recovered_orders();
  engine.rig.start();
}

// Issue 11: the broker's deals the venue reports as made by an order (kDealOwned) are journaled,
// rebuilt by replay, and handed back to the venue at the next start — after the recovered
// orders, behind where the list is complete from, ahead of kStartupReconcile — so that it can
// subtract them from the activity history when it looks for an order in doubt.
TEST(EngineReadiness, OwnedDealsAreJournaledAndHandedToTheVenueAfterARestart) {
  std::vector<JournalEntry> journal;
  const int64_t learned_ms = wall_epoch_ms();
  {
    JournaledEngine first;
    first.attach(1);
    first.rig.start();
    first.quote(230000, 230030);
    first.send(new_order("rest", kGold, Side::kBuy, OrderType::kLimit, 229000, 100));
    VenueEvent owned;
    owned.kind = VenueEventKind::kDealOwned;
    owned.order_id = 1;
    owned.instrument = kGold;
    owned.opened = true;
    owned.fill_price = learned_ms;
    std::memcpy(owned.venue_order_id.data(), "pos-1", 5);
    ASSERT_TRUE(first.rig.events->try_push(owned));
    first.engine_only();
    journal = first.records;
  }
  bool journaled = false;
  for (const JournalEntry& e : journal) {
    if (e.record_type() != RecordType::kVenueEvent) continue;
    const VenueEvent event =
        persist::payload_as<persist::VenueEventRecord>({e.payload.data(), e.size}).event;
    journaled |= event.kind == VenueEventKind::kDealOwned && event.order_id == 1;
  }
  ASSERT_TRUE(journaled);

  JournaledEngine after;
  recover(after, journal);
  after.engine_only();
  const EngineState state = after.rig.engine->capture_state();
  ASSERT_EQ(state.owned_deals.size(), 1u);
  EXPECT_EQ(state.owned_deals[0].order_id, 1u);
  EXPECT_EQ(state.owned_deals[0].epoch_ms, learned_ms);
  EXPECT_EQ(state.owned_deals[0].side, Side::kBuy);
  EXPECT_TRUE(state.owned_deals[0].opened);
  const std::vector<VenueRequest> requests = after.take_requests();
  ASSERT_EQ(requests.size(), 4u);
  EXPECT_EQ(requests[0].kind, VenueRequestKind::kReconcile);  // order 1, still working
  EXPECT_EQ(requests[1].kind, VenueRequestKind::kOwnedDeal);
  EXPECT_TRUE(requests[1].owned_deals_complete_since);
  EXPECT_LE(requests[1].sent_epoch_ms, learned_ms);
  EXPECT_EQ(requests[2].kind, VenueRequestKind::kOwnedDeal);
  EXPECT_FALSE(requests[2].owned_deals_complete_since);
  EXPECT_EQ(requests[2].order_id, 1u);
  EXPECT_EQ(requests[2].instrument, kGold);
  EXPECT_EQ(requests[2].side, Side::kBuy);
  EXPECT_TRUE(requests[2].deal_opened);
  EXPECT_STREQ(requests[2].venue_order_id.data(), "pos-1");
  EXPECT_EQ(requests[2].sent_epoch_ms, learned_ms);
  EXPECT_EQ(requests[3].kind, VenueRequestKind::kStartupReconcile);
}

TEST(EngineReadiness, AnEngineWithNothingToRecoverIsReadyAtOnce) {
  EngineRig rig;
  rig.start();
  EXPECT_TRUE(rig.engine->ready());
  EXPECT_EQ(rig.engine->stats().readiness.load(), EngineReadiness::kReady);
  rig.quote(kGold, 230000, 230030);
  rig.send(new_order("a", kGold, Side::kBuy, OrderType::kMarket, 0, 100));
  const std::vector<OrderUpdate> updates = rig.drain_updates();
  ASSERT_FALSE(updates.empty());
  EXPECT_EQ(updates.back().state, OrderState::kFilled);
}

TEST(EngineReadiness, NewOrdersAreRefusedNotReadyUntilTheVenueHasReconciled) {
  const std::vector<JournalEntry> journal = first_life();
  JournaledEngine after;
  recover(after, journal);
  EXPECT_FALSE(after.rig.engine->ready());
  EXPECT_EQ(after.rig.engine->stats().readiness.load(), EngineReadiness::kReconciling);
  EXPECT_EQ(after.rig.engine->stats().recovered_orders.load(), 2u);

  // A client order arrives before the venue has answered: refused, journaled as refused.
  after.quote(230000, 230030, /*with_venue=*/false);
  after.send(new_order("early", kGold, Side::kBuy, OrderType::kMarket, 0, 100),
             /*with_venue=*/false);
  std::vector<OrderUpdate> updates = after.rig.drain_updates();
  const OrderUpdate* early = find_update(updates, "early");
  ASSERT_NE(early, nullptr);
  EXPECT_EQ(early->state, OrderState::kRejected);
  EXPECT_EQ(early->reason, RejectReason::kNotReady);
  EXPECT_EQ(after.count_rejected(RejectReason::kNotReady), 1u);
  EXPECT_EQ(
      after.rig.engine->stats().rejects[static_cast<std::size_t>(RejectReason::kNotReady)].load(),
      1u);
  EXPECT_EQ(after.rig.engine->find_order(3), nullptr);  // no id was assigned

  // What the venue has been asked: the two recovered orders, where the journal's owned deals
  // are complete from (a paper venue made none), then the start-up reconcile — and no new
  // order.
  const std::vector<VenueRequest> requests = after.take_requests();
  ASSERT_EQ(requests.size(), 4u);
  EXPECT_EQ(requests[0].kind, VenueRequestKind::kReconcile);
  EXPECT_EQ(requests[0].order_id, 1u);
  EXPECT_EQ(requests[1].kind, VenueRequestKind::kReconcile);
  EXPECT_EQ(requests[1].order_id, 2u);
  EXPECT_EQ(requests[2].kind, VenueRequestKind::kOwnedDeal);
  EXPECT_TRUE(requests[2].owned_deals_complete_since);
  EXPECT_GT(requests[2].sent_epoch_ms, 0);
  EXPECT_EQ(requests[3].kind, VenueRequestKind::kStartupReconcile);
  for (const VenueRequest& r : requests) after.rig.requests->try_push(r);  // hand them on

  // The venue reconciles (the paper book is gone: both recovered orders end canceled) and
  // reports; the engine is ready and the same order is accepted.
  after.pump();
  EXPECT_TRUE(after.rig.engine->ready());
  EXPECT_EQ(after.rig.engine->stats().readiness.load(), EngineReadiness::kReady);
  EXPECT_EQ(after.rig.engine->stats().unknown_at_ready.load(), 0u);
  EXPECT_GT(after.rig.engine->stats().ready_after_ns.load(), 0);
  EXPECT_EQ(after.rig.engine->find_order(1)->state, OrderState::kCanceled);
  EXPECT_EQ(after.rig.engine->find_order(2)->state, OrderState::kCanceled);
  after.send(new_order("late", kGold, Side::kBuy, OrderType::kMarket, 0, 100));
  updates = after.rig.drain_updates();
  const OrderUpdate* late = find_update(updates, "late");
  ASSERT_NE(late, nullptr);
  EXPECT_EQ(updates.back().client_order_id.view(), "late");
  EXPECT_EQ(updates.back().state, OrderState::kFilled);
  EXPECT_EQ(after.rig.engine->find_order(3)->client_order_id.view(), "late");
}

TEST(EngineReadiness, CancelsOfRecoveredOrdersFlowWhileNotReady) {
  const std::vector<JournalEntry> journal = first_life();
  JournaledEngine after;
  recover(after, journal);
  after.send(cancel_of("rest"), /*with_venue=*/false);
  EXPECT_FALSE(after.rig.engine->ready());
  EXPECT_EQ(after.rig.engine->find_order(1)->state, OrderState::kPendingCancel);
  const std::vector<VenueRequest> requests = after.take_requests();
  ASSERT_EQ(requests.size(), 5u);
  EXPECT_EQ(requests[4].kind, VenueRequestKind::kCancel);
  EXPECT_EQ(requests[4].order_id, 1u);
  EXPECT_EQ(
      after.rig.engine->stats().rejects[static_cast<std::size_t>(RejectReason::kNotReady)].load(),
      0u);
}

TEST(EngineReadiness, ReadyWithTheUnresolvedUnknownOrdersCountedAndStillLive) {
  const std::vector<JournalEntry> journal = first_life();
  JournaledEngine after;
  recover(after, journal);
  after.engine_only();
  // A venue that confirms order 1 working and cannot resolve order 2 in its time limit.
  const std::vector<VenueRequest> requests = after.take_requests();
  ASSERT_EQ(requests.size(), 4u);
  EXPECT_EQ(after.rig.engine->find_order(2)->state, OrderState::kUnknown);
  VenueEvent reconciled;
  reconciled.kind = VenueEventKind::kStartupReconciled;
  reconciled.fill_size = 1;  // flagged: order 2
  after.rig.events->try_push(reconciled);
  after.engine_only();
  EXPECT_TRUE(after.rig.engine->ready());
  EXPECT_EQ(after.rig.engine->stats().unknown_at_ready.load(), 1u);
  EXPECT_EQ(after.rig.engine->find_order(2)->state, OrderState::kUnknown);
  EXPECT_EQ(after.rig.engine->stats().live_orders.load(), 2u);
  // The report is not a record: nothing of it to replay.
  for (const JournalEntry& e : after.records) {
    if (e.record_type() != RecordType::kVenueEvent) continue;
    const auto record = persist::payload_as<persist::VenueEventRecord>({e.payload.data(), e.size});
    EXPECT_NE(record.event.kind, VenueEventKind::kStartupReconciled);
  }
}

TEST(EngineReadiness, OrdersTheVenueLeftUnresolvedCountEvenWhenTheEngineHoldsThemAsNew) {
  const std::vector<JournalEntry> journal = first_life();
  JournaledEngine after;
  recover(after, journal);
  after.engine_only();
  ASSERT_EQ(after.take_requests().size(), 4u);
  VenueEvent reconciled;
  reconciled.kind = VenueEventKind::kStartupReconciled;
  reconciled.fill_size = 2;  // order 2 (Unknown here) and order 1 (New here)
  after.rig.events->try_push(reconciled);
  after.engine_only();
  EXPECT_TRUE(after.rig.engine->ready());
  EXPECT_EQ(after.rig.engine->stats().unknown_at_ready.load(), 2u);
}

TEST(EngineReadiness, StrategiesStartOnlyOnceTheEngineIsReady) {
  const std::vector<JournalEntry> journal = first_life();
  JournaledEngine after;
  after.strategy.armed = true;
  recover(after, journal);

  after.quote(230000, 230030, /*with_venue=*/false);
  EXPECT_EQ(after.strategy.starts, 0);
  EXPECT_EQ(after.strategy.quotes, 0);
  EXPECT_TRUE(after.strategy.results.empty());

  after.pump();  // the venue reconciles; the engine gets ready and starts the strategy
  ASSERT_TRUE(after.rig.engine->ready());
  EXPECT_EQ(after.strategy.starts, 1);
  after.quote(230000, 230030);
  EXPECT_EQ(after.strategy.quotes, 1);
  ASSERT_EQ(after.strategy.results.size(), 1u);
  EXPECT_TRUE(after.strategy.results[0].accepted());
  EXPECT_EQ(after.rig.engine->find_order(after.strategy.results[0].order_id)->state,
            OrderState::kFilled);
}

TEST(EngineReadiness, AStrategyThatNeverStartedIsNotStoppedAndNeverStarts) {
  const std::vector<JournalEntry> journal = first_life();
  JournaledEngine after;
  recover(after, journal);
  after.rig.engine->request_shutdown();
  after.engine_only();
  EXPECT_TRUE(after.rig.engine->shutdown_done());
  EXPECT_EQ(after.strategy.stops, 0);
  after.pump();  // the venue's report arrives after the shutdown
  EXPECT_EQ(after.strategy.starts, 0);
}

TEST(EngineReadiness, ReplayAndRestoreOfARunWithNotReadyRefusalsRebuildTheSameState) {
  std::vector<JournalEntry> journal = first_life();
  JournaledEngine after;
  recover(after, journal);
  after.quote(230000, 230030, /*with_venue=*/false);
  after.send(new_order("early", kGold, Side::kBuy, OrderType::kMarket, 0, 100),
             /*with_venue=*/false);
  after.pump();
  after.send(new_order("late", kGold, Side::kSell, OrderType::kMarket, 0, 30));
  ASSERT_TRUE(after.rig.engine->ready());
  journal.insert(journal.end(), after.records.begin(), after.records.end());

  // A clean replay of both lives: never asked to reconcile, so ready; same state.
  JournaledEngine replayed;
  for (const JournalEntry& e : journal) {
    ASSERT_TRUE(persist::replay_record(*replayed.rig.engine, e).ok()) << "record " << e.sequence;
  }
  EXPECT_TRUE(replayed.rig.engine->ready());
  const EngineState live = after.rig.engine->capture_state();
  const EngineState rebuilt = replayed.rig.engine->capture_state();
  EXPECT_EQ(rebuilt.journal_sequence, live.journal_sequence);
  EXPECT_EQ(rebuilt.last_order_id, live.last_order_id);
  ASSERT_EQ(rebuilt.orders.size(), live.orders.size());
  for (std::size_t i = 0; i < live.orders.size(); ++i) {
    EXPECT_EQ(rebuilt.orders[i].id, live.orders[i].id);
    EXPECT_EQ(rebuilt.orders[i].state, live.orders[i].state);
    EXPECT_EQ(rebuilt.orders[i].filled_size, live.orders[i].filled_size);
    EXPECT_EQ(rebuilt.orders[i].client_order_id.view(), live.orders[i].client_order_id.view());
  }
  EXPECT_EQ(rebuilt.positions[kGold].net_size(), live.positions[kGold].net_size());
  EXPECT_EQ(rebuilt.positions[kGold].net_size(), -30);
  EXPECT_EQ(rebuilt.open_buy_size, live.open_buy_size);
  EXPECT_EQ(rebuilt.open_sell_size, live.open_sell_size);
  EXPECT_EQ(replayed.rig.engine->stats()
                .rejects[static_cast<std::size_t>(RejectReason::kNotReady)]
                .load(),
            1u);

  // Restored from that state (a snapshot), a fresh engine is ready too until asked to reconcile.
  JournaledEngine restored;
  ASSERT_TRUE(restored.rig.engine->restore_state(rebuilt).ok());
  EXPECT_TRUE(restored.rig.engine->ready());
  restored.rig.engine->reconcile_recovered_orders();
  EXPECT_FALSE(restored.rig.engine->ready());
  EXPECT_EQ(restored.rig.engine->stats().recovered_orders.load(), 0u);  // nothing live
}

TEST(EngineReadiness, WithNothingRecoveredTheVenueIsStillAskedAndTheEngineGetsReadyPromptly) {
  JournaledEngine engine;
  engine.attach(1);
  engine.rig.engine->reconcile_recovered_orders();
  engine.rig.start();
  EXPECT_FALSE(engine.rig.engine->ready());
  engine.pump();  // one round trip through the PaperVenue
  EXPECT_TRUE(engine.rig.engine->ready());
  EXPECT_EQ(engine.rig.engine->stats().recovered_orders.load(), 0u);
  EXPECT_EQ(engine.strategy.starts, 1);
}

}  // namespace
}  // namespace qt
