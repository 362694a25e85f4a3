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
//              state is compared field by field with the original engine's. Built with the
//              snapshot module (target qt_snapshot), it also times recover_engine_state() from a
//              snapshot taken after 90% of the orders (tail = the last 10%), from none, and from
//              a snapshot of the final state.
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
// The journal directory must not be tmpfs (the program checks with statfs).
// Threads: the main thread (unpinned, so the writers it opens get unpinned preparer threads), and
// for the durable-ack runs a producer pinned to the first allowed CPU and the journal agent to the
// second. Benchmark code, not engine code: it allocates freely outside the timed loops.
#include <fcntl.h>
#include <sqlite3.h>
#include <sys/mman.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <memory>
#include <span>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "bench/bench_support.hpp"
#include "engine/clock.hpp"
#include "engine/engine.hpp"
#include "engine/idle_strategy.hpp"
#include "engine/instrument.hpp"
#include "gateway/paper/paper_venue.hpp"
#include "persist/data_dir.hpp"
#include "persist/journal.hpp"
#include "persist/journal_entry.hpp"
#include "persist/journal_reader.hpp"
#include "persist/records.hpp"
#if QT_BENCH_HAVE_SNAPSHOT
#include "persist/engine_recovery.hpp"
#include "persist/snapshot.hpp"
#endif

namespace qt::bench {
namespace {

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

constexpr uint64_t kRecordHeaderBytes = 32;  // FORMAT.md record header
constexpr uint32_t kAgentBatch = 256;        // JournalAgent's drain batch (and group max records)

uint64_t on_disk_size(std::size_t payload) {
  return (kRecordHeaderBytes + payload + 7) & ~uint64_t{7};
}

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "FATAL: %s\n", what.c_str());
  std::fflush(stdout);
  std::exit(2);
}

void check(const absl::Status& status, const char* what) {
  if (!status.ok()) die(std::string(what) + ": " + status.ToString());
}

struct Options {
  fs::path dir = "build/journal_bench.tmp";
  int rounds = 3;
  uint64_t segment_size = 64ull << 20;
  std::vector<std::size_t> payloads = {64, 104, 256};
  int64_t group_commit_interval_ns = JournalOptions{}.group_commit_interval_ns;
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

// ---- environment ------------------------------------------------------------------------------

// The block device under the benchmark directory ("vda"), for /proc/diskstats; set in main.
std::string g_disk;
// When the program started (now_ns()), for the "t+" stamp on every row.
int64_t g_start_ns = 0;

std::string disk_of(const std::string& mount_line) {
  std::string device = mount_line.substr(0, mount_line.find(' '));
  return device.rfind("/dev/", 0) == 0 ? device.substr(5) : std::string();
}

std::string filesystem_of(const fs::path& dir) {
  struct statfs st {};
  if (::statfs(dir.c_str(), &st) != 0) return "unknown";
  std::string type;
  switch (static_cast<uint64_t>(st.f_type)) {
    case 0xEF53: type = "ext2/3/4"; break;
    case 0x01021994: type = "tmpfs"; break;
    case 0x58465342: type = "xfs"; break;
    case 0x9123683E: type = "btrfs"; break;
    case 0x794C7630: type = "overlayfs"; break;
    default: {
      char hex[32];
      std::snprintf(hex, sizeof hex, "f_type 0x%lx", static_cast<unsigned long>(st.f_type));
      type = hex;
    }
  }
  // The mount holding `dir`: the longest mount point that prefixes it.
  std::ifstream mounts("/proc/self/mounts");
  std::string line, best_line;
  std::size_t best = 0;
  const std::string path = fs::canonical(dir).string();
  while (std::getline(mounts, line)) {
    std::istringstream fields(line);
    std::string device, mount_point;
    fields >> device >> mount_point;
    const bool prefix = path.compare(0, mount_point.size(), mount_point) == 0 &&
                        (path.size() == mount_point.size() || mount_point == "/" ||
                         path[mount_point.size()] == '/');
    if (prefix && mount_point.size() >= best) {
      best = mount_point.size();
      best_line = line;
    }
  }
  g_disk = disk_of(best_line);
  return type + " (mount: " + best_line + ")";
}

bool is_tmpfs(const fs::path& dir) {
  struct statfs st {};
  return ::statfs(dir.c_str(), &st) == 0 && static_cast<uint64_t>(st.f_type) == 0x01021994;
}

// Flushes whatever earlier tests left dirty so the next one starts from a quiet disk.
void settle_disk(const fs::path& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    ::syncfs(fd);
    ::close(fd);
  }
}

