// The Capital.com venue agent against a scripted broker: deals, confirms, working-order fills
// found by polling, cancels, the no-duplicate rule for orders whose outcome is unknown, and the
// start-up reconciliation of orders recovered from the journal (kStartupReconciled only after a
// snapshot, with every recovered order resolved or flagged, and behind all their events).
#include "gateway/capital/capital_venue.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

#include "engine/clock.hpp"
#include "gateway/capital/protocol/parse.hpp"

namespace qt::capital {
namespace {

using namespace decimal_literals;

std::string broker_utc(int64_t epoch_ms) {
  const std::time_t seconds = epoch_ms / 1000;
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char text[64];
  std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%03d", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(epoch_ms % 1000));
  return text;
}

PositionItem position_of(std::string deal_id, std::string working_order_id, std::string epic,
                         Side side, Decimal size, Decimal level) {
  PositionItem item;
  item.position.deal_id = std::move(deal_id);
  item.position.working_order_id = std::move(working_order_id);
  item.position.direction = side;
  item.position.size = size;
  item.position.level = level;
  item.position.created_date_utc = broker_utc(wall_epoch_ms());
  item.market.epic = std::move(epic);
  return item;
}

WorkingOrderItem working_order_of(std::string deal_id, std::string epic, Side side, Decimal size,
                                  Decimal level) {
  WorkingOrderItem item;
  item.working_order_data.deal_id = std::move(deal_id);
  item.working_order_data.epic = item.market_data.epic = std::move(epic);
  item.working_order_data.direction = side;
  item.working_order_data.order_size = size;
  item.working_order_data.order_level = level;
  return item;
}

Activity activity_of(std::string deal_id, std::string epic, std::string type, std::string status,
                     Side side, Decimal size) {
  Activity a;
  a.date_utc = broker_utc(wall_epoch_ms());
  a.epic = std::move(epic);
  a.deal_id = std::move(deal_id);
  a.source = "USER";
  a.type = std::move(type);
  a.status = std::move(status);
  a.details.emplace();
  a.details->direction = side;
  a.details->size = size;
  return a;
}

// A broker in memory: deals execute at `price`; hooks script failures.
class FakeBroker final : public TradingApi {
 public:
  DealSendResult open_position(const CreatePositionRequest& request) override {
    return submit(request.epic, request.direction, request.size, std::nullopt);
  }
  DealSendResult create_working_order(const CreateWorkingOrderRequest& request) override {
    return submit(request.epic, request.direction, request.size, request.level);
  }
  DealSendResult delete_working_order(std::string_view deal_id) override {
    std::lock_guard lock(mutex);
    auto it = find_working(deal_id);
    if (it == working.end()) {
      return answered("", absl::NotFoundError("error.not-found.dealId"));
    }
    activities.push_back(activity_of(std::string(deal_id), it->market_data.epic, "WORKING_ORDER",
                                     "CANCELLED", it->working_order_data.direction,
                                     it->working_order_data.order_size));
    working.erase(it);
    const std::string ref = "o_del" + std::string(deal_id);
    DealConfirmation confirmation;
    confirmation.deal_id = deal_id;
    confirms[ref] = confirmation;
    return answered(ref, absl::OkStatus());
  }
  absl::StatusOr<DealConfirmation> confirm(std::string_view ref) override {
    std::lock_guard lock(mutex);
    ++confirm_queries;
    if (confirms_withheld) return absl::NotFoundError("error.not-found.dealReference");
    auto it = confirms.find(std::string(ref));
    if (it == confirms.end()) return absl::NotFoundError("error.not-found.dealReference");
    return it->second;
  }
  absl::StatusOr<PositionsResponse> positions() override {
    std::lock_guard lock(mutex);
    ++position_queries;
    if (positions_unavailable) return absl::UnavailableError("503 Service Unavailable");
    return PositionsResponse{positions_};
  }
  absl::StatusOr<WorkingOrdersResponse> working_orders() override {
    std::lock_guard lock(mutex);
    return WorkingOrdersResponse{working};
  }
  absl::StatusOr<ActivityHistoryResponse> activity_history(int64_t last_period_seconds,
                                                           std::string_view epic) override {
    std::lock_guard lock(mutex);
    ++activity_queries;
    if (activity_unavailable) return absl::UnavailableError("503 Service Unavailable");
    ActivityHistoryResponse out;
    const int64_t since = wall_epoch_ms() - last_period_seconds * 1000;
    for (const Activity& a : activities) {
      if (a.epic == epic && parse_broker_utc_ms(a.date_utc) >= since) out.activities.push_back(a);
    }
    return out;
  }

  // mutex held.
  std::vector<WorkingOrderItem>::iterator find_working(std::string_view deal_id) {
    return std::find_if(working.begin(), working.end(),
                        [&](auto& w) { return w.working_order_data.deal_id == deal_id; });
  }

  // The market reaches a working order: it becomes a position.
  void fill_working(const std::string& deal_id) {
    std::lock_guard lock(mutex);
    auto it = find_working(deal_id);
    ASSERT_NE(it, working.end());
    const WorkingOrderData& w = it->working_order_data;
    positions_.push_back(position_of("pos-from-" + deal_id, deal_id, w.epic, w.direction,
                                     w.order_size, w.order_level));
    working.erase(it);
  }
  // It fills by closing an opposite position (netting): no position carries its id, only the
  // activity history says it executed, at what level.
  void fill_working_by_netting(const std::string& deal_id) {
    std::lock_guard lock(mutex);
    auto it = find_working(deal_id);
    ASSERT_NE(it, working.end());
    const WorkingOrderData& w = it->working_order_data;
    Activity executed =
        activity_of(deal_id, w.epic, "WORKING_ORDER", "EXECUTED", w.direction, w.order_size);
    executed.source = "SYSTEM";
    executed.details->level = w.order_level;
    activities.push_back(executed);
    working.erase(it);
  }
  // The broker removes it (its good-till date passed); `recorded`: the history shows it yet.
  void expire_working(const std::string& deal_id, bool recorded = true) {
    std::lock_guard lock(mutex);
    auto it = find_working(deal_id);
    ASSERT_NE(it, working.end());
    if (recorded) record_expiry(*it);
    working.erase(it);
  }
  void record_expiry(const WorkingOrderItem& item) {
    Activity expired = activity_of(item.working_order_data.deal_id, item.market_data.epic,
                                   "WORKING_ORDER", "EXPIRED", item.working_order_data.direction,
                                   item.working_order_data.order_size);
    expired.source = "SYSTEM";
    activities.push_back(expired);
  }

  std::mutex mutex;
  int submissions = 0;
  Decimal price = 2300.3_dec;
  bool reject_next = false;
  bool answer_with_error = false;
  bool drop_response = false;  // executes, answer lost
  bool lose_request = false;   // never executes, answer lost
  std::map<std::string, DealConfirmation> confirms;
  std::vector<PositionItem> positions_;
  std::vector<WorkingOrderItem> working;
  std::vector<Activity> activities;
  int activity_queries = 0;
  int position_queries = 0;
  int confirm_queries = 0;
  bool confirms_withheld = false;      // GET /confirms answers 404 (not recorded yet)
  bool positions_unavailable = false;  // GET /positions answers 503
  bool activity_unavailable = false;   // GET /history/activity answers 503
  std::atomic<bool> hold{false};       // deals block until released (a broker that stalls)
  std::atomic<int> arrived{0};         // deal requests that reached the broker (held or not)

 private:
  static DealSendResult answered(std::string ref, absl::Status status) {
    return {RequestOutcome::kAnswered, std::move(ref), std::move(status), 1};
  }
  static DealSendResult unknown(absl::Status status) {
    return {RequestOutcome::kOutcomeUnknown, "", std::move(status), 1};
  }

