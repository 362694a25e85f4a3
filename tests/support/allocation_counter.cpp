#include "tests/support/allocation_counter.hpp"

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <new>
#include <vector>

namespace qt::testing {
namespace {

enum Mode : int { kClosed, kOpening, kMarkedThreads, kAllThreads };

std::atomic<int> g_mode{kClosed};
std::atomic<std::size_t> g_set_apart_size{0};
std::atomic<uint64_t> g_allocations{0};
std::atomic<uint64_t> g_set_apart{0};
// Static TLS of the executable: reading it never calls malloc (a dynamic TLS block would).
thread_local bool t_counted __attribute__((tls_model("initial-exec"))) = false;

}  // namespace

#ifdef QT_SANITIZER_BUILD
bool allocation_counting_available() noexcept {
  return false;
}
#else
bool allocation_counting_available() noexcept {
  return true;
}

namespace {
// malloc_size: the size asked of malloc() (and so of operator new), 0 for the other calls.
void count(std::size_t malloc_size = 0) noexcept {
  const int mode = g_mode.load(std::memory_order_relaxed);
  if (mode != kAllThreads && (mode != kMarkedThreads || !t_counted)) return;
  if (malloc_size != 0 && malloc_size == g_set_apart_size.load(std::memory_order_relaxed)) {
    g_set_apart.fetch_add(1, std::memory_order_relaxed);
  } else {
    g_allocations.fetch_add(1, std::memory_order_relaxed);
  }
}
}  // namespace
#endif

bool mark_this_thread_counted(bool counted) noexcept {
  const bool previous = t_counted;
  t_counted = counted;
  return previous;
}

AllocationWindow::AllocationWindow(CountedThreads threads,
                                   std::size_t set_apart_malloc_size) noexcept {
  int closed = kClosed;
  if (!g_mode.compare_exchange_strong(closed, kOpening)) {
    std::fputs("AllocationWindow: a window is already open (one at a time)\n", stderr);
    std::abort();
  }
  g_set_apart_size.store(set_apart_malloc_size, std::memory_order_relaxed);
  g_allocations.store(0, std::memory_order_relaxed);
  g_set_apart.store(0, std::memory_order_relaxed);
  g_mode.store(threads == CountedThreads::kAll ? kAllThreads : kMarkedThreads,
               std::memory_order_release);
  open_ = true;
}

void AllocationWindow::close() noexcept {
  if (!open_) return;
  g_mode.store(kClosed, std::memory_order_release);
  open_ = false;
}

uint64_t AllocationWindow::allocations() const noexcept {
  return g_allocations.load(std::memory_order_acquire);
}

uint64_t AllocationWindow::set_apart() const noexcept {
  return g_set_apart.load(std::memory_order_acquire);
}

uint64_t allocations_counted_for_one_new() {
  const CountedThread this_thread;
  AllocationWindow window(CountedThreads::kMarked);
  auto* allocated = new std::vector<int>(100);
  window.close();
  delete allocated;
  return window.allocations();
}

}  // namespace qt::testing

#ifndef QT_SANITIZER_BUILD
// ---- the replacements ---------------------------------------------------------------------------
// Forwarded to mimalloc's entry points when the program links it (the weak references are then
// bound), else to glibc's.
extern "C" {
void* __libc_malloc(size_t);
void* __libc_calloc(size_t, size_t);
void* __libc_realloc(void*, size_t);
void* __libc_memalign(size_t, size_t);
void __libc_free(void*);
void* mi_malloc(size_t) noexcept __attribute__((weak));
void* mi_calloc(size_t, size_t) noexcept __attribute__((weak));
void* mi_realloc(void*, size_t) noexcept __attribute__((weak));
void* mi_malloc_aligned(size_t, size_t) noexcept __attribute__((weak));
void mi_free(void*) noexcept __attribute__((weak));
}

