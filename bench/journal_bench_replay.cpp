// journal_bench's replay rows: replay_records records written with JournalWriter (async), read
// back twice with JournalReader (every CRC checked) and checked with verify_journal().
#include <iterator>

#include "bench/journal_bench.hpp"
#include "engine/clock.hpp"

namespace qt::bench {

void run_replay(const Options& o, const fs::path& base) {
  settle_disk(base);
  const fs::path dir = fresh_dir(base, "replay");
  const LoadWindow load;
  EntryPool pool(64, 0xDEC0DE);
  const std::size_t records = o.replay_records;
  {
    std::unique_ptr<JournalWriter> writer = open_writer(dir, Durability::kAsync, o.segment_size);
    const int64_t start = now_ns();
    for (uint64_t sequence = 1; sequence <= records; ++sequence) {
      if (!writer->append(pool.at(sequence)).ok()) die("append");
      if (sequence % kAgentBatch == 0) check(writer->commit(), "commit");
    }
    check(writer->commit(), "commit");
    const int64_t elapsed = now_ns() - start;
    const WriterCounters c = counters_of(*writer);
    check(writer->close(), "close");
    std::printf(
        "  wrote %zu records (64 B payload, 96 B on disk) with append() async: %.2f s, %s, "
        "%" PRIu64 " segment switches, %" PRIu64 " late preparations\n",
        records, static_cast<double>(elapsed) / 1e9,
        fmt_rate(static_cast<double>(records) * 1e9 / static_cast<double>(elapsed)).c_str(),
        c.segment_switches, c.late_preparations);
  }
  uint64_t file_bytes = 0;
  for (const fs::directory_entry& e : fs::directory_iterator(dir)) file_bytes += e.file_size();
  std::printf(
      "  journal: %.1f MB in %zu files (page cache warm: written just now, nothing dropped)\n",
      static_cast<double>(file_bytes) / 1e6,
      static_cast<std::size_t>(
          std::distance(fs::directory_iterator(dir), fs::directory_iterator{})));
  for (int pass = 1; pass <= 2; ++pass) {
    const int64_t t0 = now_ns();
    absl::StatusOr<std::unique_ptr<JournalReader>> reader = JournalReader::open(dir);
    if (!reader.ok()) die("JournalReader::open: " + reader.status().ToString());
    const int64_t t1 = now_ns();
    RecordView view;
    uint64_t count = 0, bytes = 0, digest = 0;
    while ((*reader)->next(view)) {
      ++count;
      bytes += on_disk_size(view.payload.size());
      digest += view.sequence ^ static_cast<uint64_t>(view.payload[0]);
    }
    const int64_t t2 = now_ns();
    if (!(*reader)->status().ok()) die("reader: " + (*reader)->status().ToString());
    if (count != records) die("reader saw " + std::to_string(count) + " records");
    const double seconds = static_cast<double>(t2 - t0) / 1e9;
    std::printf(
        "  JournalReader pass %d: open %.1f ms + next() %.3f s = %.3f s: %s, %.0f MB/s (record "
        "bytes incl. headers), %.1f ns/record  [digest %" PRIx64 "]\n",
        pass, static_cast<double>(t1 - t0) / 1e6, static_cast<double>(t2 - t1) / 1e9, seconds,
        fmt_rate(static_cast<double>(count) / seconds).c_str(),
        static_cast<double>(bytes) / 1e6 / seconds, static_cast<double>(t2 - t0) / count, digest);
    std::printf("    target: replay >= 10 M records/s: %s\n",
                verdict(static_cast<double>(count) / seconds >= 10e6));
  }
  {
    const int64_t t0 = now_ns();
    absl::StatusOr<persist::VerifyReport> report = persist::verify_journal(dir);
    const int64_t t1 = now_ns();
    if (!report.ok() || !report->clean()) die("verify_journal failed");
    const double seconds = static_cast<double>(t1 - t0) / 1e9;
    std::printf("  verify_journal(): %.3f s: %s, %.0f MB/s  (%" PRIu64 " records, %" PRIu64
                " bytes, clean)\n",
                seconds, fmt_rate(static_cast<double>(report->records) / seconds).c_str(),
                static_cast<double>(report->bytes) / 1e6 / seconds, report->records, report->bytes);
  }
  std::printf("  [%s]\n", fmt_load(load.end()).c_str());
  remove_dir(dir);
}

}  // namespace qt::bench
