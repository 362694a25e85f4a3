// Engine: the single writer of all trading state. One agent, driven by one thread, that drains
// its input rings — quotes from the feed, commands from client-side stages, answers from the
// venue — and for each runs risk, the order state machine, positions and P&L and the strategies'
// callbacks; it emits venue requests and order updates on its output rings.
//
// Guarantees: no locks and no heap allocation after construction (tests/engine_alloc_test.cpp);
// illegal order transitions are counted and logged, never applied; every rejection carries a
// RejectReason. Other threads read EngineStats (relaxed atomics) and may call
// request_shutdown(); everything else is engine-thread only.
//
// With a WriteAheadLog every state change is an EngineEvent written before its effects, and
// nothing leaves before its event is durable; when the log or the output queue is nearly full,
// new orders and cancels are refused (kJournalBusy) and inputs wait: nothing is dropped.
// Strategy callbacks never run inside other engine work: the duty cycle delivers their updates
// between inputs, in order.
// A recovered engine is not ready (new orders refused with kNotReady, strategies not started)
// until the venue has reconciled the recovered orders.
// Journal failure (the log's failed(), seen at the next duty cycle) is for good: readiness
// kJournalFailed, new orders refused (kJournalFailed); an order whose events were not durable
// never reaches the venue and is refused to its client, which had no ack; cancels and the kill
// switch still reach the venue, unjournaled; venue events are applied in memory (counted in
// unjournaled_events), so no input waits on the log. engine/README.md explains each rule.
//
// Where the code is: engine.cpp (set-up, the duty cycle, quotes, strategies), order_flow.cpp
// (orders, cancels, control, venue events), outputs.cpp (write-ahead and releasing outputs),
// recovery.cpp (replay, state capture/restore, the start-up hand-over to the venue),
// strategy_context.cpp (the strategy API).
#pragma once

#include <array>
#include <atomic>
#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "engine/agent.hpp"
#include "engine/engine_events.hpp"
#include "engine/engine_stats.hpp"
#include "engine/idle_strategy.hpp"
#include "engine/instrument.hpp"
#include "engine/order_store.hpp"
#include "engine/output_queue.hpp"
#include "engine/owned_deals.hpp"
#include "engine/position.hpp"
#include "engine/rings.hpp"
#include "engine/risk.hpp"
#include "engine/strategy.hpp"

namespace qt {

struct EngineOptions {
  std::vector<InstrumentSpec> instruments;
  RiskLimits risk;
  TradingState initial_trading_state = TradingState::kActive;
  std::size_t order_capacity = 1 << 16;
  bool cancel_on_shutdown = true;
  // A difference between the engine's and the broker's position on an instrument, with nothing
  // in flight there, must last this long (and two reports) before it is settled: answers the
  // venue has not delivered yet explain a passing one. At start-up it is settled at once.
  int64_t reconcile_grace_ns = 3'000'000'000;
};

// The engine state a snapshot carries. Plain data; building it allocates (never on the engine
// thread of a running engine: snapshots are taken from a replaying shadow engine).
struct EngineState {
  uint64_t journal_sequence = 0;  // the last event this state includes
  OrderId last_order_id = 0;
  std::vector<Order> orders;             // every order still in the store, oldest first
  std::vector<Position> positions;       // one per instrument
  std::vector<SizeUnits> open_buy_size;  // per instrument: live buy size not yet filled
  std::vector<SizeUnits> open_sell_size;
  TradingState trading_state = TradingState::kActive;
  bool kill_switch = false;
  // The broker's deals the journal accounts for (engine/owned_deals.hpp), oldest first, and
  // from when on the list is complete.
  std::vector<OwnedDeal> owned_deals;
  int64_t owned_deals_complete_since_epoch_ms = 0;
};

// A client-side producer/consumer pair (FIX session host, HTTP host, benchmark driver).
struct ClientPort {
  CommandRing* commands = nullptr;       // client → engine
  OrderUpdateRing* updates = nullptr;    // engine → client (may be null: updates dropped)
  Doorbell* updates_doorbell = nullptr;  // rung after pushing an update
  SourceId source = 0;
};

class Engine final : public Agent {
 public:
  static constexpr SourceId kEngineSource = 0;  // the engine's own actions (kill switch, stop)
  static constexpr std::size_t kMaxDrainBatch = 256;
  static constexpr std::size_t kOutputCapacity = 16384;

  Engine(EngineOptions options, QuoteRing& quotes, VenueRequestRing& venue_requests,
         VenueEventRing& venue_events);
  ~Engine() override;

  // ---- Set-up, before the engine thread starts.
  SourceId add_strategy(Strategy& strategy);
  SourceId add_client_port(ClientPort port);  // returns the SourceId assigned to the port
  void set_venue_doorbell(Doorbell* doorbell) { venue_doorbell_ = doorbell; }
  // Writes ahead from now on; the next event carries `next_sequence` (last recovered + 1).
  void set_write_ahead_log(WriteAheadLog* log, uint64_t next_sequence);

