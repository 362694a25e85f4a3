// Backup and restore, as specified in issue 4 ("Backup and restore"):
//  - a backup taken while a writer keeps appending restores into a new directory whose journal
//    verifies clean and is exactly the source's records up to the backup point, and that point
//    includes every record durable before the backup began;
//  - the same through S3: s3rver on loopback, the aws CLI with --endpoint-url;
//  - a tampered, truncated or missing file is refused before the target is touched;
//  - a target held by a running engine, or holding data, is refused (unless --force);
//  - retention deletes old backup folders only, never the new one nor `latest`'s;
//  - secrets never reach a backup; the metrics file records every outcome.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstring>
#include <regex>
#include <sstream>

#include "app/backup_command.hpp"
#include "persist/backup.hpp"
#include "persist/backup_metrics.hpp"
#include "persist/data_dir.hpp"
#include "persist/segment_format.hpp"
#include "persist/snapshot.hpp"
#include "tests/persist_backup/backup_test_support.hpp"
#include "tests/persist_backup/journal_test_support.hpp"
#include "tests/persist_backup/s3_test_support.hpp"

namespace qt::persist {
namespace {

namespace fs = std::filesystem;
using test::JournalDigest;
using test::JournalLoad;
using test::read_file;
using test::ScratchDir;
using test::tree_fingerprint;
using test::write_file;

// A quiet journal of `records` records (sealed at close) plus a snapshot file at sequence
// `snapshot_at` (the backup treats snapshot contents as opaque bytes).
void make_data_dir(const fs::path& data_dir, uint64_t records, uint64_t snapshot_at,
                   uint64_t segment_size = 64 * 1024) {
  JournalLoad load({.journal_dir = journal_dir(data_dir),
                    .segment_size = segment_size,
                    .pause = std::chrono::microseconds(0),
                    .max_records = records});
  load.start();
  ASSERT_TRUE(load.wait_for_durable(records));
  ASSERT_TRUE(load.stop().ok()) << load.status();
  if (snapshot_at > 0) {
    write_file(snapshots_dir(data_dir) / snapshot_file_name(snapshot_at),
               "snapshot state through " + std::to_string(snapshot_at));
  }
}

BackupOptions local_backup(const fs::path& data_dir, const fs::path& to) {
  BackupOptions options;
  options.data_dir = data_dir;
  options.destination = to.string();
  options.effective_config_toml = "# test configuration\n";
  return options;
}

RestoreOptions local_restore(const std::string& from, const fs::path& data_dir) {
  RestoreOptions options;
  options.source = from;
  options.data_dir = data_dir;
  return options;
}

// The restored data directory against the source: journal verify clean, its records exactly the
// source's first `manifest.journal_last_sequence` records, the snapshot byte-identical.
void expect_restored_prefix(const fs::path& source, const fs::path& restored,
                            const BackupManifest& manifest) {
  absl::StatusOr<VerifyReport> report = verify_journal(journal_dir(restored));
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_TRUE(report->clean()) << report->to_text();
  EXPECT_EQ(report->last_sequence, manifest.journal_last_sequence);
  const JournalDigest restored_digest = test::journal_digest(journal_dir(restored));
  const JournalDigest source_digest =
      test::journal_digest(journal_dir(source), manifest.journal_last_sequence);
  EXPECT_TRUE(restored_digest.status.ok()) << restored_digest;
  EXPECT_EQ(restored_digest, source_digest);
  EXPECT_EQ(restored_digest.first_sequence, 1u);
  EXPECT_EQ(restored_digest.records, manifest.journal_last_sequence);
  if (manifest.snapshot_sequence) {
    const std::string name = snapshot_file_name(*manifest.snapshot_sequence);
    EXPECT_EQ(read_file(snapshots_dir(restored) / name), read_file(snapshots_dir(source) / name));
  }
}

TEST(Backup, QuietDataDirBacksUpAndRestoresIdentically) {
  ScratchDir dir("quiet");
  const fs::path data = dir.path() / "data";
  make_data_dir(data, 3000, 1200);

  absl::StatusOr<BackupResult> backup = create_backup(local_backup(data, dir.path() / "backups"));
  ASSERT_TRUE(backup.ok()) << backup.status();
  EXPECT_EQ(backup->manifest.journal_first_sequence, 1u);
  EXPECT_EQ(backup->manifest.journal_last_sequence, 3000u);
  EXPECT_EQ(backup->manifest.snapshot_sequence, std::optional<uint64_t>(1200));
  EXPECT_GT(backup->journal_report.segments.size(), 1u) << "64 KiB segments: several expected";
  EXPECT_EQ(read_file(dir.path() / "backups" / "latest"), backup->name + "\n");
  EXPECT_TRUE(fs::exists(dir.path() / "backups" / backup->name / "manifest.json"));

  // The backup's own files verify: every manifest entry has the size and hash it claims.
  for (const ManifestFile& file : backup->manifest.files) {
    absl::StatusOr<FileDigest> digest =
        sha256_file(dir.path() / "backups" / backup->name / file.path);
    ASSERT_TRUE(digest.ok()) << file.path;
    EXPECT_EQ(digest->sha256, file.sha256) << file.path;
    EXPECT_EQ(digest->size, file.size) << file.path;
  }

  const fs::path restored = dir.path() / "restored";
  absl::StatusOr<RestoreResult> restore =
      restore_backup(local_restore((dir.path() / "backups").string(), restored));
  ASSERT_TRUE(restore.ok()) << restore.status();
  EXPECT_EQ(restore->name, backup->name);
  expect_restored_prefix(data, restored, backup->manifest);
  EXPECT_EQ(test::journal_digest(journal_dir(restored)), test::journal_digest(journal_dir(data)));
  EXPECT_TRUE(fs::exists(restored / "restored-backup" / "config" / "effective-config.toml"));
}

// The Must-show test, local half: backup under load, restore into a new directory, identical
// up to the backup point, and the backup point covers everything durable when it started.
struct LoadProfile {
  const char* name;
  uint64_t segment_size;
  std::chrono::microseconds pause;  // after every 32 records
  bool expect_active_segment_cut;   // the backup point lies inside a segment being written
};

void PrintTo(const LoadProfile& profile, std::ostream* os) {
  *os << profile.name;
}

class BackupUnderLoad : public ::testing::TestWithParam<LoadProfile> {};

TEST_P(BackupUnderLoad, RestoresAnExactPrefixOfTheJournal) {
  const LoadProfile& profile = GetParam();
  ScratchDir dir(std::string("load_") + profile.name);
  const fs::path data = dir.path() / "data";
  JournalLoad load({.journal_dir = journal_dir(data),
                    .segment_size = profile.segment_size,
                    .pause = profile.pause,
                    .max_records = 400'000});
  load.start();
  ASSERT_TRUE(load.wait_for_durable(5000)) << load.status();
  write_file(snapshots_dir(data) / snapshot_file_name(4000), "state through 4000");

  const uint64_t durable_before = load.durable();
  absl::StatusOr<BackupResult> backup = create_backup(local_backup(data, dir.path() / "backups"));
  const uint64_t appended_after = load.appended();
  ASSERT_TRUE(backup.ok()) << backup.status();
  const uint64_t backup_point = backup->manifest.journal_last_sequence;
  std::printf(
      "[ load %s ] durable before the backup %llu, backup point %llu, appended when it "
      "returned %llu, %zu segment(s) in the backup, %d attempt(s), %.1f ms\n",
      profile.name, static_cast<unsigned long long>(durable_before),
      static_cast<unsigned long long>(backup_point),
      static_cast<unsigned long long>(appended_after), backup->journal_report.segments.size(),
      backup->copy_attempts, backup->duration_seconds * 1e3);
  EXPECT_GE(backup_point, durable_before) << "a record durable before the backup is missing";
  EXPECT_EQ(backup->manifest.snapshot_sequence, std::optional<uint64_t>(4000));
  ASSERT_FALSE(backup->journal_report.segments.empty());
  if (profile.expect_active_segment_cut) {
    EXPECT_FALSE(backup->journal_report.segments.back().sealed)
        << "expected the backup to end inside the segment being written";
  }
  // The writer is still going: wait until it is past the backup point, so the source provably
  // holds more than the backup, then stop it.
  ASSERT_TRUE(load.wait_for_durable(std::min<uint64_t>(backup_point + 1000, 400'000)));
  ASSERT_TRUE(load.stop().ok()) << load.status();
  ASSERT_GT(load.appended(), backup_point);

  const fs::path restored = dir.path() / "restored";
  absl::StatusOr<RestoreResult> restore =
      restore_backup(local_restore((dir.path() / "backups" / backup->name).string(), restored));
  ASSERT_TRUE(restore.ok()) << restore.status();
  EXPECT_TRUE(restore->journal_report.clean()) << restore->journal_report.to_text();
  expect_restored_prefix(data, restored, backup->manifest);
}

INSTANTIATE_TEST_SUITE_P(
    Profiles, BackupUnderLoad,
    ::testing::Values(
        // ~30k records/s into 1 MiB segments: the backup lands inside the active segment.
        LoadProfile{"trickle", 1 << 20, std::chrono::microseconds(1000), true},
        // As fast as the writer goes into 64 KiB segments: segments roll over during the copy.
        LoadProfile{"rollover", 64 * 1024, std::chrono::microseconds(0), false}),
    [](const ::testing::TestParamInfo<LoadProfile>& info) { return info.param.name; });

// The Must-show test, S3 half: the same through s3rver and the aws CLI, plus retention there.
TEST(Backup, TakenUnderLoadRoundTripsThroughS3WithS3rverAndTheAwsCli) {
  ASSERT_FALSE(find_on_path("aws").empty()) << test::missing_aws_message();
  ASSERT_FALSE(test::s3rver_program().empty()) << test::missing_s3rver_message();
  ScratchDir dir("s3");
  test::use_hermetic_aws_environment(dir.path());
  absl::StatusOr<std::unique_ptr<test::S3rverProcess>> server =
      test::S3rverProcess::start(dir.path() / "s3rver");
  ASSERT_TRUE(server.ok()) << server.status();
  ASSERT_TRUE((*server)->aws_s3({"mb", "s3://qt-backups"}).ok());
  // An old backup folder that retention must remove, and an unrelated one it must keep.
  write_file(dir.path() / "old" / "manifest.json", "{}");
  ASSERT_TRUE((*server)
                  ->aws_s3({"cp", "--recursive", (dir.path() / "old").string(),
                            "s3://qt-backups/prod/2020-01-01T02-00-00Z/"})
                  .ok());
  ASSERT_TRUE((*server)
                  ->aws_s3({"cp", (dir.path() / "old" / "manifest.json").string(),
                            "s3://qt-backups/prod/notes/readme.json"})
                  .ok());

  const fs::path data = dir.path() / "data";
  JournalLoad load({.journal_dir = journal_dir(data), .segment_size = 256 * 1024});
  load.start();
  ASSERT_TRUE(load.wait_for_durable(5000)) << load.status();
  write_file(snapshots_dir(data) / snapshot_file_name(2500), "state through 2500");

  BackupOptions options = local_backup(data, dir.path() / "unused");
  options.destination = "s3://qt-backups/prod";
  options.endpoint_url = (*server)->endpoint_url();
  options.staging_dir = dir.path() / "staging";
  const uint64_t durable_before = load.durable();
  absl::StatusOr<BackupResult> backup = create_backup(options);
  ASSERT_TRUE(backup.ok()) << backup.status() << "\ns3rver log:\n" << (*server)->log();
  const uint64_t backup_point = backup->manifest.journal_last_sequence;
  EXPECT_GE(backup_point, durable_before);
  EXPECT_EQ(backup->location, "s3://qt-backups/prod/" + backup->name + "/");
  EXPECT_EQ(backup->removed_by_retention, std::vector<std::string>{"2020-01-01T02-00-00Z"});
  ASSERT_TRUE(load.wait_for_durable(backup_point + 1000));
  ASSERT_TRUE(load.stop().ok()) << load.status();

  absl::StatusOr<std::string> listing = (*server)->aws_s3({"ls", "s3://qt-backups/prod/"});
  ASSERT_TRUE(listing.ok()) << listing.status();
  EXPECT_NE(listing->find("PRE " + backup->name + "/"), std::string::npos) << *listing;
  EXPECT_NE(listing->find("PRE notes/"), std::string::npos) << *listing;
  EXPECT_EQ(listing->find("2020-01-01T02-00-00Z"), std::string::npos) << *listing;
  EXPECT_NE(listing->find(" latest"), std::string::npos) << *listing;

  // Restore through `latest`, and by explicit name.
  RestoreOptions restore = local_restore("s3://qt-backups/prod", dir.path() / "restored");
  restore.endpoint_url = (*server)->endpoint_url();
  absl::StatusOr<RestoreResult> restored = restore_backup(restore);
  ASSERT_TRUE(restored.ok()) << restored.status();
  EXPECT_EQ(restored->name, backup->name);
  expect_restored_prefix(data, dir.path() / "restored", backup->manifest);

  restore = local_restore("s3://qt-backups/prod/" + backup->name, dir.path() / "restored-by-name");
  restore.endpoint_url = (*server)->endpoint_url();
  restored = restore_backup(restore);
  ASSERT_TRUE(restored.ok()) << restored.status();
  expect_restored_prefix(data, dir.path() / "restored-by-name", backup->manifest);
}

TEST(Backup, S3FailureReportsTheAwsCliMessage) {
  ASSERT_FALSE(find_on_path("aws").empty()) << test::missing_aws_message();
  ASSERT_FALSE(test::s3rver_program().empty()) << test::missing_s3rver_message();
  ScratchDir dir("s3fail");
  test::use_hermetic_aws_environment(dir.path());
  absl::StatusOr<std::unique_ptr<test::S3rverProcess>> server =
      test::S3rverProcess::start(dir.path() / "s3rver");
  ASSERT_TRUE(server.ok()) << server.status();
  const fs::path data = dir.path() / "data";
  make_data_dir(data, 100, 0);

  BackupOptions options = local_backup(data, dir.path() / "unused");
  options.destination = "s3://no-such-bucket/prod";
  options.endpoint_url = (*server)->endpoint_url();
  options.staging_dir = dir.path() / "staging";
  absl::StatusOr<BackupResult> backup = create_backup(options);
  ASSERT_FALSE(backup.ok());
  EXPECT_NE(std::string(backup.status().message()).find("NoSuchBucket"), std::string::npos)
      << backup.status();
  EXPECT_NE(std::string(backup.status().message()).find("aws s3"), std::string::npos);
  // Nothing left behind in the staging area.
  EXPECT_TRUE(!fs::exists(options.staging_dir) || fs::is_empty(options.staging_dir));

  RestoreOptions restore = local_restore("s3://no-such-bucket/prod", dir.path() / "restored");
  restore.endpoint_url = (*server)->endpoint_url();
  absl::StatusOr<RestoreResult> restored = restore_backup(restore);
  ASSERT_FALSE(restored.ok());
  EXPECT_FALSE(fs::exists(dir.path() / "restored"));
}

// The source's active segment ends in a torn record (a crash mid-write, or the engine writing
// it right now): the backup holds the valid prefix, verifies clean, and never writes the source.
TEST(Backup, TornTailInTheSourceIsLeftOutAndTheSourceIsNotTouched) {
  ScratchDir dir("torn");
  const fs::path data = dir.path() / "data";
  make_data_dir(data, 1000, 0);
  absl::StatusOr<std::vector<SegmentFile>> segments = list_segments(data);
  ASSERT_TRUE(segments.ok() && !segments->empty());
  const fs::path active = segments->back().path;
  // Replace the seal (the last record) by the start of a record 1001 whose CRC never matches:
  // an unsealed active segment with a torn tail, as a crash leaves it.
  const std::string bytes = read_file(active);
  const format::SegmentScan scan =
      format::scan_segment(reinterpret_cast<const std::byte*>(bytes.data()), bytes.size());
  ASSERT_TRUE(scan.sealed);
  const uint64_t seal_offset = scan.data_end - format::kSealReserve;
  format::RecordHeader torn{};
  torn.length = format::kRecordHeaderSize + sizeof(FixSequenceRecord);
  torn.type = static_cast<uint16_t>(RecordType::kFixSequence);
  torn.sequence = 1001;
  torn.crc = 0xDEADBEEF;
  std::string damaged = bytes;
  std::memset(damaged.data() + seal_offset, 0, format::kSealReserve);
  std::memcpy(damaged.data() + seal_offset, &torn, sizeof(torn));
  write_file(active, damaged);
  absl::StatusOr<VerifyReport> source_report = verify_journal(journal_dir(data));
  ASSERT_TRUE(source_report.ok());
  ASSERT_EQ(source_report->damage.kind, DamageKind::kTornTail) << source_report->to_text();
  const auto source_before = tree_fingerprint(data);

  absl::StatusOr<BackupResult> backup = create_backup(local_backup(data, dir.path() / "backups"));
  ASSERT_TRUE(backup.ok()) << backup.status();
  EXPECT_EQ(backup->manifest.journal_last_sequence, 1000u);
  EXPECT_TRUE(backup->journal_report.clean()) << backup->journal_report.to_text();
  EXPECT_FALSE(backup->journal_report.segments.back().sealed);
  EXPECT_EQ(tree_fingerprint(data), source_before) << "the backup wrote to the source";

  absl::StatusOr<RestoreResult> restore =
      restore_backup(local_restore((dir.path() / "backups").string(), dir.path() / "restored"));
  ASSERT_TRUE(restore.ok()) << restore.status();
  expect_restored_prefix(data, dir.path() / "restored", backup->manifest);
}

// A flipped byte inside a sealed segment is corruption: no backup, the verify report of the
// source in the error, `latest` still names the previous backup.
TEST(Backup, CorruptSourceJournalIsRefusedWithItsVerifyReport) {
  ScratchDir dir("corrupt");
  const fs::path data = dir.path() / "data";
  make_data_dir(data, 2000, 0);
  const fs::path backups = dir.path() / "backups";
  absl::StatusOr<BackupResult> good = create_backup(local_backup(data, backups));
  ASSERT_TRUE(good.ok()) << good.status();
  absl::StatusOr<std::vector<SegmentFile>> segments = list_segments(data);
  ASSERT_TRUE(segments.ok() && segments->size() > 2);
  test::flip_byte(segments->front().path, 4096 + 13);

  absl::StatusOr<BackupResult> bad = create_backup(local_backup(data, backups));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kDataLoss) << bad.status();
  EXPECT_NE(std::string(bad.status().message()).find("is damaged; no backup taken"),
            std::string::npos)
      << bad.status();
  EXPECT_NE(std::string(bad.status().message()).find(segments->front().path.filename().string()),
            std::string::npos)
      << bad.status();
  EXPECT_EQ(read_file(backups / "latest"), good->name + "\n");
  int folders = 0;
  for ([[maybe_unused]] const auto& entry : fs::directory_iterator(backups)) ++folders;
  EXPECT_EQ(folders, 2) << "only the good backup and `latest` may be there";
}

class RestoreRefusal : public ::testing::Test {
 protected:
  void SetUp() override {
    make_data_dir(source_, 2000, 700);
    absl::StatusOr<BackupResult> backup = create_backup(local_backup(source_, backups_));
    ASSERT_TRUE(backup.ok()) << backup.status();
    folder_ = backups_ / backup->name;
    manifest_ = backup->manifest;
  }

  // Restores into `target` and expects a refusal mentioning `reason`, with target unchanged.
  void expect_refused(const fs::path& target, const std::string& reason, bool force = false) {
    const auto before = tree_fingerprint(target);
    RestoreOptions options = local_restore(folder_.string(), target);
    options.force = force;
    absl::StatusOr<RestoreResult> result = restore_backup(options);
    ASSERT_FALSE(result.ok()) << "restore into " << target << " was not refused";
    EXPECT_NE(std::string(result.status().message()).find(reason), std::string::npos)
        << result.status();
    EXPECT_EQ(tree_fingerprint(target), before) << "the target was touched";
    // No staging directory is left beside the target.
    for (const auto& entry : fs::directory_iterator(target.parent_path())) {
      EXPECT_EQ(entry.path().filename().string().find(".restore-"), std::string::npos)
          << entry.path();
    }
  }

  std::string segment_in_backup() const {
    for (const ManifestFile& file : manifest_.files) {
      if (file.path.starts_with("data/journal/")) return file.path;
    }
    return {};
  }

  ScratchDir dir_{"refuse"};
  fs::path source_ = dir_.path() / "data";
  fs::path backups_ = dir_.path() / "backups";
  fs::path folder_;
  BackupManifest manifest_;
};

TEST_F(RestoreRefusal, FlippedByteInASegmentIsRefusedNamingTheFile) {
  const std::string segment = segment_in_backup();
  ASSERT_FALSE(segment.empty());
  test::flip_byte(folder_ / segment, 200);
  expect_refused(dir_.path() / "new-target", "checksum mismatch for " + segment);
  // An existing, empty target stays empty too.
  fs::create_directories(dir_.path() / "empty-target");
  expect_refused(dir_.path() / "empty-target", "nothing was restored");
}

TEST_F(RestoreRefusal, TruncatedMissingOrUnlistedFilesAreRefused) {
  const std::string snapshot = "data/snapshots/" + snapshot_file_name(700);
  fs::resize_file(folder_ / snapshot, 3);
  expect_refused(dir_.path() / "t1", "file " + snapshot + " has 3 bytes");
  fs::remove(folder_ / snapshot);
  expect_refused(dir_.path() / "t2", "file " + snapshot + " is listed in the manifest but missing");
  write_file(folder_ / snapshot, "snapshot state through 700");
  write_file(folder_ / "data" / "journal" / "extra.qtj", "x");
  expect_refused(dir_.path() / "t3", "file data/journal/extra.qtj is not listed in the manifest");
}

TEST_F(RestoreRefusal, EditedManifestIsRefused) {
  std::string manifest = read_file(folder_ / "manifest.json");
  const std::string hash = manifest_.files.front().sha256;
  manifest.replace(manifest.find(hash), 1, hash[0] == '0' ? "1" : "0");
  write_file(folder_ / "manifest.json", manifest);
  expect_refused(dir_.path() / "t", "checksum mismatch for " + manifest_.files.front().path);
}

TEST_F(RestoreRefusal, TargetHeldByARunningEngineIsRefused) {
  const fs::path target = dir_.path() / "engine-data";
  absl::StatusOr<DataDirLock> engine = DataDirLock::acquire(target);
  ASSERT_TRUE(engine.ok()) << engine.status();
  expect_refused(target, "held by a running engine (pid " + std::to_string(::getpid()) + ")");
  expect_refused(target, "held by a running engine", /*force=*/true);
}

TEST_F(RestoreRefusal, NonEmptyTargetNeedsForceAndThenKeepsTheOldDataAside) {
  const fs::path target = dir_.path() / "busy";
  make_data_dir(target, 50, 0);
  const JournalDigest old_journal = test::journal_digest(journal_dir(target));
  expect_refused(target, "is not empty (use --force");

  RestoreOptions options = local_restore(folder_.string(), target);
  options.force = true;
  absl::StatusOr<RestoreResult> result = restore_backup(options);
  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_FALSE(result->moved_aside.empty());
  EXPECT_EQ(test::journal_digest(result->moved_aside / "journal"), old_journal);
  expect_restored_prefix(source_, target, manifest_);
}

TEST_F(RestoreRefusal, MissingBackupIsAClearError) {
  RestoreOptions options = local_restore((dir_.path() / "nowhere").string(), dir_.path() / "t");
  absl::StatusOr<RestoreResult> result = restore_backup(options);
  ASSERT_FALSE(result.ok());
  EXPECT_NE(std::string(result.status().message()).find("no backup at"), std::string::npos)
      << result.status();
  EXPECT_FALSE(fs::exists(dir_.path() / "t"));
}

TEST(Retention, DeletesOnlyOldBackupFoldersNeverTheNewOneNorLatestsTarget) {
  ScratchDir dir("retention");
  const fs::path root = dir.path() / "backups";
  const auto now = std::chrono::system_clock::from_time_t(1'795'572'000);  // 2026-11-25 02:00Z
  for (const char* name : {"2026-10-01T02-00-00Z", "2026-10-20T02-00-00Z", "2026-10-26T01-59-59Z",
                           "2026-10-26T02-00-01Z", "2026-11-24T02-00-00Z", "2026-09-01T02-00-00Z-2",
                           "notes", ".2026-01-01T00-00-00Z.partial-1"}) {
    write_file(root / name / "manifest.json", "{}");
  }
  write_file(root / "latest", "2026-10-01T02-00-00Z\n");

  absl::StatusOr<std::vector<std::string>> removed =
      apply_retention(root.string(), 30, "2026-10-20T02-00-00Z", now);
  ASSERT_TRUE(removed.ok()) << removed.status();
  // Cut-off: 2026-10-26T02:00:00Z. Older ones go, except `latest`'s and the one to keep.
  EXPECT_EQ(*removed, (std::vector<std::string>{"2026-09-01T02-00-00Z-2", "2026-10-26T01-59-59Z"}));
  for (const char* kept : {"2026-10-01T02-00-00Z", "2026-10-20T02-00-00Z", "2026-10-26T02-00-01Z",
                           "2026-11-24T02-00-00Z", "notes", ".2026-01-01T00-00-00Z.partial-1"}) {
    EXPECT_TRUE(fs::exists(root / kept)) << kept;
  }
  EXPECT_TRUE(apply_retention(root.string(), 0, "", now + std::chrono::hours(24 * 3650))->empty())
      << "--keep-days 0 keeps everything";
}

TEST(Retention, BackupAppliesKeepDaysAfterWritingItsOwnFolder) {
  ScratchDir dir("retention_backup");
  const fs::path data = dir.path() / "data";
  make_data_dir(data, 100, 0);
  const fs::path root = dir.path() / "backups";
  BackupOptions options = local_backup(data, root);
  options.keep_days = 7;
  options.now = [] { return std::chrono::system_clock::from_time_t(1'795'572'000); };
  absl::StatusOr<BackupResult> first = create_backup(options);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->name, "2026-11-25T02-00-00Z");
  // Same second again: a distinct name, both kept.
  absl::StatusOr<BackupResult> second = create_backup(options);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(second->name, "2026-11-25T02-00-00Z-2");
  EXPECT_EQ(read_file(root / "latest"), "2026-11-25T02-00-00Z-2\n");
  // Eight days later both are past --keep-days 7 and go; the new one stays.
  options.now = [] { return std::chrono::system_clock::from_time_t(1'795'572'000 + 8 * 86400); };
  absl::StatusOr<BackupResult> later = create_backup(options);
  ASSERT_TRUE(later.ok()) << later.status();
  EXPECT_EQ(later->removed_by_retention,
            (std::vector<std::string>{"2026-11-25T02-00-00Z", "2026-11-25T02-00-00Z-2"}));
  EXPECT_TRUE(fs::exists(root / later->name / "manifest.json"));
  EXPECT_EQ(read_file(root / "latest"), later->name + "\n");
}

// Through the command (what `quanttrading backup` runs): with credentials in the environment and
// in the config file, no file of the backup contains any of them.
TEST(BackupCommand, BackupsNeverContainSecrets) {
  ScratchDir dir("secrets");
  const fs::path data = dir.path() / "data";
  make_data_dir(data, 200, 0);
  write_file(dir.path() / "logs" / "engine.log", "2026-11-25 started\n");
  // The data directory comes from the configuration here (no --data-dir).
  write_file(dir.path() / "qt.toml",
             "[capital]\npassword = \"toml-secret-pw-31337\"\n[persist]\n"
             "data_dir = \"" +
                 data.string() + "\"\n");
  const std::vector<std::string> environment = {
      "CAPITAL_API_KEY=env-secret-key-8675309", "CAPITAL_PASSWORD=env-secret-pw-2718",
      "CAPITAL_IDENTIFIER=trader-4242@example.com", "QT_CAPITAL_API_KEY=qt-secret-key-1414"};

  BackupCommandOptions options;
  options.config_file = (dir.path() / "qt.toml").string();
  options.to = (dir.path() / "backups").string();
  options.include_logs = (dir.path() / "logs").string();
  options.metrics_file = (dir.path() / "backup.prom").string();
  std::ostringstream out;
  std::ostringstream err;
  ASSERT_EQ(run_backup_command(options, environment, out, err), 0) << err.str();

  int files = 0;
  bool saw_config = false;
  bool saw_log = false;
  for (const auto& entry : fs::recursive_directory_iterator(dir.path() / "backups")) {
    if (!entry.is_regular_file()) continue;
    ++files;
    const std::string content = read_file(entry.path());
    for (const char* secret : {"toml-secret-pw-31337", "env-secret-key-8675309",
                               "env-secret-pw-2718", "qt-secret-key-1414", "trader-4242"}) {
      EXPECT_EQ(content.find(secret), std::string::npos) << entry.path() << " holds " << secret;
    }
    if (entry.path().filename() == "effective-config.toml") {
      saw_config = true;
      EXPECT_NE(content.find("password = \"********\""), std::string::npos) << content;
      EXPECT_NE(content.find("# api_key = ********"), std::string::npos) << content;
    }
    if (entry.path().filename() == "engine.log") saw_log = true;
  }
  EXPECT_GE(files, 4);
  EXPECT_TRUE(saw_config);
  EXPECT_TRUE(saw_log);
}

// The command validates snapshots: a damaged newer one is left out for the older valid one,
// and restore reports the snapshot it restored.
TEST(BackupCommand, OnlyAValidSnapshotIsBackedUp) {
  ScratchDir dir("snapshots_cmd");
  const fs::path data = dir.path() / "data";
  make_data_dir(data, 500, 0);
  EngineState state;
  state.journal_sequence = 200;
  state.last_order_id = 7;
  ASSERT_TRUE(write_snapshot(data, state, {}).ok());
  write_file(snapshots_dir(data) / snapshot_file_name(300), "not a snapshot");

  BackupCommandOptions options;
  options.to = (dir.path() / "backups").string();
  options.data_dir = data.string();
  std::ostringstream out;
  std::ostringstream err;
  ASSERT_EQ(run_backup_command(options, {}, out, err), 0) << err.str();
  EXPECT_NE(out.str().find("snapshot: sequence 200"), std::string::npos) << out.str();
  const std::string name = read_file(dir.path() / "backups" / "latest");
  const fs::path folder = dir.path() / "backups" / name.substr(0, name.size() - 1);
  EXPECT_TRUE(fs::exists(folder / "data" / "snapshots" / snapshot_file_name(200)));
  EXPECT_FALSE(fs::exists(folder / "data" / "snapshots" / snapshot_file_name(300)));

  RestoreCommandOptions restore;
  restore.from = (dir.path() / "backups").string();
  restore.data_dir = (dir.path() / "restored").string();
  ASSERT_EQ(run_restore_command(restore, out, err), 0) << err.str();
  EXPECT_NE(out.str().find("snapshot 200: valid, 0 orders"), std::string::npos) << out.str();
  absl::StatusOr<DecodedSnapshot> restored =
      decode_snapshot_file(snapshots_dir(dir.path() / "restored") / snapshot_file_name(200));
  ASSERT_TRUE(restored.ok()) << restored.status();
  EXPECT_EQ(state_digest(restored->state), state_digest(state));
}

TEST(BackupCommand, MetricsRecordSuccessThenFailureKeepingTheLastSuccess) {
  ScratchDir dir("metrics_cmd");
  const fs::path data = dir.path() / "data";
  make_data_dir(data, 300, 0);
  BackupCommandOptions options;
  options.to = (dir.path() / "backups").string();
  options.data_dir = data.string();
  std::ostringstream out;
  std::ostringstream err;
  ASSERT_EQ(run_backup_command(options, {}, out, err), 0) << err.str();
  // Default location: <data_dir>/metrics/backup.prom.
  const fs::path metrics = data / "metrics" / "backup.prom";
  std::map<std::string, double> values = parse_backup_metrics(read_file(metrics));
  const double success_time = values["quanttrading_backup_last_success_timestamp_seconds"];
  EXPECT_GT(success_time, 1.7e9);
  EXPECT_EQ(values["quanttrading_backup_success"], 1);
  EXPECT_EQ(values["quanttrading_backup_last_failure_timestamp_seconds"], 0);
  EXPECT_GT(values["quanttrading_backup_last_bytes"], 300 * 64);
  EXPECT_GE(values["quanttrading_backup_last_files"], 2);

  // A destination that cannot be created (a file is in the way) fails the backup.
  write_file(dir.path() / "blocked", "x");
  options.to = (dir.path() / "blocked" / "backups").string();
  ASSERT_EQ(run_backup_command(options, {}, out, err), 1);
  EXPECT_NE(err.str().find("backup failed:"), std::string::npos) << err.str();
  values = parse_backup_metrics(read_file(metrics));
  EXPECT_EQ(values["quanttrading_backup_success"], 0);
  EXPECT_EQ(values["quanttrading_backup_last_success_timestamp_seconds"], success_time);
  EXPECT_GE(values["quanttrading_backup_last_failure_timestamp_seconds"], success_time);

  // A restore records its own samples and leaves the backup's alone.
  RestoreCommandOptions restore;
  restore.from = (dir.path() / "backups").string();
  restore.data_dir = (dir.path() / "restored").string();
  restore.metrics_file = metrics.string();
  ASSERT_EQ(run_restore_command(restore, out, err), 0) << err.str();
  EXPECT_NE(out.str().find("journal verify:"), std::string::npos) << out.str();
  values = parse_backup_metrics(read_file(metrics));
  EXPECT_EQ(values["quanttrading_restore_success"], 1);
  EXPECT_GT(values["quanttrading_restore_last_success_timestamp_seconds"], 1.7e9);
  EXPECT_EQ(values["quanttrading_backup_success"], 0);
  EXPECT_EQ(values["quanttrading_backup_last_success_timestamp_seconds"], success_time);
}

// The shipped pieces end to end: deploy/scripts/auto_backup.sh drives the real binary, every
// log line is timestamped, the metrics file passes promtool, `quanttrading restore` restores and
// prints journal verify, and failures exit non-zero with the reason.
TEST(AutoBackupScript, RunsTheBinaryLogsWithTimestampsAndFailsNonZero) {
  const std::string promtool = find_on_path("promtool");
  ASSERT_FALSE(promtool.empty()) << "promtool not found: install the Debian package prometheus";
  ScratchDir dir("auto_backup");
  const fs::path data = dir.path() / "data";
  make_data_dir(data, 500, 0);
  const fs::path metrics = dir.path() / "textfile" / "quanttrading_backup.prom";
  ::setenv("QUANTTRADING_BIN", QT_QUANTTRADING_BINARY, 1);
  ::setenv("QUANTTRADING_DATA_DIR", data.c_str(), 1);
  ::setenv("QUANTTRADING_BACKUP_LOCK", (dir.path() / "backup.lock").c_str(), 1);
  ::setenv("QUANTTRADING_BACKUP_METRICS_FILE", metrics.c_str(), 1);
  ::setenv("QUANTTRADING_BACKUP_KEEP_DAYS", "14", 1);
  const std::string script = std::string(QT_SOURCE_DIR) + "/deploy/scripts/auto_backup.sh";

  absl::StatusOr<ChildProcessResult> run =
      run_child_process({"bash", script, (dir.path() / "backups").string()});
  ASSERT_TRUE(run.ok()) << run.status();
  EXPECT_EQ(run->exit_code, 0) << run->standard_output << run->standard_error;
  const std::regex stamped(R"(^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ auto_backup\[\d+\]: .*)");
  std::istringstream lines(run->standard_output);
  int line_count = 0;
  for (std::string line; std::getline(lines, line); ++line_count) {
    EXPECT_TRUE(std::regex_match(line, stamped)) << "unstamped log line: " << line;
  }
  EXPECT_GE(line_count, 4) << run->standard_output;
  EXPECT_NE(run->standard_output.find("--keep-days 14"), std::string::npos);
  EXPECT_NE(run->standard_output.find("journal: 500 records, sequences 1..500"), std::string::npos)
      << run->standard_output;
  EXPECT_NE(run->standard_output.find(": done in "), std::string::npos);
  ASSERT_TRUE(fs::exists(dir.path() / "backups" / "latest"));

  absl::StatusOr<ChildProcessResult> check = run_child_process(
      {"bash", "-c", "\"$0\" check metrics < \"$1\"", promtool, metrics.string()});
  ASSERT_TRUE(check.ok());
  EXPECT_EQ(check->exit_code, 0) << check->standard_output << check->standard_error;
  EXPECT_EQ(parse_backup_metrics(read_file(metrics))["quanttrading_backup_success"], 1);

  // quanttrading restore, from the directory (via `latest`).
  const fs::path restored = dir.path() / "restored";
  absl::StatusOr<ChildProcessResult> restore = run_child_process(
      {QT_QUANTTRADING_BINARY, "restore", "--from", (dir.path() / "backups").string(), "--data-dir",
       restored.string(), "--metrics-file", metrics.string()});
  ASSERT_TRUE(restore.ok());
  EXPECT_EQ(restore->exit_code, 0) << restore->standard_output << restore->standard_error;
  EXPECT_NE(restore->standard_output.find("journal verify:"), std::string::npos)
      << restore->standard_output;
  EXPECT_EQ(test::journal_digest(journal_dir(restored)), test::journal_digest(journal_dir(data)));
  EXPECT_EQ(parse_backup_metrics(read_file(metrics))["quanttrading_restore_success"], 1);

  // Again into the same, now non-empty, directory: refused, exit 1, the reason on stderr.
  restore = run_child_process({QT_QUANTTRADING_BINARY, "restore", "--from",
                               (dir.path() / "backups").string(), "--data-dir", restored.string(),
                               "--metrics-file", metrics.string()});
  ASSERT_TRUE(restore.ok());
  EXPECT_EQ(restore->exit_code, 1);
  EXPECT_NE(restore->standard_error.find("restore failed: refusing to restore into"),
            std::string::npos)
      << restore->standard_error;
  EXPECT_EQ(parse_backup_metrics(read_file(metrics))["quanttrading_restore_success"], 0);

  // A destination that cannot be created: the script fails, saying why.
  write_file(dir.path() / "blocked", "x");
  run = run_child_process({"bash", script, (dir.path() / "blocked" / "backups").string()});
  ASSERT_TRUE(run.ok());
  EXPECT_NE(run->exit_code, 0);
  EXPECT_NE(run->standard_output.find("backup failed: "), std::string::npos)
      << run->standard_output;
  EXPECT_NE(run->standard_output.find("FAILED: quanttrading backup exited with status 1"),
            std::string::npos)
      << run->standard_output;
  EXPECT_EQ(parse_backup_metrics(read_file(metrics))["quanttrading_backup_success"], 0);

  // The command line insists on a destination.
  absl::StatusOr<ChildProcessResult> usage = run_child_process({QT_QUANTTRADING_BINARY, "backup"});
  ASSERT_TRUE(usage.ok());
  EXPECT_NE(usage->exit_code, 0);
  EXPECT_NE(usage->standard_error.find("--to is required"), std::string::npos)
      << usage->standard_error;
}

}  // namespace
}  // namespace qt::persist
