// The flags that choose the configuration, named and described once for every subcommand that
// reads it (run, show-config, journal, snapshot, backup):
//   -c/--config FILE   a TOML file over the embedded default
//   --set key=value    one key over the file and the QT_* environment (repeatable)
//   --data-dir DIR     the data directory (journal, snapshots, lock): persist.data_dir
#pragma once

#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace qt {

void add_config_flags(CLI::App& command, std::string& config_file, std::vector<std::string>& sets,
                      std::string& data_dir);

}  // namespace qt
