// journal_bench: the persist/ journal against SQLite (the seed's storage), measured in one run on
// one disk — the figures issue 4 asks for in bench/RESULTS.md:
//
//  fdatasync   the cost of one fdatasync after a 96-byte store into a mapped, zero-filled file
//              (the journal's way) and after a 96-byte pwrite (SQLite's way), interleaved.
//  append()    JournalWriter::append() on one thread — the journal thread's own cost per record —
//              timed one call at a time with the TSC, committing as the JournalAgent would
//              (async: publish every 256; group: fdatasync every 256 = group_commit_max_records;
//              sync: fdatasync after every record). Records/s from a second, untimed pass that
//              includes the commits.
//  durable-ack a producer thread pushes JournalEntry records onto a real JournalRing; a real
//              JournalAgent drains it on its own pinned thread (spinning on do_work()). Latency
//              of one record = producer's TSC stamp just before try_push → the producer seeing
//              durable_sequence() cover it (the producer polls it between pushes, as the engine
//              does). Paced at fixed rates (open loop), plus an unpaced run for durable records/s.
//  sqlite      the same records inserted into a WAL-mode SQLite table (seq INTEGER PRIMARY KEY,
//              type, ts, payload BLOB) with a prepared statement: one transaction per record with
//              synchronous=FULL (durability equal to group/sync), and batches of 1000 per
//              transaction with synchronous=NORMAL (survives a process crash, like async) and FULL.
//  switch      group mode at 100k records/s across one segment switch (the new segment's first
//              commits and the preparer's I/O land inside the window).
//  replay      10M 64-byte-payload records written with JournalWriter (async), then read back
//              with JournalReader (every CRC checked) and checked with verify_journal().
//  restart     a real Engine + PaperVenue + JournalAgent (one thread) trade 1M market orders
//              into a journal (order received, sent to venue, accepted, filled: 4 records per
//              order); then the restart path without snapshots is timed: recover_journal(), a
//              fresh Engine, JournalReader over every record into Engine::replay(). The rebuilt
//              state is compared field by field with the original engine's. It also times
//              recover_engine_state() from a snapshot taken after 90% of the orders (tail = the
//              last 10%), from none, and from a snapshot of the final state.
//
// Durable-mode writers are measured from record 2: record 1 is appended and committed right
// after open() and that first commit is reported on its own ("first commit"), because it is not
// a typical one. Every row ends with what the rest of the machine did meanwhile (other
// processes' CPU, the disk's writes and flushes): other people share this VM.
//
// Record sizes are PAYLOAD sizes (32-byte record header and 8-byte alignment on top; the program
// prints the on-disk size of each). Defaults: 64, 104 (an engine JournalEntry's maximum) and 256.
// Payloads over 104 bytes go through JournalWriter's span append (FORMAT.md v2 allows up to 4064);
// the engine's ring carries JournalEntry slots only, so the durable-ack pipeline rows are
// measured for payloads of at most 104 bytes.
// Beside each paced group row, the disk's own floor: bare pwrite + greedy fdatasync at the same
// rate, alone and with a thread waking at each arrival on the other CPU.
//
// One program in several files sharing journal_bench.hpp: this one runs the rounds, prints the
// summary and parses the command line; each kind of row lives in journal_bench_<row>.cpp.
// The journal directory must not be tmpfs (the program checks with statfs).
// Threads: the main thread (unpinned, so the writers it opens get unpinned preparer threads), and
// for the durable-ack runs a producer pinned to the first allowed CPU and the journal agent to the
// second. Benchmark code, not engine code: it allocates freely outside the timed loops.
#include "bench/journal_bench.hpp"

#include <cstdio>
#include <string>
#include <vector>

#include "bench/bench_cli.hpp"
#include "engine/clock.hpp"
#include "persist/records.hpp"
#include "tests/support/process_allocator.hpp"

