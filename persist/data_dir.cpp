// Layout helpers and the data-directory lock; see data_dir.hpp.
#include "persist/data_dir.hpp"

#include <errno.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <system_error>
#include <type_traits>
#include <utility>

#include "persist/file_modes.hpp"

namespace qt::persist {
namespace {

constexpr std::size_t kSequenceDigits = 20;

std::string errno_text(int error) {
  return std::error_code(error, std::generic_category()).message();
}

std::optional<uint64_t> parse_sequenced_name(std::string_view name, std::string_view prefix,
                                             std::string_view suffix) {
  if (name.size() != prefix.size() + kSequenceDigits + suffix.size()) return std::nullopt;
  if (!name.starts_with(prefix) || !name.ends_with(suffix)) return std::nullopt;
  const std::string_view digits = name.substr(prefix.size(), kSequenceDigits);
  if (!std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return std::nullopt;
  }
  uint64_t value = 0;
  const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (error != std::errc() || end != digits.data() + digits.size()) return std::nullopt;  // > 2^64
  return value;
}

// (sequence, path) of every regular file in dir whose name parses, ascending.
template <typename Entry>
absl::StatusOr<std::vector<Entry>> list_sequenced(const std::filesystem::path& dir,
                                                  std::string_view prefix,
                                                  std::string_view suffix) {
  std::vector<Entry> entries;
  std::error_code ec;
  std::filesystem::directory_iterator it(dir, ec);
  if (ec == std::errc::no_such_file_or_directory) return entries;
  if (ec)
    return absl::UnavailableError(fmt::format("cannot list {}: {}", dir.string(), ec.message()));
  for (const std::filesystem::directory_entry& entry : it) {
    if (!entry.is_regular_file(ec)) continue;
    const std::string name = entry.path().filename().string();
    if (std::optional<uint64_t> sequence = parse_sequenced_name(name, prefix, suffix)) {
      entries.push_back(Entry{*sequence, entry.path()});
    }
  }
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    if constexpr (std::is_same_v<Entry, SegmentFile>) {
      return a.first_sequence < b.first_sequence;
    } else {
      return a.sequence < b.sequence;
    }
  });
  return entries;
}

// The pid written in an open LOCK file, if it holds one.
std::optional<pid_t> read_pid(int fd) {
  char buffer[32] = {};
  const ssize_t n = ::pread(fd, buffer, sizeof(buffer) - 1, 0);
  if (n <= 0) return std::nullopt;
  long long pid = 0;
  const auto [end, error] = std::from_chars(buffer, buffer + n, pid);
  if (error != std::errc() || end == buffer || pid <= 0) return std::nullopt;
  return static_cast<pid_t>(pid);
}

std::string held_message(const std::filesystem::path& data_dir, std::optional<pid_t> pid) {
  return fmt::format("data directory {} is held by a running engine ({})", data_dir.string(),
                     pid ? fmt::format("pid {}", *pid) : std::string("pid unknown"));
}

}  // namespace

std::filesystem::path journal_dir(const std::filesystem::path& data_dir) {
  return data_dir / kJournalDirName;
}

std::filesystem::path snapshots_dir(const std::filesystem::path& data_dir) {
  return data_dir / kSnapshotsDirName;
}

std::filesystem::path lock_file_path(const std::filesystem::path& data_dir) {
  return data_dir / kLockFileName;
}

std::string segment_file_name(uint64_t first_sequence) {
  return fmt::format("{}{:020}{}", kSegmentPrefix, first_sequence, kSegmentSuffix);
}

std::string snapshot_file_name(uint64_t sequence) {
  return fmt::format("{}{:020}{}", kSnapshotPrefix, sequence, kSnapshotSuffix);
}

std::optional<uint64_t> parse_segment_file_name(std::string_view file_name) {
  return parse_sequenced_name(file_name, kSegmentPrefix, kSegmentSuffix);
}

