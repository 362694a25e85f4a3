#include "gateway/capital/capital_venue.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <limits>
#include <map>

#include "absl/strings/str_cat.h"
#include "engine/clock.hpp"
#include "gateway/capital/protocol/parse.hpp"

namespace qt::capital {

namespace {

constexpr std::size_t kRequestDrainLimit = 256;  // per do_work, so events get their turn
constexpr std::size_t kOutboxBatch = 64;
constexpr int64_t kWorkerParkNs = 50'000'000;

void sleep_ns(int64_t ns) {
  std::this_thread::sleep_for(std::chrono::nanoseconds(ns));
}

// The broker's exact decimal at the instrument's scale (rounded half away from zero only when the
// broker sent more digits than the instrument has). False, logged, when it does not fit the fixed
// point: the caller then reports nothing rather than a fill at a made-up price.
bool units_of(Decimal value, int decimals, int64_t& units, OrderId order_id) {
  if (value.to_fixed_point(decimals, units) == DecimalStatus::kOk) return true;
  char text[64];
  spdlog::error("order {}: the broker's value {} does not fit {} decimals; not applied", order_id,
                std::string_view(text, format_decimal(value, text)), decimals);
  return false;
}

VenueEvent venue_event(VenueEventKind kind, OrderId order_id, PriceUnits price, SizeUnits size,
                       std::string_view venue_order_id, RejectReason reason = RejectReason::kNone) {
  VenueEvent event;
  event.kind = kind;
  event.reason = reason;
  event.order_id = order_id;
  event.fill_price = price;
  event.fill_size = size;
  event.created_ns = now_ns();
  std::memcpy(event.venue_order_id.data(), venue_order_id.data(),
              std::min(venue_order_id.size(), event.venue_order_id.size() - 1));
  return event;
}

template <typename T>
void bump(std::atomic<T>& counter) {
  counter.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace

CapitalVenue::CapitalVenue(TradingApi& api, std::vector<VenueInstrument> instruments,
                           VenueRequestRing& requests, VenueEventRing& events,
                           CapitalVenueOptions options)
    : api_(api),
      instruments_(std::move(instruments)),
      requests_(requests),
      events_(events),
      options_(options),
      request_backlog_(kRequestBacklog),
      event_backlog_(kEventBacklog) {
  const int worker_count = std::max(1, options_.workers);
  for (int i = 0; i < worker_count; ++i) workers_.push_back(std::make_unique<Worker>());
  lanes_.resize(instruments_.size() * 2);
  for (Lane& lane : lanes_) {
    lane.in_doubt.reserve(kLaneDoubtCapacity);
    lane.waiting.set_capacity(kLaneBacklog);
  }
}

CapitalVenue::~CapitalVenue() {
  stop_threads();
}

void CapitalVenue::on_start() {
  start_threads();
}
void CapitalVenue::on_close() {
  do_work();  // hand over what the workers already produced
  stop_threads();
}

void CapitalVenue::start_threads() {
  if (running_.exchange(true)) return;
  started_epoch_ms_ = wall_epoch_ms();
  {
    std::lock_guard lock(mutex_);
    owned_deals_.restore({}, started_epoch_ms_);  // this run's; the engine hands over earlier ones
  }
  last_snapshot_ns_ = now_ns();  // the first periodic snapshot one interval in (or on demand)
  for (std::size_t i = 0; i < workers_.size(); ++i) {
    Worker& worker = *workers_[i];
    worker.thread = std::thread([this, &worker, i] {
      const std::string name = "qt-capital-w" + std::to_string(i);
      pthread_setname_np(pthread_self(), name.c_str());
      worker_loop(worker);
    });
  }
  poller_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "qt-capital-poll");
    poller_loop();
  });
}

void CapitalVenue::stop_threads() {
  if (!running_.exchange(false)) return;
  for (auto& worker : workers_) {
    worker->doorbell.ring();
    if (worker->thread.joinable()) worker->thread.join();
  }
  wake_poller();
  if (poller_.joinable()) poller_.join();
}

std::size_t CapitalVenue::unknown_orders() const {
  std::lock_guard lock(mutex_);
  return static_cast<std::size_t>(std::count_if(tracked_.begin(), tracked_.end(), [](auto& kv) {
    return kv.second.phase == Phase::kUnknown;
  }));
}

// ---- venue thread ------------------------------------------------------------------------------

int CapitalVenue::do_work() {
  int work = 0;
  // Requests: backlog first, so one order's requests keep their order.
  while (!request_backlog_.empty()) {
    Worker& worker = worker_for(request_backlog_.front().order_id);
    if (!worker.requests.try_push(request_backlog_.front())) break;
    worker.doorbell.ring();
    request_backlog_.pop_front();
    ++work;
  }
  work += release_lanes();
  auto hand_over = [this](const VenueRequest& request) {
    if (!pace(request)) return;  // waits behind an order in doubt, or answered here
    // The start-up decision waits until its worker has taken each of these in.
    if (request.kind == VenueRequestKind::kReconcile ||
        request.kind == VenueRequestKind::kOwnedDeal) {
      ++reconcile_requests_seen_;
      handover_started_.store(true, std::memory_order_release);
    }
    if (request.kind == VenueRequestKind::kStartupReconcile) {
      // Every kReconcile came before it on the ring. Its worker wakes the poller (this thread
      // takes no lock); the workers tracking the recovered orders wake it too.
      if (startup_expected_.load(std::memory_order_relaxed) >= 0) return;  // asked once only
      startup_requested_ms_.store(wall_epoch_ms(), std::memory_order_relaxed);
      startup_expected_.store(static_cast<int64_t>(reconcile_requests_seen_),
                              std::memory_order_release);
    }
    dispatch(request);
  };
  // Never take more from the engine's ring than the backlog could hold.
  const std::size_t request_room = request_backlog_.reserve();
  note_backpressure(request_room == 0, request_backpressure_, stats_.request_backpressure,
                    "request backlog full: requests wait on the engine's ring");
  if (request_room != 0) {
    work +=
        static_cast<int>(requests_.drain(hand_over, std::min(request_room, kRequestDrainLimit)));
  }

  // Decided before the outbox is drained: every finding counted here is in the outbox by now, so
  // it reaches the ring ahead of kStartupReconciled.
  const bool report_startup = !startup_reported_ &&
                              startup_decided_.load(std::memory_order_acquire) &&
                              findings_emitted_.load(std::memory_order_acquire) >=
                                  startup_after_findings_.load(std::memory_order_relaxed);

  // Events: backlog first, then the outbox, a batch at a time while the backlog could hold it.
  std::size_t pushed = 0;
  auto forward = [&](const VenueEvent& event) {
    note_outcome(event);
    if (!event_backlog_.empty() || !events_.try_push(event)) {
      event_backlog_.push_back(event);
    } else {
      ++pushed;
    }
  };
  while (!event_backlog_.empty() && events_.try_push(event_backlog_.front())) {
    event_backlog_.pop_front();
    ++pushed;
  }
  bool outbox_empty = false;
  VenueEvent batch[kOutboxBatch];
  while (event_backlog_.reserve() >= kOutboxBatch) {
    const std::size_t n = outbox_.try_dequeue_bulk(batch, kOutboxBatch);
    if (n == 0) {
      outbox_empty = true;
      break;
    }
    for (std::size_t i = 0; i < n; ++i) forward(batch[i]);
  }
  note_backpressure(!outbox_empty && outbox_.size_approx() != 0, event_backpressure_,
                    stats_.event_backpressure,
                    "event backlog full: results wait in the workers' outbox");
  // Snapshot reports, each once the findings of its snapshot are on their way.
  if (outbox_empty) {
    const uint64_t emitted = findings_emitted_.load(std::memory_order_acquire);
    while (!event_backlog_.full()) {
      if (!report_held_ && !reports_.try_pop(held_report_)) break;
      report_held_ = true;
      if (held_report_.after_findings > emitted) break;
      forward(held_report_.event);
      report_held_ = false;
    }
  }
  // Behind every finding and report of the deciding snapshot: only once the outbox is empty,
  // and only with room to keep it.
  if (report_startup && outbox_empty && !report_held_ && reports_.empty_approx() &&
      !event_backlog_.full()) {
    startup_reported_ = true;
    VenueEvent reconciled;
    reconciled.kind = VenueEventKind::kStartupReconciled;
    reconciled.fill_size =
        static_cast<SizeUnits>(stats_.startup_left_unknown.load(std::memory_order_relaxed));
    reconciled.created_ns = now_ns();
    forward(reconciled);
    stats_.startup_reconciled.store(true, std::memory_order_relaxed);
  }
  if (pushed != 0 && engine_doorbell_ != nullptr) engine_doorbell_->ring();
  return work + static_cast<int>(pushed);
}

