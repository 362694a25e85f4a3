// CapitalVenue: the venue agent for Capital.com. It turns the engine's VenueRequests into
// broker deals and the broker's answers into VenueEvents, without ever blocking the engine:
//
//  venue thread (do_work): drains VenueRequestRing → hands each request to a worker chosen by
//    order id over that worker's SPSC ring (so every request of one order is handled in order
//    by one worker); moves results from the workers' lock-free outbox (moodycamel
//    ConcurrentQueue, FIFO per worker) onto VenueEventRing, its only producer. No locks and no
//    allocation here: in `shared` mode this runs on the engine's thread.
//    Bounds, and back-pressure instead of loss: a request whose worker ring is full waits in a
//    backlog of kRequestBacklog (and everything after it, to keep the order); when that is full
//    the venue stops draining VenueRequestRing, so the engine's ring fills and the engine
//    refuses new orders (kVenueBusy) or keeps its durable outputs queued. An event the engine's
//    ring cannot take yet waits in a backlog of kEventBacklog; when that is nearly full the
//    venue leaves the workers' results in the outbox (which grows, on the workers' side) until
//    the engine drains its ring. Nothing is dropped; stats() counts each episode
//    (request_backpressure, event_backpressure) and each is logged once as it starts.
//  worker threads: submit the deal (POST /positions for market orders, POST /workingorders for
//    limit orders), read its confirm (GET /confirms/{ref}, retried while not yet recorded), and
//    report Accepted + Fill, or Rejected; cancel = DELETE /workingorders/{id} + confirm.
//  poller thread: every poll interval, when something is open (or a snapshot was requested,
//    e.g. after the stream reconnected), lists working orders and positions to detect
//    working-order fills (a working order that became a position), and to resolve orders whose
//    outcome is Unknown. A working order gone from the list with no position of its own either
//    filled by closing an opposite position (netting opens none) or was cancelled or expired:
//    its own activity-history entry (EXECUTED / CANCELLED / EXPIRED) decides, and until the
//    history shows one it stays working. What it finds goes to the order's own worker, so one
//    order's events always leave in order.
//
// Names: as soon as the broker returns a request's dealReference the venue reports kSubmitted
// with it (journaled by the engine), before waiting for the confirm; an order whose confirm did
// not come (then or, recovered, in an earlier run) is resolved by asking for that confirm again
// at every poll — exact, no matching needed.
//
// The no-duplicate rule: a deal request whose outcome is unknown (timeout, reset, 5xx) is never
// sent again. The order is reported OutcomeUnknown and resolved only by what the broker shows:
// a position or working order that no other order accounts for (same epic, direction and size,
// created after the request) resolves it; while another order with the same shape is still
// being confirmed, matching waits so a deal cannot be claimed twice.
//
// Deals the journal owns: every position a market order opened or closed (the confirm's
// affectedDeals), and the position a working order's fill opened, is reported (kDealOwned,
// ahead of the fill) and journaled by the engine, which hands the recent ones back at the next
// start-up (kOwnedDeal). The activity history of an Unknown order's epic and side since (a
// little before) its send, less every deal the journal owns by the broker's deal id, then
//  - is empty: the order never executed (Rejected, kVenueNotExecuted) — read only once
//    unknown_absence_after_ms has passed since it became Unknown;
//  - is deals adding up to exactly its size, with no other order of ours in doubt or working
//    on that lane: they are its fills (found at once, also for a recovered order);
//  - is anything else (a trade by hand, a list of owned deals that does not reach back that
//    far, a working order's netting fill whose deal ids were never named): it stays Unknown and
//    the engine settles it from the positions (engine/reconciliation.cpp) — the venue never
//    guesses. Every doubt errs toward "still in doubt": a history entry whose date does not
//    parse could be the order, and an order sent more than the one day the history covers
//    cannot be proved absent.
//
// Start-up reconciliation (the engine is not ready until it completes, engine/engine.hpp): the
// engine hands over its recovered live orders (kReconcile) and then sends kStartupReconcile.
// From then on every poll is a snapshot, and the venue answers kStartupReconciled after the
// first snapshot (working orders and positions both read) taken once every recovered order was
// tracked, at which
//  - every recovered working order was seen working, or has been resolved (filled, removed);
//  - every recovered Unknown order has been resolved (by its confirm when it was named, else
//    by the history less the owned deals, above), or is flagged: left Unknown and logged by id,
//    because the history showed deals that could be it, or because
//    unknown_absence_after_ms + startup_unknown_grace_ms passed without an answer (the history
//    could not be read). A recovered order is never matched by shape (the positions of an
//    earlier run are not named in the journal); a flagged one stays tracked and is settled by
//    the engine from the positions the decision reports. The history is read only once the
//    engine's hand-over (recovered orders, owned deals) has been taken in.
// Bounded: with nothing recovered, ready after one snapshot (one REST round trip each for
// working orders and positions); with recovered Unknown orders, after at most
// unknown_absence_after_ms + startup_unknown_grace_ms + a poll. What is never waived is the
// snapshot itself: while the broker cannot list positions and working orders, no order could
// reach it either, and the failures are logged at every poll.
// Every event the reconciliation produced reaches the ring before kStartupReconciled (the venue
// thread emits it only once the workers have emitted every finding posted before the decision).
//
// Reconciliation with the engine's books: after every snapshot (at least every
// reconcile_interval_ns, and after a stream reconnect) the poller reports the broker's net
// position per instrument (kPositionReport), `settled` when no order of the venue's was in
// flight there (a request unanswered, an Unknown outcome still being looked for, a vanished
// working order whose history has not answered); the engine compares and settles (engine/
// reconciliation.cpp) and tells the venue to forget what it settled (kForget). Working orders
// at the broker that nothing accounts for — seen in two snapshots in a row (one at the start-up
// decision, when nothing is in flight), none of the venue's orders still able to claim them —
// are orphans: reported for adoption (kOrphanWorkingOrder), cancelled, or left, by option.
// Reports and orphans reach the ring behind every finding of their snapshot.
#pragma once

