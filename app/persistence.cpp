#include "app/persistence.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <stdlib.h>

#include <chrono>
#include <system_error>

#include "persist/engine_journal.hpp"
#include "persist/engine_recovery.hpp"
#include "persist/journal_reader.hpp"
#include "persist/snapshot.hpp"

namespace qt {

// The journal agent as a stage: forwards the duty cycle and, on a dedicated thread, wakes the
// engine when the durable sequence moves so that held outputs leave without waiting for a park
// timeout.
class EnginePersistence::Stage final : public Agent {
 public:
  Stage(persist::JournalAgent& journal, const std::atomic<uint64_t>& durable)
      : journal_(journal), durable_(durable) {}

  std::string_view name() const override { return "journal"; }
  void on_start() override { journal_.on_start(); }
  int do_work() override {
    const int work = journal_.do_work();
    const uint64_t durable = durable_.load(std::memory_order_relaxed);
    if (durable != last_durable_) {
      last_durable_ = durable;
      if (engine_ != nullptr) engine_->ring();
    }
    if (!failure_announced_ && journal_.failed()) {
      // The engine may be parked with nothing else to wake it: it must see the failure now.
      failure_announced_ = true;
      if (engine_ != nullptr) engine_->ring();
    }
    return work;
  }
  void on_close() override { journal_.on_close(); }
  void set_engine_doorbell(Doorbell* engine) { engine_ = engine; }

