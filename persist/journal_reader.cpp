// JournalReader, verify_journal and recover_journal; see persist/journal_reader.hpp.
#include "persist/journal_reader.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <optional>
#include <system_error>

#include "persist/data_dir.hpp"
#include "persist/file_modes.hpp"
#include "persist/segment_format.hpp"

namespace qt::persist {

using format::FileHeader;
using format::kFileHeaderSize;
using format::kRecordHeaderSize;
using format::RecordCheck;
using format::RecordHeader;

namespace {

// A whole file mapped read-only (nothing mapped for an empty file).
class ReadOnlyMapping {
 public:
  static absl::StatusOr<ReadOnlyMapping> open(const std::filesystem::path& path) {
    ReadOnlyMapping m;
    m.fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (m.fd_ < 0) {
      return absl::UnavailableError(
          fmt::format("cannot open {}: {}", path.string(), std::strerror(errno)));
    }
    struct stat st {};
    if (::fstat(m.fd_, &st) != 0) {
      return absl::UnavailableError(
          fmt::format("cannot stat {}: {}", path.string(), std::strerror(errno)));
    }
    m.size_ = static_cast<uint64_t>(st.st_size);
    if (m.size_ > 0) {
      void* base = ::mmap(nullptr, m.size_, PROT_READ, MAP_SHARED, m.fd_, 0);
      if (base == MAP_FAILED) {
        return absl::UnavailableError(
            fmt::format("cannot mmap {}: {}", path.string(), std::strerror(errno)));
      }
      m.base_ = static_cast<const std::byte*>(base);
    }
    return m;
  }
  ReadOnlyMapping() = default;
  ReadOnlyMapping(ReadOnlyMapping&& other) noexcept { *this = std::move(other); }
  ReadOnlyMapping& operator=(ReadOnlyMapping&& other) noexcept {
    std::swap(fd_, other.fd_);
    std::swap(base_, other.base_);
    std::swap(size_, other.size_);
    return *this;
  }
  ~ReadOnlyMapping() {
    if (base_ != nullptr) ::munmap(const_cast<std::byte*>(base_), size_);
    if (fd_ >= 0) ::close(fd_);
  }
  const std::byte* base() const { return base_; }
  uint64_t size() const { return size_; }

