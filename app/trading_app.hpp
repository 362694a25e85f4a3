// TradingApp: builds the running system from an AppConfig — instruments, risk limits, rings,
// the engine with its strategies, the feed and the venue — maps the stages onto threads for
// the threading mode, and runs it with a status line per interval until a signal or the
// duration ends; then stops strategies, cancels open orders (if configured), drains the rings
// and prints a summary.
//
// Owned and driven by the main thread; everything it allocates is allocated before the stage
// threads start.
//
// Journal failure (disk full, I/O error; persist/journal.hpp): the process keeps running,
// degraded, and says so — every status line starts "engine JOURNAL FAILED: <errno> on <operation>
// of <file>" and is logged as an error, readiness is JOURNAL FAILED, new orders are refused
// (journal_failed), cancels and the kill switch still reach the venue. It does not exit by
// itself: an exit would strand the working orders it can still cancel, and a supervisor's
// restart would meet the same full disk. The operator (or an alert on the status line) decides:
// kill switch, then SIGTERM, which cancels open orders (cancel_on_shutdown) and exits with
// kExitJournalFailed so a supervisor sees that this run's last records may not be durable.
#pragma once

#include <csignal>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "app/capital_connection.hpp"
#include "app/config.hpp"
#include "app/load_client.hpp"
#include "app/persistence.hpp"
#include "engine/agent_runner.hpp"
#include "engine/engine.hpp"
#include "feeds/sim/random_walk_feed.hpp"
#include "gateway/capital/capital_venue.hpp"
#include "gateway/paper/paper_venue.hpp"

namespace qt {

// The exit code of a run that ended (signal or duration) after its journal had failed.
inline constexpr int kExitJournalFailed = 3;

struct RunOptions {
  double duration_seconds = 0;  // 0 = until SIGINT/SIGTERM
};

// Where the engine's orders and quotes go and come from.
struct VenueSelection {
  std::vector<std::string> environment;  // "NAME=value", for the CAPITAL_* settings
  bool live = false;                     // --live
  // The blocked stop signals: start-up waits for a broker that refuses for now (request budget
  // spent, 429, unreachable) and a stop signal ends that wait (build() returns Cancelled).
  // Null: the wait is a plain sleep.
  const sigset_t* stop_signals = nullptr;
};

// Summary of a finished run, for the exit report and tests.
struct RunSummary {
  uint64_t quotes = 0;
  uint64_t orders_received = 0;
  uint64_t orders_sent = 0;
  uint64_t fills = 0;
  uint64_t rejects = 0;
  uint64_t live_orders_at_exit = 0;
  MoneyUnits total_pnl = 0;
  bool journal_failed = false;  // the process exits with kExitJournalFailed
};

class TradingApp {
 public:
  explicit TradingApp(AppConfig config);
  ~TradingApp();

  absl::Status build(const VenueSelection& venue = {});
  // Blocks until `options.duration_seconds` pass or a signal in `stop_signals` arrives.
  absl::StatusOr<RunSummary> run(const RunOptions& options, const sigset_t& stop_signals);

  Engine& engine() { return *engine_; }
  ThreadingMode threading_mode() const { return threading_mode_; }

 private:
  std::string status_line(double elapsed_seconds, double interval_seconds);
  void print_summary(const RunSummary& summary, double elapsed_seconds);
  void shutdown();
  // After the threads stopped: the orders still live or in doubt, by id (log lines).
  void report_left_undone();
  absl::Status build_capital(const VenueSelection& venue);
  // `call()` (a StatusOr) again and again while the broker refuses for now, waiting longer each
  // time (1 s doubling to 30 s) and saying why; Cancelled when a stop signal comes meanwhile.
  template <typename Call>
  auto patiently(std::string_view what, const sigset_t* stop_signals, Call&& call)
      -> decltype(call());
  absl::Status build_paper();
  absl::Status open_persistence();
  void add_journal_runner(Doorbell& engine_bell);
  bool capital_mode() const { return capital_ != nullptr; }

  AppConfig config_;
  std::vector<InstrumentSpec> instruments_;
  ThreadingMode threading_mode_ = ThreadingMode::kShared;

  std::unique_ptr<QuoteRing> engine_quotes_;
  std::unique_ptr<QuoteRing> venue_quotes_;
  std::unique_ptr<VenueRequestRing> venue_requests_;
  std::unique_ptr<VenueEventRing> venue_events_;
  EngineOptions engine_options_;
  std::unique_ptr<Engine> engine_;
  std::unique_ptr<RandomWalkFeed> feed_;
  std::unique_ptr<PaperVenue> venue_;
  // Capital.com mode.
  std::unique_ptr<CapitalConnection> capital_;
  std::unique_ptr<capital::CapitalVenue> capital_venue_;
  std::unique_ptr<capital::CapitalStreamClient> stream_;
  std::vector<std::unique_ptr<Strategy>> strategies_;
  std::unique_ptr<LoadClient> load_client_;
  std::unique_ptr<EnginePersistence> persistence_;
  std::vector<std::unique_ptr<AgentRunner>> runners_;
  Doorbell* engine_bell_ = nullptr;  // the engine's thread: rung for work no ring announces

  // Previous status sample, for per-interval rates and percentiles.
  uint64_t last_quotes_ = 0;
  LatencyHistogram::Snapshot last_quote_latency_;
  LatencyHistogram::Snapshot last_order_latency_;
};

// Translations from configuration to engine types (exposed for tests).
std::vector<InstrumentSpec> instruments_from_config(const AppConfig& config);
// `environment` with the [capital] keys of the configuration standing in for CAPITAL_* variables
// it leaves unset: what the broker connection is configured from.
std::vector<std::string> broker_environment(const AppConfig& config,
                                            std::vector<std::string> environment);
RiskLimits risk_limits_from_config(const AppConfig& config,
                                   const std::vector<InstrumentSpec>& instruments);

}  // namespace qt
