// JournalWriter (segments, preparer thread, commit) and JournalAgent (ring drain + commit
// policy). Thread ownership and guarantees: persist/journal.hpp; format: persist/FORMAT.md.
#include "persist/journal.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "absl/strings/cord.h"
#include "engine/clock.hpp"
#include "persist/data_dir.hpp"
#include "persist/file_modes.hpp"
#include "persist/segment_format.hpp"

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23  // Linux 5.14; older kernels answer EINVAL
#endif

namespace qt::persist {

using format::FileHeader;
using format::kFileHeaderSize;
using format::kRecordHeaderSize;
using format::RecordHeader;

namespace {

constexpr uint64_t kPageSize = 4096;
constexpr uint64_t kPrefetchDistance = 1024;  // bytes ahead of the record being written
// Durable modes: records collect here between commits; a commit pwrite()s them. Far more than a
// group commit's worth (256 records of at most a few hundred bytes); when it fills between
// commits anyway it is written out (not synced) and reused.
constexpr std::size_t kStagingSize = 1 << 20;
// Segments the preparer keeps ready ahead of the writer (async mode fills a 64 MiB segment in
// ~70 ms at 10M records/s, about what preparing one takes on this VM: one in reserve absorbs
// the jitter).
constexpr std::size_t kPreparedAhead = 2;
constexpr auto kPreparerPollInterval = std::chrono::milliseconds(1);
constexpr int64_t kPreparerRetryNs = 100'000'000;

int64_t realtime_ns() {
  timespec ts;
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

// Payloads of an I/O error's status, read back into a JournalFailure.
constexpr char kErrnoPayload[] = "qt.journal/errno";
constexpr char kOperationPayload[] = "qt.journal/operation";
constexpr char kPathPayload[] = "qt.journal/path";

// `what` is "cannot <operation>".
absl::Status errno_status(std::string_view what, const std::filesystem::path& path, int error) {
  const std::string message =
      fmt::format("journal: {} {}: {}", what, path.string(), std::strerror(error));
  absl::Status status = error == ENOSPC || error == EDQUOT ? absl::ResourceExhaustedError(message)
                                                           : absl::UnavailableError(message);
  std::string_view operation = what;
  if (operation.starts_with("cannot ")) operation.remove_prefix(7);
  status.SetPayload(kErrnoPayload, absl::Cord(std::to_string(error)));
  status.SetPayload(kOperationPayload, absl::Cord(std::string(operation)));
  status.SetPayload(kPathPayload, absl::Cord(path.string()));
  return status;
}

JournalFailure failure_of(const absl::Status& status) {
  JournalFailure failure;
  failure.message = std::string(status.message());
  if (auto error = status.GetPayload(kErrnoPayload)) {
    failure.error = std::stoi(std::string(*error));
  }
  if (auto operation = status.GetPayload(kOperationPayload)) {
    failure.operation = std::string(*operation);
  }
  if (auto path = status.GetPayload(kPathPayload)) {
    failure.path = std::string(*path);
  }
  return failure;
}

class SystemFileIo final : public JournalFileIo {
 public:
  int open(const char* path, int flags, mode_t mode) override { return ::open(path, flags, mode); }
  ssize_t pwrite(int fd, const void* data, size_t size, off_t offset) override {
    return ::pwrite(fd, data, size, offset);
  }
  int fdatasync(int fd) override { return ::fdatasync(fd); }
  int fsync(int fd) override { return ::fsync(fd); }
  int posix_fallocate(int fd, off_t offset, off_t length) override {
    return ::posix_fallocate(fd, offset, length);
  }
};

absl::Status fsync_directory(JournalFileIo& io, const std::filesystem::path& dir) {
  const int fd = io.open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
  if (fd < 0) return errno_status("cannot open directory", dir, errno);
  const int rc = io.fsync(fd);
  const int error = errno;
  ::close(fd);
  if (rc != 0) return errno_status("cannot fsync directory", dir, error);
  return absl::OkStatus();
}

// Makes every page of [from, to) of a writable shared mapping ready for stores that cost no
// more than a cache miss. MADV_POPULATE_WRITE maps the pages writable, but on this hardware (a
// VM) the first CPU store to each page still costs about 5 µs afterwards; a store per page here,
// off the append path, pays that instead. The store writes back the byte already there, so it
// is harmless on a page that holds records.
void populate_for_write(std::byte* base, uint64_t from, uint64_t to) {
  from &= ~(kPageSize - 1);
  if (from >= to) return;
  (void)::madvise(base + from, to - from, MADV_POPULATE_WRITE);  // older kernels: EINVAL
  for (uint64_t offset = from; offset < to; offset += kPageSize) {
    auto* byte = reinterpret_cast<volatile unsigned char*>(base + offset);
    *byte = *byte;
  }
}

}  // namespace

std::string_view to_string(Durability durability) {
  switch (durability) {
    case Durability::kAsync: return "async";
    case Durability::kGroup: return "group";
    case Durability::kSync: return "sync";
  }
  return "group";
}

absl::StatusOr<Durability> durability_from_string(std::string_view text) {
  if (text == "async") return Durability::kAsync;
  if (text == "group") return Durability::kGroup;
  if (text == "sync") return Durability::kSync;
  return absl::InvalidArgumentError("durability must be one of async, group, sync; got \"" +
                                    std::string(text) + "\"");
}

JournalFileIo& system_file_io() {
  static SystemFileIo io;
  return io;
}

std::string describe(const JournalFailure& failure) {
  if (failure.error == 0) return failure.message;
  const char* name = ::strerrorname_np(failure.error);
  return fmt::format("{} ({}) on {} of {}",
                     name != nullptr ? std::string(name) : std::to_string(failure.error),
                     std::strerror(failure.error), failure.operation, failure.path.string());
}

// ---------------------------------------------------------------------------------------------
// Segment files and the preparer.

namespace {

// One segment file mapped read-write. Owned by exactly one of: the preparer (while prepared), the
// writer (while active or awaiting its last sync), the preparer again (to retire it).
struct MappedFile {
  int fd = -1;
  std::byte* base = nullptr;
  uint64_t size = 0;
  std::filesystem::path path;

