// OutputQueue: what the engine sends out — venue requests and order updates — held in the order
// it produced them until they may leave. With a write-ahead log an output leaves once the event
// that produced it is durable (a client hears "accepted" only for an order the journal holds);
// order updates wait in any case until the engine has finished the work that produced them, so a
// strategy's callback never runs inside other engine work (see Engine::release_outputs).
//
// Engine thread only. Fixed capacity, allocated at construction; push and pop never allocate.
#pragma once

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
  explicit OutputQueue(std::size_t capacity) : slots_(capacity) {}

  std::size_t size() const { return count_; }
  std::size_t room() const { return slots_.size() - count_; }
  bool empty() const { return count_ == 0; }

  // False when full (callers reserve room first: a full queue is a bug, counted by the engine).
  bool push(const EngineOutput& output) {
    if (count_ == slots_.size()) return false;
    slots_[(head_ + count_) % slots_.size()] = output;
    ++count_;
    return true;
  }
  const EngineOutput& front() const { return slots_[head_]; }
  void pop() {
    head_ = (head_ + 1) % slots_.size();
    --count_;
  }

 private:
  std::vector<EngineOutput> slots_;
  std::size_t head_ = 0;
  std::size_t count_ = 0;
};

}  // namespace qt
