// Allocation counting for the tests and benchmarks that prove a path allocation-free.
//
// A program gets it by linking the OBJECT library qt_alloc_counter, whose definitions land in
// the executable itself: malloc, calloc, realloc, free, aligned_alloc, memalign, posix_memalign
// and every global operator new/delete are replaced by versions that count and forward to the
// process allocator — mimalloc when the program links it, glibc's malloc otherwise. operator new
// is counted as the malloc it makes, whichever allocator serves it.
//
// An AllocationWindow counts the calls made while it is open, on every thread (kAll) or only on
// threads marked counted (kMarked: the hot-path thread, not a writer's helper thread). One window
// at a time: opening a second aborts. Outside a window a call costs one relaxed atomic load;
// reading the per-thread mark never allocates (static TLS of the executable).
//
// Sanitizer builds (QT_SANITIZER_BUILD) replace nothing, their runtimes own malloc:
// allocation_counting_available() is false there, windows count nothing, and tests skip.
#pragma once

#include <cstddef>
#include <cstdint>

namespace qt::testing {

inline constexpr const char* kAllocationCountingUnavailable =
    "allocation counting needs the plain process allocator: sanitizer runtimes own malloc; "
    "run the release or debug preset";

bool allocation_counting_available() noexcept;

// Marks (or unmarks) the calling thread for kMarked windows; returns the previous mark. A thread
// keeps its mark until changed (e.g. set once from a thread-start callback).
bool mark_this_thread_counted(bool counted) noexcept;

// Marks the calling thread for its lifetime, then restores the previous mark.
class CountedThread {
 public:
  CountedThread() noexcept : previous_(mark_this_thread_counted(true)) {}
  ~CountedThread() { mark_this_thread_counted(previous_); }
  CountedThread(const CountedThread&) = delete;
  CountedThread& operator=(const CountedThread&) = delete;

 private:
  bool previous_;
};

enum class CountedThreads { kMarked, kAll };

class AllocationWindow {
 public:
  // Zeroes the counts and opens. malloc() calls of exactly `set_apart_malloc_size` bytes (0:
  // none) are counted apart, for a third-party allocation a test accounts for on its own.
  explicit AllocationWindow(CountedThreads threads, std::size_t set_apart_malloc_size = 0) noexcept;
  ~AllocationWindow() { close(); }
  AllocationWindow(const AllocationWindow&) = delete;
  AllocationWindow& operator=(const AllocationWindow&) = delete;

  // Stops counting; the counts stay readable until the next window opens.
  void close() noexcept;
  // Counted calls, the set-apart ones excluded.
  uint64_t allocations() const noexcept;
  uint64_t set_apart() const noexcept;

 private:
  bool open_ = false;
};

// One operator new on this thread inside a window of its own: what the window counted (≥ 1
// unless counting is broken in this program). Each allocation test's first sanity check.
uint64_t allocations_counted_for_one_new();

}  // namespace qt::testing