  // `level`: a working order's limit; none for a market order.
  DealSendResult submit(const std::string& epic, Side side, Decimal size,
                        std::optional<Decimal> level) {
    arrived.fetch_add(1);
    while (hold.load()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    std::lock_guard lock(mutex);
    ++submissions;
    if (lose_request) return unknown(absl::UnavailableError("reset"));
    const std::string ref = "o_ref" + std::to_string(submissions);
    const std::string id = "deal-" + std::to_string(submissions);
    if (answer_with_error) return answered("", absl::InvalidArgumentError("error.invalid.size"));
    DealConfirmation confirmation;
    confirmation.deal_status = reject_next ? DealStatus::kRejected : DealStatus::kAccepted;
    confirmation.reason = reject_next ? "MINIMUM_ORDER_SIZE_ERROR" : "SUCCESS";
    confirmation.deal_id = id;
    confirmation.level = level.value_or(price);
    confirmation.size = size;
    if (!reject_next) {
      if (level) {
        working.push_back(working_order_of(id, epic, side, size, *level));
      } else {
        const std::string position_id = "pos-" + std::to_string(submissions);
        confirmation.affected_deals.push_back({position_id, AffectedDealStatus::kOpened});
        positions_.push_back(position_of(position_id, "", epic, side, size, price));
      }
      // As the broker records them: a working order under its own id, a deal under the id of
      // the position it opened.
      Activity entry = activity_of(level ? id : "pos-" + std::to_string(submissions), epic,
                                   level ? "WORKING_ORDER" : "POSITION",
                                   level ? "CREATED" : "ACCEPTED", side, size);
      entry.details->level = level.value_or(price);
      activities.push_back(entry);
    }
    confirms[ref] = confirmation;
    if (drop_response) return unknown(absl::DeadlineExceededError("timeout"));
    return answered(ref, absl::OkStatus());
  }
};

struct VenueRig {
  FakeBroker broker;
  std::unique_ptr<VenueRequestRing> requests = std::make_unique<VenueRequestRing>();
  std::unique_ptr<VenueEventRing> events = std::make_unique<VenueEventRing>();
  std::unique_ptr<CapitalVenue> venue;

  explicit VenueRig(int64_t unknown_absence_after_ms = 10'000,
                    int64_t startup_unknown_grace_ms = 5'000,
                    int64_t lane_blocked_report_ns = 30'000'000'000,
                    int64_t reconcile_interval_ns = 3'600'000'000'000,
                    CapitalVenueOptions::Orphans orphans = CapitalVenueOptions::Orphans::kAdopt) {
    CapitalVenueOptions options;
    options.lane_blocked_report_ns = lane_blocked_report_ns;
    options.unknown_absence_after_ms = unknown_absence_after_ms;
    options.startup_unknown_grace_ms = startup_unknown_grace_ms;
    options.workers = 2;
    options.poll_interval_ns = 5'000'000;
    options.confirm_retry_ns = 1'000'000;
    // Snapshots only when something is open or one is asked for, as these tests expect; the
    // reconciliation tests set their own interval.
    options.reconcile_interval_ns = reconcile_interval_ns;
    options.orphan_working_orders = orphans;
    venue = std::make_unique<CapitalVenue>(
        broker,
        std::vector<VenueInstrument>{
            {"GOLD", make_instrument(0, "GOLD", 2, 2, 0.01, 0.1, 0.1, 500)}},
        *requests, *events, options);
    venue->start_threads();
  }
  ~VenueRig() {
    broker.hold = false;  // a test that failed while the broker stalled must still end
    venue->stop_threads();
  }

  void send(VenueRequestKind kind, OrderId id, OrderType type = OrderType::kMarket,
            PriceUnits price = 0, SizeUnits size = 100, Side side = Side::kBuy) {
    VenueRequest r;
    r.kind = kind;
    r.order_id = id;
    r.type = type;
    r.limit_price = price;
    r.size = size;
    r.side = side;
    ASSERT_TRUE(requests->try_push(r));
  }

  // An order the engine recovered from its journal, handed over for reconciliation.
  void recovered(OrderId id, OrderType type, const std::string& venue_order_id = "",
                 Side side = Side::kBuy, int64_t sent_ago_ms = 1'000, bool is_reference = false) {
    VenueRequest r;
    r.kind = VenueRequestKind::kReconcile;
    r.order_id = id;
    r.type = type;
    r.side = side;
    r.size = 100;
    r.limit_price = type == OrderType::kLimit ? 229900 : 0;
    r.sent_epoch_ms = wall_epoch_ms() - sent_ago_ms;
    std::memcpy(r.venue_order_id.data(), venue_order_id.data(), venue_order_id.size());
    r.venue_id_is_reference = is_reference;
    ASSERT_TRUE(requests->try_push(r));
  }
  // What the engine hands over at start-up from its journal (kOwnedDeal): first where its list
  // of owned deals is complete from, then a deal an order of an earlier run made.
  void owned_deals_complete_since(int64_t epoch_ms) {
    VenueRequest r;
    r.kind = VenueRequestKind::kOwnedDeal;
    r.owned_deals_complete_since = true;
    r.sent_epoch_ms = epoch_ms;
    ASSERT_TRUE(requests->try_push(r));
  }
  void owned_deal(OrderId order_id, const std::string& deal_id, Side side, bool opened) {
    VenueRequest r;
    r.kind = VenueRequestKind::kOwnedDeal;
    r.order_id = order_id;
    r.side = side;
    r.deal_opened = opened;
    r.sent_epoch_ms = wall_epoch_ms();
    std::memcpy(r.venue_order_id.data(), deal_id.data(), deal_id.size());
    ASSERT_TRUE(requests->try_push(r));
  }
  void startup_reconcile() {
    VenueRequest r;
    r.kind = VenueRequestKind::kStartupReconcile;
    ASSERT_TRUE(requests->try_push(r));
  }
  int position_queries() {
    std::lock_guard lock(broker.mutex);
    return broker.position_queries;
  }

