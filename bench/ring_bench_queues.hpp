// The message and the three queues ring_bench compares, behind one interface (push/pop that
// return false when full/empty): qt::SpscRing, moodycamel::ReaderWriterQueue and
// boost::lockfree::spsc_queue, each with room for kCapacity 64-byte messages and allocating
// nothing after construction. Shared by the program's cross-core rounds (ring_bench.cpp) and its
// single-thread Google Benchmark functions (ring_bench_same_thread.cpp).
#pragma once

#include <readerwriterqueue/readerwriterqueue.h>

#include <boost/lockfree/spsc_queue.hpp>
#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "engine/spsc_ring.hpp"
#include "engine/types.hpp"

namespace qt::bench {

// 64 bytes, aligned to a cache line so that every queue stores one message per line (boost and
// moodycamel align their storage to alignof(T) only; without this their slots would straddle
// lines and the comparison would measure the message layout, not the queue).
struct alignas(kCacheLine) BenchMessage {
  uint64_t sequence;
  uint64_t stamp_ticks;
  std::byte padding[48];
};
static_assert(sizeof(BenchMessage) == 64);
static_assert(std::is_trivially_copyable_v<BenchMessage>);

constexpr std::size_t kCapacity = 4096;
constexpr std::size_t kBatch = 32;

class OurRing {
 public:
  static constexpr const char* kName = "qt::SpscRing";
  bool push(const BenchMessage& message) noexcept { return ring_.try_push(message); }
  bool pop(BenchMessage& out) noexcept { return ring_.try_pop(out); }
  SpscRing<BenchMessage, kCapacity>& ring() noexcept { return ring_; }

 private:
  SpscRing<BenchMessage, kCapacity> ring_;
};

// Created with room for kCapacity messages; try_enqueue never allocates.
class MoodycamelQueue {
 public:
  static constexpr const char* kName = "moodycamel::ReaderWriterQueue";
  bool push(const BenchMessage& message) noexcept { return queue_.try_enqueue(message); }
  bool pop(BenchMessage& out) noexcept { return queue_.try_dequeue(out); }

 private:
  moodycamel::ReaderWriterQueue<BenchMessage> queue_{kCapacity};
};

// Compile-time capacity: storage is inline, nothing allocates.
class BoostQueue {
 public:
  static constexpr const char* kName = "boost::lockfree::spsc_queue";
  bool push(const BenchMessage& message) noexcept { return queue_.push(message); }
  bool pop(BenchMessage& out) noexcept { return queue_.pop(out); }

 private:
  boost::lockfree::spsc_queue<BenchMessage, boost::lockfree::capacity<kCapacity>> queue_;
};

}  // namespace qt::bench
