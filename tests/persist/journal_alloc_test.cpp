// Proof that the journal's append path allocates nothing: allocations are counted
// (tests/support/allocation_counter.hpp) on the test thread only — the writer's own preparer
// thread allocates freely, by design, and is not counted. Covers JournalWriter::append/commit in
// every mode, segment switches with the next segment prepared ahead, and JournalAgent::do_work.
// Skipped in sanitizer builds (their runtimes own malloc).
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "tests/persist/journal_test_support.hpp"
#include "tests/support/allocation_counter.hpp"

namespace qt::persist {
namespace {

using qt::testing::allocation_counting_available;
using qt::testing::CountedThreads;
using qt::testing::kAllocationCountingUnavailable;

#define SKIP_WITHOUT_COUNTING() \
  if (!allocation_counting_available()) GTEST_SKIP() << kAllocationCountingUnavailable

// Counts the test thread's allocations until closed.
struct Armed {
  qt::testing::CountedThread test_thread;
  qt::testing::AllocationWindow window{CountedThreads::kMarked};
  // Returns the count.
  uint64_t close() {
    window.close();
    return window.allocations();
  }
};

// Waits until the writer's preparer has the segment after `switches` switches ready.
void wait_for_prepared_segment(const JournalWriter& writer, uint64_t switches) {
  while (writer.stats().segments_prepared.load() < switches) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

TEST(JournalAllocation, CounterSeesAnAllocationWhenThereIsOne) {
  SKIP_WITHOUT_COUNTING();
  EXPECT_GE(qt::testing::allocations_counted_for_one_new(), 1u);
}

TEST(JournalAllocation, AppendAndCommitAllocateNothingInAnyMode) {
  SKIP_WITHOUT_COUNTING();
  for (Durability mode : {Durability::kAsync, Durability::kGroup, Durability::kSync}) {
    test::TempJournalDir dir(std::string("alloc_") + std::string(to_string(mode)));
    auto writer = JournalWriter::open(test::small_options(dir.path(), mode, 4 << 20), 1);
    ASSERT_TRUE(writer.ok()) << writer.status();
    std::vector<JournalEntry> entries;
    for (uint64_t s = 1; s <= 5000; ++s) entries.push_back(test::sample_entry(s));
    uint64_t failures = 0;
    Armed armed;
    for (const JournalEntry& e : entries) {
      if (!(*writer)->append(e).ok()) ++failures;
      if (e.sequence % 500 == 0 && !(*writer)->commit().ok()) ++failures;
    }
    const uint64_t allocations = armed.close();
    EXPECT_EQ(failures, 0u);
    EXPECT_EQ(allocations, 0u) << to_string(mode);
    EXPECT_EQ((*writer)->durable_sequence().load(), 5000u);
    ASSERT_TRUE((*writer)->close().ok());
  }
}

TEST(JournalAllocation, SegmentSwitchToAPreparedSegmentAllocatesNothing) {
  SKIP_WITHOUT_COUNTING();
  for (Durability mode : {Durability::kAsync, Durability::kGroup}) {
    test::TempJournalDir dir(std::string("alloc_switch_") + std::string(to_string(mode)));
    constexpr uint64_t kSegment = 64 * 1024;
    auto writer = JournalWriter::open(test::small_options(dir.path(), mode, kSegment), 1);
    ASSERT_TRUE(writer.ok()) << writer.status();
    uint64_t sequence = 1;
    uint64_t failures = 0;
    uint64_t allocations = 0;
    for (uint64_t switches = 1; switches <= 4; ++switches) {
      wait_for_prepared_segment(**writer, switches);
      const JournalEntry entry = test::sample_entry(sequence);  // built outside the armed span
      {
        Armed armed;
        JournalEntry e = entry;
        while ((*writer)->stats().segment_switches.load() < switches) {
          e = test::sample_entry(sequence);  // builds on the stack only
          if (!(*writer)->append(e).ok()) ++failures;
          ++sequence;
        }
        if (!(*writer)->commit().ok()) ++failures;
        allocations += armed.close();
      }
    }
    EXPECT_EQ(failures, 0u);
    EXPECT_EQ((*writer)->stats().late_preparations.load(), 0u);
    EXPECT_EQ(allocations, 0u) << to_string(mode);
    ASSERT_TRUE((*writer)->close().ok());
  }
}

TEST(JournalAllocation, AgentDrainAndCommitAllocateNothing) {
  SKIP_WITHOUT_COUNTING();
  test::TempJournalDir dir("alloc_agent");
  JournalOptions options = test::small_options(dir.path(), Durability::kGroup, 4 << 20);
  options.group_commit_interval_ns = 0;
  auto writer = JournalWriter::open(options, 1);
  ASSERT_TRUE(writer.ok());
  auto ring = std::make_unique<JournalRing>();
  Doorbell doorbell;
  JournalAgent agent(**writer, *ring, &doorbell);
  uint64_t sequence = 1;
  Armed armed;
  for (int round = 0; round < 20; ++round) {
    for (int i = 0; i < 300; ++i) ring->try_push(test::sample_entry(sequence++));
    while (agent.durable_sequence().load() < sequence - 1) agent.do_work();
  }
  EXPECT_EQ(armed.close(), 0u);
  EXPECT_FALSE(agent.failed());
  EXPECT_EQ(agent.durable_sequence().load(), 6000u);
  agent.on_close();
}

}  // namespace
}  // namespace qt::persist