void CapitalVenue::dispatch(const VenueRequest& request) {
  Worker& worker = worker_for(request.order_id);
  if (!request_backlog_.empty() || !worker.requests.try_push(request)) {
    request_backlog_.push_back(request);  // callers checked there is room
    return;
  }
  worker.doorbell.ring();
}

CapitalVenue::Lane* CapitalVenue::lane_of(InstrumentId instrument, Side side) {
  const std::size_t index = std::size_t{instrument} * 2 + (side == Side::kBuy ? 0 : 1);
  return index < lanes_.size() ? &lanes_[index] : nullptr;
}

bool CapitalVenue::in_doubt(const VenueRequest& recovered) {
  const bool named_order = recovered.venue_order_id[0] != '\0' && !recovered.venue_id_is_reference;
  return !(recovered.type == OrderType::kLimit && named_order);
}

bool CapitalVenue::pace(const VenueRequest& request) {
  if (request.kind == VenueRequestKind::kStartupReconcile) return true;
  Lane* lane = lane_of(request.instrument, request.side);
  if (lane == nullptr) return true;  // an unknown instrument: its worker refuses it
  switch (request.kind) {
    case VenueRequestKind::kPlace:
      if (lane->in_doubt.empty() && lane->waiting.empty()) {
        lane->in_doubt.push_back(request.order_id);
        return true;
      }
      if (lane->waiting.full()) {
        // Every slot holds an order waiting for the broker's answer to the one before: saying no
        // now is honest, queueing without bound is not.
        bump(stats_.pacing_refusals);
        emit(VenueEventKind::kRejected, request.order_id, 0, 0, "", RejectReason::kVenueBusy);
        return false;
      }
      bump(stats_.paced_orders);
      if (lane->waiting.empty()) lane->waiting_since_ns = now_ns();
      lane->waiting.push_back(request);
      return false;
    case VenueRequestKind::kCancel: {
      auto it = std::find_if(lane->waiting.begin(), lane->waiting.end(),
                             [&](const VenueRequest& r) { return r.order_id == request.order_id; });
      if (it == lane->waiting.end()) return true;
      lane->waiting.erase(it);  // never sent: nothing at the broker to cancel
      emit(VenueEventKind::kCanceled, request.order_id, 0, 0, "");
      return false;
    }
    case VenueRequestKind::kReconcile:
      // Recovered without a known outcome: its lane waits for it as for one just sent.
      if (in_doubt(request) && lane->in_doubt.size() < lane->in_doubt.capacity()) {
        lane->in_doubt.push_back(request.order_id);
      }
      return true;
    case VenueRequestKind::kForget: {
      // Settled by the engine: its lane no longer waits for it; its worker stops tracking it.
      auto it = std::find(lane->in_doubt.begin(), lane->in_doubt.end(), request.order_id);
      if (it != lane->in_doubt.end()) lane->in_doubt.erase(it);
      return true;
    }
    case VenueRequestKind::kStartupReconcile:
    case VenueRequestKind::kOwnedDeal: return true;
  }
  return true;
}

void CapitalVenue::note_outcome(const VenueEvent& event) {
  switch (event.kind) {
    case VenueEventKind::kAccepted:
    case VenueEventKind::kRejected:
    case VenueEventKind::kFill:
    case VenueEventKind::kCanceled: break;
    default: return;  // no outcome yet (named, Unknown) or not about one order
  }
  for (Lane& lane : lanes_) {
    auto it = std::find(lane.in_doubt.begin(), lane.in_doubt.end(), event.order_id);
    if (it == lane.in_doubt.end()) continue;
    lane.in_doubt.erase(it);
    return;
  }
}

int CapitalVenue::release_lanes() {
  int released = 0;
  for (std::size_t index = 0; index < lanes_.size(); ++index) {
    Lane& lane = lanes_[index];
    if (lane.waiting.empty()) continue;
    if (!lane.in_doubt.empty()) {
      if (!lane.blocked_reported &&
          now_ns() - lane.waiting_since_ns >= options_.lane_blocked_report_ns) {
        lane.blocked_reported = true;
        bump(stats_.lanes_blocked);
        spdlog::error(
            "venue: {} {}: {} places wait behind order {}, whose outcome is not known; nothing "
            "more is sent on this instrument and side until the broker's records resolve it",
            instruments_[index / 2].epic, index % 2 == 0 ? "BUY" : "SELL", lane.waiting.size(),
            lane.in_doubt.front());
      }
      continue;
    }
    if (request_backlog_.full()) continue;
    const VenueRequest next = lane.waiting.front();
    lane.waiting.pop_front();
    lane.in_doubt.push_back(next.order_id);
    dispatch(next);
    ++released;
    lane.waiting_since_ns = now_ns();  // the next place's wait starts now
    lane.blocked_reported = false;
  }
  return released;
}

int64_t CapitalVenue::next_deadline_ns() const {
  // A waiting backlog is not announced by a ring; and without its own doorbell (set_own_doorbell)
  // nothing rings this thread when workers produce results: poll as a 1 ms park did.
  constexpr int64_t kPollNs = 1'000'000;
  const bool poll =
      own_doorbell_ == nullptr || !event_backlog_.empty() || !request_backlog_.empty();
  return poll ? now_ns() + kPollNs : kNoDeadline;
}

void CapitalVenue::note_backpressure(bool full, bool& active, std::atomic<uint64_t>& episodes,
                                     std::string_view what) {
  if (full && !active) {
    bump(episodes);
    spdlog::warn("venue: {} (back-pressure episode {})", what,
                 episodes.load(std::memory_order_relaxed));
  }
  active = full;
}

// ---- workers -----------------------------------------------------------------------------------

void CapitalVenue::worker_loop(Worker& worker) {
  while (running_.load(std::memory_order_acquire)) {
    int work = 0;
    work += static_cast<int>(worker.findings.drain([this](const VenueEvent& finding) {
      VenueEvent event = finding;  // every field: kDealOwned carries instrument and opened
      event.created_ns = now_ns();
      outbox_.enqueue(event);
      findings_emitted_.fetch_add(1, std::memory_order_release);
      wake_venue_thread();  // the start-up report waits for this count
    }));
    VenueRequest request;
    while (worker.requests.try_pop(request)) {
      ++work;
      switch (request.kind) {
        case VenueRequestKind::kPlace: place(request); break;
        case VenueRequestKind::kCancel: cancel(request); break;
        case VenueRequestKind::kReconcile: track_recovered(request); break;
        case VenueRequestKind::kStartupReconcile: wake_poller(); break;
        case VenueRequestKind::kForget: forget(request); break;
        case VenueRequestKind::kOwnedDeal: note_owned_deal(request); break;
      }
    }
    if (work == 0) {
      const uint32_t epoch = worker.doorbell.prepare_wait();
      if (worker.requests.empty_approx() && worker.findings.empty_approx() &&
          running_.load(std::memory_order_acquire)) {
        worker.doorbell.wait(epoch, kWorkerParkNs);
      }
      worker.doorbell.cancel_wait();
    }
  }
}

void CapitalVenue::emit(VenueEventKind kind, OrderId order_id, PriceUnits price, SizeUnits size,
                        std::string_view venue_order_id, RejectReason reason) {
  outbox_.enqueue(venue_event(kind, order_id, price, size, venue_order_id, reason));
  wake_venue_thread();
}

