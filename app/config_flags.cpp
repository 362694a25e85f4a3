#include "app/config_flags.hpp"

#include <CLI/CLI.hpp>

namespace qt {

void add_config_flags(CLI::App& command, std::string& config_file, std::vector<std::string>& sets,
                      std::string& data_dir) {
  command.add_option("-c,--config", config_file, "TOML configuration file")
      ->check(CLI::ExistingFile);
  command.add_option("--set", sets,
                     "override one key, e.g. --set risk.max_order_notional=5000 (repeatable)");
  command.add_option("--data-dir", data_dir,
                     "the data directory: journal, snapshots, lock (default: persist.data_dir of "
                     "the configuration)");
}

}  // namespace qt
