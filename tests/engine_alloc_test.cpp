// Proof that the hot path allocates nothing: allocations are counted (tests/support/
// allocation_counter.hpp) on the test's own thread, which runs the whole hot path (engine,
// journal agent, venue) through do_work(); the journal writer's preparer thread allocates and
// makes system calls by design, off the hot path (persist/journal.hpp), and is not counted. After
// a warm-up, thousands of quotes and orders go feed → engine (risk, state machine, positions,
// both example strategies) → paper venue → engine, and the count must stay at zero — also with
// the journal attached: every record through the journal ring into the memory-mapped segment
// (JournalWriter/JournalAgent) and every output held until durable.
// Skipped in sanitizer builds (their runtimes own malloc).
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "engine/strategies/moving_average_crossover.hpp"
#include "engine/strategies/simple_quoter.hpp"
#include "feeds/sim/random_walk_feed.hpp"
#include "persist/engine_journal.hpp"
#include "persist/journal.hpp"
#include "tests/engine_test_support.hpp"
#include "tests/support/allocation_counter.hpp"

namespace qt {
namespace {

using testing::allocation_counting_available;
using testing::allocations_counted_for_one_new;
using testing::AllocationWindow;
using testing::CountedThread;
using testing::CountedThreads;
using testing::kAllocationCountingUnavailable;

// The flow both tests drive. Cycle i: a GOLD and a EURUSD quote to the engine and the venue, and
// every 4th cycle a 0.10 GOLD market order, buy and sell in turn.
class OrderFlow {
 public:
  OrderFlow(testing::EngineRig& rig, char id_prefix) : rig_(rig), id_prefix_(id_prefix) {}

  void push(int i) {
    for (std::size_t k = 0; k < 2; ++k) {
      const Quote q = feed_.next_quote(k, i);
      rig_.engine_quotes->try_push(q);
      rig_.venue_quotes->try_push(q);
    }
    if (i % 4 == 0) {
      char id[24];
      std::snprintf(id, sizeof id, "%c%llu", id_prefix_,
                    static_cast<unsigned long long>(++client_sequence_));
      const Side side = (i / 4) % 2 == 0 ? Side::kBuy : Side::kSell;
      rig_.commands->try_push(testing::new_order(id, 0, side, OrderType::kMarket, 0, 10));
    }
  }

 private:
  testing::EngineRig& rig_;
  RandomWalkFeed feed_{
      testing::test_instruments(), {{2300, 0.3, 2.0}, {1.085, 0.00006, 1.0}}, 7, 1'000'000};
  char id_prefix_;
  uint64_t client_sequence_ = 0;
};

TEST(HotPathAllocation, CounterSeesAnAllocationWhenThereIsOne) {
  if (!allocation_counting_available()) GTEST_SKIP() << kAllocationCountingUnavailable;
  EXPECT_GE(allocations_counted_for_one_new(), 1u);
}

TEST(HotPathAllocation, FeedEngineStrategiesAndVenueAllocateNothingAfterWarmUp) {
  if (!allocation_counting_available()) GTEST_SKIP() << kAllocationCountingUnavailable;
  testing::EngineRig rig;
  MovingAverageCrossover crossover({"GOLD", 1.0, 5, 20});
  SimpleQuoter quoter({"EURUSD", 1000, 1, 100'000, 1});
  rig.engine->add_strategy(crossover);
  rig.engine->add_strategy(quoter);
  rig.start();
  OrderFlow flow(rig, 'A');
  auto cycle = [&](int i) {
    flow.push(i);
    if (i % 16 == 0) quoter.on_timer(rig.engine->context_of(2), 0);
    rig.pump();
    rig.updates->drain([](const OrderUpdate&) {});
  };

  for (int i = 0; i < 2'000; ++i) cycle(i);  // warm-up: first touch of every path
  const uint64_t orders_before = rig.engine->stats().orders_sent.load();
  const CountedThread hot_path_thread;
  AllocationWindow window(CountedThreads::kMarked);
  for (int i = 2'000; i < 22'000; ++i) cycle(i);
  window.close();
  const uint64_t orders = rig.engine->stats().orders_sent.load() - orders_before;

  EXPECT_EQ(window.allocations(), 0u);
  EXPECT_GT(orders, 5'000u);  // the loop really traded
  EXPECT_GT(rig.engine->stats().fills.load(), 5'000u);
  EXPECT_EQ(rig.engine->stats().illegal_transitions.load(), 0u);
}

TEST(HotPathAllocation, WithTheJournalFeedEngineJournalAndVenueAllocateNothingAfterWarmUp) {
  if (!allocation_counting_available()) GTEST_SKIP() << kAllocationCountingUnavailable;
  char dir_template[] = "/tmp/qt-alloc-journal-XXXXXX";
  ASSERT_NE(::mkdtemp(dir_template), nullptr);
  const std::filesystem::path dir = dir_template;
  persist::JournalOptions options;
  options.dir = dir / "journal";
  options.segment_size = 64ull << 20;  // holds the whole run: no segment switch while armed
  options.durability = persist::Durability::kAsync;
  auto writer = persist::JournalWriter::open(options, 1);
  ASSERT_TRUE(writer.ok()) << writer.status();
  auto ring = std::make_unique<persist::JournalRing>();
  persist::JournalAgent journal(**writer, *ring);

  testing::EngineRig rig;
  MovingAverageCrossover crossover({"GOLD", 1.0, 5, 20});
  rig.engine->add_strategy(crossover);
  persist::JournalRingLog log(*ring, (*writer)->durable_sequence());
  rig.engine->set_write_ahead_log(&log, 1);
  rig.start();
  OrderFlow flow(rig, 'J');
  auto pump = [&] {
    for (int k = 0; k < 100; ++k) {
      if (rig.engine->do_work() + journal.do_work() + rig.venue->do_work() == 0) return;
    }
  };
  auto cycle = [&](int i) {
    flow.push(i);
    pump();
    rig.updates->drain([](const OrderUpdate&) {});
  };
  for (int i = 0; i < 2'000; ++i) cycle(i);
  const uint64_t records_before = (*writer)->stats().records.load();
  const uint64_t orders_before = rig.engine->stats().orders_sent.load();
  const CountedThread hot_path_thread;
  AllocationWindow window(CountedThreads::kMarked);
  for (int i = 2'000; i < 22'000; ++i) cycle(i);
  window.close();
  EXPECT_EQ(window.allocations(), 0u);
  EXPECT_GT(rig.engine->stats().orders_sent.load() - orders_before, 4'000u);
  EXPECT_GT((*writer)->stats().records.load() - records_before, 16'000u);  // 4+ per order
  EXPECT_EQ((*writer)->durable_sequence().load(), rig.engine->journal_sequence());
  EXPECT_EQ(rig.engine->stats().output_overflows.load(), 0u);
  journal.on_close();
  writer->reset();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace qt