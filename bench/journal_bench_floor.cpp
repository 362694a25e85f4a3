// journal_bench's floor probes: the disk's own floor for a durable acknowledgement.
// What any journal could do on this disk at `rate`: arrivals on a fixed schedule, and one thread
// that pwrite()s whatever has arrived into a fallocated file (as a durable segment is) and
// fdatasyncs, greedily, sleeping while nothing has arrived. No ring, agent, record format or
// second thread. A record's latency runs from its scheduled arrival to the end of the fdatasync
// that covered it. Run beside the group pipeline rows, it tells a miss of the journal's own
// making from one the disk imposes.
#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include <thread>
#include <vector>

#include "bench/journal_bench.hpp"
#include "engine/clock.hpp"

namespace qt::bench {

// With `cpus` pinned (the second variant), the syncing thread runs on the journal agent's CPU and
// a second thread on the producer's CPU only wakes at every arrival and goes back to sleep: the
// same CPU activity as the pipeline's producer, none of its work.
FloorResult run_fdatasync_floor(const fs::path& base, std::size_t records, double rate,
                                uint64_t record_bytes, uint64_t segment_size, const CpuPair* cpus) {
  settle_disk(base);
  const fs::path dir = fresh_dir(base, "floor");
  const fs::path path = dir / "floor.bin";
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) die("open " + path.string());
  if (::posix_fallocate(fd, 0, static_cast<off_t>(segment_size)) != 0) die("posix_fallocate");
  ::fdatasync(fd);
  const std::vector<char> bytes(record_bytes * 4096, '\x5A');
  std::vector<int64_t> latency;
  latency.reserve(records);
  FloorResult result;
  const LoadWindow load;
  const double interval_ns = 1e9 / rate;
  const int64_t start = now_ns();
  auto due = [&](std::size_t i) { return start + static_cast<int64_t>(i * interval_ns); };
  std::size_t synced = 0;
  uint64_t offset = 0;
  std::thread waker;
  if (cpus != nullptr) {
    pin_current_thread(cpus->consumer);
    waker = std::thread([&, cpu = cpus->producer] {
      pin_current_thread(cpu);
      for (std::size_t i = 0; i < records; ++i) {
        const int64_t wake = due(i);
        const timespec until{static_cast<time_t>(wake / 1'000'000'000),
                             static_cast<long>(wake % 1'000'000'000)};
        ::clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until, nullptr);
      }
    });
  }
  while (synced < records) {
    const int64_t now = now_ns();
    std::size_t arrived = std::min(
        records, static_cast<std::size_t>(static_cast<double>(now - start) / interval_ns) + 1);
    if (arrived == synced) {
      const int64_t wake = due(synced);
      const timespec until{static_cast<time_t>(wake / 1'000'000'000),
                           static_cast<long>(wake % 1'000'000'000)};
      ::clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until, nullptr);
      continue;
    }
    arrived = std::min(arrived, synced + 4096);
    const uint64_t length = (arrived - synced) * record_bytes;
    if (offset + length > segment_size) offset = 0;  // rewrite the start: the extent is written
    if (::pwrite(fd, bytes.data(), length, static_cast<off_t>(offset)) < 0) die("pwrite");
    offset += length;
    if (::fdatasync(fd) != 0) die("fdatasync");
    ++result.syncs;
    const int64_t done = now_ns();
    for (; synced < arrived; ++synced) {
      latency.push_back(done - due(synced));
      if (latency.back() > 1'000'000) ++result.over_1ms;
    }
  }
  if (waker.joinable()) waker.join();
  if (cpus != nullptr) pin_current_thread(-1);
  result.load = load.end();
  ::close(fd);
  remove_dir(dir);
  result.worst_at_ms =
      static_cast<double>(std::max_element(latency.begin(), latency.end()) - latency.begin()) *
      interval_ns / 1e6;
  result.ack = percentiles(latency);
  return result;
}

void print_floor(const FloorResult& r, double rate, const char* variant) {
  char label[48];
  std::snprintf(label, sizeof label, "floor%s @ %s", variant, fmt_rate(rate).c_str());
  std::printf(
      "    bare fdsync %-16s %-40s %10s   syncs %" PRIu64
      " (%.1f rec/sync; the syncing thread does pwrite + fdatasync only)",
      label, fmt_pct(r.ack).c_str(), "", r.syncs,
      static_cast<double>(r.ack.count) / static_cast<double>(std::max<uint64_t>(1, r.syncs)));
  if (r.over_1ms > 0) std::printf("  over 1 ms: %" PRIu64, r.over_1ms);
  std::printf("  slowest at %.0f ms  [%s]\n", r.worst_at_ms, fmt_load(r.load).c_str());
}

}  // namespace qt::bench
