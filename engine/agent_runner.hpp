// AgentRunner: a named thread that runs one or more agents' duty cycles round-robin until
// stopped, optionally pinned to a CPU, idling with its own IdleStrategy; parked, it sleeps until
// its Doorbell rings or the earliest next_deadline_ns() of its agents.
//
// With one agent per runner this is the `dedicated` threading mode; with every agent on one
// runner it is `shared` (stages run to completion on one thread, no core crossing).
// build_runners() maps a stage list to runners for a ThreadingMode. start()/stop() are called
// by the owning (main) thread; stop() joins, after which on_close has run on the runner thread.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "engine/agent.hpp"
#include "engine/idle_strategy.hpp"

namespace qt {

enum class ThreadingMode : uint8_t { kAuto, kShared, kDedicated };

struct RunnerSpec {
  std::string thread_name;  // ≤ 15 characters are visible in top/ps
  int cpu = -1;             // -1 = let the scheduler place it
  WaitMode wait = WaitMode::kPark;
  int64_t spin_ns = IdleStrategy::kDefaultSpinNs;  // kPark: spin budget after work
};

class AgentRunner {
 public:
  AgentRunner(RunnerSpec spec, std::vector<Agent*> agents);
  ~AgentRunner();
  AgentRunner(const AgentRunner&) = delete;
  AgentRunner& operator=(const AgentRunner&) = delete;

  absl::Status start();
  void stop();  // idempotent; joins the thread

  Doorbell& doorbell() { return doorbell_; }
  const RunnerSpec& spec() const { return spec_; }
  const std::vector<Agent*>& agents() const { return agents_; }
  bool pinned() const { return pinned_.load(std::memory_order_acquire); }

  // One duty cycle over all agents; exposed for single-threaded tests and benchmarks.
  int do_work_once();
  // The earliest of the agents' next_deadline_ns() (runner thread).
  int64_t next_deadline_ns() const;

 private:
  void run();

  RunnerSpec spec_;
  std::vector<Agent*> agents_;
  Doorbell doorbell_;
  std::atomic<bool> running_{false};
  std::atomic<bool> pinned_{false};
  std::thread thread_;
};

// Resolves kAuto: dedicated threads only where there are cores to give each stage one.
ThreadingMode resolve_threading_mode(ThreadingMode requested, unsigned hardware_threads);

struct StageSpec {
  Agent* agent;
  RunnerSpec runner;  // used as-is in dedicated mode; in shared mode only the first one's
                      // cpu and wait are used, and the thread is named "qt-shared"
};
std::vector<std::unique_ptr<AgentRunner>> build_runners(ThreadingMode mode,
                                                        const std::vector<StageSpec>& stages);

}  // namespace qt
