// Power loss, end to end through the engine's start-up (app/persistence.cpp, recover_into):
//  - async durability, the snapshot on disk ahead of the journal (the journal's last pages were
//    never written back): the engine starts from the snapshot, the old journal is set aside, new
//    records are numbered after the snapshot's sequence, and the next start is clean;
//  - the same disk under group durability is refused (there a snapshot covers only fdatasynced
//    records, so a journal behind it lost acknowledged ones);
//  - group durability, the last commit torn with a later page kept and an earlier one lost: the
//    engine starts with exactly the acknowledged records.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "app/persistence.hpp"
#include "persist/journal_reader.hpp"
#include "persist/segment_format.hpp"
#include "persist/snapshot.hpp"
#include "tests/persist/snapshot_test_support.hpp"
#include "tests/support/test_files.hpp"

namespace qt::persist {
namespace {

using qt::testing::ScratchDir;
using test::DiskJournaledEngine;
using test::expect_same_orders_and_positions;
using test::FreshEngine;
using test::rig_engine_options;

constexpr uint64_t kSegmentSize = 64 * 1024;

void copy_segments(const std::filesystem::path& from, const std::filesystem::path& to) {
  std::filesystem::create_directories(to);
  for (const std::filesystem::path& file : test::segment_files(from)) {
    std::filesystem::copy_file(file, to / file.filename());
  }
}

// What a power loss leaves when the journal's pages from record `first_lost` on never reached
// the disk: zeros from that record to the end of its segment, no later segment.
void lose_journal_from(const std::filesystem::path& journal, uint64_t first_lost) {
  for (const test::RecordLocation& r : test::record_locations(journal)) {
    if (r.sequence != first_lost || is_internal(r.type)) continue;
    test::write_bytes(r.segment, r.offset,
                      std::string(test::file_size(r.segment) - r.offset, '\0'));
    for (const std::filesystem::path& file : test::segment_files(journal)) {
      if (file > r.segment) std::filesystem::remove(file);
    }
    return;
  }
  FAIL() << "no record " << first_lost;
}

qt::PersistenceOptions persistence_options(const std::filesystem::path& data_dir,
                                           Durability durability) {
  qt::PersistenceOptions options;
  options.data_dir = data_dir;
  options.journal.durability = durability;
  options.journal.segment_size = kSegmentSize;
  return options;
}

struct Started {
  FreshEngine fresh;
  std::unique_ptr<qt::EnginePersistence> persistence;
  absl::StatusOr<qt::RecoveryReport> report = absl::UnknownError("not started");
};

std::unique_ptr<Started> start(const std::filesystem::path& data_dir, Durability durability) {
  auto started = std::make_unique<Started>();
  absl::StatusOr<std::unique_ptr<qt::EnginePersistence>> persistence =
      qt::EnginePersistence::open(persistence_options(data_dir, durability));
  EXPECT_TRUE(persistence.ok()) << persistence.status();
  if (!persistence.ok()) return started;
  started->persistence = std::move(*persistence);
  started->report =
      started->persistence->recover_into(*started->fresh.engine, rig_engine_options(), nullptr);
  return started;
}

TEST(PowerLossStart, AsyncSnapshotAheadOfTheJournalStartsFromItAndNumbersOnAfterIt) {
  ScratchDir live_dir("power_loss_live");
  ScratchDir disk("power_loss_disk");
  ScratchDir disk_group("power_loss_disk_group");
  EngineState taken;
  {
    DiskJournaledEngine live(live_dir.path());
    live.drive(30);
    taken = live.engine().capture_state();
    // The snapshot is fsynced when written; the async journal never is. The power loss comes
    // now: the disk holds the snapshot, and the journal only up to 25 records before it.
    ASSERT_TRUE(write_snapshot(disk.path(), taken, live.instruments()).ok());
    copy_segments(journal_dir(live_dir.path()), journal_dir(disk.path()));
  }
  const uint64_t covered = taken.journal_sequence;
  ASSERT_GT(covered, 100u);
  const uint64_t journal_end = covered - 25;
  lose_journal_from(journal_dir(disk.path()), journal_end + 1);
  std::filesystem::copy(disk.path(), disk_group.path(), std::filesystem::copy_options::recursive);

  // Group durability: the same disk is damage, and the engine does not start.
  {
    std::unique_ptr<Started> group = start(disk_group.path(), Durability::kGroup);
    ASSERT_FALSE(group->report.ok());
    EXPECT_EQ(group->report.status().code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_NE(
        group->report.status().message().find("ends at sequence " + std::to_string(journal_end)),
        std::string::npos)
        << group->report.status();
  }

  // Async: the snapshot's state, every record it covers, and the journal continues after it.
  char set_aside_name[64];
  std::snprintf(set_aside_name, sizeof set_aside_name, "journal-behind-snapshot-%020llu",
                static_cast<unsigned long long>(covered));
  const std::filesystem::path set_aside = disk.path() / "archive" / set_aside_name;
  {
    std::unique_ptr<Started> first = start(disk.path(), Durability::kAsync);
    ASSERT_TRUE(first->report.ok()) << first->report.status();
    EXPECT_EQ(first->report->snapshot_sequence, covered);
    EXPECT_EQ(first->report->records_replayed, 0u);
    EXPECT_EQ(first->report->last_sequence, covered);
    EXPECT_EQ(first->report->journal_set_aside, set_aside.string());
    expect_same_orders_and_positions(first->fresh.engine->capture_state(), taken);
    EXPECT_EQ(first->persistence->writer().next_sequence(), covered + 1);
    EXPECT_FALSE(test::segment_files(set_aside).empty()) << "the old journal is kept";
    for (const std::filesystem::path& file : test::segment_files(journal_dir(disk.path()))) {
      EXPECT_EQ(file.filename().string(), segment_file_name(covered + 1));
    }
    // The engine's first record after the start is numbered after the snapshot.
    first->fresh.engine->on_start();
    first->persistence->agent().do_work();
    EXPECT_EQ(first->persistence->writer().durable_sequence().load(), covered + 1);
  }

  // The next start is an ordinary one: the snapshot, then the record written after it.
  std::unique_ptr<Started> second = start(disk.path(), Durability::kAsync);
  ASSERT_TRUE(second->report.ok()) << second->report.status();
  EXPECT_TRUE(second->report->journal_set_aside.empty());
  EXPECT_FALSE(second->report->torn_tail_truncated);
  EXPECT_EQ(second->report->snapshot_sequence, covered);
  EXPECT_EQ(second->report->records_replayed, 1u);
  EXPECT_EQ(second->report->last_sequence, covered + 1);
  EngineState restarted = second->fresh.engine->capture_state();
  restarted.journal_sequence = covered;  // the engine_started record changes nothing else
  expect_same_orders_and_positions(restarted, taken);
}

TEST(PowerLossStart, GroupCommitTornWithALaterPageKeptStartsWithTheAcknowledgedRecords) {
  ScratchDir live_dir("power_loss_group_live");
  ScratchDir disk("power_loss_group_disk");
  {
    DiskJournaledEngine live(live_dir.path());
    live.drive(30);
    live.close();
  }
  // The engine's records again, written in group mode: commits of 10, then a last commit of the
  // final 80 records (several pages) whose fdatasync never returned.
  std::vector<JournalEntry> entries;
  {
    absl::StatusOr<std::unique_ptr<JournalReader>> reader =
        JournalReader::open(journal_dir(live_dir.path()));
    ASSERT_TRUE(reader.ok()) << reader.status();
    RecordView view;
    while ((*reader)->next(view)) {
      JournalEntry entry;
      entry.type = view.type;
      entry.sequence = view.sequence;
      entry.timestamp_ns = view.timestamp_ns;
      entry.size = static_cast<uint32_t>(view.payload.size());
      std::memcpy(entry.payload.data(), view.payload.data(), view.payload.size());
      entries.push_back(entry);
    }
  }
  ASSERT_GT(entries.size(), 200u);
  const uint64_t acknowledged = entries.size() - 80;
  const std::filesystem::path journal = journal_dir(disk.path());
  std::string before, after;
  std::filesystem::path segment;
  uint64_t start_offset = 0;
  {
    JournalOptions options = test::small_options(journal, Durability::kGroup, 1 << 20);
    absl::StatusOr<std::unique_ptr<JournalWriter>> writer = JournalWriter::open(options, 1);
    ASSERT_TRUE(writer.ok()) << writer.status();
    for (uint64_t i = 0; i < acknowledged; ++i) {
      ASSERT_TRUE((*writer)->append(entries[i]).ok());
      if ((i + 1) % 10 == 0) {
        ASSERT_TRUE((*writer)->commit().ok());
      }
    }
    ASSERT_TRUE((*writer)->commit().ok());
    segment = test::segment_files(journal).front();
    before = test::read_file(segment);
    start_offset =
        format::scan_segment(reinterpret_cast<const std::byte*>(before.data()), before.size())
            .data_end;
    for (uint64_t i = acknowledged; i < entries.size(); ++i) {
      ASSERT_TRUE((*writer)->append(entries[i]).ok());
    }
    ASSERT_TRUE((*writer)->commit().ok());
    after = test::read_file(segment);
  }
  // The commit's first page is lost (reads as it was before), its later pages are on disk.
  const uint64_t first_page_end = (start_offset / 4096 + 1) * 4096;
  std::string torn = after;
  std::copy(before.begin() + static_cast<std::ptrdiff_t>(start_offset),
            before.begin() + static_cast<std::ptrdiff_t>(first_page_end),
            torn.begin() + static_cast<std::ptrdiff_t>(start_offset));
  std::filesystem::remove_all(journal);
  std::filesystem::create_directories(journal);
  test::write_bytes(segment, 0, torn);

  std::unique_ptr<Started> started = start(disk.path(), Durability::kGroup);
  ASSERT_TRUE(started->report.ok()) << started->report.status();
  EXPECT_TRUE(started->report->torn_tail_truncated);
  EXPECT_EQ(started->report->last_sequence, acknowledged);
  expect_same_orders_and_positions(started->fresh.engine->capture_state(),
                                   test::replayed_state(live_dir.path(), acknowledged));
  EXPECT_EQ(started->persistence->writer().next_sequence(), acknowledged + 1);
}

}  // namespace
}  // namespace qt::persist
