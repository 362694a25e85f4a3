// quote_parse_bench: cost of turning one Capital.com WebSocket quote frame into a fixed-point
// qt::Quote on one core (feeds/capital/quote_parser.hpp). Target (issue): ≤ 200 ns per quote,
// ≥ 5 M quotes/s, zero allocations.
//
// Input: 8192 compact quote frames as the venue (and our simulator) send them, for 8 epics with
// their own decimals (GOLD, SILVER, OIL_CRUDE, EURUSD, GBPUSD, US500, BTCUSD, AAPL), prices on a
// seeded random walk; parsed round-robin so branch predictors and caches see a realistic mix.
//
// Compared (Google Benchmark, one frame per iteration, so "Time" is ns per message):
//   QuoteParser/copy       parse(): memcpy into the parser's padded buffer, then parse
//   QuoteParser/zero_copy  parse_padded(): the frame sits in a receive buffer with 64 B slack
//   OnDemand/get_double    the same on-demand walk, numbers via get_double() + llround (the
//                          float path the exact decimal path replaces), zero-copy
//   ProtocolDom            parse_ws_server_message() + fixed_point_from_double: the control-path
//                          DOM parser (allocating), for scale
// Each reports messages/s and allocations per message (tests/support/allocation_counter.hpp).
// Two micro rows isolate the number conversion inside a parse, one price text per iteration (the
// frames' bids and offers): Decimal/parse_fixed_point (exact, gateway/capital/protocol/
// decimal.hpp) against Decimal/from_chars_double (std::from_chars to double + llround).
// Then a percentile pass times 1M single parses with lfence+rdtsc (timer overhead printed) and
// prints p50/p99/p99.9/max for the two QuoteParser modes.
#include <benchmark/benchmark.h>

#include <charconv>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "bench/bench_cli.hpp"
#include "bench/bench_support.hpp"
#include "bench/registered_benchmarks.hpp"
#include "feeds/capital/quote_parser.hpp"
#include "gateway/capital/protocol.hpp"
#include "gateway/capital/protocol/decimal.hpp"
#include "tests/support/allocation_counter.hpp"
#include "tests/support/process_allocator.hpp"

namespace qt::bench {
namespace {

using capital::ParseResult;
using capital::QuoteParser;
using testing::AllocationWindow;
using testing::CountedThreads;

struct Market {
  const char* epic;
  int price_decimals;
  int size_decimals;
  double price;
  double spread;
};

constexpr Market kMarkets[] = {
    {"GOLD", 2, 2, 2300.10, 0.30},      {"SILVER", 3, 2, 27.512, 0.020},
    {"OIL_CRUDE", 2, 2, 80.15, 0.03},   {"EURUSD", 5, 0, 1.08543, 0.00006},
    {"GBPUSD", 5, 0, 1.27012, 0.00009}, {"US500", 1, 2, 5210.4, 0.4},
    {"BTCUSD", 2, 4, 64012.55, 30.0},   {"AAPL", 2, 0, 181.32, 0.04},
};
constexpr std::size_t kFrames = 8192;

// Frames laid out back to back, each followed by kPadding bytes: a receive buffer.
struct Corpus {
  std::vector<InstrumentSpec> specs;
  std::string arena;
  std::vector<std::string_view> frames;
  std::size_t total_bytes = 0;
  // The frames' bid and offer as JSON number text, with their instrument's price decimals.
  std::vector<std::pair<std::string, int>> prices;

