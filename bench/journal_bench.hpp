// journal_bench's shared pieces: options, the run-wide settings, the benchmark directory and the
// machine's load around each row, the prepared records, formatting, and one declaration per kind
// of row (each defined in its own file: journal_bench_writer.cpp, _pipeline.cpp, _floor.cpp,
// _sqlite.cpp, _replay.cpp, _restart.cpp; journal_bench.cpp runs them). Benchmark code: it
// allocates freely outside the timed loops.
#pragma once

#include <algorithm>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "bench/bench_support.hpp"
#include "engine/idle_strategy.hpp"
#include "persist/journal.hpp"
#include "persist/journal_entry.hpp"
#include "persist/journal_reader.hpp"

namespace qt::bench {

namespace fs = std::filesystem;
using persist::Durability;
using persist::JournalAgent;
using persist::JournalEntry;
using persist::JournalOptions;
using persist::JournalReader;
using persist::JournalRing;
using persist::JournalWriter;
using persist::RecordType;
using persist::RecordView;

inline constexpr uint64_t kRecordHeaderBytes = 32;  // FORMAT.md record header
inline constexpr uint32_t kAgentBatch = 256;  // JournalAgent's drain batch (and group max records)

inline uint64_t on_disk_size(std::size_t payload) {
  return (kRecordHeaderBytes + payload + 7) & ~uint64_t{7};
}

[[noreturn]] inline void die(const std::string& what) {
  std::fprintf(stderr, "FATAL: %s\n", what.c_str());
  std::fflush(stdout);
  std::exit(2);
}

inline void check(const absl::Status& status, const char* what) {
  if (!status.ok()) die(std::string(what) + ": " + status.ToString());
}

struct Options {
  fs::path dir = "build/journal_bench.tmp";
  int rounds = 3;
  uint64_t segment_size = 64ull << 20;
  std::vector<std::size_t> payloads = {64, 104, 256};
  double scale = 1.0;  // multiplies every per-round count
  std::size_t fsync_samples = 500;
  std::size_t append_samples = 1'000'000;  // async latency pass
  std::size_t append_records = 5'000'000;  // async throughput pass
  std::size_t group_append_records = 200'000;
  std::size_t sync_records = 1000;
  std::size_t pipeline_async_records = 5'000'000;
  std::size_t pipeline_group_records = 300'000;
  std::vector<double> async_rates = {100'000, 1'000'000};
  std::vector<double> group_rates = {10'000, 100'000};
  double sync_rate = 1'000;
  double paced_seconds = 1.0;
  double switch_rate = 100'000;
  std::size_t sqlite_single = 2000;
  std::size_t sqlite_batched = 500'000;
  std::size_t sqlite_batch = 1000;
  std::size_t replay_records = 10'000'000;
  std::size_t restart_orders = 1'000'000;
  std::string only;  // comma-separated sections; empty = all

  std::size_t scaled(std::size_t n) const {
    return std::max<std::size_t>(1, static_cast<std::size_t>(static_cast<double>(n) * scale));
  }
  bool run(const char* section) const {
    if (only.empty()) return true;
    return ("," + only + ",").find("," + std::string(section) + ",") != std::string::npos;
  }
};

// ---- run-wide settings, from the command line --------------------------------------------------

// --group-commit-us (JournalOptions' default unless given).
inline int64_t g_group_commit_interval_ns = JournalOptions{}.group_commit_interval_ns;
// --settle-after-open-ms: a pause between opening a durable-ack row's journal and its first
// record. Each paced group row holds one 20-50 ms commit about 0.95 s after its journal was
// opened (three fresh segments, 192 MiB, fallocated); with 500 ms here it still lands 0.93-0.97 s
// after the open, with 1500 ms the row starts after it and the worst commit is 7-12 ms.
inline int g_settle_after_open_ms = 0;
// --idle: how the durable-ack producer and the journal agent wait when they have nothing to do.
//  spin   both spin (pinned, one per CPU): the lowest hand-off latency, and both vCPUs busy.
//  yield  both sched_yield() between polls: still both vCPUs busy.
//  park   as the engine runs them (app/trading_app.cpp): the agent on IdleStrategy(kPark) with a
//         Doorbell the producer rings after each push, the producer sleeping until its next send
//         or until the agent's durable doorbell rings. On this 2-vCPU VM an fdatasync completes
//         through the hypervisor's I/O thread, which shares the host CPUs with the two vCPUs:
//         with both vCPUs kept busy, one commit in ~100 ms takes 5-10 ms (measured with the writer
//         alone beside any busy thread, even one sleeping 20 us at a time); parked, almost none.
enum class IdleMode { kSpin, kYield, kPark };
inline IdleMode g_idle = IdleMode::kSpin;
inline int64_t g_park_spin_ns = IdleStrategy::kDefaultSpinNs;  // --park-spin-ns
inline void idle_wait() {
  if (g_idle == IdleMode::kYield) std::this_thread::yield();
}
const char* to_string(IdleMode mode);

// ---- environment -------------------------------------------------------------------------------

// The block device under the benchmark directory ("vda"), for /proc/diskstats; set by
// filesystem_of().
inline std::string g_disk;
// When the program started (now_ns()), for the "t+" stamp on every row.
inline int64_t g_start_ns = 0;

// The file system type and mount line of `dir`; sets g_disk.
std::string filesystem_of(const fs::path& dir);
bool is_tmpfs(const fs::path& dir);
// Flushes whatever earlier tests left dirty so the next one starts from a quiet disk.
void settle_disk(const fs::path& dir);
fs::path fresh_dir(const fs::path& base, const std::string& name);
void remove_dir(const fs::path& dir);

// What the machine did while a test ran. Other people share this 2-vCPU VM, so every row says
// how much CPU other processes used (OtherLoadMeter) and what the disk under the directory did
// (/proc/diskstats: sectors written and flush requests, everyone's) against what this process
// dirtied (/proc/self/io write_bytes). A row with other load is suspect.
class LoadWindow {
 public:
  LoadWindow() : start_(sample()) {}
  struct Figures {
    double other_cpus = 0;
    double disk_mb = -1;  // -1: device not found
    uint64_t disk_flushes = 0;
    double own_mb = 0;
  };
  Figures end() const;

