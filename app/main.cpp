// quanttrading: the one binary. Subcommands:
//   run            start the engine (embedded default: the Capital.com client against the
//                  built-in simulator on loopback, two example strategies)
//   sim            run the Capital.com simulator alone
//   check-capital  connection test against the broker (or the built-in simulator)
//   show-config    print the effective configuration (secrets masked) or every config error
//   journal        dump, verify or show statistics of the journal (read-only)
#include <signal.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>
#include <sstream>

#include "app/check_capital.hpp"
#include "app/config.hpp"
#include "app/journal_command.hpp"
#include "app/logging.hpp"
#include "app/trading_app.hpp"
#include "gateway/capital/client_config.hpp"
#include "sim/sim_command.hpp"

namespace {

struct CommonFlags {
  std::string config_file;
  std::vector<std::string> sets;
  std::string log_format;
  std::string log_level;
};

void add_common_flags(CLI::App& command, CommonFlags& flags) {
  command.add_option("-c,--config", flags.config_file, "TOML configuration file")
      ->check(CLI::ExistingFile);
  command.add_option("--set", flags.sets,
                     "override one key, e.g. --set risk.max_order_notional=5000 (repeatable)");
  command.add_option("--log-format", flags.log_format, "text or json (overrides log.format)");
  command.add_option("--log-level", flags.log_level, "overrides log.level");
}

qt::ConfigSources sources_of(const CommonFlags& flags) {
  qt::ConfigSources sources;
  sources.file_path = flags.config_file;
  sources.environment = qt::process_environment();
  sources.set_overrides = flags.sets;
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
  if (absl::Status s = qt::setup_logging(config->log_level, config->log_format); !s.ok()) {
    return report_config_errors(s);
  }
  const bool paper = config->venue_kind == "paper";
  spdlog::info("quanttrading starting: {}",
               paper ? "paper venue and simulated random-walk feed on this host (no broker)"
                     : "Capital.com venue");
  qt::TradingApp app(std::move(*config));
  if (absl::Status s = app.build({qt::process_environment(), live}); !s.ok()) {
    spdlog::error("start-up failed: {}", std::string(s.message()));
    return 1;
  }
  absl::StatusOr<qt::RunSummary> summary = app.run({duration_seconds}, stop_signals);
  if (!summary.ok()) {
    spdlog::error("run failed: {}", std::string(summary.status().message()));
    return 1;
  }
  spdlog::default_logger()->flush();
  return 0;
}

int show_config_command(const CommonFlags& flags) {
  const qt::ConfigSources sources = sources_of(flags);
  absl::StatusOr<qt::AppConfig> config = qt::load_config(sources);
  if (!config.ok()) return report_config_errors(config.status());
  absl::StatusOr<std::string> rendered = qt::render_effective_config(sources);
  if (!rendered.ok()) return report_config_errors(rendered.status());
  std::cout << *rendered;
  // The broker connection comes from the seed's CAPITAL_* variables; show it, masked.
  absl::StatusOr<qt::capital::CapitalClientConfig> capital =
      qt::capital::capital_config_from_env(sources.environment, /*live_flag=*/false);
  std::cout << "\n# Capital.com client, from the environment (CAPITAL_*, API_TIMEOUT, ...):\n";
  if (!capital.ok()) {
    std::cout << "# errors:\n# " << std::string(capital.status().message()) << "\n";
    return 2;
  }
  std::istringstream lines(qt::capital::describe_masked(*capital));
  for (std::string line; std::getline(lines, line);) std::cout << "# " << line << "\n";
  if (!capital->has_credentials()) {
    std::cout << "# no credentials: `run` and `check-capital` use the built-in simulator\n";
  }
  return 0;
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
  qt::add_journal_subcommand(cli, journal_options);

  CLI11_PARSE(cli, argc, argv);
  if (run->parsed()) return run_command(run_flags, duration_seconds, live);
  if (sim->parsed()) return qt::sim::run_sim_command(sim_options);
  if (check->parsed()) {
    (void)qt::setup_logging("warn", "text");
    return qt::run_check_capital(check_options, qt::process_environment());
  }
  if (show->parsed()) return show_config_command(show_flags);
  if (journal_options.action != qt::JournalCommandOptions::Action::kNone) {
    (void)qt::setup_logging("warn", "text");
    return qt::run_journal_command(journal_options, qt::process_environment(), std::cout,
                                   std::cerr);
  }
  return 1;
}
