// The data-directory layout (names, sorted listings) and DataDirLock: one holder at a time, the
// refusal names the holder's pid, and the lock dies with its holder.
#include "persist/data_dir.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include "tests/persist_backup/backup_test_support.hpp"

namespace qt::persist {
namespace {

using test::ScratchDir;

void touch(const std::filesystem::path& path) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream(path) << "x";
}

TEST(DataDirLayout, NamesCarryTwentyDigitZeroPaddedSequences) {
  EXPECT_EQ(segment_file_name(1), "segment-00000000000000000001.qtj");
  EXPECT_EQ(snapshot_file_name(1000), "snapshot-00000000000000001000.qts");
  EXPECT_EQ(segment_file_name(18446744073709551615ull), "segment-18446744073709551615.qtj");
}

TEST(DataDirLayout, ParsesOnlyExactNames) {
  EXPECT_EQ(parse_segment_file_name("segment-00000000000000000042.qtj"), 42u);
  EXPECT_EQ(parse_snapshot_file_name("snapshot-00000000000000000007.qts"), 7u);
  EXPECT_FALSE(parse_segment_file_name("segment-42.qtj"));                        // not padded
  EXPECT_FALSE(parse_segment_file_name("segment-00000000000000000042.qtj.tmp"));  // temp file
  EXPECT_FALSE(parse_segment_file_name("snapshot-00000000000000000042.qts"));
  EXPECT_FALSE(parse_snapshot_file_name("snapshot-0000000000000000004x.qts"));
  EXPECT_FALSE(parse_segment_file_name("segment-99999999999999999999.qtj"));  // > 2^64 - 1
}

TEST(DataDirLayout, ListsSegmentsAndSnapshotsAscendingIgnoringOtherFiles) {
  ScratchDir dir("layout");
  const std::filesystem::path data = dir.path() / "data";
  touch(journal_dir(data) / segment_file_name(2001));
  touch(journal_dir(data) / segment_file_name(1));
  touch(journal_dir(data) / segment_file_name(1001));
  touch(journal_dir(data) / "notes.txt");
  touch(snapshots_dir(data) / snapshot_file_name(1500));
  touch(snapshots_dir(data) / snapshot_file_name(900));
  touch(snapshots_dir(data) / (snapshot_file_name(1800) + ".tmp"));  // half-written

  absl::StatusOr<std::vector<SegmentFile>> segments = list_segments(data);
  ASSERT_TRUE(segments.ok()) << segments.status();
  ASSERT_EQ(segments->size(), 3u);
  EXPECT_EQ((*segments)[0].first_sequence, 1u);
  EXPECT_EQ((*segments)[1].first_sequence, 1001u);
  EXPECT_EQ((*segments)[2].first_sequence, 2001u);
  EXPECT_EQ((*segments)[2].path, journal_dir(data) / segment_file_name(2001));

  absl::StatusOr<std::vector<SnapshotFile>> snapshots = list_snapshots(data);
  ASSERT_TRUE(snapshots.ok()) << snapshots.status();
  ASSERT_EQ(snapshots->size(), 2u);
  EXPECT_EQ((*snapshots)[0].sequence, 900u);
  EXPECT_EQ((*snapshots)[1].sequence, 1500u);
}

TEST(DataDirLayout, MissingDirectoriesListAsEmpty) {
  ScratchDir dir("empty");
  absl::StatusOr<std::vector<SegmentFile>> segments = list_segments(dir.path() / "nothing");
  ASSERT_TRUE(segments.ok()) << segments.status();
  EXPECT_TRUE(segments->empty());
  absl::StatusOr<std::vector<SnapshotFile>> snapshots = list_snapshots(dir.path() / "nothing");
  ASSERT_TRUE(snapshots.ok()) << snapshots.status();
  EXPECT_TRUE(snapshots->empty());
}

TEST(DataDirLock, CreatesTheDirectoryAndRecordsThePid) {
  ScratchDir dir("lock_pid");
  const std::filesystem::path data = dir.path() / "fresh" / "data";
  absl::StatusOr<DataDirLock> lock = DataDirLock::acquire(data);
  ASSERT_TRUE(lock.ok()) << lock.status();
  std::ifstream in(lock_file_path(data));
  std::string pid;
  in >> pid;
  EXPECT_EQ(pid, std::to_string(::getpid()));
  absl::StatusOr<std::optional<pid_t>> holder = DataDirLock::holder(data);
  ASSERT_TRUE(holder.ok()) << holder.status();
  EXPECT_EQ(*holder, std::optional<pid_t>(::getpid()));
}

TEST(DataDirLock, SecondAcquireIsRefusedNamingTheHolderAndSucceedsAfterRelease) {
  ScratchDir dir("lock_twice");
  const std::filesystem::path data = dir.path() / "data";
  absl::StatusOr<DataDirLock> first = DataDirLock::acquire(data);
  ASSERT_TRUE(first.ok()) << first.status();

  absl::StatusOr<DataDirLock> second = DataDirLock::acquire(data);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(std::string(second.status().message()), "data directory " + data.string() +
                                                        " is held by a running engine (pid " +
                                                        std::to_string(::getpid()) + ")");

  first->release();
  absl::StatusOr<std::optional<pid_t>> holder = DataDirLock::holder(data);
  ASSERT_TRUE(holder.ok()) << holder.status();
  EXPECT_FALSE(holder->has_value()) << "released lock still reported held by pid " << **holder;
  absl::StatusOr<DataDirLock> third = DataDirLock::acquire(data);
  EXPECT_TRUE(third.ok()) << third.status();
}

TEST(DataDirLock, MovedFromLockDoesNotReleaseTheMovedToOne) {
  ScratchDir dir("lock_move");
  const std::filesystem::path data = dir.path() / "data";
  std::optional<DataDirLock> moved_to;
  {
    absl::StatusOr<DataDirLock> lock = DataDirLock::acquire(data);
    ASSERT_TRUE(lock.ok()) << lock.status();
    moved_to.emplace(std::move(*lock));
  }  // the moved-from lock is destroyed here
  EXPECT_FALSE(DataDirLock::acquire(data).ok());
  moved_to.reset();
  EXPECT_TRUE(DataDirLock::acquire(data).ok());
}

// Another process holds the lock: refused with that process's pid; once it is SIGKILLed the
// kernel drops the flock and the directory is free again, with no stale-lock cleanup.
TEST(DataDirLock, LockHeldByAnotherProcessIsRefusedAndFreedWhenItIsKilled) {
  ScratchDir dir("lock_child");
  const std::filesystem::path data = dir.path() / "data";
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::close(ready[0]);
    absl::StatusOr<DataDirLock> lock = DataDirLock::acquire(data);
    const char byte = lock.ok() ? '1' : '0';
    (void)!::write(ready[1], &byte, 1);
    for (;;) ::pause();
  }
  ::close(ready[1]);
  char byte = 0;
  ASSERT_EQ(::read(ready[0], &byte, 1), 1);
  ::close(ready[0]);
  ASSERT_EQ(byte, '1') << "child could not take the lock";

  absl::StatusOr<DataDirLock> refused = DataDirLock::acquire(data);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(std::string(refused.status().message()).find("(pid " + std::to_string(child) + ")"),
            std::string::npos)
      << refused.status();
  absl::StatusOr<std::optional<pid_t>> holder = DataDirLock::holder(data);
  ASSERT_TRUE(holder.ok()) << holder.status();
  EXPECT_EQ(*holder, std::optional<pid_t>(child));

  ::kill(child, SIGKILL);
  int status = 0;
  ::waitpid(child, &status, 0);
  absl::StatusOr<DataDirLock> after = DataDirLock::acquire(data);
  EXPECT_TRUE(after.ok()) << after.status();
}

}  // namespace
}  // namespace qt::persist
