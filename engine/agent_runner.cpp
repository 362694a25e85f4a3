#include "engine/agent_runner.hpp"

#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace qt {

AgentRunner::AgentRunner(RunnerSpec spec, std::vector<Agent*> agents)
    : spec_(std::move(spec)), agents_(std::move(agents)) {}

AgentRunner::~AgentRunner() {
  stop();
}

int AgentRunner::do_work_once() {
  int work = 0;
  for (Agent* agent : agents_) work += agent->do_work();
  return work;
}

int64_t AgentRunner::next_deadline_ns() const {
  int64_t deadline = kNoDeadline;
  for (const Agent* agent : agents_) deadline = std::min(deadline, agent->next_deadline_ns());
  return deadline;
}

absl::Status AgentRunner::start() {
  if (running_.exchange(true)) return absl::FailedPreconditionError("runner already started");
  if (spec_.cpu >= 0 && spec_.cpu >= static_cast<int>(std::thread::hardware_concurrency())) {
    running_ = false;
    return absl::InvalidArgumentError(
        absl::StrCat("thread ", spec_.thread_name, ": cpu ", spec_.cpu, " does not exist"));
  }
  thread_ = std::thread([this] { run(); });
  return absl::OkStatus();
}

void AgentRunner::stop() {
  if (!thread_.joinable()) return;
  running_.store(false, std::memory_order_release);
  doorbell_.ring();
  thread_.join();
}

void AgentRunner::run() {
  const std::string name = spec_.thread_name.substr(0, 15);
  ::pthread_setname_np(::pthread_self(), name.c_str());
  if (spec_.cpu >= 0) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(spec_.cpu, &set);
    pinned_.store(::pthread_setaffinity_np(::pthread_self(), sizeof(set), &set) == 0,
                  std::memory_order_release);
  }
  for (Agent* agent : agents_) agent->on_start();
  IdleStrategy idle(spec_.wait, &doorbell_, spec_.spin_ns);
  while (running_.load(std::memory_order_acquire)) {
    idle.idle(
        do_work_once(),
        [this] { return running_.load(std::memory_order_acquire) ? do_work_once() : 1; },
        [this] { return next_deadline_ns(); });
  }
  for (Agent* agent : agents_) agent->on_close();
}

ThreadingMode resolve_threading_mode(ThreadingMode requested, unsigned hardware_threads) {
  if (requested != ThreadingMode::kAuto) return requested;
  // A hop between cores costs more than a stage's work unless each stage can own a core and
  // the OS still has one left over.
  return hardware_threads >= 4 ? ThreadingMode::kDedicated : ThreadingMode::kShared;
}

std::vector<std::unique_ptr<AgentRunner>> build_runners(ThreadingMode mode,
                                                        const std::vector<StageSpec>& stages) {
  std::vector<std::unique_ptr<AgentRunner>> runners;
  if (stages.empty()) return runners;
  if (mode == ThreadingMode::kDedicated) {
    for (const StageSpec& stage : stages) {
      runners.push_back(std::make_unique<AgentRunner>(stage.runner, std::vector{stage.agent}));
    }
    return runners;
  }
  std::vector<Agent*> agents;
  for (const StageSpec& stage : stages) agents.push_back(stage.agent);
  RunnerSpec shared = stages.front().runner;
  shared.thread_name = "qt-shared";
  runners.push_back(std::make_unique<AgentRunner>(shared, std::move(agents)));
  return runners;
}

}  // namespace qt
