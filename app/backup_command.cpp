// The backup and restore subcommands; see backup_command.hpp.
#include "app/backup_command.hpp"

#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <ostream>
#include <sstream>

#include "app/config.hpp"
#include "app/config_flags.hpp"
#include "app/show_config.hpp"
#include "persist/backup.hpp"
#include "persist/backup_metrics.hpp"
#include "persist/data_dir.hpp"
#include "persist/snapshot.hpp"

namespace qt {
namespace {

std::filesystem::path metrics_path(const std::string& configured,
                                   const std::filesystem::path& data_dir) {
  if (!configured.empty()) return configured;
  return data_dir / "metrics" / "backup.prom";
}

double unix_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// Every line commented out, so the stored file is still a TOML document.
std::string as_comment(std::string_view text) {
  std::string out;
  std::istringstream lines{std::string(text)};
  for (std::string line; std::getline(lines, line);) out += "# " + line + "\n";
  return out;
}

void record(const std::filesystem::path& file, persist::BackupRunOutcome outcome, std::ostream& out,
            std::ostream& err) {
  if (absl::Status s = persist::record_backup_outcome(file, outcome); !s.ok()) {
    err << "warning: could not write the metrics file: " << s.message() << "\n";
  } else {
    out << "metrics: " << file.string() << "\n";
  }
}

}  // namespace

CLI::App* add_backup_subcommand(CLI::App& app, BackupCommandOptions& options) {
  CLI::App* command = app.add_subcommand(
      "backup",
      "back up the data directory (journal up to its durable end, newest snapshot, masked "
      "config) to a directory or S3, while the engine runs");
  command->add_option("--to", options.to, "destination: a directory or s3://bucket/prefix")
      ->required();
  command->add_option("--include-logs", options.include_logs, "also copy this log directory")
      ->check(CLI::ExistingDirectory);
  command
      ->add_option("--keep-days", options.keep_days,
                   "delete backups older than this many days (0 = keep all)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  command->add_option("--endpoint-url", options.endpoint_url,
                      "S3 endpoint (MinIO, s3rver, ...); AWS_* variables are honoured as usual");
  command->add_option("--metrics-file", options.metrics_file,
                      "Prometheus textfile to update (default <data_dir>/metrics/backup.prom)");
  add_config_flags(*command, options.config_file, options.sets, options.data_dir);
  return command;
}

CLI::App* add_restore_subcommand(CLI::App& app, RestoreCommandOptions& options) {
  CLI::App* command = app.add_subcommand(
      "restore",
      "restore a backup into a data directory after verifying every checksum, then verify "
      "the journal");
  command
      ->add_option("--from", options.from,
                   "a backup folder, a backup directory (uses its `latest`), "
                   "s3://bucket/prefix (uses `latest`) or s3://bucket/prefix/NAME")
      ->required();
  command->add_option("--data-dir", options.data_dir, "the data directory to restore into")
      ->required();
  command->add_flag("--force", options.force,
                    "restore over a data directory that holds data (its contents are moved "
                    "into <data_dir>/pre-restore-<time>/)");
  command->add_option("--endpoint-url", options.endpoint_url, "S3 endpoint, as for backup");
  command->add_option("--metrics-file", options.metrics_file,
                      "Prometheus textfile to update (default <data_dir>/metrics/backup.prom)");
  return command;
}

int run_backup_command(const BackupCommandOptions& options,
                       const std::vector<std::string>& environment, std::ostream& out,
                       std::ostream& err) {
  const auto started = std::chrono::steady_clock::now();
  ConfigSources sources;
  sources.file_path = options.config_file;
  sources.set_overrides = options.sets;
  sources.environment = environment;

  persist::BackupOptions backup;
  // A snapshot goes into a backup only if it decodes with every check and covers the sequence
  // its name says; otherwise an older one (or none, when the journal reaches back to 1) does.
  backup.validate_snapshot = [](const std::filesystem::path& path) -> absl::Status {
    absl::StatusOr<persist::DecodedSnapshot> decoded = persist::decode_snapshot_file(path);
    if (!decoded.ok()) return decoded.status();
    const std::optional<uint64_t> named =
        persist::parse_snapshot_file_name(path.filename().string());
    if (!named || *named != decoded->info.journal_sequence) {
      return absl::DataLossError(fmt::format("snapshot {}: covers sequence {}, not its name's",
                                             path.string(), decoded->info.journal_sequence));
    }
    return absl::OkStatus();
  };
  backup.destination = options.to;
  backup.keep_days = options.keep_days;
  backup.endpoint_url = options.endpoint_url;
  if (!options.include_logs.empty()) backup.logs_dir = options.include_logs;

  std::string data_dir = options.data_dir;
  absl::StatusOr<ShownConfig> shown = render_show_config(sources);
  if (shown.ok()) {
    backup.effective_config_toml = shown->text;
  } else {
    // The data matters more than a configuration typo: back up anyway, and say so.
    err << "warning: the configuration does not load; the backup stores its errors instead:\n"
        << shown.status().message() << "\n";
    backup.effective_config_toml =
        "# The configuration did not load when this backup was taken:\n" +
        as_comment(std::string(shown.status().message()));
  }
  if (data_dir.empty()) {
    // Where the data is comes from the configuration; without a loadable one we cannot know.
    absl::StatusOr<AppConfig> config = load_config(sources);
    if (!config.ok()) {
      err << "configuration errors (give --data-dir to back up regardless):\n"
          << config.status().message() << "\n";
      return 2;
    }
    data_dir = config->data_dir;
  }
  backup.data_dir = data_dir;
  const std::filesystem::path metrics = metrics_path(options.metrics_file, backup.data_dir);

  absl::StatusOr<persist::BackupResult> result = persist::create_backup(backup);
  const double duration =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (!result.ok()) {
    err << "backup failed: " << result.status().message() << "\n";
    record(metrics, {persist::BackupOperation::kBackup, false, unix_now(), duration, 0, 0}, out,
           err);
    return 1;
  }
  const persist::BackupManifest& manifest = result->manifest;
  out << fmt::format("backup {} written to {}\n", result->name, result->location);
  out << fmt::format("  journal: {} records, sequences {}..{}, {} segment(s)\n",
                     manifest.journal_records, manifest.journal_first_sequence,
                     manifest.journal_last_sequence, result->journal_report.segments.size());
  out << fmt::format("  snapshot: {}\n",
                     manifest.snapshot_sequence
                         ? fmt::format("sequence {}", *manifest.snapshot_sequence)
                         : std::string("none"));
  out << fmt::format("  files: {}, bytes: {}, duration: {:.3f} s\n", manifest.files.size(),
                     manifest.total_bytes(), duration);
  if (options.keep_days > 0) {
    out << fmt::format("  retention (--keep-days {}): ", options.keep_days);
    if (result->removed_by_retention.empty()) {
      out << "nothing to remove\n";
    } else {
      out << "removed";
      for (const std::string& name : result->removed_by_retention) out << " " << name;
      out << "\n";
    }
  }
  record(metrics,
         {persist::BackupOperation::kBackup, true, unix_now(), duration, manifest.total_bytes(),
          manifest.files.size()},
         out, err);
  return 0;
}

int run_restore_command(const RestoreCommandOptions& options, std::ostream& out,
                        std::ostream& err) {
  const auto started = std::chrono::steady_clock::now();
  persist::RestoreOptions restore;
  restore.source = options.from;
  restore.data_dir = options.data_dir;
  restore.force = options.force;
  restore.endpoint_url = options.endpoint_url;
  const std::filesystem::path metrics = metrics_path(options.metrics_file, restore.data_dir);

  absl::StatusOr<persist::RestoreResult> result = persist::restore_backup(restore);
  const double duration =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (!result.ok()) {
    err << "restore failed: " << result.status().message() << "\n";
    record(metrics, {persist::BackupOperation::kRestore, false, unix_now(), duration, 0, 0}, out,
           err);
    return 1;
  }
  const persist::BackupManifest& manifest = result->manifest;
  out << fmt::format("restored backup {} (taken {} on {}) into {}\n", result->name,
                     manifest.created_utc, manifest.hostname, options.data_dir);
  out << fmt::format("  verified {} files, {} bytes (SHA-256)\n", manifest.files.size(),
                     manifest.total_bytes());
  if (!result->moved_aside.empty()) {
    out << "  previous contents moved to " << result->moved_aside.string() << "\n";
  }
  out << "journal verify:\n" << result->journal_report.to_text();
  if (!result->journal_report.to_text().ends_with('\n')) out << "\n";
  absl::StatusOr<std::vector<persist::SnapshotFile>> snapshots =
      persist::list_snapshots(options.data_dir);
  if (snapshots.ok()) {
    for (const persist::SnapshotFile& snapshot : *snapshots) {
      absl::StatusOr<persist::DecodedSnapshot> decoded =
          persist::decode_snapshot_file(snapshot.path);
      out << fmt::format("snapshot {}: {}\n", snapshot.sequence,
                         decoded.ok() ? fmt::format("valid, {} orders", decoded->info.order_count)
                                      : std::string(decoded.status().message()));
    }
  }
  record(metrics,
         {persist::BackupOperation::kRestore, true, unix_now(), duration, manifest.total_bytes(),
          manifest.files.size()},
         out, err);
  return 0;
}

}  // namespace qt
