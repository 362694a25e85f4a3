// fresh_page_probe: how fast this machine hands out fresh, writable file pages, which bounds the
// async journal's sustained records/s (every record lands in a page nobody has written before).
//
// For each method, `--files` new files of `--mb` MiB each are created in `--dir`, mapped shared,
// made writable page by page, then filled with memset; the file is unmapped and removed before
// the next. Methods, interleaved file by file so that they share the machine's state:
//   touch            one store per 4 KiB page (a write fault each)
//   populate+touch   MADV_POPULATE_WRITE over the range, then one store per page (what the
//                    journal's preparer does: on a VM the first store still costs a host fault)
// Prints per method: µs per page and GB/s for preparing, and the memset that follows (what an
// appender pays once the pages are ready). At R records/s of B bytes on disk, the journal needs
// R * B bytes/s of fresh pages.
//
// Usage: fresh_page_probe [--dir=DIR] [--mb=64] [--files=6]   (DIR on the disk under test)
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "bench/bench_cli.hpp"
#include "engine/clock.hpp"

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23  // Linux 5.14
#endif

namespace {

constexpr uint64_t kPage = 4096;

struct Sample {
  double prepare_ns = 0;
  double fill_ns = 0;
};

Sample prepare_and_fill(const std::filesystem::path& path, uint64_t size, bool populate) {
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0 || ::ftruncate(fd, static_cast<off_t>(size)) != 0) {
    std::perror(path.c_str());
    std::exit(1);
  }
  void* map = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (map == MAP_FAILED) {
    std::perror("mmap");
    std::exit(1);
  }
  auto* bytes = static_cast<volatile char*>(map);
  Sample sample;
  const int64_t t0 = qt::now_ns();
  if (populate && ::madvise(map, size, MADV_POPULATE_WRITE) != 0) std::perror("madvise");
  for (uint64_t offset = 0; offset < size; offset += kPage) bytes[offset] = 0;
  const int64_t t1 = qt::now_ns();
  std::memset(map, 0x5A, size);
  const int64_t t2 = qt::now_ns();
  sample.prepare_ns = static_cast<double>(t1 - t0);
  sample.fill_ns = static_cast<double>(t2 - t1);
  ::munmap(map, size);
  ::close(fd);
  std::filesystem::remove(path);
  return sample;
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  std::string dir = "build/fresh_page_probe.tmp";
  uint64_t mb = 64;
  int files = 6;
  CLI::App app(
      "fresh_page_probe: how fast this machine provides fresh writable file pages (the bound on "
      "the async journal's sustained records/s)");
  app.add_option("--dir", dir, "directory on the disk under test")->default_val(dir);
  qt::bench::add_positive_option(app, "--mb", mb, "MiB per file");
  qt::bench::add_positive_option(app, "--files", files, "files per method");
  if (const auto exit = qt::bench::parse_command_line(app, argc, argv)) return *exit;
  std::filesystem::create_directories(dir);
  const uint64_t size = mb << 20;
  const char* names[2] = {"touch", "populate+touch"};
  std::vector<double> prepare[2], fill[2];
  for (int f = 0; f < files; ++f) {
    for (int method = 0; method < 2; ++method) {
      const int m = (f % 2 == 0) ? method : 1 - method;  // alternate which goes first
      const Sample s = prepare_and_fill(std::filesystem::path(dir) / ("probe" + std::to_string(f)),
                                        size, m == 1);
      prepare[m].push_back(s.prepare_ns);
      fill[m].push_back(s.fill_ns);
    }
  }
  std::filesystem::remove_all(dir);
  const double pages = static_cast<double>(size / kPage);
  std::printf("fresh_page_probe: %d files of %llu MiB per method, medians\n", files,
              static_cast<unsigned long long>(mb));
  for (int m = 0; m < 2; ++m) {
    const double p = median(prepare[m]);
    const double best = *std::min_element(prepare[m].begin(), prepare[m].end());
    const double worst = *std::max_element(prepare[m].begin(), prepare[m].end());
    std::printf(
        "  %-15s prepare %6.1f ms (%.2f us/page, %.2f GB/s; files %.1f-%.1f ms)   then memset "
        "%5.1f ms (%.1f GB/s)\n",
        names[m], p / 1e6, p / 1e3 / pages, static_cast<double>(size) / p, best / 1e6, worst / 1e6,
        median(fill[m]) / 1e6, static_cast<double>(size) / median(fill[m]));
  }
  return 0;
}
