// Torn tails and corruption: each damage is classified, reported with its file and offset, and
// recovered (torn tail: zeroed, the writer continues with the next sequence) or refused
// (corruption: recover_journal fails with the verify report and changes nothing).
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>

#include "persist/journal.hpp"
#include "persist/journal_reader.hpp"
#include "persist/segment_format.hpp"
#include "tests/persist/journal_test_support.hpp"

namespace qt::persist {
namespace {

using test::RecordLocation;
using test::sample_entry;
using test::small_options;
using test::TempJournalDir;

constexpr uint64_t kLast = 2000;  // a crashed journal of 1..2000: several sealed segments + active

// A journal left by a crashed writer, and where each of its records lies.
struct CrashedJournal {
  explicit CrashedJournal(const std::string& tag) : dir(tag) {
    EXPECT_EQ(test::write_sample_journal_then_crash(small_options(dir.path()), 1, kLast), 0);
    const absl::StatusOr<RecoveryResult> clean = recover_journal(dir.path());  // names segments
    EXPECT_TRUE(clean.ok() && !clean->truncated);
    records = test::record_locations(dir.path());
    EXPECT_EQ(records.size(), kLast + test::segment_files(dir.path()).size() - 1);  // + seals
  }
  // The engine record with this sequence.
  const RecordLocation& record(uint64_t sequence) const {
    for (const RecordLocation& r : records) {
      if (r.sequence == sequence && !is_internal(r.type)) return r;
    }
    ADD_FAILURE() << "no record " << sequence;
    return records.front();
  }
  VerifyReport verify() const {
    absl::StatusOr<VerifyReport> report = verify_journal(dir.path());
    EXPECT_TRUE(report.ok()) << report.status();
    return report.ok() ? *report : VerifyReport{};
  }
  TempJournalDir dir;
  std::vector<RecordLocation> records;
};

// Recovery of a torn tail: reports what it removed, and the writer then continues with the
// next sequence in the same segment; the whole journal reads back dense.
void expect_recovers_to(const CrashedJournal& j, uint64_t last_good, uint64_t torn_offset,
                        const std::filesystem::path& torn_file) {
  const VerifyReport before = j.verify();
  ASSERT_EQ(before.damage.kind, DamageKind::kTornTail) << before.to_text();
  EXPECT_EQ(before.damage.segment, torn_file);
  EXPECT_EQ(before.damage.offset, torn_offset);
  EXPECT_NE(before.to_text().find("TORN TAIL"), std::string::npos);
  EXPECT_NE(before.to_text().find("offset " + std::to_string(torn_offset)), std::string::npos);

  absl::StatusOr<RecoveryResult> recovered = recover_journal(j.dir.path());
  ASSERT_TRUE(recovered.ok()) << recovered.status();
  EXPECT_TRUE(recovered->truncated);
  EXPECT_EQ(recovered->torn_tail.segment, torn_file);
  EXPECT_EQ(recovered->torn_tail.offset, torn_offset);
  EXPECT_GT(recovered->truncated_bytes, 0u);
  EXPECT_EQ(recovered->last_sequence, last_good);
  EXPECT_TRUE(j.verify().clean()) << j.verify().to_text();

  const JournalOptions options = small_options(j.dir.path());
  auto writer = JournalWriter::open(options, recovered->next_sequence());
  ASSERT_TRUE(writer.ok()) << writer.status();
  for (uint64_t s = last_good + 1; s <= last_good + 30; ++s) {
    ASSERT_TRUE((*writer)->append(sample_entry(s)).ok());
  }
  ASSERT_TRUE((*writer)->close().ok());
  auto reader = JournalReader::open(j.dir.path());
  ASSERT_TRUE(reader.ok());
  RecordView view;
  uint64_t expected = 1;
  while ((*reader)->next(view)) ASSERT_EQ(view.sequence, expected++);
  EXPECT_TRUE((*reader)->status().ok()) << (*reader)->status();
  EXPECT_EQ(expected, last_good + 31);
}

// Corruption: verify names the file and offset, recover refuses and changes no byte.
void expect_refused(const CrashedJournal& j, const std::filesystem::path& file, uint64_t offset,
                    std::string_view reason_part) {
  const VerifyReport report = j.verify();
  ASSERT_EQ(report.damage.kind, DamageKind::kCorruption) << report.to_text();
  EXPECT_EQ(report.damage.segment, file);
  EXPECT_EQ(report.damage.offset, offset);
  EXPECT_NE(report.damage.reason.find(reason_part), std::string::npos) << report.damage.reason;

  std::vector<std::string> before;
  for (const auto& f : test::segment_files(j.dir.path())) before.push_back(test::read_file(f));
  absl::StatusOr<RecoveryResult> recovered = recover_journal(j.dir.path());
  ASSERT_FALSE(recovered.ok());
  EXPECT_EQ(recovered.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(recovered.status().message().find("CORRUPTION in " + file.string() + " at offset " +
                                              std::to_string(offset)),
            std::string::npos)
      << recovered.status();
  std::vector<std::string> after;
  for (const auto& f : test::segment_files(j.dir.path())) after.push_back(test::read_file(f));
  EXPECT_EQ(before, after) << "recovery must not modify a corrupt journal";
}

TEST(Recovery, CleanCrashedJournalNeedsNoRepair) {
  CrashedJournal j("clean");
  const VerifyReport report = j.verify();
  EXPECT_TRUE(report.clean()) << report.to_text();
  EXPECT_EQ(report.last_sequence, kLast);
  EXPECT_FALSE(report.segments.back().sealed);
  EXPECT_GE(report.segments.size(), 3u);
}

TEST(Recovery, FileCutInsideTheLastRecordIsATornTail) {
  CrashedJournal j("cut_record");
  const RecordLocation& last = j.record(kLast);
  test::truncate_file(last.segment, last.offset + 20);
  expect_recovers_to(j, kLast - 1, last.offset, last.segment);
  EXPECT_NE(j.verify().segments.back().file_size, last.offset + 20);  // grown back by the writer
}

TEST(Recovery, FileCutInsideTheLengthWordIsATornTail) {
  CrashedJournal j("cut_length");
  const RecordLocation& last = j.record(kLast);
  test::truncate_file(last.segment, last.offset + 2);
  expect_recovers_to(j, kLast - 1, last.offset, last.segment);
}

TEST(Recovery, FlippedByteInTheLastRecordIsATornTail) {
  CrashedJournal j("flip_last");
  const RecordLocation& last = j.record(kLast);
  test::flip_byte(last.segment, last.offset + 40);  // in the payload
  const VerifyReport report = j.verify();
  EXPECT_EQ(report.damage.reason, "bad CRC");
  expect_recovers_to(j, kLast - 1, last.offset, last.segment);
}

TEST(Recovery, FlippedBytesInTheLastTwoRecordsTruncateFromTheFirstOfThem) {
  CrashedJournal j("flip_last_two");
  const RecordLocation& last = j.record(kLast);
  const RecordLocation& before_last = j.record(kLast - 1);
  test::flip_byte(before_last.segment, before_last.offset + 9);  // in its sequence number
  test::flip_byte(last.segment, last.offset + 33);
  expect_recovers_to(j, kLast - 2, before_last.offset, before_last.segment);
}

TEST(Recovery, BytesOfARecordWhoseLengthWordWasNeverWrittenAreATornTail) {
  CrashedJournal j("no_length_word");
  // A crash between the body stores and the length store: body bytes past the end of data.
  const RecordLocation& last = j.record(kLast);
  const uint64_t end = last.offset + format::padded_length(last.length);
  test::write_bytes(last.segment, end + 4, std::string("\x07\x00\x00\x00partial", 11));
  const VerifyReport report = j.verify();
  EXPECT_NE(report.damage.reason.find("partial record"), std::string::npos) << report.to_text();
  expect_recovers_to(j, kLast, end, last.segment);
}

TEST(Recovery, FlippedByteInAnEarlierRecordOfTheActiveSegmentIsCorruption) {
  CrashedJournal j("flip_active_middle");
  const RecordLocation& r = j.record(kLast - 5);  // valid records follow it
  test::flip_byte(r.segment, r.offset + 40);
  expect_refused(j, r.segment, r.offset, "a valid record follows at offset");
}

TEST(Recovery, ZeroedLengthWordInTheMiddleIsCorruptionNotAnEarlyEnd) {
  CrashedJournal j("zero_length_middle");
  const RecordLocation& r = j.record(kLast - 5);
  test::write_bytes(r.segment, r.offset, std::string(4, '\0'));
  expect_refused(j, r.segment, r.offset, "a valid record follows");
}

TEST(Recovery, FlippedByteInTheMiddleOfASealedSegmentIsCorruption) {
  CrashedJournal j("flip_sealed");
  const RecordLocation& r = j.record(300);  // in the first, sealed segment
  ASSERT_NE(r.segment, test::segment_files(j.dir.path()).back());
  test::flip_byte(r.segment, r.offset + 50);
  expect_refused(j, r.segment, r.offset, "bad CRC");
  EXPECT_NE(j.verify().damage.reason.find("sealed"), std::string::npos);
}

TEST(Recovery, FlippedByteInTheLastRecordOfASealedSegmentIsCorruption) {
  CrashedJournal j("flip_sealed_last");
  const auto files = test::segment_files(j.dir.path());
  const RecordLocation* last_in_first = nullptr;
  for (const RecordLocation& r : j.records) {
    if (r.segment == files[0] && !is_internal(r.type)) last_in_first = &r;
  }
  ASSERT_NE(last_in_first, nullptr);
  test::flip_byte(files[0], last_in_first->offset + 40);
  expect_refused(j, files[0], last_in_first->offset, "bad CRC");
}

TEST(Recovery, BadHeaderOfASealedSegmentIsCorruption) {
  CrashedJournal j("bad_sealed_header");
  const auto files = test::segment_files(j.dir.path());
  test::flip_byte(files[1], 20);  // inside segment_index
  expect_refused(j, files[1], 0, "bad segment header: bad header CRC");
}

TEST(Recovery, BadHeaderOfTheActiveSegmentWithRecordsIsCorruption) {
  CrashedJournal j("bad_active_header");
  const auto files = test::segment_files(j.dir.path());
  test::write_bytes(files.back(), 0, "XXXXXXXX");  // magic
  expect_refused(j, files.back(), 0, "bad segment header: bad magic");
}

TEST(Recovery, TornHeaderOfAnEmptyActiveSegmentIsRemoved) {
  TempJournalDir dir("torn_header");
  const JournalOptions options = small_options(dir.path());
  test::write_sample_journal(options, 1, 100);  // sealed segment 1..100
  // A new segment whose header write was torn by the crash: nothing of it is usable.
  const std::filesystem::path torn = dir.path() / segment_file_name(101);
  format::FileHeader header = format::make_file_header(1, 101, 64 * 1024, 0);
  header.header_crc ^= 1;
  std::string bytes(64 * 1024, '\0');
  std::memcpy(bytes.data(), &header, sizeof(header));
  { std::ofstream(torn, std::ios::binary) << bytes; }
  absl::StatusOr<VerifyReport> report = verify_journal(dir.path());
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->damage.kind, DamageKind::kTornTail) << report->to_text();
  EXPECT_EQ(report->damage.offset, 0u);
  absl::StatusOr<RecoveryResult> recovered = recover_journal(dir.path());
  ASSERT_TRUE(recovered.ok()) << recovered.status();
  EXPECT_TRUE(recovered->truncated);
  EXPECT_FALSE(std::filesystem::exists(torn));
  EXPECT_EQ(recovered->last_sequence, 100u);
  test::write_sample_journal(options, 101, 120);
  absl::StatusOr<VerifyReport> after = verify_journal(dir.path());
  ASSERT_TRUE(after.ok());
  EXPECT_TRUE(after->clean()) << after->to_text();
  EXPECT_EQ(after->last_sequence, 120u);
}

// Appends a record with a valid CRC but the given sequence at the end of the active segment.
void append_raw_record(const RecordLocation& after, uint64_t sequence) {
  const JournalEntry entry = sample_entry(sequence);
  format::RecordHeader header{};
  header.length = format::kRecordHeaderSize + entry.size;
  header.type = entry.type;
  header.sequence = sequence;
  header.timestamp_ns = entry.timestamp_ns;
  header.crc = format::record_crc(header, entry.payload.data(), entry.size);
  std::string bytes(format::padded_length(header.length), '\0');
  std::memcpy(bytes.data(), &header, sizeof(header));
  std::memcpy(bytes.data() + sizeof(header), entry.payload.data(), entry.size);
  test::write_bytes(after.segment, after.offset + format::padded_length(after.length), bytes);
}

TEST(Recovery, SequenceGapIsCorruption) {
  CrashedJournal j("gap");
  const RecordLocation last = j.record(kLast);
  append_raw_record(last, kLast + 2);
  expect_refused(j, last.segment, last.offset + format::padded_length(last.length),
                 "expected 2001 (gap)");
}

TEST(Recovery, RepeatedSequenceIsCorruption) {
  CrashedJournal j("reorder");
  const RecordLocation last = j.record(kLast);
  append_raw_record(last, kLast - 1);
  expect_refused(j, last.segment, last.offset + format::padded_length(last.length), "out of order");
}

TEST(Recovery, MissingMiddleSegmentIsCorruption) {
  CrashedJournal j("missing_segment");
  const auto files = test::segment_files(j.dir.path());
  ASSERT_GE(files.size(), 3u);
  std::filesystem::remove(files[1]);
  expect_refused(j, files[2], 0, "follows segment index");
}

// A later segment appears although the active one was never sealed. `record` (when not empty)
// is written as the new segment's first record.
std::filesystem::path add_segment_after_unsealed(const CrashedJournal& j,
                                                 const std::string& record) {
  const SegmentSummary active = j.verify().segments.back();
  const format::FileHeader header =
      format::make_file_header(active.index + 1, active.last_sequence + 1, 64 * 1024, 0);
  std::string bytes(64 * 1024, '\0');
  std::memcpy(bytes.data(), &header, sizeof(header));
  std::memcpy(bytes.data() + format::kFileHeaderSize, record.data(), record.size());
  const std::filesystem::path path = j.dir.path() / segment_file_name(active.last_sequence + 1);
  std::ofstream(path, std::ios::binary) << bytes;
  return path;
}

// What the writer puts on disk for an engine record: header (with `flags`), payload, padding.
std::string record_bytes(uint64_t sequence, uint16_t flags) {
  const JournalEntry entry = sample_entry(sequence);
  format::RecordHeader header{};
  header.length = static_cast<uint32_t>(format::kRecordHeaderSize + entry.size);
  header.type = entry.type;
  header.flags = flags;
  header.sequence = sequence;
  header.timestamp_ns = entry.timestamp_ns;
  header.crc = format::record_crc(header, entry.payload.data(), entry.size);
  std::string bytes(format::padded_length(header.length), '\0');
  std::memcpy(bytes.data(), &header, sizeof(header));
  std::memcpy(bytes.data() + sizeof(header), entry.payload.data(), entry.size);
  return bytes;
}

// A power loss while the last commit crossed into a new segment: the new segment's header
// reached the disk, the old segment's last records and seal did not. Nothing is lost by
// removing the new segment: it holds no record.
TEST(Recovery, UnsealedSegmentFollowedByAnEmptyOneIsATornTailThatRemovesIt) {
  CrashedJournal j("unsealed_then_empty");
  const SegmentSummary active = j.verify().segments.back();
  const std::filesystem::path later = add_segment_after_unsealed(j, "");
  const VerifyReport report = j.verify();
  ASSERT_EQ(report.damage.kind, DamageKind::kTornTail) << report.to_text();
  EXPECT_EQ(report.damage.segment, active.path);
  EXPECT_EQ(report.damage.offset, active.data_end);
  ASSERT_EQ(report.damage.unfinished_segments.size(), 1u);
  EXPECT_EQ(report.damage.unfinished_segments[0], later);

  absl::StatusOr<RecoveryResult> recovered = recover_journal(j.dir.path());
  ASSERT_TRUE(recovered.ok()) << recovered.status();
  EXPECT_EQ(recovered->last_sequence, kLast);
  EXPECT_FALSE(std::filesystem::exists(later));
  EXPECT_TRUE(j.verify().clean()) << j.verify().to_text();
}

// The same, but the new segment holds a record that began a commit of its own: the old
// segment's end was therefore on disk when it was written, and its missing seal is damage.
TEST(Recovery, UnsealedSegmentFollowedByOneWithACommitStartIsCorruption) {
  CrashedJournal j("unsealed_then_commit");
  const SegmentSummary active = j.verify().segments.back();
  add_segment_after_unsealed(j, record_bytes(active.last_sequence + 1, 0));
  expect_refused(j, active.path, active.data_end, "not sealed");
  EXPECT_NE(j.verify().damage.reason.find("begins a later commit"), std::string::npos)
      << j.verify().to_text();
}

TEST(Recovery, InUsePreparedSegmentIsFoundAndRenamed) {
  CrashedJournal j("prepared_in_use");
  const auto files = test::segment_files(j.dir.path());
  const std::filesystem::path prepared = j.dir.path() / "prepared-00000000000000000042.qtj.prep";
  std::filesystem::rename(files.back(), prepared);
  // An unused prepared file (all zeros) is no segment at all.
  {
    std::ofstream(j.dir.path() / "prepared-00000000000000000043.qtj.prep")
        << std::string(4096, '\0');
  }
  const VerifyReport report = j.verify();
  EXPECT_TRUE(report.clean()) << report.to_text();
  EXPECT_EQ(report.last_sequence, kLast);
  EXPECT_EQ(report.segments.back().path, prepared);
  absl::StatusOr<RecoveryResult> recovered = recover_journal(j.dir.path());
  ASSERT_TRUE(recovered.ok()) << recovered.status();
  ASSERT_EQ(recovered->renamed.size(), 1u);
  EXPECT_EQ(recovered->renamed[0], files.back());
  EXPECT_TRUE(std::filesystem::exists(files.back()));
  auto writer = JournalWriter::open(small_options(j.dir.path()), kLast + 1);
  ASSERT_TRUE(writer.ok()) << writer.status();
  EXPECT_FALSE(std::filesystem::exists(j.dir.path() / "prepared-00000000000000000043.qtj.prep"));
}

TEST(Recovery, WriterRefusesToOpenADamagedTail) {
  CrashedJournal j("writer_refuses");
  const RecordLocation& last = j.record(kLast);
  test::flip_byte(last.segment, last.offset + 40);
  auto writer = JournalWriter::open(small_options(j.dir.path()), kLast);
  ASSERT_FALSE(writer.ok());
  EXPECT_NE(writer.status().message().find("run recovery"), std::string::npos);
}

TEST(Recovery, MissingDirectoryIsAnEmptyJournalForRecoveryAndNotFoundForVerify) {
  TempJournalDir dir("missing");
  const std::filesystem::path missing = dir.path() / "nope";
  absl::StatusOr<RecoveryResult> recovered = recover_journal(missing);
  ASSERT_TRUE(recovered.ok());
  EXPECT_EQ(recovered->next_sequence(), 1u);
  EXPECT_EQ(verify_journal(missing).status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace qt::persist
