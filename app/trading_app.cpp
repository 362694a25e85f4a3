#include "app/trading_app.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <cmath>
#include <cstring>
#include <thread>

#include "absl/strings/str_cat.h"
#include "app/logging.hpp"
#include "engine/clock.hpp"
#include "engine/strategies/moving_average_crossover.hpp"
#include "engine/strategies/simple_quoter.hpp"

namespace qt {

namespace {

// A stage thread's runner settings from its [threads.<stage>] config.
RunnerSpec spec(const char* thread_name, const ThreadConfig& thread) {
  return RunnerSpec{thread_name, thread.cpu, thread.wait, thread.spin_ns};
}

TradingState to_trading_state(const std::string& text) {
  if (text == "reducing") return TradingState::kReducing;
  if (text == "halted") return TradingState::kHalted;
  return TradingState::kActive;
}

std::string format_us(int64_t ns) {
  return fmt::format("{:.1f}us", static_cast<double>(ns) / 1e3);
}

}  // namespace

std::vector<InstrumentSpec> instruments_from_config(const AppConfig& config) {
  std::vector<InstrumentSpec> specs;
  for (std::size_t i = 0; i < config.instruments.size(); ++i) {
    const InstrumentConfig& c = config.instruments[i];
    InstrumentSpec spec =
        make_instrument(static_cast<InstrumentId>(i), c.symbol, c.price_decimals, c.size_decimals,
                        c.tick, c.min_size, c.size_increment, c.max_size);
    spec.contract_multiplier = std::max<int64_t>(1, std::llround(c.contract_multiplier));
    specs.push_back(spec);
  }
  return specs;
}

RiskLimits risk_limits_from_config(const AppConfig& config,
                                   const std::vector<InstrumentSpec>& instruments) {
  RiskLimits limits;
  limits.max_order_notional =
      static_cast<MoneyUnits>(std::llround(config.max_order_notional * kMoneyScale));
  limits.price_collar_bps = std::llround(config.price_collar_bps);
  limits.max_orders_per_second = config.max_orders_per_second;
  for (std::size_t i = 0; i < instruments.size(); ++i) {
    limits.instruments[i].max_order_size =
        instruments[i].size_from_double(config.instruments[i].max_order_size);
    limits.instruments[i].max_position =
        instruments[i].size_from_double(config.instruments[i].max_position);
  }
  return limits;
}

TradingApp::TradingApp(AppConfig config) : config_(std::move(config)) {}

TradingApp::~TradingApp() {
  for (auto& runner : runners_) runner->stop();
}

absl::Status TradingApp::build(const VenueSelection& venue) {
  engine_quotes_ = std::make_unique<QuoteRing>();
  venue_quotes_ = std::make_unique<QuoteRing>();
  venue_requests_ = std::make_unique<VenueRequestRing>();
  venue_events_ = std::make_unique<VenueEventRing>();

  if (config_.venue_kind == "capital") {
    if (absl::Status status = build_capital(venue); !status.ok()) return status;
  } else {
    instruments_ = instruments_from_config(config_);
  }
  if (instruments_.size() > kMaxInstruments) {
    return absl::InvalidArgumentError(
        absl::StrCat("instruments: at most ", kMaxInstruments, " are supported"));
  }

  EngineOptions options;
  options.instruments = instruments_;
  options.risk = risk_limits_from_config(config_, instruments_);
  options.initial_trading_state = to_trading_state(config_.trading_state);
  options.cancel_on_shutdown = config_.cancel_on_shutdown;
  options.reconcile_grace_ns = config_.reconcile_grace_ms * 1'000'000;
  engine_options_ = options;  // the snapshotter's shadow engine is built alike
  engine_ = std::make_unique<Engine>(std::move(options), *engine_quotes_, *venue_requests_,
                                     *venue_events_);

  for (const StrategyConfig& s : config_.strategies) {
    if (s.type == "ma_crossover") {
      strategies_.push_back(std::make_unique<MovingAverageCrossover>(
          MovingAverageCrossover::Params{s.instrument, s.size, s.fast_window, s.slow_window}));
    } else if (s.type == "quoter") {
      strategies_.push_back(std::make_unique<SimpleQuoter>(SimpleQuoter::Params{
          s.instrument, s.size, s.quote_offset_bps, s.max_position, s.timer_ms}));
    } else {
      return absl::InvalidArgumentError(absl::StrCat("strategies: unknown type '", s.type, "'"));
    }
    engine_->add_strategy(*strategies_.back());
  }

  if (config_.load_orders_per_second > 0) {
    LoadClientOptions load;
    load.orders_per_second = config_.load_orders_per_second;
    load.ack_log = config_.load_ack_log;
    absl::StatusOr<std::unique_ptr<LoadClient>> client = LoadClient::create(load, *engine_);
    if (!client.ok()) return client.status();
    load_client_ = *std::move(client);
  }
  if (absl::Status status = open_persistence(); !status.ok()) return status;

  threading_mode_ = resolve_threading_mode(config_.threading, std::thread::hardware_concurrency());
  if (capital_mode()) {
    std::vector<capital::VenueInstrument> venue_instruments;
    for (const InstrumentSpec& instrument : instruments_) {
      venue_instruments.push_back({std::string(instrument.name()), instrument});
    }
    capital::CapitalVenueOptions venue_options;
    venue_options.unknown_absence_after_ms = config_.unknown_resolution_ms;
    venue_options.reconcile_interval_ns = config_.reconcile_interval_ms * 1'000'000;
    venue_options.orphan_working_orders =
        config_.orphan_working_orders == "cancel"  ? capital::CapitalVenueOptions::Orphans::kCancel
        : config_.orphan_working_orders == "leave" ? capital::CapitalVenueOptions::Orphans::kLeave
                                                   : capital::CapitalVenueOptions::Orphans::kAdopt;
    capital_venue_ =
        std::make_unique<capital::CapitalVenue>(capital_->rest(), std::move(venue_instruments),
                                                *venue_requests_, *venue_events_, venue_options);
    runners_ = build_runners(threading_mode_,
                             {{engine_.get(), spec("qt-engine", config_.engine_thread)},
                              {capital_venue_.get(), spec("qt-venue", config_.venue_thread)}});
    Doorbell& engine_bell = runners_.front()->doorbell();
    engine_bell_ = &engine_bell;
    capital_venue_->set_own_doorbell(&runners_.back()->doorbell());
    if (threading_mode_ == ThreadingMode::kDedicated) {
      engine_->set_venue_doorbell(&runners_[1]->doorbell());
      capital_venue_->set_engine_doorbell(&engine_bell);
    }
    add_journal_runner(engine_bell);
    // The stream thread is always another thread: it rings whichever thread runs the engine.
    std::vector<capital::EpicInstrument> subscriptions;
    for (const InstrumentSpec& instrument : instruments_) {
      subscriptions.push_back({std::string(instrument.name()), instrument});
    }
    absl::StatusOr<std::unique_ptr<capital::CapitalStreamClient>> stream =
        capital_->make_stream(std::move(subscriptions), *engine_quotes_, &engine_bell,
                              [venue = capital_venue_.get()] { venue->request_snapshot(); });
    if (!stream.ok()) return stream.status();
    stream_ = std::move(*stream);
    return absl::OkStatus();
  }
  return build_paper();
}

namespace {

// What a broker says "not now" with: its request budget (client-side limiter or 429), a network
// that does not reach it, a timeout. Anything else (wrong credentials, unknown epic) is final.
bool refused_for_now(const absl::Status& status) {
  return absl::IsResourceExhausted(status) || absl::IsUnavailable(status) ||
         absl::IsDeadlineExceeded(status);
}

// Sleeps `delay`; true when a stop signal came instead (taken, so the process stops).
bool stop_signal_during(const sigset_t* stop_signals, std::chrono::seconds delay) {
  if (stop_signals == nullptr) {
    std::this_thread::sleep_for(delay);
    return false;
  }
  const timespec timeout{static_cast<time_t>(delay.count()), 0};
  return ::sigtimedwait(stop_signals, nullptr, &timeout) > 0;
}

}  // namespace

template <typename Call>
auto TradingApp::patiently(std::string_view what, const sigset_t* stop_signals, Call&& call)
    -> decltype(call()) {
  // Exiting here would have a supervisor (systemd, Kubernetes) restart the engine, which logs in
  // again and spends more of the budget that is short: wait it out instead, not ready meanwhile.
  std::chrono::seconds delay{1};
  while (true) {
    auto result = call();
    if (result.ok() || !refused_for_now(result.status())) return result;
    spdlog::warn("start-up: {}: the broker refuses for now ({}); not ready, trying again in {} s",
                 what, std::string(result.status().message()), delay.count());
    if (stop_signal_during(stop_signals, delay)) {
      return absl::CancelledError(
          fmt::format("stopped by a signal while waiting for the broker ({})", what));
    }
    delay = std::min(delay * 2, std::chrono::seconds(30));
  }
}

std::vector<std::string> broker_environment(const AppConfig& config,
                                            std::vector<std::string> environment) {
  auto fallback = [&environment](const char* name, const std::string& value) {
    if (value.empty()) return;
    const std::string prefix = std::string(name) + "=";
    for (const std::string& entry : environment) {
      if (entry.rfind(prefix, 0) == 0) return;
    }
    environment.push_back(prefix + value);
  };
  fallback("CAPITAL_API_KEY", config.capital_api_key);
  fallback("CAPITAL_IDENTIFIER", config.capital_identifier);
  fallback("CAPITAL_PASSWORD", config.capital_password);
  return environment;
}

absl::Status TradingApp::build_capital(const VenueSelection& venue) {
  const std::vector<std::string> environment = broker_environment(config_, venue.environment);
  absl::StatusOr<std::unique_ptr<CapitalConnection>> connection = CapitalConnection::open(
      environment, venue.live, config_.feed_seed, std::min(config_.quotes_per_second, 200));
  if (!connection.ok()) return connection.status();
  capital_ = std::move(*connection);
  capital::CapitalRestClient& rest = capital_->rest();
  absl::StatusOr<capital::SessionCreateResponse> session =
      patiently("login", venue.stop_signals, [&rest] { return rest.login(); });
  if (!session.ok()) return session.status();
  spdlog::info("logged in to {}: account {}", capital_->description(), session->current_account_id);
  // The broker's dealing rules, not the config, define each instrument's scales and sizes.
  for (std::size_t i = 0; i < config_.instruments.size(); ++i) {
    const std::string& epic = config_.instruments[i].symbol;
    absl::StatusOr<InstrumentSpec> spec =
        patiently(fmt::format("dealing rules of {}", epic), venue.stop_signals,
                  [&] { return rest.instrument_spec(epic, static_cast<InstrumentId>(i)); });
    if (!spec.ok()) {
      return absl::Status(spec.status().code(), absl::StrCat("instrument ", epic, ": ",
                                                             std::string(spec.status().message())));
    }
    instruments_.push_back(*spec);
  }
  rest.start_keepalive();
  return absl::OkStatus();
}

absl::Status TradingApp::build_paper() {
  std::vector<RandomWalkParams> walk;
  for (const InstrumentConfig& c : config_.instruments) {
    walk.push_back({c.initial_price, c.spread, c.volatility_bps});
  }
  feed_ = std::make_unique<RandomWalkFeed>(instruments_, walk, config_.feed_seed,
                                           config_.quotes_per_second);
  venue_ = std::make_unique<PaperVenue>(*venue_requests_, *venue_events_, venue_quotes_.get());
  runners_ =
      build_runners(threading_mode_, {{feed_.get(), spec("qt-feed", config_.feed_thread)},
                                      {engine_.get(), spec("qt-engine", config_.engine_thread)},
                                      {venue_.get(), spec("qt-venue", config_.venue_thread)}});
  // Producers ring the consumer's thread only when it is another thread.
  if (threading_mode_ == ThreadingMode::kDedicated) {
    Doorbell& engine_bell = runners_[1]->doorbell();
    Doorbell& venue_bell = runners_[2]->doorbell();
    engine_bell_ = &engine_bell;
    feed_->add_output({engine_quotes_.get(), &engine_bell});
    feed_->add_output({venue_quotes_.get(), &venue_bell});
    engine_->set_venue_doorbell(&venue_bell);
    venue_->set_engine_doorbell(&engine_bell);
    add_journal_runner(engine_bell);
  } else {
    feed_->add_output({engine_quotes_.get(), nullptr});
    feed_->add_output({venue_quotes_.get(), nullptr});
    engine_bell_ = &runners_.front()->doorbell();
    add_journal_runner(*engine_bell_);
  }
  return absl::OkStatus();
}

absl::Status TradingApp::open_persistence() {
  PersistenceOptions options;
  options.data_dir = config_.data_dir;
  options.ephemeral = capital_mode() && capital_->simulated();
  options.journal.segment_size = static_cast<uint64_t>(config_.segment_size_mib) << 20;
  absl::StatusOr<persist::Durability> durability =
      persist::durability_from_string(config_.durability);
  if (!durability.ok()) return durability.status();
  options.journal.durability = *durability;
  options.journal.group_commit_interval_ns = int64_t{config_.group_commit_us} * 1000;
  options.journal.group_commit_max_records = static_cast<uint32_t>(config_.group_commit_records);
  options.snapshots.interval =
      std::chrono::nanoseconds(static_cast<int64_t>(config_.snapshot_interval_seconds * 1e9));
  options.snapshots.keep = static_cast<std::size_t>(config_.snapshot_keep);
  options.snapshots.segment_retention =
      config_.segment_retention_hours > 0
          ? std::optional<std::chrono::nanoseconds>(std::chrono::nanoseconds(
                static_cast<int64_t>(config_.segment_retention_hours * 3600e9)))
          : std::nullopt;
  options.snapshots.archive_segments = config_.archive_segments;
  absl::StatusOr<std::unique_ptr<EnginePersistence>> persistence =
      EnginePersistence::open(std::move(options));
  if (!persistence.ok()) return persistence.status();
  persistence_ = *std::move(persistence);
  absl::StatusOr<RecoveryReport> recovered =
      persistence_->recover_into(*engine_, engine_options_, nullptr);
  if (!recovered.ok()) {
    return absl::Status(recovered.status().code(),
                        absl::StrCat("recovery from ", persistence_->data_dir().string(),
                                     " failed: ", recovered.status().message()));
  }
  if (recovered->torn_tail_truncated) {
    spdlog::warn("journal: torn tail removed: {}", recovered->torn_tail);
  }
  spdlog::info(
      "journal: {} in {} ({}); recovered {} in {:.3f}s ({} + {} records replayed), continuing "
      "at sequence {}; {} live orders handed to the venue for reconciliation (new orders are "
      "refused until the venue has reconciled)",
      config_.durability, persistence_->data_dir().string(),
      capital_mode() && capital_->simulated() ? "temporary, for the built-in simulator"
                                              : "persistent",
      recovered->last_sequence == 0 ? "an empty journal" : "the engine's state", recovered->seconds,
      recovered->snapshot.empty() ? std::string("no snapshot")
                                  : fmt::format("snapshot {}", recovered->snapshot),
      recovered->records_replayed, recovered->last_sequence + 1, recovered->live_orders);
  return absl::OkStatus();
}

void TradingApp::add_journal_runner(Doorbell& engine_bell) {
  // The journal always gets a thread of its own, whatever the threading mode: an fdatasync
  // blocks for ~0.25 ms (far more on a busy disk), which must never stall the engine's thread.
  // It parks between commits; the engine rings it after journaling, it rings the engine when
  // the durable sequence moves. Pinning follows the venue thread's (off the engine's core).
  std::vector<std::unique_ptr<AgentRunner>> journal =
      build_runners(ThreadingMode::kDedicated,
                    {{&persistence_->agent(),
                      RunnerSpec{"qt-journal", config_.venue_thread.cpu, WaitMode::kPark}}});
  persistence_->set_journal_doorbell(&journal.front()->doorbell());
  persistence_->set_engine_doorbell(&engine_bell);
  // Last in the list: stopped after the engine and the venue, so it journals their final
  // records, then commits and seals.
  runners_.push_back(std::move(journal.front()));
}

std::string TradingApp::status_line(double elapsed_seconds, double interval_seconds) {
  const EngineStats& stats = engine_->stats();
  const uint64_t quotes = stats.quotes.load(std::memory_order_relaxed);
  const auto quotes_per_second =
      static_cast<uint64_t>(static_cast<double>(quotes - last_quotes_) / interval_seconds);
  last_quotes_ = quotes;
  const LatencyHistogram::Snapshot quote_now = stats.quote_latency.snapshot();
  const LatencyHistogram::Snapshot order_now = stats.order_latency.snapshot();
  const LatencyHistogram::Snapshot quote_interval = quote_now.minus(last_quote_latency_);
  const LatencyHistogram::Snapshot order_interval = order_now.minus(last_order_latency_);
  last_quote_latency_ = quote_now;
  last_order_latency_ = order_now;

  // Readiness first: while RECONCILING every new order is refused (not_ready), after a journal
  // failure for good (journal_failed).
  std::string readiness;
  const EngineReadiness state = stats.readiness.load(std::memory_order_acquire);
  const persist::JournalFailure* failure = persistence_->journal_failure();
  if (failure != nullptr || state == EngineReadiness::kJournalFailed) {
    readiness = fmt::format(
        "engine JOURNAL FAILED: {} (new orders refused, cancels sent unjournaled, {} events not "
        "journaled)",
        failure != nullptr ? persist::describe(*failure) : std::string("see the log"),
        stats.unjournaled_events.load(std::memory_order_relaxed));
  } else if (state == EngineReadiness::kReady) {
    readiness = "engine READY";
  } else {
    readiness = fmt::format("engine RECONCILING ({} recovered orders, {} not yet handed to venue)",
                            stats.recovered_orders.load(std::memory_order_relaxed),
                            engine_->recovered_orders_pending());
  }
  std::string line =
      fmt::format("t={:.0f}s {} quotes/s={} orders={} fills={} live={}", elapsed_seconds, readiness,
                  quotes_per_second, stats.orders_sent.load(std::memory_order_relaxed),
                  stats.fills.load(std::memory_order_relaxed),
                  stats.live_orders.load(std::memory_order_relaxed));
  std::string rejects;
  for (std::size_t r = 1; r < kRejectReasonCount; ++r) {
    const uint64_t n = stats.rejects[r].load(std::memory_order_relaxed);
    if (n != 0) {
      rejects += fmt::format("{}{}={}", rejects.empty() ? "" : ",",
                             to_string(static_cast<RejectReason>(r)), n);
    }
  }
  line += fmt::format(" rejects={{{}}}", rejects);
  if (capital_mode()) {
    const capital::StreamStats stream = stream_->stats();
    const capital::CapitalVenueStats& venue = capital_venue_->stats();
    line += fmt::format(
        " | stream {} reconnects={} | venue deals={} unknown={} paced={} start-up {}",
        stream.ready ? "ready" : "NOT READY", stream.reconnects, venue.deals_submitted.load(),
        capital_venue_->unknown_orders(), venue.paced_orders.load(),
        venue.startup_reconciled.load(std::memory_order_relaxed)
            ? fmt::format("reconciled ({} left Unknown)", venue.startup_left_unknown.load())
            : std::string("reconciling"));
    // Books against the broker's: how long since every instrument was last seen equal, and
    // what reconciliation had to settle (adjustments are alerts: README, "Crash recovery and
    // reconciliation").
    const int64_t equal_ms = stats.books_equal_epoch_ms.load(std::memory_order_relaxed);
    const int64_t ago_ms = wall_epoch_ms() - equal_ms;
    line += fmt::format(" | books {} settled={} adjusted={}{}",
                        equal_ms == 0 ? std::string("not compared yet")
                                      : fmt::format("equal {:.1f}s ago", ago_ms / 1000.0),
                        stats.orders_reconciled.load(std::memory_order_relaxed),
                        stats.position_adjustments.load(std::memory_order_relaxed),
                        stats.orphans_adopted.load(std::memory_order_relaxed) != 0
                            ? fmt::format(" adopted={}", stats.orphans_adopted.load())
                            : std::string());
  }
  line += " | " + persistence_->status();
  line += fmt::format(" | log lines dropped={}", log_lines_dropped());
  for (const InstrumentSpec& spec : instruments_) {
    const EngineStats::InstrumentFigures& f = stats.instruments[spec.id];
    const MoneyUnits realized = f.realized_pnl.load(std::memory_order_relaxed);
    const MoneyUnits unrealized = f.unrealized_pnl.load(std::memory_order_relaxed);
    line += fmt::format(" | {} pos={:g} pnl={:.2f}", spec.name(),
                        spec.size_to_double(f.net_size.load(std::memory_order_relaxed)),
                        spec.money_to_double(realized + unrealized));
  }
  line += fmt::format(
      " | quote->engine p50={} p99={} order->venue p50={} p99={}",
      format_us(quote_interval.percentile(0.5)), format_us(quote_interval.percentile(0.99)),
      format_us(order_interval.percentile(0.5)), format_us(order_interval.percentile(0.99)));
  return line;
}

void TradingApp::shutdown() {
  // Let the engine stop strategies and cancel, let the venue answer the cancels, then stop the
  // market data and every thread with the rings drained.
  if (load_client_) load_client_->stop();
  engine_->request_shutdown();
  engine_bell_->ring();
  const int64_t drain_ns = capital_mode() ? 10'000'000'000LL : 3'000'000'000LL;
  const int64_t deadline = now_ns() + drain_ns;
  bool drained = false;
  while (!drained && now_ns() < deadline) {
    drained = engine_->shutdown_done() && venue_requests_->empty_approx() &&
              venue_events_->empty_approx() &&
              (!config_.cancel_on_shutdown ||
               engine_->stats().live_orders.load(std::memory_order_relaxed) == 0);
    if (!drained) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  if (capital_mode()) {
    // Stopping the venue joins its threads, and with the broker unreachable each waits out
    // API_TIMEOUT (30 s) per request: past the drain nothing they could learn is acted on.
    if (!drained) {
      spdlog::warn("shutdown: not drained within {} s; abandoning the requests still in flight",
                   drain_ns / 1'000'000'000);
    }
    capital_->rest().abort_requests();
  }
  if (stream_) stream_->stop();
  persistence_->stop_snapshots();
  for (auto& runner : runners_) runner->stop();
  if (capital_mode()) capital_->rest().stop_keepalive();
  report_left_undone();
}

void TradingApp::report_left_undone() {
  constexpr std::size_t kMaxListed = 50;
  const EngineState state = engine_->capture_state();
  std::size_t live = 0;
  std::size_t not_canceled = 0;
  std::size_t in_doubt = 0;
  for (const Order& order : state.orders) {
    if (!order.is_live()) continue;
    ++live;
    std::string_view what;
    if (order.state == OrderState::kUnknown) {
      ++in_doubt;
      what = "in doubt: sent, outcome unknown (it may be working at the venue)";
    } else if (order.state == OrderState::kPendingNew) {
      ++in_doubt;  // a place may wait in the venue behind one in doubt, never sent
      what = "in doubt: no answer by exit (it may not have been sent, or be working at the venue)";
    } else if (order.state == OrderState::kPendingCancel || order.cancel_wanted) {
      ++not_canceled;
      what = "cancel not confirmed by the venue (it may still be working there)";
    } else if (config_.cancel_on_shutdown) {
      ++not_canceled;
      what = "working at the venue: its cancel was refused or not sent";
    } else {
      what = "working at the venue (run.cancel_on_shutdown is off)";
    }
    if (live > kMaxListed) continue;
    const InstrumentSpec& spec = instruments_[order.instrument];
    const std::string_view venue_id(
        order.venue_order_id.data(),
        ::strnlen(order.venue_order_id.data(), order.venue_order_id.size()));
    spdlog::warn(
        "shutdown: left undone: order {} {} {} {:g}{} {}{}: {}", order.id, spec.name(),
        to_string(order.side), spec.size_to_double(order.leaves()),
        order.type == OrderType::kLimit
            ? fmt::format(" @ {:.{}f}", spec.price_to_double(order.limit_price),
                          static_cast<int>(spec.price_decimals))
            : std::string(),
        to_string(order.state),
        venue_id.empty()
            ? std::string()
            : fmt::format(" ({} {})", order.venue_id_is_reference ? "reference" : "venue id",
                          venue_id),
        what);
  }
  if (live > kMaxListed) spdlog::warn("shutdown: left undone: ... and {} more", live - kMaxListed);
  if (live > 0) {
    spdlog::warn(
        "shutdown: {} order(s) live or in doubt at exit ({} not canceled, {} in doubt): check "
        "them at the venue",
        live, not_canceled, in_doubt);
  }
}

absl::StatusOr<RunSummary> TradingApp::run(const RunOptions& options,
                                           const sigset_t& stop_signals) {
  spdlog::info(
      "engine: {} instruments, {} strategies, threading={} ({} threads), venue={}, "
      "feed={}",
      instruments_.size(), strategies_.size(),
      threading_mode_ == ThreadingMode::kDedicated ? "dedicated" : "shared", runners_.size(),
      capital_mode() ? capital_->description() : "paper",
      capital_mode() ? "Capital.com stream" : "random walk");
  for (auto& runner : runners_) {
    if (absl::Status status = runner->start(); !status.ok()) return status;
  }
  if (stream_) stream_->start();
  if (load_client_) {
    load_client_->set_engine_doorbell(engine_bell_);
    load_client_->start();
  }
  if (absl::Status status = persistence_->start_snapshots(); !status.ok()) return status;
  const int64_t started = now_ns();
  const double interval = config_.status_interval_seconds;
  int64_t next_status = started + static_cast<int64_t>(interval * 1e9);
  const int64_t end = options.duration_seconds > 0
                          ? started + static_cast<int64_t>(options.duration_seconds * 1e9)
                          : INT64_MAX;
  while (true) {
    const int64_t now = now_ns();
    if (now >= end) break;
    const int64_t wake = std::min(next_status, end);
    timespec timeout{static_cast<time_t>((wake - now) / 1'000'000'000),
                     static_cast<long>((wake - now) % 1'000'000'000)};
    const int signal = ::sigtimedwait(&stop_signals, nullptr, &timeout);
    if (signal > 0) {
      spdlog::info("received {}, stopping", signal == SIGINT ? "SIGINT" : "SIGTERM");
      break;
    }
    if (now_ns() >= next_status) {
      const std::string line = status_line(static_cast<double>(now_ns() - started) / 1e9, interval);
      // Loud for as long as it lasts: an alert on error lines sees every interval.
      spdlog::log(
          persistence_->journal_failure() != nullptr ? spdlog::level::err : spdlog::level::info,
          "{}", line);
      next_status += static_cast<int64_t>(interval * 1e9);
    }
  }
  shutdown();
  const double elapsed = static_cast<double>(now_ns() - started) / 1e9;

  const EngineStats& stats = engine_->stats();
  RunSummary summary;
  summary.quotes = stats.quotes.load();
  summary.orders_received = stats.orders_received.load();
  summary.orders_sent = stats.orders_sent.load();
  summary.fills = stats.fills.load();
  for (std::size_t r = 1; r < kRejectReasonCount; ++r) summary.rejects += stats.rejects[r].load();
  summary.live_orders_at_exit = stats.live_orders.load();
  summary.journal_failed = persistence_->journal_failure() != nullptr;
  for (const InstrumentSpec& spec : instruments_) {
    summary.total_pnl += stats.instruments[spec.id].realized_pnl.load() +
                         stats.instruments[spec.id].unrealized_pnl.load();
  }
  print_summary(summary, elapsed);
  return summary;
}

void TradingApp::print_summary(const RunSummary& summary, double elapsed_seconds) {
  const EngineStats& stats = engine_->stats();
  std::string text = fmt::format(
      "summary: ran {:.1f}s, quotes processed={} refused={}, orders received={} sent={} "
      "filled={} canceled={} rejected={}, fills={}, live orders at exit={}, illegal "
      "transitions={}, feed quotes dropped={}, log lines dropped={}",
      elapsed_seconds, summary.quotes, stats.quotes_refused.load(), summary.orders_received,
      summary.orders_sent, stats.filled_orders.load(), stats.canceled_orders.load(),
      summary.rejects, summary.fills, summary.live_orders_at_exit, stats.illegal_transitions.load(),
      feed_ ? feed_->quotes_dropped() : stream_->stats().drops, log_lines_dropped());
  for (const InstrumentSpec& spec : instruments_) {
    const EngineStats::InstrumentFigures& f = stats.instruments[spec.id];
    text += fmt::format("\n  {:<8} net={:g} avg={} realized={:.2f} unrealized={:.2f}", spec.name(),
                        spec.size_to_double(f.net_size.load()),
                        f.net_size.load() == 0
                            ? std::string("-")
                            : fmt::format("{:.{}f}", spec.price_to_double(f.average_price.load()),
                                          static_cast<int>(spec.price_decimals)),
                        spec.money_to_double(f.realized_pnl.load()),
                        spec.money_to_double(f.unrealized_pnl.load()));
  }
  text += fmt::format("\n  total P&L={:.2f}", static_cast<double>(summary.total_pnl) / kMoneyScale);
  if (const persist::JournalFailure* failure = persistence_->journal_failure()) {
    text += fmt::format(
        "\n  JOURNAL FAILED: {}; {} events after it were not journaled (the broker has them: the "
        "next start reconciles)",
        persist::describe(*failure), stats.unjournaled_events.load());
  }
  const LatencyHistogram::Snapshot order = stats.order_latency.snapshot();
  const LatencyHistogram::Snapshot quote = stats.quote_latency.snapshot();
  text += fmt::format(
      "\n  quote->engine latency p50={} p99={} p99.9={}; order->venue latency p50={} p99={} "
      "p99.9={}",
      format_us(quote.percentile(0.5)), format_us(quote.percentile(0.99)),
      format_us(quote.percentile(0.999)), format_us(order.percentile(0.5)),
      format_us(order.percentile(0.99)), format_us(order.percentile(0.999)));
  spdlog::info("{}", text);
}

}  // namespace qt
