// OutputQueue: what the engine sends out — venue requests and order updates — held in the order
// it produced them until they may leave: once the write-ahead event that produced them is durable,
// and a strategy's update until the duty cycle delivers it (engine/README.md).
//
// Engine thread only. Fixed power-of-two capacity, allocated at construction; nothing after
// that allocates. Outputs are built in place (append) and read in place (at), never copied.
#pragma once

#include <cassert>
#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <vector>

#include "engine/messages.hpp"

namespace qt {

struct EngineOutput {
  uint64_t sequence = 0;  // the write-ahead event it waits for; 0 = none
  bool venue_request = false;
  union {
    VenueRequest request;
    OrderUpdate update;
  };
  EngineOutput() : request() {}
};
static_assert(std::is_trivially_copyable_v<EngineOutput>);

class OutputQueue {
 public:
  // `capacity` must be a power of two.
  explicit OutputQueue(std::size_t capacity) : slots_(capacity), mask_(capacity - 1) {
    assert((capacity & mask_) == 0);
  }

  std::size_t size() const { return count_; }
  std::size_t room() const { return slots_.size() - count_; }
  bool empty() const { return count_ == 0; }

  // The next free slot, now counted as queued, for the caller to fill. Precondition: room() > 0
  // (callers reserve room first).
  EngineOutput& append() { return slots_[(head_ + count_++) & mask_]; }
  // The i-th queued output from the oldest (i < size()).
  const EngineOutput& at(std::size_t i) const { return slots_[(head_ + i) & mask_]; }
  // Drops the `n` oldest.
  void pop(std::size_t n) {
    head_ = (head_ + n) & mask_;
    count_ -= n;
  }

 private:
  std::vector<EngineOutput> slots_;
  std::size_t mask_;
  std::size_t head_ = 0;
  std::size_t count_ = 0;
};

}  // namespace qt
