// Backup and restore; see backup.hpp for the consistency argument and the restore rules.
#include "persist/backup.hpp"

#include <errno.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <system_error>
#include <thread>

#include "persist/atomic_file.hpp"
#include "persist/data_dir.hpp"
#include "persist/s3_cli.hpp"
#include "persist/segment_format.hpp"

namespace qt::persist {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::system_clock;

// How often the consistent-point copy is retried when the engine moved under it (a segment
// renamed or pruned, a snapshot replaced) before the backup gives up.
constexpr int kCopyAttempts = 5;
constexpr std::size_t kCopyChunk = 1 << 20;
constexpr std::string_view kRestoredInfoDir = "restored-backup";
constexpr std::string_view kMetricsDirName = "metrics";

std::string errno_text(int error) {
  return std::error_code(error, std::generic_category()).message();
}

absl::Status io_error(std::string_view what, const fs::path& path, int error) {
  return absl::UnavailableError(fmt::format("{} {}: {}", what, path.string(), errno_text(error)));
}

std::string iso_utc(Clock::time_point time) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(time.time_since_epoch());
  const std::time_t seconds = static_cast<std::time_t>(ms.count() / 1000);
  std::tm utc{};
  ::gmtime_r(&seconds, &utc);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", utc.tm_year + 1900,
                     utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec,
                     ms.count() % 1000);
}

double seconds_between(std::chrono::steady_clock::time_point from,
                       std::chrono::steady_clock::time_point to) {
  return std::chrono::duration<double>(to - from).count();
}

std::string host_name() {
  char buffer[256] = {};
  if (::gethostname(buffer, sizeof(buffer) - 1) != 0) return "unknown";
  return buffer;
}

// Removes a directory tree, ignoring errors: used on staging areas only.
void remove_quietly(const fs::path& path) {
  std::error_code ignored;
  fs::remove_all(path, ignored);
}

// Copies a regular file. All-zero chunks become holes (a preallocated journal segment is mostly
// zeros), the size is preserved exactly. NotFound when the source vanished (renamed or pruned by
// the engine meanwhile). Not fsynced here: fsync_tree() does every file of a folder at the end,
// when most pages are already written back, instead of one stall per file mid-copy.
absl::StatusOr<uint64_t> copy_file_contents(const fs::path& from, const fs::path& to) {
  const int in = ::open(from.c_str(), O_RDONLY | O_CLOEXEC);
  if (in < 0) {
    if (errno == ENOENT) return absl::NotFoundError(fmt::format("{} vanished", from.string()));
    return io_error("cannot open", from, errno);
  }
  std::error_code ec;
  create_private_directories(to.parent_path(), ec);
  const int out = ::open(to.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, kDataFileMode);
  if (out < 0) {
    const int error = errno;
    ::close(in);
    return io_error("cannot create", to, error);
  }
  std::vector<char> buffer(kCopyChunk);
  uint64_t size = 0;
  absl::Status status;
  for (;;) {
    const ssize_t n = ::read(in, buffer.data(), buffer.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      status = io_error("cannot read", from, errno);
      break;
    }
    if (n == 0) break;
    const bool zeros =
        std::all_of(buffer.begin(), buffer.begin() + n, [](char c) { return c == 0; });
    if (zeros) {
      if (::lseek(out, n, SEEK_CUR) < 0) {
        status = io_error("cannot seek in", to, errno);
        break;
      }
    } else {
      ssize_t written = 0;
      while (written < n) {
        const ssize_t w =
            ::write(out, buffer.data() + written, static_cast<std::size_t>(n - written));
        if (w < 0) {
          if (errno == EINTR) continue;
          status = io_error("cannot write", to, errno);
          break;
        }
        written += w;
      }
      if (!status.ok()) break;
    }
    size += static_cast<uint64_t>(n);
  }
  if (status.ok() && ::ftruncate(out, static_cast<off_t>(size)) != 0) {
    status = io_error("cannot size", to, errno);
  }
  ::close(in);
  ::close(out);
  if (!status.ok()) return status;
  return size;
}

