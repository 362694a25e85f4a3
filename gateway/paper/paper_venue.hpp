// PaperVenue: an in-process venue that fills against the live quote stream — market orders at
// the touch (ask for a buy, bid for a sell), limit orders at their limit once the market
// crosses them (at the touch if marketable on arrival). Used by unit tests and benchmarks;
// speaks the same VenueRequest/VenueEvent messages as the Capital.com adapter. Its book does
// not outlive the process, so at start-up every recovered order is reported canceled and the
// start-up reconciliation is complete at once (kStartupReconciled right behind them).
//
// Runs as the venue agent on one thread; holds resting orders in a fixed-capacity table
// (allocated in the constructor); a full table rejects the order.
#pragma once

#include <atomic>
#include <vector>

#include "engine/agent.hpp"
#include "engine/idle_strategy.hpp"
#include "engine/rings.hpp"

namespace qt {

class PaperVenue final : public Agent {
 public:
  static constexpr std::size_t kMaxResting = 4096;

  PaperVenue(VenueRequestRing& requests, VenueEventRing& events, QuoteRing* quotes);

  void set_engine_doorbell(Doorbell* doorbell) { engine_doorbell_ = doorbell; }
  std::string_view name() const override { return "venue"; }
  int do_work() override;

  uint64_t orders_placed() const { return placed_.load(std::memory_order_relaxed); }
  uint64_t events_dropped() const { return dropped_.load(std::memory_order_relaxed); }
  std::size_t resting_count() const { return resting_.size(); }

 private:
  struct Resting {
    OrderId order_id;
    InstrumentId instrument;
    Side side;
    PriceUnits limit_price;
    SizeUnits size;
  };
  void on_request(const VenueRequest& request);
  void on_quote(const Quote& quote);
  void emit(VenueEventKind kind, OrderId id, PriceUnits price, SizeUnits size,
            RejectReason reason = RejectReason::kNone);
  static bool crosses(Side side, PriceUnits limit, const Quote& quote);

  VenueRequestRing& requests_;
  VenueEventRing& events_;
  QuoteRing* quotes_;
  Doorbell* engine_doorbell_ = nullptr;
  std::array<Quote, kMaxInstruments> last_quotes_{};
  std::vector<Resting> resting_;
  std::atomic<uint64_t> placed_{0};
  std::atomic<uint64_t> dropped_{0};
};

}  // namespace qt
