// The journal's on-disk layout (persist/FORMAT.md, versions 1 and 2) as code: the segment file
// header, the record header, their CRCs, and one scanner that walks a mapped segment and says where
// its valid data ends and what, if anything, is wrong after that. Shared by the writer (to find
// where to continue), the reader, verify and recovery, so all of them agree on what "valid" means.
//
// Internal to persist/. Pure functions over memory: no allocation except the scanner's problem
// text on damage; callable from any thread.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "persist/records.hpp"

namespace qt::persist::format {

static_assert(std::endian::native == std::endian::little,
              "the journal format is little-endian and written as native structs");

inline constexpr char kMagic[8] = {'Q', 'T', 'J', 'O', 'U', 'R', 'N', 'L'};
inline constexpr uint32_t kFileHeaderSize = 64;
inline constexpr uint32_t kRecordHeaderSize = 32;
inline constexpr uint32_t kMaxRecordLength = kRecordHeaderSize + kMaxRecordPayload;  // 4096
inline constexpr uint64_t kRecordAlignment = 8;
// RecordHeader::flags bit: written by the same group or sync commit as the record before it. Never
// set on a commit's first record, nor in async mode, so a valid record without it proves that the
// writer had finished (fdatasynced) everything before it — the line recovery draws between a torn
// last commit and damage in acknowledged data (persist/FORMAT.md).
inline constexpr uint16_t kRecordSameCommit = 1;
inline constexpr std::string_view kPreparedPrefix = "prepared-";
inline constexpr std::string_view kPreparedSuffix = ".qtj.prep";

struct FileHeader {
  char magic[8];
  uint32_t format_version;
  uint32_t header_size;  // kFileHeaderSize; records start here
  uint64_t segment_index;
  uint64_t first_sequence;
  uint64_t segment_size;     // the size the file was preallocated to
  int64_t created_epoch_ns;  // CLOCK_REALTIME when the writer started the segment
  uint8_t reserved[12];
  uint32_t header_crc;  // CRC32C of the 60 bytes before it
};
static_assert(sizeof(FileHeader) == kFileHeaderSize);

struct RecordHeader {
  uint32_t length;  // header + payload, before padding; 0 = no record here (end of data)
  uint16_t type;
  uint16_t flags;  // kRecordSameCommit or 0 (writers before it wrote 0; readers ignore it)
  uint64_t sequence;
  int64_t timestamp_ns;
  uint32_t crc;       // CRC32C of the record without this field: bytes [0,24) + [28,length)
  uint32_t reserved;  // 0; keeps the payload 8-byte aligned
};
static_assert(sizeof(RecordHeader) == kRecordHeaderSize);

inline constexpr uint64_t padded_length(uint64_t length) {
  return (length + kRecordAlignment - 1) & ~(kRecordAlignment - 1);
}
// Room the writer always keeps free at the end of a segment for its seal record.
inline constexpr uint64_t kSealReserve =
    padded_length(kRecordHeaderSize + sizeof(SegmentSealRecord));

uint32_t header_crc(const FileHeader& header) noexcept;
uint32_t record_crc(const RecordHeader& header, const std::byte* payload,
                    std::size_t payload_size) noexcept;

FileHeader make_file_header(uint64_t segment_index, uint64_t first_sequence, uint64_t segment_size,
                            int64_t created_epoch_ns) noexcept;
// Empty when the header is valid, else why not ("bad magic", "bad header CRC", ...).
std::string_view file_header_problem(const std::byte* base, uint64_t file_size) noexcept;

enum class RecordCheck : uint8_t {
  kOk,
  kEnd,            // zero length word: no record here
  kBadLength,      // length word neither 0 nor a possible record length
  kPastEndOfFile,  // the record would run past the end of the file
  kBadCrc,
};
std::string_view to_string(RecordCheck check);

// Checks the record at `offset` (8-aligned, inside the file). On kOk fills `header`.
// The length word is read with acquire ordering: a writer publishes it last.
RecordCheck check_record(const std::byte* base, uint64_t file_size, uint64_t offset,
                         RecordHeader& header) noexcept;

// Offset of the first valid record at or after `from` (8-aligned), or nullopt.
std::optional<uint64_t> find_valid_record(const std::byte* base, uint64_t file_size,
                                          uint64_t from) noexcept;

// True when every byte of [from, to) is zero.
bool all_zero(const std::byte* base, uint64_t from, uint64_t to) noexcept;

// What one pass over a segment found. Records are checked for CRC, and engine records for dense
// sequences starting at the header's first_sequence.
struct SegmentScan {
  bool header_valid = false;
  FileHeader header{};
  uint64_t data_end = kFileHeaderSize;  // just past the last valid record (or the header)
  uint64_t records = 0;                 // engine records
  uint64_t bytes = 0;                   // bytes of valid records, seal included
  uint64_t last_sequence = 0;           // header.first_sequence - 1 when there are no records
  int64_t first_timestamp_ns = 0;
  int64_t last_timestamp_ns = 0;
  bool sealed = false;
  SegmentSealRecord seal{};