#include <concurrentqueue/concurrentqueue.h>

#include <atomic>
#include <boost/circular_buffer.hpp>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "engine/agent.hpp"
#include "engine/idle_strategy.hpp"
#include "engine/instrument.hpp"
#include "engine/owned_deals.hpp"
#include "engine/rings.hpp"
#include "gateway/capital/trading_api.hpp"

namespace qt::capital {

struct CapitalVenueOptions {
  int workers = 4;
  int confirm_attempts = 20;
  int64_t confirm_retry_ns = 25'000'000;      // between GET /confirms attempts while 404
  int64_t poll_interval_ns = 500'000'000;     // working orders / positions reconciliation
  int64_t unknown_match_skew_ms = 5'000;      // clock skew allowed when matching Unknown orders
  int64_t unknown_absence_after_ms = 10'000;  // wait before reading absence as "not executed"
  // Start-up: a recovered Unknown order whose history check has not answered this long after
  // unknown_absence_after_ms is flagged for the operator, and the venue reports ready.
  int64_t startup_unknown_grace_ms = 5'000;
  // A lane whose places have waited this long behind an order in doubt is reported (once per
  // episode, lanes_blocked): trading on that instrument and side stands still until it resolves.
  int64_t lane_blocked_report_ns = 30'000'000'000;
  // Periodic reconciliation: a snapshot of working orders and positions at least this often
  // even when nothing is open (and after every stream reconnect), reported to the engine.
  int64_t reconcile_interval_ns = 5'000'000'000;
  // A working order at the broker that no order accounts for (sent before a crash and never
  // named, placed by hand): adopted as an external order of the engine, cancelled, or left.
  enum class Orphans : uint8_t { kAdopt, kCancel, kLeave };
  Orphans orphan_working_orders = Orphans::kAdopt;
};

struct VenueInstrument {
  std::string epic;
  InstrumentSpec spec;
};

struct CapitalVenueStats {
  std::atomic<uint64_t> deals_submitted{0};
  std::atomic<uint64_t> deals_accepted{0};
  std::atomic<uint64_t> deals_rejected{0};
  std::atomic<uint64_t> outcomes_unknown{0};
  std::atomic<uint64_t> unknown_resolved{0};
  std::atomic<uint64_t> resolved_by_reference{0};  // of those, by their confirm
  std::atomic<uint64_t> working_order_fills{0};
  std::atomic<uint64_t> cancels{0};
  std::atomic<uint64_t> poll_errors{0};
  std::atomic<uint64_t> unknown_not_executed{0};  // resolved as never executed (activity history)
  std::atomic<uint64_t> unknown_found_in_history{0};  // resolved as executed by history deals
  std::atomic<uint64_t> deals_owned{0};               // kDealOwned reported to the engine
  std::atomic<uint64_t> snapshots_requested{0};
  std::atomic<uint64_t> request_backpressure{0};  // episodes: request backlog full
  std::atomic<uint64_t> paced_orders{0};          // places that waited behind one in doubt
  std::atomic<uint64_t> pacing_refusals{0};     // places refused (kVenueBusy): their lane was full
  std::atomic<uint64_t> lanes_blocked{0};       // episodes: places waited lane_blocked_report_ns
  std::atomic<uint64_t> event_backpressure{0};  // episodes: event backlog full
  std::atomic<bool> startup_reconciled{false};  // kStartupReconciled is on its way
  std::atomic<uint64_t> startup_left_unknown{0};  // recovered orders flagged at start-up
  std::atomic<uint64_t> startup_reconcile_ms{0};  // kStartupReconcile → the decision
  std::atomic<uint64_t> position_reports{0};      // snapshots reported to the engine
  std::atomic<uint64_t> orphans_found{0};         // unaccounted broker working orders
  std::atomic<uint64_t> orphans_cancelled{0};     // of those, cancelled (orphans = cancel)
  std::atomic<uint64_t> orders_forgotten{0};      // settled by the engine's reconciliation
};

class CapitalVenue final : public Agent {
 public:
  static constexpr std::size_t kRequestBacklog = 1024;
  static constexpr std::size_t kEventBacklog = 1024;
  static constexpr std::size_t kLaneBacklog = 256;  // places waiting per instrument and side
  static constexpr std::size_t kLaneDoubtCapacity = 64;

