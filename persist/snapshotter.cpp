// The background snapshotter; see snapshotter.hpp.
#include "persist/snapshotter.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <system_error>

#include "persist/atomic_file.hpp"
#include "persist/data_dir.hpp"
#include "persist/engine_recovery.hpp"
#include "persist/segment_format.hpp"
#include "persist/snapshot.hpp"

namespace qt::persist {
namespace {

void relaxed_add(std::atomic<uint64_t>& counter, uint64_t by = 1) {
  counter.store(counter.load(std::memory_order_relaxed) + by, std::memory_order_relaxed);
}

// Snapshot temporaries ("snapshot-<seq>.qts.tmp.<pid>", see write_file_atomically()) that a
// crash left behind; they are never read, only in the way.
void remove_stale_temporaries(const std::filesystem::path& dir) {
  std::error_code ec;
  std::filesystem::directory_iterator it(dir, ec);
  if (ec) return;
  for (const std::filesystem::directory_entry& entry : it) {
    const std::string name = entry.path().filename().string();
    if (name.starts_with(kSnapshotPrefix) &&
        name.find(std::string(kSnapshotSuffix) + ".tmp.") != std::string::npos) {
      std::filesystem::remove(entry.path(), ec);
      if (!ec) spdlog::info("snapshotter: removed leftover temporary {}", entry.path().string());
    }
  }
}

}  // namespace

Snapshotter::Snapshotter(SnapshotterOptions options, EngineOptions engine_options,
                         const std::atomic<uint64_t>& durable_sequence)
    : options_(std::move(options)),
      engine_options_(std::move(engine_options)),
      durable_sequence_(durable_sequence),
      quotes_(std::make_unique<QuoteRing>()),
      venue_requests_(std::make_unique<VenueRequestRing>()),
      venue_events_(std::make_unique<VenueEventRing>()) {
  if (options_.keep == 0) options_.keep = 1;
  shadow_ = std::make_unique<Engine>(engine_options_, *quotes_, *venue_requests_, *venue_events_);
}

Snapshotter::~Snapshotter() {
  stop();
}

absl::Status Snapshotter::prepare(const EngineState* initial) {
  if (prepared_) return absl::FailedPreconditionError("snapshotter: already prepared");
  remove_stale_temporaries(snapshots_dir(options_.data_dir));
  if (initial != nullptr) {
    if (absl::Status status = shadow_->restore_state(*initial); !status.ok()) {
      return absl::Status(status.code(), fmt::format("snapshotter: restoring the initial state: {}",
                                                     std::string(status.message())));
    }
    // A state past the newest snapshot (start-up replayed a tail) deserves a snapshot soon.
    absl::StatusOr<std::vector<SnapshotFile>> snapshots = list_snapshots(options_.data_dir);
    const uint64_t newest =
        snapshots.ok() && !snapshots->empty() ? snapshots->back().sequence : uint64_t{0};
    applied_since_snapshot_ = initial->journal_sequence > newest ? 1 : 0;
  } else {
    RecoveryOptions recovery;
    recovery.up_to_sequence = durable_sequence_.load(std::memory_order_acquire);
    absl::StatusOr<RecoveredState> recovered =
        recover_engine_state(*shadow_, options_.data_dir, engine_options_.instruments, recovery);
    if (!recovered.ok()) {
      return absl::Status(recovered.status().code(),
                          fmt::format("snapshotter: recovering its shadow engine: {}",
                                      std::string(recovered.status().message())));
    }
    applied_since_snapshot_ = recovered->records_replayed;
    relaxed_add(stats_.records_applied, recovered->records_replayed);
  }
  stats_.applied_sequence.store(shadow_->journal_sequence(), std::memory_order_relaxed);
  prepared_ = true;
  return absl::OkStatus();
}

absl::Status Snapshotter::start() {
  if (thread_.joinable()) return absl::FailedPreconditionError("snapshotter: already running");
  if (!prepared_) {
    if (absl::Status status = prepare(); !status.ok()) return status;
  }
  {
    std::lock_guard lock(mutex_);
    stop_requested_ = false;
  }
  thread_ = std::thread([this] { thread_main(); });
  return absl::OkStatus();
}

void Snapshotter::stop() {
  {
    std::lock_guard lock(mutex_);
    stop_requested_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Snapshotter::request_cycle() {
  {
    std::lock_guard lock(mutex_);
    cycle_requested_ = true;
  }
  wake_.notify_all();
}

void Snapshotter::thread_main() {
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_.wait_for(lock, options_.interval, [this] { return stop_requested_ || cycle_requested_; });
    if (stop_requested_) return;
    cycle_requested_ = false;
    lock.unlock();
    (void)run_cycle();  // logged and counted inside
    lock.lock();
  }
}

void Snapshotter::fail(const absl::Status& status) {
  relaxed_add(stats_.failures);
  spdlog::warn("snapshotter: {}", std::string(status.message()));
}

absl::Status Snapshotter::run_cycle() {
  if (!prepared_) return absl::FailedPreconditionError("snapshotter: not prepared");
  if (stats_.shadow_failed.load(std::memory_order_relaxed)) {
    return absl::FailedPreconditionError("snapshotter: the shadow engine failed earlier");
  }
  absl::Status first_problem = catch_up(durable_sequence_.load(std::memory_order_acquire));
  if (stats_.shadow_failed.load(std::memory_order_relaxed)) return first_problem;
  if (applied_since_snapshot_ > 0) {
    absl::Status written = write_and_prune();
    if (first_problem.ok()) first_problem = written;
  }
  absl::Status retention = apply_segment_retention();
  if (first_problem.ok()) first_problem = retention;
  return first_problem;
}

absl::Status Snapshotter::catch_up(uint64_t durable) {
  absl::Status last_problem;
  // Twice at most: a segment renamed from its prepared name while the reader listed the
  // directory can hide it (or show it twice) for one listing.
  for (int attempt = 0; attempt < 2 && shadow_->journal_sequence() < durable; ++attempt) {
    absl::StatusOr<TailReplay> tail = replay_journal_tail(*shadow_, options_.data_dir, durable);
    if (!tail.ok()) {
      stats_.shadow_failed.store(true, std::memory_order_relaxed);
      relaxed_add(stats_.failures);
      spdlog::error(
          "snapshotter: the shadow engine cannot follow the journal, no more "
          "snapshots this run: {}",
          std::string(tail.status().message()));
      return tail.status();
    }
    applied_since_snapshot_ += tail->applied;
    relaxed_add(stats_.records_applied, tail->applied);
    stats_.applied_sequence.store(shadow_->journal_sequence(), std::memory_order_relaxed);
    last_problem = tail->journal_status;
  }
  if (shadow_->journal_sequence() < durable) {
    const absl::Status status = absl::UnavailableError(
        fmt::format("read the journal only up to sequence {} of the durable {}{}",
                    shadow_->journal_sequence(), durable,
                    last_problem.ok() ? std::string()
                                      : fmt::format(": {}", std::string(last_problem.message()))));
    fail(status);
    return status;
  }
  return absl::OkStatus();
}

absl::Status Snapshotter::write_and_prune() {
  const auto started = std::chrono::steady_clock::now();
  const EngineState state = shadow_->capture_state();
  if (absl::Status status = write_snapshot(options_.data_dir, state, engine_options_.instruments);
      !status.ok()) {
    fail(status);
    return status;
  }
  const auto elapsed = std::chrono::steady_clock::now() - started;
  applied_since_snapshot_ = 0;
  relaxed_add(stats_.snapshots_written);
  stats_.last_snapshot_sequence.store(state.journal_sequence, std::memory_order_relaxed);
  stats_.last_snapshot_duration_ns.store(
      static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(elapsed).count()),
      std::memory_order_relaxed);
  spdlog::debug("snapshotter: snapshot at sequence {} ({} orders) in {:.1f} ms",
                state.journal_sequence, state.orders.size(),
                std::chrono::duration<double, std::milli>(elapsed).count());

  absl::StatusOr<std::vector<SnapshotFile>> snapshots = list_snapshots(options_.data_dir);
  if (!snapshots.ok()) {
    fail(snapshots.status());
    return snapshots.status();
  }
  if (snapshots->size() <= options_.keep) return absl::OkStatus();
  const std::size_t excess = snapshots->size() - options_.keep;
  for (std::size_t i = 0; i < excess; ++i) {
    std::error_code ec;
    std::filesystem::remove((*snapshots)[i].path, ec);
    if (ec) {
      const absl::Status status = absl::UnavailableError(fmt::format(
          "cannot delete old snapshot {}: {}", (*snapshots)[i].path.string(), ec.message()));
      fail(status);
      return status;
    }
    relaxed_add(stats_.snapshots_deleted);
  }
  return fsync_directory(snapshots_dir(options_.data_dir));
}

absl::Status Snapshotter::remove_segment(const std::filesystem::path& segment) {
  std::error_code ec;
  if (!options_.archive_segments) {
    std::filesystem::remove(segment, ec);
    if (!ec) return absl::OkStatus();
    return absl::UnavailableError(
        fmt::format("cannot delete journal segment {}: {}", segment.string(), ec.message()));
  }
  const std::filesystem::path archive = options_.data_dir / "archive";
  create_private_directories(archive, ec);
  if (!ec) std::filesystem::rename(segment, archive / segment.filename(), ec);
  if (ec) {
    return absl::UnavailableError(fmt::format("cannot move journal segment {} to {}: {}",
                                              segment.string(), archive.string(), ec.message()));
  }
  return fsync_directory(archive);
}

absl::Status Snapshotter::apply_segment_retention() {
  if (!options_.segment_retention.has_value()) return absl::OkStatus();
  absl::StatusOr<std::vector<SnapshotFile>> snapshots = list_snapshots(options_.data_dir);
  if (!snapshots.ok() || snapshots->empty()) return snapshots.status();
  // The oldest kept snapshot, not the newest: if the newest turns out damaged at the next
  // start, recovery falls back to an older one and still needs the journal after it.
  const uint64_t covered = snapshots->front().sequence;

  const std::filesystem::path journal = journal_dir(options_.data_dir);
  absl::StatusOr<std::vector<format::JournalFile>> files = format::list_journal_files(journal);
  if (absl::IsNotFound(files.status())) return absl::OkStatus();
  if (!files.ok()) return files.status();
  const auto now = std::filesystem::file_time_type::clock::now();
  bool removed_any = false;
  // The last file is the active segment; each other one ends just before the next begins.
  for (std::size_t i = 0; i + 1 < files->size(); ++i) {
    const format::JournalFile& file = (*files)[i];
    const uint64_t last_sequence = (*files)[i + 1].sort_key - 1;
    if (last_sequence > covered) break;
    if (file.prepared_name) break;  // not yet renamed by the writer: leave it to settle
    std::error_code ec;
    const auto modified = std::filesystem::last_write_time(file.path, ec);
    if (ec || now - modified < *options_.segment_retention) continue;
    if (absl::Status status = remove_segment(file.path); !status.ok()) {
      fail(status);
      return status;
    }
    spdlog::info("snapshotter: {} journal segment {} (sequences up to {}, covered by snapshot {})",
                 options_.archive_segments ? "archived" : "deleted", file.path.string(),
                 last_sequence, covered);
    relaxed_add(stats_.segments_removed);
    removed_any = true;
  }
  return removed_any ? fsync_directory(journal) : absl::OkStatus();
}

}  // namespace qt::persist
