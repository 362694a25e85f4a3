// The data directory: where the journal, the snapshots and the lock of one engine live, and the
// lock that keeps a second engine (or a restore) out while one is running.
//
//   <data_dir>/journal/segment-<20-digit first sequence>.qtj   mmapped segments; the last is active
//   <data_dir>/snapshots/snapshot-<20-digit sequence>.qts      written atomically; newest valid
//   wins <data_dir>/LOCK                                            flock(2)ed by the engine that
//   owns it
//
// Names carry zero-padded sequence numbers so that a byte-wise sort of names is the sequence
// order; the listings below sort numerically anyway and ignore every file whose name does not
// parse (temporary files, editor droppings), so callers never see a half-written snapshot.
//
// Guarantees: the path helpers are pure; the listings read the directory once and allocate;
// DataDirLock is a move-only owner of one open file description holding LOCK_EX, released when
// it is destroyed or when the process dies (the kernel drops flocks with the last descriptor, so
// a SIGKILLed engine never leaves a stale lock behind). The descriptor is close-on-exec, so a
// child process (e.g. the aws CLI) never inherits the lock. Used at start-up and by the
// backup/restore commands, never on the hot path.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace qt::persist {

inline constexpr std::string_view kJournalDirName = "journal";
inline constexpr std::string_view kSnapshotsDirName = "snapshots";
inline constexpr std::string_view kLockFileName = "LOCK";
inline constexpr std::string_view kSegmentPrefix = "segment-";
inline constexpr std::string_view kSegmentSuffix = ".qtj";
inline constexpr std::string_view kSnapshotPrefix = "snapshot-";
inline constexpr std::string_view kSnapshotSuffix = ".qts";

std::filesystem::path journal_dir(const std::filesystem::path& data_dir);
std::filesystem::path snapshots_dir(const std::filesystem::path& data_dir);
std::filesystem::path lock_file_path(const std::filesystem::path& data_dir);

// "segment-00000000000000000001.qtj" for first_sequence 1.
std::string segment_file_name(uint64_t first_sequence);
// "snapshot-00000000000000001000.qts" for a snapshot covering the journal up to sequence 1000.
std::string snapshot_file_name(uint64_t sequence);

// The sequence a file name carries, or nullopt if the name is not exactly of that form
// (20 decimal digits between prefix and suffix).
std::optional<uint64_t> parse_segment_file_name(std::string_view file_name);
std::optional<uint64_t> parse_snapshot_file_name(std::string_view file_name);

struct SegmentFile {
  uint64_t first_sequence = 0;
  std::filesystem::path path;
};

struct SnapshotFile {
  uint64_t sequence = 0;
  std::filesystem::path path;
};

// Regular files of <data_dir>/journal named like segments, ascending by first sequence (so the
// last one is the active segment). A missing journal directory is an empty list, not an error.
absl::StatusOr<std::vector<SegmentFile>> list_segments(const std::filesystem::path& data_dir);

// Regular files of <data_dir>/snapshots named like snapshots, ascending by sequence (newest
// last). A missing snapshots directory is an empty list.
absl::StatusOr<std::vector<SnapshotFile>> list_snapshots(const std::filesystem::path& data_dir);

// Exclusive ownership of a data directory: flock(LOCK_EX | LOCK_NB) on <data_dir>/LOCK, with the
// owner's pid written into the file so that whoever is refused can say who holds it.
class DataDirLock {
 public:
  // Creates data_dir and LOCK if missing. Fails with FailedPrecondition
  // "data directory D is held by a running engine (pid N)" when another open file description
  // (another process, or another DataDirLock in this one) holds the lock.
  static absl::StatusOr<DataDirLock> acquire(const std::filesystem::path& data_dir);

  // The pid recorded in <data_dir>/LOCK if the lock is currently held by someone (0 if the holder
  // has not written its pid yet), else nullopt.
  // Does not keep the lock: it probes with a non-blocking flock on a fresh descriptor and drops
  // it at once. A missing LOCK file means nobody holds it.
  static absl::StatusOr<std::optional<pid_t>> holder(const std::filesystem::path& data_dir);

  DataDirLock(DataDirLock&& other) noexcept;
  DataDirLock& operator=(DataDirLock&& other) noexcept;
  DataDirLock(const DataDirLock&) = delete;
  DataDirLock& operator=(const DataDirLock&) = delete;
  ~DataDirLock();

  const std::filesystem::path& data_dir() const { return data_dir_; }
  // Releases early (the destructor does it otherwise). The LOCK file stays; only the flock goes.
  void release();

 private:
  DataDirLock(std::filesystem::path data_dir, int fd) : data_dir_(std::move(data_dir)), fd_(fd) {}

  std::filesystem::path data_dir_;
  int fd_ = -1;
};

}  // namespace qt::persist
