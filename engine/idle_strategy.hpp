// What a thread does when its agents found no work: spin, yield, or park.
//
//  spin   never sleeps: the lowest hand-off latency, one whole core (for isolated cores).
//  yield  sched_yield() between polls: still a whole core when nothing else wants it.
//  park   after real work, spins for a budget of spin_ns (work that follows work — the next
//         quote of a burst, a fill after an order — is picked up without a wake-up),
//         then sleeps on the thread's Doorbell until a producer rings it or the agents' next
//         deadline comes. A wake-up that finds no work parks again at once: the spin budget
//         restarts only after real work, so an idle parked thread costs one wake-up per
//         deadline (bench/idle_bench.cpp; README, "Agents and threads").
//
// Doorbell::ring() is called by producers after they push to a ring this thread consumes. It
// costs one locked read-modify-write when the consumer is awake; a wake-up system call only
// when it is parked. The protocol cannot lose a wake-up: the producer's RMW on `waiters_` and
// the consumer's are totally ordered, so either the producer sees the waiter and wakes it, or
// the consumer's RMW synchronises with the producer's and its re-poll sees the pushed message;
// the consumer then sleeps on the epoch it read before re-polling, so a ring() in between
// changes the epoch and the futex returns at once.
#pragma once

#include <atomic>
#include <cstdint>
#include <string_view>

#include "engine/clock.hpp"

namespace qt {

enum class WaitMode : uint8_t { kSpin, kYield, kPark };
std::string_view to_string(WaitMode mode);

class Doorbell {
 public:
  void ring() noexcept {
    // An RMW rather than fence + load: same cost on x86, and ThreadSanitizer models it.
    if (waiters_.fetch_add(0, std::memory_order_seq_cst) != 0) wake();
  }

  // Consumer side of the protocol, used by IdleStrategy.
  uint32_t prepare_wait() noexcept {
    waiters_.fetch_add(1, std::memory_order_seq_cst);
    return epoch_.load(std::memory_order_seq_cst);
  }
  void wait(uint32_t epoch, int64_t timeout_ns) noexcept;
  // Until a ring or the now_ns() instant `deadline_ns` (kNoDeadline: until a ring).
  void wait_until(uint32_t epoch, int64_t deadline_ns) noexcept;
  void cancel_wait() noexcept { waiters_.fetch_sub(1, std::memory_order_seq_cst); }
  uint64_t wakeups() const noexcept { return wakeups_.load(std::memory_order_relaxed); }
  bool has_waiter() const noexcept { return waiters_.load(std::memory_order_seq_cst) != 0; }

 private:
  void wake() noexcept;

  alignas(64) std::atomic<uint32_t> epoch_{0};
  std::atomic<uint32_t> waiters_{0};
  std::atomic<uint64_t> wakeups_{0};
};

class IdleStrategy {
 public:
  // About what a wake-up costs here (~4 µs within the hypervisor's halt-poll window, ~130 µs
  // after it): spinning longer buys little latency for much CPU (bench/idle_bench.cpp).
  static constexpr int64_t kDefaultSpinNs = 20'000;

  IdleStrategy(WaitMode mode, Doorbell* doorbell, int64_t spin_ns = kDefaultSpinNs)
      : mode_(mode), doorbell_(doorbell), spin_ns_(spin_ns) {}

  // Called after each duty cycle with the work it did. `repoll` runs the duty cycle once more
  // after announcing the park, closing the race with a producer that pushed just before;
  // `next_deadline` (asked after it) bounds the park, on the now_ns() clock.
  template <typename Repoll, typename NextDeadline>
  void idle(int work_done, Repoll&& repoll, NextDeadline&& next_deadline) {
    if (work_done > 0) {
      after_work_ = true;
      return;
    }
    switch (mode_) {
      case WaitMode::kSpin: cpu_relax(); return;
      case WaitMode::kYield: yield(); return;
      case WaitMode::kPark: {
        const int64_t now = now_ns();
        if (after_work_) {
          after_work_ = false;
          spin_until_ns_ = now + spin_ns_;
        }
        if (now < spin_until_ns_ || doorbell_ == nullptr) {
          cpu_relax();
          return;
        }
        const uint32_t epoch = doorbell_->prepare_wait();
        const int found = repoll();
        if (found == 0) {
          const int64_t deadline = next_deadline();
          if (deadline > now_ns()) doorbell_->wait_until(epoch, deadline);
        }
        doorbell_->cancel_wait();
        if (found > 0) after_work_ = true;
        return;
      }
    }
  }
  // Without deadlines: parks until a ring.
  template <typename Repoll>
  void idle(int work_done, Repoll&& repoll) {
    idle(work_done, repoll, [] { return kNoDeadline; });
  }
  WaitMode mode() const { return mode_; }

  static void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#else
    std::atomic_signal_fence(std::memory_order_seq_cst);
#endif
  }
  static void yield() noexcept;

 private:
  WaitMode mode_;
  Doorbell* doorbell_;
  int64_t spin_ns_;
  bool after_work_ = false;
  int64_t spin_until_ns_ = 0;
};

}  // namespace qt
