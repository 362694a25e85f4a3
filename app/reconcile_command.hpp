// `quanttrading reconcile`: the operator's view of the engine's books beside the broker's.
//
//   quanttrading reconcile [--data-dir D] [-c config.toml] [--set k=v]... [--live]
//
// The engine's view is the data directory's snapshot + journal replayed offline into a fresh
// engine, exactly as `journal replay` does (app/offline_engine.hpp); it only reads, so it runs
// beside a running engine. The broker's view: a login with the configured credentials (CAPITAL_*
// variables, or the [capital] keys) and GET /positions and GET /workingorders. Per instrument
// (epic) it prints the engine's net position beside the broker's in instrument units
// ("EURUSD engine 1000 broker 1000 equal"), the broker's working orders and the live order of
// the engine with that venue id (none: an ORPHAN), the engine's live limit orders with a venue
// id the broker does not list (MISSING), and the engine's orders still Unknown; then the count
// of the journal's reconciliation records (reconciled, position_adjusted) and the last one.
//
// While an engine runs, orders in flight can show as a difference that passes: run it again.
//
// Exit codes: 0 the books are equal; 1 a difference (a position, an orphan, a missing order, an
// order Unknown); 3 the configuration or the journal cannot be read; 4 the broker cannot be
// reached or refuses the login or a request; 5 there is no external broker to compare with (no
// Capital.com credentials — the built-in simulator lives only inside `quanttrading run` — or
// venue.kind = paper). 2 is not used: a configuration that does not load is 3 here, as for the
// journal commands.
//
// Command use only: allocates, blocks on file and network I/O.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace qt {

struct ReconcileOptions {
  bool requested = false;
  std::string config_file;
  std::vector<std::string> sets;
  std::string data_dir;
  bool live = false;  // --live: the live environment (or CAPITAL_ENV=live)
};

inline constexpr int kReconcileExitEqual = 0;
inline constexpr int kReconcileExitDifference = 1;
inline constexpr int kReconcileExitUnreadable = 3;
inline constexpr int kReconcileExitBrokerUnreachable = 4;
inline constexpr int kReconcileExitNoBroker = 5;

CLI::App* add_reconcile_subcommand(CLI::App& app, ReconcileOptions& options);

int run_reconcile_command(const ReconcileOptions& options,
                          const std::vector<std::string>& environment, std::ostream& out,
                          std::ostream& err);

}  // namespace qt