  ~MappedFile() {
    if (base != nullptr) ::munmap(base, size);
    if (fd >= 0) ::close(fd);
  }
};

// Maps `fd` (already `size` bytes long) read-write and shared.
absl::Status map_file(MappedFile& file) {
  void* base = ::mmap(nullptr, file.size, PROT_READ | PROT_WRITE, MAP_SHARED, file.fd, 0);
  if (base == MAP_FAILED) return errno_status("cannot mmap", file.path, errno);
  file.base = static_cast<std::byte*>(base);
  return absl::OkStatus();
}

// Creates a new prepared segment file: all zeros, `size` bytes, blocks allocated (fallocate).
// Async mode (records are stored through the mapping): mapped and faulted in. Durable modes
// (records are pwrite()n at each commit): the allocation is fdatasynced and the file is not
// mapped. Durable modes deliberately do not write the zeros out: on a virtual disk a cache flush
// also flushes every other write in flight, and 64 MiB of zeros written beside the commits took
// their fdatasync p99 from ~0.45 ms to 3-4 ms (max 20-100 ms), while a pwrite into an unwritten
// extent + fdatasync costs what one into written zeros does (~0.25 ms p50 / 0.45 ms p99 both,
// measured here). Its header is left zero: the writer writes it when it starts using it.
absl::StatusOr<std::unique_ptr<MappedFile>> prepare_segment_file(JournalFileIo& io,
                                                                 const std::filesystem::path& dir,
                                                                 uint64_t size, bool durable,
                                                                 std::atomic<uint64_t>& names) {
  auto file = std::make_unique<MappedFile>();
  for (int attempt = 0; file->fd < 0; ++attempt) {
    file->path =
        dir / fmt::format("{}{:020}{}", format::kPreparedPrefix,
                          names.fetch_add(1, std::memory_order_relaxed), format::kPreparedSuffix);
    file->fd = io.open(file->path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, kDataFileMode);
    if (file->fd < 0 && (errno != EEXIST || attempt > 1000)) {
      return errno_status("cannot create segment file", file->path, errno);
    }
  }
  file->size = size;
  auto fail = [&](std::string_view what, int error) {
    const absl::Status status = errno_status(what, file->path, error);
    std::error_code ec;
    std::filesystem::remove(file->path, ec);
    return status;
  };
  if (const int rc = io.posix_fallocate(file->fd, 0, static_cast<off_t>(size)); rc != 0) {
    return fail("cannot preallocate segment file", rc);
  }
  if (durable) {
    if (io.fdatasync(file->fd) != 0) return fail("cannot fdatasync segment file", errno);
    if (absl::Status s = fsync_directory(io, dir); !s.ok()) return s;
    return file;
  }
  if (absl::Status s = map_file(*file); !s.ok()) {
    std::error_code ec;
    std::filesystem::remove(file->path, ec);
    return s;
  }
  populate_for_write(file->base, 0, size);
  return file;
}

// pwrite() of all of [data, data + size) at `offset`, through short writes and EINTR.
absl::Status write_all(JournalFileIo& io, const MappedFile& file, const std::byte* data,
                       uint64_t size, uint64_t offset) noexcept {
  while (size > 0) {
    const ssize_t written = io.pwrite(file.fd, data, size, static_cast<off_t>(offset));
    if (written < 0) {
      if (errno == EINTR) continue;
      return errno_status("cannot write", file.path, errno);
    }
    data += written;
    size -= static_cast<uint64_t>(written);
    offset += static_cast<uint64_t>(written);
  }
  return absl::OkStatus();
}

struct PreparerTask {
  enum Kind : uint8_t { kActivated, kRetire };
  Kind kind = kActivated;
  MappedFile* file = nullptr;
  uint64_t first_sequence = 0;
};

}  // namespace

struct JournalWriter::Impl {
  Impl(const JournalOptions& options, JournalStats& stats)
      : options(options),
        io(options.file_io != nullptr ? *options.file_io : system_file_io()),
        durable(options.durability != Durability::kAsync),
        stats(stats) {
    if (durable) staging = std::make_unique<std::byte[]>(kStagingSize);
  }