  // Pumps the venue agent until `count` events about outcomes arrived (or the timeout passes).
  // The names the broker gave requests (kSubmitted) are kept apart, in `named`, in order.
  std::vector<VenueEvent> collect(std::size_t count, int timeout_ms = 5000) {
    std::vector<VenueEvent> out;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (out.size() < count && std::chrono::steady_clock::now() < deadline) {
      venue->do_work();
      events->drain([&](const VenueEvent& e) {
        if (is_report(e)) {
          reports.push_back(e);
          return;
        }
        if (e.kind == VenueEventKind::kDealOwned) {
          owned.push_back(e);
          return;
        }
        (e.kind == VenueEventKind::kSubmitted ? named : out).push_back(e);
      });
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    return out;
  }
  std::vector<VenueEvent> named;
  std::vector<VenueEvent> owned;    // kDealOwned: the broker's deals the journal will own
  std::vector<VenueEvent> reports;  // kPositionReport and kOrphanWorkingOrder, in order

  // Runs the venue agent for `ms`; what arrives goes where collect() puts it.
  std::vector<VenueEvent> pump_for(int ms) {
    std::vector<VenueEvent> out;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
    while (std::chrono::steady_clock::now() < deadline) {
      for (const VenueEvent& e : collect(1, 1)) out.push_back(e);
    }
    return out;
  }

  static bool is_report(const VenueEvent& e) {
    return e.kind == VenueEventKind::kPositionReport ||
           e.kind == VenueEventKind::kOrphanWorkingOrder;
  }
};

std::string venue_id(const VenueEvent& e) {
  return std::string(e.venue_order_id.data());
}

// Events up to and including kStartupReconciled (or all within the timeout), and how many
// times the broker's positions had been read when it arrived.
struct StartupOutcome {
  std::vector<VenueEvent> events;
  bool reconciled = false;
  int position_queries_at_report = 0;
  std::size_t reports_before = 0;  // rig.reports that arrived ahead of kStartupReconciled
};
StartupOutcome until_startup_reconciled(VenueRig& rig, int timeout_ms = 5000) {
  StartupOutcome outcome;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (!outcome.reconciled && std::chrono::steady_clock::now() < deadline) {
    rig.venue->do_work();
    rig.events->drain([&](const VenueEvent& e) {
      if (VenueRig::is_report(e)) {
        rig.reports.push_back(e);
        return;
      }
      if (e.kind == VenueEventKind::kDealOwned) {
        rig.owned.push_back(e);
        return;
      }
      if (e.kind == VenueEventKind::kStartupReconciled && !outcome.reconciled) {
        outcome.reports_before = rig.reports.size();
      }
      outcome.events.push_back(e);
      if (e.kind == VenueEventKind::kStartupReconciled && !outcome.reconciled) {
        outcome.reconciled = true;
        outcome.position_queries_at_report = rig.position_queries();
      }
    });
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  return outcome;
}

// The engine's start-up hand-over with nothing recovered: where its owned deals are complete
// from, then kStartupReconcile, answered.
void started_with_owned_deals_complete_since(VenueRig& rig, int64_t epoch_ms) {
  rig.owned_deals_complete_since(epoch_ms);
  rig.startup_reconcile();
  ASSERT_TRUE(until_startup_reconciled(rig).reconciled);
}

TEST(CapitalVenue, MarketOrderIsAcceptedThenFilledAtTheConfirmLevel) {
  VenueRig rig;
  rig.send(VenueRequestKind::kPlace, 1);
  const auto events = rig.collect(2);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].kind, VenueEventKind::kAccepted);
  EXPECT_EQ(events[1].kind, VenueEventKind::kFill);
  EXPECT_EQ(events[1].fill_price, 230030);  // 2300.30 with 2 decimals
  EXPECT_EQ(events[1].fill_size, 100);
  EXPECT_EQ(venue_id(events[1]), "deal-1");
}

// Issue 11: the broker's name for the request is reported the moment it is returned, before the
// confirm, so that the engine journals it.
TEST(CapitalVenue, TheRequestsNameIsReportedBeforeItsOutcome) {
  VenueRig rig;
  rig.send(VenueRequestKind::kPlace, 1);
  ASSERT_EQ(rig.collect(2).size(), 2u);
  ASSERT_EQ(rig.named.size(), 1u);
  EXPECT_EQ(rig.named[0].order_id, 1u);
  EXPECT_EQ(venue_id(rig.named[0]), "o_ref1");
}

// A confirm the broker had not recorded within the venue's attempts: Unknown — but the order
// has a name, and its confirm, asked for again at each poll, resolves it exactly: no shape
// matching, no history, no second order.
TEST(CapitalVenue, AnUnknownOrderWithANameIsResolvedByItsConfirm) {
  VenueRig rig;
  rig.broker.confirms_withheld = true;
  rig.broker.positions_unavailable = true;  // no snapshot: nothing to match by shape
  rig.send(VenueRequestKind::kPlace, 1);
  auto events = rig.collect(1);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, VenueEventKind::kOutcomeUnknown);
  EXPECT_TRUE(rig.collect(1, 100).empty());  // polls come and go: still Unknown
  {
    std::lock_guard lock(rig.broker.mutex);
    EXPECT_GE(rig.broker.confirm_queries, 2);  // asked again by the poller
    rig.broker.confirms_withheld = false;      // the broker has recorded it now
  }
  events = rig.collect(1);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, VenueEventKind::kFill);
  EXPECT_EQ(events[0].fill_price, 230030);
  EXPECT_EQ(events[0].fill_size, 100);
  EXPECT_EQ(venue_id(events[0]), "deal-1");
  ASSERT_EQ(rig.owned.size(), 1u);  // the position it opened, for the journal, before the fill
  EXPECT_STREQ(rig.owned[0].venue_order_id.data(), "pos-1");
  EXPECT_TRUE(rig.owned[0].opened);
  EXPECT_EQ(rig.venue->unknown_orders(), 0u);
  EXPECT_EQ(rig.venue->stats().resolved_by_reference.load(), 1u);
  std::lock_guard lock(rig.broker.mutex);
  EXPECT_EQ(rig.broker.submissions, 1);
}

// Issue 11: at most one place per instrument and side whose outcome is not known. The second buy
// waits in the venue until the broker has answered the first; a sell is its own lane.
TEST(CapitalVenue, OnePlacePerInstrumentAndSideIsInDoubtAtATime) {
  VenueRig rig;
  rig.broker.hold = true;  // the broker sits on the first request
  rig.send(VenueRequestKind::kPlace, 1);
  rig.send(VenueRequestKind::kPlace, 2);
  // Orders go to worker id % 2: buys 1 and 2 on different workers (without the lane, 2 would go
  // out at once), the sell 4 beside buy 2.
  rig.send(VenueRequestKind::kPlace, 4, OrderType::kMarket, 0, 100, Side::kSell);
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (rig.broker.arrived.load() < 2 && std::chrono::steady_clock::now() < until) {
    rig.venue->do_work();
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  for (int i = 0; i < 50; ++i) {  // time for a wrong second buy to show up
    rig.venue->do_work();
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_EQ(rig.broker.arrived.load(), 2) << "buy 1 and sell 4 in flight; buy 2 must wait";
  EXPECT_EQ(rig.venue->stats().paced_orders.load(), 1u);
  rig.broker.hold = false;
  const auto events = rig.collect(6);
  ASSERT_EQ(events.size(), 6u);
  // Buy 2 was sent only after buy 1's outcome: its events come after buy 1's.
  std::vector<OrderId> buy_order;
  for (const VenueEvent& e : events) {
    if (e.order_id != 4) buy_order.push_back(e.order_id);
  }
  EXPECT_EQ(buy_order, (std::vector<OrderId>{1, 1, 2, 2}));
  EXPECT_EQ(rig.broker.arrived.load(), 3);
}

// A place behind an order whose outcome is Unknown waits until the broker's records resolve it
// (here: never executed, from the activity history); a cancel of a waiting place never reaches
// the broker.
TEST(CapitalVenue, APlaceWaitsBehindAnUnknownOneAndACancelWhileWaitingSendsNothing) {
  VenueRig rig(/*unknown_absence_after_ms=*/300);
  rig.broker.lose_request = true;  // order 1 never executes and its answer is lost
  rig.send(VenueRequestKind::kPlace, 1);
  auto events = rig.collect(1);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, VenueEventKind::kOutcomeUnknown);
  rig.broker.lose_request = false;
  rig.send(VenueRequestKind::kPlace, 2);
  rig.send(VenueRequestKind::kPlace, 3);
  rig.send(VenueRequestKind::kCancel, 3);
  events = rig.collect(1, 100);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].order_id, 3u);
  EXPECT_EQ(events[0].kind, VenueEventKind::kCanceled);
  EXPECT_EQ(rig.broker.arrived.load(), 1) << "order 2 went out while order 1 was in doubt";

  events = rig.collect(3);  // 1 resolved as never executed, then 2 accepted and filled
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0].order_id, 1u);
  EXPECT_EQ(events[0].reason, RejectReason::kVenueNotExecuted);
  EXPECT_EQ(events[1].order_id, 2u);
  EXPECT_EQ(events[2].kind, VenueEventKind::kFill);
  EXPECT_EQ(rig.broker.arrived.load(), 2);
}

// Places that wait behind an order in doubt for long are reported once per episode: trading on
// that instrument and side stands still, and an operator must hear it.
TEST(CapitalVenue, ALaneBlockedBehindAnOrderInDoubtIsReportedOnce) {
  VenueRig rig(10'000, 5'000, /*lane_blocked_report_ns=*/50'000'000);
  rig.broker.lose_request = true;  // order 1 stays Unknown for the whole test
  rig.send(VenueRequestKind::kPlace, 1);
  ASSERT_EQ(rig.collect(1).size(), 1u);
  rig.send(VenueRequestKind::kPlace, 2);
  rig.send(VenueRequestKind::kPlace, 3);
  EXPECT_TRUE(rig.collect(1, 300).empty());
  EXPECT_EQ(rig.venue->stats().lanes_blocked.load(), 1u);
  EXPECT_EQ(rig.broker.arrived.load(), 1);
}

// A lane holds kLaneBacklog waiting places; beyond that the venue says no at once (kVenueBusy)
// rather than queue without bound behind an order in doubt.
TEST(CapitalVenue, AFullLaneRefusesPlacesAsBusy) {
  VenueRig rig;
  rig.broker.hold = true;
  const OrderId waiting = CapitalVenue::kLaneBacklog;
  for (OrderId id = 1; id <= waiting + 3; ++id) rig.send(VenueRequestKind::kPlace, id);
  const auto events = rig.collect(2, 2000);
  ASSERT_EQ(events.size(), 2u);
  for (const VenueEvent& e : events) {
    EXPECT_EQ(e.kind, VenueEventKind::kRejected);
    EXPECT_EQ(e.reason, RejectReason::kVenueBusy);
    EXPECT_GT(e.order_id, waiting + 1);
  }
  EXPECT_EQ(rig.venue->stats().pacing_refusals.load(), 2u);
  rig.broker.hold = false;
}

