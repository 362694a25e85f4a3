// journal_bench's restart rows: a real Engine + PaperVenue + JournalAgent (one thread) trade
// restart_orders market orders into a journal (4 records per order); then the restart paths are
// timed: recover_journal() + a fresh Engine + every record through persist::replay_record(), and
// recover_engine_state() from a snapshot taken after 90% of the orders, from none, and from a
// snapshot of the final state. Each rebuilt state is compared with the original engine's.

#include "bench/gold_orders.hpp"
#include "bench/journal_bench.hpp"
#include "engine/clock.hpp"
#include "engine/engine.hpp"
#include "gateway/paper/paper_venue.hpp"
#include "persist/data_dir.hpp"
#include "persist/engine_journal.hpp"
#include "persist/engine_recovery.hpp"
#include "persist/snapshot.hpp"

namespace qt::bench {
namespace {

struct EngineRings {
  std::unique_ptr<QuoteRing> quotes = std::make_unique<QuoteRing>();
  std::unique_ptr<QuoteRing> venue_quotes = std::make_unique<QuoteRing>();
  std::unique_ptr<VenueRequestRing> requests = std::make_unique<VenueRequestRing>();
  std::unique_ptr<VenueEventRing> events = std::make_unique<VenueEventRing>();
  std::unique_ptr<CommandRing> commands = std::make_unique<CommandRing>();
};

// Empty when the two states agree on every field a snapshot carries (position marks aside: they
// come from quotes, which are not journaled); else the first field that differs.
std::string first_difference(const EngineState& a, const EngineState& b) {
  auto differ = [](const char* what, auto x, auto y, std::size_t index = 0) {
    return std::string(what) + " #" + std::to_string(index) + ": " + std::to_string(x) + " vs " +
           std::to_string(y);
  };
  if (a.journal_sequence != b.journal_sequence) {
    return differ("journal_sequence", a.journal_sequence, b.journal_sequence);
  }
  if (a.last_order_id != b.last_order_id) {
    return differ("last_order_id", a.last_order_id, b.last_order_id);
  }
  if (a.trading_state != b.trading_state || a.kill_switch != b.kill_switch) {
    return "trading state / kill switch";
  }
  if (a.positions.size() != b.positions.size() || a.orders.size() != b.orders.size()) {
    return differ("orders.size()", a.orders.size(), b.orders.size());
  }
  for (std::size_t i = 0; i < a.positions.size(); ++i) {
    const Position& x = a.positions[i];
    const Position& y = b.positions[i];
    if (x.net_size() != y.net_size()) return differ("net_size", x.net_size(), y.net_size(), i);
    if (x.realized_pnl() != y.realized_pnl()) {
      return differ("realized_pnl", x.realized_pnl(), y.realized_pnl(), i);
    }
    if (x.bought_size() != y.bought_size() || x.sold_size() != y.sold_size()) {
      return differ("bought_size", x.bought_size(), y.bought_size(), i);
    }
    if (x.average_price() != y.average_price()) {
      return differ("average_price", x.average_price(), y.average_price(), i);
    }
    if (a.open_buy_size[i] != b.open_buy_size[i] || a.open_sell_size[i] != b.open_sell_size[i]) {
      return differ("open_buy_size", a.open_buy_size[i], b.open_buy_size[i], i);
    }
  }
  for (std::size_t i = 0; i < a.orders.size(); ++i) {
    const Order& x = a.orders[i];
    const Order& y = b.orders[i];
    if (x.id != y.id) return differ("order id", x.id, y.id, i);
    if (!(x.client_order_id == y.client_order_id) || x.source != y.source ||
        x.instrument != y.instrument || x.side != y.side || x.type != y.type ||
        x.time_in_force != y.time_in_force) {
      return differ("order request fields of id", x.id, y.id, i);
    }
    if (x.state != y.state || x.state_before_cancel != y.state_before_cancel) {
      return differ("order state of id", x.id, y.id, i);
    }
    if (x.limit_price != y.limit_price || x.size != y.size || x.filled_size != y.filled_size ||
        x.average_fill_price != y.average_fill_price || x.filled_value != y.filled_value) {
      return differ("order fill fields of id", x.id, y.id, i);
    }
    if (x.created_ns != y.created_ns) return differ("created_ns", x.created_ns, y.created_ns, i);
    if (x.created_epoch_ms != y.created_epoch_ms) {
      return differ("created_epoch_ms", x.created_epoch_ms, y.created_epoch_ms, i);
    }
    if (x.venue_order_id != y.venue_order_id) return differ("venue_order_id of id", x.id, y.id, i);
  }
  return {};
}

// Orders (same index, same id) whose created_epoch_ms differ, and by at most how much.
std::string epoch_ms_mismatches(const EngineState& a, const EngineState& b) {
  std::size_t count = 0;
  int64_t worst = 0;
  for (std::size_t i = 0; i < std::min(a.orders.size(), b.orders.size()); ++i) {
    const int64_t delta = a.orders[i].created_epoch_ms - b.orders[i].created_epoch_ms;
    if (a.orders[i].id == b.orders[i].id && delta != 0) {
      ++count;
      worst = std::max(worst, delta < 0 ? -delta : delta);
    }
  }
  return std::to_string(count) + " of " + std::to_string(a.orders.size()) +
         " orders differ in created_epoch_ms, by at most " + std::to_string(worst) + " ms";
}

}  // namespace

void run_restart(const Options& o, const fs::path& base) {
  settle_disk(base);
  // A data directory laid out as the application's (persist/data_dir.hpp): journal/ and, when
  // the snapshot module is built, snapshots/.
  const fs::path data_dir = fresh_dir(base, "restart");
  const fs::path dir = persist::journal_dir(data_dir);
  const LoadWindow load;
  const std::size_t orders = o.restart_orders;
  const std::size_t snapshot_at = orders - orders / 10;  // tail: last 10%
  EngineState original;
  uint64_t journal_records = 0;
  {
    EngineRings rings;
    auto engine = std::make_unique<Engine>(gold_engine_options(), *rings.quotes, *rings.requests,
                                           *rings.events);
    PaperVenue venue(*rings.requests, *rings.events, rings.venue_quotes.get());
    std::unique_ptr<JournalWriter> writer = open_writer(dir, Durability::kAsync, o.segment_size);
    auto ring = std::make_unique<JournalRing>();
    JournalAgent agent(*writer, *ring);
    persist::JournalRingLog log(*ring, writer->durable_sequence());
    engine->set_write_ahead_log(&log, 1);
    engine->add_client_port({rings.commands.get(), nullptr, nullptr, 0});
    engine->on_start();
    Quote quote = gold_quote();
    quote.bid_size = quote.ask_size = 1000;
    rings.quotes->try_push(quote);
    rings.venue_quotes->try_push(quote);

    auto pump = [&] {
      for (;;) {
        int work = engine->do_work();
        while (agent.do_work() > 0) ++work;
        work += engine->do_work();
        if (rings.events->size_approx() + 2 * 256 < VenueEventRing::kCapacity) {
          work += venue.do_work();
        }
        if (work == 0 && engine->stats().outputs_waiting.load() == 0) return;
      }
    };
    const int64_t start = now_ns();
    int64_t snapshot_ns = 0;
    bool snapshot_taken = false;
    std::size_t submitted = 0;
    while (submitted < orders) {
      for (int k = 0; k < 256 && submitted < orders; ++k, ++submitted) {
        if (!rings.commands->try_push(gold_market_order('R', submitted))) {
          die("command ring full");
        }
      }
      pump();
      if (!snapshot_taken && submitted >= snapshot_at) {
        snapshot_taken = true;
        // Quiet here (pump() returned): the state covers exactly the journal so far, all durable.
        const int64_t t0 = now_ns();
        const EngineState state = engine->capture_state();
        check(persist::write_snapshot(data_dir, state, engine->instruments()), "write_snapshot");
        std::printf("  snapshot after %zu orders (sequence %" PRIu64
                    ", %zu orders in the store): captured and written in %.3f s (not in the "
                    "build time)\n",
                    submitted, state.journal_sequence, state.orders.size(),
                    static_cast<double>(now_ns() - t0) / 1e9);
        snapshot_ns = now_ns() - t0;
      }
    }
    pump();
    const int64_t elapsed = now_ns() - start - snapshot_ns;
    const EngineStats& stats = engine->stats();
    uint64_t rejects = 0;
    for (const auto& r : stats.rejects) rejects += r.load();
    if (stats.filled_orders.load() != orders || rejects != 0 || venue.events_dropped() != 0 ||
        stats.output_overflows.load() != 0) {
      die("restart build: filled " + std::to_string(stats.filled_orders.load()) + " rejects " +
          std::to_string(rejects) + " dropped " + std::to_string(venue.events_dropped()));
    }
    original = engine->capture_state();
    journal_records = engine->journal_sequence();
    agent.on_close();
    if (agent.failed()) die("journal agent failed");
    std::printf(
        "  built: %zu orders through Engine + PaperVenue + JournalAgent (async) on one thread in "
        "%.2f s (%s orders); %" PRIu64 " journal records (%.2f per order)\n",
        orders, static_cast<double>(elapsed) / 1e9,
        fmt_rate(static_cast<double>(orders) * 1e9 / static_cast<double>(elapsed)).c_str(),
        journal_records, static_cast<double>(journal_records) / static_cast<double>(orders));
  }
  uint64_t file_bytes = 0;
  for (const fs::directory_entry& e : fs::directory_iterator(dir)) file_bytes += e.file_size();
  std::printf("  journal: %.1f MB (page cache warm)\n", static_cast<double>(file_bytes) / 1e6);

  // The restart path without snapshots.
  const int64_t t0 = now_ns();
  absl::StatusOr<persist::RecoveryResult> recovered = persist::recover_journal(dir);
  if (!recovered.ok()) die("recover_journal: " + recovered.status().ToString());
  const int64_t t1 = now_ns();
  EngineRings rings;
  auto engine = std::make_unique<Engine>(gold_engine_options(), *rings.quotes, *rings.requests,
                                         *rings.events);
  const int64_t t2 = now_ns();
  absl::StatusOr<std::unique_ptr<JournalReader>> reader = JournalReader::open(dir);
  if (!reader.ok()) die("JournalReader::open: " + reader.status().ToString());
  RecordView view;
  uint64_t replayed = 0;
  while ((*reader)->next(view)) {
    const absl::Status s = persist::replay_record(*engine, view);
    if (!s.ok()) die("replay: " + s.ToString());
    ++replayed;
  }
  if (!(*reader)->status().ok()) die("reader: " + (*reader)->status().ToString());
  const int64_t t3 = now_ns();
  const EngineState rebuilt = engine->capture_state();
  const std::string difference = first_difference(original, rebuilt);
  const bool same = difference.empty();
  const double total = static_cast<double>(t3 - t0) / 1e9;
  std::printf(
      "  restart (no snapshot): recover_journal %.3f s + Engine construction %.3f s + reader open "
      "and replay of %" PRIu64 " records %.3f s (%s) = %.3f s total\n",
      static_cast<double>(t1 - t0) / 1e9, static_cast<double>(t2 - t1) / 1e9, replayed,
      static_cast<double>(t3 - t2) / 1e9,
      fmt_rate(static_cast<double>(replayed) * 1e9 / static_cast<double>(t3 - t2)).c_str(), total);
  std::printf("  rebuilt state %s the original (journal sequence %" PRIu64
              ", last order id %" PRIu64 ", %zu orders in the store, net position %" PRId64 ")\n",
              same ? "MATCHES" : "DIFFERS FROM", rebuilt.journal_sequence, rebuilt.last_order_id,
              rebuilt.orders.size(),
              rebuilt.positions.empty() ? 0 : rebuilt.positions[0].net_size());
  std::printf("  target: restart with %zu orders <= 2 s: %s\n", orders, verdict(total <= 2.0));
  if (!same) {
    std::printf("  DIFFERENCE (live engine vs replay): first: %s; %s\n", difference.c_str(),
                epoch_ms_mismatches(original, rebuilt).c_str());
  }
  // The restart path with the snapshot module: recover_journal(), then recover_engine_state()
  // (newest valid snapshot + replay of the journal after it), with snapshots and without.
  const uint64_t original_digest = persist::state_digest(original);
  auto restart_with_module = [&](bool use_snapshots, const char* label) {
    const int64_t r0 = now_ns();
    absl::StatusOr<persist::RecoveryResult> journal = persist::recover_journal(dir);
    if (!journal.ok()) die("recover_journal: " + journal.status().ToString());
    const int64_t r1 = now_ns();
    EngineRings fresh_rings;
    auto fresh = std::make_unique<Engine>(gold_engine_options(), *fresh_rings.quotes,
                                          *fresh_rings.requests, *fresh_rings.events);
    const int64_t r2 = now_ns();
    persist::RecoveryOptions options;
    options.use_snapshots = use_snapshots;
    absl::StatusOr<persist::RecoveredState> state =
        persist::recover_engine_state(*fresh, data_dir, fresh->instruments(), options);
    if (!state.ok()) die("recover_engine_state: " + state.status().ToString());
    const int64_t r3 = now_ns();
    const EngineState recovered = fresh->capture_state();
    const bool digest_ok = persist::state_digest(recovered) == original_digest;
    const double seconds = static_cast<double>(r3 - r0) / 1e9;
    std::printf(
        "  restart (%s): recover_journal %.3f s + Engine construction %.3f s + "
        "recover_engine_state %.3f s (snapshot %s, %" PRIu64
        " records replayed) = %.3f s total; state digest %s; target <= 2 s: %s\n",
        label, static_cast<double>(r1 - r0) / 1e9, static_cast<double>(r2 - r1) / 1e9,
        static_cast<double>(r3 - r2) / 1e9,
        state->snapshot.empty() ? "none" : state->snapshot.filename().c_str(),
        state->records_replayed, seconds, digest_ok ? "MATCHES" : "DIFFERS",
        verdict(seconds <= 2.0));
    if (!digest_ok) {
      std::printf("  DIFFERENCE (live engine vs recovered): first: %s; %s\n",
                  first_difference(original, recovered).c_str(),
                  epoch_ms_mismatches(original, recovered).c_str());
    }
  };
  restart_with_module(true, "snapshot + tail");
  restart_with_module(false, "recover_engine_state, snapshots off");
  {
    // A snapshot of the final state: restart is snapshot load alone (empty tail).
    const int64_t w0 = now_ns();
    check(persist::write_snapshot(data_dir, original, gold_engine_options().instruments),
          "write_snapshot");
    std::printf("  final snapshot written in %.3f s\n", static_cast<double>(now_ns() - w0) / 1e9);
    restart_with_module(true, "final snapshot, empty tail");
  }
  uint64_t snapshot_bytes = 0;
  for (const fs::directory_entry& e : fs::directory_iterator(persist::snapshots_dir(data_dir))) {
    snapshot_bytes = std::max<uint64_t>(snapshot_bytes, e.file_size());
  }
  std::printf("  snapshot file size: %.1f MB\n", static_cast<double>(snapshot_bytes) / 1e6);
  std::printf("  [%s]\n", fmt_load(load.end()).c_str());
  remove_dir(data_dir);
}

}  // namespace qt::bench