  ~Impl() {
    stop_preparer();
    delete unsynced_previous;
    delete active;
  }

  // --- writer thread -------------------------------------------------------------------------

  void write_record(uint16_t type, uint64_t sequence, int64_t timestamp_ns,
                    const std::byte* payload, uint32_t payload_size) noexcept {
    RecordHeader header{};
    header.length = kRecordHeaderSize + payload_size;
    header.type = type;
    header.sequence = sequence;
    header.timestamp_ns = timestamp_ns;
    header.flags = durable && commit_in_flight ? format::kRecordSameCommit : 0;
    commit_in_flight = durable;
    header.crc = format::record_crc(header, payload, payload_size);
    std::byte* record = at_write_offset();
    const uint64_t padded = format::padded_length(header.length);
    // Everything but the length word first; the length word is the record's commit point for a
    // concurrent reader.
    std::memcpy(record + sizeof(uint32_t), reinterpret_cast<const std::byte*>(&header) + 4,
                kRecordHeaderSize - sizeof(uint32_t));
    std::memcpy(record + kRecordHeaderSize, payload, payload_size);
    if (padded > header.length) std::memset(record + header.length, 0, padded - header.length);
    __atomic_store_n(reinterpret_cast<uint32_t*>(record), header.length, __ATOMIC_RELEASE);
    write_offset += padded;
    // Ask for the lines a few records ahead now, so later appends do not wait on a cache miss
    // (a hint: it cannot fault, even past the end of the mapping).
    __builtin_prefetch(record + kPrefetchDistance, 1, 3);
    active_dirty = true;
  }

  // Where the record starting at write_offset goes: the mapping (async) or the staging buffer.
  std::byte* at_write_offset() noexcept {
    return durable ? staging.get() + (write_offset - staged_from) : active->base + write_offset;
  }

  // Durable modes: room for `padded` more bytes in the staging buffer (written out when full).
  absl::Status reserve(uint64_t padded) noexcept {
    if (!durable || write_offset - staged_from + padded <= kStagingSize) return absl::OkStatus();
    return write_staged();
  }

  // Durable modes: pwrite() of the staged records to the active segment (not yet synced).
  absl::Status write_staged() noexcept {
    if (!durable || write_offset == staged_from) return absl::OkStatus();
    if (absl::Status s =
            write_all(io, *active, staging.get(), write_offset - staged_from, staged_from);
        !s.ok()) {
      return s;
    }
    staged_from = write_offset;
    return absl::OkStatus();
  }