 private:
  int fd_ = -1;
  const std::byte* base_ = nullptr;
  uint64_t size_ = 0;
};

}  // namespace

std::string_view to_string(DamageKind kind) {
  switch (kind) {
    case DamageKind::kNone: return "none";
    case DamageKind::kTornTail: return "torn tail";
    case DamageKind::kCorruption: return "corruption";
  }
  return "?";
}

// ---------------------------------------------------------------------------------------------
// JournalReader.

struct JournalReader::Segment {
  std::filesystem::path path;
  ReadOnlyMapping mapping;
};

JournalReader::~JournalReader() = default;

std::size_t JournalReader::segment_count() const noexcept {
  return segments_.size();
}

absl::StatusOr<std::unique_ptr<JournalReader>> JournalReader::open(const std::filesystem::path& dir,
                                                                   ReaderOptions options) {
  std::unique_ptr<JournalReader> reader;
  absl::StatusOr<std::vector<format::JournalFile>> files;
  // A running writer's preparer renames an in-use prepared file to its segment name at any
  // moment: when one vanishes between listing and mapping, list again.
  for (int renamed_under_us = 0;; ++renamed_under_us) {
    files = format::list_journal_files(dir);
    if (!files.ok()) return files.status();
    reader.reset(new JournalReader());
    reader->options_ = options;
    bool renamed = false;
    for (const format::JournalFile& file : *files) {
      absl::StatusOr<ReadOnlyMapping> mapping = ReadOnlyMapping::open(file.path);
      if (!mapping.ok()) {
        std::error_code ec;
        if (file.prepared_name && renamed_under_us < 100 &&
            !std::filesystem::exists(file.path, ec)) {
          renamed = true;
          break;
        }
        return mapping.status();
      }
      auto segment = std::make_unique<Segment>();
      segment->path = file.path;
      segment->mapping = std::move(*mapping);
      reader->segments_.push_back(std::move(segment));
    }
    if (!renamed) break;
  }
  // Start at the last segment whose first sequence is <= from_sequence.
  if (options.from_sequence > 0) {
    while (reader->current_ + 1 < files->size() &&
           (*files)[reader->current_ + 1].sort_key <= options.from_sequence) {
      ++reader->current_;
    }
  }
  return reader;
}

bool JournalReader::fail(const Segment& segment, uint64_t offset, const char* reason) noexcept {
  status_ = absl::DataLossError(
      fmt::format("journal {}: offset {}: {}", segment.path.string(), offset, reason));
  done_ = true;
  return false;
}

bool JournalReader::next(RecordView& out) noexcept {
  while (!done_) {
    if (current_ >= segments_.size()) {
      done_ = true;
      return false;
    }
    const Segment& segment = *segments_[current_];
    const std::byte* base = segment.mapping.base();
    const uint64_t size = segment.mapping.size();
    if (offset_ == 0) {
      if (!format::file_header_problem(base, size).empty()) {
        return fail(segment, 0, "bad segment header");
      }
      FileHeader header;
      std::memcpy(&header, base, sizeof(header));
      if (expected_sequence_ != 0 && header.first_sequence != expected_sequence_) {
        return fail(segment, 0, "sequence gap between segments");
      }
      expected_sequence_ = header.first_sequence;
      offset_ = kFileHeaderSize;
    }
    RecordHeader header;
    const RecordCheck check = format::check_record(base, size, offset_, header);
    if (check == RecordCheck::kEnd) {
      ++current_;
      offset_ = 0;
      continue;
    }
    if (check != RecordCheck::kOk) {
      return fail(segment, offset_, format::to_string(check).data());
    }
    const uint64_t offset = offset_;
    offset_ += format::padded_length(header.length);
    const bool internal = is_internal(header.type);
    if (!internal) {
      if (header.sequence != expected_sequence_) {
        return fail(segment, offset, "sequence gap or reordering");
      }
      ++expected_sequence_;
      if (header.sequence < options_.from_sequence) continue;
    } else if (!options_.include_internal) {
      continue;
    }
    out.sequence = header.sequence;
    out.timestamp_ns = header.timestamp_ns;
    out.type = header.type;
    out.payload = {base + offset + kRecordHeaderSize, header.length - kRecordHeaderSize};
    out.segment_path = &segment.path;
    out.offset = offset;
    return true;
  }
  return false;
}

// ---------------------------------------------------------------------------------------------
// verify_journal.

std::string VerifyReport::to_text() const {
  std::string text = fmt::format("journal {}: {} segment(s)\n", dir.string(), segments.size());
  for (const SegmentSummary& s : segments) {
    text += fmt::format("  {}  index {}  ", s.path.filename().string(), s.index);
    if (s.records > 0) {
      text +=
          fmt::format("sequences {}..{}  {} records", s.first_sequence, s.last_sequence, s.records);
    } else {
      text += fmt::format("no records (first sequence {})", s.first_sequence);
    }
    text += fmt::format("  data {} of {} bytes  {}\n", s.data_end, s.file_size,
                        s.sealed ? "sealed" : (s.active ? "active" : "NOT SEALED"));
  }
  if (records > 0) {
    text += fmt::format("total: {} records, {} bytes, sequences {}..{}\n", records, bytes,
                        first_sequence, last_sequence);
  } else {
    text += fmt::format("total: no records\n");
  }
  switch (damage.kind) {
    case DamageKind::kNone: text += "verdict: clean\n"; break;
    case DamageKind::kTornTail:
      text += fmt::format(
          "verdict: TORN TAIL in {} at offset {}: {}\n  (the last commit did not finish: "
          "nothing after this point proves it had; recovery zeroes the file from that offset "
          "on",
          damage.segment.string(), damage.offset, damage.reason);
      if (damage.unfinished_records > 0) {
        text += fmt::format(", cutting {} valid record(s) of that commit beyond it",
                            damage.unfinished_records);
      }
      for (const std::filesystem::path& later : damage.unfinished_segments) {
        text += fmt::format(", removes {}", later.filename().string());
      }
      text += ")\n";
      break;
    case DamageKind::kCorruption:
      text += fmt::format(
          "verdict: CORRUPTION in {} at offset {}: {}\n  (not a torn tail: the engine refuses to "
          "start on this journal; restore from a backup or investigate)\n",
          damage.segment.string(), damage.offset, damage.reason);
      break;
  }
  return text;
}

absl::StatusOr<VerifyReport> verify_journal(const std::filesystem::path& dir) {
  absl::StatusOr<std::vector<format::JournalFile>> files = format::list_journal_files(dir);
  if (!files.ok()) return files.status();
  VerifyReport report;
  report.dir = dir;
  auto set_damage = [&](DamageKind kind, const std::filesystem::path& path, uint64_t offset,
                        std::string reason) {
    report.damage = Damage{};
    report.damage.kind = kind;
    report.damage.segment = path;
    report.damage.offset = offset;
    report.damage.reason = std::move(reason);
  };

  for (std::size_t i = 0; i < files->size() && report.clean(); ++i) {
    const format::JournalFile& file = (*files)[i];
    const bool active = i + 1 == files->size();
    absl::StatusOr<ReadOnlyMapping> mapping = ReadOnlyMapping::open(file.path);
    if (!mapping.ok()) return mapping.status();
    const format::SegmentScan scan =
        format::scan_segment(mapping->base(), mapping->size(), &report.records_by_type);

    SegmentSummary summary;
    summary.path = file.path;
    summary.index = scan.header.segment_index;
    summary.first_sequence = scan.header.first_sequence;
    summary.last_sequence = scan.last_sequence;
    summary.records = scan.records;
    summary.data_end = scan.data_end;
    summary.file_size = mapping->size();
    summary.sealed = scan.sealed;
    summary.active = active;
    const SegmentSummary* previous = report.segments.empty() ? nullptr : &report.segments.back();

    if (scan.header_valid) {
      if (!file.prepared_name && scan.header.first_sequence != file.sort_key) {
        set_damage(DamageKind::kCorruption, file.path, 0,
                   fmt::format("file name says first sequence {}, header says {}", file.sort_key,
                               scan.header.first_sequence));
      } else if (previous != nullptr && scan.header.segment_index != previous->index + 1) {
        set_damage(DamageKind::kCorruption, file.path, 0,
                   fmt::format("segment index {} follows segment index {}",
                               scan.header.segment_index, previous->index));
      } else if (previous != nullptr && scan.header.first_sequence != previous->last_sequence + 1) {
        set_damage(DamageKind::kCorruption, file.path, 0,
                   fmt::format("sequence gap between segments: the previous one ends at {}, "
                               "this one starts at {}",
                               previous->last_sequence, scan.header.first_sequence));
      }
    }
    // Where the valid data stops short of the journal's end, if it does: damage, or the clean
    // end of a segment that is not sealed while a later one exists.
    std::optional<uint64_t> stop;
    std::string reason;
    if (report.clean() && scan.damaged) {
      reason = scan.damage_reason;
      if (scan.sequence_problem) {
        set_damage(DamageKind::kCorruption, file.path, scan.damage_offset, reason);
      } else if (scan.sealed) {
        set_damage(DamageKind::kCorruption, file.path, scan.damage_offset,
                   reason + (active ? " (after the seal of the last segment)"
                                    : " (after the seal of a sealed segment)"));
      } else {
        stop = scan.damage_offset;
        if (!active) reason += " (in a segment that is not the last: sealed or followed)";
      }
    } else if (report.clean() && !active && !scan.sealed) {
      stop = scan.data_end;
      reason = "segment is not sealed, yet a later segment exists";
    }
    if (stop) {
      // A torn tail when nothing after the stop proves that the commit it lies in had finished
      // (persist/FORMAT.md, recovery rule 3).
      format::RecordsAfter after;
      if (scan.damaged) {
        format::scan_records_after(mapping->base(), mapping->size(),
                                   *stop == 0 ? kFileHeaderSize : *stop + format::kRecordAlignment,
                                   scan.header_valid, scan.last_sequence, "", after);
      }
      std::vector<std::filesystem::path> later;
      for (std::size_t j = i + 1; j < files->size() && !after.proven_finished; ++j) {
        absl::StatusOr<ReadOnlyMapping> next = ReadOnlyMapping::open((*files)[j].path);
        if (!next.ok()) return next.status();
        format::scan_records_after(next->base(), next->size(), kFileHeaderSize,
                                   format::file_header_problem(next->base(), next->size()).empty(),
                                   scan.last_sequence,
                                   "in " + (*files)[j].path.filename().string() + " ", after);
        later.push_back((*files)[j].path);
      }
      if (after.proven_finished) {
        set_damage(DamageKind::kCorruption, file.path, *stop, reason + "; " + after.proof);
      } else {
        set_damage(DamageKind::kTornTail, file.path, *stop, reason);
        report.damage.unfinished_records = after.same_commit_records;
        report.damage.unfinished_last_sequence = after.last_sequence;
        report.damage.unfinished_segments = std::move(later);
      }
    }

    if (scan.records > 0) {
      if (report.records == 0) {
        report.first_sequence = scan.last_sequence - scan.records + 1;
        report.first_timestamp_ns = scan.first_timestamp_ns;
      }
      report.last_sequence = scan.last_sequence;
      report.last_timestamp_ns = scan.last_timestamp_ns;
    }
    report.records += scan.records;
    report.bytes += scan.bytes;
    report.segments.push_back(std::move(summary));
  }
  return report;
}

// ---------------------------------------------------------------------------------------------
// recover_journal.

namespace {

absl::Status fsync_path(const std::filesystem::path& path, bool directory) {
  const int fd = ::open(path.c_str(), (directory ? O_RDONLY | O_DIRECTORY : O_RDWR) | O_CLOEXEC);
  if (fd < 0) {
    return absl::UnavailableError(
        fmt::format("cannot open {}: {}", path.string(), std::strerror(errno)));
  }
  const int rc = ::fsync(fd);
  const int error = errno;
  ::close(fd);
  if (rc != 0) {
    return absl::UnavailableError(
        fmt::format("cannot fsync {}: {}", path.string(), std::strerror(error)));
  }
  return absl::OkStatus();
}

// Zeroes [offset, end of file) of `path` and syncs it.
absl::StatusOr<uint64_t> zero_tail(const std::filesystem::path& path, uint64_t offset) {
  const int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    return absl::UnavailableError(
        fmt::format("cannot open {}: {}", path.string(), std::strerror(errno)));
  }
  struct stat st {};
  ::fstat(fd, &st);
  const auto size = static_cast<uint64_t>(st.st_size);
  static const std::vector<std::byte> zeros(1 << 20);
  uint64_t at = offset;
  while (at < size) {
    const std::size_t chunk = std::min<uint64_t>(zeros.size(), size - at);
    const ssize_t written = ::pwrite(fd, zeros.data(), chunk, static_cast<off_t>(at));
    if (written < 0 && errno == EINTR) continue;
    if (written <= 0) {
      const int error = errno;
      ::close(fd);
      return absl::UnavailableError(fmt::format("cannot zero {} from offset {}: {}", path.string(),
                                                at, std::strerror(error)));
    }
    at += static_cast<uint64_t>(written);
  }
  const int rc = ::fdatasync(fd);
  const int error = errno;
  ::close(fd);
  if (rc != 0) {
    return absl::UnavailableError(
        fmt::format("cannot fdatasync {}: {}", path.string(), std::strerror(error)));
  }
  return size > offset ? size - offset : 0;
}

}  // namespace

