// quanttrading: the one binary. Subcommands:
//   run            start the engine (embedded default: the Capital.com client against the
//                  built-in simulator on loopback, two example strategies)
//   sim            run the Capital.com simulator alone
//   check-capital  connection test against the broker (or the built-in simulator)
//   show-config    print the effective configuration (secrets masked) or every config error
//   journal        dump, verify or show statistics of the journal (read-only); replay it
//                  offline into a fresh engine (snapshot + tail, as start-up would)
//   snapshot       verify the engine's state snapshots (read-only)
//   backup         back up the data directory (while the engine runs) to a directory or S3
//   restore        verify a backup's checksums and restore it into a data directory
//   reconcile      compare the engine's books (journal replayed offline) with the broker's
//                  positions and working orders; exit 1 on a difference
//   orders resolve settle a live order by hand, with the engine stopped (one journaled record
//                  saying who and how)
#include <fmt/format.h>
#include <signal.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <sstream>

#include "absl/cleanup/cleanup.h"
#include "app/backup_command.hpp"
#include "app/check_capital.hpp"
#include "app/config.hpp"
#include "app/config_flags.hpp"
#include "app/journal_command.hpp"
#include "app/logging.hpp"
#include "app/orders_command.hpp"
#include "app/reconcile_command.hpp"
#include "app/show_config.hpp"
#include "app/snapshot_command.hpp"
#include "app/trading_app.hpp"
#include "gateway/capital/client_config.hpp"
#include "sim/sim_command.hpp"

#if QT_USE_MIMALLOC
#include <mimalloc.h>
#endif