  absl::Status write_seal(uint64_t next_sequence, SealReason reason) noexcept {
    const uint64_t padded = format::padded_length(kRecordHeaderSize + sizeof(SegmentSealRecord));
    if (absl::Status s = reserve(padded); !s.ok()) return s;
    SegmentSealRecord seal;
    seal.next_sequence = next_sequence;
    seal.record_count = active_records;
    seal.reason = reason;
    write_record(static_cast<uint16_t>(RecordType::kSegmentSeal), next_sequence - 1, realtime_ns(),
                 reinterpret_cast<const std::byte*>(&seal), sizeof(seal));
    return absl::OkStatus();
  }

  bool fits(uint64_t padded) const noexcept {
    return write_offset + padded + format::kSealReserve <= active->size;
  }

  // Starts writing `file`. Its header goes in first — in the durable modes with a pwrite() right
  // away, so that no reader ever finds the renamed segment without its header.
  absl::Status activate(MappedFile& file, uint64_t index, uint64_t first_sequence) noexcept {
    const FileHeader header =
        format::make_file_header(index, first_sequence, file.size, realtime_ns());
    if (durable) {
      if (absl::Status s =
              write_all(io, file, reinterpret_cast<const std::byte*>(&header), sizeof(header), 0);
          !s.ok()) {
        return s;
      }
    } else {
      std::memcpy(file.base, &header, sizeof(header));
    }
    active = &file;
    active_index = index;
    active_records = 0;
    write_offset = kFileHeaderSize;
    staged_from = kFileHeaderSize;
    active_dirty = true;
    return absl::OkStatus();
  }

  // Seals the active segment and continues in the prepared one. No system call unless the
  // preparer is late, or (durable modes) two switches happen without a commit between them.
  absl::Status switch_segment(uint64_t next_sequence) noexcept {
    if (durable && unsynced_previous != nullptr) {
      // Two switches without a commit between them: sync the older one now.
      if (io.fdatasync(unsynced_previous->fd) != 0) {
        return errno_status("cannot fdatasync", unsynced_previous->path, errno);
      }
      retire(unsynced_previous);
      unsynced_previous = nullptr;
    }
    MappedFile* next = take_ready();
    if (next == nullptr) {
      increment(stats.late_preparations);
      absl::StatusOr<std::unique_ptr<MappedFile>> made =
          prepare_segment_file(io, options.dir, options.segment_size, durable, prepared_names);
      if (!made.ok()) return made.status();
      next = made->release();
    }
    if (absl::Status s = write_seal(next_sequence, SealReason::kNextSegment); !s.ok()) return s;
    if (durable) {
      if (absl::Status s = write_staged(); !s.ok()) return s;
      unsynced_previous = active;
    } else {
      retire(active);
    }
    if (absl::Status s = activate(*next, active_index + 1, next_sequence); !s.ok()) {
      active = next;  // owned (and unmapped, closed) through `active` from here on
      return s;
    }
    push_task({PreparerTask::kActivated, next, next_sequence});
    increment(stats.segment_switches);
    return absl::OkStatus();
  }

  // fdatasync of everything written since the last sync (durable modes).
  absl::Status sync() noexcept {
    if (unsynced_previous != nullptr) {
      if (io.fdatasync(unsynced_previous->fd) != 0) {
        return errno_status("cannot fdatasync", unsynced_previous->path, errno);
      }
      retire(unsynced_previous);
      unsynced_previous = nullptr;
    }
    if (active_dirty) {
      if (absl::Status s = write_staged(); !s.ok()) return s;
      if (io.fdatasync(active->fd) != 0)
        return errno_status("cannot fdatasync", active->path, errno);
      active_dirty = false;
    }
    commit_in_flight = false;
    return absl::OkStatus();
  }

  void retire(MappedFile* file) noexcept { push_task({PreparerTask::kRetire, file, 0}); }

  void push_task(const PreparerTask& task) noexcept {
    if (preparer.joinable() && tasks.try_push(task)) return;
    handle(task);  // no preparer (closing) or its queue is full: do it here
  }

  // Single-writer counters: a load and a store, no read-modify-write.
  static void add(std::atomic<uint64_t>& counter, uint64_t amount) noexcept {
    counter.store(counter.load(std::memory_order_relaxed) + amount, std::memory_order_relaxed);
  }
  static void increment(std::atomic<uint64_t>& counter) noexcept { add(counter, 1); }

