// EnginePersistence: the engine's data directory at run time — the lock that keeps a second
// engine out, the journal (recovered at start, then appended by its own agent), the recovery of
// the engine's state (newest valid snapshot + replay of the journal after it), and the hand-over
// of recovered live orders to the venue for reconciliation — which leaves the engine not ready
// (new orders refused, strategies waiting) until the venue reports its start-up reconciliation
// complete (engine/engine.hpp, Readiness).
//
// Lifetime and threads: open() and recover_into() run on the main thread before any runner
// starts; agent() is then driven by a runner (placed after the engine and the venue so that its
// on_close() commits and seals last). status() may be called from any thread. Destroying it
// releases the lock (the journal is sealed by the agent's on_close()).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "engine/engine.hpp"
#include "persist/data_dir.hpp"
#include "persist/engine_journal.hpp"
#include "persist/journal.hpp"
#include "persist/snapshotter.hpp"

namespace qt {

struct PersistenceOptions {
  std::filesystem::path data_dir;
  // Journal in a fresh temporary directory, removed at a clean exit: for the embedded
  // simulator, whose own state does not outlive the process either.
  bool ephemeral = false;
  persist::JournalOptions journal;        // dir is filled in from data_dir
  persist::SnapshotterOptions snapshots;  // data_dir is filled in
};

struct RecoveryReport {
  std::string snapshot;  // file used, empty when none
  uint64_t snapshot_sequence = 0;
  uint64_t records_replayed = 0;
  uint64_t last_sequence = 0;  // where the journal continues from
  bool torn_tail_truncated = false;
  std::string torn_tail;  // "segment-…qtj at offset N: bad CRC (M bytes zeroed)"
  // Async durability after a power loss: the snapshot was ahead of the journal, whose segments
  // were set aside here (the journal continues after the snapshot's sequence); empty otherwise.
  std::string journal_set_aside;
  std::size_t live_orders = 0;  // handed to the venue for reconciliation
  double seconds = 0;
};

class EnginePersistence {
 public:
  static absl::StatusOr<std::unique_ptr<EnginePersistence>> open(PersistenceOptions options);
  ~EnginePersistence();

  // Rebuilds `engine` (fresh, strategies added, not started) from the data directory — newest
  // valid snapshot, then the journal after it — attaches the journal, queues the recovered live
  // orders for reconciliation (the engine is then not ready until the venue has reconciled,
  // even with nothing recovered: the venue's positions and working orders are read first) and
  // prepares the snapshotter (a shadow engine built from
  // `engine_options`, which must be the options `engine` was built with). A journal with
  // corruption (not a torn tail) refuses with the verify report in the message. Under async
  // durability a snapshot ahead of the journal (a power loss kept the snapshot, not the journal's
  // last pages) is restored and the journal continues after it; under group and sync it refuses.
  absl::StatusOr<RecoveryReport> recover_into(Engine& engine, const EngineOptions& engine_options,
                                              Doorbell* engine_doorbell);
  // The snapshotter's thread: started once the engine runs, stopped before the journal closes.
  absl::Status start_snapshots();
  void stop_snapshots();

  // The journal stage, for a runner. Valid after recover_into().
  Agent& agent();
  // Dedicated threads: the stage rings `engine` whenever the durable sequence advances, and the
  // engine rings `journal` after every event it writes.
  void set_engine_doorbell(Doorbell* engine);
  void set_journal_doorbell(Doorbell* journal);
  const persist::JournalWriter& writer() const { return *writer_; }
  const std::filesystem::path& data_dir() const { return options_.data_dir; }
  // Why the journal stopped (disk full, I/O error); null while it works. Any thread.
  const persist::JournalFailure* journal_failure() const;
  // One line for the status line; starts "JOURNAL FAILED: ENOSPC (...) on write of <segment>"
  // once the journal has failed.
  std::string status() const;

 private:
  explicit EnginePersistence(PersistenceOptions options);

  PersistenceOptions options_;
  std::optional<persist::DataDirLock> lock_;
  std::unique_ptr<persist::JournalRing> ring_ = std::make_unique<persist::JournalRing>();
  std::unique_ptr<persist::JournalWriter> writer_;
  std::unique_ptr<persist::JournalRingLog> log_;  // the engine's write-ahead log over ring_
  std::unique_ptr<persist::JournalAgent> journal_agent_;
  std::unique_ptr<persist::Snapshotter> snapshotter_;
  class Stage;
  std::unique_ptr<Stage> stage_;
};

}  // namespace qt
