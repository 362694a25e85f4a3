// Backup and restore of the engine's state, end to end with the real binary (issue 4, "Must
// show": a backup taken under load, restored to a new directory, state identical — compared by
// state digest — and the same through S3; "After restore, `quanttrading run` comes up with the
// exact state of the backup point").
//
// The test hosts a Capital.com simulator (TLS, CA file written at start) and:
//  1. starts `quanttrading run` on a fresh data directory: group durability, snapshots every
//     second, the load client placing 2 market orders a second, the default strategies trading;
//  2. once it trades and has written a snapshot, runs `quanttrading backup --to DEST` beside it
//     (DEST a directory, or s3://bucket/prefix on s3rver through the aws CLI with
//     --endpoint-url); the engine must still run afterwards and go on trading, so the backup
//     point N lies inside the journal, not at its end;
//  3. stops the engine (SIGTERM, exit 0), runs `quanttrading restore --from DEST --data-dir NEW`,
//     and starts `quanttrading run` on NEW; it logs "journal: recovered state digest=<hex> at
//     sequence <n>" after replay and before reconciling with the venue changes anything; once
//     ready (reconciled) it is stopped (SIGTERM, exit 0). It trades against a fresh simulator:
//     the first broker has moved on since the backup point (the original engine's later trades
//     and its cancels at shutdown), which leaves recovered orders Unknown for the operator and
//     costs 10 s of reconciliation and 10 s of shutdown, none of it bearing on the state
//     recovered, which is settled before the venue is asked anything;
//  4. rebuilds the reference: `quanttrading journal replay --until-sequence N --digest` of the
//     ORIGINAL data directory — from its newest snapshot at or before N if it still keeps one
//     (it keeps only the newest few, usually all past N by then), and again from sequence 1
//     (--no-snapshot); the two must agree.
// It checks: N is what the backup reported and the manifest records (journal_last_sequence,
// journal 1..N, N records, a snapshot at or before N, the source directory); the restored
// directory holds that manifest; an offline replay of NEW ends at N with the reference digest;
// the restored engine came up from the backup's snapshot + the journal after it, at sequence N,
// with the reference digest (rebuilt without that snapshot), and continues at N + 1; and the
// original engine admitted orders after N, so an engine that came up with the original's final
// state instead of the backup point's would not pass.
//
// Environment: QT_KEEP_TEST_DIRS=1 keeps the work directory (it is always kept after a failure).
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <functional>
#include <iostream>
#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "persist/backup_manifest.hpp"
#include "persist/child_process.hpp"
#include "sim/capital_simulator.hpp"
#include "tests/persist_backup/s3_test_support.hpp"
#include "tests/quanttrading_process_support.hpp"

#ifndef QT_QUANTTRADING_BIN
#error "QT_QUANTTRADING_BIN must name the quanttrading binary (tests/persist_backup/CMakeLists.txt)"
#endif