  // --- preparer thread -----------------------------------------------------------------------

  void start_preparer() {
    preparer = std::thread([this] { preparer_loop(); });
  }

  void stop_preparer() {
    if (!preparer.joinable()) return;
    stop.store(true, std::memory_order_release);
    preparer.join();
    preparer = std::thread();
  }

  void preparer_loop() {
    int64_t retry_at = 0;
    while (true) {
      bool worked = false;
      PreparerTask task;
      while (tasks.try_pop(task)) {
        handle(task);
        worked = true;
      }
      if (stop.load(std::memory_order_acquire)) break;
      // Only this thread adds to ready_segments, so its size can only be smaller than seen.
      if (ready_segments.size_approx() < kPreparedAhead && now_ns() >= retry_at) {
        absl::StatusOr<std::unique_ptr<MappedFile>> made =
            prepare_segment_file(io, options.dir, options.segment_size, durable, prepared_names);
        if (made.ok()) {
          (void)ready_segments.try_push(made->release());
          increment(stats.segments_prepared);
        } else {
          spdlog::warn("journal: preparing the next segment failed (will retry): {}",
                       std::string(made.status().message()));
          retry_at = now_ns() + kPreparerRetryNs;
        }
        worked = true;
      }
      if (!worked) std::this_thread::sleep_for(kPreparerPollInterval);
    }
    PreparerTask task;
    while (tasks.try_pop(task)) handle(task);
    while (MappedFile* unused = take_ready()) discard(unused);
  }

  MappedFile* take_ready() noexcept {
    MappedFile* file = nullptr;
    return ready_segments.try_pop(file) ? file : nullptr;
  }

  // Runs on the preparer thread, or on the writer thread when there is no preparer.
  void handle(const PreparerTask& task) noexcept {
    switch (task.kind) {
      case PreparerTask::kActivated: {
        const std::filesystem::path final_path =
            options.dir / segment_file_name(task.first_sequence);
        if (::rename(task.file->path.c_str(), final_path.c_str()) != 0) {
          // Readers and recovery still find it under its prepared name.
          spdlog::error("journal: cannot rename {} to {}: {}", task.file->path.string(),
                        final_path.string(), std::strerror(errno));
          return;
        }
        task.file->path = final_path;
        if (durable) {
          if (absl::Status s = fsync_directory(io, options.dir); !s.ok()) {
            spdlog::error("{}", std::string(s.message()));
          }
        }
        return;
      }
      case PreparerTask::kRetire: delete task.file; return;
    }
  }

  static void discard(MappedFile* file) {
    const std::filesystem::path path = file->path;
    delete file;
    std::error_code ec;
    std::filesystem::remove(path, ec);
  }

  JournalOptions options;
  JournalFileIo& io;
  const bool durable;
  JournalStats& stats;

  MappedFile* active = nullptr;
  MappedFile* unsynced_previous = nullptr;  // durable modes: sealed, not yet fdatasynced
  uint64_t write_offset = 0;
  uint64_t active_index = 0;
  uint64_t active_records = 0;
  bool active_dirty = false;
  // Durable modes: a record has been written since the last completed sync(); the next one
  // carries kRecordSameCommit.
  bool commit_in_flight = false;
  bool closed = false;

  // Durable modes: records appended since the last write_staged(); staging[0] belongs at segment
  // offset staged_from.
  std::unique_ptr<std::byte[]> staging;
  uint64_t staged_from = 0;

