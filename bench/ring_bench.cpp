// ring_bench: qt::SpscRing against its obvious peers, moodycamel::ReaderWriterQueue and
// boost::lockfree::spsc_queue, with the same 64-byte message, the same capacity and the same
// two pinned cores, in the same run.
//
// This VM's cross-core speed swings up to 10x within seconds with the hypervisor's placement of
// the two vCPUs, so only same-round comparisons mean anything. A round is cut into slices; in
// every slice each test runs for A (ours), B (moodycamel), C (boost) back to back, and a
// cache-line ping-pong probe (ns per one-way hop = round trip / 2, median of a few trials) runs
// right before every test slice and is printed beside the queue's figures. Per queue and round:
//  - throughput: the producer pushes --messages with single try_push calls in a spin loop, the
//    consumer pops and checks the sequence; msgs/s = messages / sum of (last pop - first push);
//  - one-way latency: the producer stamps the TSC into a message every --pace-ns, one message
//    in flight (so it measures latency, not queueing; see measure_one_way), the consumer takes
//    TSC - stamp; p50/p99/p99.9;
//  - round-trip latency: ping over one queue, echo back over a second queue of the same type,
//    one message in flight; p50/p99/p99.9 of the initiator's TSC difference.
// Latency samples are pooled across a round's slices before taking percentiles. A round counts as
// close-core when the median of its probes is under --close-ns. Each round ends with a verdict,
// ours against the best peer: throughput (with a sign test over the same-slice comparisons, so a
// deficit inside the slice-to-slice noise is labelled as such) and one-way p50 (a difference of
// one clock step is a tie).
// The "qt::SpscRing (batch 32)" row (try_push_batch + drain, 32 at a time) is printed apart: it
// is not a like-for-like comparison, the peers are measured with single-message calls only.
//
// Timestamps are rdtsc (invariant TSC shared by both cores), calibrated against steady_clock;
// negative one-way samples would reveal unsynchronised TSCs and are counted and reported.
//
// --gbench (or any --benchmark_* flag) runs the registered Google Benchmark functions instead:
// single-thread push+pop cost per queue, no core crossing. See --help.
#include <algorithm>
#include <cinttypes>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "bench/bench_cli.hpp"
#include "bench/bench_support.hpp"
#include "bench/registered_benchmarks.hpp"
#include "bench/ring_bench_queues.hpp"