absl::StatusOr<RecoveryResult> recover_journal(const std::filesystem::path& dir) {
  RecoveryResult result;
  std::error_code ec;
  if (!std::filesystem::exists(dir, ec)) return result;
  absl::StatusOr<VerifyReport> report = verify_journal(dir);
  if (!report.ok()) return report.status();
  result.report = *report;
  if (report->damage.kind == DamageKind::kCorruption) {
    return absl::DataLossError("journal is corrupt; refusing to recover it:\n" + report->to_text());
  }

  // In-use prepared files get their final names (the preparer had not renamed them yet).
  std::filesystem::path torn_path = report->damage.segment;
  std::vector<std::filesystem::path> unfinished = report->damage.unfinished_segments;
  absl::StatusOr<std::vector<format::JournalFile>> files = format::list_journal_files(dir);
  if (!files.ok()) return files.status();
  for (const format::JournalFile& file : *files) {
    if (!file.prepared_name || file.sort_key == std::numeric_limits<uint64_t>::max()) continue;
    const std::filesystem::path target = dir / segment_file_name(file.sort_key);
    if (std::filesystem::exists(target, ec)) {
      return absl::DataLossError(
          fmt::format("journal: {} and {} both claim first sequence {}; refusing to choose",
                      file.path.string(), target.string(), file.sort_key));
    }
    std::filesystem::rename(file.path, target, ec);
    if (ec) {
      return absl::UnavailableError(fmt::format("cannot rename {} to {}: {}", file.path.string(),
                                                target.string(), ec.message()));
    }
    spdlog::info("journal: in-use segment {} renamed to {}", file.path.filename().string(),
                 target.filename().string());
    if (torn_path == file.path) torn_path = target;
    for (std::filesystem::path& later : unfinished) {
      if (later == file.path) later = target;
    }
    result.renamed.push_back(target);
  }

  if (report->damage.kind == DamageKind::kTornTail) {
    const Damage& damage = report->damage;
    result.truncated = true;
    result.torn_tail = damage;
    result.torn_tail.segment = torn_path;
    result.torn_tail.unfinished_segments = unfinished;
    const std::string cut_records =
        damage.unfinished_records == 0
            ? std::string("no valid record beyond it")
            : fmt::format("{} valid record(s) of that commit beyond it, up to sequence {}",
                          damage.unfinished_records, damage.unfinished_last_sequence);
    if (damage.offset == 0) {
      // The segment's header itself is torn: the file holds no record at all.
      result.truncated_bytes = std::filesystem::file_size(torn_path, ec);
      std::filesystem::remove(torn_path, ec);
      if (ec) {
        return absl::UnavailableError(
            fmt::format("cannot remove {}: {}", torn_path.string(), ec.message()));
      }
      spdlog::warn(
          "journal: torn tail: {} has a damaged header ({}) and no valid record; "
          "removed it ({} bytes)",
          torn_path.string(), damage.reason, result.truncated_bytes);
    } else {
      absl::StatusOr<uint64_t> zeroed = zero_tail(torn_path, damage.offset);
      if (!zeroed.ok()) return zeroed.status();
      result.truncated_bytes = *zeroed;
      spdlog::warn(
          "journal: torn tail in {} at offset {} ({}): the last commit did not finish; zeroed "
          "{} bytes from offset {} to the end of the file, cutting records after sequence {} "
          "({})",
          torn_path.string(), damage.offset, damage.reason, *zeroed, damage.offset,
          report->last_sequence, cut_records);
    }
    // Zeroed first, removed after: a crash in between leaves an unsealed segment followed by
    // segments of the same unfinished commit, which the next recovery classifies the same way.
    for (const std::filesystem::path& later : unfinished) {
      const uint64_t size = std::filesystem::file_size(later, ec);
      std::filesystem::remove(later, ec);
      if (ec) {
        return absl::UnavailableError(
            fmt::format("cannot remove {}: {}", later.string(), ec.message()));
      }
      result.truncated_bytes += size;
      spdlog::warn(
          "journal: torn tail: removed {} ({} bytes), a segment the unfinished commit had "
          "started",
          later.string(), size);
    }
  }
  if (!result.truncated && result.renamed.empty()) {
    // Nothing was changed: the first verify stands (a second pass would double every restart's
    // reading of the journal).
    result.last_sequence = report->segments.empty() ? 0 : report->segments.back().last_sequence;
    return result;
  }
  if (absl::Status s = fsync_path(dir, true); !s.ok()) return s;

  absl::StatusOr<VerifyReport> after = verify_journal(dir);
  if (!after.ok()) return after.status();
  if (!after->clean()) {
    return absl::InternalError("journal: still damaged after repairing its tail:\n" +
                               after->to_text());
  }
  result.last_sequence = after->segments.empty() ? 0 : after->segments.back().last_sequence;
  return result;
}

