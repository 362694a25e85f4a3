// The segment scanner and header/record checks; see persist/segment_format.hpp.
#include "persist/segment_format.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <system_error>

#include "persist/crc32c.hpp"
#include "persist/data_dir.hpp"

namespace qt::persist::format {
namespace {

constexpr std::size_t kHeaderCrcOffset = offsetof(FileHeader, header_crc);
constexpr std::size_t kRecordCrcOffset = offsetof(RecordHeader, crc);
static_assert(kHeaderCrcOffset == 60);
static_assert(kRecordCrcOffset == 24);

uint64_t align_up(uint64_t value) {
  return padded_length(value);
}

}  // namespace

uint32_t header_crc(const FileHeader& header) noexcept {
  return crc32c(&header, kHeaderCrcOffset);
}

uint32_t record_crc(const RecordHeader& header, const std::byte* payload,
                    std::size_t payload_size) noexcept {
  const auto* bytes = reinterpret_cast<const std::byte*>(&header);
  uint32_t crc = crc32c(bytes, kRecordCrcOffset);
  crc = crc32c_extend(crc, bytes + kRecordCrcOffset + 4, kRecordHeaderSize - kRecordCrcOffset - 4);
  return crc32c_extend(crc, payload, payload_size);
}

FileHeader make_file_header(uint64_t segment_index, uint64_t first_sequence, uint64_t segment_size,
                            int64_t created_epoch_ns) noexcept {
  FileHeader header{};
  std::memcpy(header.magic, kMagic, sizeof(kMagic));
  header.format_version = kJournalFormatVersion;
  header.header_size = kFileHeaderSize;
  header.segment_index = segment_index;
  header.first_sequence = first_sequence;
  header.segment_size = segment_size;
  header.created_epoch_ns = created_epoch_ns;
  header.header_crc = header_crc(header);
  return header;
}

std::string_view file_header_problem(const std::byte* base, uint64_t file_size) noexcept {
  if (file_size < kFileHeaderSize) return "file shorter than its header";
  FileHeader header;
  std::memcpy(&header, base, sizeof(header));
  if (std::memcmp(header.magic, kMagic, sizeof(kMagic)) != 0) return "bad magic";
  if (header_crc(header) != header.header_crc) return "bad header CRC";
  if (header.format_version < kOldestReadableJournalFormatVersion ||
      header.format_version > kJournalFormatVersion) {
    return "unsupported format version";
  }
  if (header.header_size != kFileHeaderSize) return "unexpected header size";
  if (header.first_sequence == 0) return "first sequence 0";
  return {};
}

std::string_view to_string(RecordCheck check) {
  switch (check) {
    case RecordCheck::kOk: return "ok";
    case RecordCheck::kEnd: return "end of data";
    case RecordCheck::kBadLength: return "bad length";
    case RecordCheck::kPastEndOfFile: return "partial record (runs past the end of the file)";
    case RecordCheck::kBadCrc: return "bad CRC";
  }
  return "?";
}

RecordCheck check_record(const std::byte* base, uint64_t file_size, uint64_t offset,
                         RecordHeader& header) noexcept {
  if (offset + sizeof(uint32_t) > file_size) {
    return all_zero(base, offset, file_size) ? RecordCheck::kEnd : RecordCheck::kPastEndOfFile;
  }
  const uint32_t length =
      __atomic_load_n(reinterpret_cast<const uint32_t*>(base + offset), __ATOMIC_ACQUIRE);
  if (length == 0) return RecordCheck::kEnd;
  if (length < kRecordHeaderSize || length > kMaxRecordLength) return RecordCheck::kBadLength;
  if (offset + length > file_size) return RecordCheck::kPastEndOfFile;
  std::memcpy(&header, base + offset, sizeof(header));
  header.length = length;
  const uint32_t crc =
      record_crc(header, base + offset + kRecordHeaderSize, length - kRecordHeaderSize);
  return crc == header.crc ? RecordCheck::kOk : RecordCheck::kBadCrc;
}

std::optional<uint64_t> find_valid_record(const std::byte* base, uint64_t file_size,
                                          uint64_t from) noexcept {
  for (uint64_t offset = align_up(from); offset + kRecordHeaderSize <= file_size;
       offset += kRecordAlignment) {
    uint32_t length;
    std::memcpy(&length, base + offset, sizeof(length));
    if (length < kRecordHeaderSize || length > kMaxRecordLength) continue;
    RecordHeader header;
    if (check_record(base, file_size, offset, header) == RecordCheck::kOk) return offset;
  }
  return std::nullopt;
}

bool all_zero(const std::byte* base, uint64_t from, uint64_t to) noexcept {
  uint64_t i = from;
  for (; i < to && (i % 8) != 0; ++i) {
    if (base[i] != std::byte{0}) return false;
  }
  for (; i + 8 <= to; i += 8) {
    uint64_t word;
    std::memcpy(&word, base + i, 8);
    if (word != 0) return false;
  }
  for (; i < to; ++i) {
    if (base[i] != std::byte{0}) return false;
  }
  return true;
}

SegmentScan scan_segment(const std::byte* base, uint64_t file_size,
                         std::map<uint16_t, uint64_t>* by_type) {
  SegmentScan scan;
  auto damage = [&](uint64_t offset, std::string reason) {
    scan.damaged = true;
    scan.damage_offset = offset;
    scan.damage_reason = std::move(reason);
  };

  if (const std::string_view problem = file_header_problem(base, file_size); !problem.empty()) {
    scan.data_end = 0;
    damage(0, "bad segment header: " + std::string(problem));
    return scan;
  }
  scan.header_valid = true;
  std::memcpy(&scan.header, base, sizeof(scan.header));
  uint64_t expected = scan.header.first_sequence;
  scan.last_sequence = expected - 1;

  uint64_t offset = kFileHeaderSize;
  while (true) {
    scan.data_end = offset;
    RecordHeader header;
    const RecordCheck check = check_record(base, file_size, offset, header);
    if (check == RecordCheck::kEnd) {
      if (offset < file_size && !all_zero(base, offset, file_size)) {
        uint64_t first_nonzero = offset;
        while (base[first_nonzero] == std::byte{0}) ++first_nonzero;
        damage(offset,
               fmt::format("partial record: non-zero bytes at offset {} after the end of data",
                           first_nonzero));
      }
      return scan;
    }
    if (check != RecordCheck::kOk) {
      damage(offset, std::string(to_string(check)));
      return scan;
    }
    const std::byte* payload = base + offset + kRecordHeaderSize;
    const uint32_t payload_size = header.length - kRecordHeaderSize;
    if (scan.sealed) {
      damage(offset, "record after the segment's seal");
      return scan;
    }
    if (is_internal(header.type)) {
      if (static_cast<RecordType>(header.type) == RecordType::kSegmentSeal) {
        if (payload_size != sizeof(SegmentSealRecord)) {
          damage(offset, "seal record of the wrong size");
          scan.sequence_problem = true;
          return scan;
        }
        std::memcpy(&scan.seal, payload, sizeof(scan.seal));
        if (header.sequence != expected - 1 || scan.seal.next_sequence != expected ||
            scan.seal.record_count != scan.records) {
          damage(offset,
                 fmt::format("seal record does not match the segment (seal says next sequence "
                             "{}, {} records; segment has {} records up to {})",
                             scan.seal.next_sequence, scan.seal.record_count, scan.records,
                             expected - 1));
          scan.sequence_problem = true;
          return scan;
        }
        scan.sealed = true;
      }
      // Other internal types are skipped: they carry no engine state.
    } else {
      if (header.sequence != expected) {
        damage(offset, fmt::format("sequence {}: expected {} ({})", header.sequence, expected,
                                   header.sequence > expected ? "gap" : "out of order"));
        scan.sequence_problem = true;
        return scan;
      }
      if (scan.records == 0) scan.first_timestamp_ns = header.timestamp_ns;
      scan.last_timestamp_ns = header.timestamp_ns;
      ++scan.records;
      scan.last_sequence = expected;
      ++expected;
      if (by_type != nullptr) ++(*by_type)[header.type];
    }
    const uint64_t advance = padded_length(header.length);
    scan.bytes += advance;
    offset += advance;
  }
}

void scan_records_after(const std::byte* base, uint64_t file_size, uint64_t from,
                        bool flags_readable, uint64_t after_sequence, std::string_view where,
                        RecordsAfter& out) {
  std::optional<uint64_t> at = find_valid_record(base, file_size, from);
  while (at && !out.proven_finished) {
    RecordHeader header;
    (void)check_record(base, file_size, *at, header);
    const bool engine_record = !is_internal(header.type);
    if (!flags_readable || (header.flags & kRecordSameCommit) == 0) {
      out.proven_finished = true;
      out.proof = fmt::format(
          "a valid record follows {}at offset {} ({} {}) and {}", where, *at,
          engine_record ? "sequence" : "type", engine_record ? header.sequence : header.type,
          flags_readable ? "begins a later commit" : "is in no commit recovery can place");
    } else if (engine_record && header.sequence <= after_sequence) {
      out.proven_finished = true;
      out.proof = fmt::format("a valid record follows {}at offset {} and repeats sequence {}",
                              where, *at, header.sequence);
    } else {
      ++out.same_commit_records;
      out.same_commit_bytes += padded_length(header.length);
      if (engine_record) out.last_sequence = std::max(out.last_sequence, header.sequence);
    }
    at = find_valid_record(base, file_size, *at + padded_length(header.length));
  }
}

absl::StatusOr<std::vector<JournalFile>> list_journal_files(
    const std::filesystem::path& dir, std::vector<std::filesystem::path>* unused_prepared) {
  return list_journal_files(dir, unused_prepared, 0);
}

absl::StatusOr<std::vector<JournalFile>> list_journal_files(
    const std::filesystem::path& dir, std::vector<std::filesystem::path>* unused_prepared,
    int renamed_under_us) {
  const std::size_t unused_before = unused_prepared != nullptr ? unused_prepared->size() : 0;
  std::vector<JournalFile> files;
  std::error_code ec;
  std::filesystem::directory_iterator it(dir, ec);
  if (ec) {
    if (ec == std::errc::no_such_file_or_directory) {
      return absl::NotFoundError(fmt::format("journal directory {} does not exist", dir.string()));
    }
    return absl::UnavailableError(
        fmt::format("cannot list journal directory {}: {}", dir.string(), ec.message()));
  }
  for (const std::filesystem::directory_entry& entry : it) {
    std::error_code type_ec;
    if (!entry.is_regular_file(type_ec)) continue;
    const std::string name = entry.path().filename().string();
    if (const std::optional<uint64_t> first = parse_segment_file_name(name)) {
      files.push_back({entry.path(), *first, false});
      continue;
    }
    if (!name.starts_with(kPreparedPrefix) || !name.ends_with(kPreparedSuffix)) continue;
    // A prepared file is in use once the writer has written its header.
    std::byte head[kFileHeaderSize] = {};
    const int fd = ::open(entry.path().c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT && renamed_under_us < 8) {
      // The writer's preparer gave it its segment name between readdir and open: list again
      // for a consistent view.
      if (unused_prepared != nullptr) unused_prepared->resize(unused_before);
      return list_journal_files(dir, unused_prepared, renamed_under_us + 1);
    }
    if (fd < 0) {
      return absl::UnavailableError(
          fmt::format("cannot open {}: {}", entry.path().string(), std::strerror(errno)));
    }
    const ssize_t got = ::pread(fd, head, sizeof(head), 0);
    ::close(fd);
    const uint64_t size = got > 0 ? static_cast<uint64_t>(got) : 0;
    if (all_zero(head, 0, size)) {
      if (unused_prepared != nullptr) unused_prepared->push_back(entry.path());
      continue;
    }
    uint64_t key = std::numeric_limits<uint64_t>::max();  // unreadable header: sorts last
    if (file_header_problem(head, size).empty()) {
      FileHeader header;
      std::memcpy(&header, head, sizeof(header));
      key = header.first_sequence;
    }
    files.push_back({entry.path(), key, true});
  }
  std::sort(files.begin(), files.end(), [](const JournalFile& a, const JournalFile& b) {
    return a.sort_key != b.sort_key ? a.sort_key < b.sort_key : a.path < b.path;
  });
  return files;
}

}  // namespace qt::persist::format
