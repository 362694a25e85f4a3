// Shared pieces of the benchmark programs: a calibrated TSC clock, pinned thread pairs, the
// cache-line ping-pong probe that tells how far apart the two cores are right now, nearest-rank
// percentiles, and a meter of the CPU other processes take meanwhile. Header-only; benchmark
// code, not engine code.
#pragma once

#include <pthread.h>
#include <sched.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#define QT_BENCH_HAVE_TSC 1
#else
#define QT_BENCH_HAVE_TSC 0
#endif

#include "engine/types.hpp"

namespace qt::bench {

// TSC ticks, converted to ns only when reporting. Falls back to steady_clock without a TSC.
class TickClock {
 public:
  // lfence keeps rdtsc from running ahead of the loads that precede it (e.g. the pop that just
  // returned a message), so a sample never ends before the message was read.
  static uint64_t now() noexcept {
#if QT_BENCH_HAVE_TSC
    _mm_lfence();
    return __rdtsc();
#else
    return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                     std::chrono::steady_clock::now().time_since_epoch())
                                     .count());
#endif
  }

  static TickClock calibrate() {
    TickClock clock;
#if QT_BENCH_HAVE_TSC
    using Steady = std::chrono::steady_clock;
    const auto wall_start = Steady::now();
    const uint64_t ticks_start = now();
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    const auto wall_end = Steady::now();
    const uint64_t ticks_end = now();
    const double ns = std::chrono::duration<double, std::nano>(wall_end - wall_start).count();
    clock.ns_per_tick_ = ns / static_cast<double>(ticks_end - ticks_start);
#endif
    // The smallest step the clock shows (a VM's TSC may advance in steps of many ticks).
    uint64_t step = ~uint64_t{0};
    uint64_t last = now();
    for (int i = 0; i < 100'000; ++i) {
      const uint64_t t = now();
      if (t != last) step = std::min(step, t - last);
      last = t;
    }
    clock.resolution_ns_ = clock.to_ns(static_cast<double>(step));
    return clock;
  }

  double to_ns(double ticks) const noexcept {
    return ticks * ns_per_tick_;
  }
  uint64_t from_ns(double ns) const noexcept {
    return static_cast<uint64_t>(ns / ns_per_tick_);
  }
  double ghz() const noexcept {
    return 1.0 / ns_per_tick_;
  }
  double resolution_ns() const noexcept {
    return resolution_ns_;
  }
  static constexpr const char* source() noexcept {
    return QT_BENCH_HAVE_TSC ? "rdtsc (lfence-ordered)" : "steady_clock";
  }

 private:
  double ns_per_tick_ = 1.0;
  double resolution_ns_ = 1.0;
};

struct CpuPair {
  int producer = -1;  // -1: not pinned
  int consumer = -1;
};

// The first two CPUs this process may run on, or unpinned with fewer than two.
inline CpuPair default_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  std::vector<int> allowed;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
      if (CPU_ISSET(cpu, &set)) allowed.push_back(cpu);
    }
  }
  if (allowed.size() < 2) return {};
  return {allowed[0], allowed[1]};
}

// Pins the calling thread to `cpu`; -1 restores every CPU.
inline void pin_current_thread(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (cpu < 0) {
    for (unsigned c = 0; c < std::thread::hardware_concurrency(); ++c) CPU_SET(c, &set);
  } else {
    CPU_SET(cpu, &set);
  }
  if (pthread_setaffinity_np(pthread_self(), sizeof(set), &set) != 0 && cpu >= 0) {
    static std::atomic<bool> warned{false};
    if (!warned.exchange(true)) std::fprintf(stderr, "warning: could not pin to CPU %d\n", cpu);
  }
}

// Runs producer() on cpus.producer and consumer() on cpus.consumer, released together once both
// threads are up and pinned.
template <typename ProducerFn, typename ConsumerFn>
void run_pair(const CpuPair& cpus, ProducerFn&& producer, ConsumerFn&& consumer) {
  std::atomic<int> ready{0};
  auto start_together = [&ready] {
    ready.fetch_add(1, std::memory_order_acq_rel);
    while (ready.load(std::memory_order_acquire) < 2) {
    }
  };
  std::thread consumer_thread([&] {
    pin_current_thread(cpus.consumer);
    start_together();
    consumer();
  });
  std::thread producer_thread([&] {
    pin_current_thread(cpus.producer);
    start_together();
    producer();
  });
  producer_thread.join();
  consumer_thread.join();
}

struct alignas(kCacheLine) PingPongLine {
  std::atomic<uint64_t> value{0};
};

