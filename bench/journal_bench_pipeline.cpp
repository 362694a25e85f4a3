// journal_bench's durable-ack rows: a producer thread pushes records onto a real JournalRing, a
// real JournalAgent drains it on its own pinned thread; latency runs from the producer's stamp
// before try_push to the producer seeing durable_sequence() cover the record.
#include <atomic>
#include <chrono>
#include <vector>

#include "bench/journal_bench.hpp"
#include "engine/idle_strategy.hpp"

namespace qt::bench {

PipelineResult run_pipeline(const fs::path& base, Durability mode, EntryPool& pool,
                            std::size_t records, double rate, uint64_t segment_size,
                            const CpuPair& cpus, const TickClock& clock) {
  settle_disk(base);
  const fs::path dir = fresh_dir(base, "pipeline");
  // Opened on the unpinned main thread so the writer's preparer thread is not pinned.
  std::unique_ptr<JournalWriter> writer = open_writer(dir, mode, segment_size);
  PipelineResult result;
  result.first_commit_ns = first_commit(*writer, pool);  // measured records start at 2
  const uint64_t last = records + 1;
  std::this_thread::sleep_for(std::chrono::milliseconds(g_settle_after_open_ms));
  auto ring = std::make_unique<JournalRing>();
  Doorbell journal_bell, durable_bell;
  const bool park = g_idle == IdleMode::kPark;
  JournalAgent agent(*writer, *ring, park ? &durable_bell : nullptr);
  // Sleeps until `until_ticks` or until the agent publishes a durable sequence, whichever is
  // first (park mode; the others spin or yield around their polls).
  auto park_until = [&](uint64_t until_ticks, auto&& poll) {
    const uint32_t epoch = durable_bell.prepare_wait();
    poll();
    const uint64_t t = TickClock::now();
    if (until_ticks > t) {
      durable_bell.wait(epoch,
                        static_cast<int64_t>(clock.to_ns(static_cast<double>(until_ticks - t))));
    }
    durable_bell.cancel_wait();
  };
  const std::atomic<uint64_t>& durable = writer->durable_sequence();
  std::vector<uint64_t> pushed(last + 1), acked(last + 1);
  std::atomic<bool> stop{false};
  result.offered_rate = rate;
  const LoadWindow load;
  uint64_t first_push = 0, last_ack = 0;

  run_pair(
      cpus,
      [&] {
        uint64_t seen = 1;
        auto poll = [&] {
          const uint64_t d = durable.load(std::memory_order_acquire);
          if (d > seen) {
            const uint64_t t = TickClock::now();
            for (uint64_t s = seen + 1; s <= d; ++s) acked[s] = t;
            seen = d;
          }
        };
        const uint64_t interval = rate > 0 ? clock.from_ns(1e9 / rate) : 0;
        const uint64_t late_ticks = clock.from_ns(10'000);
        const uint64_t start = TickClock::now();
        for (uint64_t sequence = 2; sequence <= last; ++sequence) {
          const JournalEntry& entry = pool.at(sequence);
          uint64_t t = TickClock::now();
          if (interval > 0) {
            const uint64_t due = start + (sequence - 2) * interval;
            while (t < due) {
              poll();
              if (park && due - t > clock.from_ns(30'000)) {
                park_until(due - clock.from_ns(20'000), poll);
              } else {
                idle_wait();
              }
              t = TickClock::now();
            }
            if (t - due > late_ticks) ++result.late_pushes;
          }
          pushed[sequence] = t;
          while (!ring->try_push(entry)) poll();
          if (park) journal_bell.ring();
          poll();
        }
        while (seen < last) {
          poll();
          if (park) {
            park_until(TickClock::now() + clock.from_ns(1'000'000), poll);
          } else {
            idle_wait();
          }
        }
        first_push = pushed[2];
        last_ack = acked[last];
        stop.store(true, std::memory_order_release);
        journal_bell.ring();  // the agent parks until rung
      },
      [&] {
        agent.on_start();
        IdleStrategy idle(WaitMode::kPark, &journal_bell, g_park_spin_ns);
        while (!stop.load(std::memory_order_acquire)) {
          const int work = agent.do_work();
          if (park) {
            idle.idle(work,
                      [&] { return stop.load(std::memory_order_acquire) ? 1 : agent.do_work(); });
          } else if (work == 0) {
            idle_wait();
          }
        }
        agent.on_close();  // drains what is left, commits, seals, closes the writer
      });
  if (agent.failed()) die("journal agent failed");
  result.load = load.end();
  std::vector<int64_t> latency(records);
  for (std::size_t s = 2; s <= last; ++s) {
    latency[s - 2] = static_cast<int64_t>(acked[s] - pushed[s]);
    if (clock.to_ns(static_cast<double>(latency[s - 2])) > 1e6) ++result.over_1ms;
  }
  const auto worst = std::max_element(latency.begin(), latency.end()) - latency.begin();
  result.worst_at_ms = clock.to_ns(static_cast<double>(pushed[worst + 2] - first_push)) / 1e6;
  result.ack = percentiles(latency, clock.to_ns(1.0));
  result.records_per_second =
      static_cast<double>(records) * 1e9 / clock.to_ns(static_cast<double>(last_ack - first_push));
  result.counters = counters_of(*writer);
  const LatencyHistogram::Snapshot commits = writer->stats().commit_ns.snapshot();
  result.commit_p50 = commits.percentile(0.5);
  result.commit_p99 = commits.percentile(0.99);
  result.commit_max = commits.max();
  writer.reset();
  remove_dir(dir);
  return result;
}

void print_pipeline(const char* mode, const PipelineResult& r) {
  char label[48];
  if (r.offered_rate > 0) {
    std::snprintf(label, sizeof label, "%s @ %s", mode, fmt_rate(r.offered_rate).c_str());
  } else {
    std::snprintf(label, sizeof label, "%s unpaced", mode);
  }
  std::printf("    durable    %-17s %-40s %10s   commits %" PRIu64, label, fmt_pct(r.ack).c_str(),
              fmt_rate(r.records_per_second).c_str(), r.counters.commits);
  if (r.counters.commits > 0) {
    std::printf(" (%.1f rec/commit; commit p50/p99/max %s / %s / %s)",
                static_cast<double>(r.ack.count) / static_cast<double>(r.counters.commits),
                fmt_ns(static_cast<double>(r.commit_p50)).c_str(),
                fmt_ns(static_cast<double>(r.commit_p99)).c_str(),
                fmt_ns(static_cast<double>(r.commit_max)).c_str());
  }
  std::printf("  switches %" PRIu64 " late-prep %" PRIu64, r.counters.segment_switches,
              r.counters.late_preparations);
  if (r.offered_rate > 0) std::printf("  late pushes %" PRIu64, r.late_pushes);
  if (r.over_1ms > 0) std::printf("  over 1 ms: %" PRIu64, r.over_1ms);
  std::printf("  slowest at %.0f ms", r.worst_at_ms);
  std::printf("  first commit %s  [%s]\n", fmt_ns(r.first_commit_ns).c_str(),
              fmt_load(r.load).c_str());
}

}  // namespace qt::bench
