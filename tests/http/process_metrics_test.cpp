// Process collectors and build info (gateway/http/process_metrics.hpp), each figure checked
// against a source of its own: getrusage, getrlimit, descriptors this test opens, memory it
// touches, the time this program's static initialisation ran.
#include "gateway/http/process_metrics.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <charconv>
#include <chrono>
#include <cstring>
#include <ctime>
#include <memory>
#include <string>
#include <vector>

namespace qt::http::metrics {
namespace {

const double g_static_init_unix_seconds = static_cast<double>(std::time(nullptr));

// The value of the unlabelled sample `name` in an exposition, or NaN.
double sample_value(const std::string& text, std::string_view name) {
  const std::string prefix = "\n" + std::string(name) + " ";
  const std::size_t at = text.find(prefix);
  if (at == std::string::npos) return std::nan("");
  return std::strtod(text.c_str() + at + prefix.size(), nullptr);
}

struct ProcessFigures {
  double cpu_seconds, resident_bytes, virtual_bytes, open_fds, max_fds, start_time;
};

ProcessFigures scrape(const Registry& registry) {
  std::string text;
  registry.render(text);
  text.insert(0, "\n");
  return {sample_value(text, "process_cpu_seconds_total"),
          sample_value(text, "process_resident_memory_bytes"),
          sample_value(text, "process_virtual_memory_bytes"),
          sample_value(text, "process_open_fds"),
          sample_value(text, "process_max_fds"),
          sample_value(text, "process_start_time_seconds")};
}

double rusage_cpu_seconds() {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](timeval t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

TEST(ProcessMetrics, CpuSecondsFollowGetrusage) {
  Registry registry;
  ASSERT_TRUE(add_process_metrics(registry).ok());
  const double before = scrape(registry).cpu_seconds;
  volatile uint64_t spin = 0;
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(300);
  while (std::chrono::steady_clock::now() < until) spin = spin + 1;
  const double from_rusage = rusage_cpu_seconds();
  const double after = scrape(registry).cpu_seconds;
  EXPECT_GE(after - before, 0.2);
  // /proc counts in clock ticks (10 ms here); getrusage in microseconds.
  EXPECT_NEAR(after, from_rusage, 0.05);
}

TEST(ProcessMetrics, ResidentMemoryGrowsWithTouchedPages) {
  Registry registry;
  ASSERT_TRUE(add_process_metrics(registry).ok());
  const ProcessFigures before = scrape(registry);
  constexpr std::size_t kBytes = 64 << 20;
  auto block = std::make_unique<char[]>(kBytes);
  std::memset(block.get(), 1, kBytes);
  const ProcessFigures after = scrape(registry);
  EXPECT_GE(after.resident_bytes - before.resident_bytes, 60 << 20);
  EXPECT_GE(after.virtual_bytes, after.resident_bytes);
  EXPECT_GE(after.virtual_bytes - before.virtual_bytes, 60 << 20);
  EXPECT_EQ(block[kBytes - 1], 1);
}

TEST(ProcessMetrics, OpenDescriptorsCountWhatThisProcessOpens) {
  Registry registry;
  ASSERT_TRUE(add_process_metrics(registry).ok());
  const double before = scrape(registry).open_fds;
  std::vector<int> opened;
  for (int i = 0; i < 5; ++i) opened.push_back(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  EXPECT_EQ(scrape(registry).open_fds, before + 5);
  for (int fd : opened) ::close(fd);
  EXPECT_EQ(scrape(registry).open_fds, before);
  EXPECT_GE(before, 3) << "stdin, stdout and stderr at least";
}

TEST(ProcessMetrics, MaxDescriptorsIsTheSoftLimit) {
  Registry registry;
  ASSERT_TRUE(add_process_metrics(registry).ok());
  rlimit limit{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &limit), 0);
  EXPECT_EQ(scrape(registry).max_fds, static_cast<double>(limit.rlim_cur));
}

TEST(ProcessMetrics, StartTimeIsWhenThisProgramStarted) {
  Registry registry;
  ASSERT_TRUE(add_process_metrics(registry).ok());
  const double start = scrape(registry).start_time;
  // boot time has a 1 s resolution, the start offset 10 ms; exec to static init is quick.
  EXPECT_LE(start, g_static_init_unix_seconds + 1.01);
  EXPECT_GE(start, g_static_init_unix_seconds - 5);
}

TEST(BuildInfo, IsOneSampleWithTheBuildsLabels) {
  Registry registry;
  const BuildInfo build = this_build();
  EXPECT_NE(build.version, "unknown") << "CMake's PROJECT_VERSION reaches the library";
  EXPECT_NE(build.build_type, "unknown");
  EXPECT_FALSE(build.compiler.empty());
  ASSERT_TRUE(add_build_info(registry, {"1.2.3", "abc123", "Release", "gcc 12.2.0"}).ok());
  std::string text;
  registry.render(text);
  EXPECT_EQ(text,
            "# HELP quanttrading_build_info The running build: version, revision, build type and "
            "compiler (always 1).\n"
            "# TYPE quanttrading_build_info gauge\n"
            "quanttrading_build_info{version=\"1.2.3\",revision=\"abc123\",build_type=\"Release\","
            "compiler=\"gcc 12.2.0\"} 1\n");
}

}  // namespace
}  // namespace qt::http::metrics
