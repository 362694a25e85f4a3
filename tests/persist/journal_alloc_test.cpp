// Proof that the journal's append path allocates nothing: this test binary interposes the C
// allocator (every operator new ends in malloc too) and counts the calls made by the test
// thread while the counter is armed — the writer's own preparer thread allocates freely, by
// design, and is not counted. Covers JournalWriter::append/commit in every mode, segment
// switches with the next segment prepared ahead, and JournalAgent::do_work.
//
// Sanitizer runtimes own malloc, so the test is skipped (with a message) in those builds; the
// release and debug presets run it.
#include <dlfcn.h>
#include <gtest/gtest.h>
#include <malloc.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <thread>

#include "tests/persist/journal_test_support.hpp"

#ifndef QT_SANITIZER_BUILD
extern "C" {
void* __libc_malloc(size_t);
void* __libc_calloc(size_t, size_t);
void* __libc_realloc(void*, size_t);
void* __libc_memalign(size_t, size_t);
}

namespace {
thread_local bool t_armed = false;  // initial-exec TLS in the executable: no allocation to read
std::atomic<uint64_t> g_allocations{0};
void count() {
  if (t_armed) g_allocations.fetch_add(1, std::memory_order_relaxed);
}
}  // namespace

extern "C" {
void* malloc(size_t size) {
  count();
  return __libc_malloc(size);
}
void* calloc(size_t n, size_t size) {
  count();
  return __libc_calloc(n, size);
}
void* realloc(void* p, size_t size) {
  count();
  return __libc_realloc(p, size);
}
void* aligned_alloc(size_t alignment, size_t size) {
  count();
  return __libc_memalign(alignment, size);
}
void* memalign(size_t alignment, size_t size) {
  count();
  return __libc_memalign(alignment, size);
}
int posix_memalign(void** out, size_t alignment, size_t size) {
  count();
  *out = __libc_memalign(alignment, size);
  return *out != nullptr ? 0 : ENOMEM;
}
}
#endif

namespace qt::persist {
namespace {

#ifdef QT_SANITIZER_BUILD
#define SKIP_UNDER_SANITIZERS() \
  GTEST_SKIP() << "allocation counting needs the plain C allocator; run the release preset"
#else
#define SKIP_UNDER_SANITIZERS() (void)0
struct Armed {
  Armed() {
    g_allocations = 0;
    t_armed = true;
  }
  ~Armed() { t_armed = false; }
};
#endif

#ifndef QT_SANITIZER_BUILD
// Waits until the writer's preparer has the segment after `switches` switches ready.
void wait_for_prepared_segment(const JournalWriter& writer, uint64_t switches) {
  while (writer.stats().segments_prepared.load() < switches) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}
#endif

TEST(JournalAllocation, CounterSeesAnAllocationWhenThereIsOne) {
  SKIP_UNDER_SANITIZERS();
#ifndef QT_SANITIZER_BUILD
  {
    Armed armed;
    auto* p = new std::vector<int>(100);
    delete p;
  }
  EXPECT_GE(g_allocations.load(), 1u);
#endif
}

TEST(JournalAllocation, AppendAndCommitAllocateNothingInAnyMode) {
  SKIP_UNDER_SANITIZERS();
#ifndef QT_SANITIZER_BUILD
  for (Durability mode : {Durability::kAsync, Durability::kGroup, Durability::kSync}) {
    test::TempJournalDir dir(std::string("alloc_") + std::string(to_string(mode)));
    auto writer = JournalWriter::open(test::small_options(dir.path(), mode, 4 << 20), 1);
    ASSERT_TRUE(writer.ok()) << writer.status();
    std::vector<JournalEntry> entries;
    for (uint64_t s = 1; s <= 5000; ++s) entries.push_back(test::sample_entry(s));
    uint64_t failures = 0;
    {
      Armed armed;
      for (const JournalEntry& e : entries) {
        if (!(*writer)->append(e).ok()) ++failures;
        if (e.sequence % 500 == 0 && !(*writer)->commit().ok()) ++failures;
      }
    }
    EXPECT_EQ(failures, 0u);
    EXPECT_EQ(g_allocations.load(), 0u) << to_string(mode);
    EXPECT_EQ((*writer)->durable_sequence().load(), 5000u);
    ASSERT_TRUE((*writer)->close().ok());
  }
#endif
}

TEST(JournalAllocation, SegmentSwitchToAPreparedSegmentAllocatesNothing) {
  SKIP_UNDER_SANITIZERS();
#ifndef QT_SANITIZER_BUILD
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
      }
      allocations += g_allocations.load();
    }
    EXPECT_EQ(failures, 0u);
    EXPECT_EQ((*writer)->stats().late_preparations.load(), 0u);
    EXPECT_EQ(allocations, 0u) << to_string(mode);
    ASSERT_TRUE((*writer)->close().ok());
  }
#endif
}

TEST(JournalAllocation, AgentDrainAndCommitAllocateNothing) {
  SKIP_UNDER_SANITIZERS();
#ifndef QT_SANITIZER_BUILD
  test::TempJournalDir dir("alloc_agent");
  JournalOptions options = test::small_options(dir.path(), Durability::kGroup, 4 << 20);
  options.group_commit_interval_ns = 0;
  auto writer = JournalWriter::open(options, 1);
  ASSERT_TRUE(writer.ok());
  auto ring = std::make_unique<JournalRing>();
  Doorbell doorbell;
  JournalAgent agent(**writer, *ring, &doorbell);
  uint64_t sequence = 1;
  {
    Armed armed;
    for (int round = 0; round < 20; ++round) {
      for (int i = 0; i < 300; ++i) ring->try_push(test::sample_entry(sequence++));
      while (agent.durable_sequence().load() < sequence - 1) agent.do_work();
    }
  }
  EXPECT_EQ(g_allocations.load(), 0u);
  EXPECT_FALSE(agent.failed());
  EXPECT_EQ(agent.durable_sequence().load(), 6000u);
  agent.on_close();
#endif
}

}  // namespace
}  // namespace qt::persist
