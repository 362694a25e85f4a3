#include <fcntl.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>

#include "bench/journal_bench.hpp"
#include "engine/clock.hpp"

namespace qt::bench {

const char* to_string(IdleMode mode) {
  switch (mode) {
    case IdleMode::kSpin: return "spin";
    case IdleMode::kYield: return "yield";
    case IdleMode::kPark: return "park";
  }
  return "?";
}

namespace {
std::string disk_of(const std::string& mount_line) {
  std::string device = mount_line.substr(0, mount_line.find(' '));
  return device.rfind("/dev/", 0) == 0 ? device.substr(5) : std::string();
}
}  // namespace

std::string filesystem_of(const fs::path& dir) {
  struct statfs st {};
  if (::statfs(dir.c_str(), &st) != 0) return "unknown";
  std::string type;
  switch (static_cast<uint64_t>(st.f_type)) {
    case 0xEF53: type = "ext2/3/4"; break;
    case 0x01021994: type = "tmpfs"; break;
    case 0x58465342: type = "xfs"; break;
    case 0x9123683E: type = "btrfs"; break;
    case 0x794C7630: type = "overlayfs"; break;
    default: {
      char hex[32];
      std::snprintf(hex, sizeof hex, "f_type 0x%lx", static_cast<unsigned long>(st.f_type));
      type = hex;
    }
  }
  // The mount holding `dir`: the longest mount point that prefixes it.
  std::ifstream mounts("/proc/self/mounts");
  std::string line, best_line;
  std::size_t best = 0;
  const std::string path = fs::canonical(dir).string();
  while (std::getline(mounts, line)) {
    std::istringstream fields(line);
    std::string device, mount_point;
    fields >> device >> mount_point;
    const bool prefix = path.compare(0, mount_point.size(), mount_point) == 0 &&
                        (path.size() == mount_point.size() || mount_point == "/" ||
                         path[mount_point.size()] == '/');
    if (prefix && mount_point.size() >= best) {
      best = mount_point.size();
      best_line = line;
    }
  }
  g_disk = disk_of(best_line);
  return type + " (mount: " + best_line + ")";
}

bool is_tmpfs(const fs::path& dir) {
  struct statfs st {};
  return ::statfs(dir.c_str(), &st) == 0 && static_cast<uint64_t>(st.f_type) == 0x01021994;
}

void settle_disk(const fs::path& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    ::syncfs(fd);
    ::close(fd);
  }
}

fs::path fresh_dir(const fs::path& base, const std::string& name) {
  const fs::path dir = base / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

void remove_dir(const fs::path& dir) {
  std::error_code ec;
  fs::remove_all(dir, ec);
}

LoadWindow::Figures LoadWindow::end() const {
  const Sample now = sample();
  Figures f;
  f.other_cpus = std::max(0.0, cpus_.other_cpus());
  if (now.disk_found && start_.disk_found) {
    f.disk_mb = static_cast<double>(now.sectors_written - start_.sectors_written) * 512 / 1e6;
    f.disk_flushes = now.flushes - start_.flushes;
  }
  f.own_mb = static_cast<double>(now.own_write_bytes - start_.own_write_bytes) / 1e6;
  return f;
}

LoadWindow::Sample LoadWindow::sample() {
  Sample s;
  std::string line;
  std::ifstream diskstats("/proc/diskstats");
  while (!g_disk.empty() && std::getline(diskstats, line)) {
    std::istringstream disk(line);
    std::string major, minor, name;
    disk >> major >> minor >> name;
    if (name != g_disk) continue;
    // After the name: 1-4 reads, 5 writes, 6 merged, 7 sectors written, ..., 16 flushes.
    uint64_t values[16] = {};
    int n = 0;
    while (n < 16 && disk >> values[n]) ++n;
    s.disk_found = n >= 7;
    s.sectors_written = values[6];
    s.flushes = n >= 16 ? values[15] : 0;
    break;
  }
  std::ifstream io("/proc/self/io");
  std::string key;
  uint64_t value = 0;
  while (io >> key >> value) {
    if (key == "write_bytes:") s.own_write_bytes = value;
  }
  return s;
}

std::string fmt_load(const LoadWindow::Figures& f) {
  char out[160];
  const double t = static_cast<double>(now_ns() - g_start_ns) / 1e9;
  if (f.disk_mb >= 0) {
    std::snprintf(out, sizeof out,
                  "other %.2f CPU; disk %.0f MB written, %" PRIu64
                  " flushes; ours dirtied %.0f MB; t+%.0f s",
                  f.other_cpus, f.disk_mb, f.disk_flushes, f.own_mb, t);
  } else {
    std::snprintf(out, sizeof out, "other %.2f CPU; t+%.0f s", f.other_cpus, t);
  }
  return out;
}

std::string fmt_ns(double ns) {
  char out[32];
  if (ns < 10'000) {
    std::snprintf(out, sizeof out, "%.0f ns", ns);
  } else if (ns < 10'000'000) {
    std::snprintf(out, sizeof out, "%.1f us", ns / 1e3);
  } else {
    std::snprintf(out, sizeof out, "%.1f ms", ns / 1e6);
  }
  return out;
}

std::string fmt_pct(const Percentiles& p) {
  return fmt_ns(p.p50) + " / " + fmt_ns(p.p99) + " / " + fmt_ns(p.p999) + " / " + fmt_ns(p.max);
}

std::string fmt_rate(double per_second) {
  char out[32];
  if (per_second >= 1e6) {
    std::snprintf(out, sizeof out, "%.2f M/s", per_second / 1e6);
  } else if (per_second >= 1e3) {
    std::snprintf(out, sizeof out, "%.1f k/s", per_second / 1e3);
  } else {
    std::snprintf(out, sizeof out, "%.0f /s", per_second);
  }
  return out;
}

WriterCounters counters_of(const JournalWriter& writer) {
  const persist::JournalStats& s = writer.stats();
  return {s.commits.load(), s.segment_switches.load(), s.late_preparations.load()};
}

namespace {
// Waits until the writer's preparer has the segments it keeps ahead ready (two): preparing
// them right after open() (async: faulting in 64 MiB; durable modes: fallocate + fdatasync +
// directory fsync, a file-system journal commit that stalls a concurrent fdatasync for 10-30 ms)
// must not land inside a measurement; the cost of a switch is measured on its own ("switch").
void wait_for_next_segment(const persist::JournalStats& stats) {
  const int64_t deadline = now_ns() + 10'000'000'000;
  while (stats.segments_prepared.load() < 2 && now_ns() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}
}  // namespace

std::unique_ptr<JournalWriter> open_writer(const fs::path& dir, Durability mode,
                                           uint64_t segment_size) {
  JournalOptions options;
  options.group_commit_interval_ns = g_group_commit_interval_ns;
  options.dir = dir;
  options.segment_size = segment_size;
  options.durability = mode;
  absl::StatusOr<std::unique_ptr<JournalWriter>> writer = JournalWriter::open(options, 1);
  if (!writer.ok()) die("JournalWriter::open: " + writer.status().ToString());
  wait_for_next_segment((*writer)->stats());
  return std::move(*writer);
}

double first_commit(JournalWriter& writer, EntryPool& pool) {
  if (!pool.append(writer, 1).ok()) die("append");
  const int64_t t0 = now_ns();
  check(writer.commit(), "commit");
  return static_cast<double>(now_ns() - t0);
}

}  // namespace qt::bench