absl::StatusOr<DealConfirmation> CapitalVenue::await_confirm(const std::string& deal_reference) {
  absl::Status last = absl::NotFoundError("no confirm yet");
  for (int attempt = 0; attempt < options_.confirm_attempts; ++attempt) {
    absl::StatusOr<DealConfirmation> confirmation = api_.confirm(deal_reference);
    if (confirmation.ok()) return confirmation;
    last = confirmation.status();
    if (!absl::IsNotFound(last) && !absl::IsUnavailable(last) && !absl::IsDeadlineExceeded(last) &&
        !absl::IsResourceExhausted(last)) {
      return last;
    }
    sleep_ns(options_.confirm_retry_ns);
  }
  return last;
}

void CapitalVenue::place(const VenueRequest& request) {
  if (request.instrument >= instruments_.size()) {
    emit(VenueEventKind::kRejected, request.order_id, 0, 0, "", RejectReason::kUnknownInstrument);
    return;
  }
  const VenueInstrument& instrument = instruments_[request.instrument];
  const InstrumentSpec& spec = instrument.spec;
  Tracked tracked;
  tracked.instrument = request.instrument;
  tracked.side = request.side;
  tracked.size = request.size;
  tracked.working_order = request.type == OrderType::kLimit;
  tracked.sent_epoch_ms = wall_epoch_ms();
  {
    std::lock_guard lock(mutex_);
    tracked_[request.order_id] = tracked;
  }

  const Decimal size = Decimal::from_fixed_point(request.size, spec.size_decimals);
  const Decimal level = Decimal::from_fixed_point(request.limit_price, spec.price_decimals);
  bump(stats_.deals_submitted);
  DealSendResult submission;
  if (tracked.working_order) {
    CreateWorkingOrderRequest body;
    body.epic = instrument.epic;
    body.direction = request.side;
    body.size = size;
    body.level = level;
    body.type = WorkingOrderType::kLimit;
    submission = api_.create_working_order(body);
  } else {
    CreatePositionRequest body;
    body.epic = instrument.epic;
    body.direction = request.side;
    body.size = size;
    submission = api_.open_position(body);
  }

  auto finish = [&](Phase phase, std::string deal_id = {}) {
    std::lock_guard lock(mutex_);
    Tracked& t = tracked_[request.order_id];
    t.phase = phase;
    if (phase == Phase::kUnknown) t.unknown_epoch_ms = wall_epoch_ms();
    if (!deal_id.empty()) t.deal_id = std::move(deal_id);
    if (phase == Phase::kDone) tracked_.erase(request.order_id);
  };

  if (submission.outcome == RequestOutcome::kOutcomeUnknown) {
    spdlog::warn("order {}: {} {} {} outcome unknown ({}); not re-sending, reconciling",
                 request.order_id, to_string(request.side), to_string(size), instrument.epic,
                 std::string(submission.status.message()));
    bump(stats_.outcomes_unknown);
    finish(Phase::kUnknown);
    emit(VenueEventKind::kOutcomeUnknown, request.order_id, 0, 0, "");
    wake_poller();
    return;
  }
  if (submission.outcome == RequestOutcome::kNotSent || !submission.status.ok()) {
    spdlog::warn("order {}: refused before execution: {}", request.order_id,
                 std::string(submission.status.message()));
    bump(stats_.deals_rejected);
    finish(Phase::kDone);
    emit(VenueEventKind::kRejected, request.order_id, 0, 0, "", RejectReason::kVenueRejected);
    return;
  }

  // The broker has the request and named it: journaled before anything else is learned, so a
  // crash from here on leaves an order found by its name, not guessed at.
  {
    std::lock_guard lock(mutex_);
    tracked_[request.order_id].reference = submission.deal_reference;
  }
  emit(VenueEventKind::kSubmitted, request.order_id, 0, 0, submission.deal_reference);
  const absl::StatusOr<DealConfirmation> confirmation = await_confirm(submission.deal_reference);
  if (!confirmation.ok()) {
    // The deal reference exists, so the broker has the request: its fate is unknown to us until
    // its confirm answers (the poller keeps asking for it).
    spdlog::warn("order {}: no confirm for {}: {}; reconciling", request.order_id,
                 submission.deal_reference, std::string(confirmation.status().message()));
    bump(stats_.outcomes_unknown);
    finish(Phase::kUnknown);
    emit(VenueEventKind::kOutcomeUnknown, request.order_id, 0, 0, "");
    wake_poller();
    return;
  }
  if (confirmation->deal_status != DealStatus::kAccepted) {
    spdlog::info("order {}: rejected by the broker: {}", request.order_id, confirmation->reason);
    bump(stats_.deals_rejected);
    finish(Phase::kDone);
    emit(VenueEventKind::kRejected, request.order_id, 0, 0, confirmation->deal_id,
         RejectReason::kVenueRejected);
    return;
  }
  bump(stats_.deals_accepted);
  std::vector<VenueEvent> owned;
  {
    std::lock_guard lock(mutex_);
    for (const AffectedDeal& deal : confirmation->affected_deals) {
      claimed_deal_ids_.insert(deal.deal_id);
    }
    claimed_deal_ids_.insert(confirmation->deal_id);
    if (!tracked.working_order) own_affected_deals(request.order_id, tracked, *confirmation, owned);
  }
  for (const VenueEvent& event : owned) outbox_.enqueue(event);
  int64_t fill_price = 0;
  if (!tracked.working_order && !units_of(confirmation->level.value_or(level), spec.price_decimals,
                                          fill_price, request.order_id)) {
    // Executed at a price the engine cannot hold: Unknown, for the operator, not a fill at 0.
    bump(stats_.outcomes_unknown);
    finish(Phase::kUnknown);
    emit(VenueEventKind::kOutcomeUnknown, request.order_id, 0, 0, "");
    return;
  }
  emit(VenueEventKind::kAccepted, request.order_id, 0, 0, confirmation->deal_id);
  if (tracked.working_order) {
    finish(Phase::kWorking, confirmation->deal_id);
    wake_poller();
    return;
  }
  finish(Phase::kDone);
  emit(VenueEventKind::kFill, request.order_id, fill_price, request.size, confirmation->deal_id);
}

void CapitalVenue::cancel(const VenueRequest& request) {
  std::string deal_id;
  {
    std::lock_guard lock(mutex_);
    auto it = tracked_.find(request.order_id);
    if (it == tracked_.end() || it->second.phase != Phase::kWorking) {
      // Filled, rejected, unknown, or a market order: nothing to delete at the broker.
      deal_id.clear();
    } else {
      it->second.cancel_requested = true;
      deal_id = it->second.deal_id;
    }
  }
  if (deal_id.empty()) {
    emit(VenueEventKind::kCancelRejected, request.order_id, 0, 0, "");
    return;
  }
  bump(stats_.cancels);
  const DealSendResult submission = api_.delete_working_order(deal_id);
  if (submission.accepted()) {
    const absl::StatusOr<DealConfirmation> confirmation = await_confirm(submission.deal_reference);
    if (confirmation.ok() && confirmation->deal_status == DealStatus::kAccepted) {
      {
        std::lock_guard lock(mutex_);
        tracked_.erase(request.order_id);
      }
      emit(VenueEventKind::kCanceled, request.order_id, 0, 0, deal_id);
      return;
    }
  }
  if (submission.outcome == RequestOutcome::kAnswered && absl::IsNotFound(submission.status)) {
    // Already gone (filled or removed): the poller reports which.
    emit(VenueEventKind::kCancelRejected, request.order_id, 0, 0, deal_id);
    wake_poller();
    return;
  }
  // Refused or unknown: the order may still be working; the poller resolves it either way.
  if (submission.outcome == RequestOutcome::kAnswered) {
    emit(VenueEventKind::kCancelRejected, request.order_id, 0, 0, deal_id);
  }
  wake_poller();
}

// ---- poller ------------------------------------------------------------------------------------

void CapitalVenue::post_finding(const VenueEvent& event) {
  Worker& worker = worker_for(event.order_id);
  while (!worker.findings.try_push(event)) sleep_ns(1'000'000);
  findings_posted_.fetch_add(1, std::memory_order_relaxed);
  worker.doorbell.ring();
}

