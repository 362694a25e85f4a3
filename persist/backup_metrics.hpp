// The outcome of every backup and restore, as a Prometheus textfile-collector file that
// node_exporter (--collector.textfile.directory) serves, so an alert can fire when the nightly
// backup is missing or failed:
//
//   quanttrading_backup_last_success_timestamp_seconds   end of the last successful backup
//   quanttrading_backup_last_failure_timestamp_seconds   end of the last failed backup (0 = never)
//   quanttrading_backup_last_duration_seconds            duration of the last successful backup
//   quanttrading_backup_last_bytes / _last_files         size of the last successful backup
//   quanttrading_backup_success                          1 if the most recent backup succeeded
//   quanttrading_restore_...                             the same six for restores
//
// Backup and restore share one file: a run rewrites its own six samples and keeps the other
// operation's (and its own last success, when it fails) from the previous file.
//
// Guarantees: the file is replaced atomically (temp file in the same directory, fsync, rename,
// fsync of the directory), so the collector never reads half a file; concurrent writers are
// serialised with a flock on the directory. Allocates; for commands only.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>

#include "absl/status/status.h"

namespace qt::persist {

enum class BackupOperation { kBackup, kRestore };

struct BackupRunOutcome {
  BackupOperation operation = BackupOperation::kBackup;
  bool success = false;
  double finished_unix_seconds = 0;
  double duration_seconds = 0;
  uint64_t bytes = 0;
  uint64_t files = 0;
};

// Reads the previous file (if any), applies the outcome, writes the result atomically.
absl::Status record_backup_outcome(const std::filesystem::path& metrics_file,
                                   const BackupRunOutcome& outcome);

// The text of the file for these sample values (name -> value), every known metric with its
// HELP and TYPE lines; missing values are 0. Exposed for tests.
std::string render_backup_metrics(const std::map<std::string, double>& values);

// The samples of a file written by render_backup_metrics (comments and unknown lines ignored).
std::map<std::string, double> parse_backup_metrics(const std::string& text);

}  // namespace qt::persist
