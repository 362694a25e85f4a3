// The snapshotter (issue 4, "Snapshots"): its shadow engine follows the journal up to the durable
// sequence and never past it, its snapshots equal a replay of the journal up to their sequence,
// it keeps the newest N, and segment retention removes only sealed segments that every kept
// snapshot has passed and that are older than the window. Also run under tsan: its thread reads
// the journal while the test thread appends.
#include "persist/snapshotter.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "persist/data_dir.hpp"
#include "persist/engine_recovery.hpp"
#include "persist/journal_reader.hpp"
#include "persist/segment_format.hpp"
#include "persist/snapshot.hpp"
#include "tests/persist/snapshot_test_support.hpp"

namespace qt::persist::test {
namespace {

using namespace std::chrono_literals;

// The digest of a clean replay of the journal up to `sequence` (no snapshot).
uint64_t replayed_digest(const std::filesystem::path& data_dir, uint64_t sequence) {
  return state_digest(replayed_state(data_dir, sequence));
}

std::vector<uint64_t> snapshot_sequences(const std::filesystem::path& data_dir) {
  std::vector<uint64_t> out;
  absl::StatusOr<std::vector<SnapshotFile>> files = list_snapshots(data_dir);
  EXPECT_TRUE(files.ok()) << files.status();
  if (files.ok()) {
    for (const SnapshotFile& file : *files) out.push_back(file.sequence);
  }
  return out;
}

// The journal's files in order, prepared files already in use included (the writer's preparer
// gives them their segment name a moment after the writer starts using them).
std::vector<format::JournalFile> journal_files(const std::filesystem::path& data_dir) {
  absl::StatusOr<std::vector<format::JournalFile>> files =
      format::list_journal_files(journal_dir(data_dir));
  EXPECT_TRUE(files.ok()) << files.status();
  return files.ok() ? *files : std::vector<format::JournalFile>{};
}

SnapshotterOptions quick_options(const std::filesystem::path& data_dir) {
  SnapshotterOptions options;
  options.data_dir = data_dir;
  options.interval = 1ms;
  options.keep = 3;
  options.segment_retention = std::nullopt;
  return options;
}

class SnapshotterTest : public ::testing::Test {
 protected:
  TempJournalDir dir_{"snapshotter"};
  const std::filesystem::path& data() const { return dir_.path(); }
};

TEST_F(SnapshotterTest, SnapshotsExactlyTheDurableSequenceAndNothingAfterIt) {
  DiskJournaledEngine live(data());
  live.drive(20);
  const uint64_t appended = live.last_sequence();
  std::atomic<uint64_t> published{appended - 40};  // the writer is 40 records ahead

  Snapshotter snapshotter(quick_options(data()), rig_engine_options(), published);
  {
    const absl::Status status = snapshotter.prepare();
    ASSERT_TRUE(status.ok()) << status;
  }
  {
    const absl::Status status = snapshotter.run_cycle();
    ASSERT_TRUE(status.ok()) << status;
  }
  EXPECT_EQ(snapshot_sequences(data()), std::vector<uint64_t>{appended - 40});
  EXPECT_EQ(snapshotter.stats().last_snapshot_sequence.load(), appended - 40);
  EXPECT_EQ(snapshotter.stats().applied_sequence.load(), appended - 40);

  absl::StatusOr<EngineState> snapshot =
      read_snapshot(snapshots_dir(data()) / snapshot_file_name(appended - 40), live.instruments());
  ASSERT_TRUE(snapshot.ok()) << snapshot.status();
  EXPECT_EQ(state_digest(*snapshot), replayed_digest(data(), appended - 40));

  // Nothing new is durable: no new snapshot.
  {
    const absl::Status status = snapshotter.run_cycle();
    ASSERT_TRUE(status.ok()) << status;
  }
  EXPECT_EQ(snapshotter.stats().snapshots_written.load(), 1u);

  published.store(appended);
  {
    const absl::Status status = snapshotter.run_cycle();
    ASSERT_TRUE(status.ok()) << status;
  }
  EXPECT_EQ(snapshot_sequences(data()), (std::vector<uint64_t>{appended - 40, appended}));
  absl::StatusOr<EngineState> newest =
      read_snapshot(snapshots_dir(data()) / snapshot_file_name(appended), live.instruments());
  ASSERT_TRUE(newest.ok()) << newest.status();
  EXPECT_EQ(state_digest(*newest), replayed_digest(data(), appended));
  EXPECT_EQ(snapshotter.stats().failures.load(), 0u);
}

TEST_F(SnapshotterTest, FollowsAWriterThatKeepsAppendingAndNeverReadsPastTheDurableSequence) {
  DiskJournaledEngine live(data(), /*segment_size=*/64 * 1024);
  std::atomic<uint64_t> published{0};
  SnapshotterOptions options = quick_options(data());
  options.keep = 1000;  // keep them all, to check each one
  Snapshotter snapshotter(options, rig_engine_options(), published);
  {
    const absl::Status status = snapshotter.start();
    ASSERT_TRUE(status.ok()) << status;
  }

  // The test thread is engine, venue and journal; it publishes a durable sequence that trails
  // what it has appended by 25 records, and lets the snapshotter take a few snapshots.
  std::vector<uint64_t> published_values;
  for (int batch = 0; batch < 12; ++batch) {
    live.drive(8);
    const uint64_t durable = live.last_sequence() - 25;
    published.store(durable, std::memory_order_release);
    published_values.push_back(durable);
    snapshotter.request_cycle();
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    while (snapshotter.stats().applied_sequence.load() < durable &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(1ms);
    }
    ASSERT_EQ(snapshotter.stats().applied_sequence.load(), durable) << "batch " << batch;
  }
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (snapshotter.stats().last_snapshot_sequence.load() < published_values.back() &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(1ms);
  }
  snapshotter.stop();
  ASSERT_GE(journal_files(data()).size(), 2u) << "want segment switches under way";

  const std::vector<uint64_t> sequences = snapshot_sequences(data());
  ASSERT_GE(sequences.size(), 3u);
  EXPECT_EQ(sequences.back(), published_values.back());
  EXPECT_EQ(snapshotter.stats().failures.load(), 0u);
  for (uint64_t sequence : sequences) {
    SCOPED_TRACE("snapshot " + std::to_string(sequence));
    // Only sequences that were published as durable at some point.
    EXPECT_NE(std::find(published_values.begin(), published_values.end(), sequence),
              published_values.end());
    absl::StatusOr<EngineState> snapshot =
        read_snapshot(snapshots_dir(data()) / snapshot_file_name(sequence), live.instruments());
    ASSERT_TRUE(snapshot.ok()) << snapshot.status();
    EXPECT_EQ(state_digest(*snapshot), replayed_digest(data(), sequence));
  }
}

TEST_F(SnapshotterTest, KeepsTheNewestNSnapshots) {
  DiskJournaledEngine live(data());
  std::atomic<uint64_t> published{0};
  SnapshotterOptions options = quick_options(data());
  options.keep = 2;
  Snapshotter snapshotter(options, rig_engine_options(), published);
  {
    const absl::Status status = snapshotter.prepare();
    ASSERT_TRUE(status.ok()) << status;
  }
  std::vector<uint64_t> taken;
  for (int i = 0; i < 5; ++i) {
    live.drive(3);
    published.store(live.last_sequence());
    {
      const absl::Status status = snapshotter.run_cycle();
      ASSERT_TRUE(status.ok()) << status;
    }
    taken.push_back(live.last_sequence());
  }
  EXPECT_EQ(snapshot_sequences(data()), (std::vector<uint64_t>{taken[3], taken[4]}));
  EXPECT_EQ(snapshotter.stats().snapshots_written.load(), 5u);
  EXPECT_EQ(snapshotter.stats().snapshots_deleted.load(), 3u);
}

TEST_F(SnapshotterTest, StartsFromAGivenStateOrFromTheDataDirectoryAlike) {
  DiskJournaledEngine live(data());
  live.drive(10);
  std::atomic<uint64_t> published{live.last_sequence()};
  {
    Snapshotter first(quick_options(data()), rig_engine_options(), published);
    {
      const absl::Status status = first.prepare();
      ASSERT_TRUE(status.ok()) << status;
    }
    {
      const absl::Status status = first.run_cycle();
      ASSERT_TRUE(status.ok()) << status;
    }
  }
  live.drive(10);
  published.store(live.last_sequence());

  // What start-up recovery produced, handed over...
  FreshEngine recovered;
  ASSERT_TRUE(recover_engine_state(*recovered.engine, data(), live.instruments()).ok());
  const EngineState start_state = recovered.engine->capture_state();
  Snapshotter given(quick_options(data()), rig_engine_options(), published);
  {
    const absl::Status status = given.prepare(&start_state);
    ASSERT_TRUE(status.ok()) << status;
  }
  EXPECT_EQ(given.stats().applied_sequence.load(), live.last_sequence());
  {
    const absl::Status status = given.run_cycle();
    ASSERT_TRUE(status.ok()) << status;
  }  // the state is past the newest snapshot: one is due
  EXPECT_EQ(given.stats().last_snapshot_sequence.load(), live.last_sequence());
  const uint64_t digest_given = state_digest(*read_snapshot(
      snapshots_dir(data()) / snapshot_file_name(live.last_sequence()), live.instruments()));

  // ... or found by the snapshotter itself: the same state.
  std::filesystem::remove(snapshots_dir(data()) / snapshot_file_name(live.last_sequence()));
  Snapshotter own(quick_options(data()), rig_engine_options(), published);
  {
    const absl::Status status = own.prepare();
    ASSERT_TRUE(status.ok()) << status;
  }
  {
    const absl::Status status = own.run_cycle();
    ASSERT_TRUE(status.ok()) << status;
  }
  EXPECT_EQ(own.stats().last_snapshot_sequence.load(), live.last_sequence());
  EXPECT_EQ(
      state_digest(*read_snapshot(snapshots_dir(data()) / snapshot_file_name(live.last_sequence()),
                                  live.instruments())),
      digest_given);
  EXPECT_EQ(digest_given, replayed_digest(data(), live.last_sequence()));
}

// Ages every file of the journal by `age` (modification time).
void age_segments(const std::filesystem::path& data_dir, std::chrono::hours age) {
  for (const format::JournalFile& file : journal_files(data_dir)) {
    std::filesystem::last_write_time(file.path,
                                     std::filesystem::file_time_type::clock::now() - age);
  }
}

class SegmentRetentionTest : public SnapshotterTest,
                             public ::testing::WithParamInterface<bool /*archive*/> {};

TEST_P(SegmentRetentionTest, RemovesOnlyOldSealedSegmentsThatEveryKeptSnapshotHasPassed) {
  const bool archive = GetParam();
  DiskJournaledEngine live(data(), /*segment_size=*/64 * 1024);
  live.drive(200);
  live.close();  // every segment sealed and named
  const uint64_t whole_journal = replayed_digest(data(), live.last_sequence());
  const std::vector<format::JournalFile> before = journal_files(data());
  ASSERT_GE(before.size(), 4u) << listing(journal_dir(data()));

  std::atomic<uint64_t> published{0};
  SnapshotterOptions options = quick_options(data());
  options.keep = 2;
  options.segment_retention = 72h;
  options.archive_segments = archive;
  Snapshotter snapshotter(options, rig_engine_options(), published);
  {
    const absl::Status status = snapshotter.prepare();
    ASSERT_TRUE(status.ok()) << status;
  }
  // Two snapshots: the older one (inside the third segment) decides what the journal must
  // still hold, so that recovery can fall back to it.
  const uint64_t older = before[2].sort_key + 5;
  published.store(older);
  {
    const absl::Status status = snapshotter.run_cycle();
    ASSERT_TRUE(status.ok()) << status;
  }
  EXPECT_EQ(snapshotter.stats().segments_removed.load(), 0u) << "young segments stay";
  published.store(live.last_sequence());
  age_segments(data(), 100h);  // the last segment too: it stays because it is the last
  {
    const absl::Status status = snapshotter.run_cycle();
    ASSERT_TRUE(status.ok()) << status;
  }
  EXPECT_EQ(snapshot_sequences(data()), (std::vector<uint64_t>{older, live.last_sequence()}));

  // Segments 0 and 1 end before `older`: removed. Segment 2 holds it: kept. The rest: kept.
  EXPECT_EQ(snapshotter.stats().segments_removed.load(), 2u);
  EXPECT_FALSE(std::filesystem::exists(before[0].path));
  EXPECT_FALSE(std::filesystem::exists(before[1].path));
  for (std::size_t i = 2; i < before.size(); ++i) {
    EXPECT_TRUE(std::filesystem::exists(before[i].path)) << before[i].path;
  }
  EXPECT_EQ(std::filesystem::exists(data() / "archive" / before[0].path.filename()), archive);
  EXPECT_EQ(std::filesystem::exists(data() / "archive" / before[1].path.filename()), archive);
  const absl::StatusOr<VerifyReport> report = verify_journal(journal_dir(data()));
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->clean()) << report->to_text();