  CapitalVenue(TradingApi& api, std::vector<VenueInstrument> instruments,
               VenueRequestRing& requests, VenueEventRing& events,
               CapitalVenueOptions options = {});
  ~CapitalVenue() override;

  void set_engine_doorbell(Doorbell* doorbell) { engine_doorbell_ = doorbell; }
  // The doorbell of the thread that runs this agent: workers and the poller ring it when they
  // leave it events (set before on_start).
  void set_own_doorbell(Doorbell* doorbell) { own_doorbell_ = doorbell; }
  std::string_view name() const override { return "venue"; }
  void on_start() override;
  int do_work() override;
  // A retry while a backlog waits for room in a ring (the consumer does not ring back).
  int64_t next_deadline_ns() const override;
  void on_close() override;

  // Starts worker and poller threads (on_start calls it; tests may call it directly).
  void start_threads();
  void stop_threads();
  const CapitalVenueStats& stats() const { return stats_; }
  std::size_t unknown_orders() const;
  // Any thread: reconcile with the broker's working orders and positions at the next poll
  // even if nothing is open (the stream calls it after a reconnect).
  void request_snapshot();

 private:
  enum class Phase : uint8_t { kPlacing, kWorking, kUnknown, kDone };
  struct Tracked {
    InstrumentId instrument = 0;
    Side side = Side::kBuy;
    SizeUnits size = 0;
    bool working_order = false;
    Phase phase = Phase::kPlacing;
    std::string deal_id;    // the broker's order / working-order id
    std::string reference;  // the request's dealReference, once the broker returned it
    int64_t sent_epoch_ms = 0;
    int64_t unknown_epoch_ms = 0;  // when the outcome became Unknown
    bool ambiguity_logged = false;
    bool history_read_early = false;  // recovered: looked for in the history before the window
    // Recovered from the journal: the deals other orders of earlier runs claimed are not known
    // here, so no shape matching — only the exact venue id, or absence in the history.
    bool recovered = false;
    bool cancel_requested = false;
    int missing_polls = 0;          // working order absent from the list, no position yet
    int64_t listed_epoch_ms = 0;    // a working order: when the broker last listed it
    int64_t vanished_epoch_ms = 0;  // a working order: when it was first missing from the list
  };
  static constexpr int64_t kHistoryMaxSeconds = 86'400;  // what GET /history/activity covers
  struct Worker {
    SpscRing<VenueRequest, 1024> requests;  // venue thread → worker
    SpscRing<VenueEvent, 1024> findings;    // poller → worker, emitted in order
    Doorbell doorbell;
    std::thread thread;
  };

