// The backup/restore textfile-collector file; see backup_metrics.hpp.
#include "persist/backup_metrics.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/file.h>
#include <unistd.h>

#include <array>
#include <charconv>
#include <fstream>
#include <sstream>
#include <string_view>

#include "persist/atomic_file.hpp"

namespace qt::persist {
namespace {

struct MetricSpec {
  std::string_view suffix;
  std::string_view help;  // "{}" is replaced by "backup" or "restore"
};

// The order of the file: stable, so diffs of the file between runs read well.
constexpr std::array<MetricSpec, 6> kMetrics = {{
    {"last_success_timestamp_seconds", "Unix time at which the last successful {} finished."},
    {"last_failure_timestamp_seconds",
     "Unix time at which the last failed {} finished (0 if none failed)."},
    {"last_duration_seconds", "Duration of the last successful {} in seconds."},
    {"last_bytes", "Bytes in the last successful {} (sum of the files in its manifest)."},
    {"last_files", "Files in the last successful {} (entries of its manifest)."},
    {"success", "1 if the most recent {} succeeded, 0 if it failed."},
}};

constexpr std::array<std::string_view, 2> kOperations = {"backup", "restore"};

std::string metric_name(std::string_view operation, std::string_view suffix) {
  return fmt::format("quanttrading_{}_{}", operation, suffix);
}

std::string format_value(double value) {
  // Integral values (timestamps to the millisecond are not) print without an exponent.
  if (value == static_cast<double>(static_cast<int64_t>(value))) {
    return fmt::format("{}", static_cast<int64_t>(value));
  }
  return fmt::format("{:.3f}", value);
}

// Holds an exclusive flock on the directory for a read-modify-write of the file.
class DirectoryLock {
 public:
  explicit DirectoryLock(const std::filesystem::path& dir)
      : fd_(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)) {
    if (fd_ >= 0) ::flock(fd_, LOCK_EX);
  }
  ~DirectoryLock() {
    if (fd_ >= 0) ::close(fd_);
  }
  DirectoryLock(const DirectoryLock&) = delete;
  DirectoryLock& operator=(const DirectoryLock&) = delete;

 private:
  int fd_;
};

}  // namespace

std::string render_backup_metrics(const std::map<std::string, double>& values) {
  std::string out;
  for (std::string_view operation : kOperations) {
    for (const MetricSpec& spec : kMetrics) {
      const std::string name = metric_name(operation, spec.suffix);
      const auto it = values.find(name);
      out += fmt::format("# HELP {} {}\n", name, fmt::format(fmt::runtime(spec.help), operation));
      out += fmt::format("# TYPE {} gauge\n", name);
      out += fmt::format("{} {}\n", name, format_value(it == values.end() ? 0.0 : it->second));
    }
  }
  return out;
}

std::map<std::string, double> parse_backup_metrics(const std::string& text) {
  std::map<std::string, double> values;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (line.empty() || line[0] == '#') continue;
    const std::size_t space = line.find(' ');
    if (space == std::string::npos) continue;
    const std::string name = line.substr(0, space);
    if (!name.starts_with("quanttrading_backup_") && !name.starts_with("quanttrading_restore_")) {
      continue;
    }
    const std::string value_text = line.substr(space + 1);
    double value = 0;
    const auto [end, error] =
        std::from_chars(value_text.data(), value_text.data() + value_text.size(), value);
    if (error == std::errc()) values[name] = value;
  }
  return values;
}

absl::Status record_backup_outcome(const std::filesystem::path& metrics_file,
                                   const BackupRunOutcome& outcome) {
  const std::filesystem::path dir =
      metrics_file.has_parent_path() ? metrics_file.parent_path() : ".";
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    return absl::UnavailableError(
        fmt::format("cannot create metrics directory {}: {}", dir.string(), ec.message()));
  }
  DirectoryLock lock(dir);

  std::map<std::string, double> values;
  if (std::ifstream in(metrics_file); in) {
    std::ostringstream previous;
    previous << in.rdbuf();
    values = parse_backup_metrics(previous.str());
  }
  const std::string_view operation =
      outcome.operation == BackupOperation::kBackup ? kOperations[0] : kOperations[1];
  const auto set = [&](std::string_view suffix, double value) {
    values[metric_name(operation, suffix)] = value;
  };
  set("success", outcome.success ? 1 : 0);
  if (outcome.success) {
    set("last_success_timestamp_seconds", outcome.finished_unix_seconds);
    set("last_duration_seconds", outcome.duration_seconds);
    set("last_bytes", static_cast<double>(outcome.bytes));
    set("last_files", static_cast<double>(outcome.files));
  } else {
    set("last_failure_timestamp_seconds", outcome.finished_unix_seconds);
  }
  return write_file_atomically(metrics_file, render_backup_metrics(values), kPublicFileMode);
}

}  // namespace qt::persist