 private:
  struct Sample {
    bool disk_found = false;
    uint64_t sectors_written = 0;
    uint64_t flushes = 0;
    uint64_t own_write_bytes = 0;
  };
  static Sample sample();

  OtherLoadMeter cpus_;
  Sample start_;
};

// "other 0.02 CPU; disk 12 MB written, 40 flushes; ours dirtied 10 MB; t+31 s"
std::string fmt_load(const LoadWindow::Figures& f);

// ---- records -----------------------------------------------------------------------------------

inline uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// 1024 prepared records with random payloads of one size, reused cyclically (only sequence and
// timestamp change per record), so building a record costs nothing measurable. Payloads that fit
// a JournalEntry are kept as entries (appended as the engine's are); longer ones as bytes for the
// span append.
class EntryPool {
 public:
  static constexpr std::size_t kCount = 1024;
  static constexpr uint16_t kType = static_cast<uint16_t>(RecordType::kVenueEvent);
  EntryPool(std::size_t payload, uint64_t seed)
      : entries_(kCount), bytes_(kCount * payload), payload_(payload) {
    for (std::size_t i = 0; i < bytes_.size(); i += 8) {
      const uint64_t word = splitmix64(seed);
      std::memcpy(bytes_.data() + i, &word, std::min<std::size_t>(8, bytes_.size() - i));
    }
    if (!fits_entry()) return;
    for (std::size_t n = 0; n < kCount; ++n) {
      JournalEntry& e = entries_[n];
      e.type = kType;
      e.size = static_cast<uint16_t>(payload);
      std::memcpy(e.payload.data(), bytes_.data() + n * payload, payload);
    }
  }
  bool fits_entry() const { return payload_ <= JournalEntry::kPayloadCapacity; }
  // Only when fits_entry().
  JournalEntry& at(uint64_t sequence) {
    JournalEntry& e = entries_[sequence % kCount];
    e.sequence = sequence;
    e.timestamp_ns = timestamp(sequence);
    return e;
  }
  std::span<const std::byte> payload_bytes(uint64_t sequence) const {
    return {bytes_.data() + (sequence % kCount) * payload_, payload_};
  }
  static int64_t timestamp(uint64_t sequence) {
    return kBaseTimestamp + static_cast<int64_t>(sequence);
  }
  absl::Status append(JournalWriter& writer, uint64_t sequence) {
    if (fits_entry()) return writer.append(at(sequence));
    return writer.append(kType, sequence, timestamp(sequence), payload_bytes(sequence));
  }
  std::size_t payload() const { return payload_; }

  static constexpr int64_t kBaseTimestamp = 1'764'000'000'000'000'000;