namespace qt::bench {
namespace {

[[noreturn]] void fail_sequence(const char* queue, uint64_t expected, uint64_t got) {
  std::fprintf(stderr, "FATAL: %s delivered sequence %" PRIu64 ", expected %" PRIu64 "\n", queue,
               got, expected);
  std::exit(2);
}

// ---------------------------------------------------------------------------------------------
// Measurements. Each runs one slice on the two pinned CPUs and returns raw ticks or appends raw
// samples; reduction to msgs/s and percentiles happens once per round.

// Producer pushes `messages` with single try_push calls in a spin loop, the consumer pops and
// checks the sequence. Returns ticks from the first push to the last pop.
template <typename Queue>
uint64_t measure_throughput(Queue& queue, uint64_t messages, const CpuPair& cpus) {
  uint64_t start_ticks = 0;
  uint64_t end_ticks = 0;
  run_pair(
      cpus,
      [&] {
        BenchMessage message{};
        start_ticks = TickClock::now();
        for (uint64_t seq = 0; seq < messages; ++seq) {
          message.sequence = seq;
          while (!queue.push(message)) {
          }
        }
      },
      [&] {
        BenchMessage message;
        for (uint64_t expected = 0; expected < messages;) {
          if (queue.pop(message)) {
            if (message.sequence != expected) {
              fail_sequence(Queue::kName, expected, message.sequence);
            }
            ++expected;
          }
        }
        end_ticks = TickClock::now();
      });
  return end_ticks - start_ticks;
}

// Ours with try_push_batch + drain, kBatch messages per call on both sides.
uint64_t measure_batch_throughput(qt::SpscRing<BenchMessage, kCapacity>& ring, uint64_t messages,
                                  const CpuPair& cpus) {
  uint64_t start_ticks = 0;
  uint64_t end_ticks = 0;
  run_pair(
      cpus,
      [&] {
        BenchMessage batch[kBatch] = {};
        start_ticks = TickClock::now();
        for (uint64_t seq = 0; seq < messages;) {
          const std::size_t n =
              static_cast<std::size_t>(std::min<uint64_t>(kBatch, messages - seq));
          for (std::size_t i = 0; i < n; ++i) batch[i].sequence = seq + i;
          for (std::size_t pushed = 0; pushed < n;) {
            pushed += ring.try_push_batch(batch + pushed, n - pushed);
          }
          seq += n;
        }
      },
      [&] {
        uint64_t expected = 0;
        while (expected < messages) {
          ring.drain(
              [&](const BenchMessage& message) {
                if (message.sequence != expected) {
                  fail_sequence("qt::SpscRing (batch)", expected, message.sequence);
                }
                ++expected;
              },
              kBatch);
        }
        end_ticks = TickClock::now();
      });
  return end_ticks - start_ticks;
}

// One-way: the producer sends one TSC-stamped message every pace_ticks, the consumer appends
// arrival - stamp. One message in flight: the producer also waits for the consumer's receipt
// (a separate cache line, written after the sample is taken) before the next send, so the
// schedule never lets messages pile up. On this VM the hypervisor steals 10-15% of each vCPU in
// gaps of 30 us to 10 ms; an open-loop schedule turned every such gap into a backlog and the
// percentiles then measured the hypervisor, not the queue. A stall still shows in the tail: the
// message in flight during it is recorded with the full delay. The first `warmup` messages are
// not recorded.
struct alignas(qt::kCacheLine) ReceiptLine {
  std::atomic<uint64_t> received{0};
};

template <typename Queue>
void measure_one_way(Queue& queue, std::size_t samples, std::size_t warmup, uint64_t pace_ticks,
                     const CpuPair& cpus, std::vector<int64_t>& out) {
  const std::size_t total = samples + warmup;
  const std::size_t first = out.size();
  out.resize(first + samples);
  auto receipt = std::make_unique<ReceiptLine>();
  run_pair(
      cpus,
      [&] {
        BenchMessage message{};
        uint64_t next_send = TickClock::now() + pace_ticks;
        for (std::size_t i = 0; i < total; ++i) {
          while (TickClock::now() < next_send) {
          }
          message.sequence = i;
          message.stamp_ticks = TickClock::now();
          next_send = message.stamp_ticks + pace_ticks;
          while (!queue.push(message)) {
          }
          while (receipt->received.load(std::memory_order_acquire) != i + 1) {
          }
        }
      },
      [&] {
        BenchMessage message;
        for (std::size_t i = 0; i < total; ++i) {
          while (!queue.pop(message)) {
          }
          const uint64_t arrived = TickClock::now();
          if (message.sequence != i) fail_sequence(Queue::kName, i, message.sequence);
          if (i >= warmup) {
            out[first + i - warmup] = static_cast<int64_t>(arrived - message.stamp_ticks);
          }
          receipt->received.store(i + 1, std::memory_order_release);
        }
      });
}

// Round trip: the initiator (producer CPU) pings over `ping`, the echo thread (consumer CPU)
// sends the same message back over `pong`; one message in flight, both ends on one TSC.
template <typename Queue>
void measure_round_trip(Queue& ping, Queue& pong, std::size_t samples, std::size_t warmup,
                        const CpuPair& cpus, std::vector<int64_t>& out) {
  const std::size_t total = samples + warmup;
  const std::size_t first = out.size();
  out.resize(first + samples);
  run_pair(
      cpus,
      [&] {
        BenchMessage message{};
        BenchMessage reply;
        for (std::size_t i = 0; i < total; ++i) {
          message.sequence = i;
          message.stamp_ticks = TickClock::now();
          while (!ping.push(message)) {
          }
          while (!pong.pop(reply)) {
          }
          const uint64_t back = TickClock::now();
          if (reply.sequence != i) fail_sequence(Queue::kName, i, reply.sequence);
          if (i >= warmup) out[first + i - warmup] = static_cast<int64_t>(back - reply.stamp_ticks);
        }
      },
      [&] {
        BenchMessage message;
        for (std::size_t i = 0; i < total; ++i) {
          while (!ping.pop(message)) {
          }
          while (!pong.push(message)) {
          }
        }
      });
}

// Splits `total` into `parts` near-equal shares; share(i) for i in [0, parts).
uint64_t share(uint64_t total, uint64_t parts, uint64_t i) {
  return total / parts + (i < total % parts ? 1 : 0);
}

// ---------------------------------------------------------------------------------------------
// The round harness

struct Options {
  int rounds = 5;
  uint64_t messages = 10'000'000;         // per queue per round, across all slices
  std::size_t latency_samples = 100'000;  // per queue per round and per test, across all slices
  uint64_t slices = 10;                   // A,B,C repetitions inside a round
  double pace_ns = 2000;
  double close_ns = 100;
  uint64_t probe_round_trips = 2000;
  int probe_trials = 3;
  CpuPair cpus = default_cpus();
};

double probe(const Options& options, const TickClock& clock) {
  return probe_hop_ns(options.cpus, clock, options.probe_round_trips, options.probe_trials);
}

// Raw measurements of one queue over one round, pooled across slices.
struct Tally {
  const char* name = "";
  bool has_latency = false;
  std::vector<double> probes_ns;  // one probe right before each of this queue's test slices
  uint64_t messages = 0;
  uint64_t ticks = 0;
  std::vector<double> slice_msgs_per_sec;  // for same-slice comparisons
  std::vector<int64_t> one_way_ticks;
  std::vector<int64_t> round_trip_ticks;
};

struct Row {
  const char* name = "";
  double probe_median_ns = 0;
  double probe_min_ns = 0;
  double probe_max_ns = 0;
  double msgs_per_sec = 0;
  std::vector<double> slice_msgs_per_sec;
  bool has_latency = false;
  Percentiles one_way;
  Percentiles round_trip;
  double one_way_over_pace = 0;  // fraction of one-way samples longer than the send interval
};

Row reduce(Tally& tally, const Options& options, const TickClock& clock) {
  Row row;
  row.name = tally.name;
  row.has_latency = tally.has_latency;
  row.probe_median_ns = median(tally.probes_ns);
  row.probe_min_ns = *std::min_element(tally.probes_ns.begin(), tally.probes_ns.end());
  row.probe_max_ns = *std::max_element(tally.probes_ns.begin(), tally.probes_ns.end());
  row.msgs_per_sec =
      static_cast<double>(tally.messages) / (clock.to_ns(static_cast<double>(tally.ticks)) * 1e-9);
  row.slice_msgs_per_sec = tally.slice_msgs_per_sec;
  if (tally.has_latency) {
    const uint64_t pace_ticks = clock.from_ns(options.pace_ns);
    const auto over =
        std::count_if(tally.one_way_ticks.begin(), tally.one_way_ticks.end(),
                      [&](int64_t t) { return t > static_cast<int64_t>(pace_ticks); });
    row.one_way_over_pace =
        static_cast<double>(over) / static_cast<double>(tally.one_way_ticks.size());
    row.one_way = percentiles(tally.one_way_ticks, clock.to_ns(1.0));
    row.round_trip = percentiles(tally.round_trip_ticks, clock.to_ns(1.0));
  }
  return row;
}

struct Round {
  std::vector<Row> like_for_like;  // ours, moodycamel, boost, in that order
  Row batch;
  double probe_median_ns = 0;  // over every probe taken in the round
  double probe_min_ns = 0;
  double probe_max_ns = 0;
  double other_cpus = -1;  // CPUs' worth of other work while the round ran
};

// Two instances of each queue: `forward` for throughput and one-way, `backward` for the echo.
template <typename Queue>
struct QueuePair {
  std::unique_ptr<Queue> forward = std::make_unique<Queue>();
  std::unique_ptr<Queue> backward = std::make_unique<Queue>();
};

struct Queues {
  QueuePair<OurRing> ours;
  QueuePair<MoodycamelQueue> moodycamel;
  QueuePair<BoostQueue> boost;
  std::unique_ptr<OurRing> batch = std::make_unique<OurRing>();