fs::path fresh_dir(const fs::path& base, const std::string& name) {
  const fs::path dir = base / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

void remove_dir(const fs::path& dir) {
  std::error_code ec;
  fs::remove_all(dir, ec);
}

// What the machine did while a test ran. Other people share this 2-vCPU VM, so every row says
// how much CPU other processes used (/proc/stat minus this process) and what the disk under the
// directory did (/proc/diskstats: sectors written and flush requests, everyone's) against what
// this process dirtied (/proc/self/io write_bytes). A row with other load is suspect.
class LoadWindow {
 public:
  LoadWindow() : start_(sample()) {}
  struct Figures {
    double other_cpus = 0;
    double disk_mb = -1;  // -1: device not found
    uint64_t disk_flushes = 0;
    double own_mb = 0;
  };
  Figures end() const {
    const Sample now = sample();
    const double seconds = static_cast<double>(now.at_ns - start_.at_ns) / 1e9;
    const double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
    Figures f;
    const double busy = static_cast<double>(now.busy - start_.busy);
    const double self = static_cast<double>(now.self - start_.self);
    f.other_cpus = std::max(0.0, (busy - self) / ticks / seconds);
    if (now.disk_found && start_.disk_found) {
      f.disk_mb = static_cast<double>(now.sectors_written - start_.sectors_written) * 512 / 1e6;
      f.disk_flushes = now.flushes - start_.flushes;
    }
    f.own_mb = static_cast<double>(now.own_write_bytes - start_.own_write_bytes) / 1e6;
    return f;
  }

 private:
  struct Sample {
    uint64_t busy = 0;
    uint64_t self = 0;
    bool disk_found = false;
    uint64_t sectors_written = 0;
    uint64_t flushes = 0;
    uint64_t own_write_bytes = 0;
    int64_t at_ns = 0;
  };
  static Sample sample() {
    Sample s;
    s.at_ns = now_ns();
    std::ifstream stat("/proc/stat");
    std::string cpu;
    uint64_t user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0;
    stat >> cpu >> user >> nice >> system >> idle >> iowait >> irq >> softirq >> steal;
    s.busy = user + nice + system + irq + softirq + steal;
    std::ifstream self("/proc/self/stat");
    std::string line;
    std::getline(self, line);
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    std::istringstream fields(line.substr(line.rfind(')') + 2));
    std::string field;
    for (int i = 3; i <= 15 && fields >> field; ++i) {
      if (i == 14 || i == 15) s.self += std::strtoull(field.c_str(), nullptr, 10);
    }
    std::ifstream diskstats("/proc/diskstats");
    while (!g_disk.empty() && std::getline(diskstats, line)) {
      std::istringstream disk(line);
      std::string major, minor, name;
      disk >> major >> minor >> name;
      if (name != g_disk) continue;
      // After the name: 1-4 reads, 5 writes, 6 merged, 7 sectors written, ..., 16 flushes.
      uint64_t values[16] = {};
      int n = 0;
      while (n < 16 && disk >> values[n]) ++n;
      s.disk_found = n >= 7;
      s.sectors_written = values[6];
      s.flushes = n >= 16 ? values[15] : 0;
      break;
    }
    std::ifstream io("/proc/self/io");
    std::string key;
    uint64_t value = 0;
    while (io >> key >> value) {
      if (key == "write_bytes:") s.own_write_bytes = value;
    }
    return s;
  }
  Sample start_;
};

std::string fmt_load(const LoadWindow::Figures& f) {
  char out[160];
  const double t = static_cast<double>(now_ns() - g_start_ns) / 1e9;
  if (f.disk_mb >= 0) {
    std::snprintf(out, sizeof out,
                  "other %.2f CPU; disk %.0f MB written, %" PRIu64
                  " flushes; ours dirtied %.0f MB; t+%.0f s",
                  f.other_cpus, f.disk_mb, f.disk_flushes, f.own_mb, t);
  } else {
    std::snprintf(out, sizeof out, "other %.2f CPU; t+%.0f s", f.other_cpus, t);
  }
  return out;
}

// ---- records ----------------------------------------------------------------------------------

uint64_t splitmix64(uint64_t& state) {
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

// ---- formatting -------------------------------------------------------------------------------

std::string fmt_ns(double ns) {
  char out[32];
  if (ns < 10'000) {
    std::snprintf(out, sizeof out, "%.0f ns", ns);
  } else if (ns < 10'000'000) {
    std::snprintf(out, sizeof out, "%.1f us", ns / 1e3);
  } else {
    std::snprintf(out, sizeof out, "%.1f ms", ns / 1e6);
  }
  return out;
}

std::string fmt_pct(const Percentiles& p) {
  return fmt_ns(p.p50) + " / " + fmt_ns(p.p99) + " / " + fmt_ns(p.p999) + " / " + fmt_ns(p.max);
}

std::string fmt_rate(double per_second) {
  char out[32];
  if (per_second >= 1e6) {
    std::snprintf(out, sizeof out, "%.2f M/s", per_second / 1e6);
  } else if (per_second >= 1e3) {
    std::snprintf(out, sizeof out, "%.1f k/s", per_second / 1e3);
  } else {
    std::snprintf(out, sizeof out, "%.0f /s", per_second);
  }
  return out;
}

const char* verdict(bool met) {
  return met ? "MET" : "NOT MET";
}

// ---- fdatasync --------------------------------------------------------------------------------

struct FsyncResult {
  Percentiles mmap_store;
  Percentiles pwrite;
};

FsyncResult run_fdatasync(const fs::path& base, std::size_t samples) {
  const fs::path dir = fresh_dir(base, "fdatasync");
  const fs::path path = dir / "probe.bin";
  constexpr uint64_t kSize = 16ull << 20;
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) die("open " + path.string());
  // Zero-filled and synced like a journal segment in the durable modes: later fdatasyncs write
  // data only, never extent or size metadata.
  std::vector<char> zeros(1 << 20, 0);
  for (uint64_t off = 0; off < kSize; off += zeros.size()) {
    if (::pwrite(fd, zeros.data(), zeros.size(), static_cast<off_t>(off)) < 0) die("pwrite");
  }
  ::fdatasync(fd);
  void* map = ::mmap(nullptr, kSize, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (map == MAP_FAILED) die("mmap");
  auto* bytes = static_cast<char*>(map);
  char record[96];
  std::memset(record, 0xA5, sizeof record);
  std::vector<int64_t> mapped, written;
  // The mapped half writes the first 8 MiB, the pwrite half the second; interleaved.
  auto store_and_sync = [&](uint64_t off) {
    std::memcpy(bytes + off, record, sizeof record);
    const int64_t t0 = now_ns();
    ::fdatasync(fd);
    mapped.push_back(now_ns() - t0);
  };
  auto write_and_sync = [&](uint64_t off) {
    if (::pwrite(fd, record, sizeof record, static_cast<off_t>(kSize / 2 + off)) < 0) die("pwrite");
    const int64_t t0 = now_ns();
    ::fdatasync(fd);
    written.push_back(now_ns() - t0);
  };
  for (std::size_t i = 0; i < samples; ++i) {
    const uint64_t off = (i * sizeof record) % (kSize / 2);
    if (i % 2 == 0) {  // alternate which goes first
      store_and_sync(off);
      write_and_sync(off);
    } else {
      write_and_sync(off);
      store_and_sync(off);
    }
  }
  ::munmap(map, kSize);
  ::close(fd);
  remove_dir(dir);
  return {percentiles(mapped), percentiles(written)};
}

// ---- append() on one thread -------------------------------------------------------------------

struct WriterCounters {
  uint64_t commits = 0;
  uint64_t segment_switches = 0;
  uint64_t late_preparations = 0;
};

WriterCounters counters_of(const JournalWriter& writer) {
  const persist::JournalStats& s = writer.stats();
  return {s.commits.load(), s.segment_switches.load(), s.late_preparations.load()};
}

// Waits until the writer's preparer has the segments it keeps ahead ready (two): preparing
// them right after open() (async: faulting in 64 MiB; durable modes: fallocate + fdatasync +
// directory fsync, a file-system journal commit that stalls a concurrent fdatasync for 10-30 ms)
// must not land inside a measurement; the cost of a switch is measured on its own ("switch").
// Falls back to a fixed pause on a tree whose JournalStats has no segments_prepared counter.
template <typename Stats>
void wait_for_next_segment(const Stats& stats) {
  if constexpr (requires { stats.segments_prepared.load(); }) {
    const int64_t deadline = now_ns() + 10'000'000'000;
    while (stats.segments_prepared.load() < 2 && now_ns() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  } else {
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }
}

// --group-commit-us (JournalOptions' default unless given).
int64_t g_group_commit_interval_ns = JournalOptions{}.group_commit_interval_ns;
// --settle-after-open-ms: a pause between opening a durable-ack row's journal and its first
// record. Each paced group row holds one 20-50 ms commit about 0.95 s after its journal was
// opened (three fresh segments, 192 MiB, fallocated); with 500 ms here it still lands 0.93-0.97 s
// after the open, with 1500 ms the row starts after it and the worst commit is 7-12 ms.
int g_settle_after_open_ms = 0;
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
IdleMode g_idle = IdleMode::kSpin;
int64_t g_park_spin_ns = IdleStrategy::kDefaultSpinNs;  // --park-spin-ns
inline void idle_wait() {
  if (g_idle == IdleMode::kYield) std::this_thread::yield();
}
const char* to_string(IdleMode mode) {
  switch (mode) {
    case IdleMode::kSpin: return "spin";
    case IdleMode::kYield: return "yield";
    case IdleMode::kPark: return "park";
  }
  return "?";
}

std::unique_ptr<JournalWriter> open_writer(const fs::path& dir, Durability mode,
                                           uint64_t segment_size) {
  JournalOptions options;
  options.group_commit_interval_ns = g_group_commit_interval_ns;
  options.dir = dir;
  options.segment_size = segment_size;
  options.durability = mode;
  absl::StatusOr<std::unique_ptr<JournalWriter>> writer = JournalWriter::open(options, 1);
  if (!writer.ok()) die("JournalWriter::open: " + writer.status().ToString());
  wait_for_next_segment((*writer)->stats());
  return std::move(*writer);
}

struct AppendResult {
  Percentiles latency;  // one append() call
  double mean_ns = 0;
  Percentiles commit;             // one commit() (fdatasync in the durable modes)
  double records_per_second = 0;  // untimed pass, commits included
  double first_commit_ns = 0;     // record 1 appended and committed right after open()
  WriterCounters counters;
  LoadWindow::Figures load;
};

// Appends record 1 and commits it, timed: after open() the durable modes' first fdatasync is
// not a typical one (see the RESULTS.md notes), so it is reported apart and kept out of the
// percentiles.
double first_commit(JournalWriter& writer, EntryPool& pool) {
  if (!pool.append(writer, 1).ok()) die("append");
  const int64_t t0 = now_ns();
  check(writer.commit(), "commit");
  return static_cast<double>(now_ns() - t0);
}

AppendResult run_append(const fs::path& base, Durability mode, EntryPool& pool,
                        std::size_t latency_samples, std::size_t throughput_records,
                        uint64_t segment_size, const TickClock& clock) {
  settle_disk(base);
  const fs::path dir = fresh_dir(base, "append");
  std::unique_ptr<JournalWriter> writer = open_writer(dir, mode, segment_size);
  const uint64_t commit_every = mode == Durability::kSync ? 1 : kAgentBatch;
  AppendResult result;
  const LoadWindow load;
  result.first_commit_ns = first_commit(*writer, pool);
  std::vector<int64_t> samples(latency_samples);
  std::vector<int64_t> commits;
  commits.reserve(latency_samples / commit_every + 2);
  uint64_t sequence = 2;
  const bool entries = pool.fits_entry();
  for (std::size_t i = 0; i < latency_samples; ++i, ++sequence) {
    // Built outside the timed region, as the engine builds an entry before it reaches the journal.
    JournalEntry* entry = entries ? &pool.at(sequence) : nullptr;
    const std::span<const std::byte> bytes = pool.payload_bytes(sequence);
    const int64_t timestamp = EntryPool::timestamp(sequence);
    const uint64_t t0 = TickClock::now();
    const absl::Status status = entries
                                    ? writer->append(*entry)
                                    : writer->append(EntryPool::kType, sequence, timestamp, bytes);
    const uint64_t t1 = TickClock::now();
    if (!status.ok()) die("append: " + status.ToString());
    samples[i] = static_cast<int64_t>(t1 - t0);
    if (sequence % commit_every == 0) {
      const uint64_t c0 = TickClock::now();
      check(writer->commit(), "commit");
      commits.push_back(static_cast<int64_t>(TickClock::now() - c0));
    }
  }
  check(writer->commit(), "commit");
  double sum = 0;
  for (int64_t sample : samples) sum += static_cast<double>(sample);
  result.mean_ns = clock.to_ns(sum / static_cast<double>(samples.size()));
  result.latency = percentiles(samples, clock.to_ns(1.0));
  result.commit = percentiles(commits, clock.to_ns(1.0));

  const int64_t start = now_ns();
  for (std::size_t i = 0; i < throughput_records; ++i, ++sequence) {
    if (!pool.append(*writer, sequence).ok()) die("append");
    if (sequence % commit_every == 0) check(writer->commit(), "commit");
  }
  check(writer->commit(), "commit");
  const int64_t elapsed = now_ns() - start;
  result.records_per_second =
      static_cast<double>(throughput_records) * 1e9 / static_cast<double>(elapsed);
  result.load = load.end();
  result.counters = counters_of(*writer);
  check(writer->close(), "close");
  writer.reset();
  remove_dir(dir);
  return result;
}

// ---- producer → ring → JournalAgent → durable ------------------------------------------------

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

// ---- the disk's floor for a durable acknowledgement ------------------------------------------

// What any journal could do on this disk at `rate`: arrivals on a fixed schedule, and one thread
// that pwrite()s whatever has arrived into a fallocated file (as a durable segment is) and
// fdatasyncs, greedily, sleeping while nothing has arrived. No ring, agent, record format or
// second thread. A record's latency runs from its scheduled arrival to the end of the fdatasync
// that covered it. Run beside the group pipeline rows, it tells a miss of the journal's own
// making from one the disk imposes.
struct FloorResult {
  Percentiles ack;
  uint64_t syncs = 0;
  uint64_t over_1ms = 0;
  double worst_at_ms = 0;  // scheduled arrival of the slowest record
  LoadWindow::Figures load;
};

// With `cpus` pinned (the second variant), the syncing thread runs on the journal agent's CPU and
// a second thread on the producer's CPU only wakes at every arrival and goes back to sleep: the
// same CPU activity as the pipeline's producer, none of its work.
FloorResult run_fdatasync_floor(const fs::path& base, std::size_t records, double rate,
                                uint64_t record_bytes, uint64_t segment_size,
                                const CpuPair* cpus = nullptr) {
  settle_disk(base);
  const fs::path dir = fresh_dir(base, "floor");
  const fs::path path = dir / "floor.bin";
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) die("open " + path.string());
  if (::posix_fallocate(fd, 0, static_cast<off_t>(segment_size)) != 0) die("posix_fallocate");
  ::fdatasync(fd);
  const std::vector<char> bytes(record_bytes * 4096, '\x5A');
  std::vector<int64_t> latency;
  latency.reserve(records);
  FloorResult result;
  const LoadWindow load;
  const double interval_ns = 1e9 / rate;
  const int64_t start = now_ns();
  auto due = [&](std::size_t i) { return start + static_cast<int64_t>(i * interval_ns); };
  std::size_t synced = 0;
  uint64_t offset = 0;
  std::thread waker;
  if (cpus != nullptr) {
    pin_current_thread(cpus->consumer);
    waker = std::thread([&, cpu = cpus->producer] {
      pin_current_thread(cpu);
      for (std::size_t i = 0; i < records; ++i) {
        const int64_t wake = due(i);
        const timespec until{static_cast<time_t>(wake / 1'000'000'000),
                             static_cast<long>(wake % 1'000'000'000)};
        ::clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until, nullptr);
      }
    });
  }
  while (synced < records) {
    const int64_t now = now_ns();
    std::size_t arrived = std::min(
        records, static_cast<std::size_t>(static_cast<double>(now - start) / interval_ns) + 1);
    if (arrived == synced) {
      const int64_t wake = due(synced);
      const timespec until{static_cast<time_t>(wake / 1'000'000'000),
                           static_cast<long>(wake % 1'000'000'000)};
      ::clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until, nullptr);
      continue;
    }
    arrived = std::min(arrived, synced + 4096);
    const uint64_t length = (arrived - synced) * record_bytes;
    if (offset + length > segment_size) offset = 0;  // rewrite the start: the extent is written
    if (::pwrite(fd, bytes.data(), length, static_cast<off_t>(offset)) < 0) die("pwrite");
    offset += length;
    if (::fdatasync(fd) != 0) die("fdatasync");
    ++result.syncs;
    const int64_t done = now_ns();
    for (; synced < arrived; ++synced) {
      latency.push_back(done - due(synced));
      if (latency.back() > 1'000'000) ++result.over_1ms;
    }
  }
  if (waker.joinable()) waker.join();
  if (cpus != nullptr) pin_current_thread(-1);
  result.load = load.end();
  ::close(fd);
  remove_dir(dir);
  result.worst_at_ms =
      static_cast<double>(std::max_element(latency.begin(), latency.end()) - latency.begin()) *
      interval_ns / 1e6;
  result.ack = percentiles(latency);
  return result;
}

void print_floor(const FloorResult& r, double rate, const char* variant) {
  char label[48];
  std::snprintf(label, sizeof label, "floor%s @ %s", variant, fmt_rate(rate).c_str());
  std::printf(
      "    bare fdsync %-16s %-40s %10s   syncs %" PRIu64
      " (%.1f rec/sync; the syncing thread does pwrite + fdatasync only)",
      label, fmt_pct(r.ack).c_str(), "", r.syncs,
      static_cast<double>(r.ack.count) / static_cast<double>(std::max<uint64_t>(1, r.syncs)));
  if (r.over_1ms > 0) std::printf("  over 1 ms: %" PRIu64, r.over_1ms);
  std::printf("  slowest at %.0f ms  [%s]\n", r.worst_at_ms, fmt_load(r.load).c_str());
}

// ---- SQLite -----------------------------------------------------------------------------------

struct SqliteResult {
  Percentiles per_txn;  // one transaction (one record when batch == 1)
  double records_per_second = 0;
  double amortized_ns = 0;  // per record
  LoadWindow::Figures load;
};

void sqlite_exec(sqlite3* db, const char* sql) {
  char* error = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &error) != SQLITE_OK) {
    const std::string message = error != nullptr ? error : "?";
    sqlite3_free(error);
    die(std::string("sqlite: ") + sql + ": " + message);
  }
}

sqlite3_stmt* sqlite_prepare(sqlite3* db, const char* sql) {
  sqlite3_stmt* statement = nullptr;
  if (sqlite3_prepare_v2(db, sql, -1, &statement, nullptr) != SQLITE_OK) {
    die(std::string("sqlite prepare: ") + sql + ": " + sqlite3_errmsg(db));
  }
  return statement;
}

void sqlite_step_done(sqlite3* db, sqlite3_stmt* statement) {
  if (sqlite3_step(statement) != SQLITE_DONE)
    die(std::string("sqlite step: ") + sqlite3_errmsg(db));
  sqlite3_reset(statement);
}

SqliteResult run_sqlite(const fs::path& base, EntryPool& pool, std::size_t records,
                        std::size_t batch, const char* synchronous, const TickClock& clock) {
  settle_disk(base);
  const fs::path dir = fresh_dir(base, "sqlite");
  const fs::path path = dir / "journal.db";
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) !=
      SQLITE_OK) {
    die("sqlite open " + path.string());
  }
  {
    sqlite3_stmt* mode = sqlite_prepare(db, "PRAGMA journal_mode=WAL");
    if (sqlite3_step(mode) != SQLITE_ROW ||
        std::strcmp(reinterpret_cast<const char*>(sqlite3_column_text(mode, 0)), "wal") != 0) {
      die("sqlite: WAL mode refused");
    }
    sqlite3_finalize(mode);
  }
  sqlite_exec(db, (std::string("PRAGMA synchronous=") + synchronous).c_str());
  sqlite_exec(db,
              "CREATE TABLE journal(seq INTEGER PRIMARY KEY, type INTEGER NOT NULL, "
              "ts INTEGER NOT NULL, payload BLOB NOT NULL)");
  sqlite3_stmt* insert =
      sqlite_prepare(db, "INSERT INTO journal(seq, type, ts, payload) VALUES(?, ?, ?, ?)");
  sqlite3_stmt* begin = sqlite_prepare(db, "BEGIN");
  sqlite3_stmt* commit = sqlite_prepare(db, "COMMIT");
  std::vector<int64_t> txns;
  txns.reserve(records / batch + 1);
  const LoadWindow load;
  const int64_t start = now_ns();
  uint64_t txn_start = 0;
  for (uint64_t sequence = 1; sequence <= records; ++sequence) {
    const std::span<const std::byte> payload = pool.payload_bytes(sequence);
    const bool batched = batch > 1;
    if (batched && (sequence - 1) % batch == 0) {
      txn_start = TickClock::now();
      sqlite_step_done(db, begin);
    }
    sqlite3_bind_int64(insert, 1, static_cast<sqlite3_int64>(sequence));
    sqlite3_bind_int(insert, 2, EntryPool::kType);
    sqlite3_bind_int64(insert, 3, EntryPool::timestamp(sequence));
    sqlite3_bind_blob(insert, 4, payload.data(), static_cast<int>(payload.size()), SQLITE_STATIC);
    if (!batched) txn_start = TickClock::now();
    sqlite_step_done(db, insert);  // autocommit when not batched: its own transaction
    if (!batched) {
      txns.push_back(static_cast<int64_t>(TickClock::now() - txn_start));
    } else if (sequence % batch == 0 || sequence == records) {
      sqlite_step_done(db, commit);
      txns.push_back(static_cast<int64_t>(TickClock::now() - txn_start));
    }
  }
  const int64_t elapsed = now_ns() - start;
  const LoadWindow::Figures load_figures = load.end();
  sqlite3_finalize(insert);
  sqlite3_finalize(begin);
  sqlite3_finalize(commit);
  sqlite3_close(db);
  remove_dir(dir);
  SqliteResult result;
  result.per_txn = percentiles(txns, clock.to_ns(1.0));
  result.records_per_second = static_cast<double>(records) * 1e9 / static_cast<double>(elapsed);
  result.amortized_ns = static_cast<double>(elapsed) / static_cast<double>(records);
  result.load = load_figures;
  return result;
}

// ---- one round --------------------------------------------------------------------------------

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

void print_append(const char* mode, const AppendResult& r) {
  std::printf("    append()   %-6s %-40s %10s   mean %s", mode, fmt_pct(r.latency).c_str(),
              fmt_rate(r.records_per_second).c_str(), fmt_ns(r.mean_ns).c_str());
  if (r.commit.count > 0 && r.counters.commits > 0) {
    std::printf("   commit (fdatasync) p50/p99 %s / %s", fmt_ns(r.commit.p50).c_str(),
                fmt_ns(r.commit.p99).c_str());
  }
  std::printf("   first commit %s  switches %" PRIu64 " late-prep %" PRIu64 "  [%s]\n",
              fmt_ns(r.first_commit_ns).c_str(), r.counters.segment_switches,
              r.counters.late_preparations, fmt_load(r.load).c_str());
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

void print_sqlite(const char* label, const SqliteResult& r) {
  std::printf("    sqlite     %-24s txn p50/p99/p99.9/max %-36s %10s   %s/record amortized  [%s]\n",
              label, fmt_pct(r.per_txn).c_str(), fmt_rate(r.records_per_second).c_str(),
              fmt_ns(r.amortized_ns).c_str(), fmt_load(r.load).c_str());
}

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

// ---- replay -----------------------------------------------------------------------------------

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

// ---- restart with 1M orders -------------------------------------------------------------------

EngineOptions restart_engine_options() {
  EngineOptions options;
  options.instruments = {make_instrument(0, "GOLD", 2, 2, 0.01, 0.1, 0.1, 500)};
  options.risk.max_order_notional = 1'000'000 * kMoneyScale;
  options.risk.price_collar_bps = 200;
  options.risk.max_orders_per_second = 0;
  options.risk.instruments[0] = {5'000, 100'000};
  options.order_capacity = 1 << 16;
  return options;
}

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

void run_restart(const Options& o, const fs::path& base) {
  settle_disk(base);
  // A data directory laid out as the application's (persist/data_dir.hpp): journal/ and, when
  // the snapshot module is built, snapshots/.
  const fs::path data_dir = fresh_dir(base, "restart");
  const fs::path dir = persist::journal_dir(data_dir);
  const LoadWindow load;
  const std::size_t orders = o.restart_orders;
  [[maybe_unused]] const std::size_t snapshot_at = orders - orders / 10;  // tail: last 10%
  EngineState original;
  uint64_t journal_records = 0;
  {
    EngineRings rings;
    auto engine = std::make_unique<Engine>(restart_engine_options(), *rings.quotes, *rings.requests,
                                           *rings.events);
    PaperVenue venue(*rings.requests, *rings.events, rings.venue_quotes.get());
    std::unique_ptr<JournalWriter> writer = open_writer(dir, Durability::kAsync, o.segment_size);
    auto ring = std::make_unique<JournalRing>();
    JournalAgent agent(*writer, *ring);
    engine->set_journal({ring.get(), &writer->durable_sequence(), nullptr}, 1);
    engine->add_client_port({rings.commands.get(), nullptr, nullptr, 0});
    engine->on_start();
    Quote quote;
    quote.bid = 230000;
    quote.ask = 230030;
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
        if (work == 0 && engine->stats().awaiting_durability.load() == 0) return;
      }
    };
    const int64_t start = now_ns();
    int64_t snapshot_ns = 0;
    [[maybe_unused]] bool snapshot_taken = false;
    std::size_t submitted = 0;
    while (submitted < orders) {
      for (int k = 0; k < 256 && submitted < orders; ++k, ++submitted) {
        ClientCommand c;
        c.kind = CommandKind::kNewOrder;
        char id[ClientOrderId::kCapacity];
        std::snprintf(id, sizeof id, "R%zu", submitted);
        c.new_order.client_order_id = ClientOrderId::from(id);
        c.new_order.instrument = 0;
        c.new_order.side = submitted % 2 == 0 ? Side::kBuy : Side::kSell;
        c.new_order.type = OrderType::kMarket;
        c.new_order.size = 10;
        if (!rings.commands->try_push(c)) die("command ring full");
      }
      pump();
#if QT_BENCH_HAVE_SNAPSHOT
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
#endif
    }
    pump();
    const int64_t elapsed = now_ns() - start - snapshot_ns;
    const EngineStats& stats = engine->stats();
    uint64_t rejects = 0;
    for (const auto& r : stats.rejects) rejects += r.load();
    if (stats.filled_orders.load() != orders || rejects != 0 || venue.events_dropped() != 0 ||
        stats.journal_overflows.load() != 0) {
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
  auto engine = std::make_unique<Engine>(restart_engine_options(), *rings.quotes, *rings.requests,
                                         *rings.events);
  const int64_t t2 = now_ns();
  absl::StatusOr<std::unique_ptr<JournalReader>> reader = JournalReader::open(dir);
  if (!reader.ok()) die("JournalReader::open: " + reader.status().ToString());
  RecordView view;
  uint64_t replayed = 0;
  while ((*reader)->next(view)) {
    const absl::Status s =
        engine->replay(view.sequence, view.timestamp_ns, view.type, view.payload);
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
#if QT_BENCH_HAVE_SNAPSHOT
  // The restart path with the snapshot module: recover_journal(), then recover_engine_state()
  // (newest valid snapshot + replay of the journal after it), with snapshots and without.
  const uint64_t original_digest = persist::state_digest(original);
  auto restart_with_module = [&](bool use_snapshots, const char* label) {
    const int64_t r0 = now_ns();
    absl::StatusOr<persist::RecoveryResult> journal = persist::recover_journal(dir);
    if (!journal.ok()) die("recover_journal: " + journal.status().ToString());
    const int64_t r1 = now_ns();
    EngineRings fresh_rings;
    auto fresh = std::make_unique<Engine>(restart_engine_options(), *fresh_rings.quotes,
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
    check(persist::write_snapshot(data_dir, original, restart_engine_options().instruments),
          "write_snapshot");
    std::printf("  final snapshot written in %.3f s\n", static_cast<double>(now_ns() - w0) / 1e9);
    restart_with_module(true, "final snapshot, empty tail");
  }
  uint64_t snapshot_bytes = 0;
  for (const fs::directory_entry& e : fs::directory_iterator(persist::snapshots_dir(data_dir))) {
    snapshot_bytes = std::max<uint64_t>(snapshot_bytes, e.file_size());
  }
  std::printf("  snapshot file size: %.1f MB\n", static_cast<double>(snapshot_bytes) / 1e6);
#else
  std::printf(
      "  snapshot load + tail replay: not measured (built without the snapshot module, "
      "target qt_snapshot / persist/snapshot.hpp)\n");
#endif
  std::printf("  [%s]\n", fmt_load(load.end()).c_str());
  remove_dir(data_dir);
}

// ---- summary ----------------------------------------------------------------------------------

template <typename F>
double median_over(const std::vector<SizeRound>& rounds, F&& f) {
  std::vector<double> values;
  for (const SizeRound& r : rounds) values.push_back(f(r));
  return median(values);
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
      const double worst = [&] {
        double w = 0;
        for (const SizeRound& r : rounds) w = std::max(w, r.pipe_group_paced[i].ack.p99);
        return w;
      }();
      std::printf(
          "    group durable-ack @ %s: p50 %s, p99 %s (worst round %s) (target p99 <= 1 ms: %s)\n",
          fmt_rate(o.group_rates[i]).c_str(), fmt_ns(p50).c_str(), fmt_ns(p99).c_str(),
          fmt_ns(worst).c_str(), verdict(worst <= 1e6));
      const double floor_p50 =
          median_over(rounds, [i](const SizeRound& r) { return r.floor_paced[i].ack.p50; });
      const double floor_p99 =
          median_over(rounds, [i](const SizeRound& r) { return r.floor_paced[i].ack.p99; });
      const double floor_worst = [&] {
        double w = 0;
        for (const SizeRound& r : rounds) w = std::max(w, r.floor_paced[i].ack.p99);
        return w;
      }();
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
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&](const char* name) -> const char* {
      const std::string prefix = std::string(name) + "=";
      return arg.rfind(prefix, 0) == 0 ? argv[i] + prefix.size() : nullptr;
    };
    if (const char* v = value("--dir")) {
      o.dir = v;
    } else if (const char* v = value("--rounds")) {
      o.rounds = std::atoi(v);
    } else if (const char* v = value("--scale")) {
      o.scale = std::atof(v);
    } else if (const char* v = value("--segment-mb")) {
      o.segment_size = std::strtoull(v, nullptr, 10) << 20;
    } else if (const char* v = value("--replay-records")) {
      o.replay_records = std::strtoull(v, nullptr, 10);
    } else if (const char* v = value("--restart-orders")) {
      o.restart_orders = std::strtoull(v, nullptr, 10);
    } else if (const char* v = value("--paced-seconds")) {
      o.paced_seconds = std::atof(v);
    } else if (const char* v = value("--only")) {
      o.only = v;
    } else if (const char* v = value("--payloads")) {
      o.payloads.clear();
      for (std::stringstream list(v); list.good();) {
        std::string item;
        std::getline(list, item, ',');
        const std::size_t payload = std::strtoull(item.c_str(), nullptr, 10);
        if (payload == 0 || payload > persist::kMaxRecordPayload) die("bad --payloads: " + item);
        o.payloads.push_back(payload);
      }
    } else if (const char* v = value("--idle")) {
      const std::string mode = v;
      if (mode == "spin") {
        g_idle = IdleMode::kSpin;
      } else if (mode == "yield") {
        g_idle = IdleMode::kYield;
      } else if (mode == "park") {
        g_idle = IdleMode::kPark;
      } else {
        die("--idle must be spin, yield or park");
      }
    } else if (const char* v = value("--park-spin-ns")) {
      g_park_spin_ns = std::strtoll(v, nullptr, 10);
    } else if (const char* v = value("--settle-after-open-ms")) {
      g_settle_after_open_ms = std::atoi(v);
    } else if (const char* v = value("--group-commit-us")) {
      o.group_commit_interval_ns = std::strtoll(v, nullptr, 10) * 1000;
    } else {
      std::printf(
          "usage: %s [--dir=DIR] [--rounds=N] [--scale=F] [--segment-mb=N] [--replay-records=N]\n"
          "          [--restart-orders=N] [--paced-seconds=S] [--payloads=64,104,256]\n"
          "          [--group-commit-us=N] [--idle=spin|yield|park] [--settle-after-open-ms=N]\n"
          "          [--park-spin-ns=N]\n"
          "          [--only=fdatasync,append,sqlite,pipeline,switch,replay,restart]\n"
          "  DIR (default build/journal_bench.tmp) must be on the disk under test, not tmpfs;\n"
          "  it is created and everything the program writes there is removed at the end.\n"
          "  --scale multiplies every per-round record count (not replay/restart).\n",
          argv[0]);
      return arg == "--help" ? 0 : 1;
    }
  }
  if (o.rounds < 1) o.rounds = 1;
  g_group_commit_interval_ns = o.group_commit_interval_ns;
  const bool created = !fs::exists(o.dir);
  fs::create_directories(o.dir);
  o.dir = fs::canonical(o.dir);
  if (is_tmpfs(o.dir)) die(o.dir.string() + " is tmpfs: measure on the real disk (--dir)");

  g_start_ns = now_ns();
  const CpuPair cpus = default_cpus();
  const TickClock clock = TickClock::calibrate();
  std::vector<int64_t> overhead(100'000);
  for (int64_t& s : overhead) {
    const uint64_t t0 = TickClock::now();
    s = static_cast<int64_t>(TickClock::now() - t0);
  }
  const Percentiles timer = percentiles(overhead, clock.to_ns(1.0));
  std::printf("journal_bench: persist/ journal (format v%u) vs SQLite %s, one run\n",
              persist::kJournalFormatVersion, sqlite3_libversion());
  std::printf("dir: %s on %s\n", o.dir.c_str(), filesystem_of(o.dir).c_str());
  std::printf("clock: %s at %.3f GHz; empty timed region p50 %s (included in append() figures)\n",
              TickClock::source(), clock.ghz(), fmt_ns(timer.p50).c_str());
  std::printf("cpus: producer %d, journal agent %d (idle: %s); segment size %" PRIu64
              " MiB; rounds %d, scale %.2f\n",
              cpus.producer, cpus.consumer, to_string(g_idle), o.segment_size >> 20, o.rounds,
              o.scale);
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
