// Snapshotter: takes periodic snapshots of the engine's state without touching the engine.
//
// It keeps a *shadow* Engine of its own (same EngineOptions, its own idle rings) and, every
// interval, brings it up to date by replaying the journal from its last applied sequence + 1 up
// to the durable sequence it is given — never past it, so a snapshot never holds a record a
// crash could still take back. When at least one record was applied since the last snapshot it
// writes one (persist/snapshot.hpp, atomically), keeps the newest `keep`, and deletes (or
// archives) journal segments that no kept snapshot needs any more and that are older than the
// retention window. The live engine thread is never paused, locked or read.
//
// Threads: one background thread of its own (start()/stop()). prepare() and run_cycle() run on
// the caller's thread and only while that thread is not running (set-up, tests). stats() may be
// read from any thread (relaxed atomics). stop() wakes the thread through a condition variable
// and joins it; a cycle in progress finishes first (replaying a tail, writing one file).
// Allocation: freely, on its own thread (capture_state, file I/O); never on the engine's.
//
// Failure policy: a snapshot that cannot be written, or a journal tail that cannot be read to
// the durable sequence, is logged and counted (stats().failures) and retried next interval. A
// record the shadow engine refuses to replay leaves the shadow untrustworthy: it is logged as an
// error, counted, and the snapshotter writes no snapshot from then on (recovery at the next start
// goes on from the previous snapshot and the journal).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "engine/engine.hpp"
#include "engine/rings.hpp"

namespace qt::persist {

struct SnapshotterOptions {
  std::filesystem::path data_dir;
  std::chrono::nanoseconds interval = std::chrono::seconds(60);
  std::size_t keep = 3;  // newest snapshots kept; at least 1
  // Sealed journal segments older than this (by modification time) whose records all lie at or
  // before the oldest kept snapshot are removed; nullopt keeps every segment. The active
  // segment is never touched.
  std::optional<std::chrono::nanoseconds> segment_retention = std::chrono::hours(72);
  bool archive_segments = false;  // move them to <data_dir>/archive instead of deleting them
};

// Written by the snapshotter's thread, relaxed; read by anyone.
struct SnapshotterStats {
  std::atomic<uint64_t> snapshots_written{0};
  std::atomic<uint64_t> last_snapshot_sequence{0};
  std::atomic<uint64_t> last_snapshot_duration_ns{0};  // capture + encode + atomic write
  std::atomic<uint64_t> failures{0};
  std::atomic<uint64_t> applied_sequence{0};  // the shadow engine's journal sequence
  std::atomic<uint64_t> records_applied{0};   // replayed by the shadow since prepare()
  std::atomic<uint64_t> snapshots_deleted{0};
  std::atomic<uint64_t> segments_removed{0};  // deleted or archived
  std::atomic<bool> shadow_failed{false};     // replay refused a record: no more snapshots
};

class Snapshotter {
 public:
  // `durable_sequence` (the journal's published durable sequence) outlives the snapshotter.
  Snapshotter(SnapshotterOptions options, EngineOptions engine_options,
              const std::atomic<uint64_t>& durable_sequence);
  ~Snapshotter();  // stop()
  Snapshotter(const Snapshotter&) = delete;
  Snapshotter& operator=(const Snapshotter&) = delete;

  // Brings the shadow engine to its starting point: `initial` when given (the state start-up
  // recovery produced, e.g. engine.capture_state() before the engine starts), else its own
  // recovery from the data directory (newest valid snapshot + journal up to the durable
  // sequence). Also removes snapshot temporaries a crash left behind. Once only.
  absl::Status prepare(const EngineState* initial = nullptr);

  // Starts the thread; prepare()s first (from the data directory) if that has not been done.
  absl::Status start();
  // Wakes the thread and joins it. Idempotent.
  void stop();
  // Asks the running thread for a cycle now rather than at the end of the interval.
  void request_cycle();

  // One cycle on the caller's thread (catch up to the durable sequence, snapshot if anything
  // was applied, prune snapshots, apply segment retention); the thread runs exactly this.
  // Returns the first problem met (also logged and counted).
  absl::Status run_cycle();

  const SnapshotterStats& stats() const { return stats_; }
  const SnapshotterOptions& options() const { return options_; }

 private:
  void thread_main();
  absl::Status catch_up(uint64_t durable);
  absl::Status write_and_prune();
  absl::Status apply_segment_retention();
  absl::Status remove_segment(const std::filesystem::path& segment);
  void fail(const absl::Status& status);

  SnapshotterOptions options_;
  EngineOptions engine_options_;
  const std::atomic<uint64_t>& durable_sequence_;

  // The shadow engine and the rings it needs to exist; replay never touches the rings.
  std::unique_ptr<QuoteRing> quotes_;
  std::unique_ptr<VenueRequestRing> venue_requests_;
  std::unique_ptr<VenueEventRing> venue_events_;
  std::unique_ptr<Engine> shadow_;
  bool prepared_ = false;
  uint64_t applied_since_snapshot_ = 0;

  std::mutex mutex_;
  std::condition_variable wake_;
  bool stop_requested_ = false;   // guarded by mutex_
  bool cycle_requested_ = false;  // guarded by mutex_
  std::thread thread_;

  SnapshotterStats stats_;
};

}  // namespace qt::persist