void CapitalVenue::wake_poller() {
  {
    std::lock_guard lock(poll_mutex_);
    poll_due_ = true;
  }
  poll_wake_.notify_all();
}

bool CapitalVenue::shape_pending(const Tracked& unknown) const {
  for (const auto& [id, t] : tracked_) {
    if (t.phase == Phase::kPlacing && t.instrument == unknown.instrument &&
        t.side == unknown.side && t.size == unknown.size) {
      return true;
    }
  }
  return false;
}

void CapitalVenue::poller_loop() {
  while (running_.load(std::memory_order_acquire)) {
    {
      // The next pass at the poll interval, or sooner when an Unknown order's absence window
      // ends before it: a restart's reconciliation then ends when the window does, not up to a
      // poll interval later.
      const int64_t wait_ns = std::min(options_.poll_interval_ns, until_next_absence_ns());
      std::unique_lock lock(poll_mutex_);
      poll_wake_.wait_for(lock, std::chrono::nanoseconds(wait_ns), [this] {
        return poll_due_ || !running_.load(std::memory_order_acquire);
      });
      poll_due_ = false;
    }
    if (!running_.load(std::memory_order_acquire)) break;
    // Start-up: once every recovered order the engine handed over is tracked, each pass is a
    // snapshot until the reconciliation is complete. Read before the pass, so the pass's
    // snapshot is taken with all of them tracked.
    const int64_t expected = startup_expected_.load(std::memory_order_acquire);
    const bool startup = expected >= 0 && !startup_decided_.load(std::memory_order_relaxed) &&
                         recovered_tracked_.load(std::memory_order_acquire) >= expected;
    bool anything_open = false;
    {
      std::lock_guard lock(mutex_);
      for (const auto& [id, t] : tracked_) {
        anything_open |= t.phase == Phase::kWorking || t.phase == Phase::kUnknown;
      }
    }
    const bool periodic = now_ns() - last_snapshot_ns_ >= options_.reconcile_interval_ns;
    if (snapshot_requested_.exchange(false, std::memory_order_acq_rel) || anything_open ||
        startup || periodic) {
      resolve_by_reference();
      if (!reconcile()) continue;
      last_snapshot_ns_ = now_ns();
      // The start-up decision reports its own snapshot, ahead of kStartupReconciled.
      if (!(startup && finish_startup_if_settled())) report_snapshot(/*deciding=*/false);
    }
  }
}

int64_t CapitalVenue::until_next_absence_ns() const {
  const int64_t now_ms = wall_epoch_ms();
  int64_t soonest_ms = std::numeric_limits<int64_t>::max();
  std::lock_guard lock(mutex_);
  for (const auto& [order_id, t] : tracked_) {
    if (t.phase != Phase::kUnknown) continue;
    const int64_t due_ms = t.unknown_epoch_ms + options_.unknown_absence_after_ms;
    if (due_ms > now_ms) soonest_ms = std::min(soonest_ms, due_ms - now_ms);
  }
  if (soonest_ms == std::numeric_limits<int64_t>::max()) return options_.poll_interval_ns;
  return (soonest_ms + 1) * 1'000'000;  // just past the boundary (the check is >=)
}

void CapitalVenue::track_recovered(const VenueRequest& request) {
  if (request.instrument >= instruments_.size()) {
    emit(VenueEventKind::kRejected, request.order_id, 0, 0, "", RejectReason::kUnknownInstrument);
    recovered_tracked_.fetch_add(1, std::memory_order_release);
    wake_poller();
    return;
  }
  Tracked t;
  t.instrument = request.instrument;
  t.side = request.side;
  t.size = request.size;
  t.working_order = request.type == OrderType::kLimit;
  t.sent_epoch_ms = request.sent_epoch_ms;
  t.recovered = true;
  const std::size_t id_length =
      ::strnlen(request.venue_order_id.data(), request.venue_order_id.size());
  if (request.venue_id_is_reference) {
    t.reference.assign(request.venue_order_id.data(), id_length);
  }
  if (t.working_order && id_length > 0 && !request.venue_id_is_reference) {
    // Working at the broker when the engine stopped: the poller finds its fill or removal.
    t.phase = Phase::kWorking;
    t.deal_id.assign(request.venue_order_id.data(), id_length);
  } else {
    // Sent but never answered (or a market order between its ack and its fill): resolved only
    // from what the broker shows, exactly like an Unknown outcome.
    t.phase = Phase::kUnknown;
    // Its request has been with the broker (or lost) since it was sent, in an earlier run: the
    // absence window counts from then, as a live order's counts from its failed answer. An
    // order the broker has had for longer than the window is checked at the first pass, so a
    // restart does not wait the window again for orders that went Unknown long ago.
    const int64_t now_ms = wall_epoch_ms();
    t.unknown_epoch_ms =
        request.sent_epoch_ms > 0 ? std::min(now_ms, request.sent_epoch_ms) : now_ms;
  }
  spdlog::info("order {}: recovered from the journal, reconciling ({})", request.order_id,
               t.phase == Phase::kWorking ? "working order " + t.deal_id
               : t.reference.empty()      ? std::string("outcome unknown, never named")
                                          : "outcome unknown, request " + t.reference);
  {
    std::lock_guard lock(mutex_);
    if (!t.deal_id.empty()) claimed_deal_ids_.insert(t.deal_id);
    tracked_[request.order_id] = t;
  }
  if (request.cancel_requested && !t.deal_id.empty()) {
    // The cancel was journaled before the stop but may never have reached the broker.
    VenueRequest cancel_request = request;
    cancel_request.kind = VenueRequestKind::kCancel;
    cancel(cancel_request);
  }
  // After its events (the cancel's) are in the outbox: the start-up decision counts on it.
  recovered_tracked_.fetch_add(1, std::memory_order_release);
  request_snapshot();
}

void CapitalVenue::request_snapshot() {
  bump(stats_.snapshots_requested);
  snapshot_requested_.store(true, std::memory_order_release);
  wake_poller();
}

bool CapitalVenue::finish_startup_if_settled() {
  const int64_t now_ms = wall_epoch_ms();
  const int64_t flag_after_ms =
      options_.unknown_absence_after_ms + options_.startup_unknown_grace_ms;
  std::size_t recovered_open = 0;
  std::vector<OrderId> flagged;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [order_id, t] : tracked_) {
      if (!t.recovered) continue;
      ++recovered_open;
      if (t.phase == Phase::kWorking && t.missing_polls > 0) {
        // Gone from the list, no position, the history silent so far: waits for the history,
        // then is flagged like an Unknown order (and still resolved when the history answers).
        if (now_ms - t.vanished_epoch_ms < flag_after_ms) return false;
        flagged.push_back(order_id);
        continue;
      }
      if (t.phase != Phase::kUnknown) continue;
      if (!t.ambiguity_logged && now_ms - t.unknown_epoch_ms < flag_after_ms) {
        return false;  // its history check has not run (or not answered) yet
      }
      flagged.push_back(order_id);
    }
  }
  std::sort(flagged.begin(), flagged.end());
  std::string ids;
  for (const OrderId id : flagged) ids += (ids.empty() ? "" : ", ") + std::to_string(id);
  const int64_t requested_ms = startup_requested_ms_.load(std::memory_order_relaxed);
  const int64_t took_ms = now_ms > requested_ms ? now_ms - requested_ms : 0;
  if (!flagged.empty()) {
    spdlog::warn(
        "venue: start-up reconciliation leaves {} recovered orders in doubt (order ids {}): "
        "the broker's positions, working orders and activity history do not say what became of "
        "them; check the account and resolve them by hand",
        flagged.size(), ids);
  }
  spdlog::info(
      "venue: start-up reconciliation complete in {} ms: {} recovered orders handed over, {} "
      "still open at the broker or Unknown, {} left Unknown; the broker shows {} positions and "
      "{} working orders",
      took_ms, startup_expected_.load(std::memory_order_relaxed), recovered_open, flagged.size(),
      snapshot_positions_, snapshot_working_orders_);
  stats_.startup_left_unknown.store(flagged.size(), std::memory_order_relaxed);
  stats_.startup_reconcile_ms.store(static_cast<uint64_t>(took_ms), std::memory_order_relaxed);
  // The broker's positions and orphans of this snapshot go first; every finding of this and
  // earlier passes is posted; the venue thread waits until the workers have emitted them all
  // and the reports are forwarded, then reports.
  report_snapshot(/*deciding=*/true);
  startup_after_findings_.store(findings_posted_.load(std::memory_order_relaxed),
                                std::memory_order_relaxed);
  startup_decided_.store(true, std::memory_order_release);
  wake_venue_thread();
  return true;
}