absl::StatusOr<std::vector<std::filesystem::path>> set_aside_journal_behind_snapshot(
    const std::filesystem::path& dir, uint64_t snapshot_sequence,
    const std::filesystem::path& set_aside_dir) {
  absl::StatusOr<VerifyReport> report = verify_journal(dir);
  if (absl::IsNotFound(report.status())) return std::vector<std::filesystem::path>{};
  if (!report.ok()) return report.status();
  if (report->records > 0 && report->last_sequence > snapshot_sequence) {
    return absl::FailedPreconditionError(
        fmt::format("journal {} reaches sequence {}, beyond the snapshot's {}: it is not behind "
                    "the snapshot; nothing set aside",
                    dir.string(), report->last_sequence, snapshot_sequence));
  }
  absl::StatusOr<std::vector<format::JournalFile>> files = format::list_journal_files(dir);
  if (!files.ok()) return files.status();
  std::vector<std::filesystem::path> moved;
  if (files->empty()) return moved;
  std::error_code ec;
  create_private_directories(set_aside_dir, ec);
  if (ec) {
    return absl::UnavailableError(
        fmt::format("cannot create {}: {}", set_aside_dir.string(), ec.message()));
  }
  for (const format::JournalFile& file : *files) {
    const std::filesystem::path target = set_aside_dir / file.path.filename();
    if (std::filesystem::exists(target, ec)) {
      return absl::FailedPreconditionError(
          fmt::format("cannot set {} aside: {} exists", file.path.string(), target.string()));
    }
    std::filesystem::rename(file.path, target, ec);
    if (ec) {
      return absl::UnavailableError(fmt::format("cannot move {} to {}: {}", file.path.string(),
                                                target.string(), ec.message()));
    }
    moved.push_back(target);
  }
  if (absl::Status s = fsync_path(set_aside_dir, true); !s.ok()) return s;
  if (absl::Status s = fsync_path(dir, true); !s.ok()) return s;
  return moved;
}

}  // namespace qt::persist