TEST(CapitalVenue, RejectedConfirmBecomesARejection) {
  VenueRig rig;
  rig.broker.reject_next = true;
  rig.send(VenueRequestKind::kPlace, 1);
  const auto events = rig.collect(1);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, VenueEventKind::kRejected);
  EXPECT_EQ(events[0].reason, RejectReason::kVenueRejected);
}

TEST(CapitalVenue, ErrorAnswerBecomesARejection) {
  VenueRig rig;
  rig.broker.answer_with_error = true;
  rig.send(VenueRequestKind::kPlace, 1);
  const auto events = rig.collect(1);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, VenueEventKind::kRejected);
}

TEST(CapitalVenue, UnknownOutcomeIsResolvedFromPositionsWithoutResending) {
  VenueRig rig;
  rig.broker.drop_response = true;  // executed at the broker, answer lost
  rig.send(VenueRequestKind::kPlace, 7);
  const auto events = rig.collect(2);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].kind, VenueEventKind::kOutcomeUnknown);
  EXPECT_EQ(events[1].kind, VenueEventKind::kFill);
  EXPECT_EQ(events[1].order_id, 7u);
  EXPECT_EQ(venue_id(events[1]), "pos-1");
  EXPECT_EQ(rig.broker.submissions, 1);  // never sent twice
  EXPECT_EQ(rig.venue->unknown_orders(), 0u);
  EXPECT_EQ(rig.venue->stats().unknown_resolved.load(), 1u);
}

TEST(CapitalVenue, UnknownOrderNeverClaimsAPositionAnotherOrderOwns) {
  VenueRig rig;
  rig.send(VenueRequestKind::kPlace, 1);  // executes normally: pos-1, same epic, side and size
  ASSERT_EQ(rig.collect(2).size(), 2u);
  rig.broker.lose_request = true;  // the second request never reaches the market
  rig.send(VenueRequestKind::kPlace, 2);
  auto events = rig.collect(1);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, VenueEventKind::kOutcomeUnknown);
  events = rig.collect(1, 300);  // ~60 polls: pos-1 belongs to order 1, nothing resolves order 2
  EXPECT_TRUE(events.empty());
  EXPECT_EQ(rig.venue->unknown_orders(), 1u);
  EXPECT_EQ(rig.broker.submissions, 2);
}

TEST(CapitalVenue, UnknownThatNeverExecutedIsRejectedWhenTheActivityHistoryShowsNothing) {
  VenueRig rig(/*unknown_absence_after_ms=*/50);
  rig.broker.lose_request = true;  // never reaches the market
  rig.send(VenueRequestKind::kPlace, 4);
  const auto events = rig.collect(2);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].kind, VenueEventKind::kOutcomeUnknown);
  EXPECT_EQ(events[1].kind, VenueEventKind::kRejected);
  EXPECT_EQ(events[1].reason, RejectReason::kVenueNotExecuted);
  EXPECT_EQ(events[1].order_id, 4u);
  {
    std::lock_guard lock(rig.broker.mutex);
    EXPECT_EQ(rig.broker.submissions, 1);
    EXPECT_GE(rig.broker.activity_queries, 1);
  }
  EXPECT_EQ(rig.venue->unknown_orders(), 0u);
  EXPECT_EQ(rig.venue->stats().unknown_not_executed.load(), 1u);
}

TEST(CapitalVenue, UnknownStaysUnknownWhileTheHistoryShowsADealThatCouldBeIt) {
  VenueRig rig(/*unknown_absence_after_ms=*/20);
  // Just started, with nothing from the engine: which deals of the last seconds were this
  // engine's is not known, so order 1's deal could be order 2 as far as the history can tell.
  rig.send(VenueRequestKind::kPlace, 1);  // executes: a USER deal on GOLD, buy, just now
  ASSERT_EQ(rig.collect(2).size(), 2u);
  rig.broker.lose_request = true;
  rig.send(VenueRequestKind::kPlace, 2);
  auto events = rig.collect(1);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, VenueEventKind::kOutcomeUnknown);
  events = rig.collect(1, 300);
  EXPECT_TRUE(events.empty());  // no guess either way
  {
    std::lock_guard lock(rig.broker.mutex);
    EXPECT_GE(rig.broker.activity_queries, 1);
  }
  EXPECT_EQ(rig.venue->unknown_orders(), 1u);
  EXPECT_EQ(rig.venue->stats().unknown_not_executed.load(), 0u);
}

// The journal owns every deal an order of the engine made (kDealOwned, by the broker's deal
// id): subtracted from the history, nothing is left on the lane, so the order never executed.
TEST(CapitalVenue, AnUnknownIsNotExecutedWhenEveryDealOnItsLaneIsOwned) {
  VenueRig rig(/*unknown_absence_after_ms=*/20);
  started_with_owned_deals_complete_since(rig, wall_epoch_ms() - 60'000);
  rig.send(VenueRequestKind::kPlace, 1);  // executes: position pos-1, buy 1 GOLD
  ASSERT_EQ(rig.collect(2).size(), 2u);
  ASSERT_EQ(rig.owned.size(), 1u);  // pos-1, opened by order 1, reported before its fill
  EXPECT_EQ(rig.owned[0].order_id, 1u);
  EXPECT_STREQ(rig.owned[0].venue_order_id.data(), "pos-1");
  EXPECT_TRUE(rig.owned[0].opened);
  rig.broker.lose_request = true;
  rig.send(VenueRequestKind::kPlace, 2);
  const auto events = rig.collect(2);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].kind, VenueEventKind::kOutcomeUnknown);
  EXPECT_EQ(events[1].kind, VenueEventKind::kRejected);
  EXPECT_EQ(events[1].reason, RejectReason::kVenueNotExecuted);
  EXPECT_EQ(rig.venue->stats().unknown_not_executed.load(), 1u);
}

// A deal on the lane that no order owns and that is not the order's size (a trade by hand):
// the history cannot say, and the positions settle it (engine/reconciliation.cpp).
TEST(CapitalVenue, AnUnknownStaysUnknownBesideADealNoOrderOwns) {
  VenueRig rig(/*unknown_absence_after_ms=*/20);
  started_with_owned_deals_complete_since(rig, wall_epoch_ms() - 60'000);
  {
    std::lock_guard lock(rig.broker.mutex);
    Activity by_hand = activity_of("pos-hand", "GOLD", "POSITION", "ACCEPTED", Side::kBuy, 2_dec);
    by_hand.details->level = 2301_dec;
    rig.broker.activities.push_back(by_hand);
  }
  rig.broker.lose_request = true;
  rig.send(VenueRequestKind::kPlace, 2);
  auto events = rig.collect(1);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, VenueEventKind::kOutcomeUnknown);
  events = rig.collect(1, 300);
  EXPECT_TRUE(events.empty());
  EXPECT_EQ(rig.venue->unknown_orders(), 1u);
}

TEST(CapitalVenue, ASnapshotRequestReconcilesEvenWithNothingOpen) {
  VenueRig rig;
  auto position_queries = [&] {
    std::lock_guard lock(rig.broker.mutex);
    return rig.broker.position_queries;
  };
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // ~10 idle polls
  EXPECT_EQ(position_queries(), 0);                            // nothing open: no calls
  rig.venue->request_snapshot();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (position_queries() == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(position_queries(), 1);  // one snapshot, then idle again
  EXPECT_EQ(rig.venue->stats().snapshots_requested.load(), 1u);
}

TEST(CapitalVenue, WorkingOrderFillIsFoundByPolling) {
  VenueRig rig;
  rig.send(VenueRequestKind::kPlace, 3, OrderType::kLimit, 229900);
  auto events = rig.collect(1);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, VenueEventKind::kAccepted);
  rig.broker.fill_working("deal-1");
  events = rig.collect(1);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, VenueEventKind::kFill);
  EXPECT_EQ(events[0].fill_price, 229900);
  EXPECT_EQ(rig.venue->stats().working_order_fills.load(), 1u);
}

