// quanttrading: the one binary. Subcommands:
//   run          start the engine (embedded default: simulated feed, paper venue, two strategies)
//   show-config  print the effective configuration (secrets masked) or every config error
#include <signal.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>

#include "app/config.hpp"
#include "app/logging.hpp"
#include "app/trading_app.hpp"

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

int run_command(const CommonFlags& flags, double duration_seconds) {
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
  spdlog::info(
      "quanttrading starting: simulated random-walk feed and paper venue on this host "
      "(no broker connection)");
  qt::TradingApp app(std::move(*config));
  if (absl::Status s = app.build(); !s.ok()) {
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

  CommonFlags show_flags;
  CLI::App* show =
      cli.add_subcommand("show-config", "print the effective configuration with secrets masked");
  add_common_flags(*show, show_flags);

  CLI11_PARSE(cli, argc, argv);
  if (run->parsed()) return run_command(run_flags, duration_seconds);
  if (show->parsed()) return show_config_command(show_flags);
  return 1;
}