bool CapitalVenue::reconcile() {
  // Working orders first, then positions: a working order that fills between the two calls is
  // then seen as a position, never as vanished.
  absl::StatusOr<WorkingOrdersResponse> working_answer = api_.working_orders();
  if (!working_answer.ok()) {
    bump(stats_.poll_errors);
    spdlog::warn("reconcile: working orders: {}", std::string(working_answer.status().message()));
    return false;
  }
  absl::StatusOr<PositionsResponse> positions_answer = api_.positions();
  if (!positions_answer.ok()) {
    bump(stats_.poll_errors);
    spdlog::warn("reconcile: positions: {}", std::string(positions_answer.status().message()));
    return false;
  }
  const std::vector<WorkingOrderItem>& working = working_answer->working_orders;
  const std::vector<PositionItem>& positions = positions_answer->positions;
  snapshot_positions_ = positions.size();
  snapshot_working_orders_ = working.size();
  std::vector<VenueEvent> findings;
  std::vector<OrderId> absent;    // Unknown, nothing matches, old enough to ask the history
  std::vector<OrderId> vanished;  // working orders gone from the list without a position
  const int64_t now_ms = wall_epoch_ms();
  // The history is read against the deals the journal owns: once the engine's start-up hand-over
  // (recovered orders, owned deals) has been taken in, when there is one.
  const int64_t handed_over = startup_expected_.load(std::memory_order_acquire);
  const bool history_comparable =
      !handover_started_.load(std::memory_order_acquire) ||
      (handed_over >= 0 && recovered_tracked_.load(std::memory_order_acquire) >= handed_over);
  {
    std::lock_guard lock(mutex_);
    for (auto it = tracked_.begin(); it != tracked_.end();) {
      const OrderId order_id = it->first;
      Tracked& t = it->second;
      const InstrumentSpec& spec = instruments_[t.instrument].spec;
      const std::string& epic = instruments_[t.instrument].epic;
      bool done = false;
      if (t.phase == Phase::kWorking) {
        const bool still_working = std::any_of(working.begin(), working.end(), [&](auto& w) {
          return w.working_order_data.deal_id == t.deal_id;
        });
        if (still_working) {
          t.missing_polls = 0;
          t.listed_epoch_ms = now_ms;
        } else {
          auto filled = std::find_if(positions.begin(), positions.end(), [&](auto& p) {
            return p.position.working_order_id == t.deal_id;
          });
          int64_t fill_price = 0;
          if (filled != positions.end() &&
              units_of(filled->position.level, spec.price_decimals, fill_price, order_id)) {
            claimed_deal_ids_.insert(filled->position.deal_id);
            findings.push_back(own_deal(order_id, t, filled->position.deal_id, /*opened=*/true));
            if (filled->position.size != Decimal::from_fixed_point(t.size, spec.size_decimals)) {
              // Part of it netted against opposite positions, whose ids nothing tells us.
              findings.push_back(own_deal(order_id, t, "", /*opened=*/false));
            }
            findings.push_back(
                venue_event(VenueEventKind::kFill, order_id, fill_price, t.size, t.deal_id));
            bump(stats_.working_order_fills);
            done = true;
          } else if (filled != positions.end()) {
            // Filled at a price the engine cannot hold: stays tracked, logged each pass.
          } else {
            // Gone, and no position carries its id: it was cancelled or expired — or it filled
            // by closing an opposite position (netting opens nothing). Only its own entry in the
            // activity history tells which; until then it stays what the engine last knew.
            if (t.missing_polls++ == 0) t.vanished_epoch_ms = now_ms;
            vanished.push_back(order_id);
          }
        }
      } else if (t.phase == Phase::kUnknown && !shape_pending(t) &&
                 (t.reference.empty() ||
                  now_ms - t.unknown_epoch_ms >= options_.unknown_absence_after_ms)) {
        // A named order is resolved by its confirm (resolve_by_reference); matching by shape
        // could take someone else's deal, so it is only the fallback when the confirm stays
        // missing for the whole absence window.
        // Only deals made since this venue started: what earlier runs' orders claimed is not
        // known here. Recovered orders are never matched by shape at all (see Tracked).
        const int64_t earliest =
            std::max(t.sent_epoch_ms - options_.unknown_match_skew_ms, started_epoch_ms_);
        auto as_position = std::find_if(positions.begin(), positions.end(), [&](auto& item) {
          const Position& p = item.position;
          return !t.recovered && item.market.epic == epic && p.direction == t.side &&
                 p.size == Decimal::from_fixed_point(t.size, spec.size_decimals) &&
                 parse_broker_utc_ms(p.created_date_utc) >= earliest &&
                 !claimed_deal_ids_.contains(p.deal_id);
        });
        auto as_working = std::find_if(working.begin(), working.end(), [&](auto& item) {
          const WorkingOrderData& w = item.working_order_data;
          return !t.recovered && w.epic == epic && w.direction == t.side &&
                 w.order_size == Decimal::from_fixed_point(t.size, spec.size_decimals) &&
                 !claimed_deal_ids_.contains(w.deal_id);
        });
        int64_t fill_price = 0;
        if (!t.working_order && as_position != positions.end() &&
            units_of(as_position->position.level, spec.price_decimals, fill_price, order_id)) {
          const Position& p = as_position->position;
          claimed_deal_ids_.insert(p.deal_id);
          findings.push_back(own_deal(order_id, t, p.deal_id, /*opened=*/true));
          findings.push_back(
              venue_event(VenueEventKind::kFill, order_id, fill_price, t.size, p.deal_id));
          bump(stats_.unknown_resolved);
          spdlog::info("order {}: Unknown resolved: executed as position {}", order_id, p.deal_id);
          done = true;
        } else if (t.working_order && as_working != working.end()) {
          const std::string& deal_id = as_working->working_order_data.deal_id;
          claimed_deal_ids_.insert(deal_id);
          findings.push_back(venue_event(VenueEventKind::kAccepted, order_id, 0, 0, deal_id));
          bump(stats_.unknown_resolved);
          spdlog::info("order {}: Unknown resolved: working as {}", order_id, deal_id);
          t.phase = Phase::kWorking;
          t.deal_id = deal_id;
        } else if (!history_comparable) {
          // The engine's owned deals are still being handed over: nothing can be subtracted.
        } else if (now_ms - t.unknown_epoch_ms >= options_.unknown_absence_after_ms) {
          absent.push_back(order_id);
        } else if (t.recovered && !t.history_read_early) {
          // An execution shows in the history at once: a recovered order whose deal is there
          // is identified now; absence still waits for the window.
          t.history_read_early = true;
          absent.push_back(order_id);
        }
      }
      it = done ? tracked_.erase(it) : std::next(it);
    }
  }
  for (const VenueEvent& event : findings) post_finding(event);
  if (!vanished.empty()) resolve_vanished(vanished);
  if (!absent.empty()) resolve_absent(absent);
  snapshot_working_ = std::move(working_answer->working_orders);
  snapshot_positions_list_ = std::move(positions_answer->positions);
  return true;
}

