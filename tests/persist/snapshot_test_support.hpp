// Helpers for the snapshot, recovery and snapshotter tests: a real Engine (with the paper venue)
// whose journal ring is drained into a real JournalWriter on disk by the test thread, and a
// deterministic order flow that exercises fills, resting orders, cancels, rejects, trading-state
// changes and the kill switch.
//
// Header-only; tests only. Single-threaded: the test thread plays engine, venue and journal.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "engine/engine.hpp"
#include "persist/data_dir.hpp"
#include "persist/engine_journal.hpp"
#include "persist/engine_recovery.hpp"
#include "persist/journal.hpp"
#include "persist/journal_entry.hpp"
#include "tests/engine_test_support.hpp"
#include "tests/persist/journal_test_support.hpp"

namespace qt::persist::test {

inline constexpr InstrumentId kGold = 0;
inline constexpr InstrumentId kEurUsd = 1;

inline void write_new_file(const std::filesystem::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  ASSERT_TRUE(out.good()) << path;
}

// The names in a directory, for failure messages.
inline std::string listing(const std::filesystem::path& dir) {
  std::string out;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    out += " " + entry.path().filename().string();
  }
  return out;
}

// The EngineOptions every engine of these tests is built from (the rig's, and the shadow's).
inline EngineOptions rig_engine_options(std::size_t order_capacity = 1024) {
  EngineOptions options;
  options.instruments = qt::testing::test_instruments();
  options.risk = qt::testing::permissive_limits();
  options.order_capacity = order_capacity;
  return options;
}

// A fresh engine of the same configuration with idle rings, for recovery into.
struct FreshEngine {
  std::unique_ptr<QuoteRing> quotes = std::make_unique<QuoteRing>();
  std::unique_ptr<VenueRequestRing> requests = std::make_unique<VenueRequestRing>();
  std::unique_ptr<VenueEventRing> events = std::make_unique<VenueEventRing>();
  std::unique_ptr<Engine> engine;
  explicit FreshEngine(std::size_t order_capacity = 1024)
      : engine(std::make_unique<Engine>(rig_engine_options(order_capacity), *quotes, *requests,
                                        *events)) {}
};

// Field by field, so that a difference names the field (the digest only says "different").
//
// same_clock = false for a comparison with a *live* engine: it reads the wall clock for an
// order's created_epoch_ms separately from its journal record's timestamp (engine.cpp, submit()
// and journal()), and replay takes the field from the record, so the two can differ by one
// millisecond; such comparisons skip that field. States that both come from the journal (a
// snapshotter's shadow, a recovery, a replay) compare every field.
inline void expect_same_orders_and_positions(const EngineState& a, const EngineState& b,
                                             bool same_clock = true) {
  EXPECT_EQ(a.journal_sequence, b.journal_sequence);
  EXPECT_EQ(a.last_order_id, b.last_order_id);
  EXPECT_EQ(a.trading_state, b.trading_state);
  EXPECT_EQ(a.kill_switch, b.kill_switch);
  EXPECT_EQ(a.open_buy_size, b.open_buy_size);
  EXPECT_EQ(a.open_sell_size, b.open_sell_size);
  ASSERT_EQ(a.orders.size(), b.orders.size());
  for (std::size_t i = 0; i < a.orders.size(); ++i) {
    const Order& x = a.orders[i];
    const Order& y = b.orders[i];
    SCOPED_TRACE("order " + std::to_string(x.id));
    EXPECT_EQ(x.id, y.id);
    EXPECT_EQ(x.client_order_id, y.client_order_id);
    EXPECT_EQ(x.source, y.source);
    EXPECT_EQ(x.instrument, y.instrument);
    EXPECT_EQ(x.side, y.side);
    EXPECT_EQ(x.type, y.type);
    EXPECT_EQ(x.time_in_force, y.time_in_force);
    EXPECT_EQ(x.state, y.state);
    EXPECT_EQ(x.state_before_cancel, y.state_before_cancel);
    EXPECT_EQ(x.cancel_wanted, y.cancel_wanted);
    EXPECT_EQ(x.venue_id_is_reference, y.venue_id_is_reference);
    EXPECT_EQ(x.limit_price, y.limit_price);
    EXPECT_EQ(x.size, y.size);
    EXPECT_EQ(x.filled_size, y.filled_size);
    EXPECT_EQ(x.average_fill_price, y.average_fill_price);
    EXPECT_TRUE(x.filled_value == y.filled_value);
    EXPECT_EQ(x.created_ns, y.created_ns);
    if (same_clock) {
      EXPECT_EQ(x.created_epoch_ms, y.created_epoch_ms);
    }
    EXPECT_EQ(x.venue_order_id, y.venue_order_id);
  }
  ASSERT_EQ(a.positions.size(), b.positions.size());
  for (std::size_t i = 0; i < a.positions.size(); ++i) {
    SCOPED_TRACE("position " + std::to_string(i));
    EXPECT_EQ(a.positions[i].net_size(), b.positions[i].net_size());
    EXPECT_EQ(a.positions[i].average_price(), b.positions[i].average_price());
    EXPECT_EQ(a.positions[i].realized_pnl(), b.positions[i].realized_pnl());
    EXPECT_EQ(a.positions[i].bought_size(), b.positions[i].bought_size());
    EXPECT_EQ(a.positions[i].sold_size(), b.positions[i].sold_size());
  }
}

