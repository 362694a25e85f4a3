// SpscRing: a bounded, lock-free, single-producer single-consumer queue of trivially copyable
// messages — the only way stages of the pipeline talk to each other.
//
// Guarantees:
//  - exactly one producer thread calls try_push/try_push_batch/producer_room and exactly one
//    consumer thread calls try_pop/drain; any thread may read size_approx();
//  - no allocation after construction (storage is inline), no locks, no system calls;
//  - FIFO order, nothing lost or duplicated (tests/spsc_ring_test.cpp pushes 10M sequenced
//    messages under TSan);
//  - head and tail live on their own cache lines, each side keeps a cached copy of the other
//    side's index so the shared line is only read when the cached view says full/empty.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "engine/types.hpp"

namespace qt {

template <typename T, std::size_t Capacity>
class SpscRing {
  static_assert(std::is_trivially_copyable_v<T>, "ring messages are copied as raw bytes");
  static_assert(Capacity >= 2 && (Capacity & (Capacity - 1)) == 0,
                "capacity must be a power of two");

 public:
  static constexpr std::size_t kCapacity = Capacity;

  SpscRing() = default;
  SpscRing(const SpscRing&) = delete;
  SpscRing& operator=(const SpscRing&) = delete;

  // Producer side. Returns false, without blocking, when the ring is full.
  bool try_push(const T& message) noexcept {
    const uint64_t tail = producer_.tail.load(std::memory_order_relaxed);
    if (tail - producer_.cached_head >= Capacity) {
      producer_.cached_head = consumer_.head.load(std::memory_order_acquire);
      if (tail - producer_.cached_head >= Capacity) return false;
    }
    slots_[tail & kMask] = message;
    producer_.tail.store(tail + 1, std::memory_order_release);
    return true;
  }

  // Producer side. Pushes up to `count` messages, returns how many fit.
  std::size_t try_push_batch(const T* messages, std::size_t count) noexcept {
    const uint64_t tail = producer_.tail.load(std::memory_order_relaxed);
    std::size_t free_slots = Capacity - static_cast<std::size_t>(tail - producer_.cached_head);
    if (free_slots < count) {
      producer_.cached_head = consumer_.head.load(std::memory_order_acquire);
      free_slots = Capacity - static_cast<std::size_t>(tail - producer_.cached_head);
    }
    const std::size_t n = count < free_slots ? count : free_slots;
    for (std::size_t i = 0; i < n; ++i) slots_[(tail + i) & kMask] = messages[i];
    if (n != 0) producer_.tail.store(tail + n, std::memory_order_release);
    return n;
  }

  // Producer side. A lower bound on the free slots that is at least `wanted` whenever that many
  // are free. The consumer's index is read only when the cached view shows fewer than `wanted`,
  // so a producer that checks before every push costs no cache-line transfer while the ring has
  // room (size_approx() reads the consumer's line every time, a cross-core miss when it drains).
  std::size_t producer_room(std::size_t wanted) noexcept {
    const uint64_t tail = producer_.tail.load(std::memory_order_relaxed);
    std::size_t room = Capacity - static_cast<std::size_t>(tail - producer_.cached_head);
    if (room >= wanted) return room;
    producer_.cached_head = consumer_.head.load(std::memory_order_acquire);
    return Capacity - static_cast<std::size_t>(tail - producer_.cached_head);
  }

  // Consumer side. Returns false when the ring is empty.
  bool try_pop(T& out) noexcept {
    const uint64_t head = consumer_.head.load(std::memory_order_relaxed);
    if (head == consumer_.cached_tail) {
      consumer_.cached_tail = producer_.tail.load(std::memory_order_acquire);
      if (head == consumer_.cached_tail) return false;
    }
    out = slots_[head & kMask];
    consumer_.head.store(head + 1, std::memory_order_release);
    return true;
  }

  // Consumer side. Calls handler(const T&) for up to `limit` messages in order, then releases
  // their slots to the producer in one store. Returns how many were handled. The handler must
  // not touch this ring's consumer side.
  template <typename Handler>
  std::size_t drain(Handler&& handler, std::size_t limit = Capacity) noexcept(
      noexcept(handler(std::declval<const T&>()))) {
    const uint64_t head = consumer_.head.load(std::memory_order_relaxed);
    uint64_t available = consumer_.cached_tail - head;
    if (available == 0) {
      consumer_.cached_tail = producer_.tail.load(std::memory_order_acquire);
      available = consumer_.cached_tail - head;
      if (available == 0) return 0;
    }
    const std::size_t n = available < limit ? static_cast<std::size_t>(available) : limit;
    for (std::size_t i = 0; i < n; ++i) handler(slots_[(head + i) & kMask]);
    consumer_.head.store(head + n, std::memory_order_release);
    return n;
  }

  // Approximate number of queued messages; exact when called by a side with the other idle.
  std::size_t size_approx() const noexcept {
    const uint64_t head = consumer_.head.load(std::memory_order_acquire);
    const uint64_t tail = producer_.tail.load(std::memory_order_acquire);
    return tail >= head ? static_cast<std::size_t>(tail - head) : 0;
  }
  bool empty_approx() const noexcept { return size_approx() == 0; }

 private:
  static constexpr uint64_t kMask = Capacity - 1;

  // Written by the producer: its index, plus its private view of the consumer's index.
  struct alignas(kCacheLine) ProducerSide {
    std::atomic<uint64_t> tail{0};
    uint64_t cached_head = 0;
  };
  // Written by the consumer.
  struct alignas(kCacheLine) ConsumerSide {
    std::atomic<uint64_t> head{0};
    uint64_t cached_tail = 0;
  };

  ProducerSide producer_;
  ConsumerSide consumer_;
  // Slots start on their own line so the first slot does not share one with consumer_.
  // Value-initialised: construction touches (pre-faults) every slot before the hot path does.
  alignas(kCacheLine) T slots_[Capacity]{};
};

}  // namespace qt