void CapitalVenue::report_snapshot(bool deciding) {
  const int64_t now_ms = wall_epoch_ms();
  const int64_t give_up_after_ms =
      options_.unknown_absence_after_ms + options_.startup_unknown_grace_ms;
  std::vector<bool> in_flight(instruments_.size(), false);
  std::vector<const WorkingOrderData*> orphans;
  const bool orphans_possible = deciding || startup_decided_.load(std::memory_order_acquire);
  std::map<std::string, int> sightings;
  {
    std::lock_guard lock(mutex_);
    // Still being found out: an Unknown order is given up once its history showed something
    // that could be it, or never answered for the whole start-up allowance.
    const auto finding_out = [&](const Tracked& t) {
      return t.phase == Phase::kUnknown && !t.ambiguity_logged &&
             now_ms - t.unknown_epoch_ms < give_up_after_ms;
    };
    for (const auto& [order_id, t] : tracked_) {
      if (t.phase == Phase::kPlacing || finding_out(t) ||
          (t.phase == Phase::kWorking && t.missing_polls > 0)) {
        in_flight[t.instrument] = true;
      }
    }
    for (const WorkingOrderItem& item : snapshot_working_) {
      const WorkingOrderData& w = item.working_order_data;
      if (claimed_deal_ids_.contains(w.deal_id)) continue;
      auto ours = std::find_if(instruments_.begin(), instruments_.end(),
                               [&](const VenueInstrument& i) { return i.epic == w.epic; });
      if (ours == instruments_.end() || !orphans_possible) continue;  // not an epic we trade
      const auto instrument = static_cast<InstrumentId>(ours - instruments_.begin());
      // An order of ours whose answer may still name it (recovered ones never match by shape).
      const bool claimable = std::any_of(tracked_.begin(), tracked_.end(), [&](auto& kv) {
        const Tracked& t = kv.second;
        return t.instrument == instrument && t.working_order &&
               (t.phase == Phase::kPlacing || (finding_out(t) && !t.recovered));
      });
      if (claimable) continue;
      const int seen = orphan_sightings_[w.deal_id] + 1;
      if (seen < (deciding ? 1 : 2)) {
        sightings[w.deal_id] = seen;
        continue;
      }
      claimed_deal_ids_.insert(w.deal_id);  // reported once
      orphans.push_back(&w);
    }
  }
  orphan_sightings_ = std::move(sightings);  // ids no longer listed are forgotten

  const uint64_t after = findings_posted_.load(std::memory_order_relaxed);
  if (reports_.producer_room(instruments_.size() + orphans.size()) <
      instruments_.size() + orphans.size()) {
    return;  // the venue thread is behind: the next snapshot reports again
  }
  for (std::size_t i = 0; i < instruments_.size(); ++i) {
    const InstrumentSpec& spec = instruments_[i].spec;
    __int128 net = 0;
    __int128 value = 0;
    bool readable = true;
    for (const PositionItem& item : snapshot_positions_list_) {
      if (item.market.epic != instruments_[i].epic) continue;
      int64_t size = 0;
      int64_t level = 0;
      readable &= units_of(item.position.size, spec.size_decimals, size, 0) &&
                  units_of(item.position.level, spec.price_decimals, level, 0);
      const int64_t signed_size = item.position.direction == Side::kBuy ? size : -size;
      net += signed_size;
      value += static_cast<__int128>(signed_size) * level;
    }
    QueuedReport report;
    report.after_findings = after;
    VenueEvent& event = report.event;
    event.kind = VenueEventKind::kPositionReport;
    event.instrument = static_cast<InstrumentId>(i);
    event.settled = readable && !in_flight[i];
    event.fill_size = static_cast<SizeUnits>(net);
    event.fill_price = net != 0 ? static_cast<PriceUnits>(value / net) : 0;
    event.created_ns = now_ns();
    reports_.try_push(report);
  }
  bump(stats_.position_reports);
  for (const WorkingOrderData* w : orphans) {
    bump(stats_.orphans_found);
    const auto instrument = static_cast<InstrumentId>(
        std::find_if(instruments_.begin(), instruments_.end(),
                     [&](const VenueInstrument& i) { return i.epic == w->epic; }) -
        instruments_.begin());
    const InstrumentSpec& spec = instruments_[instrument].spec;
    int64_t size = 0;
    int64_t level = 0;
    const bool readable = units_of(w->order_size, spec.size_decimals, size, 0) &&
                          units_of(w->order_level, spec.price_decimals, level, 0);
    switch (options_.orphan_working_orders) {
      case CapitalVenueOptions::Orphans::kAdopt: {
        if (!readable) break;
        spdlog::warn("venue: working order {} on {} is not accounted for by any order: adopting it",
                     w->deal_id, w->epic);
        QueuedReport report;
        report.after_findings = after;
        report.event = venue_event(VenueEventKind::kOrphanWorkingOrder, 0, level,
                                   w->direction == Side::kBuy ? size : -size, w->deal_id);
        report.event.instrument = instrument;
        reports_.try_push(report);
        break;
      }
      case CapitalVenueOptions::Orphans::kCancel: {
        const DealSendResult result = api_.delete_working_order(w->deal_id);
        spdlog::warn("venue: working order {} on {} is not accounted for by any order: cancel {}",
                     w->deal_id, w->epic,
                     result.accepted() ? "sent" : std::string(result.status.message()));
        if (result.accepted()) {
          bump(stats_.orphans_cancelled);
        } else {
          std::lock_guard lock(mutex_);
          claimed_deal_ids_.erase(w->deal_id);  // tried again at the next snapshots
        }
        break;
      }
      case CapitalVenueOptions::Orphans::kLeave:
        spdlog::error(
            "venue: working order {} on {} is not accounted for by any order and is left alone "
            "(venue.orphan_working_orders = leave): nothing manages it",
            w->deal_id, w->epic);
        break;
    }
  }
  wake_venue_thread();
}

void CapitalVenue::forget(const VenueRequest& request) {
  std::lock_guard lock(mutex_);
  if (tracked_.erase(request.order_id) != 0) bump(stats_.orders_forgotten);
}

void CapitalVenue::resolve_by_reference() {
  std::vector<std::pair<OrderId, std::string>> named;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [order_id, t] : tracked_) {
      if (t.phase == Phase::kUnknown && !t.reference.empty())
        named.emplace_back(order_id, t.reference);
    }
  }
  for (const auto& [order_id, reference] : named) {
    // One attempt per pass: a confirm the broker has not recorded yet is asked for again at the
    // next pass (404 is the usual answer for a moment after the deal).
    const absl::StatusOr<DealConfirmation> confirmation = api_.confirm(reference);
    if (!confirmation.ok()) continue;
    std::lock_guard lock(mutex_);
    auto it = tracked_.find(order_id);
    if (it == tracked_.end() || it->second.phase != Phase::kUnknown) continue;
    Tracked& t = it->second;
    const InstrumentSpec& spec = instruments_[t.instrument].spec;
    if (confirmation->deal_status != DealStatus::kAccepted) {
      spdlog::info("order {}: Unknown resolved by its confirm {}: rejected ({})", order_id,
                   reference, confirmation->reason);
      post_finding(venue_event(VenueEventKind::kRejected, order_id, 0, 0, confirmation->deal_id,
                               RejectReason::kVenueRejected));
      bump(stats_.unknown_resolved);
      bump(stats_.resolved_by_reference);
      tracked_.erase(it);
      continue;
    }
    for (const AffectedDeal& deal : confirmation->affected_deals)
      claimed_deal_ids_.insert(deal.deal_id);
    claimed_deal_ids_.insert(confirmation->deal_id);
    if (t.working_order) {
      spdlog::info("order {}: Unknown resolved by its confirm {}: working as {}", order_id,
                   reference, confirmation->deal_id);
      post_finding(venue_event(VenueEventKind::kAccepted, order_id, 0, 0, confirmation->deal_id));
      t.phase = Phase::kWorking;
      t.deal_id = confirmation->deal_id;
      bump(stats_.unknown_resolved);
      bump(stats_.resolved_by_reference);
      continue;
    }
    int64_t fill_price = 0;
    if (!confirmation->level ||
        !units_of(*confirmation->level, spec.price_decimals, fill_price, order_id)) {
      continue;  // logged by units_of (or no level): stays Unknown for the operator
    }
    spdlog::info("order {}: Unknown resolved by its confirm {}: executed as {}", order_id,
                 reference, confirmation->deal_id);
    std::vector<VenueEvent> owned;
    own_affected_deals(order_id, t, *confirmation, owned);
    for (const VenueEvent& event : owned) post_finding(event);
    post_finding(
        venue_event(VenueEventKind::kFill, order_id, fill_price, t.size, confirmation->deal_id));
    bump(stats_.unknown_resolved);
    bump(stats_.resolved_by_reference);
    tracked_.erase(it);
  }
}