// Copies every regular file under `from` to the same relative path under `to`.
absl::StatusOr<uint64_t> copy_tree(const fs::path& from, const fs::path& to) {
  std::error_code ec;
  if (!fs::is_directory(from, ec)) {
    return absl::NotFoundError(fmt::format("{} is not a directory", from.string()));
  }
  uint64_t files = 0;
  for (fs::recursive_directory_iterator it(from, ec), end; !ec && it != end; it.increment(ec)) {
    if (!it->is_regular_file(ec)) continue;
    const fs::path relative = fs::relative(it->path(), from, ec);
    absl::StatusOr<uint64_t> copied = copy_file_contents(it->path(), to / relative);
    if (!copied.ok()) return copied.status();
    ++files;
  }
  if (ec)
    return absl::UnavailableError(fmt::format("cannot list {}: {}", from.string(), ec.message()));
  return files;
}

// Every regular file under `root` except the manifest itself, with size and SHA-256, sorted.
absl::StatusOr<std::vector<ManifestFile>> hash_tree(const fs::path& root) {
  std::vector<ManifestFile> files;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(root, ec), end; !ec && it != end; it.increment(ec)) {
    if (!it->is_regular_file(ec)) continue;
    const std::string relative = fs::relative(it->path(), root, ec).generic_string();
    if (relative == kManifestFileName) continue;
    absl::StatusOr<FileDigest> digest = sha256_file(it->path());
    if (!digest.ok()) return digest.status();
    files.push_back({relative, digest->size, digest->sha256});
  }
  if (ec)
    return absl::UnavailableError(fmt::format("cannot list {}: {}", root.string(), ec.message()));
  std::sort(files.begin(), files.end(),
            [](const ManifestFile& a, const ManifestFile& b) { return a.path < b.path; });
  return files;
}

// fsync of every file and directory under root (and root), so the folder survives a crash.
absl::Status fsync_tree(const fs::path& root) {
  std::error_code ec;
  for (fs::recursive_directory_iterator it(root, ec), end; !ec && it != end; it.increment(ec)) {
    absl::Status synced =
        it->is_directory(ec) ? fsync_directory(it->path()) : fsync_file(it->path());
    if (!synced.ok()) return synced;
  }
  if (ec)
    return absl::UnavailableError(fmt::format("cannot list {}: {}", root.string(), ec.message()));
  return fsync_directory(root);
}

// The scan of a segment file as it lies on disk (the backup's own copy, never the live file).
absl::StatusOr<format::SegmentScan> scan_file(const fs::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return io_error("cannot open", path, errno);
  struct stat info {};
  if (::fstat(fd, &info) != 0) {
    const int error = errno;
    ::close(fd);
    return io_error("cannot stat", path, error);
  }
  const uint64_t size = static_cast<uint64_t>(info.st_size);
  if (size == 0) {
    ::close(fd);
    return format::scan_segment(nullptr, 0);
  }
  void* base = ::mmap(nullptr, size, PROT_READ, MAP_SHARED, fd, 0);
  const int error = errno;
  ::close(fd);
  if (base == MAP_FAILED) return io_error("cannot map", path, error);
  format::SegmentScan scan = format::scan_segment(static_cast<const std::byte*>(base), size);
  ::munmap(base, size);
  return scan;
}

