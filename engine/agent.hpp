// Agent: one stage of the pipeline (feed, engine, venue, …) as a duty cycle. do_work() polls
// the agent's input rings, does what it can without blocking and returns how much it did; the
// runner that owns the agent decides what to do when it returns 0 (spin, yield or park).
//
// A parked runner wakes when a producer rings its Doorbell or at the earliest next_deadline_ns()
// of its agents, nothing else: work that no ring announces (a timer, a paced send, a retry) must
// be declared as a deadline, and another thread that sets a flag an agent polls must ring.
//
// An agent is driven by exactly one thread at a time, chosen by the threading mode; on_start,
// do_work, next_deadline_ns and on_close run on that same thread.
#pragma once

#include <cstdint>
#include <string_view>

#include "engine/clock.hpp"

namespace qt {

class Agent {
 public:
  virtual ~Agent() = default;
  virtual std::string_view name() const = 0;
  virtual void on_start() {}
  // Returns the number of work items done; 0 means idle.
  virtual int do_work() = 0;
  // When do_work() next has work that no doorbell ring announces, on the now_ns() clock;
  // kNoDeadline when only a ring brings work. Asked only after a duty cycle found nothing.
  virtual int64_t next_deadline_ns() const { return kNoDeadline; }
  virtual void on_close() {}
};

}  // namespace qt