std::map<std::string, absl::StatusOr<ActivityHistoryResponse>> CapitalVenue::read_histories(
    const std::map<std::string, int64_t>& earliest_by_epic) {
  std::map<std::string, absl::StatusOr<ActivityHistoryResponse>> history;
  const int64_t now_ms = wall_epoch_ms();
  for (const auto& [epic, earliest] : earliest_by_epic) {
    const int64_t period_s = (now_ms - earliest) / 1000 + 60;
    if (period_s > kHistoryMaxSeconds) {
      // The broker keeps one day: what happened before that cannot be read, so nothing can be
      // concluded from the history's silence.
      history.emplace(epic, absl::OutOfRangeError(absl::StrCat(
                                "the question reaches back ", period_s,
                                " s, beyond the one day the activity history covers")));
      continue;
    }
    history.emplace(epic, api_.activity_history(period_s, epic));
  }
  return history;
}

void CapitalVenue::resolve_vanished(const std::vector<OrderId>& orders) {
  // Since it was last seen listed (or sent, for one recovered from an earlier run).
  std::map<std::string, int64_t> earliest_by_epic;
  {
    std::lock_guard lock(mutex_);
    for (const OrderId order_id : orders) {
      auto it = tracked_.find(order_id);
      if (it == tracked_.end() || it->second.phase != Phase::kWorking) continue;
      const Tracked& t = it->second;
      const int64_t since = t.listed_epoch_ms > 0 ? t.listed_epoch_ms : t.sent_epoch_ms;
      const int64_t earliest = since - options_.unknown_match_skew_ms;
      auto [slot, inserted] = earliest_by_epic.emplace(instruments_[t.instrument].epic, earliest);
      if (!inserted) slot->second = std::min(slot->second, earliest);
    }
  }
  const auto history = read_histories(earliest_by_epic);
  const int64_t now_ms = wall_epoch_ms();
  for (const OrderId order_id : orders) {
    std::lock_guard lock(mutex_);
    auto it = tracked_.find(order_id);
    if (it == tracked_.end() || it->second.phase != Phase::kWorking) continue;
    Tracked& t = it->second;
    const std::string& epic = instruments_[t.instrument].epic;
    auto found = history.find(epic);
    if (found == history.end()) continue;
    const Activity* outcome = nullptr;
    if (found->second.ok()) {
      for (const Activity& a : found->second->activities) {
        if (a.deal_id != t.deal_id || a.type != "WORKING_ORDER") continue;
        if (a.status == "EXECUTED" || a.status == "CANCELLED" || a.status == "EXPIRED" ||
            a.status == "DELETED") {
          outcome = &a;
        }
      }
    }
    if (outcome == nullptr) {
      // Not in the history yet (it can lag the list), or the history could not be read: still
      // what the engine last knew. Said once, when it has been like this for a while.
      if (!t.ambiguity_logged &&
          now_ms - t.vanished_epoch_ms >= options_.unknown_absence_after_ms) {
        t.ambiguity_logged = true;
        spdlog::warn(
            "order {}: working order {} on {} left the broker's list {} ms ago without a position "
            "and the activity history does not say why ({}); treated as working until it does",
            order_id, t.deal_id, epic, now_ms - t.vanished_epoch_ms,
            found->second.ok() ? std::string("no entry")
                               : std::string(found->second.status().message()));
      }
      continue;
    }
    const InstrumentSpec& spec = instruments_[t.instrument].spec;
    if (outcome->status == "EXECUTED") {
      int64_t fill_price = 0;
      if (!outcome->details ||
          !units_of(outcome->details->level, spec.price_decimals, fill_price, order_id)) {
        continue;  // logged by units_of (or no level to fill at): stays tracked
      }
      spdlog::info("order {}: working order {} executed without opening a position (netted)",
                   order_id, t.deal_id);
      post_finding(own_deal(order_id, t, "", /*opened=*/false));  // closed: ids not named
      post_finding(venue_event(VenueEventKind::kFill, order_id, fill_price, t.size, t.deal_id));
      bump(stats_.working_order_fills);
    } else {
      spdlog::info("order {}: working order {} {} at the broker", order_id, t.deal_id,
                   outcome->status == "EXPIRED" ? "expired" : "was cancelled");
      post_finding(venue_event(VenueEventKind::kCanceled, order_id, 0, 0, t.deal_id));
    }
    tracked_.erase(it);
  }
}

VenueEvent CapitalVenue::own_deal(OrderId order_id, const Tracked& t, std::string_view deal_id,
                                  bool opened) {
  OwnedDeal deal;
  std::memcpy(deal.deal_id.data(), deal_id.data(),
              std::min(deal_id.size(), deal.deal_id.size() - 1));
  deal.epoch_ms = wall_epoch_ms();
  deal.order_id = order_id;
  deal.instrument = t.instrument;
  deal.side = t.side;
  deal.opened = opened;
  owned_deals_.record(deal);
  bump(stats_.deals_owned);
  VenueEvent event = venue_event(VenueEventKind::kDealOwned, order_id, deal.epoch_ms, 0, deal_id);
  event.instrument = t.instrument;
  event.opened = opened;
  return event;
}

void CapitalVenue::own_affected_deals(OrderId order_id, const Tracked& t,
                                      const DealConfirmation& confirmation,
                                      std::vector<VenueEvent>& out) {
  // The positions a market order opened or closed: journaled, so that after a crash the
  // history's entries for them are known to be this order's.
  for (const AffectedDeal& deal : confirmation.affected_deals) {
    const bool opened = deal.status == AffectedDealStatus::kOpened;
    const bool closed = deal.status == AffectedDealStatus::kFullyClosed ||
                        deal.status == AffectedDealStatus::kPartiallyClosed;
    if (opened || closed) out.push_back(own_deal(order_id, t, deal.deal_id, opened));
  }
}

void CapitalVenue::note_owned_deal(const VenueRequest& request) {
  {
    std::lock_guard lock(mutex_);
    if (request.owned_deals_complete_since) {
      // The marker: the engine's list is complete from then on; with this run's deals (none
      // were made between the crash and this start) the union is too.
      owned_deals_.restore(owned_deals_.list(), request.sent_epoch_ms);
    } else {
      OwnedDeal deal;
      deal.deal_id = request.venue_order_id;
      deal.epoch_ms = request.sent_epoch_ms;
      deal.order_id = request.order_id;
      deal.instrument = request.instrument;
      deal.side = request.side;
      deal.opened = request.deal_opened;
      owned_deals_.record(deal);
    }
  }
  recovered_tracked_.fetch_add(1, std::memory_order_release);
  wake_poller();
}

