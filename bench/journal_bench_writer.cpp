// journal_bench rows on the writer's own thread: one fdatasync after a store into a mapping vs
// after a pwrite, and JournalWriter::append() timed one call at a time in each durability mode.
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstring>
#include <vector>

#include "bench/journal_bench.hpp"
#include "engine/clock.hpp"

namespace qt::bench {

FsyncResult run_fdatasync(const fs::path& base, std::size_t samples) {
  const fs::path dir = fresh_dir(base, "fdatasync");
  const fs::path path = dir / "probe.bin";
  constexpr uint64_t kSize = 16ull << 20;
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) die("open " + path.string());
  // Zero-filled and synced like a journal segment in the durable modes: later fdatasyncs write
  // data only, never extent or size metadata.
  std::vector<char> zeros(1 << 20, 0);
  for (uint64_t off = 0; off < kSize; off += zeros.size()) {
    if (::pwrite(fd, zeros.data(), zeros.size(), static_cast<off_t>(off)) < 0) die("pwrite");
  }
  ::fdatasync(fd);
  void* map = ::mmap(nullptr, kSize, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (map == MAP_FAILED) die("mmap");
  auto* bytes = static_cast<char*>(map);
  char record[96];
  std::memset(record, 0xA5, sizeof record);
  std::vector<int64_t> mapped, written;
  // The mapped half writes the first 8 MiB, the pwrite half the second; interleaved.
  auto store_and_sync = [&](uint64_t off) {
    std::memcpy(bytes + off, record, sizeof record);
    const int64_t t0 = now_ns();
    ::fdatasync(fd);
    mapped.push_back(now_ns() - t0);
  };
  auto write_and_sync = [&](uint64_t off) {
    if (::pwrite(fd, record, sizeof record, static_cast<off_t>(kSize / 2 + off)) < 0) die("pwrite");
    const int64_t t0 = now_ns();
    ::fdatasync(fd);
    written.push_back(now_ns() - t0);
  };
  for (std::size_t i = 0; i < samples; ++i) {
    const uint64_t off = (i * sizeof record) % (kSize / 2);
    if (i % 2 == 0) {  // alternate which goes first
      store_and_sync(off);
      write_and_sync(off);
    } else {
      write_and_sync(off);
      store_and_sync(off);
    }
  }
  ::munmap(map, kSize);
  ::close(fd);
  remove_dir(dir);
  return {percentiles(mapped), percentiles(written)};
}

AppendResult run_append(const fs::path& base, Durability mode, EntryPool& pool,
                        std::size_t latency_samples, std::size_t throughput_records,
                        uint64_t segment_size, const TickClock& clock) {
  settle_disk(base);
  const fs::path dir = fresh_dir(base, "append");
  std::unique_ptr<JournalWriter> writer = open_writer(dir, mode, segment_size);
  const uint64_t commit_every = mode == Durability::kSync ? 1 : kAgentBatch;
  AppendResult result;
  const LoadWindow load;
  result.first_commit_ns = first_commit(*writer, pool);
  std::vector<int64_t> samples(latency_samples);
  std::vector<int64_t> commits;
  commits.reserve(latency_samples / commit_every + 2);
  uint64_t sequence = 2;
  const bool entries = pool.fits_entry();
  for (std::size_t i = 0; i < latency_samples; ++i, ++sequence) {
    // Built outside the timed region, as the engine builds an entry before it reaches the journal.
    JournalEntry* entry = entries ? &pool.at(sequence) : nullptr;
    const std::span<const std::byte> bytes = pool.payload_bytes(sequence);
    const int64_t timestamp = EntryPool::timestamp(sequence);
    const uint64_t t0 = TickClock::now();
    const absl::Status status = entries
                                    ? writer->append(*entry)
                                    : writer->append(EntryPool::kType, sequence, timestamp, bytes);
    const uint64_t t1 = TickClock::now();
    if (!status.ok()) die("append: " + status.ToString());
    samples[i] = static_cast<int64_t>(t1 - t0);
    if (sequence % commit_every == 0) {
      const uint64_t c0 = TickClock::now();
      check(writer->commit(), "commit");
      commits.push_back(static_cast<int64_t>(TickClock::now() - c0));
    }
  }
  check(writer->commit(), "commit");
  double sum = 0;
  for (int64_t sample : samples) sum += static_cast<double>(sample);
  result.mean_ns = clock.to_ns(sum / static_cast<double>(samples.size()));
  result.latency = percentiles(samples, clock.to_ns(1.0));
  result.commit = percentiles(commits, clock.to_ns(1.0));

  const int64_t start = now_ns();
  for (std::size_t i = 0; i < throughput_records; ++i, ++sequence) {
    if (!pool.append(*writer, sequence).ok()) die("append");
    if (sequence % commit_every == 0) check(writer->commit(), "commit");
  }
  check(writer->commit(), "commit");
  const int64_t elapsed = now_ns() - start;
  result.records_per_second =
      static_cast<double>(throughput_records) * 1e9 / static_cast<double>(elapsed);
  result.load = load.end();
  result.counters = counters_of(*writer);
  check(writer->close(), "close");
  writer.reset();
  remove_dir(dir);
  return result;
}

void print_append(const char* mode, const AppendResult& r) {
  std::printf("    append()   %-6s %-40s %10s   mean %s", mode, fmt_pct(r.latency).c_str(),
              fmt_rate(r.records_per_second).c_str(), fmt_ns(r.mean_ns).c_str());
  if (r.commit.count > 0 && r.counters.commits > 0) {
    std::printf("   commit (fdatasync) p50/p99 %s / %s", fmt_ns(r.commit.p50).c_str(),
                fmt_ns(r.commit.p99).c_str());
  }
  std::printf("   first commit %s  switches %" PRIu64 " late-prep %" PRIu64 "  [%s]\n",
              fmt_ns(r.first_commit_ns).c_str(), r.counters.segment_switches,
              r.counters.late_preparations, fmt_load(r.load).c_str());
}

}  // namespace qt::bench
