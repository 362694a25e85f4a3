// idle_bench: what a parked engine thread costs and how fast it answers, per wait policy.
//
// A producer thread (the stream thread's stand-in) pushes quotes at a fixed rate onto the
// engine's QuoteRing and rings the engine thread's Doorbell, as CapitalStreamClient does. The
// engine thread runs the real Engine's duty cycle with one of these idle policies:
//   spin       IdleStrategy(kSpin)
//   yield      IdleStrategy(kYield)
//   park-old   the park policy before issue 10 (a copy, below): 20,000 idle duty cycles of
//              spinning, then a futex park with a fixed 1 ms timeout, after which the spin count
//              restarts whether or not work came
//   park       IdleStrategy(kPark): 20 µs spin after real work (--spin-us), then park until a
//              ring or the agents' next deadline (none here); no spin after a wake-up that
//              found nothing
// For every rate and policy: the engine thread's CPU seconds per second (its thread CPU clock
// over the window) and quote→engine latency (feed stamp → quote handled, the engine's own
// histogram: within 6.25 %). Cells are interleaved: round by round, every rate and policy.
//
// Usage: idle_bench [--rates 1,1000,10000] [--seconds 3] [--rounds 3] [--policies ...]
//                   [--spin-us 20]
#include <pthread.h>
#include <sys/prctl.h>
#include <time.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "bench/bench_support.hpp"
#include "engine/clock.hpp"
#include "engine/engine.hpp"
#include "engine/idle_strategy.hpp"

namespace qt::bench {
namespace {

// The park policy as it was before issue 10, kept here only as the comparison baseline.
class OldParkIdle {
 public:
  static constexpr int kSpinsBeforePark = 20'000;
  static constexpr int64_t kParkTimeoutNs = 1'000'000;

  explicit OldParkIdle(Doorbell* doorbell) : doorbell_(doorbell) {}

  template <typename Repoll>
  void idle(int work_done, Repoll&& repoll) {
    if (work_done > 0) {
      idle_spins_ = 0;
      return;
    }
    if (++idle_spins_ < kSpinsBeforePark) {
      IdleStrategy::cpu_relax();
      return;
    }
    const uint32_t epoch = doorbell_->prepare_wait();
    if (repoll() == 0) doorbell_->wait(epoch, kParkTimeoutNs);
    doorbell_->cancel_wait();
    idle_spins_ = 0;
  }

