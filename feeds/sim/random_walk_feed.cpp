#include "feeds/sim/random_walk_feed.hpp"

#include <algorithm>
#include <cmath>

#include "engine/clock.hpp"

namespace qt {

RandomWalkFeed::RandomWalkFeed(std::vector<InstrumentSpec> instruments,
                               std::vector<RandomWalkParams> params, uint64_t seed,
                               int quotes_per_second_per_instrument)
    : instruments_(std::move(instruments)),
      rng_(seed),
      interval_ns_(quotes_per_second_per_instrument > 0
                       ? 1'000'000'000 / quotes_per_second_per_instrument
                       : 1'000'000'000) {
  for (std::size_t i = 0; i < instruments_.size(); ++i) {
    const RandomWalkParams p = i < params.size() ? params[i] : RandomWalkParams{};
    walks_.push_back({p.initial_price, p.spread / 2, p.volatility_bps / 10'000.0});
  }
  outputs_.reserve(8);
}

void RandomWalkFeed::on_start() {
  next_emit_ns_ = now_ns();
}

Quote RandomWalkFeed::next_quote(std::size_t index, int64_t now) {
  Walk& walk = walks_[index];
  const InstrumentSpec& spec = instruments_[index];
  walk.mid *= std::exp(walk.sigma * normal_(rng_));
  const double tick = static_cast<double>(spec.tick);
  // Bid and ask on the tick grid, at least one tick apart.
  auto to_ticks = [&](double price) {
    return static_cast<PriceUnits>(std::llround(spec.price_from_double(price) / tick)) * spec.tick;
  };
  Quote quote;
  quote.instrument = spec.id;
  quote.bid = to_ticks(walk.mid - walk.half_spread);
  quote.ask = std::max(to_ticks(walk.mid + walk.half_spread), quote.bid + spec.tick);
  quote.bid_size = spec.size_from_double(100);
  quote.ask_size = quote.bid_size;
  quote.venue_epoch_ms = wall_epoch_ms();
  quote.received_ns = now;
  quote.sequence = ++sequence_;
  return quote;
}

int RandomWalkFeed::do_work() {
  const int64_t now = now_ns();
  if (now < next_emit_ns_) return 0;
  // Catch up at most a few intervals after a stall instead of bursting the backlog.
  if (now - next_emit_ns_ > 4 * interval_ns_) next_emit_ns_ = now;
  next_emit_ns_ += interval_ns_;
  int work = 0;
  for (std::size_t i = 0; i < instruments_.size(); ++i) {
    Quote quote = next_quote(i, now);
    quote.received_ns = now_ns();  // stamped as it leaves the feed, like a parsed network frame
    for (const Output& out : outputs_) {
      if (out.ring->try_push(quote)) {
        if (out.doorbell != nullptr) out.doorbell->ring();
      } else {
        dropped_.store(dropped_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
      }
    }
    ++work;
  }
  published_.store(published_.load(std::memory_order_relaxed) + work, std::memory_order_relaxed);
  return work;
}

}  // namespace qt
