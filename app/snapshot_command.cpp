// `quanttrading snapshot verify` and `quanttrading journal replay`; see snapshot_command.hpp.
#include "app/snapshot_command.hpp"

#include <fmt/format.h>
#include <time.h>

#include <CLI/CLI.hpp>
#include <ostream>

#include "app/config.hpp"
#include "app/config_flags.hpp"
#include "app/offline_engine.hpp"
#include "app/trading_app.hpp"
#include "engine/engine.hpp"
#include "persist/data_dir.hpp"
#include "persist/engine_recovery.hpp"
#include "persist/snapshot.hpp"

namespace qt {
namespace {

std::string utc_text(int64_t epoch_ns) {
  const time_t seconds = static_cast<time_t>(epoch_ns / 1'000'000'000);
  tm parts{};
  ::gmtime_r(&seconds, &parts);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", parts.tm_year + 1900, parts.tm_mon + 1,
                     parts.tm_mday, parts.tm_hour, parts.tm_min, parts.tm_sec);
}

std::string symbols_of(const std::vector<InstrumentSpec>& table) {
  std::string text;
  for (const InstrumentSpec& spec : table) {
    text += text.empty() ? "" : ", ";
    text += std::string(spec.name());
  }
  return text;
}

}  // namespace

CLI::App* add_snapshot_subcommand(CLI::App& app, SnapshotCommandOptions& options) {
  CLI::App* snapshot = app.add_subcommand("snapshot", "examine the engine's state snapshots");
  snapshot->require_subcommand(1);
  CLI::App* verify = snapshot->add_subcommand(
      "verify", "check every snapshot; exit 1 when the newest is damaged (never writes)");
  add_config_flags(*verify, options.config_file, options.sets, options.data_dir);
  return snapshot;
}

CLI::App* add_journal_replay_subcommand(CLI::App& journal, JournalReplayOptions& options) {
  CLI::App* replay = journal.add_subcommand(
      "replay",
      "rebuild the engine state from snapshot + journal as start-up would, offline (never "
      "writes); exit 0 to the end, 1 torn tail, 2 refused");
  add_config_flags(*replay, options.config_file, options.sets, options.data_dir);
  replay->add_flag("--digest", options.digest, "also print the state digest");
  replay->add_flag("--no-snapshot", options.no_snapshot,
                   "ignore snapshots: replay the whole journal from sequence 1");
  replay
      ->add_option("--until-sequence", options.until_sequence,
                   "stop after this sequence: the state at that point (e.g. a backup's), from "
                   "the newest snapshot at or before it; exit 2 if the journal ends before it")
      ->check(CLI::PositiveNumber);
  replay->callback([&options] { options.requested = true; });
  return replay;
}

int run_snapshot_verify_command(const SnapshotCommandOptions& options,
                                const std::vector<std::string>& environment, std::ostream& out,
                                std::ostream& err) {
  absl::StatusOr<AppConfig> config =
      load_command_config(options.config_file, options.sets, environment);
  std::filesystem::path data_dir = options.data_dir;
  if (!config.ok()) {
    if (data_dir.empty()) {
      err << "configuration errors:\n" << config.status().message() << '\n';
      return 3;
    }
    err << "warning: the configuration does not load; instrument tables are not compared\n";
  } else if (data_dir.empty()) {
    data_dir = config->data_dir;
  }
  const std::vector<InstrumentSpec> configured =
      config.ok() ? instruments_from_config(*config) : std::vector<InstrumentSpec>{};
  const bool capital = config.ok() && config->venue_kind == "capital";

  absl::StatusOr<std::vector<persist::SnapshotFile>> files = persist::list_snapshots(data_dir);
  if (!files.ok()) {
    err << "snapshot verify: " << files.status().message() << '\n';
    return 3;
  }
  out << "snapshots in " << persist::snapshots_dir(data_dir).string() << ": " << files->size()
      << '\n';
  bool newest_intact = true;
  for (std::size_t i = 0; i < files->size(); ++i) {
    const persist::SnapshotFile& file = (*files)[i];
    absl::StatusOr<persist::DecodedSnapshot> decoded = persist::decode_snapshot_file(file.path);
    std::string verdict;
    bool intact = decoded.ok();
    if (!decoded.ok()) {
      verdict = "DAMAGED: " + std::string(decoded.status().message());
    } else if (decoded->info.journal_sequence != file.sequence) {
      intact = false;
      verdict = fmt::format("DAMAGED: named for sequence {} but covers sequence {}", file.sequence,
                            decoded->info.journal_sequence);
    } else {
      const persist::SnapshotInfo& info = decoded->info;
      verdict = fmt::format(
          "ok  sequence {}  {} orders ({} live)  last order id {}  instruments {}  written {}",
          info.journal_sequence, info.order_count, info.live_orders, info.last_order_id,
          symbols_of(info.instruments), utc_text(info.written_unix_ns));
      if (config.ok()) {
        if (absl::Status table = persist::check_instrument_table(info.instruments, configured);
            !table.ok()) {
          verdict += fmt::format(
              "\n      note: its instrument table differs from the configuration's ({}){}",
              std::string(table.message()),
              capital ? "; with the Capital.com venue the broker's dealing rules decide" : "");
        }
      }
    }
    out << "  " << file.path.filename().string() << "  " << verdict << '\n';
    if (i + 1 == files->size()) newest_intact = intact;
  }
  if (files->empty()) {
    out << "no snapshots: start-up replays the whole journal\n";
    return 0;
  }
  if (!newest_intact) {
    out << "the newest snapshot is damaged: start-up recovery falls back to an older one\n";
    return 1;
  }
  out << "the newest snapshot is intact\n";
  return 0;
}

int run_journal_replay_command(const JournalReplayOptions& options,
                               const std::vector<std::string>& environment, std::ostream& out,
                               std::ostream& err) {
  std::optional<OfflineCommand> opened = open_offline_command(
      options.config_file, options.sets, options.data_dir, environment, "journal replay", err);
  if (!opened) return kReplayExitUnreadable;
  OfflineEngine& offline = *opened->offline;
  const std::filesystem::path& data_dir = offline.data_dir();
  const std::vector<InstrumentSpec>& instruments = offline.instruments();

  persist::RecoveryOptions recovery;
  recovery.use_snapshots = !options.no_snapshot;
  recovery.stop_at_torn_tail = true;
  if (options.until_sequence > 0) {
    recovery.up_to_sequence = options.until_sequence;
    recovery.pass_over_snapshots_beyond_limit = true;
  }
  out << "data directory: " << data_dir.string() << '\n';
  out << "instruments: " << symbols_of(instruments) << " (from " << offline.table_source() << ")\n";
  absl::StatusOr<persist::RecoveredState> recovered = offline.recover(recovery);
  if (!recovered.ok()) {
    err << "journal replay refused: " << recovered.status().message() << '\n';
    return kReplayExitRefused;
  }
  for (const persist::SkippedSnapshot& skipped : recovered->skipped_snapshots) {
    out << "skipped snapshot: " << skipped.reason << '\n';
  }
  if (options.no_snapshot) {
    out << "snapshot: not used (--no-snapshot)\n";
  } else if (recovered->snapshot.empty()) {
    out << "snapshot: none\n";
  } else {
    out << fmt::format("snapshot: {} (sequence {})\n", recovered->snapshot.string(),
                       recovered->snapshot_sequence);
  }
  if (recovered->records_replayed > 0) {
    out << fmt::format("records replayed: {} (sequences {}..{})\n", recovered->records_replayed,
                       recovered->first_replayed_sequence, recovered->last_sequence);
  } else {
    out << "records replayed: 0\n";
  }
  out << "last sequence: " << recovered->last_sequence << '\n';
  const bool until_reached =
      options.until_sequence > 0 && recovered->last_sequence == options.until_sequence;
  if (options.until_sequence > 0 && !until_reached && recovered->stopped_at.empty()) {
    // Printing a state here would pass the journal's end off as the state at N.
    err << fmt::format(
        "journal replay refused: the journal ends at sequence {}, before --until-sequence {}\n",
        recovered->last_sequence, options.until_sequence);
    return kReplayExitRefused;
  }
  if (until_reached) out << "stopped at --until-sequence " << options.until_sequence << '\n';
  const EngineState state = offline.engine().capture_state();
  print_engine_state(state, instruments, out);
  if (options.digest) out << fmt::format("digest: {:016x}\n", persist::state_digest(state));
  out << fmt::format("time: {:.3f} s\n", recovered->seconds());
  // Damage past the point asked for leaves the state at that point whole.
  if (!recovered->stopped_at.empty() && !until_reached) {
    out << "stopped at a " << recovered->stopped_at
        << " (left as it is; the engine's start-up recovery removes it)\n";
    return kReplayExitTornTail;
  }
  return kReplayExitClean;
}

}  // namespace qt
