// JournalWriter, JournalReader and JournalAgent: round trips across segments with every record
// type, reopening, the three durability modes, and the agent fed by a producer thread.
#include "persist/journal.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "persist/journal_reader.hpp"
#include "persist/segment_format.hpp"
#include "tests/persist/journal_test_support.hpp"

namespace qt::persist {
namespace {

using test::sample_entry;
using test::small_options;
using test::TempJournalDir;

// Every record of the journal, checked against sample_entry(): dense from `first` to `last`.
void expect_sample_records(const std::filesystem::path& dir, uint64_t first, uint64_t last) {
  absl::StatusOr<std::unique_ptr<JournalReader>> reader = JournalReader::open(dir);
  ASSERT_TRUE(reader.ok()) << reader.status();
  RecordView view;
  uint64_t expected = first;
  while ((*reader)->next(view)) {
    ASSERT_EQ(view.sequence, expected);
    const JournalEntry want = sample_entry(expected);
    ASSERT_EQ(view.type, want.type) << expected;
    ASSERT_EQ(view.timestamp_ns, want.timestamp_ns) << expected;
    ASSERT_EQ(view.payload.size(), want.size) << expected;
    ASSERT_EQ(std::memcmp(view.payload.data(), want.payload.data(), want.size), 0) << expected;
    ++expected;
  }
  EXPECT_TRUE((*reader)->status().ok()) << (*reader)->status();
  EXPECT_EQ(expected, last + 1);
}

TEST(Journal, RoundTripOfEveryRecordTypeAcrossSeveralSegments) {
  TempJournalDir dir("roundtrip");
  const JournalOptions options = small_options(dir.path());
  // 56 to 136 bytes a record: 5000 records fill several 64 KiB segments.
  test::write_sample_journal(options, 1, 5000);
  expect_sample_records(dir.path(), 1, 5000);

  absl::StatusOr<VerifyReport> report = verify_journal(dir.path());
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_TRUE(report->clean()) << report->to_text();
  EXPECT_GE(report->segments.size(), 5u);
  EXPECT_EQ(report->records, 5000u);
  EXPECT_EQ(report->first_sequence, 1u);
  EXPECT_EQ(report->last_sequence, 5000u);
  for (const SegmentSummary& s : report->segments) EXPECT_TRUE(s.sealed) << s.path;
  for (RecordType type : test::kEngineTypes) {
    EXPECT_EQ(report->records_by_type[static_cast<uint16_t>(type)], 625u) << record_type_name(type);
  }
  // Segment names carry their first sequence.
  for (const SegmentSummary& s : report->segments) {
    EXPECT_EQ(s.path.filename().string(), segment_file_name(s.first_sequence));
  }
}

TEST(Journal, ReaderStartsAtFromSequenceAndCanShowSeals) {
  TempJournalDir dir("from");
  test::write_sample_journal(small_options(dir.path()), 1, 3000);
  auto reader = JournalReader::open(dir.path(), {2500, false});
  ASSERT_TRUE(reader.ok());
  RecordView view;
  ASSERT_TRUE((*reader)->next(view));
  EXPECT_EQ(view.sequence, 2500u);
  uint64_t seals = 0;
  for (const test::RecordLocation& r : test::record_locations(dir.path())) {
    if (r.type == static_cast<uint16_t>(RecordType::kSegmentSeal)) ++seals;
  }
  EXPECT_EQ(seals, test::segment_files(dir.path()).size());
}

TEST(Journal, CleanCloseSealsAndTrimsAndReopenStartsANewSegment) {
  TempJournalDir dir("reopen_clean");
  const JournalOptions options = small_options(dir.path());
  test::write_sample_journal(options, 1, 100);
  auto files = test::segment_files(dir.path());
  ASSERT_EQ(files.size(), 1u);
  EXPECT_LT(test::file_size(files[0]), options.segment_size);  // trimmed to its data

  test::write_sample_journal(options, 101, 200);
  files = test::segment_files(dir.path());
  ASSERT_EQ(files.size(), 2u);
  EXPECT_EQ(files[1].filename().string(), segment_file_name(101));
  expect_sample_records(dir.path(), 1, 200);
}

TEST(Journal, ReopenAfterACrashContinuesInTheActiveSegment) {
  TempJournalDir dir("reopen_crash");
  const JournalOptions options = small_options(dir.path());
  ASSERT_EQ(test::write_sample_journal_then_crash(options, 1, 1000), 0);
  absl::StatusOr<RecoveryResult> recovered = recover_journal(dir.path());
  ASSERT_TRUE(recovered.ok()) << recovered.status();
  EXPECT_FALSE(recovered->truncated);
  EXPECT_EQ(recovered->last_sequence, 1000u);
  const std::size_t segments_after_crash = test::segment_files(dir.path()).size();

  test::write_sample_journal(options, recovered->next_sequence(), 1010);
  EXPECT_EQ(test::segment_files(dir.path()).size(), segments_after_crash);  // same active one
  expect_sample_records(dir.path(), 1, 1010);
}

TEST(Journal, OpenRefusesANextSequenceThatDoesNotContinueTheJournal) {
  TempJournalDir dir("wrong_next");
  test::write_sample_journal(small_options(dir.path()), 1, 10);
  auto writer = JournalWriter::open(small_options(dir.path()), 12);
  ASSERT_FALSE(writer.ok());
  EXPECT_EQ(writer.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(writer.status().message().find("ends at 10"), std::string::npos) << writer.status();
}

TEST(Journal, AppendRefusesAnOutOfSequenceEntryAndAnInternalType) {
  TempJournalDir dir("append_checks");
  auto writer = JournalWriter::open(small_options(dir.path()), 1);
  ASSERT_TRUE(writer.ok());
  EXPECT_FALSE((*writer)->append(sample_entry(2)).ok());
  JournalEntry seal = sample_entry(1);
  seal.type = static_cast<uint16_t>(RecordType::kSegmentSeal);
  EXPECT_FALSE((*writer)->append(seal).ok());
  EXPECT_TRUE((*writer)->append(sample_entry(1)).ok());
  EXPECT_EQ((*writer)->next_sequence(), 2u);
}

TEST(Journal, OpenRejectsBadOptions) {
  TempJournalDir dir("bad_options");
  JournalOptions options = small_options(dir.path());
  options.segment_size = 10'000;  // not a multiple of 4096
  EXPECT_EQ(JournalWriter::open(options, 1).status().code(), absl::StatusCode::kInvalidArgument);
  options.segment_size = 4096;  // below the minimum
  EXPECT_EQ(JournalWriter::open(options, 1).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(Journal, DurableSequenceAdvancesOnlyAtCommitInEveryMode) {
  for (Durability mode : {Durability::kAsync, Durability::kGroup, Durability::kSync}) {
    TempJournalDir dir(std::string("durable_") + std::string(to_string(mode)));
    auto writer = JournalWriter::open(small_options(dir.path(), mode), 1);
    ASSERT_TRUE(writer.ok()) << writer.status();
    for (uint64_t s = 1; s <= 1000; ++s) ASSERT_TRUE((*writer)->append(sample_entry(s)).ok());
    EXPECT_EQ((*writer)->durable_sequence().load(), 0u) << to_string(mode);
    EXPECT_EQ((*writer)->pending_records(), 1000u);
    ASSERT_TRUE((*writer)->commit().ok());
    EXPECT_EQ((*writer)->durable_sequence().load(), 1000u) << to_string(mode);
    EXPECT_EQ((*writer)->pending_records(), 0u);
    // Only the durable modes call fdatasync.
    EXPECT_EQ((*writer)->stats().commits.load(), mode == Durability::kAsync ? 0u : 1u);
    EXPECT_GE((*writer)->stats().segment_switches.load(), 1u);  // 1000 records > 64 KiB
    ASSERT_TRUE((*writer)->close().ok());
    expect_sample_records(dir.path(), 1, 1000);
  }
}

TEST(Journal, EveryModeRoundTripsAcrossSegmentsAndContinuesAfterACrash) {
  for (Durability mode : {Durability::kAsync, Durability::kGroup, Durability::kSync}) {
    SCOPED_TRACE(std::string(to_string(mode)));
    TempJournalDir dir(std::string("modes_") + std::string(to_string(mode)));
    const JournalOptions options = small_options(dir.path(), mode);
    test::write_sample_journal(options, 1, 1500, 7);
    ASSERT_EQ(test::write_sample_journal_then_crash(options, 1501, 2500), 0);
    absl::StatusOr<RecoveryResult> recovered = recover_journal(dir.path());
    ASSERT_TRUE(recovered.ok()) << recovered.status();
    EXPECT_FALSE(recovered->truncated);
    ASSERT_EQ(recovered->last_sequence, 2500u);
    test::write_sample_journal(options, 2501, 3000, 13);
    expect_sample_records(dir.path(), 1, 3000);
    absl::StatusOr<VerifyReport> report = verify_journal(dir.path());
    ASSERT_TRUE(report.ok()) << report.status();
    EXPECT_TRUE(report->clean()) << report->to_text();
  }
}

// Durable modes stage records and write them at the commit: a reader beside the writer sees a
// record once it is durable, never a half-written one, and the renamed segment always has its
// header.
TEST(Journal, DurableModesShowRecordsToReadersOnceCommitted) {
  TempJournalDir dir("staged");
  auto writer = JournalWriter::open(small_options(dir.path(), Durability::kGroup), 1);
  ASSERT_TRUE(writer.ok()) << writer.status();
  auto count_records = [&] {
    auto reader = JournalReader::open(dir.path());
    EXPECT_TRUE(reader.ok()) << reader.status();
    RecordView view;
    uint64_t n = 0;
    while ((*reader)->next(view)) ++n;
    EXPECT_TRUE((*reader)->status().ok()) << (*reader)->status();
    return n;
  };
  for (uint64_t s = 1; s <= 10; ++s) ASSERT_TRUE((*writer)->append(sample_entry(s)).ok());
  EXPECT_EQ(count_records(), 0u);
  ASSERT_TRUE((*writer)->commit().ok());
  EXPECT_EQ(count_records(), 10u);
  // Across a segment switch: the sealed segment's tail was written at the switch, the new
  // segment's header at once.
  uint64_t s = 11;
  while ((*writer)->stats().segment_switches.load() == 0) {
    ASSERT_TRUE((*writer)->append(sample_entry(s++)).ok());
  }
  EXPECT_EQ(count_records(), s - 2);  // all but the record in the new segment
  ASSERT_TRUE((*writer)->commit().ok());
  EXPECT_EQ(count_records(), s - 1);
  ASSERT_TRUE((*writer)->close().ok());
  expect_sample_records(dir.path(), 1, s - 1);
}

// Records longer than an engine entry (format version 2): up to kMaxRecordPayload bytes, in every
// mode, including more between two commits than the durable modes' staging buffer holds.
TEST(Journal, LongRecordsUpToTheFormatMaximumInEveryMode) {
  for (Durability mode : {Durability::kAsync, Durability::kGroup, Durability::kSync}) {
    SCOPED_TRACE(std::string(to_string(mode)));
    TempJournalDir dir(std::string("long_") + std::string(to_string(mode)));
    auto writer = JournalWriter::open(small_options(dir.path(), mode, 2 << 20), 1);
    ASSERT_TRUE(writer.ok()) << writer.status();
    auto payload_of = [](uint64_t sequence) {
      std::vector<std::byte> payload(sequence * 37 % (kMaxRecordPayload + 1));
      for (std::size_t i = 0; i < payload.size(); ++i) {
        payload[i] = static_cast<std::byte>((sequence * 131 + i) & 0xFF);
      }
      return payload;
    };
    constexpr uint64_t kRecords = 2000;  // ~4 MB: 2 MiB segments, > 1 MiB between commits
    for (uint64_t s = 1; s <= kRecords; ++s) {
      const std::vector<std::byte> payload = payload_of(s);
      ASSERT_TRUE((*writer)->append(1, s, static_cast<int64_t>(s), payload).ok()) << s;
      if (s == 1000) {
        ASSERT_TRUE((*writer)->commit().ok());
      }
    }
    const std::vector<std::byte> too_long(kMaxRecordPayload + 1);
    EXPECT_EQ((*writer)->append(1, kRecords + 1, 0, too_long).code(),
              absl::StatusCode::kInvalidArgument);
    ASSERT_TRUE((*writer)->commit().ok());
    EXPECT_GE((*writer)->stats().segment_switches.load(), 1u);
    ASSERT_TRUE((*writer)->close().ok());

    auto reader = JournalReader::open(dir.path());
    ASSERT_TRUE(reader.ok()) << reader.status();
    RecordView view;
    uint64_t expected = 1;
    while ((*reader)->next(view)) {
      ASSERT_EQ(view.sequence, expected);
      const std::vector<std::byte> want = payload_of(expected);
      ASSERT_EQ(view.payload.size(), want.size()) << expected;
      ASSERT_TRUE(std::equal(want.begin(), want.end(), view.payload.begin())) << expected;
      ++expected;
    }
    EXPECT_TRUE((*reader)->status().ok()) << (*reader)->status();
    EXPECT_EQ(expected, kRecords + 1);
  }
}

// Segments written by format version 1 (records of at most 136 bytes) stay readable.
TEST(Journal, ReadsFormatVersion1Segments) {
  TempJournalDir dir("v1");
  test::write_sample_journal(small_options(dir.path()), 1, 1000);
  for (const std::filesystem::path& path : test::segment_files(dir.path())) {
    format::FileHeader header;
    const std::string bytes = test::read_bytes(path, 0, sizeof(header));
    ASSERT_EQ(bytes.size(), sizeof(header));
    std::memcpy(&header, bytes.data(), sizeof(header));
    ASSERT_EQ(header.format_version, kJournalFormatVersion);
    header.format_version = 1;
    header.header_crc = format::header_crc(header);
    test::write_bytes(path, 0, std::string(reinterpret_cast<const char*>(&header), sizeof(header)));
  }
  absl::StatusOr<VerifyReport> report = verify_journal(dir.path());
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_TRUE(report->clean()) << report->to_text();
  expect_sample_records(dir.path(), 1, 1000);
}

TEST(Journal, PreparerHasTheNextSegmentReadyBeforeItIsNeeded) {
  TempJournalDir dir("preparer");
  auto writer = JournalWriter::open(small_options(dir.path()), 1);
  ASSERT_TRUE(writer.ok());
  uint64_t sequence = 1;
  for (int switches = 1; switches <= 3; ++switches) {
    // Wait (no limit but ctest's) until the preparer has the next segment ready.
    while ((*writer)->stats().segments_prepared.load() < static_cast<uint64_t>(switches)) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    while ((*writer)->stats().segment_switches.load() < static_cast<uint64_t>(switches)) {
      ASSERT_TRUE((*writer)->append(sample_entry(sequence++)).ok());
    }
  }
  EXPECT_EQ((*writer)->stats().late_preparations.load(), 0u);
  ASSERT_TRUE((*writer)->close().ok());
  // close() removed the unused prepared file.
  for (const auto& e : std::filesystem::directory_iterator(dir.path())) {
    EXPECT_EQ(e.path().extension(), ".qtj") << e.path();
  }
  expect_sample_records(dir.path(), 1, sequence - 1);
}

// --- JournalAgent ------------------------------------------------------------------------------

// Runs `agent` on its own thread until `done` returns true, then closes it.
template <typename Done>
void run_agent_until(JournalAgent& agent, Done done) {
  std::thread thread([&] {
    agent.on_start();
    while (!done()) {
      if (agent.do_work() == 0) std::this_thread::yield();
    }
    agent.on_close();
  });
  thread.join();
}

TEST(JournalAgent, GroupModeBatchesManyRecordsIntoOneCommit) {
  TempJournalDir dir("agent_group");
  JournalOptions options = small_options(dir.path(), Durability::kGroup, 1 << 20);
  options.group_commit_interval_ns = 1'000'000'000;  // a second: only the count ends a batch
  options.group_commit_max_records = 256;
  auto writer = JournalWriter::open(options, 1);
  ASSERT_TRUE(writer.ok());
  auto ring = std::make_unique<JournalRing>();
  for (uint64_t s = 1; s <= 1024; ++s) ASSERT_TRUE(ring->try_push(sample_entry(s)));
  JournalAgent agent(**writer, *ring);
  run_agent_until(agent, [&] { return agent.durable_sequence().load() >= 1024; });
  // 1024 records: one immediate commit of the first batch of 256, then one per 256.
  EXPECT_EQ((*writer)->stats().records.load(), 1024u);
  EXPECT_EQ((*writer)->stats().commits.load(), 4u);
  EXPECT_FALSE(agent.failed());
  expect_sample_records(dir.path(), 1, 1024);
}

TEST(JournalAgent, GroupModeCommitsALoneRecordWithoutWaiting) {
  TempJournalDir dir("agent_group_idle");
  JournalOptions options = small_options(dir.path(), Durability::kGroup);
  options.group_commit_interval_ns = 1'000'000'000;
  auto writer = JournalWriter::open(options, 1);
  ASSERT_TRUE(writer.ok());
  auto ring = std::make_unique<JournalRing>();
  ASSERT_TRUE(ring->try_push(sample_entry(1)));
  JournalAgent agent(**writer, *ring);
  EXPECT_GE(agent.do_work(), 1);
  // The journal had been idle longer than the interval: the first record is synced at once.
  EXPECT_EQ(agent.durable_sequence().load(), 1u);
  EXPECT_EQ((*writer)->stats().commits.load(), 1u);
  // A second record right after waits for the interval (or the count), and the agent says it
  // has work so its runner does not park meanwhile.
  ASSERT_TRUE(ring->try_push(sample_entry(2)));
  EXPECT_GE(agent.do_work(), 1);
  EXPECT_EQ(agent.durable_sequence().load(), 1u);
  EXPECT_GE(agent.do_work(), 1);
  agent.on_close();  // drains, commits, seals
  EXPECT_EQ(agent.durable_sequence().load(), 2u);
}

TEST(JournalAgent, GroupModeByDefaultCommitsWhateverArrivedAsSoonAsTheLastCommitReturns) {
  TempJournalDir dir("agent_group_greedy");
  JournalOptions options = small_options(dir.path(), Durability::kGroup);
  ASSERT_EQ(options.group_commit_interval_ns, JournalOptions{}.group_commit_interval_ns);
  auto writer = JournalWriter::open(options, 1);
  ASSERT_TRUE(writer.ok());
  auto ring = std::make_unique<JournalRing>();
  JournalAgent agent(**writer, *ring);
  // Each record arrives right after the previous commit returned: greedy group commit syncs it
  // in the same pass instead of holding it for an interval.
  for (uint64_t s = 1; s <= 3; ++s) {
    ASSERT_TRUE(ring->try_push(sample_entry(s)));
    EXPECT_GE(agent.do_work(), 1);
    EXPECT_EQ(agent.durable_sequence().load(), s);
  }
  EXPECT_EQ((*writer)->stats().commits.load(), 3u);
  agent.on_close();
}

TEST(JournalAgent, SyncModeCommitsEveryRecord) {
  TempJournalDir dir("agent_sync");
  auto writer = JournalWriter::open(small_options(dir.path(), Durability::kSync), 1);
  ASSERT_TRUE(writer.ok());
  auto ring = std::make_unique<JournalRing>();
  for (uint64_t s = 1; s <= 50; ++s) ASSERT_TRUE(ring->try_push(sample_entry(s)));
  JournalAgent agent(**writer, *ring);
  run_agent_until(agent, [&] { return agent.durable_sequence().load() >= 50; });
  EXPECT_EQ((*writer)->stats().commits.load(), 50u);
  expect_sample_records(dir.path(), 1, 50);
}

// A producer thread pushes while the agent drains on another: everything arrives, in order,
// durable, and the doorbell was rung. Also run under ThreadSanitizer.
void produce_and_drain(Durability mode, uint64_t count) {
  TempJournalDir dir(std::string("agent_threads_") + std::string(to_string(mode)));
  JournalOptions options = small_options(dir.path(), mode, 256 * 1024);
  auto writer = JournalWriter::open(options, 1);
  ASSERT_TRUE(writer.ok());
  auto ring = std::make_unique<JournalRing>();
  Doorbell doorbell;
  JournalAgent agent(**writer, *ring, &doorbell);
  std::atomic<bool> produced{false};
  std::thread producer([&] {
    for (uint64_t s = 1; s <= count; ++s) {
      const JournalEntry entry = sample_entry(s);
      while (!ring->try_push(entry)) std::this_thread::yield();
    }
    produced.store(true);
  });
  uint64_t observed = 0;  // the durable sequence never goes backwards
  bool monotonic = true;
  run_agent_until(agent, [&] {
    const uint64_t now = agent.durable_sequence().load(std::memory_order_acquire);
    if (now < observed) monotonic = false;
    observed = now;
    return produced.load() && now >= count;
  });
  producer.join();
  EXPECT_TRUE(monotonic);
  EXPECT_FALSE(agent.failed());
  EXPECT_EQ((*writer)->stats().records.load(), count);
  if (mode == Durability::kGroup) {
    EXPECT_LE((*writer)->stats().commits.load(), count);
  }
  expect_sample_records(dir.path(), 1, count);
}

TEST(JournalAgent, ProducerThreadAsync) {
  produce_and_drain(Durability::kAsync, 200'000);
}
TEST(JournalAgent, ProducerThreadGroup) {
  produce_and_drain(Durability::kGroup, 20'000);
}

}  // namespace
}  // namespace qt::persist