// One attempt at copying the live journal in `source` into the empty directory `target` up to a
// consistent point (see backup.hpp). Unavailable means "the engine moved underneath, try again";
// DataLoss means the source journal itself is damaged.
absl::StatusOr<VerifyReport> copy_journal_once(const fs::path& source, const fs::path& target) {
  std::error_code ec;
  create_private_directories(target, ec);
  if (!fs::exists(source, ec)) return verify_journal(target);
  absl::StatusOr<std::vector<format::JournalFile>> files = format::list_journal_files(source);
  if (!files.ok()) {
    // A prepared file renamed between the listing and its header read: the engine moved on.
    return absl::UnavailableError(std::string(files.status().message()));
  }
  // A rename racing the directory listing can show one segment under both names: keep one.
  std::vector<format::JournalFile> unique;
  for (const format::JournalFile& file : *files) {
    if (!unique.empty() && unique.back().sort_key == file.sort_key) {
      if (unique.back().prepared_name && !file.prepared_name) unique.back() = file;
      continue;
    }
    unique.push_back(file);
  }
  for (const format::JournalFile& file : unique) {
    const fs::path copy = target / file.path.filename();
    absl::StatusOr<uint64_t> copied = copy_file_contents(file.path, copy);
    fs::path copied_as = copy;
    if (absl::IsNotFound(copied.status()) && file.prepared_name) {
      // The writer gave the prepared file its final name since the listing: copy it by that.
      const std::string final_name = segment_file_name(file.sort_key);
      copied_as = target / final_name;
      copied = copy_file_contents(source / final_name, copied_as);
    }
    if (absl::IsNotFound(copied.status())) {
      return absl::UnavailableError(
          fmt::format("{} was renamed or removed during the copy", file.path.string()));
    }
    if (!copied.ok()) return copied.status();
    absl::StatusOr<format::SegmentScan> scan = scan_file(copied_as);
    if (!scan.ok()) return scan.status();
    // The first segment without its seal is the active one as of this copy: anything after it
    // (the engine moved on while we copied) began later and is not part of this backup point.
    if (!scan->sealed) break;
  }
  // The copied active segment ends in the record that was being written, if any: zero it.
  absl::StatusOr<RecoveryResult> recovered = recover_journal(target);
  if (!recovered.ok()) {
    return absl::UnavailableError(fmt::format("the copy of the journal did not recover: {}",
                                              std::string(recovered.status().message())));
  }
  absl::StatusOr<VerifyReport> report = verify_journal(target);
  if (!report.ok()) return report.status();
  if (!report->clean()) {
    return absl::UnavailableError(
        fmt::format("the copy of the journal does not verify:\n{}", report->to_text()));
  }
  return report;
}

// The newest snapshot the copied journal covers, copied into target_dir; nullopt when there is
// none (allowed only when the journal copy starts at sequence 1 or is empty).
absl::StatusOr<std::optional<uint64_t>> copy_covering_snapshot(const BackupOptions& options,
                                                               const VerifyReport& journal,
                                                               const fs::path& target_dir) {
  absl::StatusOr<std::vector<SnapshotFile>> snapshots = list_snapshots(options.data_dir);
  if (!snapshots.ok()) return snapshots.status();
  const bool empty_journal = journal.records == 0;
  for (auto it = snapshots->rbegin(); it != snapshots->rend(); ++it) {
    if (!empty_journal) {
      if (it->sequence > journal.last_sequence) continue;    // journal copy ends before it
      if (journal.first_sequence > it->sequence + 1) break;  // older ones are not covered either
    }
    const fs::path copy = target_dir / it->path.filename();
    absl::StatusOr<uint64_t> copied = copy_file_contents(it->path, copy);
    if (absl::IsNotFound(copied.status())) continue;  // pruned meanwhile: try an older one
    if (!copied.ok()) return copied.status();
    if (options.validate_snapshot) {
      if (absl::Status valid = options.validate_snapshot(copy); !valid.ok()) {
        std::error_code ignored;
        fs::remove(copy, ignored);
        continue;
      }
    }
    return std::optional<uint64_t>(it->sequence);
  }
  if (empty_journal || journal.first_sequence <= 1) return std::optional<uint64_t>();
  return absl::UnavailableError(fmt::format(
      "no snapshot in {} covers the journal, which starts at sequence {} (pruned meanwhile?)",
      snapshots_dir(options.data_dir).string(), journal.first_sequence));
}

struct ConsistentPoint {
  VerifyReport journal;
  std::optional<uint64_t> snapshot_sequence;
  int attempts = 1;
};