  // Recovery (newest snapshot, or the older one if the newest is damaged) still works.
  FreshEngine fresh;
  absl::StatusOr<RecoveredState> recovered =
      recover_engine_state(*fresh.engine, data(), live.instruments());
  ASSERT_TRUE(recovered.ok()) << recovered.status();
  EXPECT_EQ(state_digest(fresh.engine->capture_state()), whole_journal);
  std::filesystem::remove(snapshots_dir(data()) / snapshot_file_name(live.last_sequence()));
  FreshEngine fallback;
  recovered = recover_engine_state(*fallback.engine, data(), live.instruments());
  ASSERT_TRUE(recovered.ok()) << recovered.status();
  EXPECT_EQ(recovered->snapshot_sequence, older);
  EXPECT_EQ(state_digest(fallback.engine->capture_state()), whole_journal);
}

INSTANTIATE_TEST_SUITE_P(DeleteOrArchive, SegmentRetentionTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return std::string(info.param ? "archive" : "delete");
                         });

TEST_F(SnapshotterTest, RetentionNeverTouchesTheActiveSegmentOfARunningWriter) {
  DiskJournaledEngine live(data(), /*segment_size=*/64 * 1024);
  live.drive(150);
  // Wait for the preparer to name every segment but the active one (it renames a segment a
  // moment after the writer starts using it; retention leaves an unnamed one alone).
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  std::vector<format::JournalFile> files = journal_files(data());
  auto settled = [&] {
    files = journal_files(data());
    for (std::size_t i = 0; i + 1 < files.size(); ++i) {
      if (files[i].prepared_name) return false;
    }
    return true;
  };
  while (!settled() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(1ms);
  }
  ASSERT_GE(files.size(), 3u) << listing(journal_dir(data()));
  const format::JournalFile active = files.back();

  std::atomic<uint64_t> published{live.last_sequence()};
  SnapshotterOptions options = quick_options(data());
  options.keep = 1;
  options.segment_retention = 72h;
  Snapshotter snapshotter(options, rig_engine_options(), published);
  {
    const absl::Status status = snapshotter.prepare();
    ASSERT_TRUE(status.ok()) << status;
  }
  age_segments(data(), 100h);
  {
    const absl::Status status = snapshotter.run_cycle();
    ASSERT_TRUE(status.ok()) << status;
  }
  // The snapshot covers every record, yet the active segment stays; all sealed ones went.
  EXPECT_EQ(snapshotter.stats().segments_removed.load(), files.size() - 1);
  const std::vector<format::JournalFile> after = journal_files(data());
  ASSERT_EQ(after.size(), 1u) << listing(journal_dir(data()));
  EXPECT_EQ(after[0].sort_key, active.sort_key);
  // The writer goes on in it, and recovery still rebuilds the state.
  live.drive(5);
  live.close();
  FreshEngine fresh;
  absl::StatusOr<RecoveredState> recovered =
      recover_engine_state(*fresh.engine, data(), live.instruments());
  ASSERT_TRUE(recovered.ok()) << recovered.status();
  expect_same_orders_and_positions(fresh.engine->capture_state(), live.engine().capture_state(),
                                   /*same_clock=*/false);
}

