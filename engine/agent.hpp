// Agent: one stage of the pipeline (feed, engine, venue, …) as a duty cycle. do_work() polls
// the agent's input rings, does what it can without blocking and returns how much it did; the
// runner that owns the agent decides what to do when it returns 0 (spin, yield or park).
//
// An agent is driven by exactly one thread at a time, chosen by the threading mode; on_start
// and on_close run on that same thread.
#pragma once

#include <string_view>

namespace qt {

class Agent {
 public:
  virtual ~Agent() = default;
  virtual std::string_view name() const = 0;
  virtual void on_start() {}
  // Returns the number of work items done; 0 means idle.
  virtual int do_work() = 0;
  virtual void on_close() {}
};

}  // namespace qt