  Corpus() {
    for (std::size_t i = 0; i < std::size(kMarkets); ++i) {
      const Market& m = kMarkets[i];
      const double tick = std::pow(10.0, -m.price_decimals);
      const double lot = std::pow(10.0, -m.size_decimals);
      specs.push_back(make_instrument(static_cast<InstrumentId>(i), m.epic, m.price_decimals,
                                      m.size_decimals, tick, lot, lot, 0));
    }
    std::mt19937_64 rng(20240501);
    std::normal_distribution<double> step(0.0, 1.0);
    std::vector<double> mids;
    for (const Market& m : kMarkets) mids.push_back(m.price);
    std::vector<std::string> texts;
    int64_t timestamp = 1714557600123;
    for (std::size_t k = 0; k < kFrames; ++k) {
      const std::size_t i = rng() % std::size(kMarkets);
      const Market& m = kMarkets[i];
      const double scale = std::pow(10.0, m.price_decimals);
      mids[i] *= 1.0 + 0.0002 * step(rng);
      const double bid = std::round((mids[i] - m.spread / 2) * scale) / scale;
      const double ofr = std::round((mids[i] + m.spread / 2) * scale) / scale;
      const double size_scale = std::pow(10.0, m.size_decimals);
      const double qty =
          std::round((1 + static_cast<double>(rng() % 500000) / 100) * size_scale) / size_scale;
      timestamp += static_cast<int64_t>(rng() % 40);
      for (const double price : {bid, ofr}) {
        char text[32];
        const auto end = std::to_chars(text, text + sizeof text, price).ptr;
        prices.emplace_back(std::string(text, end), m.price_decimals);
      }
      texts.push_back(
          capital::to_json(capital::WsQuote{m.epic, "CFD", bid, qty, ofr, qty, timestamp}));
    }
    std::size_t size = 0;
    for (const std::string& t : texts) size += t.size() + QuoteParser::kPadding;
    arena.assign(size, ' ');
    std::size_t at = 0;
    for (const std::string& t : texts) {
      arena.replace(at, t.size(), t);
      frames.emplace_back(arena.data() + at, t.size());
      total_bytes += t.size();
      at += t.size() + QuoteParser::kPadding;
    }
  }
  // Readable bytes from the start of frame k: the frame, its padding, and the rest of the arena.
  std::size_t readable(std::size_t k) const {
    return static_cast<std::size_t>(arena.data() + arena.size() - frames[k].data());
  }
};

const Corpus& corpus() {
  static const Corpus c;
  return c;
}

QuoteParser make_parser() {
  auto parser = QuoteParser::create(corpus().specs);
  if (!parser.ok()) {
    std::fprintf(stderr, "FATAL: %s\n", std::string(parser.status().message()).c_str());
    std::exit(1);
  }
  return std::move(*parser);
}

void report(benchmark::State& state, uint64_t allocations, uint64_t quotes) {
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(corpus().total_bytes / kFrames));
  state.counters["allocs_per_msg"] = benchmark::Counter(static_cast<double>(allocations) /
                                                        static_cast<double>(state.iterations()));
  state.counters["allocs"] = static_cast<double>(allocations);
  if (quotes != static_cast<uint64_t>(state.iterations()))
    state.SkipWithError("a frame did not parse as a quote");
}

template <typename Parse>
void run_quote_parser(benchmark::State& state, Parse parse) {
  QuoteParser parser = make_parser();
  const Corpus& c = corpus();
  Quote quote;
  for (std::size_t k = 0; k < kFrames; ++k) parse(parser, k, quote);  // warm-up
  std::size_t k = 0;
  uint64_t quotes = 0;
  AllocationWindow window(CountedThreads::kAll);
  for (auto _ : state) {
    quotes += parse(parser, k, quote) == ParseResult::kQuote;
    benchmark::DoNotOptimize(quote);
    k = (k + 1) & (kFrames - 1);
  }
  window.close();
  (void)c;
  report(state, window.allocations(), quotes);
}

void BM_QuoteParserCopy(benchmark::State& state) {
  run_quote_parser(state, [](QuoteParser& p, std::size_t k, Quote& q) {
    return p.parse(corpus().frames[k], q);
  });
}
BENCHMARK(BM_QuoteParserCopy)->Name("QuoteParser/copy");

void BM_QuoteParserZeroCopy(benchmark::State& state) {
  run_quote_parser(state, [](QuoteParser& p, std::size_t k, Quote& q) {
    return p.parse_padded(corpus().frames[k], corpus().readable(k), q);
  });
}
BENCHMARK(BM_QuoteParserZeroCopy)->Name("QuoteParser/zero_copy");

// The float alternative: same on-demand walk, get_double() + llround(x * 10^d).
void BM_OnDemandGetDouble(benchmark::State& state) {
  namespace od = simdjson::ondemand;
  const Corpus& c = corpus();
  od::parser parser;
  if (parser.allocate(64 * 1024) != simdjson::SUCCESS) state.SkipWithError("allocate");
  std::size_t k = 0;
  uint64_t quotes = 0;
  AllocationWindow window(CountedThreads::kAll);
  for (auto _ : state) {
    od::document doc;
    Quote quote;
    if (parser.iterate(c.frames[k].data(), c.frames[k].size(), c.readable(k)).get(doc) ==
        simdjson::SUCCESS) {
      od::object payload;
      if (doc["payload"].get_object().get(payload) == simdjson::SUCCESS) {
        std::string_view epic;
        double bid = 0, ofr = 0, bid_qty = 0, ofr_qty = 0;
        int64_t ts = 0;
        bool ok = payload["epic"].get_string().get(epic) == simdjson::SUCCESS &&
                  payload["bid"].get_double().get(bid) == simdjson::SUCCESS &&
                  payload["bidQty"].get_double().get(bid_qty) == simdjson::SUCCESS &&
                  payload["ofr"].get_double().get(ofr) == simdjson::SUCCESS &&
                  payload["ofrQty"].get_double().get(ofr_qty) == simdjson::SUCCESS &&
                  payload["timestamp"].get_int64().get(ts) == simdjson::SUCCESS;
        const InstrumentSpec* spec = nullptr;
        for (const InstrumentSpec& s : c.specs) {
          if (s.name() == epic) spec = &s;
        }
        if (ok && spec != nullptr) {
          const double ps = static_cast<double>(spec->price_scale());
          const double ss = static_cast<double>(spec->size_scale());
          quote.instrument = spec->id;
          quote.bid = std::llround(bid * ps);
          quote.ask = std::llround(ofr * ps);
          quote.bid_size = std::llround(bid_qty * ss);
          quote.ask_size = std::llround(ofr_qty * ss);
          quote.venue_epoch_ms = ts;
          ++quotes;
        }
      }
    }
    benchmark::DoNotOptimize(quote);
    k = (k + 1) & (kFrames - 1);
  }
  window.close();
  report(state, window.allocations(), quotes);
}
BENCHMARK(BM_OnDemandGetDouble)->Name("OnDemand/get_double");

void BM_ProtocolDom(benchmark::State& state) {
  const Corpus& c = corpus();
  std::size_t k = 0;
  uint64_t quotes = 0;
  AllocationWindow window(CountedThreads::kAll);
  for (auto _ : state) {
    auto message = capital::parse_ws_server_message(c.frames[k]);
    if (message.ok()) {
      if (const auto* q = std::get_if<capital::WsQuote>(&*message)) {
        int64_t bid = 0;
        quotes += capital::fixed_point_from_double(q->bid, 2, bid) == capital::DecimalStatus::kOk;
        benchmark::DoNotOptimize(bid);
      }
    }
    k = (k + 1) & (kFrames - 1);
  }
  window.close();
  report(state, window.allocations(), quotes);
}
BENCHMARK(BM_ProtocolDom)->Name("ProtocolDom");

template <typename Convert>
void run_decimal(benchmark::State& state, Convert convert) {
  const auto& prices = corpus().prices;
  std::size_t k = 0;
  for (auto _ : state) {
    int64_t units = 0;
    if (!convert(prices[k].first, prices[k].second, units)) {
      state.SkipWithError("a price did not convert");
      break;
    }
    benchmark::DoNotOptimize(units);
    k = k + 1 == prices.size() ? 0 : k + 1;
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_DecimalParseFixedPoint(benchmark::State& state) {
  run_decimal(state, [](std::string_view text, int decimals, int64_t& units) {
    return capital::parse_fixed_point(text, decimals, units) == capital::DecimalStatus::kOk;
  });
}
BENCHMARK(BM_DecimalParseFixedPoint)->Name("Decimal/parse_fixed_point");

void BM_DecimalFromCharsDouble(benchmark::State& state) {
  run_decimal(state, [](std::string_view text, int decimals, int64_t& units) {
    double value = 0;
    if (std::from_chars(text.data(), text.data() + text.size(), value).ec != std::errc()) {
      return false;
    }
    static constexpr double kScale[] = {1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9};
    units = std::llround(value * kScale[decimals]);
    return true;
  });
}
BENCHMARK(BM_DecimalFromCharsDouble)->Name("Decimal/from_chars_double");

// Per-message latency: lfence+rdtsc around each single parse.
void percentile_pass(std::size_t samples) {
  const TickClock clock = TickClock::calibrate();
  const Percentiles timer = timer_overhead(clock);
  std::printf(
      "\nper-message latency, %zu single parses each, %s at %.2f GHz "
      "(timer overhead p50 %.0f ns, included below)\n",
      samples, TickClock::source(), clock.ghz(), timer.p50);

  auto run = [&](const char* name, auto parse) {
    QuoteParser parser = make_parser();
    Quote quote;
    std::vector<int64_t> timed(samples);
    for (std::size_t k = 0; k < kFrames; ++k) parse(parser, k, quote);
    AllocationWindow window(CountedThreads::kAll);
    for (std::size_t i = 0; i < samples; ++i) {
      const std::size_t k = i & (kFrames - 1);
      const uint64_t t0 = TickClock::now();
      const ParseResult r = parse(parser, k, quote);
      const uint64_t t1 = TickClock::now();
      benchmark::DoNotOptimize(r);
      timed[i] = static_cast<int64_t>(t1 - t0);
    }
    window.close();
    const uint64_t allocations = window.allocations();
    const Percentiles p = percentiles(timed, clock.to_ns(1.0));
    std::printf("  %-22s p50 %5.0f ns  p99 %5.0f ns  p99.9 %6.0f ns  max %8.0f ns  allocs %" PRIu64
                "\n",
                name, p.p50, p.p99, p.p999, p.max, allocations);
  };
  run("QuoteParser/copy",
      [](QuoteParser& p, std::size_t k, Quote& q) { return p.parse(corpus().frames[k], q); });
  run("QuoteParser/zero_copy", [](QuoteParser& p, std::size_t k, Quote& q) {
    return p.parse_padded(corpus().frames[k], corpus().readable(k), q);
  });
}

}  // namespace
}  // namespace qt::bench

int main(int argc, char** argv) {
  using namespace qt::bench;
  std::size_t percentile_samples = 1'000'000;
  CLI::App app(
      "quote_parse_bench: Capital.com quote frame -> fixed-point Quote, Google Benchmark rows "
      "then per-message percentiles");
  add_positive_option(app, "--percentile-samples", percentile_samples,
                      "single parses timed per QuoteParser mode in the percentile pass");
  app.footer("Every --benchmark_* flag is passed to Google Benchmark.");
  std::vector<std::string> benchmark_args;
  if (const auto exit = parse_command_line(app, argc, argv, &benchmark_args)) return *exit;

  const CpuPair cpus = default_cpus();
  pin_current_thread(cpus.producer);
  const Corpus& c = corpus();
  std::printf(
      "quote_parse_bench: %zu quote frames, %zu epics, mean %.0f bytes/frame, pinned to "
      "CPU %d\nexample frame: %.*s\n",
      kFrames, std::size(kMarkets), static_cast<double>(c.total_bytes) / kFrames, cpus.producer,
      static_cast<int>(c.frames[0].size()), c.frames[0].data());
  std::printf("target: <= 200 ns/quote, >= 5 M quotes/s, 0 allocations; allocator: %s\n\n",
              qt::testing::process_allocator_name().c_str());
  if (const int failed = run_registered_benchmarks(benchmark_args); failed != 0) return failed;
  percentile_pass(percentile_samples);
  return 0;
}