// The state a clean replay of the journal from sequence 1 (no snapshot) reaches at `sequence`:
// what the snapshotter's shadow engine holds there, and the reference recovery must match.
inline EngineState replayed_state(const std::filesystem::path& data_dir, uint64_t sequence) {
  FreshEngine fresh;
  RecoveryOptions options;
  options.use_snapshots = false;
  options.up_to_sequence = sequence;
  absl::StatusOr<RecoveredState> recovered =
      recover_engine_state(*fresh.engine, data_dir, rig_engine_options().instruments, options);
  EXPECT_TRUE(recovered.ok()) << recovered.status();
  EXPECT_EQ(fresh.engine->journal_sequence(), sequence);
  return fresh.engine->capture_state();
}

class DiskJournaledEngine {
 public:
  explicit DiskJournaledEngine(const std::filesystem::path& data_dir,
                               uint64_t segment_size = 64 * 1024)
      : data_dir_(data_dir) {
    absl::StatusOr<std::unique_ptr<JournalWriter>> writer =
        JournalWriter::open(small_options(journal_dir(data_dir), Durability::kAsync, segment_size),
                            /*next_sequence=*/1);
    EXPECT_TRUE(writer.ok()) << writer.status();
    writer_ = std::move(*writer);
    log_ = std::make_unique<JournalRingLog>(*ring_, writer_->durable_sequence());
    rig_.engine->set_write_ahead_log(log_.get(), 1);
    rig_.start();
  }

  Engine& engine() { return *rig_.engine; }
  JournalWriter& writer() { return *writer_; }
  uint64_t last_sequence() const { return writer_->appended_sequence(); }
  const std::vector<InstrumentSpec>& instruments() const { return rig_.engine->instruments(); }

  // Engine, venue and journal duty cycles until all three are idle; everything appended is
  // committed (async mode: durable once in the mapping).
  void pump() {
    for (int i = 0; i < 500; ++i) {
      const int work = rig_.engine->do_work() + rig_.venue->do_work();
      const std::size_t moved = ring_->drain([&](const JournalEntry& entry) {
        const absl::Status appended = writer_->append(entry);
        EXPECT_TRUE(appended.ok()) << appended;
      });
      if (moved > 0) {
        const absl::Status committed = writer_->commit();
        EXPECT_TRUE(committed.ok()) << committed;
      }
      if (work == 0 && moved == 0) return;
    }
    ADD_FAILURE() << "the rig did not settle";
  }

  void quote(InstrumentId id, PriceUnits bid, PriceUnits ask) {
    rig_.push_quote(id, bid, ask);
    pump();
  }

  void send(const ClientCommand& command) {
    EXPECT_TRUE(rig_.commands->try_push(command));
    pump();
    rig_.drain_updates();
  }

  void new_order(const std::string& id, InstrumentId instrument, Side side, OrderType type,
                 PriceUnits price, SizeUnits size) {
    send(qt::testing::new_order(id, instrument, side, type, price, size));
  }

  void cancel(const std::string& client_id) {
    ClientCommand command;
    command.kind = CommandKind::kCancelOrder;
    command.cancel.client_order_id = ClientOrderId::from(client_id);
    send(command);
  }

  void control(ControlKind kind, TradingState state = TradingState::kActive) {
    ClientCommand command;
    command.kind = CommandKind::kControl;
    command.control.kind = kind;
    command.control.trading_state = state;
    send(command);
  }

  // `rounds` rounds of a deterministic flow; rounds are numbered on from earlier calls so that
  // client order ids never repeat. Per round: a quote, a market order (filled), a resting limit
  // sell, every 3rd round a cancel of an earlier resting order, every 4th a market sell, every
  // 6th a quote jump that fills the resting sells, every 10th an order refused by validation,
  // every 25th a trading-state change (reducing, back to active a round later), EURUSD orders
  // every 7th.
  void drive(int rounds) {
    for (int r = 0; r < rounds; ++r) {
      const int i = next_round_++;
      const PriceUnits bid = 230'000 + (i % 7) * 10;
      quote(kGold, bid, bid + 30);
      new_order("m" + std::to_string(i), kGold, Side::kBuy, OrderType::kMarket, 0,
                10 * (1 + i % 5));
      new_order("l" + std::to_string(i), kGold, Side::kSell, OrderType::kLimit, bid + 230, 20);
      if (i % 3 == 0 && i >= 3) cancel("l" + std::to_string(i - 3));
      if (i % 4 == 0) {
        new_order("s" + std::to_string(i), kGold, Side::kSell, OrderType::kMarket, 0, 30);
      }
      if (i % 6 == 5) quote(kGold, bid + 300, bid + 330);
      if (i % 10 == 5) {
        new_order("bad" + std::to_string(i), kGold, Side::kBuy, OrderType::kMarket, 0, 7);
      }
      if (i % 25 == 0) control(ControlKind::kSetTradingState, TradingState::kReducing);
      if (i % 25 == 1) control(ControlKind::kSetTradingState, TradingState::kActive);
      if (i % 7 == 3) {
        quote(kEurUsd, 108'000, 108'010);
        new_order("e" + std::to_string(i), kEurUsd, i % 2 == 0 ? Side::kBuy : Side::kSell,
                  OrderType::kMarket, 0, 1000);
      }
    }
  }

  // Seals the journal (the writer's close()).
  void close() {
    const absl::Status closed = writer_->close();
    EXPECT_TRUE(closed.ok()) << closed;
  }

 private:
  std::filesystem::path data_dir_;
  qt::testing::EngineRig rig_;
  std::unique_ptr<JournalRing> ring_ = std::make_unique<JournalRing>();
  std::unique_ptr<JournalRingLog> log_;
  std::unique_ptr<JournalWriter> writer_;
  int next_round_ = 0;
};

}  // namespace qt::persist::test
