// order_path_bench: latency and throughput of the engine's order path — a decoded NewOrder on
// the client's CommandRing → risk checks → order record and state machine → VenueRequest on the
// venue ring — with the real Engine, in both threading modes, measured in one run:
//
//  shared     one thread does everything (client, engine, venue stub), no core crossing.
//             Latency: NewOrder stamped → VenueRequest popped. Every order is then filled by a
//             VenueEvent so the pool recycles and positions move (not in the timed span).
//  dedicated  client+venue stub on CPU A, engine spinning on CPU B. Latency covers two core
//             crossings (command to the engine's core, venue request back), so it is printed
//             beside a cache-line ping-pong probe of the same two cores taken in the same round.
//
// Orders alternate buy/sell market orders of the minimum size so risk limits never trip; the
// per-source rate throttle is disabled (it is a policy, not a cost). The program counts the
// allocations made on any thread inside the timed loops (tests/support/allocation_counter.hpp;
// expected: 0) and says which allocator served it.
#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <atomic>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "bench/bench_cli.hpp"
#include "bench/bench_support.hpp"
#include "bench/gold_orders.hpp"
#include "engine/clock.hpp"
#include "engine/engine.hpp"
#include "tests/support/allocation_counter.hpp"
#include "tests/support/process_allocator.hpp"

namespace qt::bench {
namespace {

constexpr std::size_t kIdPool = 1 << 17;  // distinct client ids, twice the order pool

struct Options {
  int rounds = 5;
  std::size_t latency_samples = 200'000;
  std::size_t throughput_orders = 2'000'000;
};

struct Harness {
  std::unique_ptr<QuoteRing> quotes = std::make_unique<QuoteRing>();
  std::unique_ptr<VenueRequestRing> requests = std::make_unique<VenueRequestRing>();
  std::unique_ptr<VenueEventRing> events = std::make_unique<VenueEventRing>();
  std::unique_ptr<CommandRing> commands = std::make_unique<CommandRing>();
  std::unique_ptr<Engine> engine;
  std::vector<ClientCommand> prepared;  // decoded orders with unique ids, reused cyclically
  std::size_t next = 0;

  Harness() {
    engine = std::make_unique<Engine>(gold_engine_options(), *quotes, *requests, *events);
    engine->add_client_port({commands.get(), nullptr, nullptr, 0});
    engine->on_start();
    quotes->try_push(gold_quote());
    engine->do_work();
    prepared.reserve(kIdPool);
    for (std::size_t i = 0; i < kIdPool; ++i) prepared.push_back(gold_market_order('B', i));
  }

  ClientCommand& next_command() {
    ClientCommand& c = prepared[next];
    next = (next + 1) % kIdPool;
    return c;
  }

