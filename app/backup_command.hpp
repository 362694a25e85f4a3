// `quanttrading backup` and `quanttrading restore`: the command-line face of persist/backup.hpp.
//
//   quanttrading backup --to DIR|s3://bucket/prefix [--data-dir D] [--include-logs DIR]
//                       [--keep-days N] [--endpoint-url URL] [--metrics-file PATH]
//                       [-c config.toml] [--set k=v]...
//   quanttrading restore --from DIR|s3://bucket/prefix[/NAME] --data-dir D [--force]
//                        [--endpoint-url URL] [--metrics-file PATH]
//
// backup runs beside a live engine (it never takes the data-directory lock), includes the
// newest snapshot that decodes with every check (persist/snapshot.hpp) and that the journal copy
// covers, and stores the configuration exactly as show-config prints it (secrets masked). restore
// verifies every checksum before it touches the target, refuses a target a running engine holds,
// and prints `journal verify` of the result and the check of each restored snapshot. Both record
// their outcome in the Prometheus textfile (default <data_dir>/metrics/backup.prom) whether they
// succeed or fail, and exit non-zero on failure with the reason on stderr (for S3, the aws CLI's
// own message).
//
// Command use only: blocks, allocates, spawns the aws CLI.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace qt {

struct BackupCommandOptions {
  std::string config_file;        // -c/--config, as for run (for the stored configuration)
  std::vector<std::string> sets;  // --set overrides, as for run
  std::string to;                 // --to
  std::string data_dir;           // --data-dir; empty = persist.data_dir of the configuration
  std::string include_logs;       // --include-logs DIR
  int keep_days = 30;             // --keep-days; 0 keeps every backup
  std::string endpoint_url;       // --endpoint-url
  std::string metrics_file;       // --metrics-file; empty = <data_dir>/metrics/backup.prom
};

struct RestoreCommandOptions {
  std::string from;          // --from
  std::string data_dir;      // --data-dir (required)
  bool force = false;        // --force: restore over a data directory that holds data
  std::string endpoint_url;  // --endpoint-url
  std::string metrics_file;  // --metrics-file; empty = <data_dir>/metrics/backup.prom
};

CLI::App* add_backup_subcommand(CLI::App& app, BackupCommandOptions& options);
CLI::App* add_restore_subcommand(CLI::App& app, RestoreCommandOptions& options);

// Exit codes: 0 success, 1 failure (reason on `err`), 2 configuration errors.
int run_backup_command(const BackupCommandOptions& options,
                       const std::vector<std::string>& environment, std::ostream& out,
                       std::ostream& err);
int run_restore_command(const RestoreCommandOptions& options, std::ostream& out, std::ostream& err);

}  // namespace qt
