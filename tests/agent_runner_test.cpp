// Threading modes and wait strategies: how stages map onto threads, that parked threads wake
// when a producer rings, that pinning and names are applied, and that the whole pipeline runs
// across real threads (run this suite under the tsan preset).
#include "engine/agent_runner.hpp"

#include <gtest/gtest.h>
#include <pthread.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include "engine/clock.hpp"
#include "engine/engine.hpp"
#include "engine/strategies/moving_average_crossover.hpp"
#include "engine/strategies/simple_quoter.hpp"
#include "feeds/sim/random_walk_feed.hpp"
#include "gateway/paper/paper_venue.hpp"
#include "tests/engine_test_support.hpp"

namespace qt {
namespace {

class CountingAgent final : public Agent {
 public:
  explicit CountingAgent(SpscRing<uint64_t, 1024>* input = nullptr) : input_(input) {}
  std::string_view name() const override { return "counting"; }
  void on_start() override {
    char name[16] = {};
    pthread_getname_np(pthread_self(), name, sizeof name);
    thread_name = name;
    started = true;
  }
  int do_work() override {
    cycles.fetch_add(1, std::memory_order_relaxed);
    if (input_ == nullptr) return 0;
    return static_cast<int>(input_->drain([this](const uint64_t& v) {
      received.fetch_add(1, std::memory_order_relaxed);
      last.store(v, std::memory_order_relaxed);
    }));
  }
  void on_close() override { closed = true; }

