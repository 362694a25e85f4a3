// The allocation counter itself (tests/support/allocation_counter.hpp): which calls it counts,
// on which threads, and that it forwards to the allocator the program links. Built twice:
// against glibc's malloc, and linked with mimalloc (QT_EXPECT_MIMALLOC) as the benchmarks of the
// binary's paths are.
#include "tests/support/allocation_counter.hpp"

#include <gtest/gtest.h>
#include <malloc.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <thread>

#include "tests/support/process_allocator.hpp"

// Weak: bound only when the program links mimalloc.
extern "C" bool mi_is_in_heap_region(const void* p) noexcept __attribute__((weak));

namespace qt::testing {
namespace {

// Calls the compiler may not elide (they escape through a volatile sink).
void* volatile g_sink = nullptr;

#define SKIP_WITHOUT_COUNTING() \
  if (!allocation_counting_available()) GTEST_SKIP() << kAllocationCountingUnavailable

TEST(AllocationCounter, ServesThroughTheAllocatorTheProgramLinks) {
  void* from_malloc = std::malloc(100);
  auto from_new = std::make_unique<std::string>(100, 'x');
#ifdef QT_EXPECT_MIMALLOC
  EXPECT_TRUE(mimalloc_linked());
  EXPECT_EQ(process_allocator_name().rfind("mimalloc ", 0), 0u) << process_allocator_name();
  ASSERT_TRUE(mi_is_in_heap_region != nullptr);
  EXPECT_TRUE(mi_is_in_heap_region(from_malloc));
  EXPECT_TRUE(mi_is_in_heap_region(from_new.get()));
  EXPECT_TRUE(mi_is_in_heap_region(from_new->data()));
#else
  EXPECT_FALSE(mimalloc_linked());
  EXPECT_EQ(process_allocator_name(), "glibc malloc");
  EXPECT_TRUE(mi_is_in_heap_region == nullptr);
  EXPECT_GE(malloc_usable_size(from_malloc), 100u);
#endif
  std::free(from_malloc);
}

TEST(AllocationCounter, CountsEveryAllocatingEntryPointOnce) {
  SKIP_WITHOUT_COUNTING();
  const CountedThread this_thread;
  AllocationWindow window(CountedThreads::kMarked);
  void* a = std::malloc(24);  // 1
  g_sink = a;
  void* b = std::calloc(3, 8);  // 2
  g_sink = b;
  a = std::realloc(a, 4000);  // 3
  g_sink = a;
  void* c = std::aligned_alloc(64, 128);  // 4
  g_sink = c;
  void* d = memalign(64, 100);  // 5
  g_sink = d;
  void* e = nullptr;
  ASSERT_EQ(posix_memalign(&e, 64, 100), 0);         // 6
  auto f = std::make_unique<std::string>(100, 'x');  // 7: the object, 8: its buffer
  g_sink = f.get();
  auto g = std::make_unique<char[]>(100);  // 9
  g_sink = g.get();
  struct alignas(128) Wide {
    char bytes[128];
  };
  auto h = std::make_unique<Wide>();  // 10: aligned operator new
  g_sink = h.get();
  auto* i = new (std::nothrow) int(5);  // 11
  g_sink = i;
  const uint64_t counted = window.allocations();
  std::free(a);
  std::free(b);
  std::free(c);
  std::free(d);
  std::free(e);
  delete i;
  f.reset();
  g.reset();
  h.reset();
  window.close();
  EXPECT_EQ(counted, 11u);
  EXPECT_EQ(window.allocations(), 11u) << "frees are not counted";
  EXPECT_EQ(reinterpret_cast<uintptr_t>(c) % 64, 0u);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(e) % 64, 0u);
}

TEST(AllocationCounter, AMarkedWindowCountsOnlyMarkedThreads) {
  SKIP_WITHOUT_COUNTING();
  AllocationWindow window(CountedThreads::kMarked);
  std::thread unmarked([] { g_sink = new std::string(100, 'u'); });
  unmarked.join();
  delete static_cast<std::string*>(g_sink);
  EXPECT_EQ(window.allocations(), 0u);
  g_sink = std::malloc(10);  // this thread is not marked either
  std::free(g_sink);
  EXPECT_EQ(window.allocations(), 0u);
  std::thread marked([] {
    mark_this_thread_counted(true);
    g_sink = new std::string(100, 'm');
  });
  marked.join();
  delete static_cast<std::string*>(g_sink);
  EXPECT_EQ(window.allocations(), 2u);  // the string and its buffer
}

TEST(AllocationCounter, AWindowOnAllThreadsCountsThemAll) {
  SKIP_WITHOUT_COUNTING();
  std::atomic<int> step{0};
  std::thread other([&] {  // started before the window: creating a thread allocates
    while (step.load() != 1) std::this_thread::yield();
    void* p = std::malloc(10);
    g_sink = p;
    std::free(p);
    step.store(2);
  });
  uint64_t counted = 0;
  {
    AllocationWindow window(CountedThreads::kAll);
    g_sink = std::malloc(10);
    std::free(g_sink);
    step.store(1);
    while (step.load() != 2) std::this_thread::yield();
    counted = window.allocations();
  }
  other.join();
  EXPECT_EQ(counted, 2u);
}

TEST(AllocationCounter, CountsNothingOutsideAWindowAndRestartsAtZero) {
  SKIP_WITHOUT_COUNTING();
  const CountedThread this_thread;
  {
    AllocationWindow first(CountedThreads::kMarked);
    g_sink = std::malloc(10);
    std::free(g_sink);
    EXPECT_EQ(first.allocations(), 1u);
  }
  g_sink = std::malloc(10);  // no window open
  std::free(g_sink);
  AllocationWindow second(CountedThreads::kMarked);
  EXPECT_EQ(second.allocations(), 0u);
}

TEST(AllocationCounter, SetsApartMallocsOfTheGivenSize) {
  SKIP_WITHOUT_COUNTING();
  const CountedThread this_thread;
  AllocationWindow window(CountedThreads::kMarked, 40);
  for (std::size_t size : {40, 40, 41}) {
    g_sink = std::malloc(size);
    std::free(g_sink);
  }
  g_sink = std::calloc(1, 40);  // not a malloc(): counted as any other
  std::free(g_sink);
  EXPECT_EQ(window.set_apart(), 2u);
  EXPECT_EQ(window.allocations(), 2u);
}

TEST(AllocationCounter, MarksRestoreThePreviousOne) {
  EXPECT_FALSE(mark_this_thread_counted(false));
  {
    const CountedThread outer;
    EXPECT_TRUE(mark_this_thread_counted(true));
  }
  EXPECT_FALSE(mark_this_thread_counted(false));
}

TEST(AllocationCounter, OneNewIsCounted) {
  SKIP_WITHOUT_COUNTING();
  EXPECT_GE(allocations_counted_for_one_new(), 1u);
}

TEST(AllocationCounterDeathTest, ASecondWindowAborts) {
  SKIP_WITHOUT_COUNTING();
  EXPECT_DEATH(
      {
        AllocationWindow first(CountedThreads::kAll);
        AllocationWindow second(CountedThreads::kAll);
      },
      "already open");
}

}  // namespace
}  // namespace qt::testing
