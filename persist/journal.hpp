// The journal writer: appends records to preallocated segment files (format in persist/FORMAT.md)
// and makes them durable under the configured mode.
//
// How records reach the file depends on the mode, because of what each costs here (measured by
// bench/journal_bench.cpp, see bench/RESULTS.md):
//  - async: stored straight into the segment's shared mapping (memory-mapped, faulted in ahead):
//    an append is a copy and a CRC, ~50 ns, and nothing else is needed to survive a crash of the
//    process.
//  - group and sync: copied into a staging buffer, and each commit pwrite()s what is staged and
//    fdatasyncs. Not through the mapping, because after every fdatasync the kernel write-protects
//    the pages it cleaned, and the next store to each costs a write fault into ext4
//    (page_mkwrite): 35 µs p50 / 95 µs p99 per page on this VM, on the journal thread, in front
//    of every commit. A pwrite() of the same bytes takes no fault and the fdatasync after it costs
//    the same.
//
// Thread ownership:
//  - JournalWriter belongs to one thread (the journal thread; in tests, the test thread): open(),
//    append(), commit(), close() are called by it alone. durable_sequence() and stats() may be
//    read by any thread.
//  - Each writer runs one background preparer thread of its own that keeps the next two segments
//    ready ahead of need (created and fallocated; async: also mapped and faulted in; group and
//    sync: the allocation fdatasynced), renames a segment once it is in use and unmaps
//    retired ones. It allocates and makes system calls; the writer's append path does neither.
//  - JournalAgent is an Agent: driven by exactly one runner thread, it drains a JournalRing
//    (produced by the engine thread), appends, commits per mode and publishes the durable
//    sequence.
//
// Guarantees of append(): no system call, no allocation, no page fault in the common case (async:
// the segment's pages were faulted in by the preparer; durable modes: the staging buffer is
// ordinary memory, written out by commit()). Moving to the next segment is a pop from the
// preparer's queue (durable modes add one pwrite of the new segment's header); when the preparer
// is late the writer prepares inline and counts it (JournalStats::late_preparations).
//
// Durability: a record is durable once durable_sequence() >= its sequence. kAsync: once it is in
// the shared mapping (page cache) — it survives a process crash, not a power loss. kGroup and
// kSync: once fdatasync of its segment has returned. A reader beside a running writer sees async
// records as they are appended and durable-mode records once committed.
// In kGroup and kSync every record of a commit but its first carries format::kRecordSameCommit:
// recovery tells a torn last commit from damage in acknowledged data by it (persist/FORMAT.md).
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "engine/agent.hpp"
#include "engine/idle_strategy.hpp"
#include "engine/latency_histogram.hpp"
#include "persist/journal_entry.hpp"

namespace qt::persist {

enum class Durability : uint8_t {
  kAsync,  // page cache: survives a process crash
  kGroup,  // fdatasync batched by time and count
  kSync,   // fdatasync after every record, before its durability is published
};
std::string_view to_string(Durability durability);
// "async" | "group" | "sync"; InvalidArgument otherwise.
absl::StatusOr<Durability> durability_from_string(std::string_view text);

// The system calls the journal makes on its files, as a seam: tests substitute one that fails
// (ENOSPC, EIO) to see the writer, the engine and the app above it fail loudly. Production uses
// system_file_io(). Chosen once when the writer opens; a virtual call costs nothing beside the
// system call it stands for. Each member behaves as the call it is named after (-1 and errno;
// posix_fallocate returns the error). Called from the writer thread and the preparer thread.
class JournalFileIo {
 public:
  virtual ~JournalFileIo() = default;
  virtual int open(const char* path, int flags, mode_t mode) = 0;
  virtual ssize_t pwrite(int fd, const void* data, size_t size, off_t offset) = 0;
  virtual int fdatasync(int fd) = 0;
  virtual int fsync(int fd) = 0;
  virtual int posix_fallocate(int fd, off_t offset, off_t length) = 0;
};
JournalFileIo& system_file_io();

// Why the journal stopped: the first error that failed it. Written once by the journal thread
// before failed() turns true (release); read by anyone after seeing failed() (acquire).
struct JournalFailure {
  int error = 0;               // errno (ENOSPC, EIO, ...); 0 when not a system call's error
  std::string operation;       // "write", "fdatasync", "preallocate", ... (empty: not an I/O error)
  std::filesystem::path path;  // the file it was done to
  std::string message;         // the whole status message
};
// "ENOSPC writing /data/journal/segment-….qtj" (or the message when it was not an I/O error).
std::string describe(const JournalFailure& failure);

struct JournalOptions {
  static constexpr uint64_t kMinSegmentSize = 64 * 1024;

