// Power loss during the last group commit (issue 11, "power-loss variant"). The disk may keep any
// subset of the pages of a write whose fdatasync had not returned, in any order, and may return
// a page it never wrote as zeros or as garbage (the failure model of ALICE and CrashMonkey).
// Recovery must cut that commit however it is torn, keep every record acknowledged before it,
// and still refuse damage that a later commit proves was acknowledged (persist/FORMAT.md,
// recovery rule 3).
//
// A journal of 40 acknowledged records (commits of 5) gets a last commit of six long records
// whose write starts in the middle of a page and spans four pages. Every fate of those four pages
// is played: each page written, zeroed or garbage (3^4 = 81), and the file cut at each page
// boundary inside the write with the pages before it in every fate (3 + 9 + 27): 120 images.
#include <gtest/gtest.h>

#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "persist/journal.hpp"
#include "persist/journal_reader.hpp"
#include "persist/segment_format.hpp"
#include "tests/persist/journal_test_support.hpp"

namespace qt::persist {
namespace {

using test::sample_entry;
using test::small_options;
using test::TempJournalDir;

constexpr uint64_t kPage = 4096;
constexpr uint64_t kSegmentSize = 256 * 1024;
constexpr uint64_t kAcknowledged = 40;  // records 1..40, committed 5 at a time
constexpr uint64_t kCommitEvery = 5;
// The last commit: 6 records, (32 + payload) bytes each, padded to 8: 12 008 bytes.
constexpr std::size_t kLastCommitPayloads[] = {700, 2900, 1500, 3800, 900, 2000};
constexpr std::size_t kLastCommitRecords = std::size(kLastCommitPayloads);

struct Record {
  uint64_t sequence = 0;
  uint16_t type = 0;
  int64_t timestamp_ns = 0;
  std::string payload;
  uint16_t flags = 0;  // as read back from disk (test of the writer's marks)
  bool operator==(const Record& other) const {
    return sequence == other.sequence && type == other.type && timestamp_ns == other.timestamp_ns &&
           payload == other.payload;
  }
};

Record acknowledged_record(uint64_t sequence) {
  const JournalEntry entry = sample_entry(sequence);
  return {sequence, entry.type, entry.timestamp_ns,
          std::string(reinterpret_cast<const char*>(entry.payload.data()), entry.size)};
}

// Long records of the last commit: no zero byte, so a zeroed page always damages them.
Record last_commit_record(std::size_t index) {
  const uint64_t sequence = kAcknowledged + 1 + index;
  std::string payload(kLastCommitPayloads[index], '\0');
  for (std::size_t k = 0; k < payload.size(); ++k) {
    payload[k] = static_cast<char>(1 + (sequence * 31 + k) % 250);
  }
  return {sequence, static_cast<uint16_t>(RecordType::kVenueEvent),
          1'700'000'000'000'000'000 + static_cast<int64_t>(sequence), payload};
}

std::vector<Record> read_journal(const std::filesystem::path& dir) {
  std::vector<Record> out;
  absl::StatusOr<std::unique_ptr<JournalReader>> reader = JournalReader::open(dir);
  EXPECT_TRUE(reader.ok()) << reader.status();
  if (!reader.ok()) return out;
  RecordView view;
  while ((*reader)->next(view)) {
    format::RecordHeader header;
    const std::string head = test::read_bytes(*view.segment_path, view.offset, sizeof(header));
    std::memcpy(&header, head.data(), sizeof(header));
    out.push_back(
        {view.sequence, view.type, view.timestamp_ns,
         std::string(reinterpret_cast<const char*>(view.payload.data()), view.payload.size()),
         header.flags});
  }
  EXPECT_TRUE((*reader)->status().ok()) << (*reader)->status();
  return out;
}

// The segment file as the disk held it at two moments: when records 1..40 were durable, and
// once the last commit's pwrite() had returned (its fdatasync, as far as recovery can know,
// never did).
struct LastCommit {
  std::string segment_name;
  std::string before;
  std::string after;
  uint64_t start = 0;  // the last commit's bytes: [start, end)
  uint64_t end = 0;
  std::vector<uint64_t> offsets;  // of its records
  std::vector<uint64_t> lengths;  // header + payload, before padding
  Record record(std::size_t index) const { return last_commit_record(index); }
};

LastCommit write_journal_with_last_commit(const std::filesystem::path& dir) {
  LastCommit out;
  const JournalOptions options = small_options(dir, Durability::kGroup, kSegmentSize);
  absl::StatusOr<std::unique_ptr<JournalWriter>> writer = JournalWriter::open(options, 1);
  EXPECT_TRUE(writer.ok()) << writer.status();
  if (!writer.ok()) return out;
  for (uint64_t s = 1; s <= kAcknowledged; ++s) {
    EXPECT_TRUE((*writer)->append(sample_entry(s)).ok());
    if (s % kCommitEvery == 0) {
      EXPECT_TRUE((*writer)->commit().ok());
    }
  }
  const std::vector<std::filesystem::path> files = test::segment_files(dir);
  EXPECT_EQ(files.size(), 1u);
  out.segment_name = files.front().filename().string();
  out.before = test::read_file(files.front());
  const format::SegmentScan scan = format::scan_segment(
      reinterpret_cast<const std::byte*>(out.before.data()), out.before.size());
  out.start = scan.data_end;
  uint64_t offset = out.start;
  for (std::size_t i = 0; i < kLastCommitRecords; ++i) {
    const Record r = last_commit_record(i);
    EXPECT_TRUE((*writer)
                    ->append(r.type, r.sequence, r.timestamp_ns,
                             std::as_bytes(std::span(r.payload.data(), r.payload.size())))
                    .ok());
    out.offsets.push_back(offset);
    out.lengths.push_back(format::kRecordHeaderSize + r.payload.size());
    offset += format::padded_length(out.lengths.back());
  }
  EXPECT_TRUE((*writer)->commit().ok());
  out.after = test::read_file(files.front());
  out.end = offset;
  // The writer's destructor seals the file on disk; the test works on the two images only.
  return out;
}

enum class PageFate : char { kWritten = 'W', kZeroed = 'Z', kGarbage = 'G' };

// The last commit's pages as power loss left them; pages from `cut_page` on are missing (the
// file ends there). A page's fate applies to the bytes of the last commit in it: the rest of the
// first page was on disk before (synced), and rewriting it with the same bytes changes nothing.
struct Image {
  std::vector<PageFate> fates;
  std::optional<std::size_t> cut_page;

