// `quanttrading orders resolve`: the operator's hand on an order in doubt, for when the engine
// cannot settle it itself (more orders in doubt than reconciliation tries, say, or a fate the
// operator learned from the broker's statement).
//
//   quanttrading orders resolve ID (--filled PRICE | --not-executed) [--reason TEXT]
//                               [--data-dir D] [-c config.toml] [--set k=v]...
//
// Only with the engine stopped: it takes the data directory's lock (a running engine holds it —
// and settles orders itself from the broker's positions). It recovers the journal as start-up
// does (a torn tail is cut), replays it into a fresh engine (app/offline_engine.hpp) to find the
// order, refuses unless the order is live, and appends ONE record: a venue_event of kind
// reconciled for the order — --filled: its remaining size executed at PRICE (in the
// instrument's price decimals, no more); --not-executed: nothing executed — whose note says who
// ("operator alice: filled", cut to the note's 40 characters; the full who and why go to the
// output and the log). Written at the next sequence with the wall time, made durable
// (fdatasync), the segment sealed. Then it replays the journal again and shows the order
// Reconciled and its instrument's position. Who: $SUDO_USER, else $USER, else the account of
// the process's uid.
//
// Exit codes: 0 resolved (and seen so in a fresh replay); 1 refused: no such order, or not live;
// 2 the journal is damaged beyond a torn tail, or writing or the check afterwards failed (run
// `quanttrading journal verify`); 3 the configuration or the journal cannot be read, or bad
// arguments (no or both of --filled/--not-executed, a price that is not one); 4 an engine is
// running on the data directory.
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

struct OrdersResolveOptions {
  bool requested = false;
  std::string config_file;
  std::vector<std::string> sets;
  std::string data_dir;
  uint64_t order_id = 0;
  std::string filled_price;  // --filled PRICE, as typed (exact decimal)
  bool not_executed = false;
  std::string reason;
};

inline constexpr int kResolveExitResolved = 0;
inline constexpr int kResolveExitRefused = 1;
inline constexpr int kResolveExitJournalFailed = 2;
inline constexpr int kResolveExitUnreadable = 3;
inline constexpr int kResolveExitEngineRunning = 4;

// `orders` with its one action, `resolve`. Returns the `orders` command.
CLI::App* add_orders_subcommand(CLI::App& app, OrdersResolveOptions& options);

int run_orders_resolve_command(const OrdersResolveOptions& options,
                               const std::vector<std::string>& environment, std::ostream& out,
                               std::ostream& err);

}  // namespace qt
