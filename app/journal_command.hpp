// `quanttrading journal dump | verify | stats`: the command-line face of persist/journal_reader.
//
//   quanttrading journal dump   [--data-dir D] [--order-id N] [--type NAME] [--from-seq N]
//   quanttrading journal verify [--data-dir D]
//   quanttrading journal stats  [--data-dir D]
//   (each also takes -c/--config and --set, as run does, to find persist.data_dir)
//
// They read the journal in D/journal; D defaults to persist.data_dir. All three only read: they run
// beside a live engine (without its data-directory lock) and never change a byte — repairing a
// torn tail is the engine's start-up recovery, not this command's.
//
// dump prints one JSON object per record: {"seq","ts","type","segment","offset","payload"},
// payload as persist::record_payload_json() renders it (raw integer units, enum names).
// verify prints a human-readable report, one line per segment, and the verdict.
// stats prints segments, records per type, bytes, first/last sequence and the time span.
//
// Exit codes: verify and stats: 0 clean, 1 torn tail found (not modified), 2 corruption;
// dump: 0 read to the end, 1 stopped at damage (what was read is printed, the reason on
// stderr). Any of them: 3 when the journal could not be examined at all (missing directory,
// I/O error, bad arguments or configuration).
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

struct JournalCommandOptions {
  enum class Action { kNone, kDump, kVerify, kStats };
  Action action = Action::kNone;
  std::string config_file;        // -c/--config
  std::vector<std::string> sets;  // --set
  std::string data_dir;           // --data-dir; empty = persist.data_dir of the configuration
  uint64_t order_id = 0;          // dump --order-id (0 = any)
  std::string type;               // dump --type (record type name)
  uint64_t from_sequence = 0;     // dump --from-seq
};

inline constexpr int kJournalExitClean = 0;
inline constexpr int kJournalExitTornTail = 1;
inline constexpr int kJournalExitCorruption = 2;
inline constexpr int kJournalExitUnreadable = 3;

CLI::App* add_journal_subcommand(CLI::App& app, JournalCommandOptions& options);

int run_journal_command(const JournalCommandOptions& options,
                        const std::vector<std::string>& environment, std::ostream& out,
                        std::ostream& err);

}  // namespace qt