absl::StatusOr<ConsistentPoint> copy_consistent_point(const BackupOptions& options,
                                                      const fs::path& data_target) {
  absl::Status last_error;
  for (int attempt = 1; attempt <= kCopyAttempts; ++attempt) {
    remove_quietly(data_target);
    absl::StatusOr<VerifyReport> journal =
        copy_journal_once(journal_dir(options.data_dir), data_target / kJournalDirName);
    if (!journal.ok() && attempt == 1) {
      // Damage in the source itself (not a race with the writer) is final: say so at once,
      // with the verify report of the source (read-only), instead of retrying.
      absl::StatusOr<VerifyReport> source = verify_journal(journal_dir(options.data_dir));
      if (source.ok() && source->damage.kind == DamageKind::kCorruption) {
        return absl::DataLossError(fmt::format("the journal in {} is damaged; no backup taken:\n{}",
                                               journal_dir(options.data_dir).string(),
                                               source->to_text()));
      }
    }
    if (journal.ok()) {
      absl::StatusOr<std::optional<uint64_t>> snapshot =
          copy_covering_snapshot(options, *journal, data_target / kSnapshotsDirName);
      if (snapshot.ok()) return ConsistentPoint{std::move(*journal), *snapshot, attempt};
      last_error = snapshot.status();
    } else {
      last_error = journal.status();
    }
    if (!absl::IsUnavailable(last_error)) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20 * attempt));
  }
  return absl::Status(last_error.code(),
                      fmt::format("no consistent point after {} attempts: {}", kCopyAttempts,
                                  std::string(last_error.message())));
}

// A name not yet used at the destination: the timestamp, then "-2", "-3", ...
std::string unique_name(const std::string& base, const std::set<std::string>& taken) {
  if (!taken.contains(base)) return base;
  for (int n = 2;; ++n) {
    std::string candidate = fmt::format("{}-{}", base, n);
    if (!taken.contains(candidate)) return candidate;
  }
}

std::set<std::string> local_entries(const fs::path& dir) {
  std::set<std::string> names;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    names.insert(it->path().filename().string());
  }
  return names;
}

std::string read_pointer(const fs::path& path) {
  std::ifstream in(path);
  std::string name;
  std::getline(in, name);
  while (!name.empty() && (name.back() == '\r' || name.back() == ' ')) name.pop_back();
  return name;
}

fs::path default_staging_root(const fs::path& configured) {
  if (!configured.empty()) return configured;
  std::error_code ec;
  fs::path temp = fs::temp_directory_path(ec);
  return ec ? fs::path("/tmp") : temp;
}

// Assembles the backup folder at `folder` (which must not exist) and writes its manifest.
struct AssembledBackup {
  BackupManifest manifest;
  VerifyReport journal;
  int copy_attempts = 1;
};

absl::StatusOr<AssembledBackup> assemble_backup(const BackupOptions& options,
                                                const fs::path& folder, const std::string& name,
                                                Clock::time_point started) {
  std::error_code ec;
  create_private_directories(folder, ec);
  if (ec)
    return absl::UnavailableError(
        fmt::format("cannot create {}: {}", folder.string(), ec.message()));

  absl::StatusOr<ConsistentPoint> point = copy_consistent_point(options, folder / kBackupDataDir);
  if (!point.ok()) return point.status();

  if (absl::Status s =
          write_file_atomically(folder / kBackupConfigFile, options.effective_config_toml);
      !s.ok()) {
    return s;
  }
  if (options.logs_dir) {
    absl::StatusOr<uint64_t> logs = copy_tree(*options.logs_dir, folder / kBackupLogsDir);
    if (!logs.ok()) return logs.status();
  }

  BackupManifest manifest;
  manifest.name = name;
  manifest.created_utc = iso_utc(started);
  manifest.created_unix_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(started.time_since_epoch()).count();
  manifest.hostname = host_name();
  manifest.source_data_dir = fs::absolute(options.data_dir, ec).string();
  manifest.journal_first_sequence = point->journal.first_sequence;
  manifest.journal_last_sequence = point->journal.last_sequence;
  manifest.journal_records = point->journal.records;
  manifest.snapshot_sequence = point->snapshot_sequence;
  absl::StatusOr<std::vector<ManifestFile>> files = hash_tree(folder);
  if (!files.ok()) return files.status();
  manifest.files = std::move(*files);
  if (absl::Status s = write_file_atomically(folder / kManifestFileName, to_json(manifest));
      !s.ok()) {
    return s;
  }
  if (absl::Status s = fsync_tree(folder); !s.ok()) return s;
  return AssembledBackup{std::move(manifest), std::move(point->journal), point->attempts};
}