namespace qt {
namespace {

namespace fs = std::filesystem;
using test::ChildProgram;
using test::ProgramClock;
using test::ProgramRun;
using test::tail_of;

constexpr double kLoadOrdersPerSecond = 2.0;
constexpr auto kStartTimeout = std::chrono::seconds(30);
constexpr auto kStopTimeout = std::chrono::seconds(30);
constexpr auto kCommandTimeout = std::chrono::seconds(60);
constexpr auto kSnapshotTimeout = std::chrono::seconds(15);
// How long the engine trades after the backup before it is stopped: about two orders of the
// load client, so the original journal goes on well past the backup point.
constexpr auto kTradingAfterBackup = std::chrono::milliseconds(1500);

// What `quanttrading journal replay --digest` printed.
struct ReplayReport {
  uint64_t last_sequence = 0;
  std::string digest;                         // 16 hex digits
  std::string snapshot_line;                  // "snapshot: ..." as printed
  std::optional<uint64_t> snapshot_sequence;  // of the snapshot it started from, if any
  uint64_t last_order_id = 0;
};

std::optional<ReplayReport> parse_replay(const std::string& output) {
  static const std::regex last(R"((?:^|\n)last sequence: (\d+)\n)");
  static const std::regex digest(R"((?:^|\n)digest: ([0-9a-f]{16})\n)");
  static const std::regex snapshot(R"((?:^|\n)(snapshot: [^\n]*)\n)");
  static const std::regex orders(
      R"((?:^|\n)orders: \d+ in the store \(\d+ live\), last order id (\d+)\n)");
  std::smatch m;
  ReplayReport report;
  if (!std::regex_search(output, m, last)) return std::nullopt;
  report.last_sequence = std::stoull(m[1]);
  if (!std::regex_search(output, m, digest)) return std::nullopt;
  report.digest = m[1];
  if (std::regex_search(output, m, snapshot)) {
    report.snapshot_line = m[1];
    static const std::regex sequence(R"(\(sequence (\d+)\)$)");
    std::smatch n;
    if (std::regex_search(report.snapshot_line, n, sequence)) {
      report.snapshot_sequence = std::stoull(n[1]);
    }
  }
  if (std::regex_search(output, m, orders)) report.last_order_id = std::stoull(m[1]);
  return report;
}

// What `quanttrading backup` printed: "backup NAME written to LOCATION" and
// "  journal: R records, sequences F..N, K segment(s)".
struct BackupReport {
  std::string name;
  std::string location;
  uint64_t first_sequence = 0;
  uint64_t last_sequence = 0;
  uint64_t records = 0;
};

std::optional<BackupReport> parse_backup(const std::string& output) {
  static const std::regex written(R"((?:^|\n)backup (\S+) written to (\S+)\n)");
  static const std::regex journal(R"(\n  journal: (\d+) records, sequences (\d+)\.\.(\d+),)");
  std::smatch m;
  BackupReport report;
  if (!std::regex_search(output, m, written)) return std::nullopt;
  report.name = m[1];
  report.location = m[2];
  if (!std::regex_search(output, m, journal)) return std::nullopt;
  report.records = std::stoull(m[1]);
  report.first_sequence = std::stoull(m[2]);
  report.last_sequence = std::stoull(m[3]);
  return report;
}

bool has_snapshot(const fs::path& data_dir) {
  std::error_code ec;
  for (fs::directory_iterator it(data_dir / "snapshots", ec), end; !ec && it != end;
       it.increment(ec)) {
    if (it->path().extension() == ".qts") return true;
  }
  return false;
}

// Where a backup goes and how the test reads its manifest back from there.
struct BackupTarget {
  std::string to;            // --to / --from
  std::string endpoint_url;  // --endpoint-url, empty for a directory
  // The manifest.json text of backup `name`, read from the destination itself.
  std::function<absl::StatusOr<std::string>(const std::string& name)> read_manifest;
};

class EngineBackupRestore : public ::testing::Test {
 protected:
  void SetUp() override {
    binary_ = QT_QUANTTRADING_BIN;
    std::string pattern = (fs::temp_directory_path() / "qt-engine-backup-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    work_ = pattern;
    original_ = work_ / "original";
    restored_ = work_ / "restored";
    ack_log_ = work_ / "acks.log";
  }
  void TearDown() override {
    simulator_.reset();
    const char* keep = std::getenv("QT_KEEP_TEST_DIRS");
    if (HasFailure() || (keep != nullptr && std::string(keep) == "1")) {
      std::cout << "work directory kept: " << work_ << std::endl;
    } else {
      std::error_code ignored;
      fs::remove_all(work_, ignored);
    }
  }

  // The broker for the whole test: the original engine and the restored one trade against it.
  void start_simulator() {
    ASSERT_TRUE(fs::exists(binary_) && ::access(binary_.c_str(), X_OK) == 0)
        << "the quanttrading binary is missing or not executable: " << binary_;
    ca_file_ = work_ / "sim-ca.pem";
    sim::SimOptions options = sim::SimOptions::embedded();
    options.write_ca_file = ca_file_.string();
    options.quotes_per_second = 20;  // enough for the moving-average strategy to trade
    simulator_ = std::make_unique<sim::CapitalSimulator>(options);
    try {
      simulator_->start();
    } catch (const std::exception& e) {
      FAIL() << "the simulator did not start: " << e.what();
    }
    ASSERT_TRUE(fs::exists(ca_file_)) << "the simulator wrote no CA file";
  }

  // The configuration both engines and every command share; only the data directory and the
  // load differ between the original engine and the restored one.
  std::vector<std::string> sets(const fs::path& data_dir, bool load) const {
    std::vector<std::string> overrides = {
        "persist.data_dir=" + data_dir.string(), "persist.durability=group",
        "persist.segment_size_mib=1",  // the smallest: cheap copies
        // A snapshot every second: the backup holds one a little before its point, so the
        // restored engine recovers from a snapshot + tail while the reference replays from 1.
        "persist.snapshot_interval_seconds=1", "run.status_interval_seconds=0.5"};
    if (load) {
      overrides.push_back("load.orders_per_second=" + std::to_string(kLoadOrdersPerSecond));
      overrides.push_back("load.ack_log=" + ack_log_.string());
    }
    std::vector<std::string> args;
    for (const std::string& o : overrides) {
      args.push_back("--set");
      args.push_back(o);
    }
    return args;
  }

  std::vector<std::string> environment() const {
    return test::simulator_environment(*simulator_, ca_file_);
  }

  std::unique_ptr<ChildProgram> start_engine(const fs::path& data_dir, bool load,
                                             const std::string& log_name) {
    logins_.wait_turn();
    std::vector<std::string> argv = {binary_, "run"};
    for (const std::string& s : sets(data_dir, load)) argv.push_back(s);
    auto child = std::make_unique<ChildProgram>(argv, environment(), work_ / log_name);
    EXPECT_EQ(child->spawn_error(), 0)
        << "cannot start " << binary_ << ": " << std::strerror(child->spawn_error());
    return child;
  }

  ProgramRun command(std::vector<std::string> args, const std::string& log_name) {
    args.insert(args.begin(), binary_);
    const ProgramRun run = test::run_program(args, environment(), work_ / log_name,
                                             std::chrono::milliseconds(kCommandTimeout));
    std::cout << "$ quanttrading";
    for (std::size_t i = 1; i < args.size(); ++i) std::cout << " " << args[i];
    std::cout << "\n" << run.output << std::flush;
    return run;
  }

  // `journal replay --digest [extra...]` of `data_dir`; fails the test unless it exits 0.
  std::optional<ReplayReport> replay(const fs::path& data_dir,
                                     const std::vector<std::string>& extra,
                                     const std::string& log_name) {
    std::vector<std::string> args = {"journal", "replay", "--data-dir", data_dir.string(),
                                     "--digest"};
    args.insert(args.end(), extra.begin(), extra.end());
    for (const std::string& s : sets(data_dir, false)) args.push_back(s);
    const ProgramRun run = command(args, log_name);
    EXPECT_TRUE(run.exited_with(0)) << "journal replay of " << data_dir << ": " << run.describe();
    if (!run.exited_with(0)) return std::nullopt;
    std::optional<ReplayReport> report = parse_replay(run.output);
    EXPECT_TRUE(report.has_value()) << "journal replay printed no last sequence or digest:\n"
                                    << run.output;
    return report;
  }

  // Steps 1 to 4 of the header against one destination; every check of the header.
  void back_up_under_load_restore_and_compare(const BackupTarget& target) {
    // 1. The original engine trades, with at least one snapshot written.
    std::unique_ptr<ChildProgram> original = start_engine(original_, true, "original-run.log");
    ASSERT_EQ(original->spawn_error(), 0);
    ASSERT_TRUE(test::wait_until_trading(*original, ack_log_, 0, kStartTimeout, "[original]"));
    const auto snapshot_deadline = ProgramClock::now() + kSnapshotTimeout;
    while (!has_snapshot(original_) && ProgramClock::now() < snapshot_deadline) {
      ASSERT_TRUE(original->poll()) << "the engine exited:\n" << tail_of(original->log(), 40);
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ASSERT_TRUE(has_snapshot(original_))
        << "no snapshot within " << kSnapshotTimeout.count() << " s at 1 s intervals\n"
        << tail_of(original->log(), 40);

    // 2. The backup, beside the running engine.
    std::vector<std::string> backup_args = {"backup",
                                            "--to",
                                            target.to,
                                            "--data-dir",
                                            original_.string(),
                                            "--metrics-file",
                                            (work_ / "backup.prom").string()};
    if (!target.endpoint_url.empty()) {
      backup_args.push_back("--endpoint-url");
      backup_args.push_back(target.endpoint_url);
    }
    for (const std::string& s : sets(original_, true)) backup_args.push_back(s);
    const ProgramRun backup_run = command(backup_args, "backup.log");
    ASSERT_TRUE(backup_run.exited_with(0)) << "backup: " << backup_run.describe();
    ASSERT_TRUE(original->poll()) << "the engine stopped during the backup:\n"
                                  << tail_of(original->log(), 40);
    const std::optional<BackupReport> backup = parse_backup(backup_run.output);
    ASSERT_TRUE(backup.has_value()) << "backup printed no name or journal range:\n"
                                    << backup_run.output;
    const uint64_t backup_point = backup->last_sequence;
    ASSERT_GT(backup_point, 0u) << "an empty journal backed up";

    // The engine goes on trading past the backup point, then stops cleanly.
    std::error_code ec;
    const std::size_t acks_at_backup = fs::file_size(ack_log_, ec);
    const auto after_backup = ProgramClock::now();
    while (ProgramClock::now() - after_backup < kTradingAfterBackup ||
           !test::acknowledged_since(ack_log_, acks_at_backup)) {
      ASSERT_TRUE(original->poll()) << "the engine exited:\n" << tail_of(original->log(), 40);
      ASSERT_LT(ProgramClock::now() - after_backup, kStartTimeout)
          << "no order acknowledged after the backup";
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    const std::optional<int> stopped = original->stop(SIGTERM, kStopTimeout);
    ASSERT_TRUE(stopped.has_value()) << "the original engine did not stop on SIGTERM\n"
                                     << tail_of(original->log(), 40);
    EXPECT_TRUE(WIFEXITED(*stopped) && WEXITSTATUS(*stopped) == 0)
        << test::describe_wait_status(*stopped) << "\n"
        << tail_of(original->log(), 40);

    // The backup point as the manifest at the destination records it.
    absl::StatusOr<std::string> manifest_text = target.read_manifest(backup->name);
    ASSERT_TRUE(manifest_text.ok()) << manifest_text.status();
    absl::StatusOr<persist::BackupManifest> manifest = persist::parse_manifest(*manifest_text);
    ASSERT_TRUE(manifest.ok()) << manifest.status() << "\n" << *manifest_text;
    EXPECT_EQ(manifest->name, backup->name);
    EXPECT_EQ(manifest->journal_last_sequence, backup_point)
        << "the manifest's backup point differs from the one backup printed";
    EXPECT_EQ(manifest->journal_first_sequence, 1u);
    EXPECT_EQ(manifest->journal_records, backup_point);
    EXPECT_EQ(backup->first_sequence, 1u);
    EXPECT_EQ(backup->records, backup_point);
    EXPECT_EQ(fs::path(manifest->source_data_dir), original_);
    ASSERT_TRUE(manifest->snapshot_sequence.has_value())
        << "the backup holds no snapshot though the engine had written one";
    EXPECT_LE(*manifest->snapshot_sequence, backup_point);

    // 3. Restore into a new directory: the manifest comes along, the journal ends at N.
    std::vector<std::string> restore_args = {"restore",
                                             "--from",
                                             target.to,
                                             "--data-dir",
                                             restored_.string(),
                                             "--metrics-file",
                                             (work_ / "restore.prom").string()};
    if (!target.endpoint_url.empty()) {
      restore_args.push_back("--endpoint-url");
      restore_args.push_back(target.endpoint_url);
    }
    const ProgramRun restore_run = command(restore_args, "restore.log");
    ASSERT_TRUE(restore_run.exited_with(0)) << "restore: " << restore_run.describe();
    EXPECT_EQ(test::read_text_file(restored_ / "restored-backup" / persist::kManifestFileName),
              *manifest_text)
        << "the restored directory's manifest is not the destination's";
    const std::optional<ReplayReport> restored_offline =
        replay(restored_, {}, "replay-restored.log");
    ASSERT_TRUE(restored_offline.has_value());
    EXPECT_EQ(restored_offline->last_sequence, backup_point);

    // The restored engine comes up, against a broker that has not moved on since the backup.
    simulator_.reset();
    start_simulator();
    if (HasFatalFailure()) return;
    std::unique_ptr<ChildProgram> restarted = start_engine(restored_, false, "restored-run.log");
    ASSERT_EQ(restarted->spawn_error(), 0);
    std::optional<test::StartReport> start;
    const auto start_deadline = ProgramClock::now() + kStartTimeout;
    while (ProgramClock::now() < start_deadline) {
      ASSERT_TRUE(restarted->poll())
          << "quanttrading run on the restored directory exited: "
          << test::describe_wait_status(*restarted->exit_status()) << "\n"
          << tail_of(restarted->log(), 40);
      // Up means ready: the recovered live orders reconciled with the broker.
      const std::string log = restarted->log();
      start = test::parse_start(log);
      if (start && log.find("engine ready: ") != std::string::npos) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ASSERT_TRUE(start.has_value() && start->digest.has_value())
        << "no 'journal: recovered state digest=...' from the restored engine within "
        << kStartTimeout.count() << " s\n"
        << tail_of(restarted->log(), 40);
    ASSERT_NE(restarted->log().find("engine ready: "), std::string::npos)
        << "the restored engine did not get ready within " << kStartTimeout.count() << " s\n"
        << tail_of(restarted->log(), 40);
    const std::optional<int> restarted_stopped = restarted->stop(SIGTERM, kStopTimeout);
    ASSERT_TRUE(restarted_stopped.has_value()) << "the restored engine did not stop on SIGTERM\n"
                                               << tail_of(restarted->log(), 40);
    EXPECT_TRUE(WIFEXITED(*restarted_stopped) && WEXITSTATUS(*restarted_stopped) == 0)
        << test::describe_wait_status(*restarted_stopped) << "\n"
        << tail_of(restarted->log(), 40);

    // 4. The reference: the original journal's state at N, two ways.
    const std::string until = std::to_string(backup_point);
    const std::optional<ReplayReport> reference =
        replay(original_, {"--until-sequence", until}, "replay-original-until.log");
    ASSERT_TRUE(reference.has_value());
    const std::optional<ReplayReport> reference_from_one = replay(
        original_, {"--until-sequence", until, "--no-snapshot"}, "replay-original-from-1.log");
    ASSERT_TRUE(reference_from_one.has_value());
    const std::optional<ReplayReport> original_end = replay(original_, {}, "replay-original.log");
    ASSERT_TRUE(original_end.has_value());

    EXPECT_EQ(reference->last_sequence, backup_point);
    // The original keeps only its newest snapshots, usually all past N by now; one still at or
    // before N must be the backup's or a later one.
    if (reference->snapshot_sequence) {
      EXPECT_GE(*reference->snapshot_sequence, *manifest->snapshot_sequence);
      EXPECT_LE(*reference->snapshot_sequence, backup_point);
    }
    EXPECT_EQ(reference_from_one->last_sequence, backup_point);
    EXPECT_EQ(reference_from_one->digest, reference->digest)
        << "the original journal replayed to " << backup_point << " from a snapshot ("
        << reference->snapshot_line << ") and from sequence 1 disagree";
    EXPECT_GT(original_end->last_sequence, backup_point)
        << "the original journal did not go on past the backup point: not a backup under load";
    EXPECT_GT(original_end->last_order_id, reference->last_order_id)
        << "the original engine admitted no order after the backup point";

    // The Must-show comparison: the restored engine came up with the state of the backup point.
    EXPECT_EQ(*start->digest_sequence, backup_point)
        << "the restored engine recovered to sequence " << *start->digest_sequence
        << ", the backup point is " << backup_point;
    EXPECT_EQ(start->continuing_at, backup_point + 1);
    EXPECT_TRUE(start->from_snapshot)
        << "the restored engine did not start from the backup's snapshot (sequence "
        << *manifest->snapshot_sequence << ")\n"
        << tail_of(restarted->log(), 40);
    EXPECT_EQ(test::hex64(*start->digest), reference->digest)
        << "the restored engine's state differs from the original journal's state at the backup "
           "point "
        << backup_point;
    EXPECT_EQ(restored_offline->digest, reference->digest)
        << "an offline replay of the restored directory differs from the original's at "
        << backup_point;
    std::cout << "backup point " << backup_point << " (snapshot " << *manifest->snapshot_sequence
              << ", original journal went on to " << original_end->last_sequence
              << ", last order id " << reference->last_order_id << " -> "
              << original_end->last_order_id << "); restored engine: digest "
              << test::hex64(*start->digest) << " at sequence " << *start->digest_sequence
              << (start->from_snapshot ? " (from the snapshot + tail)" : " (journal only)")
              << "; reference " << reference->digest << " (" << reference->snapshot_line << ")"
              << std::endl;
  }

  std::string binary_;
  fs::path work_;
  fs::path original_;
  fs::path restored_;
  fs::path ack_log_;
  fs::path ca_file_;
  std::unique_ptr<sim::CapitalSimulator> simulator_;
  test::LoginPacer logins_;
};

TEST_F(EngineBackupRestore, BackupToADirectoryUnderLoadRestoresTheStateOfTheBackupPoint) {
  start_simulator();
  if (HasFatalFailure()) return;
  const fs::path backups = work_ / "backups";
  BackupTarget target;
  target.to = backups.string();
  target.read_manifest = [&](const std::string& name) -> absl::StatusOr<std::string> {
    const fs::path path = backups / name / persist::kManifestFileName;
    if (!fs::exists(path)) return absl::NotFoundError("no " + path.string());
    return test::read_text_file(path);
  };
  back_up_under_load_restore_and_compare(target);
}

TEST_F(EngineBackupRestore, BackupToS3UnderLoadRestoresTheStateOfTheBackupPoint) {
  ASSERT_FALSE(persist::find_on_path("aws").empty()) << persist::test::missing_aws_message();
  ASSERT_FALSE(persist::test::s3rver_program().empty()) << persist::test::missing_s3rver_message();
  persist::test::use_hermetic_aws_environment(work_);
  absl::StatusOr<std::unique_ptr<persist::test::S3rverProcess>> server =
      persist::test::S3rverProcess::start(work_ / "s3rver");
  ASSERT_TRUE(server.ok()) << server.status();
  ASSERT_TRUE((*server)->aws_s3({"mb", "s3://qt-backups"}).ok());
  start_simulator();
  if (HasFatalFailure()) return;

  BackupTarget target;
  target.to = "s3://qt-backups/engine";
  target.endpoint_url = (*server)->endpoint_url();
  target.read_manifest = [&](const std::string& name) -> absl::StatusOr<std::string> {
    const fs::path local = work_ / ("s3-" + std::string(persist::kManifestFileName));
    absl::StatusOr<std::string> copied = (*server)->aws_s3(
        {"cp", target.to + "/" + name + "/" + std::string(persist::kManifestFileName),
         local.string()});
    if (!copied.ok()) return copied.status();
    return test::read_text_file(local);
  };
  back_up_under_load_restore_and_compare(target);
  if (HasFailure()) std::cout << "s3rver log:\n" << (*server)->log() << std::endl;
}

}  // namespace
}  // namespace qt