// How far apart are the two cores right now: ns per one-way hop of a cache line bounced
// between them (round trip / 2), median of `trials`.
inline double probe_hop_ns(const CpuPair& cpus, const TickClock& clock, uint64_t round_trips,
                           int trials) {
  std::vector<double> hops;
  for (int trial = 0; trial < trials; ++trial) {
    auto line = std::make_unique<PingPongLine>();
    uint64_t elapsed_ticks = 0;
    run_pair(
        cpus,
        [&] {
          const uint64_t start = TickClock::now();
          for (uint64_t i = 0; i < round_trips; ++i) {
            line->value.store(2 * i + 1, std::memory_order_release);
            while (line->value.load(std::memory_order_acquire) != 2 * i + 2) {
            }
          }
          elapsed_ticks = TickClock::now() - start;
        },
        [&] {
          for (uint64_t i = 0; i < round_trips; ++i) {
            while (line->value.load(std::memory_order_acquire) != 2 * i + 1) {
            }
            line->value.store(2 * i + 2, std::memory_order_release);
          }
        });
    hops.push_back(clock.to_ns(static_cast<double>(elapsed_ticks)) /
                   (2.0 * static_cast<double>(round_trips)));
  }
  std::sort(hops.begin(), hops.end());
  return hops[hops.size() / 2];
}

struct Percentiles {
  double p50 = 0;
  double p99 = 0;
  double p999 = 0;
  double max = 0;
  uint64_t count = 0;
  uint64_t negative = 0;  // samples below zero (clamped): unsynchronised clocks
};

// Nearest-rank percentiles of samples already in ns (or in ticks with to_ns applied by
// `scale`). Sorts `samples` in place.
inline Percentiles percentiles(std::vector<int64_t>& samples, double scale = 1.0) {
  Percentiles out;
  if (samples.empty()) return out;
  for (int64_t& s : samples) {
    if (s < 0) {
      ++out.negative;
      s = 0;
    }
  }
  std::sort(samples.begin(), samples.end());
  out.count = samples.size();
  auto at = [&](double quantile) {
    const double rank = std::ceil(quantile * static_cast<double>(samples.size()));
    const std::size_t index = rank < 1 ? 0 : static_cast<std::size_t>(rank) - 1;
    return scale * static_cast<double>(samples[std::min(index, samples.size() - 1)]);
  };
  out.p50 = at(0.50);
  out.p99 = at(0.99);
  out.p999 = at(0.999);
  out.max = scale * static_cast<double>(samples.back());
  return out;
}

// What an empty region timed with TickClock::now() measures (in ns): it is included in every
// per-call figure.
inline Percentiles timer_overhead(const TickClock& clock) {
  std::vector<int64_t> overhead(100'000);
  for (int64_t& sample : overhead) {
    const uint64_t t0 = TickClock::now();
    sample = static_cast<int64_t>(TickClock::now() - t0);
  }
  return percentiles(overhead, clock.to_ns(1.0));
}

// CPU time of `clock` (CLOCK_THREAD_CPUTIME_ID, CLOCK_PROCESS_CPUTIME_ID or another thread's
// clock from pthread_getcpuclockid) in nanoseconds.
inline int64_t cpu_time_ns(clockid_t clock) {
  timespec ts{};
  ::clock_gettime(clock, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

inline double median(std::vector<double> values) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const std::size_t n = values.size();
  return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2.0;
}

// CPU time the rest of the machine used while a measurement ran (other sessions' builds and
// tests), from /proc/stat minus this process's own CPU time. With both CPUs of a 2-vCPU host
// busy in the benchmark, anything above a few hundredths of a CPU was taken from it.
class OtherLoadMeter {
 public:
  OtherLoadMeter() : start_(sample()) {}
  // Average number of CPUs busy with other work since construction; negative if unknown.
  double other_cpus() const {
    const Sample end = sample();
    if (!start_.valid || !end.valid || end.wall_s <= start_.wall_s) return -1;
    const double busy = (end.machine_busy_s - start_.machine_busy_s) - (end.self_s - start_.self_s);
    return std::max(0.0, busy / (end.wall_s - start_.wall_s));
  }

 private:
  struct Sample {
    bool valid = false;
    double machine_busy_s = 0;  // all CPUs: user + nice + system + irq + softirq + steal
    double self_s = 0;          // this process: user + system
    double wall_s = 0;
  };

  static Sample sample() {
    Sample out;
    std::ifstream stat("/proc/stat");
    std::string label;
    uint64_t user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0;
    if (!(stat >> label >> user >> nice >> system >> idle >> iowait >> irq >> softirq >> steal) ||
        label != "cpu") {
      return out;
    }
    const double tick = static_cast<double>(sysconf(_SC_CLK_TCK));
    out.machine_busy_s = static_cast<double>(user + nice + system + irq + softirq + steal) / tick;
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    auto seconds = [](const timeval& tv) {
      return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) * 1e-6;
    };
    out.self_s = seconds(usage.ru_utime) + seconds(usage.ru_stime);
    out.wall_s =
        std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
    out.valid = true;
    return out;
  }

  Sample start_;
};

}  // namespace qt::bench