  SpscRing<uint64_t, 1024>* input_;
  std::atomic<uint64_t> cycles{0};
  std::atomic<uint64_t> received{0};
  std::atomic<uint64_t> last{0};
  std::string thread_name;
  bool started = false;
  bool closed = false;
};

TEST(ThreadingMode, AutoIsSharedBelowFourHardwareThreadsAndDedicatedFromFour) {
  EXPECT_EQ(resolve_threading_mode(ThreadingMode::kAuto, 1), ThreadingMode::kShared);
  EXPECT_EQ(resolve_threading_mode(ThreadingMode::kAuto, 2), ThreadingMode::kShared);
  EXPECT_EQ(resolve_threading_mode(ThreadingMode::kAuto, 4), ThreadingMode::kDedicated);
  EXPECT_EQ(resolve_threading_mode(ThreadingMode::kDedicated, 2), ThreadingMode::kDedicated);
  EXPECT_EQ(resolve_threading_mode(ThreadingMode::kShared, 64), ThreadingMode::kShared);
}

TEST(ThreadingMode, DedicatedGivesEachStageItsOwnNamedThread) {
  CountingAgent a, b;
  auto runners = build_runners(ThreadingMode::kDedicated, {{&a, {"qt-a", -1, WaitMode::kYield}},
                                                           {&b, {"qt-b", -1, WaitMode::kYield}}});
  ASSERT_EQ(runners.size(), 2u);
  for (auto& r : runners) ASSERT_TRUE(r->start().ok());
  while (a.cycles.load() == 0 || b.cycles.load() == 0) std::this_thread::yield();
  for (auto& r : runners) r->stop();
  EXPECT_EQ(a.thread_name, "qt-a");
  EXPECT_EQ(b.thread_name, "qt-b");
  EXPECT_TRUE(a.closed && b.closed);
}

TEST(ThreadingMode, SharedRunsEveryStageOnOneThread) {
  CountingAgent a, b;
  auto runners = build_runners(ThreadingMode::kShared, {{&a, {"qt-a", -1, WaitMode::kYield}},
                                                        {&b, {"qt-b", -1, WaitMode::kYield}}});
  ASSERT_EQ(runners.size(), 1u);
  ASSERT_TRUE(runners[0]->start().ok());
  while (a.cycles.load() == 0 || b.cycles.load() == 0) std::this_thread::yield();
  runners[0]->stop();
  EXPECT_EQ(a.thread_name, "qt-shared");
  EXPECT_EQ(b.thread_name, "qt-shared");
}

TEST(AgentRunner, PinsToTheRequestedCpu) {
  CountingAgent a;
  AgentRunner runner({"qt-pinned", 0, WaitMode::kYield}, {&a});
  ASSERT_TRUE(runner.start().ok());
  while (a.cycles.load() == 0) std::this_thread::yield();
  EXPECT_TRUE(runner.pinned());
  runner.stop();
}

TEST(AgentRunner, RefusesACpuThatDoesNotExist) {
  CountingAgent a;
  AgentRunner runner({"qt-bad", 4096, WaitMode::kYield}, {&a});
  EXPECT_FALSE(runner.start().ok());
}

// The consumer has no deadline, so it parks with no timeout at all: a wake-up the protocol lost
// would leave it asleep with a message on its ring, and the bounded wait below fails naming the
// push (a timeout in the park would have hidden it by re-polling). Pushes come at different
// moments of the consumer's cycle: while it spins, while it announces the park, once parked.
TEST(IdleStrategy, ParkedThreadWakesWhenTheProducerRingsAndNoWakeUpIsLost) {
  auto ring = std::make_unique<SpscRing<uint64_t, 1024>>();
  CountingAgent consumer(ring.get());
  ASSERT_EQ(consumer.next_deadline_ns(), kNoDeadline);
  AgentRunner runner({"qt-park", -1, WaitMode::kPark}, {&consumer});
  ASSERT_TRUE(runner.start().ok());
  for (uint64_t i = 1; i <= 300; ++i) {
    std::this_thread::sleep_for(std::chrono::microseconds(i % 10 == 0 ? 3000 : (i % 7) * 7));
    ASSERT_TRUE(ring->try_push(i));
    runner.doorbell().ring();
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (consumer.received.load() < i && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::yield();
    }
    if (consumer.received.load() != i) {
      // The stranded thread parks with no timeout: it could not be stopped and joined either,
      // so the test ends the process (a failure) instead of hanging in teardown.
      std::fprintf(stderr, "FAILED: push %llu: the parked consumer never woke (lost wake-up)\n",
                   static_cast<unsigned long long>(i));
      std::fflush(stderr);
      std::_Exit(1);
    }
  }
  runner.stop();
  EXPECT_EQ(consumer.last.load(), 300u);
  EXPECT_GT(runner.doorbell().wakeups(), 0u);  // at least some pushes found it parked
}

// An agent with work only at its deadlines: a timer firing every `period_ns`.
class TimerAgent final : public Agent {
 public:
  explicit TimerAgent(int64_t period_ns) : period_ns_(period_ns) {}
  std::string_view name() const override { return "timer"; }
  void on_start() override { next_ns_ = now_ns() + period_ns_; }
  int do_work() override {
    cycles.fetch_add(1, std::memory_order_relaxed);
    if (now_ns() < next_ns_) return 0;
    next_ns_ += period_ns_;
    fired.fetch_add(1, std::memory_order_relaxed);
    return 1;
  }
  int64_t next_deadline_ns() const override { return next_ns_; }

  std::atomic<uint64_t> cycles{0};
  std::atomic<uint64_t> fired{0};