std::optional<uint64_t> parse_snapshot_file_name(std::string_view file_name) {
  return parse_sequenced_name(file_name, kSnapshotPrefix, kSnapshotSuffix);
}

absl::StatusOr<std::vector<SegmentFile>> list_segments(const std::filesystem::path& data_dir) {
  return list_sequenced<SegmentFile>(journal_dir(data_dir), kSegmentPrefix, kSegmentSuffix);
}

absl::StatusOr<std::vector<SnapshotFile>> list_snapshots(const std::filesystem::path& data_dir) {
  return list_sequenced<SnapshotFile>(snapshots_dir(data_dir), kSnapshotPrefix, kSnapshotSuffix);
}

absl::StatusOr<DataDirLock> DataDirLock::acquire(const std::filesystem::path& data_dir) {
  std::error_code ec;
  create_private_directories(data_dir, ec);
  if (ec) {
    return absl::UnavailableError(
        fmt::format("cannot create data directory {}: {}", data_dir.string(), ec.message()));
  }
  const std::filesystem::path path = lock_file_path(data_dir);
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, kDataFileMode);
  if (fd < 0) {
    return absl::UnavailableError(
        fmt::format("cannot open lock file {}: {}", path.string(), errno_text(errno)));
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int error = errno;
    if (error == EWOULDBLOCK) {
      const std::optional<pid_t> pid = read_pid(fd);
      ::close(fd);
      return absl::FailedPreconditionError(held_message(data_dir, pid));
    }
    ::close(fd);
    return absl::UnavailableError(
        fmt::format("cannot lock {}: {}", path.string(), errno_text(error)));
  }
  // Only the holder writes, so the pid in the file is always the current holder's once it is
  // complete; a refused process reading in between sees an empty file and says "pid unknown".
  const std::string pid_line = fmt::format("{}\n", ::getpid());
  if (::ftruncate(fd, 0) != 0 ||
      ::pwrite(fd, pid_line.data(), pid_line.size(), 0) != static_cast<ssize_t>(pid_line.size())) {
    const int error = errno;
    ::close(fd);
    return absl::UnavailableError(
        fmt::format("cannot write pid to {}: {}", path.string(), errno_text(error)));
  }
  return DataDirLock(data_dir, fd);
}

absl::StatusOr<std::optional<pid_t>> DataDirLock::holder(const std::filesystem::path& data_dir) {
  const std::filesystem::path path = lock_file_path(data_dir);
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return std::optional<pid_t>();
    return absl::UnavailableError(
        fmt::format("cannot open lock file {}: {}", path.string(), errno_text(errno)));
  }
  // A shared probe conflicts with the engine's exclusive lock but not with another probe.
  if (::flock(fd, LOCK_SH | LOCK_NB) == 0) {
    ::close(fd);  // drops the probe
    return std::optional<pid_t>();
  }
  const int error = errno;
  std::optional<pid_t> pid;
  if (error == EWOULDBLOCK) pid = read_pid(fd);
  ::close(fd);
  if (error != EWOULDBLOCK) {
    return absl::UnavailableError(
        fmt::format("cannot probe lock {}: {}", path.string(), errno_text(error)));
  }
  // Held, but the pid may not be written yet: report a held lock with pid 0 rather than "free".
  return std::optional<pid_t>(pid.value_or(0));
}

DataDirLock::DataDirLock(DataDirLock&& other) noexcept
    : data_dir_(std::move(other.data_dir_)), fd_(std::exchange(other.fd_, -1)) {}

DataDirLock& DataDirLock::operator=(DataDirLock&& other) noexcept {
  if (this != &other) {
    release();
    data_dir_ = std::move(other.data_dir_);
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

DataDirLock::~DataDirLock() {
  release();
}

void DataDirLock::release() {
  if (fd_ < 0) return;
  // Closing the only descriptor of the open file description drops the flock.
  ::close(fd_);
  fd_ = -1;
}

}  // namespace qt::persist
