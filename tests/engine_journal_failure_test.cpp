// The engine when its journal's disk fails (issue 11; engine/engine.hpp, "Journal failure"): the
// real journal writer and agent, wired as the app wires them (EnginePersistence), over a file-I/O
// seam that fails with ENOSPC or EIO on write or on fdatasync. The failure is loud (readiness,
// status line); new orders are refused and never reach the venue ring, including one admitted
// but not yet durable when the disk failed; cancels and the kill switch still reach it; venue
// events are booked without a backlog; what was acknowledged before is intact on reopen.
//
// The test plays the venue by hand: everything the engine puts on the venue ring is kept in
// `venue`, and the venue's answers are written onto its event ring.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <memory>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "app/persistence.hpp"
#include "tests/engine_test_support.hpp"
#include "tests/persist/faulty_file_io.hpp"
#include "tests/support/test_files.hpp"

namespace qt {
namespace {

using persist::test::FaultyFileIo;
using testing::EngineRig;
using testing::new_order;
using Call = FaultyFileIo::Call;

constexpr InstrumentId kGold = 0;
constexpr std::size_t kOrderCapacity = 1024;

EngineOptions rig_engine_options() {  // as EngineRig builds its engine
  EngineOptions options;
  options.instruments = testing::test_instruments();
  options.risk = testing::permissive_limits();
  options.order_capacity = kOrderCapacity;
  return options;
}

ClientCommand cancel_of(std::string_view client_id) {
  ClientCommand command;
  command.kind = CommandKind::kCancelOrder;
  command.cancel.client_order_id = ClientOrderId::from(client_id);
  return command;
}

ClientCommand kill_switch() {
  ClientCommand command;
  command.kind = CommandKind::kControl;
  command.control.kind = ControlKind::kKillSwitch;
  return command;
}

struct PersistedEngine {
  FaultyFileIo io;
  EngineRig rig{testing::permissive_limits(), kOrderCapacity};
  std::unique_ptr<EnginePersistence> persistence;
  std::vector<VenueRequest> venue;   // everything the engine put on the venue ring
  std::vector<OrderUpdate> updates;  // everything the client port heard
  bool journal_elsewhere = false;    // pump() leaves the journal agent alone (a thread, or stalled)

  // Recovers from `data_dir`, starts and answers the venue's start-up reconciliation.
  void open(const std::filesystem::path& data_dir) {
    PersistenceOptions options;
    options.data_dir = data_dir;
    options.journal.durability = persist::Durability::kGroup;
    options.journal.segment_size = 1 << 20;
    options.journal.file_io = &io;
    absl::StatusOr<std::unique_ptr<EnginePersistence>> opened =
        EnginePersistence::open(std::move(options));
    ASSERT_TRUE(opened.ok()) << opened.status();
    persistence = *std::move(opened);
    absl::StatusOr<RecoveryReport> recovered =
        persistence->recover_into(*rig.engine, rig_engine_options(), nullptr);
    ASSERT_TRUE(recovered.ok()) << recovered.status();
    rig.start();
    persistence->agent().on_start();
    pump();
    VenueEvent reconciled;
    reconciled.kind = VenueEventKind::kStartupReconciled;
    ASSERT_TRUE(rig.events->try_push(reconciled));
    pump();
  }

  // Engine and journal duty cycles until neither has work; takes the venue ring and updates.
  void pump() {
    for (int i = 0; i < 1000; ++i) {
      int work = rig.engine->do_work();
      if (!journal_elsewhere) work += persistence->agent().do_work();
      VenueRequest request;
      while (rig.requests->try_pop(request)) {
        venue.push_back(request);
        ++work;
      }
      OrderUpdate update;
      while (rig.updates->try_pop(update)) {
        updates.push_back(update);
        ++work;
      }
      if (work == 0) return;
    }
  }

  void send(const ClientCommand& command) {
    ASSERT_TRUE(rig.commands->try_push(command));
    pump();
  }
  void answer(VenueEventKind kind, OrderId order_id, PriceUnits price = 0, SizeUnits size = 0) {
    VenueEvent event;
    event.kind = kind;
    event.order_id = order_id;
    event.fill_price = price;
    event.fill_size = size;
    ASSERT_TRUE(rig.events->try_push(event));
    pump();
  }