absl::Status check_source(const fs::path& data_dir) {
  std::error_code ec;
  if (!fs::is_directory(data_dir, ec)) {
    return absl::NotFoundError(fmt::format("data directory {} does not exist", data_dir.string()));
  }
  if (!fs::exists(journal_dir(data_dir), ec) && !fs::exists(snapshots_dir(data_dir), ec)) {
    return absl::FailedPreconditionError(fmt::format(
        "nothing to back up: {} has neither journal/ nor snapshots/", data_dir.string()));
  }
  return absl::OkStatus();
}

// ---- restore ------------------------------------------------------------------------------

// Target entries that a restore may find without calling the target "in use": the lock file and
// the metrics directory (both written by our own commands).
bool holds_data(const fs::path& data_dir) {
  std::error_code ec;
  for (fs::directory_iterator it(data_dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name == kLockFileName || name == kMetricsDirName) continue;
    return true;
  }
  return false;
}

absl::Status verify_staged_backup(const fs::path& folder, const BackupManifest& manifest) {
  std::set<std::string> listed;
  for (const ManifestFile& file : manifest.files) {
    listed.insert(file.path);
    const fs::path path = folder / file.path;
    std::error_code ec;
    if (!fs::is_regular_file(path, ec)) {
      return absl::DataLossError(fmt::format(
          "backup {}: file {} is listed in the manifest but missing", manifest.name, file.path));
    }
    absl::StatusOr<FileDigest> digest = sha256_file(path);
    if (!digest.ok()) return digest.status();
    if (digest->size != file.size) {
      return absl::DataLossError(
          fmt::format("backup {}: file {} has {} bytes, the manifest says {}", manifest.name,
                      file.path, digest->size, file.size));
    }
    if (digest->sha256 != file.sha256) {
      return absl::DataLossError(
          fmt::format("backup {}: checksum mismatch for {}: sha256 {} but the manifest says {}",
                      manifest.name, file.path, digest->sha256, file.sha256));
    }
  }
  std::error_code ec;
  for (fs::recursive_directory_iterator it(folder, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->is_directory(ec)) continue;
    const std::string relative = fs::relative(it->path(), folder, ec).generic_string();
    if (relative == kManifestFileName) continue;
    if (!listed.contains(relative)) {
      return absl::DataLossError(
          fmt::format("backup {}: file {} is not listed in the manifest", manifest.name, relative));
    }
  }
  return absl::OkStatus();
}

// Moves `from` to `to` (which must not exist): a rename on the same file system, else a copy
// of the tree followed by removal of the source.
absl::Status move_tree(const fs::path& from, const fs::path& to) {
  if (::rename(from.c_str(), to.c_str()) == 0) return absl::OkStatus();
  if (errno != EXDEV) return io_error(fmt::format("cannot move {} to", from.string()), to, errno);
  absl::StatusOr<uint64_t> copied = copy_tree(from, to);
  if (!copied.ok()) return copied.status();
  remove_quietly(from);
  return absl::OkStatus();
}

struct StagedBackup {
  fs::path folder;  // the staged backup folder, holding manifest.json
  BackupManifest manifest;
};

