// Process collectors from /proc/self and the build-info gauge; see process_metrics.hpp.
#include "gateway/http/process_metrics.hpp"

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string_view>

#ifndef QT_BUILD_VERSION
#define QT_BUILD_VERSION "unknown"
#endif
#ifndef QT_BUILD_TYPE
#define QT_BUILD_TYPE "unknown"
#endif
#ifndef QT_BUILD_REVISION
#define QT_BUILD_REVISION "unknown"
#endif

namespace qt::http::metrics {
namespace {

// Closes a descriptor on every path.
class FileDescriptor {
 public:
  explicit FileDescriptor(int fd) : fd_(fd) {}
  ~FileDescriptor() {
    if (fd_ >= 0) ::close(fd_);
  }
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

// Reads a whole small /proc file into `buffer`; the text read, or nullopt.
std::optional<std::string_view> read_small_file(const char* path, char* buffer, std::size_t size) {
  const FileDescriptor file(::open(path, O_RDONLY | O_CLOEXEC));
  if (file.get() < 0) return std::nullopt;
  std::size_t used = 0;
  while (used < size) {
    const ssize_t got = ::read(file.get(), buffer + used, size - used);
    if (got < 0) return std::nullopt;
    if (got == 0) break;
    used += static_cast<std::size_t>(got);
  }
  return std::string_view(buffer, used);
}

// The fields of /proc/self/stat that the collectors use (proc(5) numbering).
struct ProcessStat {
  uint64_t user_ticks = 0;      // 14 utime
  uint64_t system_ticks = 0;    // 15 stime
  uint64_t start_ticks = 0;     // 22 starttime, after boot
  uint64_t virtual_bytes = 0;   // 23 vsize
  uint64_t resident_pages = 0;  // 24 rss
};

std::optional<ProcessStat> read_process_stat() {
  char buffer[1024];
  const std::optional<std::string_view> text =
      read_small_file("/proc/self/stat", buffer, sizeof buffer);
  if (!text) return std::nullopt;
  // The command name (field 2) is in parentheses and may itself hold spaces and parentheses.
  const std::size_t name_end = text->rfind(')');
  if (name_end == std::string_view::npos) return std::nullopt;
  std::string_view rest = text->substr(name_end + 1);
  ProcessStat stat;
  int field = 2;
  while (!rest.empty() && field < 24) {
    while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
    const std::size_t end = std::min(rest.find(' '), rest.size());
    const std::string_view token = rest.substr(0, end);
    rest.remove_prefix(end);
    ++field;
    uint64_t* target = nullptr;
    switch (field) {
      case 14: target = &stat.user_ticks; break;
      case 15: target = &stat.system_ticks; break;
      case 22: target = &stat.start_ticks; break;
      case 23: target = &stat.virtual_bytes; break;
      case 24: target = &stat.resident_pages; break;
      default: continue;
    }
    if (std::from_chars(token.data(), token.data() + token.size(), *target).ec != std::errc{}) {
      return std::nullopt;
    }
  }
  if (field < 24) return std::nullopt;
  return stat;
}

// Entries of /proc/self/fd, without the descriptor used to list them.
std::optional<uint64_t> count_open_descriptors() {
  const FileDescriptor directory(::open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (directory.get() < 0) return std::nullopt;
  alignas(8) char buffer[4096];
  uint64_t entries = 0;
  for (;;) {
    const long got = ::syscall(SYS_getdents64, directory.get(), buffer, sizeof buffer);
    if (got < 0) return std::nullopt;
    if (got == 0) break;
    for (long offset = 0; offset < got;) {
      // struct linux_dirent64: d_ino (8), d_off (8), d_reclen (2), d_type (1), d_name.
      uint16_t record_length = 0;
      std::memcpy(&record_length, buffer + offset + 16, sizeof record_length);
      const char* name = buffer + offset + 19;
      if (!(name[0] == '.' && (name[1] == '\0' || (name[1] == '.' && name[2] == '\0')))) {
        ++entries;
      }
      offset += record_length;
    }
  }
  return entries - 1;
}

// Unix time of boot: the btime line of /proc/stat (the lines before it can be kilobytes long).
std::optional<uint64_t> boot_time_seconds() {
  const FileDescriptor file(::open("/proc/stat", O_RDONLY | O_CLOEXEC));
  if (file.get() < 0) return std::nullopt;
  constexpr std::string_view kKey = "btime ";
  char chunk[4096];
  char line[64];  // the start of the current line; longer lines are never the btime line
  std::size_t line_length = 0;
  bool overlong = false;
  for (;;) {
    const ssize_t got = ::read(file.get(), chunk, sizeof chunk);
    if (got <= 0) return std::nullopt;
    for (ssize_t i = 0; i < got; ++i) {
      const char c = chunk[i];
      if (c != '\n') {
        if (line_length < sizeof line) {
          line[line_length++] = c;
        } else {
          overlong = true;
        }
        continue;
      }
      const std::string_view text(line, line_length);
      if (!overlong && text.starts_with(kKey)) {
        uint64_t seconds = 0;
        const char* digits = text.data() + kKey.size();
        if (std::from_chars(digits, text.data() + text.size(), seconds).ec != std::errc{}) {
          return std::nullopt;
        }
        return seconds;
      }
      line_length = 0;
      overlong = false;
    }
  }
}

}  // namespace

absl::Status add_process_metrics(Registry& registry) {
  const long ticks_per_second = ::sysconf(_SC_CLK_TCK);
  const long page_size = ::sysconf(_SC_PAGESIZE);
  if (ticks_per_second <= 0 || page_size <= 0) {
    return absl::InternalError("sysconf gave no clock tick rate or page size");
  }
  const std::optional<ProcessStat> stat_now = read_process_stat();
  const std::optional<uint64_t> boot = boot_time_seconds();
  if (!stat_now || !boot) {
    return absl::UnavailableError("cannot read /proc/self/stat or /proc/stat (is /proc mounted?)");
  }
  const double ticks = static_cast<double>(ticks_per_second);
  const double start_time =
      static_cast<double>(*boot) + static_cast<double>(stat_now->start_ticks) / ticks;
  const auto bytes_per_page = static_cast<double>(page_size);

  struct Entry {
    const char* name;
    const char* help;
    MetricType type;
    Collector collect;
  };
  const Entry entries[] = {
      {"process_cpu_seconds_total", "Total user and system CPU time spent in seconds.",
       MetricType::kCounter,
       [ticks](SampleWriter& out) {
         if (auto stat = read_process_stat()) {
           out.sample({}, static_cast<double>(stat->user_ticks + stat->system_ticks) / ticks);
         }
       }},
      {"process_resident_memory_bytes", "Resident memory size in bytes.", MetricType::kGauge,
       [bytes_per_page](SampleWriter& out) {
         if (auto stat = read_process_stat()) {
           out.sample({}, static_cast<double>(stat->resident_pages) * bytes_per_page);
         }
       }},
      {"process_virtual_memory_bytes", "Virtual memory size in bytes.", MetricType::kGauge,
       [](SampleWriter& out) {
         if (auto stat = read_process_stat()) {
           out.sample({}, static_cast<double>(stat->virtual_bytes));
         }
       }},
      {"process_open_fds", "Number of open file descriptors.", MetricType::kGauge,
       [](SampleWriter& out) {
         if (auto open = count_open_descriptors()) out.sample({}, static_cast<double>(*open));
       }},
      {"process_max_fds", "Maximum number of open file descriptors.", MetricType::kGauge,
       [](SampleWriter& out) {
         rlimit limit{};
         if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY) {
           out.sample({}, static_cast<double>(limit.rlim_cur));
         }
       }},
      {"process_start_time_seconds", "Start time of the process since unix epoch in seconds.",
       MetricType::kGauge, [start_time](SampleWriter& out) { out.sample({}, start_time); }},
  };
  for (const Entry& entry : entries) {
    absl::Status status =
        registry.add_collector({.name = entry.name, .help = entry.help}, entry.type, entry.collect);
    if (!status.ok()) return status;
  }
  return absl::OkStatus();
}

BuildInfo this_build() {
#if defined(__clang__)
  const std::string compiler = std::string("clang ") + __clang_version__;
#elif defined(__GNUC__)
  const std::string compiler = std::string("gcc ") + __VERSION__;
#else
  const std::string compiler = "unknown";
#endif
  return BuildInfo{.version = QT_BUILD_VERSION,
                   .revision = QT_BUILD_REVISION,
                   .build_type = QT_BUILD_TYPE,
                   .compiler = compiler};
}

absl::Status add_build_info(Registry& registry, const BuildInfo& build) {
  absl::StatusOr<Family<Gauge>> family = registry.add_gauge(
      {.name = "quanttrading_build_info",
       .help = "The running build: version, revision, build type and compiler (always 1).",
       .label_names = {"version", "revision", "build_type", "compiler"},
       .max_children = 1});
  if (!family.ok()) return family.status();
  absl::StatusOr<Gauge*> gauge =
      family->child({build.version, build.revision, build.build_type, build.compiler});
  if (!gauge.ok()) return gauge.status();
  (*gauge)->set(1);
  return absl::OkStatus();
}

}  // namespace qt::http::metrics
