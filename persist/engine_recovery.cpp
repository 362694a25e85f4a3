// Snapshot + journal-tail recovery; see engine_recovery.hpp.
#include "persist/engine_recovery.hpp"

#include <fmt/format.h>

#include "persist/data_dir.hpp"
#include "persist/engine_journal.hpp"
#include "persist/journal_reader.hpp"

namespace qt::persist {
namespace {

struct ReplayRun {
  uint64_t replayed = 0;
  uint64_t first = 0;
  bool saw_any = false;         // a record at or after the engine's sequence was read
  absl::Status journal_status;  // why the reader stopped early (damage), OK otherwise
  bool open_failed = false;     // journal_status is why the journal could not be opened at all
};

// Where the journal stands when no record at or after a given sequence can be read: its last
// record, or (when every record has gone with deleted segments) just before its first segment.
absl::StatusOr<uint64_t> journal_end_sequence(const std::filesystem::path& journal) {
  absl::StatusOr<VerifyReport> report = verify_journal(journal);
  if (absl::IsNotFound(report.status())) return 0;
  if (!report.ok()) return report.status();
  if (report->records > 0) return report->last_sequence;
  if (report->segments.empty()) return 0;
  return report->segments.back().first_sequence - 1;
}

std::string skipped_text(const std::vector<SkippedSnapshot>& skipped) {
  std::string text;
  for (const SkippedSnapshot& s : skipped) text += "; refused: " + s.reason;
  return text;
}

// Applies the records after engine.journal_sequence() (= S) up to `up_to`. The reader starts at
// S itself when S > 0, so that reading record S proves the journal reaches the state's end;
// `origin` names where S came from, for messages.
absl::StatusOr<ReplayRun> replay_after(Engine& engine, const std::filesystem::path& journal,
                                       uint64_t up_to, const std::string& origin) {
  ReplayRun run;
  const uint64_t start = engine.journal_sequence();
  if (start >= up_to) return run;
  // A segment the writer renames (prepared name → segment name) while the directory is listed
  // cannot be opened under the name just read: list again. Nothing has been applied yet.
  absl::StatusOr<std::unique_ptr<JournalReader>> reader;
  for (int attempt = 0; attempt < 3; ++attempt) {
    reader = JournalReader::open(journal, {.from_sequence = start, .include_internal = false});
    if (!absl::IsUnavailable(reader.status())) break;
  }
  if (absl::IsNotFound(reader.status())) return run;
  if (!reader.ok()) {
    run.open_failed = true;
    run.journal_status = reader.status();
    return run;
  }
  RecordView record;
  bool reached_limit = false;
  while ((*reader)->next(record)) {
    if (record.sequence > up_to) {
      reached_limit = true;
      break;
    }
    if (!run.saw_any) {
      run.saw_any = true;
      if (start > 0 && record.sequence == start) continue;  // the state already holds it
      if (record.sequence != start + 1) {
        return absl::FailedPreconditionError(
            start == 0
                ? fmt::format("the journal in {} starts at sequence {}, and no snapshot covers "
                              "sequences 1..{} (journal segments deleted?){}",
                              journal.string(), record.sequence, record.sequence - 1, origin)
                : fmt::format("the journal in {} starts at sequence {}, but {} covers only up to "
                              "sequence {}: records {}..{} are missing (journal segments deleted?)",
                              journal.string(), record.sequence, origin, start, start + 1,
                              record.sequence - 1));
      }
    }
    if (absl::Status status = replay_record(engine, record); !status.ok()) {
      return absl::DataLossError(fmt::format("{} (record in {} at offset {})",
                                             std::string(status.message()),
                                             record.segment_path->string(), record.offset));
    }
    if (run.first == 0) run.first = record.sequence;
    ++run.replayed;
  }
  if (!reached_limit) run.journal_status = (*reader)->status();
  return run;
}

}  // namespace

absl::StatusOr<RecoveredState> recover_engine_state(Engine& fresh_engine,
                                                    const std::filesystem::path& data_dir,
                                                    std::span<const InstrumentSpec> instruments,
                                                    const RecoveryOptions& options) {
  const auto started = std::chrono::steady_clock::now();
  if (fresh_engine.journal_sequence() != 0) {
    return absl::FailedPreconditionError(
        fmt::format("recovery needs a fresh engine; this one is at journal sequence {}",
                    fresh_engine.journal_sequence()));
  }
  RecoveredState out;
  std::string origin;  // for messages: which snapshot the journal must continue
  if (options.use_snapshots) {
    absl::StatusOr<std::optional<LoadedSnapshot>> loaded = load_newest_valid_snapshot(
        data_dir, instruments, &out.skipped_snapshots,
        options.pass_over_snapshots_beyond_limit ? options.up_to_sequence
                                                 : std::numeric_limits<uint64_t>::max());
    if (!loaded.ok()) return loaded.status();
    if (loaded->has_value()) {
      LoadedSnapshot& snapshot = **loaded;
      if (snapshot.sequence > options.up_to_sequence) {
        return absl::FailedPreconditionError(
            fmt::format("snapshot {} covers sequence {}, beyond the durable journal ({})",
                        snapshot.path.string(), snapshot.sequence, options.up_to_sequence));
      }
      if (absl::Status status = fresh_engine.restore_state(snapshot.state); !status.ok()) {
        return absl::Status(status.code(),
                            fmt::format("restoring snapshot {}: {}", snapshot.path.string(),
                                        std::string(status.message())));
      }
      out.snapshot = snapshot.path;
      out.snapshot_sequence = snapshot.sequence;
      origin = "snapshot " + snapshot.path.string();
    } else {
      origin = skipped_text(out.skipped_snapshots);
    }
  }

  const std::filesystem::path journal = journal_dir(data_dir);
  absl::StatusOr<ReplayRun> run =
      replay_after(fresh_engine, journal, options.up_to_sequence, origin);
  if (!run.ok()) return run.status();
  if (run->open_failed) return run->journal_status;
  if (!run->journal_status.ok()) {
    if (!options.stop_at_torn_tail) {
      return absl::DataLossError(
          fmt::format("{} (run `quanttrading journal verify` for the whole picture)",
                      std::string(run->journal_status.message())));
    }
    absl::StatusOr<VerifyReport> report = verify_journal(journal);
    if (!report.ok()) return report.status();
    if (report->damage.kind != DamageKind::kTornTail) {
      return absl::DataLossError(
          fmt::format("{}\n{}", std::string(run->journal_status.message()), report->to_text()));
    }
    out.stopped_at =
        fmt::format("torn tail in {} at offset {}: {}", report->damage.segment.string(),
                    report->damage.offset, report->damage.reason);
  } else if (!run->saw_any && options.up_to_sequence > out.snapshot_sequence) {
    // Nothing at or after the snapshot: the journal must end exactly where the snapshot does.
    absl::StatusOr<uint64_t> end = journal_end_sequence(journal);
    if (!end.ok()) return end.status();
    if (*end < out.snapshot_sequence && options.snapshot_may_lead_journal &&
        !out.snapshot.empty()) {
      out.journal_behind_snapshot = true;
      out.journal_end_sequence = *end;
    } else if (*end < out.snapshot_sequence) {
      return absl::FailedPreconditionError(fmt::format(
          "{} covers the journal up to sequence {}, but the journal in {} ends at sequence {} "
          "(a journal from elsewhere, or segments lost?)",
          origin, out.snapshot_sequence, journal.string(), *end));
    }
    if (*end > out.snapshot_sequence) {
      return absl::FailedPreconditionError(fmt::format(
          "the journal in {} holds no record after sequence {} though it reached {}: records "
          "{}..{} are missing (journal segments deleted?){}",
          journal.string(), out.snapshot_sequence, *end, out.snapshot_sequence + 1, *end,
          out.snapshot.empty() ? origin : ""));
    }
  }
  out.records_replayed = run->replayed;
  out.first_replayed_sequence = run->first;
  out.last_sequence = fresh_engine.journal_sequence();
  out.duration = std::chrono::duration_cast<std::chrono::nanoseconds>(
      std::chrono::steady_clock::now() - started);
  return out;
}

absl::StatusOr<TailReplay> replay_journal_tail(Engine& engine,
                                               const std::filesystem::path& data_dir,
                                               uint64_t up_to_sequence) {
  const std::string origin = fmt::format("the state at sequence {}", engine.journal_sequence());
  absl::StatusOr<ReplayRun> run =
      replay_after(engine, journal_dir(data_dir), up_to_sequence, origin);
  if (!run.ok()) return run.status();
  return TailReplay{run->replayed, run->journal_status};
}

}  // namespace qt::persist
