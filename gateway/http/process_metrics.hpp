// The process's own figures and the build, as collectors of a metrics::Registry, named as the
// Prometheus client libraries name them (client_golang's process collector):
//
//   process_cpu_seconds_total       user + system CPU time      /proc/self/stat utime + stime
//   process_resident_memory_bytes   resident set size           /proc/self/stat rss * page size
//   process_virtual_memory_bytes    virtual memory size         /proc/self/stat vsize
//   process_open_fds                open descriptors            entries of /proc/self/fd
//   process_max_fds                 descriptor limit (soft)     getrlimit(RLIMIT_NOFILE)
//   process_start_time_seconds      start, Unix time            starttime + /proc/stat btime
//   quanttrading_build_info{version,revision,build_type,compiler} 1
//
// Guarantees: Linux only. A scrape reads /proc/self/stat and lists /proc/self/fd into stack
// buffers (no allocation); the start time is read once, at registration. A figure that cannot
// be read is left out of that scrape, not reported as 0. The descriptor that lists
// /proc/self/fd is not counted.
#pragma once

#include <string>

#include "absl/status/status.h"
#include "gateway/http/metrics_registry.hpp"

namespace qt::http::metrics {

absl::Status add_process_metrics(Registry& registry);

struct BuildInfo {
  std::string version;
  std::string revision;  // e.g. the git commit; "unknown" when the build does not say
  std::string build_type;
  std::string compiler;
};
// Version and build type from CMake (PROJECT_VERSION, CMAKE_BUILD_TYPE), the compiler from its
// own macros, the revision from QT_BUILD_REVISION when the build defines it.
BuildInfo this_build();
// quanttrading_build_info with the build's labels and the value 1.
absl::Status add_build_info(Registry& registry, const BuildInfo& build);

}  // namespace qt::http::metrics
