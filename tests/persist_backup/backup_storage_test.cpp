// The building blocks of backup and restore: manifest JSON, SHA-256, folder names, the metrics
// file (checked by promtool when installed), child processes without a shell, s3:// URIs.
#include <gtest/gtest.h>

#include <chrono>

#include "persist/atomic_file.hpp"
#include "persist/backup_manifest.hpp"
#include "persist/backup_metrics.hpp"
#include "persist/child_process.hpp"
#include "persist/s3_cli.hpp"
#include "tests/persist_backup/backup_test_support.hpp"

namespace qt::persist {
namespace {

using test::read_file;
using test::ScratchDir;
using test::write_file;

BackupManifest sample_manifest() {
  BackupManifest manifest;
  manifest.name = "2026-11-25T02-00-00Z";
  manifest.created_utc = "2026-11-25T02:00:00.250Z";
  manifest.created_unix_ms = 1'795'572'000'250;
  manifest.hostname = "trading-1";
  manifest.source_data_dir = "/var/lib/quanttrading/data \"quoted\"";
  manifest.journal_first_sequence = 1;
  manifest.journal_last_sequence = 52'001;
  manifest.journal_records = 52'001;
  manifest.snapshot_sequence = 50'000;
  manifest.files = {
      {"data/journal/segment-00000000000000000001.qtj", 65536, std::string(64, 'a')},
      {"data/snapshots/snapshot-00000000000000050000.qts", 1200, std::string(64, 'b')},
  };
  return manifest;
}

TEST(BackupManifest, RoundTripsThroughJson) {
  const BackupManifest manifest = sample_manifest();
  const std::string json = to_json(manifest);
  EXPECT_NE(json.find("\"total_bytes\": 66736"), std::string::npos) << json;
  absl::StatusOr<BackupManifest> parsed = parse_manifest(json);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->name, manifest.name);
  EXPECT_EQ(parsed->created_utc, manifest.created_utc);
  EXPECT_EQ(parsed->created_unix_ms, manifest.created_unix_ms);
  EXPECT_EQ(parsed->source_data_dir, manifest.source_data_dir);
  EXPECT_EQ(parsed->journal_first_sequence, 1u);
  EXPECT_EQ(parsed->journal_last_sequence, 52'001u);
  EXPECT_EQ(parsed->snapshot_sequence, std::optional<uint64_t>(50'000));
  ASSERT_EQ(parsed->files.size(), 2u);
  EXPECT_EQ(parsed->files[1].path, manifest.files[1].path);
  EXPECT_EQ(parsed->files[1].size, 1200u);
  EXPECT_EQ(parsed->files[1].sha256, manifest.files[1].sha256);
  EXPECT_EQ(parsed->total_bytes(), 66'736u);
}

TEST(BackupManifest, NoSnapshotIsNull) {
  BackupManifest manifest = sample_manifest();
  manifest.snapshot_sequence.reset();
  const std::string json = to_json(manifest);
  EXPECT_NE(json.find("\"snapshot_sequence\": null"), std::string::npos);
  absl::StatusOr<BackupManifest> parsed = parse_manifest(json);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_FALSE(parsed->snapshot_sequence.has_value());
}

TEST(BackupManifest, RejectsPathsThatLeaveTheBackupFolder) {
  for (const std::string bad : {"../etc/passwd", "/etc/passwd", "data/../../x", "data//x", "./x"}) {
    BackupManifest manifest = sample_manifest();
    manifest.files[0].path = bad;
    absl::StatusOr<BackupManifest> parsed = parse_manifest(to_json(manifest));
    ASSERT_FALSE(parsed.ok()) << bad;
    EXPECT_NE(std::string(parsed.status().message()).find("unsafe file path"), std::string::npos)
        << parsed.status();
  }
}

TEST(BackupManifest, RejectsBrokenJsonAndMissingFields) {
  EXPECT_FALSE(parse_manifest("{not json").ok());
  absl::StatusOr<BackupManifest> missing = parse_manifest(R"({"format_version": 1})");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(std::string(missing.status().message()).find("'name'"), std::string::npos)
      << missing.status();
  BackupManifest future = sample_manifest();
  future.format_version = 99;
  absl::StatusOr<BackupManifest> newer = parse_manifest(to_json(future));
  ASSERT_FALSE(newer.ok());
  EXPECT_NE(std::string(newer.status().message()).find("format_version 99"), std::string::npos);
}

TEST(BackupManifest, Sha256MatchesTheStandardTestVectors) {
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  ScratchDir dir("sha");
  // 200 KiB spans several 64 KiB reads.
  const std::string big(200 * 1024, 'q');
  write_file(dir.path() / "big", big);
  absl::StatusOr<FileDigest> digest = sha256_file(dir.path() / "big");
  ASSERT_TRUE(digest.ok()) << digest.status();
  EXPECT_EQ(digest->size, big.size());
  EXPECT_EQ(digest->sha256, sha256_hex(big));
  write_file(dir.path() / "empty", "");
  EXPECT_EQ(sha256_file(dir.path() / "empty")->sha256,
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_file(dir.path() / "missing").status().code(), absl::StatusCode::kNotFound);
}

TEST(BackupNames, AreUtcTimestampsWithDashesAndParseBack) {
  const auto time = std::chrono::system_clock::from_time_t(1'795'572'000);  // 2026-11-25 02:00
  EXPECT_EQ(backup_name_for(time), "2026-11-25T02-00-00Z");
  EXPECT_EQ(parse_backup_name("2026-11-25T02-00-00Z"), time);
  EXPECT_EQ(parse_backup_name("2026-11-25T02-00-00Z-2"), time);
  EXPECT_FALSE(parse_backup_name("2026-11-25T02:00:00Z"));
  EXPECT_FALSE(parse_backup_name("latest"));
  EXPECT_FALSE(parse_backup_name("2026-11-25T02-00-00Z-"));
  EXPECT_FALSE(parse_backup_name("2026-11-25T02-00-00Z-0"));
  EXPECT_FALSE(parse_backup_name("2026-13-25T02-00-00Z"));
  EXPECT_FALSE(parse_backup_name(".2026-11-25T02-00-00Z.partial"));
}

TEST(AtomicFile, ReplacesContentAndLeavesNoTemporary) {
  ScratchDir dir("atomic");
  const std::filesystem::path path = dir.path() / "sub" / "latest";
  ASSERT_TRUE(write_file_atomically(path, "one\n").ok());
  ASSERT_TRUE(write_file_atomically(path, "two\n").ok());
  EXPECT_EQ(read_file(path), "two\n");
  int entries = 0;
  for ([[maybe_unused]] const auto& entry :
       std::filesystem::directory_iterator(path.parent_path())) {
    ++entries;
  }
  EXPECT_EQ(entries, 1);
}

// A backup success, then a failure, then a restore: every sample as specified, and the failure
// keeps the previous success's timestamp, duration, bytes and files.
TEST(BackupMetrics, FailureKeepsThePreviousSuccessAndRestoreKeepsBackup) {
  ScratchDir dir("metrics");
  const std::filesystem::path file = dir.path() / "metrics" / "backup.prom";
  ASSERT_TRUE(record_backup_outcome(
                  file, {BackupOperation::kBackup, true, 1'795'572'010.5, 9.25, 123'456, 7})
                  .ok());
  ASSERT_TRUE(
      record_backup_outcome(file, {BackupOperation::kBackup, false, 1'795'658'400, 1.0, 0, 0})
          .ok());
  ASSERT_TRUE(
      record_backup_outcome(file, {BackupOperation::kRestore, true, 1'795'660'000, 3, 1000, 4})
          .ok());
  const std::string text = read_file(file);
  const std::map<std::string, double> values = parse_backup_metrics(text);
  EXPECT_EQ(values.at("quanttrading_backup_last_success_timestamp_seconds"), 1'795'572'010.5);
  EXPECT_EQ(values.at("quanttrading_backup_last_failure_timestamp_seconds"), 1'795'658'400);
  EXPECT_EQ(values.at("quanttrading_backup_last_duration_seconds"), 9.25);
  EXPECT_EQ(values.at("quanttrading_backup_last_bytes"), 123'456);
  EXPECT_EQ(values.at("quanttrading_backup_last_files"), 7);
  EXPECT_EQ(values.at("quanttrading_backup_success"), 0);
  EXPECT_EQ(values.at("quanttrading_restore_last_success_timestamp_seconds"), 1'795'660'000);
  EXPECT_EQ(values.at("quanttrading_restore_last_failure_timestamp_seconds"), 0);
  EXPECT_EQ(values.at("quanttrading_restore_success"), 1);
  EXPECT_EQ(values.at("quanttrading_restore_last_files"), 4);
  EXPECT_NE(text.find("# TYPE quanttrading_backup_success gauge\n"), std::string::npos);
  EXPECT_NE(text.find("# HELP quanttrading_backup_last_success_timestamp_seconds Unix time at "
                      "which the last successful backup finished.\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("quanttrading_backup_last_success_timestamp_seconds 1795572010.500\n"),
            std::string::npos)
      << text;
  EXPECT_EQ(values.size(), 12u);
}

// promtool is the reference parser of the text format (Debian package prometheus).
TEST(BackupMetrics, FilePassesPromtoolCheckMetrics) {
  const std::string promtool = find_on_path("promtool");
  ASSERT_FALSE(promtool.empty())
      << "promtool not found on PATH: install the Debian package `prometheus` "
         "(scripts/install-deps.sh does)";
  ScratchDir dir("promtool");
  const std::filesystem::path file = dir.path() / "backup.prom";
  ASSERT_TRUE(
      record_backup_outcome(file, {BackupOperation::kBackup, true, 1'795'572'010, 9, 100, 3}).ok());
  // promtool reads the metrics on stdin; run it through bash only to redirect the file, with the
  // paths passed as positional arguments (never interpolated into the script).
  absl::StatusOr<ChildProcessResult> result =
      run_child_process({"bash", "-c", "\"$0\" check metrics < \"$1\"", promtool, file.string()});
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->exit_code, 0) << result->standard_output << result->standard_error;
  EXPECT_EQ(result->standard_error, "") << "promtool lint findings";
}

TEST(ChildProcess, CapturesOutputAndExitCodeWithoutAShell) {
  // ";" and "$(...)" reach the program as literal text: there is no shell to interpret them.
  absl::StatusOr<ChildProcessResult> echo =
      run_child_process({"printf", "%s|%s", "a; rm -rf /tmp/nothing", "$(id)"});
  ASSERT_TRUE(echo.ok()) << echo.status();
  EXPECT_EQ(echo->exit_code, 0);
  EXPECT_EQ(echo->standard_output, "a; rm -rf /tmp/nothing|$(id)");

  absl::StatusOr<ChildProcessResult> failing =
      run_child_process({"bash", "-c", "echo out; echo err >&2; exit 3"});
  ASSERT_TRUE(failing.ok()) << failing.status();
  EXPECT_EQ(failing->exit_code, 3);
  EXPECT_EQ(failing->standard_output, "out\n");
  EXPECT_EQ(failing->standard_error, "err\n");
}

TEST(ChildProcess, LargeOutputOnBothStreamsDoesNotDeadlock) {
  absl::StatusOr<ChildProcessResult> result =
      run_child_process({"bash", "-c", "head -c 1000000 /dev/zero; head -c 1000000 /dev/zero >&2"});
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->standard_output.size(), 1'000'000u);
  EXPECT_EQ(result->standard_error.size(), 1'000'000u);
}

TEST(ChildProcess, MissingProgramIsNotFound) {
  absl::StatusOr<ChildProcessResult> result = run_child_process({"qt-no-such-program-here"});
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), absl::StatusCode::kNotFound);
}

TEST(S3Uri, SplitsBucketAndPrefix) {
  absl::StatusOr<S3Location> location = parse_s3_uri("s3://qt-backups/prod/engine-1/");
  ASSERT_TRUE(location.ok()) << location.status();
  EXPECT_EQ(location->bucket, "qt-backups");
  EXPECT_EQ(location->prefix, "prod/engine-1");
  EXPECT_EQ(location->uri(), "s3://qt-backups/prod/engine-1/");
  EXPECT_EQ(location->uri("latest"), "s3://qt-backups/prod/engine-1/latest");
  EXPECT_EQ(location->child("2026-11-25T02-00-00Z").uri(),
            "s3://qt-backups/prod/engine-1/2026-11-25T02-00-00Z/");
  absl::StatusOr<S3Location> bare = parse_s3_uri("s3://qt-backups");
  ASSERT_TRUE(bare.ok());
  EXPECT_EQ(bare->uri("latest"), "s3://qt-backups/latest");
  EXPECT_FALSE(parse_s3_uri("s3://Bad_Bucket/x").ok());
  EXPECT_FALSE(parse_s3_uri("/local/dir").ok());
  EXPECT_FALSE(parse_s3_uri("s3://bucket/a//b").ok());
}

TEST(S3Cli, MissingAwsProgramIsAClearError) {
  S3Cli cli("http://127.0.0.1:1", "qt-no-such-aws-cli");
  const absl::Status status = cli.upload_file("/dev/null", *parse_s3_uri("s3://bucket/x"));
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(std::string(status.message()).find("awscli"), std::string::npos) << status;
}

}  // namespace
}  // namespace qt::persist
