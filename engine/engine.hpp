// Engine: the single writer of all trading state. One agent, driven by one thread, that drains
// its input rings — quotes from the feed, commands from client-side stages, answers from the
// venue — and for each runs risk, the order state machine, positions and P&L, and the
// strategies' callbacks; it emits venue requests and order updates on its output rings.
//
// Guarantees: no locks and no heap allocation after construction (tests/engine_alloc_test.cpp
// proves it with a counting allocator); illegal order transitions are counted and logged, never
// applied; every rejection carries a RejectReason. Other threads read EngineStats (relaxed
// atomics) and may call request_shutdown(); everything else is engine-thread only.
//
// Journal (optional, set_journal): every state change — order admitted, refused, cancel
// requested, venue event, control command — becomes a record on the journal ring, written
// before its effects. Nothing leaves the engine before its record is durable: venue requests,
// client updates and strategy callbacks wait in a fixed-size queue until the journal's
// published durable sequence covers them (write-ahead; a client hears "accepted" only for an
// order the journal holds). When the journal ring or that queue is nearly full, new orders and
// cancels are refused with kJournalBusy and inputs wait; nothing is ever dropped.
// Recovery: replay() applies journaled records through the same code that produced them, with
// every output suppressed; capture_state()/restore_state() carry the state snapshots hold.
//
// Readiness (distinct from TradingState, which is the operator's and risk's choice and is
// journaled): an engine that recovered from a journal is not ready until the venue has
// reconciled with its own records — the recovered live orders, its positions and working
// orders, the orders whose outcome is Unknown. reconcile_recovered_orders() starts that: the
// engine hands every recovered live order to the venue (kReconcile), then asks for the
// start-up reconciliation (kStartupReconcile), and becomes ready when the venue answers
// kStartupReconciled on its event ring — the normal input path, no lock (a one-off: its log
// line and the strategies' on_start are all it costs). An engine that never calls it (no
// persistence: tests, benchmarks, the snapshotter's shadow engine) is ready from the start.
// While not ready:
//  - new orders from any source are refused with kNotReady (journaled like every refusal);
//  - strategies are not started: on_start, and with it quotes, timers and order updates, waits
//    for readiness. A strategy driven while its orders are all refused would act on a market it
//    cannot trade — re-quoting into refusals, counting them as failures, moving its signal
//    state past entries it never got — and flood the journal with refusals; started once the
//    venue's picture is known, it begins from a true position. Its submits would be refused
//    anyway (belt and braces). Updates of recovered orders before that are not delivered to it:
//    its fresh instance never knew them; the positions and the order store show their outcome;
//  - cancels (of recovered orders too), the kill switch, trading-state changes and the venue's
//    events for recovered orders flow as usual.
// The transition is not journaled: replay needs nothing from it (refusals carry kNotReady in
// their own records, and no state depends on readiness), and it must not survive a restart —
// every start re-establishes it against the venue, so a journaled "ready" restored by replay
// would be false. It is logged ("engine ready: ...") and published in EngineStats.
#pragma once

#include <array>
#include <atomic>
#include <memory>
#include <span>
#include <vector>

#include "absl/status/status.h"
#include "engine/agent.hpp"
#include "engine/idle_strategy.hpp"
#include "engine/instrument.hpp"
#include "engine/latency_histogram.hpp"
#include "engine/order_store.hpp"
#include "engine/position.hpp"
#include "engine/rings.hpp"
#include "engine/risk.hpp"
#include "engine/strategy.hpp"
#include "persist/journal_entry.hpp"

namespace qt {

enum class EngineReadiness : uint8_t {
  kReady = 0,
  kReconciling,  // recovered; waiting for the venue's start-up reconciliation
};
std::string_view to_string(EngineReadiness readiness);

// Counters the engine publishes for status lines and metrics. Single writer (engine thread),
// relaxed stores; readers on any thread.
struct EngineStats {
  struct InstrumentFigures {
    std::atomic<int64_t> net_size{0};
    std::atomic<int64_t> average_price{0};
    std::atomic<int64_t> realized_pnl{0};
    std::atomic<int64_t> unrealized_pnl{0};
    std::atomic<int64_t> bid{0};
    std::atomic<int64_t> ask{0};
  };