  SpscRing<MappedFile*, kPreparedAhead> ready_segments;  // preparer -> writer
  SpscRing<PreparerTask, 64> tasks;
  std::atomic<uint64_t> prepared_names{0};
  std::atomic<bool> stop{false};
  std::thread preparer;
};

// ---------------------------------------------------------------------------------------------
// JournalWriter.

JournalWriter::JournalWriter(const JournalOptions& options) : options_(options) {}

JournalWriter::~JournalWriter() {
  if (absl::Status s = close(); !s.ok()) {
    spdlog::error("journal: closing {} failed: {}", options_.dir.string(),
                  std::string(s.message()));
  }
}

absl::StatusOr<std::unique_ptr<JournalWriter>> JournalWriter::open(const JournalOptions& options,
                                                                   uint64_t next_sequence) {
  if (options.dir.empty()) return absl::InvalidArgumentError("journal: no directory given");
  if (options.segment_size < JournalOptions::kMinSegmentSize ||
      options.segment_size % kPageSize != 0) {
    return absl::InvalidArgumentError(
        fmt::format("journal: segment size {} must be a multiple of {} and at least {}",
                    options.segment_size, kPageSize, JournalOptions::kMinSegmentSize));
  }
  if (options.group_commit_max_records == 0 || options.group_commit_interval_ns < 0) {
    return absl::InvalidArgumentError(
        "journal: group_commit_max_records must be > 0 and group_commit_interval_ns >= 0");
  }
  if (next_sequence == 0) return absl::InvalidArgumentError("journal: sequences start at 1");
  std::error_code ec;
  create_private_directories(options.dir, ec);
  if (ec) {
    return absl::UnavailableError(
        fmt::format("journal: cannot create directory {}: {}", options.dir.string(), ec.message()));
  }
  std::vector<std::filesystem::path> unused_prepared;
  absl::StatusOr<std::vector<format::JournalFile>> files =
      format::list_journal_files(options.dir, &unused_prepared);
  if (!files.ok()) return files.status();
  for (const std::filesystem::path& path : unused_prepared) std::filesystem::remove(path, ec);
  for (const format::JournalFile& file : *files) {
    if (file.prepared_name) {
      return absl::FailedPreconditionError(
          fmt::format("journal: {} is in use but not yet named as a segment; run recovery "
                      "(recover_journal) before opening the journal for writing",
                      file.path.string()));
    }
  }

  std::unique_ptr<JournalWriter> writer(new JournalWriter(options));
  writer->impl_ = std::make_unique<Impl>(options, writer->stats_);
  Impl& impl = *writer->impl_;
  const bool durable = options.durability != Durability::kAsync;

  uint64_t new_segment_index = 0;
  if (!files->empty()) {
    const std::filesystem::path& path = files->back().path;
    auto file = std::make_unique<MappedFile>();
    file->path = path;
    file->fd = impl.io.open(path.c_str(), O_RDWR | O_CLOEXEC, 0);
    if (file->fd < 0) return errno_status("cannot open", path, errno);
    struct stat st {};
    if (::fstat(file->fd, &st) != 0) return errno_status("cannot stat", path, errno);
    file->size = static_cast<uint64_t>(st.st_size);
    if (file->size < kFileHeaderSize) {
      return absl::FailedPreconditionError(fmt::format(
          "journal: {} is shorter than a segment header; run recovery first", path.string()));
    }
    if (absl::Status s = map_file(*file); !s.ok()) return s;
    const format::SegmentScan scan = format::scan_segment(file->base, file->size);
    if (scan.damaged) {
      return absl::FailedPreconditionError(
          fmt::format("journal: {} is damaged at offset {} ({}); run recovery (recover_journal) "
                      "before opening the journal for writing",
                      path.string(), scan.damage_offset, scan.damage_reason));
    }
    const uint64_t expected_next = scan.last_sequence + 1;
    if (next_sequence != expected_next) {
      return absl::FailedPreconditionError(fmt::format(
          "journal: next sequence {} does not continue the journal in {}, which ends at {}",
          next_sequence, options.dir.string(), expected_next - 1));
    }
    new_segment_index = scan.header.segment_index + 1;
    if (!scan.sealed) {
      // Continue in it: grow it back to its preallocated size if a repair or a crash left it
      // shorter, then fault in the part still to be written.
      const uint64_t full_size = std::max(scan.header.segment_size, file->size);
      if (full_size > file->size) {
        ::munmap(file->base, file->size);
        file->base = nullptr;
        if (const int rc = impl.io.posix_fallocate(file->fd, 0, static_cast<off_t>(full_size));
            rc != 0) {
          return errno_status("cannot extend", path, rc);
        }
        file->size = full_size;
        if (absl::Status s = map_file(*file); !s.ok()) return s;
      }
      if (durable) {
        // Records go in by pwrite() from here on; the mapping was for the scan.
        ::munmap(file->base, file->size);
        file->base = nullptr;
      } else {
        populate_for_write(file->base, scan.data_end, file->size);
      }
      impl.active = file.release();
      impl.active_index = scan.header.segment_index;
      impl.active_records = scan.records;
      impl.write_offset = scan.data_end;
      impl.staged_from = scan.data_end;
    }
  }
  if (impl.active == nullptr) {
    absl::StatusOr<std::unique_ptr<MappedFile>> made = prepare_segment_file(
        impl.io, options.dir, options.segment_size, durable, impl.prepared_names);
    if (!made.ok()) return made.status();
    MappedFile* file = made->release();
    if (absl::Status s = impl.activate(*file, new_segment_index, next_sequence); !s.ok()) {
      impl.active = file;  // the Impl closes it
      return s;
    }
    impl.handle({PreparerTask::kActivated, file, next_sequence});  // no preparer yet: renames now
    if (absl::Status s = fsync_directory(impl.io, options.dir); !s.ok()) return s;
  }
  writer->next_sequence_ = next_sequence;
  writer->durable_sequence_.store(next_sequence - 1, std::memory_order_release);
  impl.start_preparer();
  return writer;
}

absl::Status JournalWriter::append(const JournalEntry& entry) noexcept {
  if (entry.size > JournalEntry::kPayloadCapacity) {
    return absl::InvalidArgumentError(
        fmt::format("journal: bad entry (type {}, size {})", entry.type, entry.size));
  }
  return append(entry.type, entry.sequence, entry.timestamp_ns,
                std::span<const std::byte>(entry.payload.data(), entry.size));
}

absl::Status JournalWriter::append(uint16_t type, uint64_t sequence, int64_t timestamp_ns,
                                   std::span<const std::byte> payload) noexcept {
  if (failed_.load(std::memory_order_relaxed)) {
    return absl::FailedPreconditionError("journal: writer has failed; no further appends");
  }
  if (sequence != next_sequence_) {
    return absl::FailedPreconditionError(fmt::format(
        "journal: append of sequence {} but the next sequence is {}", sequence, next_sequence_));
  }
  if (payload.size() > kMaxRecordPayload || type == 0 || is_internal(type)) {
    return absl::InvalidArgumentError(
        fmt::format("journal: bad record (type {}, payload {} bytes, at most {})", type,
                    payload.size(), kMaxRecordPayload));
  }
  Impl& impl = *impl_;
  const uint64_t padded = format::padded_length(kRecordHeaderSize + payload.size());
  if (!impl.fits(padded)) {
    if (absl::Status s = impl.switch_segment(next_sequence_); !s.ok()) {
      failed_.store(true, std::memory_order_release);
      return s;
    }
  }
  if (absl::Status s = impl.reserve(padded); !s.ok()) {
    failed_.store(true, std::memory_order_release);
    return s;
  }
  impl.write_record(type, sequence, timestamp_ns, payload.data(),
                    static_cast<uint32_t>(payload.size()));
  ++impl.active_records;
  ++next_sequence_;
  ++pending_records_;
  Impl::increment(stats_.records);
  Impl::add(stats_.bytes, padded);
  return absl::OkStatus();
}

absl::Status JournalWriter::commit() noexcept {
  if (failed_.load(std::memory_order_relaxed)) {
    return absl::FailedPreconditionError("journal: writer has failed; nothing more is durable");
  }
  Impl& impl = *impl_;
  if (impl.durable && (impl.active_dirty || impl.unsynced_previous != nullptr)) {
    const int64_t start = now_ns();
    if (absl::Status s = impl.sync(); !s.ok()) {
      // After a failed fdatasync the kernel may have dropped the dirty pages: nothing appended
      // since the last good commit can be trusted to be on disk.
      failed_.store(true, std::memory_order_release);
      return s;
    }
    stats_.commit_ns.record(now_ns() - start);
    Impl::increment(stats_.commits);
  }
  pending_records_ = 0;
  if (durable_sequence_.load(std::memory_order_relaxed) != next_sequence_ - 1) {
    durable_sequence_.store(next_sequence_ - 1, std::memory_order_release);
  }
  return absl::OkStatus();
}

absl::Status JournalWriter::close() {
  if (!impl_ || impl_->closed) return absl::OkStatus();
  Impl& impl = *impl_;
  impl.closed = true;
  impl.stop_preparer();  // finishes renames and retirements, removes the unused prepared file
  // Failed (or never fully opened): nothing more to write; the Impl unmaps what it holds.
  if (failed_.load(std::memory_order_acquire) || impl.active == nullptr) return absl::OkStatus();

  MappedFile* active = impl.active;
  const bool empty = impl.active_records == 0;
  absl::Status status =
      empty ? absl::OkStatus() : impl.write_seal(next_sequence_, SealReason::kShutdown);
  // In every mode, including async: a clean shutdown leaves the active segment on disk.
  if (status.ok()) status = impl.sync();
  if (!status.ok()) {
    failed_.store(true, std::memory_order_release);
    return status;
  }
  if (active->base != nullptr) ::munmap(active->base, active->size);
  active->base = nullptr;
  if (empty) {
    // Holds no record: remove it rather than leave a sealed empty segment per restart.
    if (::unlink(active->path.c_str()) != 0) {
      status = errno_status("cannot remove empty segment", active->path, errno);
    }
  } else if (::ftruncate(active->fd, static_cast<off_t>(impl.write_offset)) != 0 ||
             impl.io.fsync(active->fd) != 0) {
    status = errno_status("cannot trim sealed segment", active->path, errno);
  }
  if (status.ok()) status = fsync_directory(impl.io, options_.dir);
  if (status.ok()) {
    pending_records_ = 0;
    durable_sequence_.store(next_sequence_ - 1, std::memory_order_release);
  }
  return status;
}

// ---------------------------------------------------------------------------------------------
// JournalAgent.

JournalAgent::JournalAgent(JournalWriter& writer, JournalRing& ring, Doorbell* durable_doorbell)
    : writer_(writer),
      ring_(ring),
      durable_doorbell_(durable_doorbell),
      durability_(writer.options().durability),
      batch_limit_(durability_ == Durability::kGroup ? writer.options().group_commit_max_records
                                                     : 256) {}

void JournalAgent::fail(const absl::Status& status) {
  if (failed_.load(std::memory_order_relaxed)) return;  // the first error is the one reported
  failure_ = failure_of(status);
  failed_.store(true, std::memory_order_release);
  spdlog::critical(
      "JOURNAL FAILED: {}; the durable sequence stays at {}: new orders are refused, cancels "
      "still go to the venue, nothing more is journaled until a restart",
      describe(failure_), writer_.durable_sequence().load());
}

bool JournalAgent::commit_and_publish() {
  const uint64_t before = writer_.durable_sequence().load(std::memory_order_relaxed);
  if (absl::Status s = writer_.commit(); !s.ok()) {
    fail(s);
    return false;
  }
  if (durable_doorbell_ != nullptr &&
      writer_.durable_sequence().load(std::memory_order_relaxed) != before) {
    durable_doorbell_->ring();
  }
  return true;
}

int JournalAgent::do_work() {
  if (failed()) return 0;
  const bool per_record = durability_ == Durability::kSync;
  const std::size_t drained = ring_.drain(
      [&](const JournalEntry& entry) {
        if (failed()) return;
        if (absl::Status s = writer_.append(entry); !s.ok()) {
          fail(s);
          return;
        }
        if (per_record) commit_and_publish();
      },
      batch_limit_);
  if (failed() || writer_.pending_records() == 0) return static_cast<int>(drained);

  if (durability_ == Durability::kGroup) {
    const int64_t now = now_ns();
    const bool interval_passed =
        now - last_commit_end_ns_ >= writer_.options().group_commit_interval_ns;
    if (!interval_passed &&
        writer_.pending_records() < writer_.options().group_commit_max_records) {
      return std::max<int>(static_cast<int>(drained), 1);  // due soon: do not park
    }
    commit_and_publish();
    last_commit_end_ns_ = now_ns();
    return std::max<int>(static_cast<int>(drained), 1);
  }
  commit_and_publish();  // kAsync
  return static_cast<int>(drained);
}

void JournalAgent::on_close() {
  while (!failed() && !ring_.empty_approx()) {
    ring_.drain([&](const JournalEntry& entry) {
      if (failed()) return;
      if (absl::Status s = writer_.append(entry); !s.ok()) fail(s);
    });
  }
  if (!failed()) commit_and_publish();
  if (absl::Status s = writer_.close(); !s.ok()) fail(s);
}

}  // namespace qt::persist