TEST(CapitalVenue, CancelDeletesTheWorkingOrder) {
  VenueRig rig;
  rig.send(VenueRequestKind::kPlace, 3, OrderType::kLimit, 229900);
  ASSERT_EQ(rig.collect(1).size(), 1u);
  rig.send(VenueRequestKind::kCancel, 3);
  const auto events = rig.collect(1);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, VenueEventKind::kCanceled);
  std::lock_guard lock(rig.broker.mutex);
  EXPECT_TRUE(rig.broker.working.empty());
}

TEST(CapitalVenue, CancelThatLosesTheRaceIsRejectedAndTheFillStillArrives) {
  VenueRig rig;
  rig.send(VenueRequestKind::kPlace, 3, OrderType::kLimit, 229900);
  ASSERT_EQ(rig.collect(1).size(), 1u);
  rig.broker.fill_working("deal-1");
  rig.send(VenueRequestKind::kCancel, 3);
  const auto events = rig.collect(2);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].kind, VenueEventKind::kCancelRejected);
  EXPECT_EQ(events[1].kind, VenueEventKind::kFill);
}

TEST(CapitalVenue, WorkingOrderRemovedByTheBrokerEndsCanceled) {
  VenueRig rig;
  rig.send(VenueRequestKind::kPlace, 3, OrderType::kLimit, 229900);
  ASSERT_EQ(rig.collect(1).size(), 1u);
  rig.broker.expire_working("deal-1");  // its good-till date passed
  const auto events = rig.collect(1);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, VenueEventKind::kCanceled);
}

// Issue 11: gone from the list with no position of its own is not proof of a cancel — under
// netting a fill that closes an opposite position opens none. Until the order's own history
// entry says what happened, nothing is reported; then exactly what it says.
TEST(CapitalVenue, AWorkingOrderGoneWithoutAHistoryEntryIsNotDeclaredCanceled) {
  VenueRig rig;
  rig.send(VenueRequestKind::kPlace, 3, OrderType::kLimit, 229900);
  ASSERT_EQ(rig.collect(1).size(), 1u);
  WorkingOrderItem removed;
  {
    std::lock_guard lock(rig.broker.mutex);
    removed = rig.broker.working.at(0);
  }
  rig.broker.expire_working("deal-1", /*recorded=*/false);  // the history lags
  EXPECT_TRUE(rig.collect(1, 300).empty());
  {
    std::lock_guard lock(rig.broker.mutex);
    EXPECT_GE(rig.broker.activity_queries, 2);  // asked, every pass, and waited
    rig.broker.record_expiry(removed);
  }
  const auto events = rig.collect(1);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, VenueEventKind::kCanceled);
}

TEST(CapitalVenue, AWorkingOrderThatFilledByNettingIsAFillAtItsLevel) {
  VenueRig rig;
  rig.send(VenueRequestKind::kPlace, 3, OrderType::kLimit, 229900);
  ASSERT_EQ(rig.collect(1).size(), 1u);
  rig.broker.fill_working_by_netting("deal-1");
  const auto events = rig.collect(1);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, VenueEventKind::kFill);
  EXPECT_EQ(events[0].fill_price, 229900);
  EXPECT_EQ(events[0].fill_size, 100);
}

TEST(CapitalVenue, EventsOfOneOrderKeepTheirOrderUnderLoad) {
  VenueRig rig;
  for (OrderId id = 1; id <= 200; ++id) rig.send(VenueRequestKind::kPlace, id);
  const auto events = rig.collect(400);
  ASSERT_EQ(events.size(), 400u);
  std::map<OrderId, int> seen;
  for (const VenueEvent& e : events) {
    const int n = seen[e.order_id]++;
    EXPECT_EQ(e.kind, n == 0 ? VenueEventKind::kAccepted : VenueEventKind::kFill);
  }
  EXPECT_EQ(rig.broker.submissions, 200);
}

