// EngineStats: the counters and gauges the engine publishes for status lines and metrics.
// Single writer (the engine thread) with relaxed stores; readers on any thread.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <string_view>

#include "engine/latency_histogram.hpp"
#include "engine/types.hpp"

namespace qt {

enum class EngineReadiness : uint8_t {
  kReady = 0,
  kReconciling,    // recovered; waiting for the venue's start-up reconciliation
  kJournalFailed,  // the write-ahead log failed: degraded for good (engine/engine.hpp)
};
std::string_view to_string(EngineReadiness readiness);

struct EngineStats {
  struct InstrumentFigures {
    std::atomic<int64_t> net_size{0};
    std::atomic<int64_t> average_price{0};
    std::atomic<int64_t> realized_pnl{0};
    std::atomic<int64_t> unrealized_pnl{0};
    std::atomic<int64_t> bid{0};
    std::atomic<int64_t> ask{0};
    // Reconciliation: the broker's net size at the last report, and whether the engine's
    // differs from it with nothing in flight to explain the difference (1) or not (0).
    std::atomic<int64_t> broker_net_size{0};
    std::atomic<int64_t> differs_from_broker{0};
    std::atomic<int64_t> reducing{0};  // this instrument alone is REDUCING (a difference found)
  };

  std::atomic<uint64_t> quotes{0};
  std::atomic<uint64_t> quotes_refused{0};  // zero, negative or crossed prices: not applied
  std::atomic<uint64_t> orders_received{0};
  std::atomic<uint64_t> orders_sent{0};
  std::atomic<uint64_t> fills{0};
  std::atomic<uint64_t> filled_orders{0};
  std::atomic<uint64_t> canceled_orders{0};
  std::atomic<uint64_t> venue_rejects{0};
  std::atomic<uint64_t> illegal_transitions{0};
  std::atomic<uint64_t> unknown_order_events{0};
  std::atomic<uint64_t> late_cancel_rejects{0};  // cancel lost the race with the final fill
  std::atomic<uint64_t> venue_references{0};     // requests the venue named (kSubmitted)
  std::atomic<uint64_t> live_orders{0};
  std::atomic<uint64_t> journal_records{0};   // events written ahead
  std::atomic<uint64_t> output_overflows{0};  // events or outputs that found no room (a bug)
  std::atomic<uint64_t> outputs_waiting{0};   // in the output queue: for durability or delivery
  std::atomic<uint64_t> replayed_records{0};
  std::atomic<EngineReadiness> readiness{EngineReadiness::kReady};
  std::atomic<TradingState> trading_state{TradingState::kActive};  // the account-wide state
  std::atomic<bool> kill_switch{false};
  std::atomic<uint64_t> recovered_orders{0};  // live orders handed to the venue at start
  // Of those, left unresolved when the engine got ready: what the venue reported flagged, or
  // more if more are Unknown in the engine (an Unknown order is unresolved whatever the venue
  // says; the venue may also flag a recovered New one).
  std::atomic<uint64_t> unknown_at_ready{0};
  std::atomic<int64_t> ready_after_ns{0};  // engine start → ready; 0 until then
  // Reconciliation with the broker's positions (engine/reconciliation.cpp).
  std::atomic<uint64_t> position_reports{0};      // broker positions reported by the venue
  std::atomic<uint64_t> orders_reconciled{0};     // orders in doubt settled from positions
  std::atomic<uint64_t> position_adjustments{0};  // differences no order explained (alert)
  std::atomic<uint64_t> orphans_adopted{0};       // broker working orders taken on as external
  std::atomic<uint64_t> late_venue_answers{0};    // answers about orders already reconciled
  std::atomic<int64_t> books_equal_epoch_ms{0};   // last report where every instrument was equal
  // State changes made after the write-ahead log failed: applied in memory only.
  std::atomic<uint64_t> unjournaled_events{0};
  std::array<std::atomic<uint64_t>, kRejectReasonCount> rejects{};
  std::array<InstrumentFigures, kMaxInstruments> instruments{};
  LatencyHistogram quote_latency;  // feed stamp → quote fully handled (strategies included)
  LatencyHistogram order_latency;  // NewOrder created → venue request on the ring (after the
                                   // log made it durable, when there is one)

  static void bump(std::atomic<uint64_t>& counter, uint64_t by = 1) {
    counter.store(counter.load(std::memory_order_relaxed) + by, std::memory_order_relaxed);
  }
};

}  // namespace qt