namespace {
void* allocate_aligned(std::size_t alignment, std::size_t size) noexcept {
  return mi_malloc_aligned != nullptr ? mi_malloc_aligned(size, alignment)
                                      : __libc_memalign(alignment, size);
}

bool valid_alignment(std::size_t alignment) noexcept {
  return alignment != 0 && (alignment & (alignment - 1)) == 0;
}

// operator new's contract: never null; the new-handler, else std::bad_alloc.
void* new_or_throw(std::size_t size, std::size_t alignment) {
  if (size == 0) size = 1;
  for (;;) {
    void* p = alignment == 0 ? std::malloc(size) : std::aligned_alloc(alignment, size);
    if (p != nullptr) return p;
    const std::new_handler handler = std::get_new_handler();
    if (handler == nullptr) throw std::bad_alloc();
    handler();
  }
}

void* new_or_null(std::size_t size, std::size_t alignment) noexcept {
  try {
    return new_or_throw(size, alignment);
  } catch (...) {
    return nullptr;
  }
}
}  // namespace

extern "C" {
void* malloc(size_t size) noexcept {
  qt::testing::count(size);
  return mi_malloc != nullptr ? mi_malloc(size) : __libc_malloc(size);
}
void* calloc(size_t n, size_t size) noexcept {
  qt::testing::count();
  return mi_calloc != nullptr ? mi_calloc(n, size) : __libc_calloc(n, size);
}
void* realloc(void* p, size_t size) noexcept {
  qt::testing::count();
  return mi_realloc != nullptr ? mi_realloc(p, size) : __libc_realloc(p, size);
}
void free(void* p) noexcept {
  if (mi_free != nullptr) {
    mi_free(p);
  } else {
    __libc_free(p);
  }
}
void* aligned_alloc(size_t alignment, size_t size) noexcept {
  qt::testing::count();
  if (!valid_alignment(alignment)) {
    errno = EINVAL;
    return nullptr;
  }
  return allocate_aligned(alignment, size);
}
void* memalign(size_t alignment, size_t size) noexcept {
  qt::testing::count();
  return allocate_aligned(alignment, size);
}
int posix_memalign(void** out, size_t alignment, size_t size) noexcept {
  qt::testing::count();
  if (!valid_alignment(alignment) || alignment % sizeof(void*) != 0) return EINVAL;
  void* p = allocate_aligned(alignment, size);
  if (p == nullptr) return ENOMEM;
  *out = p;
  return 0;
}
}

void* operator new(std::size_t size) {
  return new_or_throw(size, 0);
}
void* operator new[](std::size_t size) {
  return new_or_throw(size, 0);
}
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  return new_or_null(size, 0);
}
void* operator new[](std::size_t size, const std::nothrow_t&) noexcept {
  return new_or_null(size, 0);
}
void* operator new(std::size_t size, std::align_val_t alignment) {
  return new_or_throw(size, static_cast<std::size_t>(alignment));
}
void* operator new[](std::size_t size, std::align_val_t alignment) {
  return new_or_throw(size, static_cast<std::size_t>(alignment));
}
void* operator new(std::size_t size, std::align_val_t alignment, const std::nothrow_t&) noexcept {
  return new_or_null(size, static_cast<std::size_t>(alignment));
}
void* operator new[](std::size_t size, std::align_val_t alignment, const std::nothrow_t&) noexcept {
  return new_or_null(size, static_cast<std::size_t>(alignment));
}

void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete[](void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
  std::free(p);
}
void operator delete[](void* p, std::size_t) noexcept {
  std::free(p);
}
void operator delete(void* p, const std::nothrow_t&) noexcept {
  std::free(p);
}
void operator delete[](void* p, const std::nothrow_t&) noexcept {
  std::free(p);
}
void operator delete(void* p, std::align_val_t) noexcept {
  std::free(p);
}
void operator delete[](void* p, std::align_val_t) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t, std::align_val_t) noexcept {
  std::free(p);
}
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept {
  std::free(p);
}
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept {
  std::free(p);
}
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept {
  std::free(p);
}
#endif
