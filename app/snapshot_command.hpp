// `quanttrading snapshot verify` and `quanttrading journal replay`: the command-line face of
// persist/snapshot.hpp and persist/engine_recovery.hpp.
//
//   quanttrading snapshot verify [--data-dir D] [-c config.toml] [--set k=v]...
//   quanttrading journal replay  [--data-dir D] [--digest] [--no-snapshot] [--until-sequence N]
//                                [-c config.toml] [--set k=v]...
//
// D defaults to persist.data_dir of the configuration. Both only read: they run beside a live
// engine (without its data-directory lock) and never change a byte — in particular `journal
// replay` does not repair a torn tail (start-up recovery does that); it replays up to it and
// says so.
//
// snapshot verify lists every snapshot with its sequence, orders and instruments and checks
// each completely (size, magic, version, CRC, records); a snapshot whose instrument table
// differs from the configuration's is flagged. Exit: 0 when the newest snapshot is intact (or
// there is none), 1 when the newest is damaged (recovery would fall back to an older one),
// 3 when the directory cannot be examined.
//
// journal replay rebuilds the engine state exactly as start-up recovery would — newest valid
// snapshot, then the journal after it (--no-snapshot: the whole journal from sequence 1) — in
// an engine built from the configuration, and prints the snapshot used, records replayed, the
// last sequence, the orders, the positions and (--digest) persist::state_digest().
// --until-sequence N stops after record N: the state the engine had at that point (a backup
// point, say), from the newest valid snapshot at or before N (later ones are passed over) and
// the records after it up to N. A journal that ends before N is refused (exit 2): the state at N
// cannot be rebuilt; a torn tail before N exits 1 as usual; a torn tail after N does not matter.
// Instruments: the configuration's; with the Capital.com venue, whose dealing rules come from
// the broker at start-up, the table recorded in the newest intact snapshot when there is one.
// Exit: 0 replayed to the end (or to N), 1 stopped at a torn tail, 2 refused (corruption, a
// snapshot that does not fit the journal, a record replay refuses, a journal that ends before
// N), 3 cannot examine (configuration, missing directory).
//
// Command use only: allocates, blocks on file I/O.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace qt {

struct SnapshotCommandOptions {
  std::string config_file;        // -c/--config
  std::vector<std::string> sets;  // --set
  std::string data_dir;           // --data-dir; empty = persist.data_dir
};

struct JournalReplayOptions {
  bool requested = false;  // set when the subcommand was given
  std::string config_file;
  std::vector<std::string> sets;
  std::string data_dir;
  bool digest = false;          // --digest
  bool no_snapshot = false;     // --no-snapshot
  uint64_t until_sequence = 0;  // --until-sequence; 0 = to the end of the journal
};

inline constexpr int kReplayExitClean = 0;
inline constexpr int kReplayExitTornTail = 1;
inline constexpr int kReplayExitRefused = 2;
inline constexpr int kReplayExitUnreadable = 3;

// `snapshot` with its one action, `verify`. Returns the `snapshot` command.
CLI::App* add_snapshot_subcommand(CLI::App& app, SnapshotCommandOptions& options);
// `replay` under an existing `journal` command.
CLI::App* add_journal_replay_subcommand(CLI::App& journal, JournalReplayOptions& options);

int run_snapshot_verify_command(const SnapshotCommandOptions& options,
                                const std::vector<std::string>& environment, std::ostream& out,
                                std::ostream& err);
int run_journal_replay_command(const JournalReplayOptions& options,
                               const std::vector<std::string>& environment, std::ostream& out,
                               std::ostream& err);

}  // namespace qt