  // The id the client's order got: from its acknowledgement.
  OrderId id_of(std::string_view client_id) const {
    for (const OrderUpdate& u : updates) {
      if (u.client_order_id.view() == client_id && u.order_id != 0) return u.order_id;
    }
    return 0;
  }
  std::vector<OrderUpdate> updates_of(std::string_view client_id) const {
    std::vector<OrderUpdate> out;
    for (const OrderUpdate& u : updates) {
      if (u.client_order_id.view() == client_id) out.push_back(u);
    }
    return out;
  }
  std::size_t requests(VenueRequestKind kind, OrderId order_id) const {
    return static_cast<std::size_t>(std::count_if(venue.begin(), venue.end(), [&](auto& r) {
      return r.kind == kind && r.order_id == order_id;
    }));
  }
  std::size_t places_since(std::size_t from) const {
    return static_cast<std::size_t>(std::count_if(venue.begin() + from, venue.end(), [](auto& r) {
      return r.kind == VenueRequestKind::kPlace;
    }));
  }
};

// Before the failure: a1 and a2 rest at the venue (acknowledged, accepted), f1 filled 1.00.
void trade_before_the_failure(PersistedEngine& e) {
  e.rig.push_quote(kGold, 230000, 230030);
  e.pump();
  for (const char* id : {"a1", "a2"}) {
    e.send(new_order(id, kGold, Side::kBuy, OrderType::kLimit, 229000, 100));
    ASSERT_NE(e.id_of(id), 0u) << id << " was not acknowledged";
    e.answer(VenueEventKind::kAccepted, e.id_of(id));
  }
  e.send(new_order("f1", kGold, Side::kBuy, OrderType::kMarket, 0, 100));
  ASSERT_NE(e.id_of("f1"), 0u);
  e.answer(VenueEventKind::kAccepted, e.id_of("f1"));
  e.answer(VenueEventKind::kFill, e.id_of("f1"), 230030, 100);
  ASSERT_EQ(e.rig.engine->position(kGold).net_size(), 100);
  ASSERT_EQ(e.rig.engine->readiness(), EngineReadiness::kReady);
  ASSERT_EQ(e.places_since(0), 3u);
}

class EngineJournalFailure : public ::testing::TestWithParam<std::tuple<Call, int>> {
 protected:
  testing::ScratchDir dir_{"engine_journal_failure"};
};

std::string param_name(const ::testing::TestParamInfo<std::tuple<Call, int>>& info) {
  return std::string(persist::test::name_of(std::get<0>(info.param))) +
         (std::get<1>(info.param) == ENOSPC ? "_ENOSPC" : "_EIO");
}

TEST_P(EngineJournalFailure, IsLoudRefusesNewOrdersAndStillSendsCancels) {
  const auto [call, error] = GetParam();
  PersistedEngine e;
  ASSERT_NO_FATAL_FAILURE(e.open(dir_.path()));
  ASSERT_NO_FATAL_FAILURE(trade_before_the_failure(e));
  const std::size_t venue_before = e.venue.size();

  // b1 is admitted; its records cannot be made durable.
  e.io.fail(call, error);
  e.send(new_order("b1", kGold, Side::kBuy, OrderType::kLimit, 229000, 100));

  // Loud: readiness (the engine's and the published one) and the status line.
  EXPECT_EQ(e.rig.engine->readiness(), EngineReadiness::kJournalFailed);
  EXPECT_FALSE(e.rig.engine->ready());
  EXPECT_EQ(e.rig.engine->stats().readiness.load(), EngineReadiness::kJournalFailed);
  const persist::JournalFailure* failure = e.persistence->journal_failure();
  ASSERT_NE(failure, nullptr);
  EXPECT_EQ(failure->error, error);
  const std::string status = e.persistence->status();
  const std::string expected_start =
      std::string("JOURNAL FAILED: ") + (error == ENOSPC ? "ENOSPC" : "EIO") + " (" +
      std::strerror(error) + ") on " + (call == Call::kWrite ? "write" : "fdatasync") + " of ";
  EXPECT_EQ(status.rfind(expected_start, 0), 0u) << status;
  EXPECT_NE(status.find(".qtj"), std::string::npos) << status;

  // b1 never reached the venue, and its client heard only the refusal: no ack without a record.
  EXPECT_EQ(e.places_since(venue_before), 0u);
  const std::vector<OrderUpdate> b1 = e.updates_of("b1");
  ASSERT_EQ(b1.size(), 1u);
  EXPECT_EQ(b1[0].state, OrderState::kRejected);
  EXPECT_EQ(b1[0].reason, RejectReason::kJournalFailed);

  // A new order after the failure: refused at once, never on the venue ring.
  e.send(new_order("c1", kGold, Side::kBuy, OrderType::kMarket, 0, 100));
  const std::vector<OrderUpdate> c1 = e.updates_of("c1");
  ASSERT_EQ(c1.size(), 1u);
  EXPECT_EQ(c1[0].state, OrderState::kRejected);
  EXPECT_EQ(c1[0].reason, RejectReason::kJournalFailed);
  EXPECT_EQ(e.places_since(venue_before), 0u);
  EXPECT_EQ(
      e.rig.engine->stats().rejects[static_cast<std::size_t>(RejectReason::kJournalFailed)].load(),
      2u);

  // Risk-reducing actions still reach the venue: a client's cancel, then the kill switch's
  // cancel-all (a2 is still working).
  const OrderId a1 = e.id_of("a1");
  const OrderId a2 = e.id_of("a2");
  e.send(cancel_of("a1"));
  EXPECT_EQ(e.requests(VenueRequestKind::kCancel, a1), 1u);
  EXPECT_EQ(e.rig.engine->find_order(a1)->state, OrderState::kPendingCancel);
  e.send(kill_switch());
  EXPECT_EQ(e.requests(VenueRequestKind::kCancel, a2), 1u);
  EXPECT_EQ(e.requests(VenueRequestKind::kCancel, a1), 1u) << "a1's cancel is already out";
  e.answer(VenueEventKind::kCanceled, a1);
  e.answer(VenueEventKind::kCanceled, a2);
  EXPECT_EQ(e.rig.engine->find_order(a1)->state, OrderState::kCanceled);
  EXPECT_EQ(e.rig.engine->find_order(a2)->state, OrderState::kCanceled);
  EXPECT_EQ(e.rig.engine->stats().live_orders.load(), 0u);
  EXPECT_EQ(e.updates_of("a2").back().state, OrderState::kCanceled);
  EXPECT_GT(e.rig.engine->stats().unjournaled_events.load(), 0u);
  EXPECT_EQ(e.rig.engine->stats().outputs_waiting.load(), 0u);
}

TEST_P(EngineJournalFailure, WhatWasAcknowledgedBeforeIsIntactOnReopen) {
  const auto [call, error] = GetParam();
  OrderId a1 = 0;
  OrderId f1 = 0;
  {
    PersistedEngine e;
    ASSERT_NO_FATAL_FAILURE(e.open(dir_.path()));
    ASSERT_NO_FATAL_FAILURE(trade_before_the_failure(e));
    a1 = e.id_of("a1");
    f1 = e.id_of("f1");
    e.io.fail(call, error);
    e.send(new_order("b1", kGold, Side::kBuy, OrderType::kLimit, 229000, 100));
    ASSERT_EQ(e.rig.engine->readiness(), EngineReadiness::kJournalFailed);
    e.answer(VenueEventKind::kFill, a1, 229000, 40);  // booked in memory only
    EXPECT_EQ(e.rig.engine->position(kGold).net_size(), 140);
  }
  // The disk is fixed, the engine restarts on the same data directory.
  PersistedEngine reopened;
  ASSERT_NO_FATAL_FAILURE(reopened.open(dir_.path()));
  const Order* a1_again = reopened.rig.engine->find_order(a1);
  const Order* f1_again = reopened.rig.engine->find_order(f1);
  ASSERT_NE(a1_again, nullptr);
  ASSERT_NE(f1_again, nullptr);
  EXPECT_EQ(a1_again->client_order_id.view(), "a1");
  EXPECT_EQ(a1_again->state, OrderState::kNew)
      << "the fill after the failure is the venue's to "
         "tell (start-up reconciliation), not the journal's";
  EXPECT_EQ(f1_again->state, OrderState::kFilled);
  EXPECT_EQ(f1_again->filled_size, 100);
  EXPECT_EQ(reopened.rig.engine->position(kGold).net_size(), 100);
  EXPECT_EQ(reopened.persistence->journal_failure(), nullptr);
}

// Before the fix the engine stopped taking venue events once the journal ring was full (16384
// records): they piled up in the venue's ring and backlog. Now each is booked in memory.
TEST_P(EngineJournalFailure, VenueEventsAreBookedWithoutABacklog) {
  const auto [call, error] = GetParam();
  PersistedEngine e;
  ASSERT_NO_FATAL_FAILURE(e.open(dir_.path()));
  e.rig.push_quote(kGold, 230000, 230030);
  e.pump();
  constexpr int kOrders = 10;
  constexpr SizeUnits kOrderSize = 5000;  // 50.00 GOLD: 5000 fills of 0.01 each
  std::vector<OrderId> ids;
  for (int i = 0; i < kOrders; ++i) {
    const std::string id = "r" + std::to_string(i);
    e.send(new_order(id, kGold, Side::kBuy, OrderType::kLimit, 229000, kOrderSize));
    ids.push_back(e.id_of(id));
    ASSERT_NE(ids.back(), 0u);
    e.answer(VenueEventKind::kAccepted, ids.back());
  }
  e.io.fail(call, error);

  // 50,000 fills, 1,000 at a time: three times what the journal ring holds.
  constexpr int kChunk = 1000;
  int fills = 0;
  for (int order = 0; order < kOrders; ++order) {
    for (SizeUnits done = 0; done < kOrderSize; done += kChunk) {
      for (int i = 0; i < kChunk; ++i) {
        VenueEvent fill;
        fill.kind = VenueEventKind::kFill;
        fill.order_id = ids[order];
        fill.fill_price = 229000;
        fill.fill_size = 1;
        ASSERT_TRUE(e.rig.events->try_push(fill)) << "the engine stopped taking events";
        ++fills;
      }
      e.pump();
      ASSERT_TRUE(e.rig.events->empty_approx()) << "after " << fills << " fills";
      ASSERT_EQ(e.rig.engine->stats().outputs_waiting.load(), 0u) << "after " << fills;
    }
  }
  EXPECT_EQ(e.rig.engine->readiness(), EngineReadiness::kJournalFailed);
  EXPECT_EQ(e.rig.engine->position(kGold).net_size(), kOrders * kOrderSize);
  EXPECT_EQ(e.rig.engine->stats().fills.load(), static_cast<uint64_t>(fills));
  EXPECT_EQ(e.rig.engine->stats().filled_orders.load(), static_cast<uint64_t>(kOrders));
  EXPECT_EQ(e.rig.engine->stats().live_orders.load(), 0u);
  // The fills the engine took before it saw the failure (one drain batch) went to the journal's
  // ring and no further; every later one is booked in memory only.
  const uint64_t unjournaled = e.rig.engine->stats().unjournaled_events.load();
  EXPECT_LE(unjournaled, static_cast<uint64_t>(fills));
  EXPECT_GE(unjournaled, static_cast<uint64_t>(fills) - Engine::kMaxDrainBatch);
}

// The symptom: the journal's disk hangs, then fails, while the engine keeps writing ahead
// until the journal's ring is full; the kill switch then was refused as journal_busy and its
// cancels dropped. Now, once the journal has failed, nothing waits for room in it.
TEST_P(EngineJournalFailure, TheKillSwitchIsNotRefusedAsJournalBusyWhenTheRingIsFull) {
  const auto [call, error] = GetParam();
  PersistedEngine e;
  ASSERT_NO_FATAL_FAILURE(e.open(dir_.path()));
  ASSERT_NO_FATAL_FAILURE(trade_before_the_failure(e));
  const OrderId a1 = e.id_of("a1");
  const OrderId a2 = e.id_of("a2");

  // While the journal thread is in its failing system call, the engine thread goes on: every
  // venue event is written ahead onto the journal's ring until it is full and the engine stops
  // taking events (back-pressure, nothing lost).
  std::size_t pushed = 0;
  e.io.before_first_failure = [&] {
    for (int round = 0; round < 10 && e.rig.events->empty_approx(); ++round) {
      for (int i = 0; i < 4000; ++i) {
        VenueEvent named;  // the venue names a2's request again: journaled, no state change
        named.kind = VenueEventKind::kSubmitted;
        named.order_id = a2;
        if (!e.rig.events->try_push(named)) break;
        ++pushed;
      }
      for (int i = 0; i < 200; ++i) e.rig.engine->do_work();
    }
    // The engine stops taking inputs with room for 7 records left; a strategy's submits (here
    // called directly, as a callback would) take the rest: 2 records each, and the fourth is
    // refused as journal_busy, that refusal's record being the last.
    for (const char* id : {"s0", "s1", "s2", "s3"}) {
      NewOrder order = new_order(id, kGold, Side::kBuy, OrderType::kMarket, 0, 100).new_order;
      order.source = e.rig.port_source;
      e.rig.engine->submit(order);
    }
  };
  const std::size_t venue_before = e.venue.size();
  e.io.fail(call, error);
  e.send(new_order("b1", kGold, Side::kBuy, OrderType::kLimit, 229000, 100));
  ASSERT_NE(e.persistence->journal_failure(), nullptr);
  ASSERT_GT(pushed, 16384u) << "the journal's ring never filled";
  ASSERT_EQ(e.updates_of("s3").size(), 1u);
  ASSERT_EQ(e.updates_of("s3")[0].reason, RejectReason::kJournalBusy) << "the ring was not full";
  for (const char* id : {"b1", "s0", "s1", "s2"}) {
    ASSERT_EQ(e.updates_of(id).size(), 1u) << id;
    EXPECT_EQ(e.updates_of(id)[0].reason, RejectReason::kJournalFailed) << id;
  }
  EXPECT_EQ(e.places_since(venue_before), 0u);
  EXPECT_EQ(e.rig.engine->readiness(), EngineReadiness::kJournalFailed);
  EXPECT_TRUE(e.rig.events->empty_approx()) << "events still wait for room in a dead journal";

  e.send(kill_switch());
  EXPECT_EQ(e.requests(VenueRequestKind::kCancel, a1), 1u);
  EXPECT_EQ(e.requests(VenueRequestKind::kCancel, a2), 1u);
}

INSTANTIATE_TEST_SUITE_P(WriteAndFdatasync, EngineJournalFailure,
                         ::testing::Combine(::testing::Values(Call::kWrite, Call::kFdatasync),
                                            ::testing::Values(ENOSPC, EIO)),
                         param_name);

// As in the app: the journal agent on a thread of its own fails while the engine thread works
// and another thread reads the status (ThreadSanitizer checks the failure's publication).
TEST(EngineJournalFailureThreads, TheJournalThreadsFailureReachesTheEngineAndTheStatusLine) {
  testing::ScratchDir dir("engine_journal_failure_threads");
  PersistedEngine e;
  ASSERT_NO_FATAL_FAILURE(e.open(dir.path()));
  ASSERT_NO_FATAL_FAILURE(trade_before_the_failure(e));
  const std::size_t venue_before = e.venue.size();
  e.journal_elsewhere = true;
  std::atomic<bool> stop{false};
  std::thread journal([&] {
    while (!stop.load(std::memory_order_acquire)) {
      if (e.persistence->agent().do_work() == 0) std::this_thread::yield();
    }
  });
  e.io.fail(Call::kFdatasync, EIO);
  std::string status;
  std::thread status_reader([&] {
    while (e.persistence->journal_failure() == nullptr) std::this_thread::yield();
    status = e.persistence->status();
  });
  ASSERT_TRUE(
      e.rig.commands->try_push(new_order("b1", kGold, Side::kBuy, OrderType::kLimit, 229000, 100)));
  for (int i = 0; i < 20'000 && e.rig.engine->readiness() != EngineReadiness::kJournalFailed; ++i) {
    e.pump();
    std::this_thread::yield();
  }
  status_reader.join();
  e.pump();
  stop.store(true, std::memory_order_release);
  journal.join();
  EXPECT_EQ(e.rig.engine->readiness(), EngineReadiness::kJournalFailed);
  EXPECT_EQ(status.rfind("JOURNAL FAILED: EIO", 0), 0u) << status;
  const std::vector<OrderUpdate> b1 = e.updates_of("b1");
  ASSERT_EQ(b1.size(), 1u);
  EXPECT_EQ(b1[0].reason, RejectReason::kJournalFailed);
  EXPECT_EQ(e.places_since(venue_before), 0u);
}

}  // namespace
}  // namespace qt
