// The engine with a journal: write-ahead (nothing leaves before its record is durable),
// back-pressure instead of loss when the journal is full, replay of the journal rebuilding the
// same state, state capture/restore, and the hand-over of recovered live orders to the venue.
// The test plays the journal thread: it drains the ring and publishes the durable sequence.
#include "persist/engine_journal.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <vector>

#include "persist/journal_entry.hpp"
#include "persist/records.hpp"
#include "tests/engine_journal_support.hpp"
#include "tests/engine_test_support.hpp"
#include "tests/persist/snapshot_test_support.hpp"

namespace qt {
namespace {

using persist::JournalEntry;
using persist::RecordType;
using testing::EngineRig;
using testing::new_order;

constexpr InstrumentId kGold = 0;

struct JournaledRig : testing::JournalTap {
  EngineRig rig;

  // next_sequence 0: no journal yet (recovery replays first, then attach()es).
  explicit JournaledRig(uint64_t next_sequence = 1, std::size_t order_capacity = 1024)
      : rig(testing::permissive_limits(), order_capacity) {
    if (next_sequence != 0) attach(next_sequence);
  }
  void attach(uint64_t next_sequence) { attach_to(*rig.engine, next_sequence); }
  void start() { rig.start(); }

  void pump() {
    for (int i = 0; i < 200; ++i) {
      const int work = rig.engine->do_work() + rig.venue->do_work();
      const std::size_t before = records.size();
      journal_pass();
      if (work == 0 && records.size() == before) return;
    }
  }
  void quote(PriceUnits bid, PriceUnits ask) {
    rig.quote(kGold, bid, ask);
    pump();
  }
  void send(const ClientCommand& command) {
    rig.commands->try_push(command);
    pump();
  }
};

ClientCommand cancel_of(std::string_view client_id) {
  ClientCommand command;
  command.kind = CommandKind::kCancelOrder;
  command.cancel.client_order_id = ClientOrderId::from(client_id);
  return command;
}

TEST(EngineJournal, NothingLeavesTheEngineBeforeItsRecordIsDurable) {
  JournaledRig j;
  j.auto_durable = false;
  j.start();
  j.quote(230000, 230030);
  j.send(new_order("w1", kGold, Side::kBuy, OrderType::kMarket, 0, 100));

  // Admitted and journaled (started, received, sent), but neither the venue nor the client
  // has heard of it.
  EXPECT_EQ(j.count(RecordType::kEngineStarted), 1u);
  EXPECT_EQ(j.count(RecordType::kOrderReceived), 1u);
  EXPECT_EQ(j.count(RecordType::kSentToVenue), 1u);
  EXPECT_EQ(j.rig.venue->orders_placed(), 0u);
  EXPECT_TRUE(j.rig.drain_updates().empty());
  EXPECT_EQ(j.rig.engine->stats().outputs_waiting.load(), 2u);  // request + ack

  // The order's records become durable: the ack and the venue request go out; the venue's
  // answers are journaled and wait in turn.
  j.durable.store(j.records.back().sequence);
  j.pump();
  EXPECT_EQ(j.rig.venue->orders_placed(), 1u);
  std::vector<OrderUpdate> updates = j.rig.drain_updates();
  ASSERT_EQ(updates.size(), 1u);
  EXPECT_EQ(updates[0].state, OrderState::kPendingNew);
  EXPECT_EQ(j.count(RecordType::kVenueEvent), 2u);  // accepted, filled

  j.durable.store(j.records.back().sequence);
  j.pump();
  updates = j.rig.drain_updates();
  ASSERT_EQ(updates.size(), 2u);
  EXPECT_EQ(updates[1].state, OrderState::kFilled);
  EXPECT_EQ(j.rig.engine->stats().outputs_waiting.load(), 0u);
}

TEST(EngineJournal, RecordsAreDenseAndCarryTheSourceAndClientOrderId) {
  JournaledRig j(/*next_sequence=*/41);
  j.start();
  j.quote(230000, 230030);
  j.send(new_order("dense", kGold, Side::kSell, OrderType::kLimit, 230500, 200));
  ASSERT_GE(j.records.size(), 3u);
  for (std::size_t i = 0; i < j.records.size(); ++i) EXPECT_EQ(j.records[i].sequence, 41 + i);
  const auto received = persist::payload_as<persist::OrderReceivedRecord>(j.records[1]);
  EXPECT_EQ(j.records[1].record_type(), RecordType::kOrderReceived);
  EXPECT_EQ(received.order.client_order_id.view(), "dense");
  EXPECT_EQ(received.order.source, j.rig.port_source);
  EXPECT_EQ(received.order_id, 1u);
  EXPECT_EQ(j.rig.engine->journal_sequence(), j.records.back().sequence);
}

TEST(EngineJournal, ReplayOfTheJournalRebuildsExactlyTheSameState) {
  JournaledRig j;
  j.start();
  j.quote(230000, 230030);
  j.send(new_order("m1", kGold, Side::kBuy, OrderType::kMarket, 0, 150));
  j.send(new_order("m2", kGold, Side::kSell, OrderType::kMarket, 0, 50));
  j.send(new_order("l1", kGold, Side::kBuy, OrderType::kLimit, 229000, 100));   // rests
  j.send(new_order("l2", kGold, Side::kSell, OrderType::kLimit, 231000, 300));  // rests
  j.send(new_order("bad", kGold, Side::kBuy, OrderType::kMarket, 0, 7));        // off step
  j.send(cancel_of("l1"));
  j.quote(231100, 231200);  // l2 fills
  ClientCommand halt;
  halt.kind = CommandKind::kControl;
  halt.control.kind = ControlKind::kSetTradingState;
  halt.control.trading_state = TradingState::kReducing;
  j.send(halt);
  const EngineState original = j.rig.engine->capture_state();
  ASSERT_EQ(original.orders.size(), 4u);
  EXPECT_EQ(j.count(RecordType::kOrderRejected), 1u);
  EXPECT_EQ(j.count(RecordType::kCancelRequested), 1u);
  EXPECT_EQ(j.count(RecordType::kControl), 1u);

  EngineRig fresh;
  for (const JournalEntry& e : j.records) {
    ASSERT_TRUE(persist::replay_record(*fresh.engine, e).ok());
  }
  persist::test::expect_same_orders_and_positions(original, fresh.engine->capture_state());
  // Replay produced no output at all.
  EXPECT_EQ(fresh.requests->size_approx(), 0u);
  EXPECT_EQ(fresh.updates->size_approx(), 0u);
}

// Issue 11: the request's name and the intent to cancel an order in doubt are engine state, so
// the journal must rebuild them: a kill switch while a limit order is Unknown, replayed, leaves the
// same wanted cancel; and the cancel the engine sent once the order showed up working replays as
// its own event.
TEST(EngineJournal, ReplayRebuildsTheRequestsNameAndACancelWantedWhileInDoubt) {
  JournaledRig j;
  j.start();
  j.quote(230000, 230030);
  // The engine and the journal only: the venue's answers are written by hand.
  auto pump_engine = [&] {
    for (int i = 0; i < 50; ++i) {
      const int work = j.rig.engine->do_work();
      if (j.journal_pass() == 0 && work == 0) return;
    }
  };
  auto answer = [&](VenueEventKind kind, OrderId id) {
    VenueEvent e;
    e.kind = kind;
    e.order_id = id;
    ASSERT_TRUE(j.rig.events->try_push(e));
    pump_engine();
  };
  j.rig.commands->try_push(new_order("d1", kGold, Side::kBuy, OrderType::kLimit, 229000, 100));
  pump_engine();
  VenueRequest place;
  ASSERT_TRUE(j.rig.requests->try_pop(place));
  VenueEvent named;  // the broker named the request before the answer was lost
  named.kind = VenueEventKind::kSubmitted;
  named.order_id = place.order_id;
  std::memcpy(named.venue_order_id.data(), "o_ref-d1", 8);
  ASSERT_TRUE(j.rig.events->try_push(named));
  answer(VenueEventKind::kOutcomeUnknown, place.order_id);
  ClientCommand kill;
  kill.kind = CommandKind::kControl;
  kill.control.kind = ControlKind::kKillSwitch;
  j.rig.commands->try_push(kill);
  pump_engine();
  const EngineState in_doubt = j.rig.engine->capture_state();
  ASSERT_EQ(in_doubt.orders.size(), 1u);
  EXPECT_TRUE(in_doubt.orders[0].cancel_wanted);
  EXPECT_TRUE(in_doubt.orders[0].venue_id_is_reference);

  EngineRig fresh;
  std::size_t replayed = 0;
  for (; replayed < j.records.size(); ++replayed) {
    ASSERT_TRUE(persist::replay_record(*fresh.engine, j.records[replayed]).ok());
  }
  persist::test::expect_same_orders_and_positions(in_doubt, fresh.engine->capture_state());

  answer(VenueEventKind::kAccepted, place.order_id);
  VenueRequest cancel;
  ASSERT_TRUE(j.rig.requests->try_pop(cancel));
  EXPECT_EQ(cancel.kind, VenueRequestKind::kCancel);
  const EngineState cancelling = j.rig.engine->capture_state();
  EXPECT_EQ(cancelling.orders[0].state, OrderState::kPendingCancel);
  EXPECT_FALSE(cancelling.orders[0].cancel_wanted);
  for (; replayed < j.records.size(); ++replayed) {
    ASSERT_TRUE(persist::replay_record(*fresh.engine, j.records[replayed]).ok());
  }
  persist::test::expect_same_orders_and_positions(cancelling, fresh.engine->capture_state());
  EXPECT_EQ(fresh.requests->size_approx(), 0u);  // replay sends nothing, the wanted cancel neither
  EXPECT_EQ(fresh.engine->stats().illegal_transitions.load(), 0u);
}

TEST(EngineJournal, ReplayRefusesARecordThatDoesNotFollowOrAnOrderIdThatSkips) {
  EngineRig fresh;
  persist::OrderReceivedRecord record;
  record.order = new_order("x", kGold, Side::kBuy, OrderType::kMarket, 0, 100).new_order;
  record.order_id = 2;  // the store would assign 1
  const JournalEntry entry = persist::make_entry(RecordType::kOrderReceived, 1, 0, record);
  absl::Status skipped = persist::replay_record(*fresh.engine, entry);
  EXPECT_TRUE(absl::IsDataLoss(skipped)) << skipped;
  EXPECT_NE(skipped.message().find("order id 2"), std::string::npos) << skipped;
  JournalEntry later = entry;
  later.sequence = 5;
  absl::Status gap = persist::replay_record(*fresh.engine, later);
  EXPECT_TRUE(absl::IsDataLoss(gap)) << gap;
}

// The journal's bytes for a request are what they always were: a place carries its limit price,
// a cancel neither the price nor the venue's id, neither the admission time (kReconcile only).
TEST(EngineJournal, SentToVenueRecordsCarryExactlyTheFieldsOfTheirKind) {
  JournaledRig j;
  j.start();
  j.quote(230000, 230030);
  j.send(new_order("l1", kGold, Side::kBuy, OrderType::kLimit, 229000, 100));
  j.send(cancel_of("l1"));
  std::vector<VenueRequest> sent;
  for (const JournalEntry& e : j.records) {
    if (e.record_type() == RecordType::kSentToVenue) {
      sent.push_back(persist::payload_as<persist::SentToVenueRecord>(e).request);
    }
  }
  ASSERT_EQ(sent.size(), 2u);
  const VenueRequest& place = sent[0];
  EXPECT_EQ(place.kind, VenueRequestKind::kPlace);
  EXPECT_EQ(place.order_id, 1u);
  EXPECT_EQ(place.limit_price, 229000);
  EXPECT_EQ(place.size, 100);
  EXPECT_EQ(place.sent_epoch_ms, 0);
  EXPECT_EQ(place.venue_order_id[0], '\0');
  const VenueRequest& cancel = sent[1];
  EXPECT_EQ(cancel.kind, VenueRequestKind::kCancel);
  EXPECT_EQ(cancel.order_id, 1u);
  EXPECT_EQ(cancel.limit_price, 0);
  EXPECT_EQ(cancel.size, 100);
  EXPECT_EQ(cancel.sent_epoch_ms, 0);
  EXPECT_EQ(cancel.venue_order_id[0], '\0');  // the order is working as PAPER-1 by now
  EXPECT_FALSE(cancel.cancel_requested);
  ASSERT_NE(j.rig.engine->find_order(1)->venue_order_id[0], '\0');
}

TEST(EngineJournal, CapturedStateRestoresIntoAFreshEngineAndReplayContinuesFromIt) {
  JournaledRig j;
  j.start();
  j.quote(230000, 230030);
  j.send(new_order("a", kGold, Side::kBuy, OrderType::kMarket, 0, 100));
  j.send(new_order("b", kGold, Side::kBuy, OrderType::kLimit, 229000, 100));
  const EngineState middle = j.rig.engine->capture_state();
  const std::size_t tail_from = j.records.size();
  j.send(new_order("c", kGold, Side::kSell, OrderType::kMarket, 0, 100));
  j.send(cancel_of("b"));
  const EngineState end = j.rig.engine->capture_state();

  EngineRig fresh;
  ASSERT_TRUE(fresh.engine->restore_state(middle).ok());
  persist::test::expect_same_orders_and_positions(middle, fresh.engine->capture_state());
  for (std::size_t i = tail_from; i < j.records.size(); ++i) {
    const JournalEntry& e = j.records[i];
    ASSERT_TRUE(persist::replay_record(*fresh.engine, e).ok());
  }
  persist::test::expect_same_orders_and_positions(end, fresh.engine->capture_state());
  // The duplicate check survives: the restored index knows "a".
  EXPECT_NE(fresh.engine->find_order(1), nullptr);
}

TEST(EngineJournal, AFullJournalHoldsInputsBackInsteadOfLosingThem) {
  JournaledRig j(1, /*order_capacity=*/1 << 15);
  j.auto_durable = false;
  j.start();
  j.quote(230000, 230030);
  // The journal thread stalls: nothing is drained. Orders keep coming.
  int sent = 0;
  for (int round = 0; round < 40; ++round) {
    for (int i = 0; i < 400; ++i) {
      const Side side = sent % 2 == 0 ? Side::kBuy : Side::kSell;
      const ClientCommand order =
          new_order("o" + std::to_string(sent), kGold, side, OrderType::kMarket, 0, 10);
      if (!j.rig.commands->try_push(order)) break;
      ++sent;
    }
    for (int k = 0; k < 50; ++k) j.rig.engine->do_work();
  }
  // The engine took what the journal could hold and left the rest on the command ring.
  EXPECT_GT(j.rig.commands->size_approx(), 0u);
  EXPECT_EQ(j.rig.engine->stats().output_overflows.load(), 0u);
  EXPECT_LE(j.ring->size_approx(), persist::JournalRing::kCapacity);

  // The journal catches up: every order is admitted, none lost or refused.
  j.auto_durable = true;
  for (int k = 0; k < 2000 && (j.rig.commands->size_approx() > 0 ||
                               j.rig.engine->stats().outputs_waiting.load() > 0);
       ++k) {
    j.pump();
  }
  EXPECT_EQ(j.rig.commands->size_approx(), 0u);
  for (std::size_t r = 0; r < kRejectReasonCount; ++r) {
    EXPECT_EQ(j.rig.engine->stats().rejects[r].load(), 0u)
        << to_string(static_cast<RejectReason>(r));
  }
  EXPECT_EQ(j.count(RecordType::kOrderReceived), static_cast<std::size_t>(sent));
  EXPECT_EQ(j.rig.engine->stats().output_overflows.load(), 0u);
}

TEST(EngineJournal, RecoveredLiveOrdersAreHandedToTheVenueAndUnansweredOnesGoUnknown) {
  JournaledRig j;
  j.auto_durable = false;  // the venue never hears of "p": sent records but no answer
  j.start();
  j.quote(230000, 230030);
  j.send(new_order("p", kGold, Side::kBuy, OrderType::kMarket, 0, 100));
  const std::vector<JournalEntry> journal = j.records;

  JournaledRig after(/*next_sequence=*/0);
  for (const JournalEntry& e : journal) {
    ASSERT_TRUE(persist::replay_record(*after.rig.engine, e).ok());
  }
  after.attach(journal.back().sequence + 1);
  ASSERT_EQ(after.rig.engine->find_order(1)->state, OrderState::kPendingNew);
  after.rig.engine->reconcile_recovered_orders();
  EXPECT_EQ(after.rig.engine->recovered_orders_pending(), 1u);
  after.auto_durable = true;
  after.rig.port_source = after.rig.engine->add_client_port(
      {after.rig.commands.get(), after.rig.updates.get(), nullptr, 0});
  after.rig.engine->on_start();
  after.rig.engine->do_work();
  after.journal_pass();
  after.rig.engine->do_work();
  EXPECT_EQ(after.rig.engine->recovered_orders_pending(), 0u);
  EXPECT_EQ(after.rig.engine->find_order(1)->state, OrderState::kUnknown);
  VenueRequest request;
  ASSERT_TRUE(after.rig.requests->try_pop(request));
  EXPECT_EQ(request.kind, VenueRequestKind::kReconcile);
  EXPECT_EQ(request.order_id, 1u);
  EXPECT_EQ(request.size, 100);
  EXPECT_EQ(request.sent_epoch_ms, j.rig.engine->find_order(1)->created_epoch_ms);
  EXPECT_GT(request.sent_epoch_ms, 0);
  // The Unknown transition is itself journaled (after the engine-started record).
  EXPECT_EQ(after.count(RecordType::kVenueEvent), 1u);
}

}  // namespace
}  // namespace qt