 private:
  persist::JournalAgent& journal_;
  const std::atomic<uint64_t>& durable_;
  Doorbell* engine_ = nullptr;
  uint64_t last_durable_ = 0;
  bool failure_announced_ = false;
};

EnginePersistence::EnginePersistence(PersistenceOptions options) : options_(std::move(options)) {}

absl::StatusOr<std::unique_ptr<EnginePersistence>> EnginePersistence::open(
    PersistenceOptions options) {
  if (options.ephemeral) {
    std::string pattern = (std::filesystem::temp_directory_path() / "quanttrading-data-XXXXXX");
    if (::mkdtemp(pattern.data()) == nullptr) {
      return absl::InternalError("cannot create a temporary data directory in " +
                                 std::filesystem::temp_directory_path().string());
    }
    options.data_dir = pattern;
  }
  if (options.data_dir.empty()) {
    return absl::InvalidArgumentError("persist.data_dir: must not be empty");
  }
  options.journal.dir = persist::journal_dir(options.data_dir);
  std::unique_ptr<EnginePersistence> persistence(new EnginePersistence(std::move(options)));
  absl::StatusOr<persist::DataDirLock> lock =
      persist::DataDirLock::acquire(persistence->options_.data_dir);
  if (!lock.ok()) return lock.status();
  persistence->lock_.emplace(*std::move(lock));
  return persistence;
}

EnginePersistence::~EnginePersistence() {
  snapshotter_.reset();
  stage_.reset();
  journal_agent_.reset();
  log_.reset();
  writer_.reset();  // closes (seals) if the agent's on_close did not run
  lock_.reset();
  if (options_.ephemeral) {
    std::error_code ignored;
    std::filesystem::remove_all(options_.data_dir, ignored);
  }
}

absl::StatusOr<RecoveryReport> EnginePersistence::recover_into(Engine& engine,
                                                               const EngineOptions& engine_options,
                                                               Doorbell* engine_doorbell) {
  const auto started = std::chrono::steady_clock::now();
  RecoveryReport report;
  absl::StatusOr<persist::RecoveryResult> recovered =
      persist::recover_journal(options_.journal.dir);
  if (!recovered.ok()) return recovered.status();
  if (recovered->truncated) {
    report.torn_tail_truncated = true;
    report.torn_tail = fmt::format(
        "{} at offset {}: {} ({} bytes zeroed)", recovered->torn_tail.segment.filename().string(),
        recovered->torn_tail.offset, recovered->torn_tail.reason, recovered->truncated_bytes);
  }

  // Newest valid snapshot, then the journal after it, through the code that produced it.
  persist::RecoveryOptions recovery;
  recovery.snapshot_may_lead_journal = options_.journal.durability == persist::Durability::kAsync;
  absl::StatusOr<persist::RecoveredState> state =
      persist::recover_engine_state(engine, options_.data_dir, engine.instruments(), recovery);
  if (!state.ok()) return state.status();
  if (state->journal_behind_snapshot) {
    // The snapshot holds records the journal lost: continuing the old journal would number new
    // records with sequences the snapshot already covers.
    const std::filesystem::path aside =
        options_.data_dir / "archive" /
        fmt::format("journal-behind-snapshot-{:020}", state->snapshot_sequence);
    absl::StatusOr<std::vector<std::filesystem::path>> moved =
        persist::set_aside_journal_behind_snapshot(options_.journal.dir, state->snapshot_sequence,
                                                   aside);
    if (!moved.ok()) return moved.status();
    spdlog::warn(
        "journal: async durability: snapshot {} covers sequence {}, but the journal ends at {} "
        "(a power loss kept the snapshot, not the journal's last pages): started from the "
        "snapshot; records {}..{} exist only in it; {} journal segment(s) set aside in {}; the "
        "journal continues at {}",
        state->snapshot.filename().string(), state->snapshot_sequence, state->journal_end_sequence,
        state->journal_end_sequence + 1, state->snapshot_sequence, moved->size(), aside.string(),
        state->snapshot_sequence + 1);
    report.journal_set_aside = aside.string();
  } else if (engine.journal_sequence() != recovered->last_sequence) {
    return absl::DataLossError(
        fmt::format("journal replay stopped at sequence {} but recovery found records up to {}",
                    engine.journal_sequence(), recovered->last_sequence));
  }
  report.snapshot = state->snapshot.filename().string();
  report.snapshot_sequence = state->snapshot_sequence;
  report.records_replayed = state->records_replayed;
  report.last_sequence = engine.journal_sequence();
  // What the replay rebuilt, comparable with any other replay of the same journal (the crash
  // test checks it against a clean replay of a copy of the data directory).
  spdlog::info("journal: recovered state digest={:016x} at sequence {}",
               persist::state_digest(engine.capture_state()), report.last_sequence);

  absl::StatusOr<std::unique_ptr<persist::JournalWriter>> writer =
      persist::JournalWriter::open(options_.journal, report.last_sequence + 1);
  if (!writer.ok()) return writer.status();
  writer_ = *std::move(writer);
  journal_agent_ = std::make_unique<persist::JournalAgent>(*writer_, *ring_);
  stage_ = std::make_unique<Stage>(*journal_agent_, writer_->durable_sequence());
  stage_->set_engine_doorbell(engine_doorbell);
  log_ = std::make_unique<persist::JournalRingLog>(*ring_, writer_->durable_sequence());
  log_->set_failed_flag(&journal_agent_->failed_flag());
  engine.set_write_ahead_log(log_.get(), report.last_sequence + 1);
  persist::SnapshotterOptions snapshots = options_.snapshots;
  snapshots.data_dir = options_.data_dir;
  snapshotter_ = std::make_unique<persist::Snapshotter>(snapshots, engine_options,
                                                        writer_->durable_sequence());
  const EngineState recovered_state = engine.capture_state();
  if (absl::Status prepared = snapshotter_->prepare(&recovered_state); !prepared.ok()) {
    return prepared;
  }
  engine.reconcile_recovered_orders();
  report.live_orders = engine.recovered_orders_pending();
  report.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return report;
}

Agent& EnginePersistence::agent() {
  return *stage_;
}

absl::Status EnginePersistence::start_snapshots() {
  return snapshotter_->start();
}

void EnginePersistence::stop_snapshots() {
  if (snapshotter_) snapshotter_->stop();
}

void EnginePersistence::set_engine_doorbell(Doorbell* engine) {
  stage_->set_engine_doorbell(engine);
}

void EnginePersistence::set_journal_doorbell(Doorbell* journal) {
  log_->set_doorbell(journal);
}

const persist::JournalFailure* EnginePersistence::journal_failure() const {
  return journal_agent_ != nullptr ? journal_agent_->failure() : nullptr;
}

std::string EnginePersistence::status() const {
  if (writer_ == nullptr) return "journal closed";
  const persist::JournalStats& stats = writer_->stats();
  const LatencyHistogram::Snapshot commits = stats.commit_ns.snapshot();
  std::string text;
  if (const persist::JournalFailure* failure = journal_failure()) {
    text = fmt::format("JOURNAL FAILED: {}; ", persist::describe(*failure));
  }
  text += fmt::format("journal {} durable={} records={} commits={} fsync p99={:.0f}us",
                      persist::to_string(writer_->options().durability),
                      writer_->durable_sequence().load(std::memory_order_relaxed),
                      stats.records.load(std::memory_order_relaxed),
                      stats.commits.load(std::memory_order_relaxed),
                      static_cast<double>(commits.percentile(0.99)) / 1e3);
  if (snapshotter_) {
    const persist::SnapshotterStats& snapshots = snapshotter_->stats();
    text += fmt::format(" snapshots={} last@{}{}", snapshots.snapshots_written.load(),
                        snapshots.last_snapshot_sequence.load(),
                        snapshots.failures.load() > 0
                            ? fmt::format(" FAILURES={}", snapshots.failures.load())
                            : std::string());
  }
  return text;
}

}  // namespace qt