  std::atomic<uint64_t> quotes{0};
  std::atomic<uint64_t> orders_received{0};
  std::atomic<uint64_t> orders_sent{0};
  std::atomic<uint64_t> fills{0};
  std::atomic<uint64_t> filled_orders{0};
  std::atomic<uint64_t> canceled_orders{0};
  std::atomic<uint64_t> venue_rejects{0};
  std::atomic<uint64_t> illegal_transitions{0};
  std::atomic<uint64_t> unknown_order_events{0};
  std::atomic<uint64_t> late_cancel_rejects{0};  // cancel lost the race with the final fill
  std::atomic<uint64_t> live_orders{0};
  std::atomic<uint64_t> journal_records{0};      // records pushed onto the journal ring
  std::atomic<uint64_t> journal_overflows{0};    // records that found the ring full (a bug)
  std::atomic<uint64_t> awaiting_durability{0};  // outputs waiting for their record (gauge)
  std::atomic<uint64_t> replayed_records{0};
  std::atomic<EngineReadiness> readiness{EngineReadiness::kReady};
  std::atomic<uint64_t> recovered_orders{0};  // live orders handed to the venue at start
  // Of those, left unresolved when the engine got ready: what the venue reported flagged, or
  // more if more are Unknown in the engine (an Unknown order is unresolved whatever the venue
  // says; the venue may also flag a recovered New one).
  std::atomic<uint64_t> unknown_at_ready{0};
  std::atomic<int64_t> ready_after_ns{0};  // engine start → ready; 0 until then
  std::array<std::atomic<uint64_t>, kRejectReasonCount> rejects{};
  std::array<InstrumentFigures, kMaxInstruments> instruments{};
  LatencyHistogram quote_latency;  // feed stamp → quote fully handled (strategies included)
  LatencyHistogram order_latency;  // NewOrder created → venue request on the ring (after the
                                   // journal made it durable, when there is a journal)

  static void bump(std::atomic<uint64_t>& counter, uint64_t by = 1) {
    counter.store(counter.load(std::memory_order_relaxed) + by, std::memory_order_relaxed);
  }
};

struct EngineOptions {
  std::vector<InstrumentSpec> instruments;
  RiskLimits risk;
  TradingState initial_trading_state = TradingState::kActive;
  std::size_t order_capacity = 1 << 16;
  bool cancel_on_shutdown = true;
};

// Where the engine journals (see the header comment). All pointers outlive the engine.
struct JournalPort {
  persist::JournalRing* ring = nullptr;
  const std::atomic<uint64_t>* durable_sequence = nullptr;  // published by the journal thread
  Doorbell* doorbell = nullptr;  // rung after pushing (the journal's runner, dedicated mode)
};

// The engine state a snapshot carries. Plain data; building it allocates (never on the engine
// thread of a running engine: snapshots are taken from a replaying shadow engine).
struct EngineState {
  uint64_t journal_sequence = 0;  // the last journal record this state includes
  OrderId last_order_id = 0;
  std::vector<Order> orders;             // every order still in the store, oldest first
  std::vector<Position> positions;       // one per instrument
  std::vector<SizeUnits> open_buy_size;  // per instrument: live buy size not yet filled
  std::vector<SizeUnits> open_sell_size;
  TradingState trading_state = TradingState::kActive;
  bool kill_switch = false;
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

  Engine(EngineOptions options, QuoteRing& quotes, VenueRequestRing& venue_requests,
         VenueEventRing& venue_events);
  ~Engine() override;

  // Set-up, before the engine thread starts.
  SourceId add_strategy(Strategy& strategy);
  SourceId add_client_port(ClientPort port);  // returns the SourceId assigned to the port
  void set_venue_doorbell(Doorbell* doorbell) { venue_doorbell_ = doorbell; }
  // Journals from now on; the next record carries `next_sequence` (last recovered + 1).
  void set_journal(JournalPort port, uint64_t next_sequence);
  void set_journal_doorbell(Doorbell* doorbell) { journal_.doorbell = doorbell; }

