// Strategy callbacks never run inside other engine work: an update is delivered only after the
// engine has finished what produced it, so a strategy that submits from on_order_update is never
// called back before its submit returns. And what it sees — every SubmitResult and every update,
// in order — is the same whether the engine writes ahead or not, however late durability comes.
#include <gtest/gtest.h>

#include <memory>
#include <tuple>
#include <vector>

#include "engine/engine.hpp"
#include "tests/engine_test_support.hpp"

namespace qt {
namespace {

using testing::EngineRig;

constexpr InstrumentId kGold = 0;
constexpr SizeUnits kSize = 10;  // 0.10 GOLD

// Buys kSize at market on the first quote, and again each time one of its orders fills, until it
// has placed `orders`. Counts every callback that arrives while it is inside another callback or
// inside submit().
class ChainBuyer final : public Strategy {
 public:
  explicit ChainBuyer(int orders) : orders_(orders) {}
  std::string_view name() const override { return "chain_buyer"; }
  void on_start(StrategyContext& context) override { context.subscribe(kGold); }
  void on_quote(StrategyContext& context, const Quote&) override {
    const Guard guard(*this);
    if (placed_ == 0) place(context);
  }
  void on_order_update(StrategyContext& context, const OrderUpdate& update) override {
    const Guard guard(*this);
    seen.emplace_back(update.order_id, update.state, update.filled_size);
    if (update.state == OrderState::kFilled && placed_ < orders_) place(context);
  }
  bool done() const { return placed_ == orders_; }

  std::vector<std::tuple<OrderId, OrderState, SizeUnits>> seen;
  std::vector<std::pair<OrderId, RejectReason>> results;
  int nested_callbacks = 0;

 private:
  struct Guard {
    explicit Guard(ChainBuyer& s) : strategy(s) {
      strategy.nested_callbacks += strategy.busy_ ? 1 : 0;
      strategy.busy_ = true;
    }
    ~Guard() { strategy.busy_ = false; }
    ChainBuyer& strategy;
  };
  void place(StrategyContext& context) {
    OrderRequest request;
    request.instrument = kGold;
    request.side = Side::kBuy;
    request.size = kSize;
    const SubmitResult result = context.submit(request);
    results.emplace_back(result.order_id, result.reason);
    ++placed_;
  }

  const int orders_;
  int placed_ = 0;
  bool busy_ = false;
};

// A write-ahead log in memory whose durability the test moves by hand.
class ManualLog final : public WriteAheadLog {
 public:
  std::size_t room(std::size_t) noexcept override { return 1 << 20; }
  bool append(const EngineEvent& event) noexcept override {
    events.push_back(event);
    return true;
  }
  uint64_t durable_sequence() const noexcept override { return durable; }
  void make_all_durable() {
    if (!events.empty()) durable = events.back().sequence;
  }

  std::vector<EngineEvent> events;
  uint64_t durable = 0;
};

struct ChainRun {
  std::vector<std::tuple<OrderId, OrderState, SizeUnits>> seen;
  std::vector<std::pair<OrderId, RejectReason>> results;
  int nested_callbacks = 0;
  SizeUnits position = 0;
};

// durable_every: 0 = no log; n = a log made durable only every n-th duty cycle.
ChainRun run_chain(int orders, int durable_every) {
  EngineRig rig;
  ManualLog log;
  if (durable_every > 0) rig.engine->set_write_ahead_log(&log, 1);
  ChainBuyer buyer(orders);
  rig.engine->add_strategy(buyer);
  rig.start();
  rig.quote(kGold, 230000, 230030);
  for (int cycle = 1; cycle < 100'000; ++cycle) {
    const int work = rig.engine->do_work() + rig.venue->do_work();
    if (durable_every > 0 && cycle % durable_every == 0) log.make_all_durable();
    const bool all_durable = durable_every == 0 || log.durable == log.events.size();
    if (work == 0 && buyer.done() && all_durable &&
        rig.engine->position(kGold).net_size() == orders * kSize) {
      break;
    }
  }
  rig.pump();
  return {buyer.seen, buyer.results, buyer.nested_callbacks,
          rig.engine->position(kGold).net_size()};
}

TEST(EngineCallbacks, AStrategySubmittingFromOnOrderUpdateIsNeverCalledBackInsideItsSubmit) {
  for (const int durable_every : {0, 1, 3}) {
    SCOPED_TRACE(durable_every == 0 ? "no log" : "durable every " + std::to_string(durable_every));
    const ChainRun run = run_chain(20, durable_every);
    EXPECT_EQ(run.nested_callbacks, 0);
  }
}

TEST(EngineCallbacks, SubmittingFromOnOrderUpdateSeesTheSameResultsWithOrWithoutAJournal) {
  constexpr int kOrders = 20;
  // The specification: order i is accepted with id i, and the strategy sees PendingNew, New,
  // Filled for it, in that order, before anything of order i + 1.
  std::vector<std::pair<OrderId, RejectReason>> expected_results;
  std::vector<std::tuple<OrderId, OrderState, SizeUnits>> expected_seen;
  for (OrderId id = 1; id <= kOrders; ++id) {
    expected_results.emplace_back(id, RejectReason::kNone);
    expected_seen.emplace_back(id, OrderState::kPendingNew, 0);
    expected_seen.emplace_back(id, OrderState::kNew, 0);
    expected_seen.emplace_back(id, OrderState::kFilled, kSize);
  }
  for (const int durable_every : {0, 1, 2, 7}) {
    SCOPED_TRACE(durable_every == 0 ? "no log" : "durable every " + std::to_string(durable_every));
    const ChainRun run = run_chain(kOrders, durable_every);
    EXPECT_EQ(run.results, expected_results);
    EXPECT_EQ(run.seen, expected_seen);
    EXPECT_EQ(run.position, kOrders * kSize);
  }
}

}  // namespace
}  // namespace qt