// Fetches the backup named by `source` into `staging` and parses its manifest.
absl::StatusOr<StagedBackup> stage_backup(const RestoreOptions& options, const fs::path& staging) {
  std::error_code ec;
  create_private_directories(staging, ec);
  if (ec)
    return absl::UnavailableError(
        fmt::format("cannot create staging directory {}: {}", staging.string(), ec.message()));
  fs::path folder = staging / "backup";
  if (is_s3_uri(options.source)) {
    absl::StatusOr<S3Location> location = parse_s3_uri(options.source);
    if (!location.ok()) return location.status();
    S3Cli cli(options.endpoint_url);
    if (absl::Status s = cli.check_available(); !s.ok()) return s;
    const std::string last = location->prefix.substr(location->prefix.rfind('/') + 1);
    S3Location backup = *location;
    if (location->prefix.empty() || !parse_backup_name(last)) {
      const fs::path pointer = staging / kLatestFileName;
      absl::Status got = cli.download_file(location->child(kLatestFileName), pointer.string());
      if (absl::IsNotFound(got)) {
        return absl::NotFoundError(fmt::format(
            "no backup at {}: there is no `latest` pointer (give s3://.../<backup name>)",
            location->uri()));
      }
      if (!got.ok()) return got;
      const std::string name = read_pointer(pointer);
      if (!parse_backup_name(name)) {
        return absl::DataLossError(fmt::format("{} does not name a backup folder: '{}'",
                                               location->uri(kLatestFileName), name));
      }
      backup = location->child(name);
    }
    if (absl::Status s = cli.download_directory(backup, folder.string()); !s.ok()) return s;
    if (!fs::exists(folder / kManifestFileName, ec)) {
      return absl::NotFoundError(
          fmt::format("no backup at {}: manifest.json is missing", backup.uri()));
    }
  } else {
    fs::path source = options.source;
    if (!fs::exists(source / kManifestFileName, ec)) {
      if (!fs::exists(source / kLatestFileName, ec)) {
        return absl::NotFoundError(
            fmt::format("no backup at {}: neither manifest.json nor a `latest` pointer is there",
                        source.string()));
      }
      const std::string name = read_pointer(source / kLatestFileName);
      if (!parse_backup_name(name) || !fs::exists(source / name / kManifestFileName, ec)) {
        return absl::NotFoundError(
            fmt::format("{} names '{}', which is not a backup folder with a manifest.json",
                        (source / kLatestFileName).string(), name));
      }
      source /= name;
    }
    absl::StatusOr<uint64_t> copied = copy_tree(source, folder);
    if (!copied.ok()) return copied.status();
  }
  std::ifstream in(folder / kManifestFileName, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  absl::StatusOr<BackupManifest> manifest = parse_manifest(text.str());
  if (!manifest.ok()) return manifest.status();
  return StagedBackup{folder, std::move(*manifest)};
}

}  // namespace

std::vector<std::string> restored_data_entries() {
  return {std::string(kJournalDirName), std::string(kSnapshotsDirName)};
}

absl::StatusOr<std::vector<std::string>> apply_retention(const std::string& destination,
                                                         int keep_days, const std::string& keep,
                                                         Clock::time_point now,
                                                         const std::string& endpoint_url) {
  std::vector<std::string> removed;
  if (keep_days <= 0) return removed;
  const Clock::time_point cutoff = now - std::chrono::hours(24) * keep_days;
  if (is_s3_uri(destination)) {
    absl::StatusOr<S3Location> location = parse_s3_uri(destination);
    if (!location.ok()) return location.status();
    S3Cli cli(endpoint_url);
    absl::StatusOr<std::vector<std::string>> folders = cli.list_folders(*location);
    if (!folders.ok()) return folders.status();
    // What `latest` names is protected even when it is old (e.g. the newest backups failed).
    std::string latest;
    char pointer_template[] = "/tmp/qt-latest-XXXXXX";
    if (const int fd = ::mkstemp(pointer_template); fd >= 0) {
      ::close(fd);
      if (cli.download_file(location->child(kLatestFileName), pointer_template).ok()) {
        latest = read_pointer(pointer_template);
      }
      ::unlink(pointer_template);
    }
    for (const std::string& name : *folders) {
      const std::optional<Clock::time_point> time = parse_backup_name(name);
      if (!time || *time >= cutoff || name == keep || name == latest) continue;
      if (absl::Status s = cli.remove_recursive(location->child(name)); !s.ok()) return s;
      removed.push_back(name);
    }
    return removed;
  }
  const fs::path root = destination;
  const std::string latest = read_pointer(root / kLatestFileName);
  for (const std::string& name : local_entries(root)) {
    const std::optional<Clock::time_point> time = parse_backup_name(name);
    std::error_code ec;
    if (!time || *time >= cutoff || name == keep || name == latest) continue;
    if (!fs::is_directory(root / name, ec) || fs::is_symlink(root / name, ec)) continue;
    fs::remove_all(root / name, ec);
    if (ec) {
      return absl::UnavailableError(
          fmt::format("retention: cannot remove {}: {}", (root / name).string(), ec.message()));
    }
    removed.push_back(name);
  }
  if (!removed.empty()) (void)fsync_directory(root);
  return removed;
}