TEST_F(SnapshotterTest, SegmentsYoungerThanTheRetentionWindowStay) {
  DiskJournaledEngine live(data(), /*segment_size=*/64 * 1024);
  live.drive(150);
  live.close();
  std::atomic<uint64_t> published{live.last_sequence()};
  SnapshotterOptions options = quick_options(data());
  options.segment_retention = 72h;
  Snapshotter snapshotter(options, rig_engine_options(), published);
  {
    const absl::Status status = snapshotter.prepare();
    ASSERT_TRUE(status.ok()) << status;
  }
  const std::size_t segments = journal_files(data()).size();
  ASSERT_GE(segments, 3u) << listing(journal_dir(data()));
  age_segments(data(), 71h);
  {
    const absl::Status status = snapshotter.run_cycle();
    ASSERT_TRUE(status.ok()) << status;
  }
  EXPECT_EQ(snapshotter.stats().snapshots_written.load(), 1u);
  EXPECT_EQ(journal_files(data()).size(), segments);
  EXPECT_EQ(snapshotter.stats().segments_removed.load(), 0u);
}

TEST_F(SnapshotterTest, StopReturnsPromptlyInTheMiddleOfALongInterval) {
  DiskJournaledEngine live(data());
  live.drive(2);
  std::atomic<uint64_t> published{live.last_sequence()};
  SnapshotterOptions options = quick_options(data());
  options.interval = std::chrono::hours(1);
  Snapshotter snapshotter(options, rig_engine_options(), published);
  {
    const absl::Status status = snapshotter.start();
    ASSERT_TRUE(status.ok()) << status;
  }
  snapshotter.stop();  // would hang for an hour if it slept through the stop
  EXPECT_EQ(snapshotter.stats().snapshots_written.load(), 0u);
}

TEST_F(SnapshotterTest, LeftoverTemporariesOfACrashedWriteAreRemoved) {
  std::filesystem::create_directories(snapshots_dir(data()));
  const std::filesystem::path leftover =
      snapshots_dir(data()) / (snapshot_file_name(7) + ".tmp.12345");
  write_new_file(leftover, "half a snapshot");
  std::atomic<uint64_t> published{0};
  Snapshotter snapshotter(quick_options(data()), rig_engine_options(), published);
  {
    const absl::Status status = snapshotter.prepare();
    ASSERT_TRUE(status.ok()) << status;
  }
  EXPECT_FALSE(std::filesystem::exists(leftover));
}

}  // namespace
}  // namespace qt::persist::test