 private:
  Doorbell* doorbell_;
  int idle_spins_ = 0;
};

struct CellResult {
  double cpu_per_second = 0;
  LatencyHistogram::Snapshot latency;
};

void sleep_until_ns(int64_t deadline_ns) {
  const timespec at{static_cast<time_t>(deadline_ns / 1'000'000'000),
                    static_cast<long>(deadline_ns % 1'000'000'000)};
  while (::clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &at, nullptr) != 0) {
  }
}

double thread_cpu_seconds(clockid_t clock) {
  return static_cast<double>(cpu_time_ns(clock)) / 1e9;
}

CellResult run_cell(const std::string& policy, int rate, double seconds, int64_t spin_ns) {
  auto quotes = std::make_unique<QuoteRing>();
  auto requests = std::make_unique<VenueRequestRing>();
  auto events = std::make_unique<VenueEventRing>();
  EngineOptions options;
  options.instruments = {make_instrument(0, "EURUSD", 5, 0, 0.00001, 100, 100, 10'000'000)};
  Engine engine(std::move(options), *quotes, *requests, *events);
  Doorbell bell;
  std::atomic<bool> running{true};

  std::thread consumer([&] {
    engine.on_start();
    auto repoll = [&] { return running.load(std::memory_order_acquire) ? engine.do_work() : 1; };
    auto deadline = [&] { return engine.next_deadline_ns(); };
    if (policy == "park-old") {
      OldParkIdle idle(&bell);
      while (running.load(std::memory_order_acquire)) idle.idle(engine.do_work(), repoll);
    } else {
      const WaitMode mode = policy == "spin"    ? WaitMode::kSpin
                            : policy == "yield" ? WaitMode::kYield
                                                : WaitMode::kPark;
      IdleStrategy idle(mode, &bell, spin_ns);
      while (running.load(std::memory_order_acquire)) {
        idle.idle(engine.do_work(), repoll, deadline);
      }
    }
    engine.on_close();
  });
  clockid_t consumer_clock;
  pthread_getcpuclockid(consumer.native_handle(), &consumer_clock);

  constexpr int64_t kWarmUpNs = 200'000'000;
  const int64_t interval_ns = 1'000'000'000 / rate;
  const int64_t start = now_ns();
  const int64_t window_start = start + kWarmUpNs;
  const int64_t window_end = window_start + static_cast<int64_t>(seconds * 1e9);
  // The producer sleeps to each send time; a precise timer keeps the rate honest.
  ::prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
  double cpu_start = 0;
  LatencyHistogram::Snapshot latency_start;
  bool window_open = false;
  uint64_t sequence = 0;
  for (int64_t due = start; due < window_end; due += interval_ns) {
    if (!window_open && due >= window_start) {
      sleep_until_ns(window_start);
      cpu_start = thread_cpu_seconds(consumer_clock);
      latency_start = engine.stats().quote_latency.snapshot();
      window_open = true;
    }
    sleep_until_ns(due);
    Quote quote;
    quote.instrument = 0;
    quote.bid = 108'970 + static_cast<PriceUnits>(sequence % 7);
    quote.ask = quote.bid + 2;
    quote.bid_size = quote.ask_size = 100;
    quote.sequence = ++sequence;
    quote.received_ns = now_ns();
    if (quotes->try_push(quote)) bell.ring();
  }
  sleep_until_ns(window_end);
  CellResult result;
  result.cpu_per_second = (thread_cpu_seconds(consumer_clock) - cpu_start) /
                          (static_cast<double>(window_end - window_start) / 1e9);
  result.latency = engine.stats().quote_latency.snapshot().minus(latency_start);
  running.store(false, std::memory_order_release);
  bell.ring();
  consumer.join();
  return result;
}

std::string format_ns(int64_t ns) {
  char text[32];
  if (ns < 10'000) {
    std::snprintf(text, sizeof text, "%.2f us", static_cast<double>(ns) / 1e3);
  } else {
    std::snprintf(text, sizeof text, "%.0f us", static_cast<double>(ns) / 1e3);
  }
  return text;
}

int run(int argc, char** argv) {
  std::vector<int> rates{1, 1000, 10000};
  std::vector<std::string> policies{"spin", "yield", "park-old", "park"};
  double seconds = 3;
  int rounds = 3;
  double spin_us = static_cast<double>(IdleStrategy::kDefaultSpinNs) / 1e3;
  CLI::App app{"idle_bench: CPU per second and quote->engine latency per wait policy"};
  app.add_option("--rates", rates, "quotes per second")->delimiter(',');
  app.add_option("--policies", policies, "spin, yield, park-old, park")
      ->delimiter(',')
      ->check(CLI::IsMember({"spin", "yield", "park-old", "park"}));
  app.add_option("--seconds", seconds, "measured window per cell");
  app.add_option("--rounds", rounds, "interleaved rounds");
  app.add_option("--spin-us", spin_us, "park: spin budget after work");
  CLI11_PARSE(app, argc, argv);

  std::printf("idle_bench: %d rounds x %zu rates x %zu policies, %.1f s per cell, %u CPUs\n",
              rounds, rates.size(), policies.size(), seconds, std::thread::hardware_concurrency());
  std::map<std::pair<int, std::string>, std::vector<double>> cpu;
  std::map<std::pair<int, std::string>, LatencyHistogram::Snapshot> latency;
  for (int round = 0; round < rounds; ++round) {
    for (const int rate : rates) {
      for (const std::string& policy : policies) {
        CellResult cell = run_cell(policy, rate, seconds, static_cast<int64_t>(spin_us * 1e3));
        std::printf(
            "  round %d  %6d quotes/s  %-8s  cpu/s %.4f  p50 %s  p99 %s  max %s  quotes %lu\n",
            round + 1, rate, policy.c_str(), cell.cpu_per_second,
            format_ns(cell.latency.percentile(0.5)).c_str(),
            format_ns(cell.latency.percentile(0.99)).c_str(), format_ns(cell.latency.max()).c_str(),
            static_cast<unsigned long>(cell.latency.total()));
        std::fflush(stdout);
        cpu[{rate, policy}].push_back(cell.cpu_per_second);
        LatencyHistogram::Snapshot& sum = latency[{rate, policy}];
        for (std::size_t b = 0; b < sum.counts.size(); ++b) sum.counts[b] += cell.latency.counts[b];
      }
    }
  }
  std::printf("\n%-9s %-9s %-26s %-10s %-10s %s\n", "quotes/s", "policy", "cpu/s median [min..max]",
              "p50", "p99", "quotes");
  for (const int rate : rates) {
    for (const std::string& policy : policies) {
      const std::vector<double>& c = cpu[{rate, policy}];
      const LatencyHistogram::Snapshot& l = latency[{rate, policy}];
      char cpu_text[64];
      std::snprintf(cpu_text, sizeof cpu_text, "%.4f [%.4f..%.4f]", median(c),
                    *std::min_element(c.begin(), c.end()), *std::max_element(c.begin(), c.end()));
      std::printf("%-9d %-9s %-26s %-10s %-10s %lu\n", rate, policy.c_str(), cpu_text,
                  format_ns(l.percentile(0.5)).c_str(), format_ns(l.percentile(0.99)).c_str(),
                  static_cast<unsigned long>(l.total()));
    }
  }
  return 0;
}

}  // namespace
}  // namespace qt::bench

int main(int argc, char** argv) {
  return qt::bench::run(argc, argv);
}