  std::string name() const {
    std::string text;
    for (const PageFate fate : fates) text += static_cast<char>(fate);
    return cut_page ? text + " cut at page " + std::to_string(*cut_page) : text;
  }
};

uint64_t first_page(const LastCommit& c) {
  return c.start / kPage * kPage;
}
std::size_t page_count(const LastCommit& c) {
  return static_cast<std::size_t>((c.end + kPage - 1) / kPage - c.start / kPage);
}

std::string torn_bytes(const LastCommit& c, const Image& image, uint32_t seed) {
  std::string bytes = c.after;
  uint32_t noise = seed * 2654435761u + 1;
  for (std::size_t p = 0; p < image.fates.size(); ++p) {
    const uint64_t from = std::max(c.start, first_page(c) + p * kPage);
    const uint64_t to = std::min(c.end, first_page(c) + (p + 1) * kPage);
    for (uint64_t i = from; i < to; ++i) {
      switch (image.fates[p]) {
        case PageFate::kWritten: break;
        case PageFate::kZeroed: bytes[i] = c.before[i]; break;
        case PageFate::kGarbage:
          noise = noise * 1664525u + 1013904223u;
          bytes[i] = static_cast<char>(noise >> 24);
          break;
      }
    }
  }
  if (image.cut_page) bytes.resize(first_page(c) + *image.cut_page * kPage);
  return bytes;
}

std::vector<Image> every_image(std::size_t pages) {
  std::vector<Image> images;
  // A cut at page k (1 <= k < pages) loses pages k.. and leaves 0..k-1 in any fate; no cut:
  // every page in any fate. (A cut at page 0 would lose acknowledged bytes: the first page
  // holds the end of the previous, synced commit.)
  for (std::size_t kept = 1; kept <= pages; ++kept) {
    std::size_t combinations = 1;
    for (std::size_t p = 0; p < kept; ++p) combinations *= 3;
    for (std::size_t n = 0; n < combinations; ++n) {
      Image image;
      std::size_t digits = n;
      for (std::size_t p = 0; p < kept; ++p, digits /= 3) {
        image.fates.push_back(digits % 3 == 0   ? PageFate::kWritten
                              : digits % 3 == 1 ? PageFate::kZeroed
                                                : PageFate::kGarbage);
      }
      if (kept < pages) image.cut_page = kept;
      images.push_back(image);
    }
  }
  return images;
}

void install(const std::filesystem::path& dir, const std::string& name, const std::string& bytes) {
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  test::write_bytes(dir / name, 0, bytes);
}

TEST(PowerLoss, TheWriterMarksEveryRecordOfAGroupCommitButItsFirst) {
  TempJournalDir dir("marks");
  const LastCommit c = write_journal_with_last_commit(dir.path());
  install(dir.path(), c.segment_name, c.after);
  const std::vector<Record> records = read_journal(dir.path());
  ASSERT_EQ(records.size(), kAcknowledged + kLastCommitRecords);
  for (const Record& r : records) {
    SCOPED_TRACE("sequence " + std::to_string(r.sequence));
    // Commits: 1..5, 6..10, ..., 36..40, then 41..46.
    const bool first_of_commit = r.sequence <= kAcknowledged ? (r.sequence - 1) % kCommitEvery == 0
                                                             : r.sequence == kAcknowledged + 1;
    EXPECT_EQ(r.flags, first_of_commit ? 0 : format::kRecordSameCommit);
  }
}

TEST(PowerLoss, EveryTearOfTheLastCommitIsCutAndTheAcknowledgedRecordsRemain) {
  TempJournalDir dir("every_tear");
  const LastCommit c = write_journal_with_last_commit(dir.path());
  ASSERT_EQ(c.start % kPage == 0, false) << "the last commit must start inside a page";
  ASSERT_EQ(page_count(c), 4u);
  const std::filesystem::path journal = dir.path() / "journal";
  const JournalOptions options = small_options(journal, Durability::kGroup, kSegmentSize);

  const std::vector<Image> images = every_image(page_count(c));
  ASSERT_EQ(images.size(), 3u + 9u + 27u + 81u);
  int cut_with_records_beyond = 0;
  for (std::size_t n = 0; n < images.size(); ++n) {
    const Image& image = images[n];
    SCOPED_TRACE("pages " + image.name());
    const std::string bytes = torn_bytes(c, image, static_cast<uint32_t>(n));
    install(journal, c.segment_name, bytes);

    // What recovery must keep: the acknowledged records, then the last commit's records up to
    // the first one the disk did not keep whole. Any whole record beyond that one is cut.
    std::size_t kept = 0;
    while (kept < kLastCommitRecords && c.offsets[kept] + c.lengths[kept] <= bytes.size() &&
           bytes.compare(c.offsets[kept], c.lengths[kept], c.after, c.offsets[kept],
                         c.lengths[kept]) == 0) {
      ++kept;
    }
    uint64_t whole_beyond = 0;
    for (std::size_t i = kept + 1; i < kLastCommitRecords; ++i) {
      if (c.offsets[i] + c.lengths[i] <= bytes.size() &&
          bytes.compare(c.offsets[i], c.lengths[i], c.after, c.offsets[i], c.lengths[i]) == 0) {
        ++whole_beyond;
      }
    }
    const uint64_t last = kAcknowledged + kept;

    absl::StatusOr<RecoveryResult> recovered = recover_journal(journal);
    ASSERT_TRUE(recovered.ok()) << recovered.status();
    EXPECT_EQ(recovered->last_sequence, last) << recovered->report.to_text();
    if (recovered->truncated) {
      EXPECT_EQ(recovered->torn_tail.offset, c.offsets[kept]);
      EXPECT_EQ(recovered->torn_tail.unfinished_records, whole_beyond);
    } else {
      EXPECT_EQ(whole_beyond, 0u) << "whole records beyond a gap must be cut";
    }
    if (whole_beyond > 0) ++cut_with_records_beyond;

    std::vector<Record> records = read_journal(journal);
    ASSERT_EQ(records.size(), last);
    for (uint64_t s = 1; s <= kAcknowledged; ++s) {
      ASSERT_EQ(records[s - 1], acknowledged_record(s)) << "acknowledged record " << s;
    }
    for (std::size_t i = 0; i < kept; ++i) {
      ASSERT_EQ(records[kAcknowledged + i], c.record(i)) << "record " << kAcknowledged + 1 + i;
    }

    // Appending continues with the next sequence, and the next start finds a clean journal.
    {
      absl::StatusOr<std::unique_ptr<JournalWriter>> writer =
          JournalWriter::open(options, recovered->next_sequence());
      ASSERT_TRUE(writer.ok()) << writer.status();
      for (uint64_t s = last + 1; s <= last + 3; ++s) {
        ASSERT_TRUE((*writer)->append(sample_entry(s)).ok()) << s;
      }
      ASSERT_TRUE((*writer)->commit().ok());
    }
    absl::StatusOr<RecoveryResult> again = recover_journal(journal);
    ASSERT_TRUE(again.ok()) << again.status();
    EXPECT_FALSE(again->truncated) << again->report.to_text();
    EXPECT_TRUE(again->report.clean()) << again->report.to_text();
    EXPECT_EQ(again->last_sequence, last + 3);
    records = read_journal(journal);
    ASSERT_EQ(records.size(), last + 3);
    for (uint64_t s = 1; s <= kAcknowledged; ++s) ASSERT_EQ(records[s - 1], acknowledged_record(s));
    for (std::size_t i = 0; i < kept; ++i) ASSERT_EQ(records[kAcknowledged + i], c.record(i));
    for (uint64_t s = last + 1; s <= last + 3; ++s) {
      ASSERT_EQ(records[s - 1], acknowledged_record(s)) << "appended record " << s;
    }
  }
  // The images include tears that leave whole records beyond a lost page (e.g. ZWWW).
  EXPECT_GT(cut_with_records_beyond, 0);
}

// Damage followed by the first record of a later commit: that record was written only after the
// damaged one's commit had been fdatasynced (and acknowledged), so this is not a torn write.
void expect_refused_unchanged(const std::filesystem::path& journal, const std::string& name,
                              const std::string& bytes, uint64_t damaged_offset) {
  install(journal, name, bytes);
  absl::StatusOr<VerifyReport> report = verify_journal(journal);
  ASSERT_TRUE(report.ok()) << report.status();
  ASSERT_EQ(report->damage.kind, DamageKind::kCorruption) << report->to_text();
  EXPECT_EQ(report->damage.offset, damaged_offset);
  EXPECT_NE(report->damage.reason.find("begins a later commit"), std::string::npos)
      << report->damage.reason;
  absl::StatusOr<RecoveryResult> recovered = recover_journal(journal);
  ASSERT_FALSE(recovered.ok());
  EXPECT_EQ(recovered.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(recovered.status().message().find("CORRUPTION"), std::string::npos);
  EXPECT_EQ(test::read_file(journal / name), bytes) << "a corrupt journal is never changed";
}

// Where record `sequence` (1..kAcknowledged) lies in the image.
uint64_t acknowledged_offset(const LastCommit& c, uint64_t sequence) {
  uint64_t offset = format::kFileHeaderSize;
  for (uint64_t s = 1; s < sequence; ++s) {
    offset += format::padded_length(format::kRecordHeaderSize + sample_entry(s).size);
  }
  EXPECT_LT(offset, c.start);
  return offset;
}

TEST(PowerLoss, DamageInAnAcknowledgedCommitFollowedByLaterCommitsIsRefused) {
  TempJournalDir dir("acknowledged_damage");
  const LastCommit c = write_journal_with_last_commit(dir.path());
  const std::filesystem::path journal = dir.path() / "journal";
  const uint64_t offset = acknowledged_offset(c, 18);  // in commit 16..20; 21 begins the next
  std::string bytes = c.after;
  bytes[offset + 40] = static_cast<char>(bytes[offset + 40] ^ 0x5A);
  expect_refused_unchanged(journal, c.segment_name, bytes, offset);
}

TEST(PowerLoss, ZeroedRecordsInTheLastAcknowledgedCommitFollowedByTheTornOneAreRefused) {
  TempJournalDir dir("last_acknowledged_zeroed");
  const LastCommit c = write_journal_with_last_commit(dir.path());
  const std::filesystem::path journal = dir.path() / "journal";
  // Records 38..40 (commit 36..40, acknowledged) read back as zeros, and the unfinished last
  // commit is torn after its first record: that first record proves 36..40 had been synced.
  const uint64_t from = acknowledged_offset(c, 38);
  std::string bytes = c.after;
  std::fill(bytes.begin() + static_cast<std::ptrdiff_t>(from),
            bytes.begin() + static_cast<std::ptrdiff_t>(c.start), '\0');
  std::fill(bytes.begin() + static_cast<std::ptrdiff_t>(c.offsets[2]),
            bytes.begin() + static_cast<std::ptrdiff_t>(c.end), '\0');
  expect_refused_unchanged(journal, c.segment_name, bytes, from);
}

}  // namespace
}  // namespace qt::persist
