#include "engine/idle_strategy.hpp"

#include <linux/futex.h>
#include <sched.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

namespace qt {

std::string_view to_string(WaitMode mode) {
  switch (mode) {
    case WaitMode::kSpin: return "spin";
    case WaitMode::kYield: return "yield";
    case WaitMode::kPark: return "park";
  }
  return "?";
}

void IdleStrategy::yield() noexcept {
  ::sched_yield();
}

void Doorbell::wait(uint32_t epoch, int64_t timeout_ns) noexcept {
  timespec timeout{static_cast<time_t>(timeout_ns / 1'000'000'000),
                   static_cast<long>(timeout_ns % 1'000'000'000)};
  ::syscall(SYS_futex, reinterpret_cast<uint32_t*>(&epoch_), FUTEX_WAIT_PRIVATE, epoch, &timeout,
            nullptr, 0);
}

void Doorbell::wait_until(uint32_t epoch, int64_t deadline_ns) noexcept {
  // FUTEX_WAIT_BITSET takes an absolute CLOCK_MONOTONIC deadline, the clock of now_ns().
  const timespec deadline{static_cast<time_t>(deadline_ns / 1'000'000'000),
                          static_cast<long>(deadline_ns % 1'000'000'000)};
  ::syscall(SYS_futex, reinterpret_cast<uint32_t*>(&epoch_), FUTEX_WAIT_BITSET_PRIVATE, epoch,
            deadline_ns == kNoDeadline ? nullptr : &deadline, nullptr, FUTEX_BITSET_MATCH_ANY);
}

void Doorbell::wake() noexcept {
  epoch_.fetch_add(1, std::memory_order_seq_cst);
  wakeups_.fetch_add(1, std::memory_order_relaxed);
  ::syscall(SYS_futex, reinterpret_cast<uint32_t*>(&epoch_), FUTEX_WAKE_PRIVATE, 1, nullptr,
            nullptr, 0);
}

}  // namespace qt
