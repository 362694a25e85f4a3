// Reading, verifying and recovering a journal directory (format: persist/FORMAT.md).
//
//  - JournalReader iterates every engine record in sequence order across segments, zero-copy
//    over read-only shared mappings, checking each record's CRC32C as it goes. It allocates at
//    open() only (one mapping and path per segment); next() does neither. One thread uses a
//    reader; a reader may run while a writer appends (it sees whole records only: the writer
//    publishes each record's length word last), but sees at most what the files held at open().
//  - verify_journal() checks everything and classifies damage; it never writes.
//  - recover_journal() runs verify, then repairs a torn tail (zeroes it) and refuses corruption.
//
// Damage rules (persist/FORMAT.md, recovery rules 3 and 4):
//  - A bad record, a bad segment header, or the clean end of an unsealed segment that a later one
//    follows is a TORN TAIL when no valid record after it (in its file or any later one) proves
//    that its commit had finished — a record without kRecordSameCommit: the writer starts a
//    commit's write only after the previous commit's fdatasync. Recoverable: everything from that
//    offset on is zeroed and the later segment files are removed (a segment whose header is torn
//    is removed too).
//  - Otherwise it is CORRUPTION — damage in acknowledged data — as are a sequence gap or
//    reordering, a seal that does not match, and data after a seal: the journal is refused,
//    never silently skipped.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "persist/records.hpp"

namespace qt::persist {

// One record as it lies in its segment. The payload span and the path point into the reader's
// mappings and stay valid while the reader lives.
struct RecordView {
  uint64_t sequence = 0;
  int64_t timestamp_ns = 0;
  uint16_t type = 0;
  std::span<const std::byte> payload;
  const std::filesystem::path* segment_path = nullptr;
  uint64_t offset = 0;  // of the record header in the segment file

  RecordType record_type() const { return static_cast<RecordType>(type); }
};

struct ReaderOptions {
  uint64_t from_sequence = 0;     // skip records before this sequence
  bool include_internal = false;  // also yield the journal's own records (segment seals)
};

class JournalReader {
 public:
  // Maps every segment of `dir` (including one still named as a prepared file but already in
  // use). A missing directory is NotFound; an empty one reads as an empty journal.
  static absl::StatusOr<std::unique_ptr<JournalReader>> open(const std::filesystem::path& dir,
                                                             ReaderOptions options = {});
  ~JournalReader();
  JournalReader(const JournalReader&) = delete;
  JournalReader& operator=(const JournalReader&) = delete;

  // The next record, or false at the end of the valid data. After false, status() says whether
  // the end was clean (OK) or damage stopped the reader (DataLoss naming file, offset, reason;
  // run verify_journal() for the classification).
  bool next(RecordView& out) noexcept;
  const absl::Status& status() const noexcept { return status_; }

  std::size_t segment_count() const noexcept;

  struct Segment;  // one mapped segment, in journal_reader.cpp

 private:
  JournalReader() = default;
  bool fail(const Segment& segment, uint64_t offset, const char* reason) noexcept;

  std::vector<std::unique_ptr<Segment>> segments_;
  ReaderOptions options_;
  std::size_t current_ = 0;
  uint64_t offset_ = 0;
  uint64_t expected_sequence_ = 0;  // 0 until the first record is seen
  bool done_ = false;
  absl::Status status_;
};

enum class DamageKind : uint8_t { kNone, kTornTail, kCorruption };
std::string_view to_string(DamageKind kind);

struct Damage {
  DamageKind kind = DamageKind::kNone;
  std::filesystem::path segment;  // the file the damage is in
  uint64_t offset = 0;            // byte offset in that file
  std::string reason;             // "bad CRC", "partial length", "bad segment header", ...
  // Torn tail only: what the unfinished commit left beyond the damage — valid records (flagged
  // kRecordSameCommit) and the later segment files it had started, all cut by recovery.
  uint64_t unfinished_records = 0;
  uint64_t unfinished_last_sequence = 0;  // highest sequence among them, 0 when none
  std::vector<std::filesystem::path> unfinished_segments;
};

struct SegmentSummary {
  std::filesystem::path path;
  uint64_t index = 0;           // from the header
  uint64_t first_sequence = 0;  // from the header
  uint64_t last_sequence = 0;   // of its last valid engine record; first_sequence - 1 if none
  uint64_t records = 0;         // valid engine records
  uint64_t data_end = 0;        // offset just past the last valid record
  uint64_t file_size = 0;
  bool sealed = false;
  bool active = false;  // the last segment
};

struct VerifyReport {
  std::filesystem::path dir;
  std::vector<SegmentSummary> segments;
  uint64_t records = 0;  // valid engine records, all segments
  uint64_t bytes = 0;    // bytes of valid records (headers, payload, padding), seals included
  uint64_t first_sequence = 0;  // 0 when there are no records
  uint64_t last_sequence = 0;   // of the last valid engine record (0 when there is none)
  int64_t first_timestamp_ns = 0;
  int64_t last_timestamp_ns = 0;
  std::map<uint16_t, uint64_t> records_by_type;
  Damage damage;

  bool clean() const { return damage.kind == DamageKind::kNone; }
  // Human-readable, several lines: one per segment, totals, then the verdict.
  std::string to_text() const;
};

// Reads every segment of `dir`. Errors only when the directory cannot be read (NotFound for a
// missing one); damage is reported in the VerifyReport, not as an error. Never writes.
absl::StatusOr<VerifyReport> verify_journal(const std::filesystem::path& dir);

struct RecoveryResult {
  VerifyReport report;         // as found, before any repair
  uint64_t last_sequence = 0;  // last good sequence after repair (0 = empty journal)
  bool truncated = false;      // a torn tail was removed
  Damage torn_tail;            // what was removed (when truncated)
  uint64_t truncated_bytes = 0;
  std::vector<std::filesystem::path> renamed;  // in-use prepared files given their final name

  uint64_t next_sequence() const { return last_sequence + 1; }
};

// Makes the journal in `dir` ready for JournalWriter::open(): zeroes a torn tail (logged at warn
// with the file and offsets) and gives an in-use prepared segment its final name. Corruption is a
// DataLoss error whose message includes the verify report. A missing directory is an empty
// journal (last_sequence 0). Must not run while a writer has the journal open.
absl::StatusOr<RecoveryResult> recover_journal(const std::filesystem::path& dir);

// Async durability after a power loss, when the newest snapshot covers `snapshot_sequence` and
// the (recovered) journal in `dir` ends before it: moves every segment file of `dir` into
// `set_aside_dir` (created 0750) and syncs both directories, so that the writer starts a new
// journal at snapshot_sequence + 1 — a journal may start after sequence 1 (FORMAT.md, recovery
// rule 5) — and no sequence is ever written twice. Nothing is deleted. FailedPrecondition (and
// nothing moved) when a segment holds a record beyond the snapshot. Returns the moved files'
// new paths. Must not run while a writer has the journal open.
absl::StatusOr<std::vector<std::filesystem::path>> set_aside_journal_behind_snapshot(
    const std::filesystem::path& dir, uint64_t snapshot_sequence,
    const std::filesystem::path& set_aside_dir);

}  // namespace qt::persist