  // Recovery, engine thread, before on_start(). replay() applies one journaled record
  // (sequence must follow the state's journal_sequence); an inconsistent record (an order id
  // that does not follow, an unknown type) is DataLoss naming the sequence.
  absl::Status replay(uint64_t sequence, int64_t timestamp_ns, uint16_t type,
                      std::span<const std::byte> payload);
  absl::Status restore_state(const EngineState& state);
  EngineState capture_state() const;
  uint64_t journal_sequence() const { return journal_sequence_; }  // last written or replayed
  // After recovery: every live order is handed to the venue with a kReconcile request (sent
  // but never answered → Unknown first), a few per duty cycle as the journal has room, from
  // the engine thread once it runs, then kStartupReconcile; the engine is not ready until the
  // venue answers (see Readiness above). recovered_orders_pending() counts those not yet handed.
  void reconcile_recovered_orders();
  std::size_t recovered_orders_pending() const {
    return recovery_pending_.load(std::memory_order_relaxed);
  }

  // Agent.
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
  EngineReadiness readiness() const { return readiness_; }
  bool ready() const { return readiness_ == EngineReadiness::kReady; }

  // Engine thread only (strategies reach these through StrategyContext).
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

  void on_quote(const Quote& quote);
  void on_command(SourceId source, const ClientCommand& command);
  void on_venue_event(const VenueEvent& event);
  void run_timers(int64_t now);
  void begin_shutdown();
  void reject(const NewOrder& order, RejectReason reason);
  void publish_update(const Order& order, RejectReason reason, PriceUnits fill_price,
                      SizeUnits fill_size);
  void release_exposure(const Order& order, SizeUnits size);
  void publish_instrument(InstrumentId id);
  bool send_to_venue(const VenueRequest& request);
  Order* admit(const NewOrder& request, int64_t epoch_ms);  // submit and replay share it
  int reconcile_some_recovered_orders();
  void on_startup_reconciled(const VenueEvent& report);
  void start_strategies();
  void apply_cancel_request(Order& order);
  void apply_control(const ControlCommand& command);
  void deliver_update(const OrderUpdate& update);

  // Journal.
  bool journaling() const { return journal_.ring != nullptr && !replaying_; }
  bool journal_has_room(std::size_t records) const;
  std::size_t input_budget() const;  // inputs one duty cycle may take without overflowing
  // timestamp_ns 0 = now; submit passes the instant it stamped on the order, so that replay
  // (which takes the record's timestamp) rebuilds the same order.
  template <typename Payload>
  void journal(persist::RecordType type, const Payload& payload, int64_t timestamp_ns = 0);
  int release_durable_outputs();
  struct PendingOutput {
    uint64_t sequence = 0;
    bool venue_request = false;  // else a client update
    VenueRequest request;
    OrderUpdate update;
  };
  void hold_until_durable(const PendingOutput& output);

  std::vector<InstrumentSpec> instruments_;
  bool cancel_on_shutdown_;
  RiskCheck risk_;
  OrderStore orders_;
  std::array<Position, kMaxInstruments> positions_{};
  std::array<Quote, kMaxInstruments> last_quotes_{};
  std::array<bool, kMaxInstruments> has_quote_{};
  std::array<SizeUnits, kMaxInstruments> open_buy_size_{};
  std::array<SizeUnits, kMaxInstruments> open_sell_size_{};

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

  JournalPort journal_;
  uint64_t next_journal_sequence_ = 1;
  uint64_t journal_sequence_ = 0;
  bool replaying_ = false;
  OrderId recovery_cursor_ = 0;  // next order id to hand to the venue; 0 = nothing to do
  OrderId recovery_first_ = 0;   // the recovered ids: [recovery_first_, recovery_end_]
  OrderId recovery_end_ = 0;
  std::atomic<std::size_t> recovery_pending_{0};
  EngineReadiness readiness_ = EngineReadiness::kReady;
  bool startup_reconcile_unsent_ = false;  // kStartupReconcile still to go after the hand-over
  int64_t started_ns_ = 0;                 // on_start, for the time to readiness
  std::vector<PendingOutput> pending_;     // ring buffer, capacity fixed at set_journal()
  std::size_t pending_head_ = 0;
  std::size_t pending_count_ = 0;

  std::unique_ptr<EngineStats> stats_;
  std::atomic<bool> shutdown_requested_{false};
  std::atomic<bool> shutdown_done_{false};
  bool strategies_started_ = false;  // on_start has run (at readiness)
  bool strategies_stopped_ = false;  // set once every started strategy's on_stop has run
};

}  // namespace qt