 private:
  int64_t period_ns_;
  int64_t next_ns_ = 0;
};

// Waits until the runner's thread sleeps on its doorbell.
void wait_until_parked(AgentRunner& runner) {
  while (!runner.doorbell().has_waiter()) std::this_thread::yield();
  std::this_thread::sleep_for(std::chrono::milliseconds(10));  // past its last re-poll
}

TEST(IdleStrategy, ParksUntilTheDeadlineNotAFixedTimeout) {
  Doorbell bell;
  IdleStrategy idle(WaitMode::kPark, &bell);
  const int64_t start = now_ns();
  const int64_t deadline = start + 30'000'000;
  idle.idle(
      0, [] { return 0; }, [&] { return deadline; });
  EXPECT_GE(now_ns(), deadline);  // one park, unbroken until the deadline
}

TEST(IdleStrategy, AWakeUpThatFindsNoWorkParksAgainWithoutSpinning) {
  Doorbell bell;
  IdleStrategy idle(WaitMode::kPark, &bell, /*spin_ns=*/60'000'000'000);
  int parks = 0;
  auto deadline_soon = [&] {
    ++parks;  // asked only when about to park
    return now_ns() + 1'000'000;
  };
  // Nothing has been done yet: the first idle cycle parks; so does every one after a timeout.
  for (int i = 0; i < 3; ++i)
    idle.idle(
        0, [] { return 0; }, deadline_soon);
  EXPECT_EQ(parks, 3);
  // After real work the thread spins (here for a minute) instead of parking.
  idle.idle(
      1, [] { return 0; }, deadline_soon);
  for (int i = 0; i < 1000; ++i)
    idle.idle(
        0, [] { return 0; }, deadline_soon);
  EXPECT_EQ(parks, 3);
}

TEST(AgentRunner, AParkedRunnerWithoutDeadlinesRunsNoDutyCycleUntilRung) {
  CountingAgent agent;
  AgentRunner runner({"qt-idle", -1, WaitMode::kPark}, {&agent});
  ASSERT_TRUE(runner.start().ok());
  wait_until_parked(runner);
  const uint64_t cycles = agent.cycles.load();
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_EQ(agent.cycles.load(), cycles);  // the old 1 ms futex timeout ran ~200 here
  runner.stop();
}

TEST(AgentRunner, AParkedRunnerWakesForTheEarliestDeadlineOfItsAgents) {
  CountingAgent silent;
  TimerAgent timer(10'000'000);
  AgentRunner runner({"qt-timer", -1, WaitMode::kPark}, {&silent, &timer});
  ASSERT_TRUE(runner.start().ok());
  // Nothing rings: only the timer's deadline can wake the parked thread.
  const int64_t give_up = now_ns() + 10'000'000'000;
  while (timer.fired.load() < 5 && now_ns() < give_up) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_EQ(runner.doorbell().wakeups(), 0u);
  runner.stop();
  EXPECT_GE(timer.fired.load(), 5u);
}

// The real pipeline — feed, engine with both example strategies, paper venue — on three
// threads with parked waits and doorbells, as `quanttrading run` wires it in dedicated mode.
TEST(Pipeline, DedicatedThreadsTradeWithoutIllegalTransitionsAndStopCleanly) {
  testing::EngineRig rig;
  MovingAverageCrossover crossover({"GOLD", 1.0, 5, 20});
  SimpleQuoter quoter({"EURUSD", 1000, 1, 100'000, 2});
  rig.engine->add_strategy(crossover);
  rig.engine->add_strategy(quoter);
  RandomWalkFeed feed(testing::test_instruments(), {{2300, 0.3, 3.0}, {1.085, 0.00006, 2.0}}, 11,
                      20'000);
  auto runners = build_runners(ThreadingMode::kDedicated,
                               {{&feed, {"qt-feed", -1, WaitMode::kPark}},
                                {rig.engine.get(), {"qt-engine", -1, WaitMode::kPark}},
                                {rig.venue.get(), {"qt-venue", -1, WaitMode::kPark}}});
  ASSERT_EQ(runners.size(), 3u);
  feed.add_output({rig.engine_quotes.get(), &runners[1]->doorbell()});
  feed.add_output({rig.venue_quotes.get(), &runners[2]->doorbell()});
  rig.engine->set_venue_doorbell(&runners[2]->doorbell());
  rig.venue->set_engine_doorbell(&runners[1]->doorbell());
  for (auto& r : runners) ASSERT_TRUE(r->start().ok());

  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (rig.engine->stats().fills.load() < 50 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  rig.engine->request_shutdown();
  while (!rig.engine->shutdown_done()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  runners[0]->stop();  // feed first, then let the venue answer the cancels
  while (rig.engine->stats().live_orders.load() != 0 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  runners[1]->stop();
  runners[2]->stop();

  const EngineStats& stats = rig.engine->stats();
  EXPECT_GE(stats.fills.load(), 50u);
  EXPECT_GT(stats.quotes.load(), 1000u);
  EXPECT_EQ(stats.illegal_transitions.load(), 0u);
  EXPECT_EQ(stats.live_orders.load(), 0u);
  EXPECT_EQ(rig.venue->events_dropped(), 0u);
}

}  // namespace
}  // namespace qt
