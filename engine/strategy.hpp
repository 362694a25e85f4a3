// The in-process strategy API. A Strategy subclass is linked into the engine and runs on the
// engine thread: every callback is invoked there, one at a time, so a strategy needs no locks.
// It acts through its StrategyContext: submit and cancel orders, read positions, quotes,
// instruments and its own orders, and arm a periodic timer.
//
// Callbacks must not block; submit() and cancel() return at once (the risk decision is
// synchronous, the venue's answer arrives later as on_order_update / on_fill). Nothing here
// allocates on the hot path.
#pragma once

#include <bitset>
#include <cstdint>
#include <string_view>

#include "engine/clock.hpp"
#include "engine/instrument.hpp"
#include "engine/messages.hpp"
#include "engine/order.hpp"
#include "engine/position.hpp"
#include "engine/types.hpp"

namespace qt {

class Engine;

struct OrderRequest {
  InstrumentId instrument = 0;
  Side side = Side::kBuy;
  OrderType type = OrderType::kMarket;
  TimeInForce time_in_force = TimeInForce::kGoodTillCancel;
  PriceUnits limit_price = 0;
  SizeUnits size = 0;
};

struct SubmitResult {
  OrderId order_id = 0;  // 0 when rejected
  RejectReason reason = RejectReason::kNone;
  bool accepted() const { return reason == RejectReason::kNone; }
};

class StrategyContext {
 public:
  StrategyContext(Engine& engine, SourceId source) : engine_(engine), source_(source) {}

  SubmitResult submit(const OrderRequest& request);
  RejectReason cancel(OrderId order_id);
  void cancel_all();  // this strategy's live orders

  void subscribe(InstrumentId instrument) { subscriptions_.set(instrument); }
  bool subscribed(InstrumentId instrument) const { return subscriptions_.test(instrument); }
  void set_timer(int64_t interval_ns);  // on_timer every interval; 0 disarms

  const InstrumentSpec* instrument(std::string_view symbol) const;
  const InstrumentSpec& instrument(InstrumentId id) const;
  const Position& position(InstrumentId instrument) const;
  const Quote* last_quote(InstrumentId instrument) const;  // null before the first quote
  const Order* order(OrderId order_id) const;              // null when unknown or recycled
  int64_t now_ns() const;
  SourceId source() const { return source_; }

  // Engine-side bookkeeping.
  int64_t timer_interval_ns() const { return timer_interval_ns_; }
  int64_t next_timer_ns = 0;

 private:
  Engine& engine_;
  SourceId source_;
  // Client order ids are "S<source>-<start>-<n>", <start> the context's creation time in
  // base-36 seconds: unique across restarts, whose journaled ids the duplicate check keeps.
  uint64_t next_client_sequence_ = 1;
  uint64_t start_epoch_seconds_ = static_cast<uint64_t>(wall_epoch_ms() / 1000);
  std::bitset<kMaxInstruments> subscriptions_;
  int64_t timer_interval_ns_ = 0;
};

class Strategy {
 public:
  virtual ~Strategy() = default;
  virtual std::string_view name() const = 0;
  virtual void on_start(StrategyContext&) {}
  virtual void on_quote(StrategyContext&, const Quote&) {}
  // Every state change of one of this strategy's orders (including fills).
  virtual void on_order_update(StrategyContext&, const OrderUpdate&) {}
  // After on_order_update, for updates that carry an execution (last_fill_size > 0).
  virtual void on_fill(StrategyContext&, const OrderUpdate&) {}
  virtual void on_timer(StrategyContext&, int64_t /*now_ns*/) {}
  virtual void on_stop(StrategyContext&) {}
};

}  // namespace qt