  // ---- Recovery: the caller's thread, before on_start() (recovery.cpp).
  // Applies one event written by an earlier run through the code that produced it; its sequence
  // must follow journal_sequence(). An inconsistent event (an order id that does not follow, an
  // instrument this configuration lacks) is DataLoss naming the sequence.
  absl::Status replay(const EngineEvent& event);
  absl::Status restore_state(const EngineState& state);  // a fresh engine only
  EngineState capture_state() const;
  uint64_t journal_sequence() const { return journal_sequence_; }  // last written or replayed
  // After recovery: the engine hands every recovered live order to the venue (kReconcile, a
  // few per duty cycle as the log has room; sent but never answered → Unknown first), then
  // kStartupReconcile, and is not ready until the venue answers kStartupReconciled.
  void reconcile_recovered_orders();
  std::size_t recovered_orders_pending() const {
    return recovery_pending_.load(std::memory_order_relaxed);
  }

  // ---- Agent.
  std::string_view name() const override { return "engine"; }
  void on_start() override;
  int do_work() override;
  // The next strategy timer; soon (a retry) while outputs or recovered orders wait for room.
  int64_t next_deadline_ns() const override;
  void on_close() override;

  // Any thread: ask the engine to stop its strategies and (if configured) cancel open orders.
  void request_shutdown() { shutdown_requested_.store(true, std::memory_order_release); }
  bool shutdown_done() const { return shutdown_done_.load(std::memory_order_acquire); }
  const EngineStats& stats() const { return *stats_; }
  const std::vector<InstrumentSpec>& instruments() const { return instruments_; }
  // Engine thread (others read stats().readiness).
  EngineReadiness readiness() const {
    return journal_failed_ ? EngineReadiness::kJournalFailed : readiness_;
  }
  bool ready() const { return readiness() == EngineReadiness::kReady; }

  // ---- Engine thread only (strategies reach these through StrategyContext).
  SubmitResult submit(const NewOrder& order);
  RejectReason cancel(SourceId source, OrderId order_id);
  void cancel_all(SourceId source_filter, bool all_sources);
  void engage_kill_switch();
  void set_trading_state(TradingState state);
  const Position& position(InstrumentId id) const { return positions_[id]; }
  const Quote* last_quote(InstrumentId id) const {
    return id < instruments_.size() && has_quote_[id] ? &last_quotes_[id] : nullptr;
  }
  const Order* find_order(OrderId id) const { return orders_.find(id); }
  const InstrumentSpec* find_instrument(std::string_view symbol) const;
  const RiskCheck& risk() const { return risk_; }
  StrategyContext& context_of(SourceId source);
  bool strategies_stopped() const { return strategies_stopped_; }
  bool strategies_started() const { return strategies_started_; }

 private:
  struct StrategySlot {
    Strategy* strategy;
    std::unique_ptr<StrategyContext> context;
  };
  // engine.cpp
  void on_quote(const Quote& quote);
  void on_command(SourceId source, const ClientCommand& command);
  void run_timers(int64_t now);
  void begin_shutdown();
  void start_strategies();
  void deliver_update(const OrderUpdate& update);
  bool is_strategy(SourceId source) const {
    return source < strategy_of_source_.size() && strategy_of_source_[source] >= 0;
  }
  void publish_instrument(InstrumentId id);

  // order_flow.cpp
  Order* admit(const NewOrder& request, int64_t epoch_ms);  // submit and replay share it
  // Its kOrderReceived event, stamped with the wall clock `admitted_ns` that admit() used.
  void write_order_received(const Order& order, const NewOrder& request, int64_t admitted_ns);
  void reject(const NewOrder& order, RejectReason reason);
  void apply_cancel_request(Order& order);
  // A cancel asked for while `order` was in doubt or unacknowledged, now that it is live.
  void send_wanted_cancel(Order& order);
  void apply_control(const ControlCommand& command);
  void on_venue_event(const VenueEvent& event);
  void release_exposure(const Order& order, SizeUnits size);
  void publish_update(const Order& order, RejectReason reason, PriceUnits fill_price,
                      SizeUnits fill_size);