namespace qt::bench {
namespace {

struct SizeRound {
  AppendResult append_async, append_group, append_sync;
  std::vector<PipelineResult> pipe_async_paced;
  PipelineResult pipe_async_max;
  std::vector<PipelineResult> pipe_group_paced;
  std::vector<FloorResult> floor_paced;        // beside each pipe_group_paced row
  std::vector<FloorResult> floor_paced_waker;  // the same with a thread waking on the other CPU
  PipelineResult pipe_group_max, pipe_sync_paced, pipe_sync_max;
  SqliteResult sqlite_single_full, sqlite_batch_normal, sqlite_batch_full;
};

SizeRound run_size_round(const Options& o, const fs::path& base, std::size_t payload,
                         const CpuPair& cpus, const TickClock& clock, int round) {
  SizeRound r;
  EntryPool pool(payload, 0x5EED0000u + static_cast<uint64_t>(round) * 131 + payload);
  std::printf("  payload %zu B (on disk %" PRIu64 " B per record)\n", payload,
              on_disk_size(payload));
  std::printf("    %-28s %-40s %10s\n", "", "p50 / p99 / p99.9 / max", "records/s");
  if (o.run("append")) {
    r.append_async = run_append(base, Durability::kAsync, pool, o.scaled(o.append_samples),
                                o.scaled(o.append_records), o.segment_size, clock);
    print_append("async", r.append_async);
    r.append_group = run_append(base, Durability::kGroup, pool, o.scaled(o.group_append_records),
                                o.scaled(o.group_append_records), o.segment_size, clock);
    print_append("group", r.append_group);
    r.append_sync = run_append(base, Durability::kSync, pool, o.scaled(o.sync_records),
                               o.scaled(o.sync_records), o.segment_size, clock);
    print_append("sync", r.append_sync);
    std::fflush(stdout);
  }
  if (o.run("sqlite")) {
    r.sqlite_batch_normal =
        run_sqlite(base, pool, o.scaled(o.sqlite_batched), o.sqlite_batch, "NORMAL", clock);
    print_sqlite("batch 1000, NORMAL", r.sqlite_batch_normal);
    r.sqlite_batch_full =
        run_sqlite(base, pool, o.scaled(o.sqlite_batched), o.sqlite_batch, "FULL", clock);
    print_sqlite("batch 1000, FULL", r.sqlite_batch_full);
    r.sqlite_single_full = run_sqlite(base, pool, o.scaled(o.sqlite_single), 1, "FULL", clock);
    print_sqlite("1 per txn, FULL", r.sqlite_single_full);
    std::fflush(stdout);
  }
  if (o.run("pipeline") && pool.fits_entry()) {
    auto paced_count = [&](double rate) {
      return std::max<std::size_t>(100, o.scaled(static_cast<std::size_t>(rate * o.paced_seconds)));
    };
    for (double rate : o.async_rates) {
      r.pipe_async_paced.push_back(run_pipeline(base, Durability::kAsync, pool, paced_count(rate),
                                                rate, o.segment_size, cpus, clock));
      print_pipeline("async", r.pipe_async_paced.back());
    }
    r.pipe_async_max =
        run_pipeline(base, Durability::kAsync, pool, o.scaled(o.pipeline_async_records), 0,
                     o.segment_size, cpus, clock);
    print_pipeline("async", r.pipe_async_max);
    for (double rate : o.group_rates) {
      r.floor_paced.push_back(run_fdatasync_floor(base, paced_count(rate), rate,
                                                  on_disk_size(payload), o.segment_size));
      print_floor(r.floor_paced.back(), rate, "");
      r.floor_paced_waker.push_back(run_fdatasync_floor(
          base, paced_count(rate), rate, on_disk_size(payload), o.segment_size, &cpus));
      print_floor(r.floor_paced_waker.back(), rate, " + waker");
      r.pipe_group_paced.push_back(run_pipeline(base, Durability::kGroup, pool, paced_count(rate),
                                                rate, o.segment_size, cpus, clock));
      print_pipeline("group", r.pipe_group_paced.back());
    }
    r.pipe_group_max =
        run_pipeline(base, Durability::kGroup, pool, o.scaled(o.pipeline_group_records), 0,
                     o.segment_size, cpus, clock);
    print_pipeline("group", r.pipe_group_max);
    r.pipe_sync_paced = run_pipeline(base, Durability::kSync, pool, paced_count(o.sync_rate) / 2,
                                     o.sync_rate, o.segment_size, cpus, clock);
    print_pipeline("sync", r.pipe_sync_paced);
    r.pipe_sync_max = run_pipeline(base, Durability::kSync, pool, o.scaled(o.sync_records), 0,
                                   o.segment_size, cpus, clock);
    print_pipeline("sync", r.pipe_sync_max);
    std::fflush(stdout);
  }
  return r;
}

template <typename F>
double median_over(const std::vector<SizeRound>& rounds, F&& f) {
  std::vector<double> values;
  for (const SizeRound& r : rounds) values.push_back(f(r));
  return median(values);
}

template <typename F>
double max_over(const std::vector<SizeRound>& rounds, F&& f) {
  double worst = 0;
  for (const SizeRound& r : rounds) worst = std::max(worst, f(r));
  return worst;
}

void summarize(const Options& o, std::size_t payload, const std::vector<SizeRound>& rounds) {
  std::printf("  payload %zu B (%" PRIu64 " B on disk), median over %zu round(s):\n", payload,
              on_disk_size(payload), rounds.size());
  if (o.run("append")) {
    const double p50 =
        median_over(rounds, [](const SizeRound& r) { return r.append_async.latency.p50; });
    const double p99 =
        median_over(rounds, [](const SizeRound& r) { return r.append_async.latency.p99; });
    const double rate =
        median_over(rounds, [](const SizeRound& r) { return r.append_async.records_per_second; });
    std::printf("    async append() p50 %s (target <= 100 ns: %s), p99 %s (target <= 1 us: %s)\n",
                fmt_ns(p50).c_str(), verdict(p50 <= 100), fmt_ns(p99).c_str(),
                verdict(p99 <= 1000));
    std::printf("    async append() records/s %s (target >= 10 M/s: %s)\n", fmt_rate(rate).c_str(),
                verdict(rate >= 10e6));
    std::printf(
        "    group append() p50/p99 %s / %s, %s; sync append() p50/p99 %s / %s, %s\n",
        fmt_ns(median_over(rounds, [](const SizeRound& r) { return r.append_group.latency.p50; }))
            .c_str(),
        fmt_ns(median_over(rounds, [](const SizeRound& r) { return r.append_group.latency.p99; }))
            .c_str(),
        fmt_rate(median_over(rounds,
                             [](const SizeRound& r) { return r.append_group.records_per_second; }))
            .c_str(),
        fmt_ns(median_over(rounds, [](const SizeRound& r) { return r.append_sync.latency.p50; }))
            .c_str(),
        fmt_ns(median_over(rounds, [](const SizeRound& r) { return r.append_sync.latency.p99; }))
            .c_str(),
        fmt_rate(median_over(rounds, [](const SizeRound& r) {
          return r.append_sync.records_per_second;
        })).c_str());
  }
  if (o.run("append") && o.run("sqlite")) {
    // Ratios inside each round (same run, same disk state), then the median.
    const double vs_normal = median_over(rounds, [](const SizeRound& r) {
      return r.append_async.records_per_second / r.sqlite_batch_normal.records_per_second;
    });
    const double vs_full = median_over(rounds, [](const SizeRound& r) {
      return r.append_async.records_per_second / r.sqlite_batch_full.records_per_second;
    });
    std::printf(
        "    async append() / SQLite batched: %.1fx vs synchronous=NORMAL, %.1fx vs FULL "
        "(target >= 10x: %s)\n",
        vs_normal, vs_full, verdict(std::min(vs_normal, vs_full) >= 10));
    const double group_vs_single = median_over(rounds, [](const SizeRound& r) {
      return r.append_group.records_per_second / r.sqlite_single_full.records_per_second;
    });
    std::printf(
        "    group append() with its fdatasyncs (one thread) / SQLite 1-per-txn FULL: %.0fx\n",
        group_vs_single);
  }
  if (o.run("pipeline") && payload <= JournalEntry::kPayloadCapacity) {
    const double group_rate =
        median_over(rounds, [](const SizeRound& r) { return r.pipe_group_max.records_per_second; });
    std::printf("    group durable records/s (ring + agent, unpaced) %s\n",
                fmt_rate(group_rate).c_str());
    const double async_rate =
        median_over(rounds, [](const SizeRound& r) { return r.pipe_async_max.records_per_second; });
    const double sync_rate =
        median_over(rounds, [](const SizeRound& r) { return r.pipe_sync_max.records_per_second; });
    std::printf("    async durable records/s (ring + agent, unpaced) %s; sync %s\n",
                fmt_rate(async_rate).c_str(), fmt_rate(sync_rate).c_str());
    if (o.run("sqlite")) {
      const double sync_ratio = median_over(rounds, [](const SizeRound& r) {
        return r.pipe_sync_max.records_per_second / r.sqlite_single_full.records_per_second;
      });
      std::printf(
          "    sync durable / SQLite 1-per-txn FULL (both one fdatasync per record): %.2fx\n",
          sync_ratio);
    }
    if (o.run("sqlite")) {
      const double ratio = median_over(rounds, [](const SizeRound& r) {
        return r.pipe_group_max.records_per_second / r.sqlite_single_full.records_per_second;
      });
      std::printf("    group durable / SQLite 1-per-txn FULL: %.0fx (target >= 10x: %s)\n", ratio,
                  verdict(ratio >= 10));
    }
    for (std::size_t i = 0; i < o.group_rates.size(); ++i) {
      const double p99 =
          median_over(rounds, [i](const SizeRound& r) { return r.pipe_group_paced[i].ack.p99; });
      const double p50 =
          median_over(rounds, [i](const SizeRound& r) { return r.pipe_group_paced[i].ack.p50; });
      const double worst =
          max_over(rounds, [i](const SizeRound& r) { return r.pipe_group_paced[i].ack.p99; });
      std::printf(
          "    group durable-ack @ %s: p50 %s, p99 %s (worst round %s) (target p99 <= 1 ms: %s)\n",
          fmt_rate(o.group_rates[i]).c_str(), fmt_ns(p50).c_str(), fmt_ns(p99).c_str(),
          fmt_ns(worst).c_str(), verdict(worst <= 1e6));
      const double floor_p50 =
          median_over(rounds, [i](const SizeRound& r) { return r.floor_paced[i].ack.p50; });
      const double floor_p99 =
          median_over(rounds, [i](const SizeRound& r) { return r.floor_paced[i].ack.p99; });
      const double floor_worst =
          max_over(rounds, [i](const SizeRound& r) { return r.floor_paced[i].ack.p99; });
      std::printf(
          "      the disk's floor in the same rounds (bare pwrite + greedy fdatasync): p50 %s, "
          "p99 %s (worst round %s)\n",
          fmt_ns(floor_p50).c_str(), fmt_ns(floor_p99).c_str(), fmt_ns(floor_worst).c_str());
      const double waker_p99 =
          median_over(rounds, [i](const SizeRound& r) { return r.floor_paced_waker[i].ack.p99; });
      const double waker_max =
          median_over(rounds, [i](const SizeRound& r) { return r.floor_paced_waker[i].ack.max; });
      std::printf(
          "      the same floor with a thread waking at each arrival on the other CPU: p99 %s, "
          "max %s\n",
          fmt_ns(waker_p99).c_str(), fmt_ns(waker_max).c_str());
    }
  }
}

int main_impl(int argc, char** argv) {
  Options o;
  std::string dir = o.dir.string();
  uint64_t segment_mb = o.segment_size >> 20;
  int64_t group_commit_us = -1;
  std::string idle = to_string(g_idle);
  CLI::App app(
      "journal_bench: the persist/ journal (append, durable-ack, replay, restart) vs "
      "SQLite, and the disk's own floor, in one run");
  app.add_option("--dir", dir,
                 "on the disk under test, not tmpfs; created, and everything written there "
                 "removed at the end")
      ->default_val(dir);
  app.add_option("--rounds", o.rounds, "rounds")->default_val(o.rounds);
  add_positive_option(app, "--scale", o.scale,
                      "multiplies every per-round record count (not replay/restart)");
  add_positive_option(app, "--segment-mb", segment_mb, "journal segment size, MiB");
  app.add_option("--replay-records", o.replay_records, "records of the replay rows")
      ->default_val(o.replay_records);
  app.add_option("--restart-orders", o.restart_orders, "orders of the restart rows")
      ->default_val(o.restart_orders);
  app.add_option("--paced-seconds", o.paced_seconds, "length of each paced durable-ack row")
      ->default_val(o.paced_seconds);
  app.add_option("--payloads", o.payloads, "payload sizes, bytes")
      ->delimiter(',')
      ->default_str("64,104,256")
      ->check(CLI::Range(std::size_t{1}, std::size_t{persist::kMaxRecordPayload}));
  app.add_option("--group-commit-us", group_commit_us,
                 "group mode: least time between fdatasyncs (default: JournalOptions')");
  app.add_option("--idle", idle, "how the durable-ack producer and journal agent wait")
      ->default_val(idle)
      ->check(CLI::IsMember({"spin", "yield", "park"}));
  app.add_option("--park-spin-ns", g_park_spin_ns, "park mode: spin this long after work")
      ->default_val(g_park_spin_ns);
  app.add_option("--settle-after-open-ms", g_settle_after_open_ms,
                 "pause between opening a durable-ack row's journal and its first record")
      ->default_val(g_settle_after_open_ms);
  app.add_option(
      "--only", o.only,
      "comma-separated sections: fdatasync,append,sqlite,pipeline,switch,replay,restart");
  if (const auto exit = parse_command_line(app, argc, argv)) return *exit;
  o.dir = dir;
  o.segment_size = segment_mb << 20;
  if (group_commit_us >= 0) g_group_commit_interval_ns = group_commit_us * 1000;
  g_idle = idle == "park" ? IdleMode::kPark : idle == "yield" ? IdleMode::kYield : IdleMode::kSpin;
  if (o.rounds < 1) o.rounds = 1;
  const bool created = !fs::exists(o.dir);
  fs::create_directories(o.dir);
  o.dir = fs::canonical(o.dir);
  if (is_tmpfs(o.dir)) die(o.dir.string() + " is tmpfs: measure on the real disk (--dir)");

  g_start_ns = now_ns();
  const CpuPair cpus = default_cpus();
  const TickClock clock = TickClock::calibrate();
  const Percentiles timer = timer_overhead(clock);
  std::printf("journal_bench: persist/ journal (format v%u) vs %s, one run\n",
              persist::kJournalFormatVersion, sqlite_version().c_str());
  std::printf("dir: %s on %s\n", o.dir.c_str(), filesystem_of(o.dir).c_str());
  std::printf("clock: %s at %.3f GHz; empty timed region p50 %s (included in append() figures)\n",
              TickClock::source(), clock.ghz(), fmt_ns(timer.p50).c_str());
  std::printf("cpus: producer %d, journal agent %d (idle: %s); segment size %" PRIu64
              " MiB; rounds %d, scale %.2f; allocator: %s\n",
              cpus.producer, cpus.consumer, to_string(g_idle), o.segment_size >> 20, o.rounds,
              o.scale, testing::process_allocator_name().c_str());
  std::printf(
      "latency columns: p50 / p99 / p99.9 / max.  append() = one JournalWriter::append() call on "
      "the writer's thread;\n  durable = producer push -> durable_sequence() covers the record "
      "(ring + JournalAgent on its own thread);\n  sqlite txn = one transaction (one record when "
      "1 per txn).  Sizes are payload bytes.\n");
  std::fflush(stdout);

  std::vector<std::vector<SizeRound>> by_size(o.payloads.size());
  for (int round = 1; round <= o.rounds; ++round) {
    std::printf("\nround %d/%d\n", round, o.rounds);
    if (o.run("fdatasync")) {
      settle_disk(o.dir);
      const LoadWindow load;
      const FsyncResult f = run_fdatasync(o.dir, o.scaled(o.fsync_samples));
      std::printf(
          "  fdatasync after a 96 B store into the mapping: %s;  after a 96 B pwrite: %s  [%s]\n",
          fmt_pct(f.mmap_store).c_str(), fmt_pct(f.pwrite).c_str(), fmt_load(load.end()).c_str());
    }
    for (std::size_t i = 0; i < o.payloads.size(); ++i) {
      by_size[i].push_back(run_size_round(o, o.dir, o.payloads[i], cpus, clock, round));
    }
  }
  if (o.run("append") || o.run("sqlite") || o.run("pipeline")) {
    std::printf("\nsummary\n");
    for (std::size_t i = 0; i < o.payloads.size(); ++i) summarize(o, o.payloads[i], by_size[i]);
  }
  if (o.run("switch")) {
    // Long enough to cross one segment switch at a realistic rate: the cost of moving to the
    // next segment shows up in the durable-ack tail (see the note on first commits).
    const std::size_t payload = 104;
    const uint64_t per_segment = o.segment_size / on_disk_size(payload);
    const std::size_t records = per_segment + per_segment / 5;
    std::printf(
        "\nsegment switch: group mode, %zu B payload, %zu records at %s (one segment "
        "holds %" PRIu64 ")\n",
        payload, records, fmt_rate(o.switch_rate).c_str(), per_segment);
    EntryPool pool(payload, 0x5A17C4);
    const PipelineResult r = run_pipeline(o.dir, Durability::kGroup, pool, records, o.switch_rate,
                                          o.segment_size, cpus, clock);
    print_pipeline("group", r);
    std::printf("    target: durable-ack p99 <= 1 ms across a segment switch: %s\n",
                verdict(r.ack.p99 <= 1e6));
  }
  if (o.run("replay")) {
    std::printf("\nreplay: %zu records\n", o.replay_records);
    run_replay(o, o.dir);
  }
  if (o.run("restart")) {
    std::printf("\nrestart: %zu orders\n", o.restart_orders);
    run_restart(o, o.dir);
  }
  if (created) remove_dir(o.dir);
  std::printf("\nrun time %.0f s\n", static_cast<double>(now_ns() - g_start_ns) / 1e9);
  return 0;
}

}  // namespace
}  // namespace qt::bench

int main(int argc, char** argv) {
  return qt::bench::main_impl(argc, argv);
}