  // One place in doubt per instrument and side (venue thread only): a place waits in its lane
  // while an earlier one there has no known outcome (sent and unanswered, or Unknown), so after a
  // crash at most one order per lane is in doubt and the broker's records identify it.
  struct Lane {
    std::vector<OrderId> in_doubt;                 // recovered ones may be several
    boost::circular_buffer<VenueRequest> waiting;  // places, in the engine's order
    int64_t waiting_since_ns = 0;                  // the oldest waiting place's arrival
    bool blocked_reported = false;                 // this episode was reported
  };
  Lane* lane_of(InstrumentId instrument, Side side);
  static bool in_doubt(const VenueRequest& recovered);  // its outcome is not known
  // Venue thread: false when `request` waits in its lane or was answered here.
  bool pace(const VenueRequest& request);
  void note_outcome(const VenueEvent& event);  // venue thread, for every event forwarded
  int release_lanes();                         // venue thread: the next place of freed lanes
  void dispatch(const VenueRequest& request);  // to the order's worker (or the backlog)

  Worker& worker_for(OrderId order_id) { return *workers_[order_id % workers_.size()]; }
  void worker_loop(Worker& worker);
  void post_finding(const VenueEvent& event);  // poller → the order's worker
  void poller_loop();
  int64_t until_next_absence_ns() const;  // poller: until an Unknown order's window ends
  void place(const VenueRequest& request);
  void cancel(const VenueRequest& request);
  void track_recovered(const VenueRequest& request);
  absl::StatusOr<DealConfirmation> await_confirm(const std::string& deal_reference);
  // Any thread but the venue thread (takes poll_mutex_): the poller runs a pass now.
  void wake_poller();
  // Whether the broker's working orders and positions were both read (a snapshot).
  bool reconcile();
  // Poller: after a snapshot that began with every recovered order tracked.
  // True when it decided (and reported the snapshot).
  bool finish_startup_if_settled();
  // Unknown orders nothing matched: ask the activity history whether they executed at all.
  // Recovered ones are looked for at once (an execution shows at once); absence is read only
  // once unknown_absence_after_ms has passed.
  void resolve_absent(const std::vector<OrderId>& candidates);
  // What the history says of one Unknown market order (mutex_ held): the deals on its epic and
  // side since (a little before) its send, less every deal the journal owns, are nothing, its
  // own deals (`its_deals`: their sizes add up to its size), or could be anything.
  enum class HistoryVerdict : uint8_t { kNothing, kExecuted, kCouldBeAnything };
  HistoryVerdict judge_by_history(OrderId order_id, const Tracked& t,
                                  const ActivityHistoryResponse& history,
                                  std::vector<const Activity*>& its_deals) const;
  // A deal of ours (mutex_ held): kept for judge_by_history and reported to be journaled.
  VenueEvent own_deal(OrderId order_id, const Tracked& t, std::string_view deal_id, bool opened);
  void own_affected_deals(OrderId order_id, const Tracked& t, const DealConfirmation& confirmation,
                          std::vector<VenueEvent>& out);  // mutex_ held
  void note_owned_deal(const VenueRequest& request);      // worker: kOwnedDeal from the engine
  // Poller, after a snapshot: the broker's positions per instrument and its orphan working
  // orders, queued for the venue thread behind this pass's findings. `deciding`: the start-up
  // decision's pass (nothing in flight: one sighting makes an orphan).
  void report_snapshot(bool deciding);
  // Worker: the engine settled the order (kForget).
  void forget(const VenueRequest& request);

  // Unknown orders the broker named (their dealReference): their confirm, once the broker has
  // recorded it, says exactly what became of them — no matching by shape or history needed.
  void resolve_by_reference();
  // Working orders gone from the list with no position of theirs: their own history entry says
  // whether they executed (netted against an opposite position) or were cancelled or expired.
  void resolve_vanished(const std::vector<OrderId>& orders);
  // One GET /history/activity per epic since its earliest time; OutOfRange, not a read, when
  // that reaches back beyond the day the broker keeps.
  std::map<std::string, absl::StatusOr<ActivityHistoryResponse>> read_histories(
      const std::map<std::string, int64_t>& earliest_by_epic);
  void emit(VenueEventKind kind, OrderId order_id, PriceUnits price, SizeUnits size,
            std::string_view venue_order_id, RejectReason reason = RejectReason::kNone);
  void wake_venue_thread() {
    if (own_doorbell_ != nullptr) own_doorbell_->ring();
  }
  bool shape_pending(const Tracked& unknown) const;  // mutex_ held
  // Venue thread: counts and logs the start of a back-pressure episode (`active` remembers it).
  void note_backpressure(bool full, bool& active, std::atomic<uint64_t>& episodes,
                         std::string_view what);