 private:
  std::vector<JournalEntry> entries_;
  std::vector<std::byte> bytes_;
  std::size_t payload_;
};

// ---- formatting --------------------------------------------------------------------------------

std::string fmt_ns(double ns);
// "p50 / p99 / p99.9 / max"
std::string fmt_pct(const Percentiles& p);
std::string fmt_rate(double per_second);
inline const char* verdict(bool met) {
  return met ? "MET" : "NOT MET";
}

// ---- writers -----------------------------------------------------------------------------------

struct WriterCounters {
  uint64_t commits = 0;
  uint64_t segment_switches = 0;
  uint64_t late_preparations = 0;
};

WriterCounters counters_of(const JournalWriter& writer);

// A writer with the run's group-commit interval, once its preparer has the segments it keeps
// ahead ready.
std::unique_ptr<JournalWriter> open_writer(const fs::path& dir, Durability mode,
                                           uint64_t segment_size);

// Appends record 1 and commits it, timed: after open() the durable modes' first fdatasync is
// not a typical one (see the RESULTS.md notes), so it is reported apart and kept out of the
// percentiles.
double first_commit(JournalWriter& writer, EntryPool& pool);

// ---- the rows ----------------------------------------------------------------------------------

// journal_bench_writer.cpp: one fdatasync after a 96-byte store into a mapping vs after a pwrite.
struct FsyncResult {
  Percentiles mmap_store;
  Percentiles pwrite;
};
FsyncResult run_fdatasync(const fs::path& base, std::size_t samples);

// journal_bench_writer.cpp: JournalWriter::append() on one thread.
struct AppendResult {
  Percentiles latency;  // one append() call
  double mean_ns = 0;
  Percentiles commit;             // one commit() (fdatasync in the durable modes)
  double records_per_second = 0;  // untimed pass, commits included
  double first_commit_ns = 0;     // record 1 appended and committed right after open()
  WriterCounters counters;
  LoadWindow::Figures load;
};
AppendResult run_append(const fs::path& base, Durability mode, EntryPool& pool,
                        std::size_t latency_samples, std::size_t throughput_records,
                        uint64_t segment_size, const TickClock& clock);
void print_append(const char* mode, const AppendResult& r);

// journal_bench_pipeline.cpp: producer → JournalRing → JournalAgent → durable, paced or not.
struct PipelineResult {
  Percentiles ack;                // push → durable seen by the producer
  double records_per_second = 0;  // durable records / (first push → last durable)
  double offered_rate = 0;        // 0 = unpaced
  uint64_t late_pushes = 0;       // paced pushes more than 10 us behind schedule
  double first_commit_ns = 0;
  uint64_t over_1ms = 0;   // records whose durable-ack took longer than 1 ms
  double worst_at_ms = 0;  // when the slowest record was pushed, from the first push
  // One commit (pwrite + fdatasync) as the writer timed it (histogram bucket bounds, ns).
  int64_t commit_p50 = 0, commit_p99 = 0, commit_max = 0;
  WriterCounters counters;
  LoadWindow::Figures load;
};
PipelineResult run_pipeline(const fs::path& base, Durability mode, EntryPool& pool,
                            std::size_t records, double rate, uint64_t segment_size,
                            const CpuPair& cpus, const TickClock& clock);
void print_pipeline(const char* mode, const PipelineResult& r);

// journal_bench_floor.cpp: the disk's floor for a durable acknowledgement at `rate`.
struct FloorResult {
  Percentiles ack;
  uint64_t syncs = 0;
  uint64_t over_1ms = 0;
  double worst_at_ms = 0;  // scheduled arrival of the slowest record
  LoadWindow::Figures load;
};
FloorResult run_fdatasync_floor(const fs::path& base, std::size_t records, double rate,
                                uint64_t record_bytes, uint64_t segment_size,
                                const CpuPair* cpus = nullptr);
void print_floor(const FloorResult& r, double rate, const char* variant);

// journal_bench_sqlite.cpp: the same records inserted into SQLite in WAL mode.
struct SqliteResult {
  Percentiles per_txn;  // one transaction (one record when batch == 1)
  double records_per_second = 0;
  double amortized_ns = 0;  // per record
  LoadWindow::Figures load;
};
SqliteResult run_sqlite(const fs::path& base, EntryPool& pool, std::size_t records,
                        std::size_t batch, const char* synchronous, const TickClock& clock);
void print_sqlite(const char* label, const SqliteResult& r);
// "SQLite 3.40.1"
std::string sqlite_version();

// journal_bench_replay.cpp: write, then read back and verify, replay_records records.
void run_replay(const Options& o, const fs::path& base);

// journal_bench_restart.cpp: an engine trades restart_orders orders into a journal; the restart
// paths are timed and their state compared with the original's.
void run_restart(const Options& o, const fs::path& base);

}  // namespace qt::bench
