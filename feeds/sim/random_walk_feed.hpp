// RandomWalkFeed: a deterministic quote source for the simulator, tests and `make run`.
// Each instrument's mid follows a seeded Gaussian random walk (step σ in basis points) with a
// fixed spread, emitted at a configured rate per instrument and paced by the monotonic clock.
// Same seed, same sequence of prices.
//
// Runs as the feed agent: one thread, pushes fixed-point Quotes onto one or more QuoteRings
// (engine, paper venue). A full ring drops that quote for that consumer and counts it: quotes
// are superseded by the next one, so dropping is safe where queueing would add latency.
// Allocates only in the constructor.
#pragma once

#include <atomic>
#include <cstdint>
#include <random>
#include <vector>

#include "engine/agent.hpp"
#include "engine/idle_strategy.hpp"
#include "engine/instrument.hpp"
#include "engine/rings.hpp"

namespace qt {

struct RandomWalkParams {
  double initial_price = 100;
  double spread = 0.02;         // in price (not units)
  double volatility_bps = 1.0;  // σ of one step
};

class RandomWalkFeed final : public Agent {
 public:
  struct Output {
    QuoteRing* ring;
    Doorbell* doorbell;  // may be null
  };

  RandomWalkFeed(std::vector<InstrumentSpec> instruments, std::vector<RandomWalkParams> params,
                 uint64_t seed, int quotes_per_second_per_instrument);

  void add_output(Output output) { outputs_.push_back(output); }
  std::string_view name() const override { return "feed"; }
  void on_start() override;
  int do_work() override;
  int64_t next_deadline_ns() const override { return next_emit_ns_; }  // the next paced emit

  // Produces the next quote for instrument `index` without pacing (tests, benchmarks).
  Quote next_quote(std::size_t index, int64_t now);
  uint64_t quotes_published() const { return published_.load(std::memory_order_relaxed); }
  uint64_t quotes_dropped() const { return dropped_.load(std::memory_order_relaxed); }

 private:
  struct Walk {
    double mid;
    double half_spread;
    double sigma;
  };
  std::vector<InstrumentSpec> instruments_;
  std::vector<Walk> walks_;
  std::vector<Output> outputs_;
  std::mt19937_64 rng_;
  std::normal_distribution<double> normal_{0.0, 1.0};
  int64_t interval_ns_;
  int64_t next_emit_ns_ = 0;
  uint64_t sequence_ = 0;
  std::atomic<uint64_t> published_{0};
  std::atomic<uint64_t> dropped_{0};
};

}  // namespace qt