  TradingApi& api_;
  std::vector<VenueInstrument> instruments_;
  VenueRequestRing& requests_;
  VenueEventRing& events_;
  CapitalVenueOptions options_;
  Doorbell* engine_doorbell_ = nullptr;
  Doorbell* own_doorbell_ = nullptr;

  std::vector<std::unique_ptr<Worker>> workers_;
  std::thread poller_;
  std::atomic<bool> running_{false};
  std::atomic<bool> snapshot_requested_{false};
  int64_t started_epoch_ms_ = 0;  // deals older than this belong to earlier runs
  std::mutex poll_mutex_;
  std::condition_variable poll_wake_;
  bool poll_due_ = false;  // poll_mutex_ held: a pass was asked for (no wake-up is lost)

  // Start-up reconciliation (see the header comment).
  uint64_t reconcile_requests_seen_ = 0;             // venue thread: kReconcile drained so far
  std::atomic<int64_t> startup_requested_ms_{0};     // venue thread: kStartupReconcile drained
  std::atomic<int64_t> startup_expected_{-1};        // recovered orders handed over; -1: not yet
  std::atomic<int64_t> recovered_tracked_{0};        // workers: kReconcile/kOwnedDeal taken in
  std::atomic<bool> handover_started_{false};        // venue thread: one of those was drained
  std::atomic<bool> startup_decided_{false};         // poller: the reconciliation is complete
  std::atomic<uint64_t> startup_after_findings_{0};  // findings posted before the decision
  std::atomic<uint64_t> findings_posted_{0};         // poller: post_finding() calls
  std::atomic<uint64_t> findings_emitted_{0};        // workers: findings emitted to the outbox
  bool startup_reported_ = false;                    // venue thread
  std::size_t snapshot_positions_ = 0;               // poller: the last snapshot's sizes
  std::size_t snapshot_working_orders_ = 0;
  // Poller: the last snapshot itself, when it was taken, and working orders nothing claims
  // (by deal id: consecutive sightings).
  std::vector<WorkingOrderItem> snapshot_working_;
  std::vector<PositionItem> snapshot_positions_list_;
  int64_t last_snapshot_ns_ = 0;
  std::map<std::string, int> orphan_sightings_;
  // Poller → venue thread: position reports and orphans, each with the findings count that
  // must be emitted before it (so a fill found by the snapshot reaches the engine first).
  struct QueuedReport {
    VenueEvent event;
    uint64_t after_findings = 0;
  };
  SpscRing<QueuedReport, 1024> reports_;
  QueuedReport held_report_{};  // venue thread: popped, waiting for its findings
  bool report_held_ = false;

  // Shared between workers and the poller.
  mutable std::mutex mutex_;
  std::unordered_map<OrderId, Tracked> tracked_;
  std::set<std::string> claimed_deal_ids_;  // positions/working orders accounted for
  // The broker's deals the journal owns (this run's, and earlier runs' from the engine at
  // start-up), complete from owned_deals_.complete_since_epoch_ms() on.
  OwnedDeals owned_deals_;

  // Workers → venue thread, then venue thread → ring. The backlogs (venue thread only, storage
  // allocated at construction) hold what a full worker ring or engine ring could not take yet.
  moodycamel::ConcurrentQueue<VenueEvent> outbox_;
  boost::circular_buffer<VenueRequest> request_backlog_;
  boost::circular_buffer<VenueEvent> event_backlog_;
  std::vector<Lane> lanes_;            // instrument * 2 + (sell ? 1 : 0)
  bool request_backpressure_ = false;  // venue thread: an episode is under way
  bool event_backpressure_ = false;

  CapitalVenueStats stats_;
};

}  // namespace qt::capital