  static VenueEvent fill_for(const VenueRequest& request) {
    VenueEvent fill;
    fill.kind = VenueEventKind::kFill;
    fill.order_id = request.order_id;
    fill.fill_price = 230030;
    fill.fill_size = request.size;
    return fill;
  }
};

// ---- shared mode -----------------------------------------------------------------------------

struct ModeResult {
  Percentiles latency;
  double orders_per_second = 0;
  uint64_t allocations = 0;
};

ModeResult run_shared(Harness& h, const Options& options) {
  ModeResult result;
  std::vector<int64_t> samples(options.latency_samples);
  testing::AllocationWindow window(testing::CountedThreads::kAll);
  for (std::size_t i = 0; i < samples.size(); ++i) {
    ClientCommand& command = h.next_command();
    command.new_order.created_ns = now_ns();
    h.commands->try_push(command);
    h.engine->do_work();
    VenueRequest request;
    if (!h.requests->try_pop(request)) {
      std::fprintf(stderr, "FATAL: order not sent (rejects?)\n");
      std::exit(2);
    }
    samples[i] = now_ns() - request.created_ns;
    h.events->try_push(Harness::fill_for(request));
    h.engine->do_work();
  }
  // Throughput: batches of 64 orders in, 64 venue requests out, 64 fills back.
  const int64_t start = now_ns();
  std::size_t done = 0;
  while (done < options.throughput_orders) {
    for (int k = 0; k < 64; ++k) h.commands->try_push(h.next_command());
    h.engine->do_work();
    h.requests->drain([&](const VenueRequest& r) { h.events->try_push(Harness::fill_for(r)); });
    h.engine->do_work();
    done += 64;
  }
  const int64_t elapsed = now_ns() - start;
  window.close();
  result.allocations = window.allocations();
  result.latency = percentiles(samples);
  result.orders_per_second = static_cast<double>(done) * 1e9 / static_cast<double>(elapsed);
  return result;
}

// ---- dedicated mode --------------------------------------------------------------------------

ModeResult run_dedicated(Harness& h, const Options& options, const CpuPair& cpus) {
  ModeResult result;
  // The engine thread reads only its own Engine pointer and a stop flag on a line of its own: the
  // harness's cursor, written by the client for every order, shares a line with h.engine, and
  // reading that line every duty cycle measured the benchmark's false sharing, not the engine.
  alignas(kCacheLine) std::atomic<bool> stop{false};
  std::thread engine_thread([&stop, engine = h.engine.get(), core = cpus.consumer] {
    pin_current_thread(core);
    while (!stop.load(std::memory_order_relaxed)) engine->do_work();
  });
  pin_current_thread(cpus.producer);
  std::vector<int64_t> samples(options.latency_samples);
  testing::AllocationWindow window(testing::CountedThreads::kAll);
  for (std::size_t i = 0; i < samples.size(); ++i) {
    ClientCommand& command = h.next_command();
    command.new_order.created_ns = now_ns();
    while (!h.commands->try_push(command)) {
    }
    VenueRequest request;
    while (!h.requests->try_pop(request)) {
    }
    samples[i] = now_ns() - request.created_ns;
    while (!h.events->try_push(Harness::fill_for(request))) {
    }
  }
  // Throughput: the client keeps the command ring full while answering every venue request.
  const int64_t start = now_ns();
  std::size_t sent = 0;
  std::size_t answered = 0;
  while (answered < options.throughput_orders) {
    while (sent < options.throughput_orders && sent - answered < 2048 &&
           h.commands->try_push(h.next_command())) {
      ++sent;
    }
    answered += h.requests->drain([&](const VenueRequest& r) {
      while (!h.events->try_push(Harness::fill_for(r))) {
      }
    });
  }
  const int64_t elapsed = now_ns() - start;
  window.close();
  stop = true;
  engine_thread.join();
  pin_current_thread(-1);
  result.allocations = window.allocations();
  result.latency = percentiles(samples);
  result.orders_per_second = static_cast<double>(answered) * 1e9 / static_cast<double>(elapsed);
  return result;
}

// probe_ns < 0: the mode crosses no core, so no probe applies.
void print_row(const char* mode, const ModeResult& r, double probe_ns) {
  char probe[32] = "no core crossing";
  if (probe_ns >= 0) std::snprintf(probe, sizeof probe, "probe %.0f ns/hop", probe_ns);
  std::printf(
      "  %-10s p50 %7.0f ns  p99 %7.0f ns  p99.9 %8.0f ns  max %9.0f ns  %6.2f M orders/s"
      "  allocations %" PRIu64 "  %s\n",
      mode, r.latency.p50, r.latency.p99, r.latency.p999, r.latency.max, r.orders_per_second / 1e6,
      r.allocations, probe);
}

int main_impl(int argc, char** argv) {
  Options options;
  CLI::App app(
      "order_path_bench: NewOrder on the CommandRing -> risk -> order state -> "
      "VenueRequest on the venue ring, shared and dedicated modes in each round");
  add_positive_option(app, "--rounds", options.rounds, "rounds");
  add_positive_option(app, "--latency-samples", options.latency_samples,
                      "timed orders per mode and round");
  add_positive_option(app, "--orders", options.throughput_orders, "orders per throughput pass");
  if (const auto exit = parse_command_line(app, argc, argv)) return *exit;
  const CpuPair cpus = default_cpus();
  const TickClock clock = TickClock::calibrate();
  std::printf(
      "order path: NewOrder on CommandRing -> risk -> order state -> VenueRequest on ring\n");
  std::printf(
      "cpus: client/venue stub %d, engine %d; %d rounds, shared then dedicated each round; "
      "allocator: %s\n",
      cpus.producer, cpus.consumer, options.rounds, testing::process_allocator_name().c_str());
  std::vector<ModeResult> shared, dedicated;
  std::vector<double> probes;
  for (int round = 1; round <= options.rounds; ++round) {
    Harness shared_harness;
    Harness dedicated_harness;
    const double probe_before = probe_hop_ns(cpus, clock, 2000, 3);
    shared.push_back(run_shared(shared_harness, options));
    dedicated.push_back(run_dedicated(dedicated_harness, options, cpus));
    const double probe_after = probe_hop_ns(cpus, clock, 2000, 3);
    probes.push_back((probe_before + probe_after) / 2);
    std::printf("round %d (probe %0.f ns before, %0.f ns after)\n", round, probe_before,
                probe_after);
    print_row("shared", shared.back(), -1);
    print_row("dedicated", dedicated.back(), probes.back());
    std::fflush(stdout);
  }
  auto median_of = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  };
  auto summarize = [&](const char* mode, const std::vector<ModeResult>& results) {
    std::vector<double> p50, p99, p999, rate;
    for (const ModeResult& r : results) {
      p50.push_back(r.latency.p50);
      p99.push_back(r.latency.p99);
      p999.push_back(r.latency.p999);
      rate.push_back(r.orders_per_second);
    }
    std::printf(
        "  %-10s median over rounds: p50 %.0f ns, p99 %.0f ns, p99.9 %.0f ns, %.2f M "
        "orders/s\n",
        mode, median_of(p50), median_of(p99), median_of(p999), median_of(rate) / 1e6);
  };
  std::printf("summary (median probe %.0f ns/hop)\n", median_of(probes));
  summarize("shared", shared);
  summarize("dedicated", dedicated);
  return 0;
}

}  // namespace
}  // namespace qt::bench

int main(int argc, char** argv) {
  return qt::bench::main_impl(argc, argv);
}