absl::StatusOr<BackupResult> create_backup(const BackupOptions& options) {
  const auto steady_start = std::chrono::steady_clock::now();
  const Clock::time_point started = options.now();
  if (options.keep_days < 0) return absl::InvalidArgumentError("--keep-days must be >= 0");
  if (absl::Status s = check_source(options.data_dir); !s.ok()) return s;

  BackupResult result;
  const std::string base_name = backup_name_for(started);
  if (is_s3_uri(options.destination)) {
    absl::StatusOr<S3Location> location = parse_s3_uri(options.destination);
    if (!location.ok()) return location.status();
    S3Cli cli(options.endpoint_url);
    if (absl::Status s = cli.check_available(); !s.ok()) return s;
    absl::StatusOr<std::vector<std::string>> existing = cli.list_folders(*location);
    if (!existing.ok()) return existing.status();
    result.name = unique_name(base_name, {existing->begin(), existing->end()});

    const fs::path staging = default_staging_root(options.staging_dir) /
                             fmt::format("qt-backup-{}-{}", ::getpid(), result.name);
    remove_quietly(staging);
    auto assembled = assemble_backup(options, staging / result.name, result.name, started);
    if (!assembled.ok()) {
      remove_quietly(staging);
      return assembled.status();
    }
    const S3Location target = location->child(result.name);
    absl::Status uploaded = cli.upload_directory((staging / result.name).string(), target);
    if (uploaded.ok()) {
      // `latest` goes last: a reader following it always finds a complete upload.
      const fs::path pointer = staging / kLatestFileName;
      uploaded = write_file_atomically(pointer, result.name + "\n");
      if (uploaded.ok())
        uploaded = cli.upload_file(pointer.string(), location->child(kLatestFileName));
    }
    remove_quietly(staging);
    if (!uploaded.ok()) return uploaded;
    result.location = target.uri();
    result.manifest = std::move(assembled->manifest);
    result.journal_report = std::move(assembled->journal);
    result.copy_attempts = assembled->copy_attempts;
  } else {
    const fs::path root = options.destination;
    std::error_code ec;
    create_private_directories(root, ec);
    if (ec)
      return absl::UnavailableError(
          fmt::format("cannot create {}: {}", root.string(), ec.message()));
    result.name = unique_name(base_name, local_entries(root));
    // Assembled under a dot-name that retention and restore never take for a backup, then
    // renamed: a crash mid-backup leaves no folder that looks complete.
    const fs::path partial = root / fmt::format(".{}.partial-{}", result.name, ::getpid());
    remove_quietly(partial);
    auto assembled = assemble_backup(options, partial, result.name, started);
    if (!assembled.ok()) {
      remove_quietly(partial);
      return assembled.status();
    }
    if (::rename(partial.c_str(), (root / result.name).c_str()) != 0) {
      const int error = errno;
      remove_quietly(partial);
      return io_error("cannot rename the backup into place at", root / result.name, error);
    }
    if (absl::Status s = fsync_directory(root); !s.ok()) return s;
    if (absl::Status s = write_file_atomically(root / kLatestFileName, result.name + "\n");
        !s.ok()) {
      return s;
    }
    result.location = (root / result.name).string();
    result.manifest = std::move(assembled->manifest);
    result.journal_report = std::move(assembled->journal);
    result.copy_attempts = assembled->copy_attempts;
  }

  absl::StatusOr<std::vector<std::string>> removed = apply_retention(
      options.destination, options.keep_days, result.name, options.now(), options.endpoint_url);
  if (!removed.ok()) {
    return absl::Status(removed.status().code(),
                        fmt::format("backup {} written, but retention failed: {}", result.location,
                                    std::string(removed.status().message())));
  }
  result.removed_by_retention = std::move(*removed);
  result.duration_seconds = seconds_between(steady_start, std::chrono::steady_clock::now());
  return result;
}