  std::filesystem::path dir;            // the journal directory (created if missing)
  uint64_t segment_size = 64ull << 20;  // bytes; a multiple of 4096, >= kMinSegmentSize
  Durability durability = Durability::kGroup;
  int64_t group_commit_interval_ns = 0;  // kGroup: at most one commit per interval (0: greedy) ...
  uint32_t group_commit_max_records = 256;  // ... unless this many records are pending
  JournalFileIo* file_io = nullptr;         // null: system_file_io(); must outlive the writer
};

// Counters of one writer. Written by the journal thread (segments_prepared: by the preparer)
// with relaxed stores; read by anyone.
struct JournalStats {
  std::atomic<uint64_t> records{0};  // engine records appended
  std::atomic<uint64_t> bytes{0};    // bytes appended (record headers, payload, padding)
  std::atomic<uint64_t> commits{0};  // fdatasync rounds (kGroup, kSync)
  std::atomic<uint64_t> segment_switches{0};
  std::atomic<uint64_t> late_preparations{0};  // the next segment was not ready: made inline
  std::atomic<uint64_t> segments_prepared{0};  // by the preparer thread (its only counter)
  LatencyHistogram commit_ns;                  // duration of each fdatasync round
};

class JournalWriter {
 public:
  // Opens the journal in options.dir for appending, after recovery (recover_journal()) has made
  // its tail clean. Continues in the active (last, unsealed) segment after its last valid
  // record, or starts a new segment when there is none or the last one is sealed.
  // `next_sequence` is the sequence the next append must carry: the journal's last sequence + 1
  // (1 for an empty journal). Fails if the active segment has a damaged tail, if next_sequence
  // does not continue the journal, or on any file-system error.
  static absl::StatusOr<std::unique_ptr<JournalWriter>> open(const JournalOptions& options,
                                                             uint64_t next_sequence);

  ~JournalWriter();  // close() if not yet closed (errors are logged)
  JournalWriter(const JournalWriter&) = delete;
  JournalWriter& operator=(const JournalWriter&) = delete;

  // Copies the record into the active segment (header, payload, CRC32C; the length word last,
  // with a release store, so a concurrent reader sees whole records only). entry.sequence must
  // be next_sequence(), entry.size <= 104. Not durable until commit() (see the modes above).
  // Errors: FailedPrecondition on a sequence that does not follow, InvalidArgument on a bad
  // size, or the file-system error when a new segment could not be prepared or staged records
  // could not be written (the writer is then failed() and refuses further appends).
  absl::Status append(const JournalEntry& entry) noexcept;
  // The same for a record built elsewhere: any non-internal type, payload up to
  // kMaxRecordPayload (4064) bytes.
  absl::Status append(uint16_t type, uint64_t sequence, int64_t timestamp_ns,
                      std::span<const std::byte> payload) noexcept;

  // Makes everything appended so far durable under the mode and publishes durable_sequence():
  // kAsync publishes only; kGroup and kSync pwrite() the staged records and fdatasync the active
  // segment (and the previous one if it still holds unsynced records) first.
  absl::Status commit() noexcept;

