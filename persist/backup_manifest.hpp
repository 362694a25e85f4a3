// The manifest of one backup (manifest.json at the top of the backup folder): what was backed
// up, from where, when, the journal range it covers, and the size and SHA-256 of every file, so
// that a restore can prove each file is the one that was written before it touches anything.
//
// A backup folder:
//   <dest>/<name>/manifest.json                    this manifest (not listed in itself)
//   <dest>/<name>/data/journal/segment-*.qtj        the journal up to the backup point
//   <dest>/<name>/data/snapshots/snapshot-*.qts     the newest snapshot the journal covers
//   <dest>/<name>/config/effective-config.toml      the effective configuration, secrets masked
//   <dest>/<name>/logs/...                          optional (--include-logs)
//   <dest>/latest                                   "<name>\n", written last
// <name> is the UTC start time, "2026-11-25T02-00-00Z" (colons are not portable in file names
// or comfortable in S3 keys), with "-2", "-3", ... appended if that name is taken.
//
// Guarantees: to_json/parse_manifest round-trip; parse_manifest rejects paths that are absolute
// or climb out of the folder ("..") so a hostile manifest cannot make restore write elsewhere.
// sha256_file streams (64 KiB buffer). Allocates; for commands only.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace qt::persist {

inline constexpr int kBackupManifestVersion = 1;
inline constexpr std::string_view kManifestFileName = "manifest.json";
inline constexpr std::string_view kLatestFileName = "latest";
inline constexpr std::string_view kBackupDataDir = "data";
inline constexpr std::string_view kBackupConfigFile = "config/effective-config.toml";
inline constexpr std::string_view kBackupLogsDir = "logs";

struct ManifestFile {
  std::string path;  // relative to the backup folder, '/'-separated
  uint64_t size = 0;
  std::string sha256;  // lower-case hex
};

struct BackupManifest {
  int format_version = kBackupManifestVersion;
  std::string name;         // the folder name
  std::string created_utc;  // ISO 8601, "2026-11-25T02:00:00.123Z" (start of the backup)
  int64_t created_unix_ms = 0;
  std::string hostname;
  std::string source_data_dir;
  uint64_t journal_first_sequence = 0;  // 0/0 when the journal holds no record
  uint64_t journal_last_sequence = 0;   // the backup point
  uint64_t journal_records = 0;
  std::optional<uint64_t> snapshot_sequence;  // the snapshot included, if any
  std::vector<ManifestFile> files;            // sorted by path

  uint64_t total_bytes() const;
};

std::string to_json(const BackupManifest& manifest);
absl::StatusOr<BackupManifest> parse_manifest(std::string_view json);

struct FileDigest {
  uint64_t size = 0;
  std::string sha256;  // lower-case hex
};
absl::StatusOr<FileDigest> sha256_file(const std::filesystem::path& path);
std::string sha256_hex(std::string_view bytes);

// The folder name for a start time: "2026-11-25T02-00-00Z".
std::string backup_name_for(std::chrono::system_clock::time_point time);
// The start time a folder name carries (with or without a "-N" suffix), or nullopt when the name
// is not a backup folder name; retention only ever deletes folders whose name parses.
std::optional<std::chrono::system_clock::time_point> parse_backup_name(std::string_view name);

}  // namespace qt::persist