absl::StatusOr<RestoreResult> restore_backup(const RestoreOptions& options) {
  const auto steady_start = std::chrono::steady_clock::now();
  const fs::path data_dir = options.data_dir;
  if (data_dir.empty()) return absl::InvalidArgumentError("restore needs a target data directory");

  // Refuse early, before a long download, when the answer is already no.
  absl::StatusOr<std::optional<pid_t>> holder = DataDirLock::holder(data_dir);
  if (!holder.ok()) return holder.status();
  if (holder->has_value()) {
    return absl::FailedPreconditionError(fmt::format(
        "refusing to restore into {}: it is held by a running engine (pid {}); stop it first",
        data_dir.string(), **holder));
  }
  std::error_code ec;
  if (!options.force && fs::exists(data_dir, ec) && holds_data(data_dir)) {
    return absl::FailedPreconditionError(fmt::format(
        "refusing to restore into {}: it is not empty (use --force to move its contents aside "
        "into {}/pre-restore-<time>/)",
        data_dir.string(), data_dir.string()));
  }

  const fs::path absolute_target = fs::absolute(data_dir, ec).lexically_normal();
  const fs::path staging =
      !options.staging_dir.empty()
          ? options.staging_dir / fmt::format("qt-restore-{}", ::getpid())
          : absolute_target.parent_path() /
                fmt::format(".{}.restore-{}", absolute_target.filename().string(), ::getpid());
  remove_quietly(staging);
  struct StagingCleanup {
    fs::path path;
    ~StagingCleanup() { remove_quietly(path); }
  } cleanup{staging};

  absl::StatusOr<StagedBackup> staged = stage_backup(options, staging);
  if (!staged.ok()) return staged.status();
  if (absl::Status s = verify_staged_backup(staged->folder, staged->manifest); !s.ok()) {
    return absl::Status(s.code(), fmt::format("{}; nothing was restored, {} is untouched",
                                              std::string(s.message()), data_dir.string()));
  }

  // Everything is verified; from here on the target changes, under its lock.
  absl::StatusOr<DataDirLock> lock = DataDirLock::acquire(data_dir);
  if (!lock.ok()) {
    return absl::Status(lock.status().code(), fmt::format("refusing to restore: {}",
                                                          std::string(lock.status().message())));
  }
  RestoreResult result;
  result.name = staged->manifest.name;
  if (holds_data(data_dir)) {
    if (!options.force) {
      return absl::FailedPreconditionError(
          fmt::format("refusing to restore into {}: it is not empty", data_dir.string()));
    }
    result.moved_aside = data_dir / fmt::format("pre-restore-{}", backup_name_for(options.now()));
    create_private_directories(result.moved_aside, ec);
    for (fs::directory_iterator it(data_dir, ec), end; !ec && it != end; it.increment(ec)) {
      const std::string name = it->path().filename().string();
      if (name == kLockFileName || name == kMetricsDirName || it->path() == result.moved_aside) {
        continue;
      }
      if (::rename(it->path().c_str(), (result.moved_aside / name).c_str()) != 0) {
        return io_error("cannot move aside", it->path(), errno);
      }
    }
  }
  const fs::path staged_data = staged->folder / kBackupDataDir;
  for (const std::string& entry : restored_data_entries()) {
    if (!fs::exists(staged_data / entry, ec)) {
      create_private_directories(data_dir / entry, ec);
      continue;
    }
    if (absl::Status s = move_tree(staged_data / entry, data_dir / entry); !s.ok()) return s;
  }
  // The manifest, the masked configuration and any logs, for the operator's reference.
  const fs::path info = data_dir / kRestoredInfoDir;
  remove_quietly(staged_data);
  if (absl::Status s = move_tree(staged->folder, info); !s.ok()) return s;
  if (absl::Status s = fsync_tree(data_dir); !s.ok()) return s;

  absl::StatusOr<VerifyReport> report = verify_journal(journal_dir(data_dir));
  if (!report.ok()) return report.status();
  result.manifest = std::move(staged->manifest);
  result.journal_report = std::move(*report);
  result.duration_seconds = seconds_between(steady_start, std::chrono::steady_clock::now());
  if (!result.journal_report.clean()) {
    return absl::DataLossError(fmt::format("restored {} into {}, but journal verify fails:\n{}",
                                           result.name, data_dir.string(),
                                           result.journal_report.to_text()));
  }
  if (result.journal_report.last_sequence != result.manifest.journal_last_sequence) {
    return absl::DataLossError(fmt::format(
        "restored {} into {}, but its journal ends at sequence {} where the manifest says {}",
        result.name, data_dir.string(), result.journal_report.last_sequence,
        result.manifest.journal_last_sequence));
  }
  return result;
}

}  // namespace qt::persist
