// The program's configuration: an embedded default TOML document, overlaid by a config file,
// then by environment variables (QT_<SECTION>_<KEY>, upper case), then by command-line
// `--set section.key=value` flags, then validated into AppConfig.
//
// Guarantees: load_config() reports every error at once, each naming the key that is wrong;
// values that are secrets (any key containing "password", "api_key", "secret" or "token") are
// masked in every rendering. Used only at start-up; allocates freely.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/agent_runner.hpp"
#include "engine/idle_strategy.hpp"

namespace qt {

struct ThreadConfig {
  int cpu = -1;  // -1 = not pinned
  WaitMode wait = WaitMode::kPark;
  int64_t spin_ns = IdleStrategy::kDefaultSpinNs;  // park: spin budget after work
};

struct InstrumentConfig {
  std::string symbol;
  int price_decimals = 2;
  int size_decimals = 2;
  double tick = 0.01;
  double min_size = 0.01;
  double size_increment = 0.01;
  double max_size = 0;  // venue limit; 0 = none
  double contract_multiplier = 1;
  // Pre-trade risk limits for this instrument (in instrument units).
  double max_order_size = 100;
  double max_position = 1000;
  // Quote generator parameters (simulated feed).
  double initial_price = 100;
  double spread = 0.02;         // in price units of the instrument (e.g. 0.02 = 2 cents)
  double volatility_bps = 1.0;  // std dev of one random-walk step, in basis points
};

struct StrategyConfig {
  std::string type;        // "ma_crossover" or "quoter"
  std::string instrument;  // symbol
  double size = 1;
  int fast_window = 20;         // ma_crossover
  int slow_window = 80;         // ma_crossover
  double quote_offset_bps = 5;  // quoter: distance of each side from mid
  double max_position = 10;     // quoter: stop quoting a side beyond this
  int timer_ms = 1000;          // on_timer period
};

struct AppConfig {
  // [engine]
  ThreadingMode threading = ThreadingMode::kAuto;
  ThreadConfig engine_thread;  // [threads.engine]
  ThreadConfig feed_thread;    // [threads.feed]
  ThreadConfig venue_thread;   // [threads.venue]

  // [risk] (global)
  double max_order_notional = 1'000'000;  // account currency
  double price_collar_bps = 200;          // limit price must be within this of the last mid
  int max_orders_per_second = 100;        // per source
  std::string trading_state = "active";   // active | reducing | halted

  // [venue]
  std::string venue_kind = "capital";  // capital (built-in simulator without credentials) | paper
  int64_t unknown_resolution_ms = 10'000;  // capital: see [venue] in default_config.toml
  int64_t reconcile_interval_ms = 5'000;
  int64_t reconcile_grace_ms = 3'000;
  std::string orphan_working_orders = "adopt";  // adopt | cancel | leave

  // [feed]
  uint64_t feed_seed = 42;
  int quotes_per_second = 1000;  // per instrument

  // [run]
  double status_interval_seconds = 1.0;
  bool cancel_on_shutdown = true;

  // [persist]
  std::string data_dir = "data";     // journal, snapshots, LOCK
  int segment_size_mib = 64;         // journal segment files, preallocated
  std::string durability = "group";  // async | group | sync
  int group_commit_us = 0;           // group: at most one fdatasync per interval (0: greedy) ...
  int group_commit_records = 256;    // ... unless this many records are pending
  double snapshot_interval_seconds = 60;
  int snapshot_keep = 3;                // newest snapshots kept
  double segment_retention_hours = 72;  // 0 = keep every journal segment
  bool archive_segments = false;        // retention moves to <data_dir>/archive, not deletes

  // [load] an order-flow client standing in for FIX/HTTP clients (load and crash tests)
  double load_orders_per_second = 0;  // 0 = off
  std::string load_ack_log;           // every order update it receives, one line each

  // [log]
  std::string log_level = "info";   // trace | debug | info | warn | error
  std::string log_format = "text";  // text | json

  std::vector<InstrumentConfig> instruments;  // [[instruments]]
  std::vector<StrategyConfig> strategies;     // [[strategies]]

  // [capital] (secrets; masked in every rendering)
  std::string capital_api_key;
  std::string capital_identifier;
  std::string capital_password;
};

struct ConfigSources {
  std::string file_path;                   // empty = embedded default only
  std::vector<std::string> set_overrides;  // "section.key=value" from --set flags
  // Environment, as "NAME=value" strings; fill it with process_environment(). Only variables
  // named QT_<SECTION>_... for a known section are read; other QT_ variables (e.g. Qt's) are
  // ignored.
  std::vector<std::string> environment;
};

// The embedded default configuration (what `quanttrading run` uses with no --config).
std::string_view default_config_toml();

// Parses, overlays and validates. On failure the status message lists every problem, one per
// line, each starting with the dotted key (e.g. "risk.max_order_notional: must be > 0").
absl::StatusOr<AppConfig> load_config(const ConfigSources& sources);

// The effective configuration after overlays, as TOML, secrets masked as "********". Fails with
// the same errors as load_config(), so what it prints is always a configuration that loads.
absl::StatusOr<std::string> render_effective_config(const ConfigSources& sources);

// The process environment (environ) as "NAME=value" strings, for ConfigSources::environment.
std::vector<std::string> process_environment();

}  // namespace qt