// A broker that stalls: the workers' rings and the request backlog fill, and the venue leaves
// the rest on the engine's ring; the engine does not drain its events: the event ring and the
// event backlog fill, and the rest waits in the outbox. Both are counted; once the broker and
// the engine move again, every order gets its Accepted then its Fill, none lost or reordered.
// One place per instrument and side is in flight (the lanes above), so what fills a worker is
// everything else for its orders: here order 1's worker is stuck on the broker and the engine's
// ring brings it cancels (odd ids, all for that worker) until its ring and the backlog are full.
TEST(CapitalVenue, FullBacklogsPushBackOnTheRingsAndLoseNothing) {
  VenueRig rig;
  rig.broker.hold = true;
  constexpr std::size_t kRequests = VenueRequestRing::kCapacity;
  rig.send(VenueRequestKind::kPlace, 1);
  for (std::size_t i = 1; i < kRequests; ++i) rig.send(VenueRequestKind::kCancel, 1 + 2 * i);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (rig.venue->stats().request_backpressure.load() == 0 &&
         std::chrono::steady_clock::now() < deadline) {
    rig.venue->do_work();
  }
  EXPECT_EQ(rig.venue->stats().request_backpressure.load(), 1u);
  // The worker's full ring, a full backlog and the place in flight taken; the rest is still on
  // the engine's ring.
  // (The place itself is in the worker's hands or still first in its ring.)
  const std::size_t held = 1024 + CapitalVenue::kRequestBacklog;
  EXPECT_LE(rig.requests->size_approx(), kRequests - held);
  EXPECT_GE(rig.requests->size_approx(), kRequests - held - 1);

  // The broker answers; nobody drains the event ring, and more cancels keep coming until the
  // event ring and the event backlog are full too.
  rig.broker.hold = false;
  std::size_t sent = kRequests;
  while (rig.venue->stats().event_backpressure.load() == 0 &&
         std::chrono::steady_clock::now() < deadline) {
    rig.venue->do_work();
    VenueRequest cancel;
    cancel.kind = VenueRequestKind::kCancel;
    cancel.order_id = 1 + 2 * sent;
    if (rig.requests->try_push(cancel)) ++sent;
  }
  EXPECT_EQ(rig.venue->stats().event_backpressure.load(), 1u);
  EXPECT_EQ(rig.events->size_approx(), VenueEventRing::kCapacity);

  const auto events = rig.collect(sent + 1, 20'000);  // 1 accepted + filled, the rest refused
  ASSERT_EQ(events.size(), sent + 1);
  std::map<OrderId, int> seen;
  for (const VenueEvent& e : events) {
    const int n = seen[e.order_id]++;
    if (e.order_id == 1) {
      EXPECT_EQ(e.kind, n == 0 ? VenueEventKind::kAccepted : VenueEventKind::kFill);
    } else {
      EXPECT_EQ(e.kind, VenueEventKind::kCancelRejected) << e.order_id;
      EXPECT_EQ(n, 0) << e.order_id;
    }
  }
  EXPECT_EQ(seen.size(), sent);
  EXPECT_EQ(rig.broker.submissions, 1);
}

// ---- start-up reconciliation -------------------------------------------------------------------

TEST(CapitalVenueStartup, WithNothingRecoveredItReportsAfterOneSnapshot) {
  VenueRig rig;
  rig.startup_reconcile();
  const StartupOutcome outcome = until_startup_reconciled(rig);
  ASSERT_TRUE(outcome.reconciled);
  ASSERT_EQ(outcome.events.size(), 1u);
  EXPECT_EQ(outcome.events[0].order_id, 0u);
  EXPECT_EQ(outcome.events[0].fill_size, 0);         // nothing left unresolved
  EXPECT_GE(outcome.position_queries_at_report, 1);  // the snapshot came first
  EXPECT_TRUE(rig.venue->stats().startup_reconciled.load());
  EXPECT_EQ(rig.venue->stats().startup_left_unknown.load(), 0u);
}

TEST(CapitalVenueStartup, ItDoesNotReportWhileTheBrokersPositionsCannotBeRead) {
  VenueRig rig;
  {
    std::lock_guard lock(rig.broker.mutex);
    rig.broker.positions_unavailable = true;
  }
  rig.startup_reconcile();
  StartupOutcome outcome = until_startup_reconciled(rig, 300);  // ~60 polls
  EXPECT_FALSE(outcome.reconciled);
  EXPECT_TRUE(outcome.events.empty());
  EXPECT_GE(rig.position_queries(), 2);  // it keeps trying
  EXPECT_FALSE(rig.venue->stats().startup_reconciled.load());
  {
    std::lock_guard lock(rig.broker.mutex);
    rig.broker.positions_unavailable = false;
  }
  outcome = until_startup_reconciled(rig);
  EXPECT_TRUE(outcome.reconciled);
}

TEST(CapitalVenueStartup, RecoveredWorkingAndUnknownOrdersAreResolvedBeforeTheReport) {
  VenueRig rig(/*unknown_absence_after_ms=*/50);
  {
    std::lock_guard lock(rig.broker.mutex);
    // Order 1's working order is still working; order 2's was filled while the engine was down
    // (a position opened from it); order 3 (sent, no answer) never reached the market.
    rig.broker.working.push_back(working_order_of("deal-w", "GOLD", Side::kBuy, 1_dec, 2299_dec));
    rig.broker.positions_.push_back(
        position_of("pos-f", "deal-f", "GOLD", Side::kBuy, 1_dec, 2298_dec));
  }
  rig.recovered(1, OrderType::kLimit, "deal-w");
  rig.recovered(2, OrderType::kLimit, "deal-f");
  rig.recovered(3, OrderType::kMarket);
  rig.startup_reconcile();
  const StartupOutcome outcome = until_startup_reconciled(rig);
  ASSERT_TRUE(outcome.reconciled);
  ASSERT_EQ(outcome.events.size(), 3u);
  std::map<OrderId, VenueEvent> by_order;
  for (std::size_t i = 0; i + 1 < outcome.events.size(); ++i) {
    by_order[outcome.events[i].order_id] = outcome.events[i];
  }
  ASSERT_EQ(by_order.count(2), 1u);
  EXPECT_EQ(by_order[2].kind, VenueEventKind::kFill);
  EXPECT_EQ(by_order[2].fill_price, 229800);
  EXPECT_EQ(by_order[2].fill_size, 100);
  ASSERT_EQ(by_order.count(3), 1u);
  EXPECT_EQ(by_order[3].kind, VenueEventKind::kRejected);
  EXPECT_EQ(by_order[3].reason, RejectReason::kVenueNotExecuted);
  EXPECT_EQ(by_order.count(1), 0u);  // still working: nothing to say
  // The position order 2 opened is reported for the journal, ahead of its fill.
  ASSERT_EQ(rig.owned.size(), 1u);
  EXPECT_EQ(rig.owned[0].order_id, 2u);
  EXPECT_STREQ(rig.owned[0].venue_order_id.data(), "pos-f");
  EXPECT_TRUE(rig.owned[0].opened);
  EXPECT_EQ(outcome.events.back().kind, VenueEventKind::kStartupReconciled);
  EXPECT_GE(outcome.position_queries_at_report, 1);
  EXPECT_EQ(rig.venue->unknown_orders(), 0u);
  EXPECT_EQ(rig.venue->stats().startup_left_unknown.load(), 0u);
  std::lock_guard lock(rig.broker.mutex);
  EXPECT_EQ(rig.broker.submissions, 0);  // nothing was sent again
  EXPECT_GE(rig.broker.activity_queries, 1);
}

// The absence window counts from the send, in the run before the restart: an order the broker
// has had for longer than the window is checked at the first pass, not a window after restart.
TEST(CapitalVenueStartup, ARecoveredUnknownSentLongerAgoThanTheWindowIsResolvedAtOnce) {
  VenueRig rig(/*unknown_absence_after_ms=*/600'000);
  rig.recovered(7, OrderType::kMarket, "", Side::kBuy, /*sent_ago_ms=*/3'600'000);
  rig.startup_reconcile();
  const StartupOutcome outcome = until_startup_reconciled(rig);
  ASSERT_TRUE(outcome.reconciled);
  ASSERT_EQ(outcome.events.size(), 2u);
  EXPECT_EQ(outcome.events[0].order_id, 7u);
  EXPECT_EQ(outcome.events[0].kind, VenueEventKind::kRejected);
  EXPECT_EQ(outcome.events[0].reason, RejectReason::kVenueNotExecuted);
  EXPECT_EQ(rig.venue->unknown_orders(), 0u);
}

// A crash after the broker named the request but before its confirm: the recovered order is
// resolved by that confirm at start-up — here rejected by the broker — before the report.
TEST(CapitalVenueStartup, ARecoveredOrderWithANameIsResolvedByItsConfirmBeforeTheReport) {
  VenueRig rig;
  {
    std::lock_guard lock(rig.broker.mutex);
    DealConfirmation rejected;
    rejected.deal_status = DealStatus::kRejected;
    rejected.reason = "INSUFFICIENT_FUNDS";
    rejected.deal_id = "deal-9";
    rig.broker.confirms["o_ref-before-crash"] = rejected;
  }
  rig.recovered(4, OrderType::kMarket, "o_ref-before-crash", Side::kBuy, 1'000,
                /*is_reference=*/true);
  rig.startup_reconcile();
  const StartupOutcome outcome = until_startup_reconciled(rig);
  ASSERT_TRUE(outcome.reconciled);
  ASSERT_EQ(outcome.events.size(), 2u);
  EXPECT_EQ(outcome.events[0].order_id, 4u);
  EXPECT_EQ(outcome.events[0].kind, VenueEventKind::kRejected);
  EXPECT_EQ(outcome.events[1].fill_size, 0);  // nothing left unresolved
  EXPECT_EQ(rig.venue->unknown_orders(), 0u);
}

TEST(CapitalVenueStartup, ARecoveredWorkingOrderGoneFromTheBrokerEndsCanceledBeforeTheReport) {
  VenueRig rig;
  {
    std::lock_guard lock(rig.broker.mutex);
    rig.broker.activities.push_back(
        activity_of("deal-gone", "GOLD", "WORKING_ORDER", "CANCELLED", Side::kBuy, 1_dec));
  }
  rig.recovered(1, OrderType::kLimit, "deal-gone");  // neither working nor a position
  rig.startup_reconcile();
  const StartupOutcome outcome = until_startup_reconciled(rig);
  ASSERT_TRUE(outcome.reconciled);
  ASSERT_EQ(outcome.events.size(), 2u);
  EXPECT_EQ(outcome.events[0].kind, VenueEventKind::kCanceled);
  EXPECT_EQ(outcome.events[0].order_id, 1u);
  std::lock_guard lock(rig.broker.mutex);
  EXPECT_GE(rig.broker.activity_queries, 1);  // its history entry said so
}

TEST(CapitalVenueStartup, ARecoveredUnknownTheHistoryCannotRuleOutIsFlaggedAndTheReportFollows) {
  VenueRig rig(/*unknown_absence_after_ms=*/50);
  {
    std::lock_guard lock(rig.broker.mutex);
    // A buy on GOLD by the user since order 5 was sent: it could be order 5.
    rig.broker.activities.push_back(
        activity_of("deal-x", "GOLD", "POSITION", "ACCEPTED", Side::kBuy, 1_dec));
  }
  rig.recovered(5, OrderType::kMarket);
  rig.startup_reconcile();
  const StartupOutcome outcome = until_startup_reconciled(rig);
  ASSERT_TRUE(outcome.reconciled);
  ASSERT_EQ(outcome.events.size(), 1u);       // no guess about order 5
  EXPECT_EQ(outcome.events[0].fill_size, 1);  // the report counts it
  EXPECT_EQ(rig.venue->unknown_orders(), 1u);
  EXPECT_EQ(rig.venue->stats().startup_left_unknown.load(), 1u);
  std::lock_guard lock(rig.broker.mutex);
  EXPECT_GE(rig.broker.activity_queries, 1);  // the report waited for the history check
}

TEST(CapitalVenueStartup, ARecoveredUnknownWhoseHistoryCannotBeReadIsFlaggedAfterTheGrace) {
  VenueRig rig(/*unknown_absence_after_ms=*/20, /*startup_unknown_grace_ms=*/100);
  {
    std::lock_guard lock(rig.broker.mutex);
    rig.broker.activity_unavailable = true;
  }
  rig.recovered(6, OrderType::kMarket);
  rig.startup_reconcile();
  const StartupOutcome outcome = until_startup_reconciled(rig);
  ASSERT_TRUE(outcome.reconciled);
  ASSERT_EQ(outcome.events.size(), 1u);
  EXPECT_EQ(rig.venue->unknown_orders(), 1u);
  EXPECT_EQ(rig.venue->stats().startup_left_unknown.load(), 1u);
  std::lock_guard lock(rig.broker.mutex);
  EXPECT_GE(rig.broker.activity_queries, 1);
}

// Identification after a crash: since orders 5 (buy) and 7 (sell) were sent, the history shows
// order 4's buy (pos-a) and order 6's close of a long position (pos-c, a sell), which the
// journal owns, and one buy no order owns (pos-b, 1 at 2291). Subtracted by deal id, pos-b is
// order 5's, and nothing on the sell side is order 7's.
class HistoryAfterACrash : public ::testing::Test {
 protected:
  explicit HistoryAfterACrash(int64_t unknown_absence_after_ms = 500)
      : rig(unknown_absence_after_ms, /*startup_unknown_grace_ms=*/100) {
    std::lock_guard lock(rig.broker.mutex);
    add("pos-a", "ACCEPTED", Side::kBuy, 2290_dec);
    add("pos-b", "ACCEPTED", Side::kBuy, 2291_dec);
    add("pos-c", "EXECUTED", Side::kSell, 2292_dec);
  }
  void add(const char* deal_id, const char* status, Side side, Decimal level) {
    Activity a = activity_of(deal_id, "GOLD", "POSITION", status, side, 1_dec);
    a.details->level = level;
    rig.broker.activities.push_back(a);
  }
  VenueRig rig;
};

TEST_F(HistoryAfterACrash, EachRecoveredOrderIsIdentifiedByTheDealsNoOtherOrderOwns) {
  rig.owned_deals_complete_since(wall_epoch_ms() - 60'000);
  rig.owned_deal(4, "pos-a", Side::kBuy, /*opened=*/true);
  rig.owned_deal(6, "pos-c", Side::kSell, /*opened=*/false);
  rig.recovered(5, OrderType::kMarket, "", Side::kBuy);
  rig.recovered(7, OrderType::kMarket, "", Side::kSell);
  rig.startup_reconcile();
  const StartupOutcome outcome = until_startup_reconciled(rig);
  ASSERT_TRUE(outcome.reconciled);
  ASSERT_EQ(outcome.events.size(), 3u);
  std::map<OrderId, VenueEvent> by_order;
  for (std::size_t i = 0; i + 1 < outcome.events.size(); ++i) {
    by_order[outcome.events[i].order_id] = outcome.events[i];
  }
  ASSERT_EQ(by_order.count(5), 1u);
  EXPECT_EQ(by_order[5].kind, VenueEventKind::kFill);
  EXPECT_EQ(by_order[5].fill_price, 229100);
  EXPECT_EQ(by_order[5].fill_size, 100);
  EXPECT_STREQ(by_order[5].venue_order_id.data(), "pos-b");
  ASSERT_EQ(by_order.count(7), 1u);
  EXPECT_EQ(by_order[7].kind, VenueEventKind::kRejected);
  EXPECT_EQ(by_order[7].reason, RejectReason::kVenueNotExecuted);
  // pos-b is now owned by order 5 in the journal, ahead of the fill.
  ASSERT_EQ(rig.owned.size(), 1u);
  EXPECT_EQ(rig.owned[0].order_id, 5u);
  EXPECT_STREQ(rig.owned[0].venue_order_id.data(), "pos-b");
  EXPECT_EQ(rig.venue->stats().unknown_found_in_history.load(), 1u);
  EXPECT_EQ(rig.venue->stats().startup_left_unknown.load(), 0u);
  std::lock_guard lock(rig.broker.mutex);
  EXPECT_EQ(rig.broker.submissions, 0);  // nothing was sent again
}

// An execution is in the history at once: the start-up does not wait the absence window for it.
class HistoryAfterACrashWithALongWindow : public HistoryAfterACrash {
 protected:
  HistoryAfterACrashWithALongWindow() : HistoryAfterACrash(/*unknown_absence_after_ms=*/60'000) {}
};
TEST_F(HistoryAfterACrashWithALongWindow, AnExecutedRecoveredOrderIsIdentifiedAtOnce) {
  rig.owned_deals_complete_since(wall_epoch_ms() - 60'000);
  rig.owned_deal(4, "pos-a", Side::kBuy, /*opened=*/true);
  rig.recovered(5, OrderType::kMarket, "", Side::kBuy);
  rig.startup_reconcile();
  const StartupOutcome outcome = until_startup_reconciled(rig, /*timeout_ms=*/5'000);
  ASSERT_TRUE(outcome.reconciled);
  ASSERT_EQ(outcome.events.size(), 2u);
  EXPECT_EQ(outcome.events[0].kind, VenueEventKind::kFill);
  EXPECT_EQ(outcome.events[0].order_id, 5u);
  EXPECT_EQ(outcome.events[0].fill_price, 229100);
}

// The order's own deal was journaled (kDealOwned goes ahead of the fill) but the crash took its
// fill: its own deals are not subtracted from it, they identify it.
TEST_F(HistoryAfterACrash, AnOrderWhoseDealWasJournaledButNotItsFillIsFoundExecuted) {
  rig.owned_deals_complete_since(wall_epoch_ms() - 60'000);
  rig.owned_deal(4, "pos-a", Side::kBuy, /*opened=*/true);
  rig.owned_deal(5, "pos-b", Side::kBuy, /*opened=*/true);
  rig.recovered(5, OrderType::kMarket, "", Side::kBuy);
  rig.startup_reconcile();
  const StartupOutcome outcome = until_startup_reconciled(rig);
  ASSERT_TRUE(outcome.reconciled);
  ASSERT_EQ(outcome.events.size(), 2u);
  EXPECT_EQ(outcome.events[0].kind, VenueEventKind::kFill);
  EXPECT_EQ(outcome.events[0].order_id, 5u);
  EXPECT_EQ(outcome.events[0].fill_price, 229100);
}

// A working order of ours on the lane can fill between the positions read and the history read:
// a deal nobody owns yet is then no proof that the order in doubt executed.
TEST_F(HistoryAfterACrash, NoExecutionIsConcludedBesideAWorkingOrderOnTheLane) {
  {
    std::lock_guard lock(rig.broker.mutex);
    rig.broker.working.push_back(working_order_of("deal-w", "GOLD", Side::kBuy, 1_dec, 2280_dec));
  }
  rig.owned_deals_complete_since(wall_epoch_ms() - 60'000);
  rig.owned_deal(4, "pos-a", Side::kBuy, /*opened=*/true);
  rig.recovered(3, OrderType::kLimit, "deal-w");
  rig.recovered(5, OrderType::kMarket, "", Side::kBuy);
  rig.startup_reconcile();
  const StartupOutcome outcome = until_startup_reconciled(rig);
  ASSERT_TRUE(outcome.reconciled);
  ASSERT_EQ(outcome.events.size(), 1u);  // the report only: order 5 left for the positions
  EXPECT_EQ(rig.venue->stats().unknown_found_in_history.load(), 0u);
  EXPECT_EQ(rig.venue->stats().startup_left_unknown.load(), 1u);
}

// Two orders in doubt on one lane after a crash: order 5 was named (its confirm, slow to come,
// says it opened pos-b), order 6 may never have left the venue's lane. pos-b is nobody's by the
// journal, but it is not order 6's either: nothing is concluded for 6 while 5 is in doubt, and
// once 5's confirm claims pos-b, 6 is found not executed.
TEST_F(HistoryAfterACrash, TwoOrdersInDoubtOnALaneAreNotMistakenForEachOther) {
  {
    std::lock_guard lock(rig.broker.mutex);
    DealConfirmation confirmation;
    confirmation.deal_status = DealStatus::kAccepted;
    confirmation.deal_id = "deal-5";
    confirmation.level = 2291_dec;
    confirmation.size = 1_dec;
    confirmation.affected_deals.push_back({"pos-b", AffectedDealStatus::kOpened});
    rig.broker.confirms["o_ref-5"] = confirmation;
    rig.broker.confirms_withheld = true;
  }
  rig.owned_deals_complete_since(wall_epoch_ms() - 60'000);
  rig.owned_deal(4, "pos-a", Side::kBuy, /*opened=*/true);
  rig.owned_deal(6, "pos-c", Side::kSell, /*opened=*/false);  // (another lane's)
  rig.recovered(5, OrderType::kMarket, "o_ref-5", Side::kBuy, /*sent_ago_ms=*/100,
                /*is_reference=*/true);
  rig.recovered(6, OrderType::kMarket, "", Side::kBuy, /*sent_ago_ms=*/100);
  rig.startup_reconcile();
  EXPECT_TRUE(rig.collect(1, 250).empty());  // pos-b could be either's: no verdict
  {
    std::lock_guard lock(rig.broker.mutex);
    rig.broker.confirms_withheld = false;
  }
  const StartupOutcome outcome = until_startup_reconciled(rig);
  ASSERT_TRUE(outcome.reconciled);
  std::map<OrderId, VenueEvent> by_order;
  for (const VenueEvent& e : outcome.events) by_order[e.order_id] = e;
  ASSERT_EQ(by_order.count(5), 1u);
  EXPECT_EQ(by_order[5].kind, VenueEventKind::kFill);
  ASSERT_EQ(by_order.count(6), 1u);
  EXPECT_EQ(by_order[6].kind, VenueEventKind::kRejected);
  EXPECT_EQ(by_order[6].reason, RejectReason::kVenueNotExecuted);
  EXPECT_EQ(rig.venue->stats().unknown_found_in_history.load(), 0u);
}

// The journal's list of owned deals starts after the order was sent (a snapshot from before
// deals were journaled, or a list that overflowed): nothing can be subtracted, so no verdict.
TEST_F(HistoryAfterACrash, NothingIsConcludedFromAHistoryOlderThanTheOwnedDeals) {
  rig.owned_deals_complete_since(wall_epoch_ms());
  rig.owned_deal(4, "pos-a", Side::kBuy, /*opened=*/true);
  rig.recovered(5, OrderType::kMarket, "", Side::kBuy);
  rig.recovered(7, OrderType::kMarket, "", Side::kSell);
  rig.startup_reconcile();
  const StartupOutcome outcome = until_startup_reconciled(rig);
  ASSERT_TRUE(outcome.reconciled);
  ASSERT_EQ(outcome.events.size(), 1u);  // the report only: both left for the positions
  EXPECT_EQ(outcome.events[0].fill_size, 2);
  EXPECT_EQ(rig.venue->stats().startup_left_unknown.load(), 2u);
}

// Reconciliation with the engine's books: the start-up decision reports the broker's net
// position per instrument (settled: nothing in flight) and the working orders nothing accounts
// for, ahead of kStartupReconciled; an orphan is reported once.
TEST(CapitalVenueReconcile, TheStartupSnapshotReportsPositionsAndOrphansBeforeTheDecision) {
  VenueRig rig;
  {
    std::lock_guard lock(rig.broker.mutex);
    rig.broker.positions_.push_back(
        position_of("pos-a", "deal-a", "GOLD", Side::kBuy, 3_dec, 2300_dec));
    rig.broker.positions_.push_back(
        position_of("pos-b", "deal-b", "GOLD", Side::kSell, 1_dec, 2304_dec));
    rig.broker.working.push_back(working_order_of("by-hand", "GOLD", Side::kSell, 2_dec, 2400_dec));
    rig.broker.working.push_back(working_order_of("ours", "GOLD", Side::kBuy, 1_dec, 2299_dec));
  }
  rig.recovered(1, OrderType::kLimit, "ours");
  rig.startup_reconcile();
  const StartupOutcome outcome = until_startup_reconciled(rig);
  ASSERT_TRUE(outcome.reconciled);
  // Every snapshot reports (the engine acts on the last one before kStartupReconciled); the
  // decision's own pass reports the orphan, ahead of kStartupReconciled.
  const VenueEvent* position = nullptr;
  const VenueEvent* orphan_seen = nullptr;
  for (std::size_t i = 0; i < outcome.reports_before; ++i) {
    const VenueEvent& e = rig.reports[i];
    if (e.kind == VenueEventKind::kPositionReport) position = &e;
    if (e.kind == VenueEventKind::kOrphanWorkingOrder) orphan_seen = &e;
  }
  ASSERT_NE(position, nullptr);
  ASSERT_NE(orphan_seen, nullptr) << "the orphan must reach the engine before it is ready";
  EXPECT_EQ(position->instrument, 0);
  EXPECT_TRUE(position->settled);
  EXPECT_EQ(position->fill_size, 200);  // 3 long - 1 short, in hundredths
  EXPECT_EQ(position->fill_price, (300 * 230000 - 100 * 230400) / 200);
  const VenueEvent& orphan = *orphan_seen;
  EXPECT_EQ(venue_id(orphan), "by-hand");
  EXPECT_EQ(orphan.fill_size, -200);
  EXPECT_EQ(orphan.fill_price, 240000);

  rig.venue->request_snapshot();
  rig.pump_for(200);
  rig.venue->request_snapshot();
  rig.pump_for(200);
  std::size_t orphans = 0;
  for (const VenueEvent& e : rig.reports) {
    orphans += e.kind == VenueEventKind::kOrphanWorkingOrder ? 1 : 0;
  }
  EXPECT_EQ(orphans, 1u) << "an orphan is reported once";
}

TEST(CapitalVenueReconcile, AnOrderStillBeingFoundOutMakesItsInstrumentUnsettled) {
  VenueRig rig(/*unknown_absence_after_ms=*/600'000);
  rig.recovered(1, OrderType::kMarket, "", Side::kBuy, /*sent_ago_ms=*/100);
  rig.startup_reconcile();
  rig.pump_for(200);  // tracked by now
  rig.reports.clear();
  rig.venue->request_snapshot();
  rig.pump_for(200);
  ASSERT_FALSE(rig.reports.empty());
  for (const VenueEvent& e : rig.reports) {
    EXPECT_FALSE(e.settled) << "its history has not been asked yet: no position may be inferred";
  }
}

TEST(CapitalVenueReconcile, OrphansCanBeCancelledInstead) {
  VenueRig rig(10'000, 5'000, 30'000'000'000, 3'600'000'000'000,
               CapitalVenueOptions::Orphans::kCancel);
  {
    std::lock_guard lock(rig.broker.mutex);
    rig.broker.working.push_back(working_order_of("by-hand", "GOLD", Side::kSell, 2_dec, 2400_dec));
  }
  rig.startup_reconcile();
  ASSERT_TRUE(until_startup_reconciled(rig).reconciled);
  for (const VenueEvent& e : rig.reports) EXPECT_NE(e.kind, VenueEventKind::kOrphanWorkingOrder);
  std::lock_guard lock(rig.broker.mutex);
  EXPECT_TRUE(rig.broker.working.empty()) << "the orphan was not cancelled";
  EXPECT_EQ(rig.venue->stats().orphans_cancelled.load(), 1u);
}

TEST(CapitalVenueReconcile, AForgottenOrderFreesItsLane) {
  VenueRig rig(/*unknown_absence_after_ms=*/600'000);
  rig.recovered(1, OrderType::kMarket, "", Side::kBuy, /*sent_ago_ms=*/100);
  rig.startup_reconcile();
  rig.pump_for(100);
  rig.send(VenueRequestKind::kPlace, 2);  // waits behind order 1, in doubt
  EXPECT_TRUE(rig.pump_for(200).empty());
  EXPECT_EQ(rig.venue->stats().paced_orders.load(), 1u);
  rig.send(VenueRequestKind::kForget, 1);                 // the engine settled order 1
  const std::vector<VenueEvent> events = rig.collect(2);  // accepted, filled
  std::vector<VenueEvent> of_orders;  // without kStartupReconciled: nothing recovered is left
  for (const VenueEvent& e : events) {
    if (e.kind != VenueEventKind::kStartupReconciled) of_orders.push_back(e);
  }
  for (const VenueEvent& e : of_orders) {
    EXPECT_EQ(e.order_id, 2u) << "kind " << static_cast<int>(e.kind);
  }
  ASSERT_GE(of_orders.size(), 2u);
  EXPECT_EQ(of_orders[1].kind, VenueEventKind::kFill);
  EXPECT_EQ(rig.venue->stats().orders_forgotten.load(), 1u);
}

}  // namespace
}  // namespace qt::capital
