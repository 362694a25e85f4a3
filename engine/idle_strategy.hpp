// What a thread does when its agents found no work: spin, yield, or park (spin a while, then
// sleep on a futex until a producer rings the thread's Doorbell or a short timeout passes).
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
  void cancel_wait() noexcept { waiters_.fetch_sub(1, std::memory_order_seq_cst); }
  uint64_t wakeups() const noexcept { return wakeups_.load(std::memory_order_relaxed); }

 private:
  void wake() noexcept;

  alignas(64) std::atomic<uint32_t> epoch_{0};
  std::atomic<uint32_t> waiters_{0};
  std::atomic<uint64_t> wakeups_{0};
};

class IdleStrategy {
 public:
  static constexpr int kSpinsBeforePark = 20'000;
  static constexpr int64_t kParkTimeoutNs = 1'000'000;  // timers still fire while parked

  // `spins_before_park`: idle duty cycles spent spinning before a park. Fewer leave the CPU to
  // others sooner (on a small VM, to the hypervisor's I/O thread: see bench/RESULTS.md, journal)
  // at the price of a wake-up (~20 µs here) for work that arrives later.
  IdleStrategy(WaitMode mode, Doorbell* doorbell, int spins_before_park = kSpinsBeforePark)
      : mode_(mode), doorbell_(doorbell), spins_before_park_(spins_before_park) {}

  // Called after each duty cycle with the work it did. `repoll` runs the duty cycle once more
  // after announcing the park, closing the race with a producer that pushed just before.
  template <typename Repoll>
  void idle(int work_done, Repoll&& repoll) {
    if (work_done > 0) {
      idle_spins_ = 0;
      return;
    }
    switch (mode_) {
      case WaitMode::kSpin: cpu_relax(); return;
      case WaitMode::kYield: yield(); return;
      case WaitMode::kPark:
        if (++idle_spins_ < spins_before_park_ || doorbell_ == nullptr) {
          cpu_relax();
          return;
        }
        const uint32_t epoch = doorbell_->prepare_wait();
        if (repoll() == 0) doorbell_->wait(epoch, kParkTimeoutNs);
        doorbell_->cancel_wait();
        idle_spins_ = 0;
        return;
    }
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
  int spins_before_park_;
  int idle_spins_ = 0;
};

}  // namespace qt
