// Rebuilding an engine's state from a data directory: the newest valid snapshot (if any), then
// every journal record after it, decoded (persist/engine_journal.hpp) and replayed through
// Engine::replay() — the same code that produced them.
//
// Refusals are explicit, never a silent gap: a snapshot beyond the journal's end, a journal
// that no longer reaches back to the snapshot (or to sequence 1 without one), a record replay
// rejects, or damage in the journal (unless the caller asks to stop at a torn tail).
//
// Threads and allocation: runs on the caller's thread, which must be the only one touching the
// engine (start-up, before the engine thread starts; or the snapshotter's thread on its shadow
// engine). Allocates and reads files. Never writes anything: the caller runs recover_journal()
// first when the journal must be repaired.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/engine.hpp"
#include "persist/snapshot.hpp"

namespace qt::persist {

struct RecoveryOptions {
  // false: ignore snapshots and replay the whole journal from sequence 1.
  bool use_snapshots = true;
  // Never apply a record beyond this sequence (the snapshotter passes the durable sequence).
  uint64_t up_to_sequence = std::numeric_limits<uint64_t>::max();
  // What a snapshot beyond up_to_sequence means. false: an error (the snapshotter's bound is the
  // durable sequence; a snapshot past it cannot be). true: it is passed over for the newest one
  // at or before up_to_sequence, or none — for offline tools replaying to an earlier point.
  bool pass_over_snapshots_beyond_limit = false;
  // Damage that ends the journal early: false → an error (start-up: recover_journal() has
  // already removed any torn tail, so what is left is real damage). true → a torn tail ends the
  // replay and is reported in RecoveredState::stopped_at; corruption is still an error. For
  // offline tools that must not repair the journal.
  bool stop_at_torn_tail = false;
  // A snapshot beyond the journal's last record. false → an error: under group and sync
  // durability a snapshot covers only fdatasynced records, so a journal behind it has lost
  // acknowledged ones. true → async durability, where the journal is never fdatasynced but
  // snapshots are: after a power loss the newest snapshot may hold records the journal lost, and
  // it is the most complete state there is. It is restored, nothing is replayed, and
  // RecoveredState::journal_end_sequence says where the journal ends; the caller must make the
  // journal continue after the snapshot (set_aside_journal_behind_snapshot()).
  bool snapshot_may_lead_journal = false;
};

struct RecoveredState {
  std::filesystem::path snapshot;  // the snapshot restored; empty when none
  uint64_t snapshot_sequence = 0;
  std::vector<SkippedSnapshot> skipped_snapshots;  // refused (newer) snapshots, with reasons
  uint64_t records_replayed = 0;
  uint64_t first_replayed_sequence = 0;  // 0 when nothing was replayed
  uint64_t last_sequence = 0;            // the engine's journal sequence afterwards
  std::string stopped_at;                // stop_at_torn_tail: where the torn tail begins
  // snapshot_may_lead_journal: the journal's last sequence when the snapshot is beyond it (the
  // records in between exist only in the snapshot); 0 otherwise.
  bool journal_behind_snapshot = false;
  uint64_t journal_end_sequence = 0;
  std::chrono::nanoseconds duration{0};

  double seconds() const { return std::chrono::duration<double>(duration).count(); }
};

// Restores `fresh_engine` (constructed, nothing replayed or restored, not started) from the
// data directory: newest snapshot that reads under `instruments` (refused ones are logged and
// listed), then the journal from the snapshot's sequence + 1 (from 1 without a snapshot).
// Errors (the engine is then in an unspecified state and must be discarded):
//  - FailedPrecondition: the engine is not fresh; the snapshot covers more than the journal
//    holds (unless options.snapshot_may_lead_journal); the journal does not reach back to the
//    snapshot (or to sequence 1).
//  - DataLoss: a record replay refuses, or damage in the journal (see RecoveryOptions).
absl::StatusOr<RecoveredState> recover_engine_state(Engine& fresh_engine,
                                                    const std::filesystem::path& data_dir,
                                                    std::span<const InstrumentSpec> instruments,
                                                    const RecoveryOptions& options = {});

struct TailReplay {
  uint64_t applied = 0;
  // Non-OK when the reader stopped before `up_to_sequence` on something it could not read
  // (damage, or a segment renamed while the directory was listed). The engine then holds every
  // record before that point, whole: the caller may simply try again later.
  absl::Status journal_status;
};

// Applies the journal records after the engine's journal_sequence(), up to `up_to_sequence`,
// to an engine that has been recovered: the snapshotter's catch-up. An error means the engine
// can no longer be trusted — DataLoss when replay refuses a record, FailedPrecondition when the
// journal does not continue where the engine stands.
absl::StatusOr<TailReplay> replay_journal_tail(Engine& engine,
                                               const std::filesystem::path& data_dir,
                                               uint64_t up_to_sequence);

}  // namespace qt::persist