  // fn(queue_pair, index) for the like-for-like queues, always in the order A, B, C.
  template <typename Fn>
  void for_each(Fn&& fn) {
    fn(ours, 0);
    fn(moodycamel, 1);
    fn(boost, 2);
  }
};

// Untimed pass over every queue and test so storage is faulted in and caches are warm.
void warm_up(Queues& queues, const Options& options, const TickClock& clock) {
  const uint64_t messages = std::min<uint64_t>(options.messages, 500'000);
  std::vector<int64_t> scratch;
  queues.for_each([&](auto& pair, int) {
    measure_throughput(*pair.forward, messages, options.cpus);
    measure_one_way(*pair.forward, 1000, 100, clock.from_ns(options.pace_ns), options.cpus,
                    scratch);
    measure_round_trip(*pair.forward, *pair.backward, 1000, 100, options.cpus, scratch);
  });
  measure_batch_throughput(queues.batch->ring(), messages, options.cpus);
}

// One round: `slices` times over, each test runs A, B, C back to back (throughput, then our
// batch variant, then one-way, then round trip), each preceded by a probe.
Round run_round(Queues& queues, const Options& options, const TickClock& clock) {
  const OtherLoadMeter other_load;
  std::vector<Tally> tallies(3);
  Tally batch;
  batch.name = "qt::SpscRing (batch 32)";
  queues.for_each([&](auto& pair, int i) {
    tallies[i].name = std::remove_reference_t<decltype(*pair.forward)>::kName;
    tallies[i].has_latency = true;
  });
  const uint64_t pace_ticks = clock.from_ns(options.pace_ns);

  for (uint64_t slice = 0; slice < options.slices; ++slice) {
    const uint64_t messages = share(options.messages, options.slices, slice);
    const std::size_t samples = share(options.latency_samples, options.slices, slice);
    const std::size_t warmup = std::max<std::size_t>(100, samples / 20);

    queues.for_each([&](auto& pair, int i) {
      tallies[i].probes_ns.push_back(probe(options, clock));
      const uint64_t ticks = measure_throughput(*pair.forward, messages, options.cpus);
      tallies[i].ticks += ticks;
      tallies[i].messages += messages;
      tallies[i].slice_msgs_per_sec.push_back(static_cast<double>(messages) /
                                              (clock.to_ns(static_cast<double>(ticks)) * 1e-9));
    });
    batch.probes_ns.push_back(probe(options, clock));
    const uint64_t batch_ticks =
        measure_batch_throughput(queues.batch->ring(), messages, options.cpus);
    batch.ticks += batch_ticks;
    batch.messages += messages;
    batch.slice_msgs_per_sec.push_back(static_cast<double>(messages) /
                                       (clock.to_ns(static_cast<double>(batch_ticks)) * 1e-9));

    queues.for_each([&](auto& pair, int i) {
      tallies[i].probes_ns.push_back(probe(options, clock));
      measure_one_way(*pair.forward, samples, warmup, pace_ticks, options.cpus,
                      tallies[i].one_way_ticks);
    });
    queues.for_each([&](auto& pair, int i) {
      tallies[i].probes_ns.push_back(probe(options, clock));
      measure_round_trip(*pair.forward, *pair.backward, samples, warmup, options.cpus,
                         tallies[i].round_trip_ticks);
    });
  }

  Round round;
  std::vector<double> all_probes = batch.probes_ns;
  for (Tally& tally : tallies) {
    all_probes.insert(all_probes.end(), tally.probes_ns.begin(), tally.probes_ns.end());
    round.like_for_like.push_back(reduce(tally, options, clock));
  }
  round.batch = reduce(batch, options, clock);
  round.probe_median_ns = median(all_probes);
  round.probe_min_ns = *std::min_element(all_probes.begin(), all_probes.end());
  round.probe_max_ns = *std::max_element(all_probes.begin(), all_probes.end());
  round.other_cpus = other_load.other_cpus();
  return round;
}

bool is_close(const Round& round, const Options& options) {
  return round.probe_median_ns < options.close_ns;
}

void print_header_line() {
  std::printf("  %-30s %18s %8s %26s %26s\n", "queue", "probe ns med(range)", "Mmsg/s",
              "one-way ns p50/p99/p99.9", "RTT ns p50/p99/p99.9");
}

void print_row(const Row& row) {
  char probe_text[40];
  std::snprintf(probe_text, sizeof(probe_text), "%.0f (%.0f-%.0f)", row.probe_median_ns,
                row.probe_min_ns, row.probe_max_ns);
  char one_way[48] = "-";
  char rtt[48] = "-";
  if (row.has_latency) {
    std::snprintf(one_way, sizeof(one_way), "%.0f / %.0f / %.0f", row.one_way.p50, row.one_way.p99,
                  row.one_way.p999);
    std::snprintf(rtt, sizeof(rtt), "%.0f / %.0f / %.0f", row.round_trip.p50, row.round_trip.p99,
                  row.round_trip.p999);
  }
  std::printf("  %-30s %18s %8.2f %26s %26s\n", row.name, probe_text, row.msgs_per_sec / 1e6,
              one_way, rtt);
}

struct Verdict {
  double throughput_pct = 0;  // + means ours has more throughput than the best peer
  double one_way_pct = 0;     // + means ours has a lower one-way p50 than the best peer
  const Row* best_throughput = nullptr;
  const Row* best_one_way = nullptr;
  bool throughput_ok = false;  // ours >= best peer (aggregate over the round)
  bool one_way_ok = false;     // ours <= best peer
  bool one_way_tie = false;    // ours behind by no more than one clock step
  int slices_won = 0;          // slices where ours >= that peer in the same slice
  int slices = 0;
  bool throughput_significant = false;  // behind, and beyond the slice-to-slice noise
};

// Largest k such that P(X <= k) < 0.05 for X ~ Binomial(n, 1/2): ours ahead in k or fewer of n
// same-slice comparisons is unlikely (one-sided sign test) if the two queues were equal. -1 when
// n is too small for any count to be significant.
int sign_test_threshold(int n) {
  double cumulative = 0;
  double term = std::pow(0.5, n);  // P(X = 0)
  int k = -1;
  for (int i = 0; i <= n; ++i) {
    cumulative += term;
    if (cumulative >= 0.05) break;
    k = i;
    term = term * (n - i) / (i + 1);
  }
  return k;
}

Verdict judge(const Round& round, double clock_resolution_ns) {
  const Row& ours = round.like_for_like[0];
  Verdict v;
  for (std::size_t i = 1; i < round.like_for_like.size(); ++i) {
    const Row& peer = round.like_for_like[i];
    if (!v.best_throughput || peer.msgs_per_sec > v.best_throughput->msgs_per_sec) {
      v.best_throughput = &peer;
    }
    if (!v.best_one_way || peer.one_way.p50 < v.best_one_way->one_way.p50) v.best_one_way = &peer;
  }
  v.throughput_pct = (ours.msgs_per_sec / v.best_throughput->msgs_per_sec - 1.0) * 100.0;
  v.one_way_pct = (1.0 - ours.one_way.p50 / v.best_one_way->one_way.p50) * 100.0;
  v.throughput_ok = ours.msgs_per_sec >= v.best_throughput->msgs_per_sec;
  v.one_way_ok = ours.one_way.p50 <= v.best_one_way->one_way.p50;
  v.one_way_tie =
      !v.one_way_ok && ours.one_way.p50 <= v.best_one_way->one_way.p50 + clock_resolution_ns * 1.01;
  v.slices = static_cast<int>(ours.slice_msgs_per_sec.size());
  for (int i = 0; i < v.slices; ++i) {
    if (ours.slice_msgs_per_sec[i] >= v.best_throughput->slice_msgs_per_sec[i]) ++v.slices_won;
  }
  v.throughput_significant = !v.throughput_ok && v.slices_won <= sign_test_threshold(v.slices);
  return v;
}

void print_round(int index, const Options& options, const Round& round,
                 double clock_resolution_ns) {
  std::printf(
      "\nRound %d/%d  probe over the round: median %.0f ns (range %.0f-%.0f) -> cores %s;"
      " other load %.2f CPU%s\n",
      index + 1, options.rounds, round.probe_median_ns, round.probe_min_ns, round.probe_max_ns,
      is_close(round, options) ? "CLOSE" : "far", round.other_cpus,
      round.other_cpus > 0.1 ? " (CONTENDED: another process ran)" : "");
  print_header_line();
  for (const Row& row : round.like_for_like) print_row(row);
  std::printf("  -- not like-for-like: batched calls on our side only --\n");
  print_row(round.batch);
  for (const Row& row : round.like_for_like) {
    if (row.one_way_over_pace > 0.001) {
      std::printf(
          "  note: %.2f%% of %s one-way samples exceeded the %.0f ns send interval "
          "(stalls)\n",
          row.one_way_over_pace * 100.0, row.name, options.pace_ns);
    }
  }
  const Verdict v = judge(round, clock_resolution_ns);
  const char* throughput_label = v.throughput_ok            ? "MATCHED"
                                 : v.throughput_significant ? "BEHIND (significant)"
                                                            : "BEHIND (within noise)";
  std::printf(
      "  verdict: ours vs best peer: throughput %+.1f%% (vs %s) %s, ahead in %d/%d "
      "slices; one-way p50 %+.1f%% (vs %s) %s\n",
      v.throughput_pct, v.best_throughput->name, throughput_label, v.slices_won, v.slices,
      v.one_way_pct, v.best_one_way->name,
      v.one_way_ok    ? "MATCHED"
      : v.one_way_tie ? "TIE (within one clock step)"
                      : "BEHIND");
  std::fflush(stdout);
}

Row median_row(const std::vector<Round>& rounds, std::size_t index) {
  auto row_of = [index](const Round& round) -> const Row& {
    return index < round.like_for_like.size() ? round.like_for_like[index] : round.batch;
  };
  auto field = [&](double Row::*member) {
    std::vector<double> values;
    for (const Round& round : rounds) values.push_back(row_of(round).*member);
    return median(values);
  };
  auto pct_field = [&](Percentiles Row::*group, double Percentiles::*member) {
    std::vector<double> values;
    for (const Round& round : rounds) values.push_back(row_of(round).*group.*member);
    return median(values);
  };
  Row row;
  row.name = row_of(rounds[0]).name;
  row.has_latency = row_of(rounds[0]).has_latency;
  row.probe_median_ns = field(&Row::probe_median_ns);
  row.probe_min_ns = field(&Row::probe_min_ns);
  row.probe_max_ns = field(&Row::probe_max_ns);
  row.msgs_per_sec = field(&Row::msgs_per_sec);
  row.one_way.p50 = pct_field(&Row::one_way, &Percentiles::p50);
  row.one_way.p99 = pct_field(&Row::one_way, &Percentiles::p99);
  row.one_way.p999 = pct_field(&Row::one_way, &Percentiles::p999);
  row.round_trip.p50 = pct_field(&Row::round_trip, &Percentiles::p50);
  row.round_trip.p99 = pct_field(&Row::round_trip, &Percentiles::p99);
  row.round_trip.p999 = pct_field(&Row::round_trip, &Percentiles::p999);
  return row;
}

void print_summary(const Options& options, const std::vector<Round>& rounds,
                   double clock_resolution_ns) {
  std::printf(
      "\nSummary over %zu rounds: median per queue across rounds "
      "(probe columns: medians of the rounds' median/min/max)\n",
      rounds.size());
  print_header_line();
  const std::size_t like_for_like = rounds[0].like_for_like.size();
  for (std::size_t i = 0; i < like_for_like; ++i) print_row(median_row(rounds, i));
  std::printf("  -- not like-for-like: batched calls on our side only --\n");
  print_row(median_row(rounds, like_for_like));

  int throughput_ok = 0;
  int one_way_ok = 0;
  int one_way_tie = 0;
  int throughput_significant = 0;
  int slices_won = 0;
  int slices = 0;
  int close_rounds = 0;
  double best_close = 0;
  double best_close_batch = 0;
  double best_any = 0;
  uint64_t negative = 0;
  for (const Round& round : rounds) {
    const Verdict v = judge(round, clock_resolution_ns);
    throughput_ok += v.throughput_ok ? 1 : 0;
    one_way_ok += v.one_way_ok ? 1 : 0;
    one_way_tie += v.one_way_tie ? 1 : 0;
    throughput_significant += v.throughput_significant ? 1 : 0;
    slices_won += v.slices_won;
    slices += v.slices;
    for (const Row& row : round.like_for_like) negative += row.one_way.negative;
    best_any = std::max(best_any, round.like_for_like[0].msgs_per_sec);
    if (is_close(round, options)) {
      ++close_rounds;
      best_close = std::max(best_close, round.like_for_like[0].msgs_per_sec);
      best_close_batch = std::max(best_close_batch, round.batch.msgs_per_sec);
    }
  }
  const auto n = static_cast<int>(rounds.size());
  std::printf(
      "  ours >= best peer on throughput:  %d/%d rounds; significantly behind in %d/%d "
      "(same-slice: ahead in %d/%d slices)\n",
      throughput_ok, n, throughput_significant, n, slices_won, slices);
  std::printf(
      "  ours <= best peer on one-way p50: %d/%d rounds (+%d within one %.0f ns clock "
      "step)\n",
      one_way_ok, n, one_way_tie, clock_resolution_ns);
  std::printf("  close-core rounds (round probe median < %.0f ns): %d/%d\n", options.close_ns,
              close_rounds, n);
  if (close_rounds > 0) {
    std::printf(
        "  ours max throughput in close-core rounds: %.2fM msgs/s vs target 20M: %s "
        "(batch 32: %.2fM)\n",
        best_close / 1e6, best_close >= 20e6 ? "REACHED" : "NOT REACHED", best_close_batch / 1e6);
  } else {
    std::printf(
        "  no close-core round in this run: the 20M msgs/s target could not be judged "
        "(ours max in any round: %.2fM)\n",
        best_any / 1e6);
  }
  std::printf("  negative one-way samples (TSC skew check): %" PRIu64 "\n", negative);
  double worst_other = 0;
  for (const Round& round : rounds) worst_other = std::max(worst_other, round.other_cpus);
  std::printf("  other load: max %.2f CPU in a round%s\n", worst_other,
              worst_other > 0.1 ? " -- some rounds shared the CPUs with other work" : "");
}

int run_rounds(const Options& options) {
  const TickClock clock = TickClock::calibrate();
  std::printf("ring_bench: %zu-byte messages, capacity %zu, producer CPU %d, consumer CPU %d\n",
              sizeof(BenchMessage), kCapacity, options.cpus.producer, options.cpus.consumer);
  std::printf("clock: %s at %.3f GHz (calibrated against steady_clock), resolution %.1f ns\n",
              TickClock::source(), clock.ghz(), clock.resolution_ns());
  std::printf("per round and queue: throughput %" PRIu64
              " msgs (single push/pop, spin), "
              "one-way %zu samples paced every %.0f ns and RTT %zu samples (both 1 in flight),\n"
              "  run as %" PRIu64 " interleaved slices: each test runs A, B, C back to back\n",
              options.messages, options.latency_samples, options.pace_ns, options.latency_samples,
              options.slices);
  std::printf(
      "probe ns = one-way cache-line hop between the two CPUs, taken before every test "
      "slice (median of %d x %" PRIu64 " round trips)\n",
      options.probe_trials, options.probe_round_trips);
  std::printf(
      "verdict: + means ours better (more msgs/s, lower p50). The best of two peers beats\n"
      "  one of three equal queues 2 times in 3, so a throughput deficit is called\n"
      "  significant only when ours led in too few same-slice comparisons (sign test, "
      "p < 0.05)\n");
  std::fflush(stdout);

  Queues queues;
  warm_up(queues, options, clock);
  std::vector<Round> rounds;
  for (int r = 0; r < options.rounds; ++r) {
    rounds.push_back(run_round(queues, options, clock));
    print_round(r, options, rounds.back(), clock.resolution_ns());
  }
  print_summary(options, rounds, clock.resolution_ns());
  return 0;
}

}  // namespace
}  // namespace qt::bench

int main(int argc, char** argv) {
  using namespace qt::bench;
  Options options;
  bool gbench = false;
  std::vector<int> cpus;
  CLI::App app(
      "ring_bench: qt::SpscRing vs moodycamel::ReaderWriterQueue vs boost::lockfree::spsc_queue\n"
      "\n"
      "Default mode: the cross-core round harness. Each round runs, in interleaved slices, every\n"
      "test for each queue in a fixed order (ours, moodycamel, boost, then our batch variant),\n"
      "each preceded by a core-to-core ping-pong probe; one table and verdict per round, then a\n"
      "summary of medians across rounds.");
  app.footer(
      "Google Benchmark mode: --gbench, or any --benchmark_* flag (e.g.\n"
      "--benchmark_filter=PushPop), runs the single-thread push+pop benchmarks (ns/op, no core\n"
      "crossing) and passes the --benchmark_* flags to Google Benchmark.");
  add_positive_option(app, "--rounds", options.rounds, "rounds");
  add_positive_option(app, "--messages", options.messages,
                      "messages per queue per round for throughput");
  add_positive_option(app, "--latency-samples", options.latency_samples,
                      "samples per queue per round, one-way and RTT each");
  add_positive_option(app, "--slices", options.slices, "A,B,C interleavings per round");
  add_positive_option(app, "--pace-ns", options.pace_ns,
                      "one-way send interval in ns, one message in flight");
  add_positive_option(app, "--close-ns", options.close_ns,
                      "a round is close-core when its median probe is < this many ns");
  add_positive_option(app, "--probe-round-trips", options.probe_round_trips,
                      "ping-pong round trips per probe trial, 3 trials");
  app.add_option("--cpus", cpus, "producer and consumer CPUs, P,C (default: first two allowed)")
      ->delimiter(',')
      ->expected(2);
  app.add_flag("--gbench", gbench, "run the Google Benchmark functions instead");
  std::vector<std::string> benchmark_args;
  if (const auto exit = parse_command_line(app, argc, argv, &benchmark_args)) return *exit;
  if (gbench || benchmark_args.size() > 1) return run_registered_benchmarks(benchmark_args);

  if (!cpus.empty()) options.cpus = {cpus[0], cpus[1]};
  options.slices = std::min<uint64_t>({options.slices, options.messages, options.latency_samples});
  if (options.cpus.producer < 0) {
    std::fprintf(stderr,
                 "warning: fewer than two CPUs allowed, threads are not pinned; "
                 "cross-core figures are meaningless\n");
  }
  return run_rounds(options);
}
