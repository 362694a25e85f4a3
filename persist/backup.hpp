// Backup and restore of a data directory (layout: persist/data_dir.hpp; backup folder layout and
// manifest: persist/backup_manifest.hpp), to a local directory or to S3 through the aws CLI.
//
// create_backup() runs beside a live engine and never takes the data-directory lock. It takes a
// consistent point without stopping anything:
//  - the journal: every segment file is copied in sequence order (sealed segments are immutable;
//    the active one is being appended through a shared mapping). The copy is then cut at the
//    first segment that is not sealed (anything copied after it began later than that segment's
//    copy, so it is dropped), its torn tail — the record being written while it was copied — is
//    zeroed by recover_journal() on the COPY, and verify_journal() of the copy must be clean.
//    The backup point is the copy's last valid record: every record the engine had made durable
//    before the copy of the active segment started is in it.
//  - the newest snapshot that the copied journal covers (its sequence is within the copy's range,
//    or the copy is the whole journal from sequence 1); snapshots are written by rename, so the
//    file opened is complete. Should the engine prune segments or snapshots in between, the
//    attempt is repeated (a few times) rather than producing a backup with a gap.
//  - the effective configuration text the caller passes (already secrets-masked), and optionally
//    a logs directory.
// The folder is assembled under a temporary name and renamed into place (local) or uploaded
// (S3) before `latest` is replaced; only then does retention run, and it never deletes the folder
// just written nor the one `latest` names.
//
// restore_backup() downloads or copies the backup into a staging directory beside the target,
// verifies the size and SHA-256 of every manifest entry there (and that nothing else is there)
// BEFORE it touches the target, refuses a target held by a running engine (DataDirLock) or one
// that already holds data unless `force` (then the old journal/ and snapshots/ are moved into
// <data_dir>/pre-restore-<UTC time>/, never deleted), holds the lock while it moves the files
// into place, and finally verifies the restored journal.
//
// Both block the calling thread, allocate and do file and process I/O: commands only.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "persist/backup_manifest.hpp"
#include "persist/journal_reader.hpp"

namespace qt::persist {

struct BackupOptions {
  std::filesystem::path data_dir;
  std::string destination;            // a local directory, or s3://bucket/prefix
  std::string effective_config_toml;  // stored as config/effective-config.toml; must be masked
  std::optional<std::filesystem::path> logs_dir;  // copied under logs/ when set
  int keep_days = 30;                             // retention; 0 keeps every backup
  std::string endpoint_url;                       // S3 endpoint (MinIO, s3rver); empty for AWS
  std::filesystem::path staging_dir;  // S3: where the folder is assembled; empty = system temp
  // Optional check of a snapshot file (the snapshot module's own validation); a snapshot that
  // fails it is skipped in favour of an older one.
  std::function<absl::Status(const std::filesystem::path&)> validate_snapshot;
  // The clock that names the backup and ages the old ones (tests move it).
  std::function<std::chrono::system_clock::time_point()> now = std::chrono::system_clock::now;
};

struct BackupResult {
  std::string name;      // the folder name
  std::string location;  // its full path or s3:// URI
  BackupManifest manifest;
  VerifyReport journal_report;  // of the journal as stored in the backup
  std::vector<std::string> removed_by_retention;
  double duration_seconds = 0;
  int copy_attempts = 1;  // copies of the journal until one was consistent (see above)
};

absl::StatusOr<BackupResult> create_backup(const BackupOptions& options);

struct RestoreOptions {
  // A backup folder (holding manifest.json), a backup root (its `latest` names the folder), or
  // s3://bucket/prefix (via its `latest`) or s3://bucket/prefix/<name>.
  std::string source;
  std::filesystem::path data_dir;
  bool force = false;
  std::string endpoint_url;
  std::filesystem::path staging_dir;  // empty = "<parent of data_dir>/.<name>.restore-<pid>"
  std::function<std::chrono::system_clock::time_point()> now = std::chrono::system_clock::now;
};

struct RestoreResult {
  std::string name;  // of the backup restored
  BackupManifest manifest;
  VerifyReport journal_report;        // verify_journal() of the restored journal
  std::filesystem::path moved_aside;  // where --force put the previous data ("" if nothing)
  double duration_seconds = 0;
};

absl::StatusOr<RestoreResult> restore_backup(const RestoreOptions& options);

// Deletes the backup folders under `destination` whose name-encoded time is more than keep_days
// before now, except `keep` and the folder that `latest` names; folders whose name is not a
// backup name are never touched. Returns the names deleted. keep_days 0 deletes nothing.
absl::StatusOr<std::vector<std::string>> apply_retention(const std::string& destination,
                                                         int keep_days, const std::string& keep,
                                                         std::chrono::system_clock::time_point now,
                                                         const std::string& endpoint_url = {});

// Where the data lives inside a backup folder, and the entries a restore moves into the data
// directory (relative to it): "journal", "snapshots".
std::vector<std::string> restored_data_entries();

}  // namespace qt::persist