  // The first problem, if any. Whether it is a torn tail or corruption depends on what follows
  // it, in this file and later ones: scan_records_after().
  bool damaged = false;
  uint64_t damage_offset = 0;
  std::string damage_reason;
  bool sequence_problem = false;  // a CRC-valid record out of sequence: always corruption
};

// Walks the segment mapped at `base` (`file_size` bytes). `by_type`, when given, counts engine
// records per type. Never reads outside [base, base + file_size).
SegmentScan scan_segment(const std::byte* base, uint64_t file_size,
                         std::map<uint16_t, uint64_t>* by_type = nullptr);

// The valid records found after a point where a journal's valid data stops (damage, or the
// clean end of an unsealed segment that a later one follows), scanning forward at every 8-byte
// offset: is everything there part of the commit that was being written (all flagged
// kRecordSameCommit, later in sequence), or does a record prove that commit had been finished?
struct RecordsAfter {
  uint64_t same_commit_records = 0;  // valid records of the unfinished commit (seals included)
  uint64_t same_commit_bytes = 0;
  uint64_t last_sequence = 0;  // highest engine sequence among them (0 when none)
  bool proven_finished = false;
  std::string proof;  // which record proves it, and why
};
// Adds what [from, file_size) of one segment holds to `out`. `flags_readable`: the segment's
// header is valid (a record in a segment whose header is unreadable cannot be placed: it counts
// as proof; records of older writers never carry the flag, so they always do).
// `after_sequence`: the last engine sequence before the point; an engine record at or before
// it is out of sequence, also proof.
// `where` names the file in the proof ("" for the file of the point itself).
void scan_records_after(const std::byte* base, uint64_t file_size, uint64_t from,
                        bool flags_readable, uint64_t after_sequence, std::string_view where,
                        RecordsAfter& out);

// A segment file in a journal directory, ordered by first sequence: the named segments, plus
// prepared files the writer has started using (non-zero header) but not yet renamed.
struct JournalFile {
  std::filesystem::path path;
  uint64_t sort_key = 0;  // first sequence (from the name, or the header of a prepared file)
  bool prepared_name = false;
};
// Unused prepared files (all-zero header) are left out; `unused_prepared`, when given, gets them.
absl::StatusOr<std::vector<JournalFile>> list_journal_files(
    const std::filesystem::path& dir,
    std::vector<std::filesystem::path>* unused_prepared = nullptr);
// The same, after `renamed_under_us` restarts because a prepared file was renamed between
// readdir and open (the writer's preparer names segments while others list them).
absl::StatusOr<std::vector<JournalFile>> list_journal_files(
    const std::filesystem::path& dir, std::vector<std::filesystem::path>* unused_prepared,
    int renamed_under_us);

}  // namespace qt::persist::format