  // Seals the active segment (a kShutdown seal record), makes everything durable, trims the
  // segment file to its used length, stops the preparer and removes unused prepared files.
  // Idempotent.
  absl::Status close();

  const std::atomic<uint64_t>& durable_sequence() const noexcept { return durable_sequence_; }
  uint64_t next_sequence() const noexcept { return next_sequence_; }
  uint64_t appended_sequence() const noexcept { return next_sequence_ - 1; }
  uint64_t pending_records() const noexcept { return pending_records_; }
  bool failed() const noexcept { return failed_.load(std::memory_order_acquire); }
  const JournalOptions& options() const noexcept { return options_; }
  const JournalStats& stats() const noexcept { return stats_; }

  struct Impl;  // segment handling, in journal.cpp

 private:
  explicit JournalWriter(const JournalOptions& options);

  JournalOptions options_;
  std::unique_ptr<Impl> impl_;
  uint64_t next_sequence_ = 1;
  uint64_t pending_records_ = 0;  // appended but not yet committed
  std::atomic<bool> failed_{false};
  alignas(kCacheLine) std::atomic<uint64_t> durable_sequence_{0};
  alignas(kCacheLine) JournalStats stats_;
};

// The journal stage: drains the engine's JournalRing in batches, appends, commits per mode, then
// publishes the durable sequence and rings `durable_doorbell` (when set) each time it advances.
//
// Commit policy (why: see persist/FORMAT.md, "Durability modes"):
//  - kAsync: durable as soon as the drained batch is in the mapping; no system call.
//  - kSync: one fdatasync per record, and that record's durability is published right after it:
//    no record ever waits for or benefits from a later one. The honest per-record baseline.
//  - kGroup: one fdatasync covers everything pending. A commit starts as soon as
//    group_commit_interval_ns has passed since the previous commit finished, or
//    group_commit_max_records are pending. The default interval is 0 (greedy): each fdatasync
//    covers what arrived during the previous one, so a record waits for at most the commit in
//    flight plus its own. A non-zero interval trades latency for fewer fdatasyncs at low rates.
//    While a commit is due soon, do_work() reports work so the runner does not park.
// A batch drains at most group_commit_max_records entries (kGroup) or 256 (others).
// On failure (disk full, I/O error) the agent logs once, stops draining and failed() turns true,
// with failure() saying why: the durable sequence stops for good (after a failed fdatasync the
// kernel may have dropped the dirty pages, so nothing after the last good commit is trusted, and
// nothing is retried: a restart recovers from what is on disk). The engine sees failed() through
// its WriteAheadLog and stops acknowledging (engine/engine.hpp, "Journal failure").
// on_close() drains what is left, commits and seals (JournalWriter::close()).
class JournalAgent : public Agent {
 public:
  JournalAgent(JournalWriter& writer, JournalRing& ring, Doorbell* durable_doorbell = nullptr);

  std::string_view name() const override { return "journal"; }
  int do_work() override;
  void on_close() override;

  bool failed() const noexcept { return failed_.load(std::memory_order_acquire); }
  // For a reader that keeps watching (the engine's WriteAheadLog); written once.
  const std::atomic<bool>& failed_flag() const noexcept { return failed_; }
  // Why it failed; null while it has not.
  const JournalFailure* failure() const noexcept { return failed() ? &failure_ : nullptr; }
  const std::atomic<uint64_t>& durable_sequence() const noexcept {
    return writer_.durable_sequence();
  }

 private:
  void fail(const absl::Status& status);
  bool commit_and_publish();

  JournalWriter& writer_;
  JournalRing& ring_;
  Doorbell* durable_doorbell_;
  const Durability durability_;
  const std::size_t batch_limit_;
  int64_t last_commit_end_ns_ = 0;
  JournalFailure failure_;
  // Its own line: the engine reads it every duty cycle, the journal thread writes beside it.
  alignas(kCacheLine) std::atomic<bool> failed_{false};
};

}  // namespace qt::persist