  // outputs.cpp
  bool writing_ahead() const { return log_ != nullptr && !replaying_; }
  void on_journal_failed();
  // After a log failure, for an output whose event was not durable.
  bool leaves_unjournaled(const VenueRequest& request);
  bool delivered_unjournaled(const OrderUpdate& update) const;
  // Room for `events` more write-ahead events and as many outputs (without a log: outputs and
  // one venue request).
  // Asks the producer sides (cached views), never size_approx(): that would read the consumer's
  // cache line on every order.
  bool has_room(std::size_t events) {
    if (outputs_.room() < events) return false;
    if (log_ == nullptr) return venue_requests_.producer_room(1) >= 1;
    return journal_failed_ || log_->room(events) >= events;  // failed: nothing is written ahead
  }
  std::size_t input_budget();  // inputs one duty cycle may take without overflowing
  // Assigns the next sequence and writes the event ahead (timestamp_ns 0 = now).
  void write_ahead(EngineEvent& event);
  // A place or cancel: its kSentToVenue event first (with a log), then the request. Requests of
  // the start-up hand-over are sent without an event of their own (send_to_venue).
  void write_ahead_and_send(const VenueRequest& request);
  void send_to_venue(const VenueRequest& request);
  // A slot at the tail of the output queue, waiting for the last event written; null (counted,
  // logged) when the queue is full despite has_room().
  EngineOutput* queue_output(bool venue_request);
  int release_outputs();

  // recovery.cpp
  int hand_over_recovered_orders();
  int hand_over_owned_deals();
  void on_startup_reconciled(const VenueEvent& report);

  // reconciliation.cpp
  struct BrokerView {  // per instrument: the venue's last report of the broker's position
    bool reported = false;
    bool settled = false;
    SizeUnits size = 0;
    PriceUnits level = 0;
    int64_t differing_since_ns = 0;
    SizeUnits differing_broker_size = 0;  // the broker's size when the difference began
    uint32_t differing_reports = 0;
  };
  void on_position_report(const VenueEvent& report);
  // Compares one instrument with its last report; settles a difference that persisted (or at
  // once, at start-up). True when it is equal or was settled now.
  bool compare_with_broker(InstrumentId instrument, bool at_startup);
  void settle_with_broker(InstrumentId instrument, SizeUnits difference, bool at_startup);
  void adopt_orphan(const VenueEvent& orphan);
  // Applies a journaled kReconciled / kPositionAdjusted (live and replay).
  void apply_reconciled(Order& order, const VenueEvent& event);
  void apply_position_adjustment(const VenueEvent& event);
  void record_owned_deal(const VenueEvent& event);
  PriceUnits reconciliation_price(InstrumentId instrument, const Order* order) const;

  std::vector<InstrumentSpec> instruments_;
  bool cancel_on_shutdown_;
  int64_t reconcile_grace_ns_;
  RiskCheck risk_;
  OrderStore orders_;
  std::array<Position, kMaxInstruments> positions_{};
  std::array<Quote, kMaxInstruments> last_quotes_{};
  std::array<bool, kMaxInstruments> has_quote_{};
  std::array<SizeUnits, kMaxInstruments> open_buy_size_{};
  std::array<SizeUnits, kMaxInstruments> open_sell_size_{};
  std::array<BrokerView, kMaxInstruments> broker_views_{};
  OwnedDeals owned_deals_;
  // Start-up: the owned deals the venue needs (recovered live orders' time, less a margin, on)
  // go to it after the recovered orders and before kStartupReconcile.
  bool owned_handover_pending_ = false;
  bool owned_handover_marker_sent_ = false;
  std::size_t owned_handover_next_ = 0;
  int64_t owned_handover_from_ms_ = 0;

  QuoteRing& quotes_;
  VenueRequestRing& venue_requests_;
  VenueEventRing& venue_events_;
  Doorbell* venue_doorbell_ = nullptr;
  std::vector<ClientPort> ports_;
  std::vector<StrategySlot> strategies_;
  // Per source: index into strategies_ or ports_, or -1.
  std::array<int16_t, RiskCheck::kMaxSources> strategy_of_source_;
  std::array<int16_t, RiskCheck::kMaxSources> port_of_source_;
  SourceId next_source_ = 1;
  uint32_t timer_check_countdown_ = 0;

  // Write-ahead and outputs (outputs.cpp).
  WriteAheadLog* log_ = nullptr;
  uint64_t next_sequence_ = 1;
  uint64_t journal_sequence_ = 0;
  bool replaying_ = false;
  bool journal_failed_ = false;  // the log failed: nothing more is written ahead
  OutputQueue outputs_{kOutputCapacity};

  // Readiness and the start-up hand-over (recovery.cpp).
  OrderId recovery_cursor_ = 0;  // next order id to hand to the venue; 0 = nothing to do
  OrderId recovery_first_ = 0;   // the recovered ids: [recovery_first_, recovery_end_]
  OrderId recovery_end_ = 0;
  std::atomic<std::size_t> recovery_pending_{0};
  EngineReadiness readiness_ = EngineReadiness::kReady;
  bool startup_reconcile_unsent_ = false;  // kStartupReconcile still to go after the hand-over
  int64_t started_ns_ = 0;                 // on_start, for the time to readiness

  std::unique_ptr<EngineStats> stats_;
  std::atomic<bool> shutdown_requested_{false};
  std::atomic<bool> shutdown_done_{false};
  bool strategies_started_ = false;  // on_start has run (at readiness)
  bool strategies_stopped_ = false;  // set once every started strategy's on_stop has run
};

}  // namespace qt