CapitalVenue::HistoryVerdict CapitalVenue::judge_by_history(
    OrderId order_id, const Tracked& t, const ActivityHistoryResponse& history,
    std::vector<const Activity*>& its_deals) const {
  its_deals.clear();
  const std::string& epic = instruments_[t.instrument].epic;
  const int64_t earliest = t.sent_epoch_ms - options_.unknown_match_skew_ms;
  // Anything the user did on this epic in this direction since the send could be this order
  // (a netting deal leaves no new position); an entry whose date does not parse could be
  // anything.
  std::vector<const Activity*> could_be_it;
  for (const Activity& a : history.activities) {
    const int64_t at = parse_broker_utc_ms(a.date_utc);
    if (a.epic == epic && (at == 0 || at >= earliest) && a.source == "USER" &&
        a.status != "REJECTED" && (!a.details || a.details->direction == t.side)) {
      could_be_it.push_back(&a);
    }
  }
  if (could_be_it.empty()) return HistoryVerdict::kNothing;
  // A limit order's entries (working order created, then executed by the broker's system) are
  // not deals the journal names; nor can anything be subtracted from before the owned deals
  // are complete, or around a deal of ours whose ids are not known.
  if (t.working_order || earliest < owned_deals_.complete_since_epoch_ms()) {
    return HistoryVerdict::kCouldBeAnything;
  }
  std::vector<bool> used(owned_deals_.size(), false);
  for (std::size_t i = 0; i < owned_deals_.size(); ++i) {
    const OwnedDeal& deal = owned_deals_[i];
    if (deal.order_id != order_id && deal.deal_id[0] == '\0' && deal.instrument == t.instrument &&
        deal.side == t.side && deal.epoch_ms >= earliest - options_.unknown_match_skew_ms) {
      return HistoryVerdict::kCouldBeAnything;
    }
  }
  // Subtract, by the broker's deal id, every deal the journal owns: an opening is the position's
  // ACCEPTED entry, a close an EXECUTED entry of the closed position in the closer's direction.
  SizeUnits unowned_size = 0;
  for (const Activity* a : could_be_it) {
    const bool opened = a->status == "ACCEPTED";
    const bool closed = a->status == "EXECUTED";
    if (a->type != "POSITION" || (!opened && !closed)) continue;  // not a deal (edits, orders)
    if (!a->details || parse_broker_utc_ms(a->date_utc) == 0)
      return HistoryVerdict::kCouldBeAnything;
    bool ours = false;
    for (std::size_t i = 0; i < owned_deals_.size() && !ours; ++i) {
      const OwnedDeal& deal = owned_deals_[i];
      // Its own deals (journaled before its fill, which a crash may have cut off) are left in:
      // they are what identifies it.
      if (used[i] || deal.order_id == order_id || deal.instrument != t.instrument ||
          deal.side != t.side || deal.opened != opened ||
          std::string_view(deal.deal_id.data(),
                           ::strnlen(deal.deal_id.data(), deal.deal_id.size())) != a->deal_id) {
        continue;
      }
      used[i] = ours = true;
    }
    if (ours) continue;
    SizeUnits size = 0;
    if (a->details->size.to_fixed_point(instruments_[t.instrument].spec.size_decimals, size) !=
        DecimalStatus::kOk) {
      return HistoryVerdict::kCouldBeAnything;
    }
    unowned_size += size;
    its_deals.push_back(a);
  }
  if (its_deals.empty()) return HistoryVerdict::kNothing;
  // Not this order's alone when another order of ours on the lane is in doubt too (one named
  // whose confirm has not come, one recovered that may never have left its lane), or a working
  // order there can fill at any moment — after the positions were read, before the history was
  // — and its deal is then in the history before anything owns it.
  const bool others_on_lane =
      std::any_of(tracked_.begin(), tracked_.end(),
                  [&](const auto& kv) {
                    const Tracked& other = kv.second;
                    return kv.first != order_id && other.instrument == t.instrument &&
                           other.side == t.side &&
                           (other.phase == Phase::kWorking || other.phase == Phase::kUnknown ||
                            other.phase == Phase::kPlacing);
                  }) ||
      std::any_of(snapshot_working_.begin(), snapshot_working_.end(), [&](const auto& item) {
        return item.working_order_data.epic == epic && item.working_order_data.direction == t.side;
      });
  // What is left is this order's when it adds up to exactly its size; anything else (a trade by
  // hand beside it, or instead of it) is for the positions to settle (engine/reconciliation.cpp).
  return unowned_size == t.size && !others_on_lane ? HistoryVerdict::kExecuted
                                                   : HistoryVerdict::kCouldBeAnything;
}

void CapitalVenue::resolve_absent(const std::vector<OrderId>& candidates) {
  // One history read per epic serves every candidate on it (after a few restarts there can be
  // dozens, and the broker allows ~10 requests a second): it looks back to a little before the
  // oldest candidate's send. The broker keeps one day: a candidate sent before that cannot be
  // proved absent, and stays Unknown (read_histories).
  std::map<std::string, int64_t> earliest_by_epic;
  {
    std::lock_guard lock(mutex_);
    for (const OrderId order_id : candidates) {
      auto it = tracked_.find(order_id);
      if (it == tracked_.end() || it->second.phase != Phase::kUnknown) continue;
      const std::string& epic = instruments_[it->second.instrument].epic;
      const int64_t earliest = it->second.sent_epoch_ms - options_.unknown_match_skew_ms;
      auto [slot, inserted] = earliest_by_epic.emplace(epic, earliest);
      if (!inserted) slot->second = std::min(slot->second, earliest);
    }
  }
  auto history = read_histories(earliest_by_epic);
  const int64_t now_ms = wall_epoch_ms();
  std::vector<const Activity*> its_deals;
  for (const OrderId order_id : candidates) {
    std::string epic;
    {
      std::lock_guard lock(mutex_);
      auto it = tracked_.find(order_id);
      if (it == tracked_.end() || it->second.phase != Phase::kUnknown) continue;
      epic = instruments_[it->second.instrument].epic;
    }
    auto found = history.find(epic);
    if (found == history.end()) continue;
    const absl::StatusOr<ActivityHistoryResponse>& activity = found->second;
    if (!activity.ok()) {
      bump(stats_.poll_errors);
      spdlog::warn("reconcile: activity history of {}: {}", epic,
                   std::string(activity.status().message()));
      history.erase(found);  // warned once per epic and pass
      continue;
    }
    std::vector<VenueEvent> findings;
    {
      std::lock_guard lock(mutex_);
      auto it = tracked_.find(order_id);
      if (it == tracked_.end() || it->second.phase != Phase::kUnknown) continue;
      Tracked& t = it->second;
      const HistoryVerdict verdict = judge_by_history(order_id, t, *activity, its_deals);
      const bool window_passed = now_ms - t.unknown_epoch_ms >= options_.unknown_absence_after_ms;
      const InstrumentSpec& spec = instruments_[t.instrument].spec;
      if (verdict == HistoryVerdict::kExecuted) {
        std::vector<PriceUnits> levels;
        std::vector<SizeUnits> sizes;
        for (const Activity* a : its_deals) {
          PriceUnits level = 0;
          SizeUnits size = 0;
          if (!units_of(a->details->level, spec.price_decimals, level, order_id) ||
              a->details->size.to_fixed_point(spec.size_decimals, size) != DecimalStatus::kOk) {
            break;
          }
          levels.push_back(level);
          sizes.push_back(size);
        }
        if (levels.size() != its_deals.size()) continue;  // logged by units_of: stays Unknown
        std::string ids;
        for (std::size_t i = 0; i < its_deals.size(); ++i) {
          const Activity& a = *its_deals[i];
          claimed_deal_ids_.insert(a.deal_id);
          findings.push_back(own_deal(order_id, t, a.deal_id, a.status == "ACCEPTED"));
          ids += (ids.empty() ? "" : ", ") + a.deal_id;
        }
        for (std::size_t i = 0; i < its_deals.size(); ++i) {
          findings.push_back(venue_event(VenueEventKind::kFill, order_id, levels[i], sizes[i],
                                         its_deals[i]->deal_id));
        }
        tracked_.erase(it);
        bump(stats_.unknown_resolved);
        bump(stats_.unknown_found_in_history);
        spdlog::info(
            "order {}: Unknown resolved: executed — the activity history on {} shows {} since it "
            "was sent, and no other order's deal (by the journal) explains it",
            order_id, epic, ids);
      } else if (verdict == HistoryVerdict::kNothing && window_passed) {
        tracked_.erase(it);
        bump(stats_.unknown_resolved);
        bump(stats_.unknown_not_executed);
        spdlog::info(
            "order {}: Unknown resolved: not executed (no deal on {} in the activity history but "
            "those the journal owns)",
            order_id, epic);
        VenueEvent event;
        event.kind = VenueEventKind::kRejected;
        event.reason = RejectReason::kVenueNotExecuted;
        event.order_id = order_id;
        findings.push_back(event);
      } else if (verdict == HistoryVerdict::kCouldBeAnything && window_passed &&
                 !t.ambiguity_logged) {
        t.ambiguity_logged = true;
        spdlog::warn(
            "order {}: stays Unknown: the activity history shows deals on {} that could be it and "
            "that the journal does not account for, but no open position or working order "
            "matches; the positions settle it",
            order_id, epic);
      }
    }
    for (const VenueEvent& event : findings) post_finding(event);
  }
}

}  // namespace qt::capital