namespace {

// The process allocator, checked rather than assumed: memory from malloc and from new must lie
// in mimalloc's heap for it to be the one in use.
std::string allocator_in_use() {
#if QT_USE_MIMALLOC
  void* from_malloc = std::malloc(64);
  const auto from_new = std::make_unique<char[]>(64);
  const bool active = mi_is_in_heap_region(from_malloc) && mi_is_in_heap_region(from_new.get());
  std::free(from_malloc);
  const int version = mi_version();
  return fmt::format("mimalloc {}.{}.{} ({})", version / 100, version % 100 / 10, version % 10,
                     active ? "active: malloc and new return mimalloc memory"
                            : "LINKED BUT NOT ACTIVE: malloc or new bypasses it");
#else
  return "glibc malloc";
#endif
}

struct CommonFlags {
  std::string config_file;
  std::vector<std::string> sets;
  std::string data_dir;
  std::string log_format;
  std::string log_level;
};

void add_common_flags(CLI::App& command, CommonFlags& flags) {
  qt::add_config_flags(command, flags.config_file, flags.sets, flags.data_dir);
  command.add_option("--log-format", flags.log_format, "text or json (overrides log.format)");
  command.add_option("--log-level", flags.log_level, "overrides log.level");
}

qt::ConfigSources sources_of(const CommonFlags& flags) {
  qt::ConfigSources sources;
  sources.file_path = flags.config_file;
  sources.environment = qt::process_environment();
  sources.set_overrides = flags.sets;
  if (!flags.data_dir.empty())
    sources.set_overrides.push_back("persist.data_dir=" + flags.data_dir);
  if (!flags.log_format.empty()) sources.set_overrides.push_back("log.format=" + flags.log_format);
  if (!flags.log_level.empty()) sources.set_overrides.push_back("log.level=" + flags.log_level);
  return sources;
}

int report_config_errors(const absl::Status& status) {
  std::fprintf(stderr, "configuration errors:\n%s\n", std::string(status.message()).c_str());
  return 2;
}

int run_command(const CommonFlags& flags, double duration_seconds, bool live) {
  // Stop signals are taken synchronously by the main thread; block them before any thread starts
  // so every stage thread inherits the mask.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  absl::StatusOr<qt::AppConfig> config = qt::load_config(sources_of(flags));
  if (!config.ok()) return report_config_errors(config.status());
  // The stage threads log without waiting on the terminal; every line is out before we return.
  if (absl::Status s =
          qt::setup_logging(config->log_level, config->log_format, qt::LogWrites::kBackground);
      !s.ok()) {
    return report_config_errors(s);
  }
  absl::Cleanup flush_log = [] { qt::shutdown_logging(); };
  spdlog::info("allocator: {}", allocator_in_use());
  const bool paper = config->venue_kind == "paper";
  spdlog::info("quanttrading starting: {}",
               paper ? "paper venue and simulated random-walk feed on this host (no broker)"
                     : "Capital.com venue");
  qt::TradingApp app(std::move(*config));
  if (absl::Status s = app.build({qt::process_environment(), live, &stop_signals}); !s.ok()) {
    if (absl::IsCancelled(s)) {  // asked to stop before anything traded: a clean stop
      spdlog::info("{}; nothing was started", std::string(s.message()));
      return 0;
    }
    spdlog::error("start-up failed: {}", std::string(s.message()));
    return 1;
  }
  absl::StatusOr<qt::RunSummary> summary = app.run({duration_seconds}, stop_signals);
  if (!summary.ok()) {
    spdlog::error("run failed: {}", std::string(summary.status().message()));
    return 1;
  }
  if (summary->journal_failed) {
    spdlog::error("exiting with {}: the journal failed during this run (see JOURNAL FAILED above)",
                  qt::kExitJournalFailed);
    return qt::kExitJournalFailed;
  }
  return 0;
}

int show_config_command(const CommonFlags& flags) {
  absl::StatusOr<qt::ShownConfig> shown = qt::render_show_config(sources_of(flags));
  if (!shown.ok()) return report_config_errors(shown.status());
  std::cout << shown->text;
  return shown->capital_settings_valid ? 0 : 2;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App cli{"quanttrading: low-latency trading engine and order gateway for Capital.com"};
  cli.require_subcommand(1);

  CommonFlags run_flags;
  double duration_seconds = 0;
  CLI::App* run = cli.add_subcommand("run", "start the engine");
  add_common_flags(*run, run_flags);
  run->add_option("-d,--duration", duration_seconds, "stop after this many seconds (0 = never)")
      ->check(CLI::NonNegativeNumber);
  bool live = false;
  run->add_flag("--live", live,
                "trade on the LIVE Capital.com environment (default: demo; or CAPITAL_ENV=live)");

  qt::sim::SimOptions sim_options;
  CLI::App* sim = qt::sim::add_sim_subcommand(cli, sim_options);

  qt::CheckCapitalOptions check_options;
  CLI::App* check = qt::add_check_capital_subcommand(cli, check_options);

  CommonFlags show_flags;
  CLI::App* show =
      cli.add_subcommand("show-config", "print the effective configuration with secrets masked");
  add_common_flags(*show, show_flags);

  qt::JournalCommandOptions journal_options;
  CLI::App* journal = qt::add_journal_subcommand(cli, journal_options);
  qt::JournalReplayOptions replay_options;
  qt::add_journal_replay_subcommand(*journal, replay_options);
  qt::SnapshotCommandOptions snapshot_options;
  CLI::App* snapshot = qt::add_snapshot_subcommand(cli, snapshot_options);

  qt::BackupCommandOptions backup_options;
  CLI::App* backup = qt::add_backup_subcommand(cli, backup_options);
  qt::RestoreCommandOptions restore_options;
  CLI::App* restore = qt::add_restore_subcommand(cli, restore_options);

  qt::ReconcileOptions reconcile_options;
  qt::add_reconcile_subcommand(cli, reconcile_options);
  qt::OrdersResolveOptions resolve_options;
  qt::add_orders_subcommand(cli, resolve_options);

  CLI11_PARSE(cli, argc, argv);
  if (run->parsed()) return run_command(run_flags, duration_seconds, live);
  if (sim->parsed()) return qt::sim::run_sim_command(sim_options);
  if (check->parsed()) {
    (void)qt::setup_logging("warn", "text");
    return qt::run_check_capital(check_options, qt::process_environment());
  }
  if (show->parsed()) return show_config_command(show_flags);
  if (replay_options.requested) {
    (void)qt::setup_logging("warn", "text");
    return qt::run_journal_replay_command(replay_options, qt::process_environment(), std::cout,
                                          std::cerr);
  }
  if (snapshot->parsed()) {
    (void)qt::setup_logging("warn", "text");
    return qt::run_snapshot_verify_command(snapshot_options, qt::process_environment(), std::cout,
                                           std::cerr);
  }
  if (journal_options.action != qt::JournalCommandOptions::Action::kNone) {
    (void)qt::setup_logging("warn", "text");
    return qt::run_journal_command(journal_options, qt::process_environment(), std::cout,
                                   std::cerr);
  }
  if (reconcile_options.requested) {
    (void)qt::setup_logging("warn", "text");
    return qt::run_reconcile_command(reconcile_options, qt::process_environment(), std::cout,
                                     std::cerr);
  }
  if (resolve_options.requested) {
    (void)qt::setup_logging("warn", "text");
    return qt::run_orders_resolve_command(resolve_options, qt::process_environment(), std::cout,
                                          std::cerr);
  }
  if (backup->parsed() || restore->parsed()) {
    (void)qt::setup_logging("warn", "text");
    return backup->parsed() ? qt::run_backup_command(backup_options, qt::process_environment(),
                                                     std::cout, std::cerr)
                            : qt::run_restore_command(restore_options, std::cout, std::cerr);
  }
  return 1;
}
