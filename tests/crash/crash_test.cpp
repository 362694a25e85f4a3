// Crash test (issue 4, "Must show"): `quanttrading run` under order load is SIGKILLed at random
// moments, again and again, and restarted on the same data directory.
//
// The test process hosts the Capital.com simulator itself (TLS, CA file written at start), so
// the broker's record outlives every engine death and is the reference. Each child runs with
// group durability, the load client on (a few market orders per second, every update it sees
// logged with write(2), so the log survives the SIGKILL) and the default strategies trading.
// It is killed 0.5-4 s (seeded) after it started trading. Before the restart, a copy of the data
// directory is verified (clean, or a torn tail only), recovered and replayed into a fresh Engine
// built with the EngineOptions the program uses (instrument specs from the broker's dealing
// rules, in the configuration's order; risk and trading state from the same configuration), and:
//  (1) every order the client saw acknowledged is in the journal under the order id the client
//      was told, in a state reachable from the last one the client saw by legal transitions,
//      with at least that much filled — exactly that state and fill when it was terminal; an
//      order the client saw refused before admission is not in the journal as an order;
//  (2) nothing went to the broker twice: no order has two place records, per epic the broker
//      took no more order requests than the journal holds place requests (POST /positions ≤
//      market places, POST /workingorders ≤ limit places), the journal holds no more fills per
//      epic than the broker executed deals, and no broker deal id fills two orders;
//  (3) the restarted engine logs the digest of the state it rebuilt ("journal: recovered state
//      digest=<hex> at sequence <n>"), equal to persist::state_digest of the copy's clean
//      replay, at the same sequence.
// Snapshots are taken every second, so most restarts recover from a snapshot + journal tail
// while the test replays the whole journal. The restarted program must come up every time. At
// the end the last one is stopped with SIGTERM and must exit 0 with a clean journal, and the
// broker's net position per epic must equal the journal's, up to what the orders still live in
// the journal (Unknown ones above all) could have executed without the journal knowing.
// Failures name the seed, the iteration and the offending order; the test goes on after one
// (each offending order, deal or excess is reported once) to show everything a run finds.
//
// Environment: QT_CRASH_SEED (default: from the clock; printed, and in every failure message),
// QT_CRASH_KILLS (default 20), QT_CRASH_QUANTTRADING (default: the binary built with this test),
// QT_CRASH_KEEP=1 keeps the work directory (it is always kept after a failure).
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "app/config.hpp"
#include "app/trading_app.hpp"
#include "engine/engine.hpp"
#include "engine/order.hpp"
#include "gateway/capital/rest_client.hpp"
#include "persist/data_dir.hpp"
#include "persist/engine_journal.hpp"
#include "persist/journal_entry.hpp"
#include "persist/journal_reader.hpp"
#include "persist/records.hpp"
#include "persist/snapshot.hpp"
#include "sim/capital_simulator.hpp"
#include "tests/quanttrading_process_support.hpp"

#ifndef QT_QUANTTRADING_BIN
#error "QT_QUANTTRADING_BIN must name the quanttrading binary (tests/crash/CMakeLists.txt)"
#endif

namespace qt {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using test::ChildProgram;
using test::describe_wait_status;
using test::hex64;
using test::parse_start;
using test::StartReport;
using test::tail_of;

constexpr double kLoadOrdersPerSecond = 2.0;
constexpr double kKillAfterMinSeconds = 0.5;
constexpr double kKillAfterMaxSeconds = 4.0;
constexpr double kFinalRunSeconds = 3.0;
constexpr auto kStartTimeout = std::chrono::seconds(30);
constexpr auto kStopTimeout = std::chrono::seconds(30);

std::string env_or(const char* name, const std::string& fallback) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? value : fallback;
}

// A size in the instrument's units, as the broker writes it ("0.98", "1000").
std::string size_text(const InstrumentSpec& spec, SizeUnits size) {
  return fmt::format("{:g}", spec.size_to_double(size));
}

// ---- what the client saw ------------------------------------------------------------------------

struct AckLine {
  std::string client_order_id;
  OrderState state = OrderState::kPendingNew;
  SizeUnits filled = 0;
  OrderId order_id = 0;
  std::size_t line_number = 0;
};

struct ClientView {
  std::optional<AckLine> last;  // the last update the client saw
  bool acknowledged = false;    // any update other than Rejected
  std::vector<AckLine> lines;
};

std::optional<OrderState> parse_state(const std::string& text) {
  for (std::size_t i = 0; i < kOrderStateCount; ++i) {
    const auto state = static_cast<OrderState>(i);
    if (to_string(state) == text) return state;
  }
  return std::nullopt;
}

// The ack log, by client order id. A malformed line is a failure (the client writes whole lines).
std::map<std::string, ClientView> read_ack_log(const fs::path& path, std::size_t* lines_read) {
  std::map<std::string, ClientView> views;
  std::ifstream in(path);
  std::string line;
  std::size_t n = 0;
  while (std::getline(in, line)) {
    ++n;
    std::istringstream fields(line);
    AckLine ack;
    std::string state;
    fields >> ack.client_order_id >> state >> ack.filled >> ack.order_id;
    const std::optional<OrderState> parsed = parse_state(state);
    EXPECT_TRUE(fields && parsed.has_value()) << "ack log line " << n << " malformed: " << line;
    if (!fields || !parsed) continue;
    ack.state = *parsed;
    ack.line_number = n;
    ClientView& view = views[ack.client_order_id];
    view.acknowledged |= ack.state != OrderState::kRejected;
    view.last = ack;
    view.lines.push_back(ack);
  }
  if (lines_read != nullptr) *lines_read = n;
  return views;
}

std::string describe(const ClientView& view) {
  std::string text;
  for (const AckLine& a : view.lines) {
    text += "\n    ack log line " + std::to_string(a.line_number) + ": " + a.client_order_id + " " +
            std::string(to_string(a.state)) + " filled=" + std::to_string(a.filled) +
            " order=" + std::to_string(a.order_id);
  }
  return text;
}

// The states an order last seen in `seen` (with `filled` done) can be in now, by the legal
// transitions of engine/order.cpp's table: a breadth-first walk over every event, fills of one
// unit and of the rest, from every state the order could have been in before a cancel.
std::set<OrderState> reachable_states(OrderState seen, SizeUnits filled) {
  std::set<OrderState> states;
  std::vector<Order> frontier;
  for (std::size_t before = 0; before < kOrderStateCount; ++before) {
    Order order;
    order.state = seen;
    order.state_before_cancel = static_cast<OrderState>(before);
    order.size = filled + 2;
    order.filled_size = seen == OrderState::kFilled ? order.size : filled;
    frontier.push_back(order);
  }
  std::set<std::tuple<int, int, SizeUnits>> visited;
  while (!frontier.empty()) {
    const Order order = frontier.back();
    frontier.pop_back();
    const auto key =
        std::make_tuple(static_cast<int>(order.state), static_cast<int>(order.state_before_cancel),
                        order.filled_size);
    if (!visited.insert(key).second) continue;
    states.insert(order.state);
    for (int e = 0; e < static_cast<int>(kOrderEventCount); ++e) {
      for (const SizeUnits fill : {SizeUnits{1}, order.leaves()}) {
        Order next = order;
        if (apply_order_event(next, static_cast<OrderEvent>(e), fill, 100) ==
            TransitionResult::kApplied) {
          frontier.push_back(next);
        }
      }
    }
  }
  return states;
}

// ---- the journal, replayed ----------------------------------------------------------------------

struct JournaledOrder {
  OrderId id = 0;
  InstrumentId instrument = 0;
  OrderType type = OrderType::kMarket;
  int place_records = 0;
};

struct Replay {
  persist::VerifyReport verify;  // of the copy as found
  uint64_t last_sequence = 0;
  uint64_t records = 0;
  EngineState state;
  uint64_t digest = 0;
  std::map<std::string, JournaledOrder> orders_by_client_id;
  std::map<OrderId, std::string> client_id_of;
  std::vector<int64_t> market_places;  // per instrument: SentToVenue kPlace records
  std::vector<int64_t> limit_places;
  std::vector<int64_t> fills;                           // per instrument: fill events applied
  std::map<std::string, std::set<OrderId>> deal_fills;  // broker deal id -> orders it filled
  std::map<OrderId, int> place_records;                 // order id -> kPlace records
  // Orders the venue resolved while they were Unknown — from the broker's positions or working
  // orders rather than from their own confirm: the suspects when fills exceed deals.
  std::map<OrderId, std::string> resolved_from_unknown;  // order id -> "filled as"/"working as" id
  std::vector<int64_t> inferred_fills;   // per instrument: orders reconciled as executed
  std::vector<int64_t> adjustments;      // per instrument: position adjustment records
  std::vector<SizeUnits> adjusted_size;  // per instrument: their sum, signed
  int64_t duplicate_id_refusals = 0;     // new orders refused as a duplicate client order id

  const Order* order(OrderId id) const {
    for (const Order& o : state.orders) {
      if (o.id == id) return &o;
    }
    return nullptr;
  }
};

// The program's EngineOptions for these instruments (app/trading_app.cpp, TradingApp::build).
EngineOptions engine_options(const AppConfig& config, const std::vector<InstrumentSpec>& specs) {
  EngineOptions options;
  options.instruments = specs;
  options.risk = risk_limits_from_config(config, specs);
  options.initial_trading_state = config.trading_state == "reducing" ? TradingState::kReducing
                                  : config.trading_state == "halted" ? TradingState::kHalted
                                                                     : TradingState::kActive;
  options.cancel_on_shutdown = config.cancel_on_shutdown;
  return options;
}

// Verifies, recovers (repairing a torn tail: it is a copy) and replays `data_dir`'s journal
// into a fresh engine, collecting the facts the checks need on the way.
absl::StatusOr<Replay> replay_data_dir(const fs::path& data_dir, const EngineOptions& options) {
  const fs::path journal = persist::journal_dir(data_dir);
  Replay replay;
  absl::StatusOr<persist::VerifyReport> verify = persist::verify_journal(journal);
  if (!verify.ok()) return verify.status();
  replay.verify = *verify;
  absl::StatusOr<persist::RecoveryResult> recovered = persist::recover_journal(journal);
  if (!recovered.ok()) return recovered.status();

  auto quotes = std::make_unique<QuoteRing>();
  auto requests = std::make_unique<VenueRequestRing>();
  auto events = std::make_unique<VenueEventRing>();
  Engine engine(options, *quotes, *requests, *events);
  const std::size_t instruments = options.instruments.size();
  replay.market_places.assign(instruments, 0);
  replay.limit_places.assign(instruments, 0);
  replay.fills.assign(instruments, 0);
  replay.inferred_fills.assign(instruments, 0);
  replay.adjustments.assign(instruments, 0);
  replay.adjusted_size.assign(instruments, 0);

  absl::StatusOr<std::unique_ptr<persist::JournalReader>> reader =
      persist::JournalReader::open(journal);
  if (!reader.ok()) return reader.status();
  persist::RecordView record;
  while ((*reader)->next(record)) {
    switch (record.record_type()) {
      case persist::RecordType::kOrderReceived: {
        const auto r = persist::payload_as<persist::OrderReceivedRecord>(record.payload);
        const std::string client_id(r.order.client_order_id.view());
        JournaledOrder& o = replay.orders_by_client_id[client_id];
        if (o.id != 0) {
          return absl::DataLossError("client order id " + client_id + " admitted twice: orders " +
                                     std::to_string(o.id) + " and " + std::to_string(r.order_id));
        }
        o.id = r.order_id;
        o.instrument = r.order.instrument;
        o.type = r.order.type;
        replay.client_id_of[r.order_id] = client_id;
        break;
      }
      case persist::RecordType::kSentToVenue: {
        const VenueRequest request =
            persist::payload_as<persist::SentToVenueRecord>(record.payload).request;
        if (request.kind == VenueRequestKind::kPlace && request.instrument < instruments) {
          ++replay.place_records[request.order_id];
          ++(request.type == OrderType::kLimit ? replay.limit_places
                                               : replay.market_places)[request.instrument];
        }
        break;
      }
      case persist::RecordType::kOrderRejected: {
        const auto r = persist::payload_as<persist::OrderRejectedRecord>(record.payload);
        replay.duplicate_id_refusals += r.reason == RejectReason::kDuplicateClientOrderId ? 1 : 0;
        break;
      }
      default: break;
    }
    // Fills as the engine applies them (an illegal event is not a fill).
    const uint64_t fills_before = engine.stats().fills.load();
    bool was_unknown = false;
    if (record.record_type() == persist::RecordType::kVenueEvent) {
      const Order* order = engine.find_order(
          persist::payload_as<persist::VenueEventRecord>(record.payload).event.order_id);
      was_unknown = order != nullptr && order->state == OrderState::kUnknown;
    }
    if (absl::Status status = persist::replay_record(engine, record); !status.ok()) {
      return status;
    }
    if (record.record_type() == persist::RecordType::kVenueEvent) {
      const VenueEvent event = persist::payload_as<persist::VenueEventRecord>(record.payload).event;
      if (event.kind == VenueEventKind::kPositionAdjusted && event.instrument < instruments) {
        ++replay.adjustments[event.instrument];
        replay.adjusted_size[event.instrument] += event.fill_size;
      }
    }
    if (engine.stats().fills.load() != fills_before) {
      const VenueEvent event = persist::payload_as<persist::VenueEventRecord>(record.payload).event;
      const Order* order = engine.find_order(event.order_id);
      if (order != nullptr) ++replay.fills[order->instrument];
      if (order != nullptr && event.kind == VenueEventKind::kReconciled) {
        ++replay.inferred_fills[order->instrument];
      }
      const std::string deal(event.venue_order_id.data(),
                             ::strnlen(event.venue_order_id.data(), event.venue_order_id.size()));
      if (!deal.empty() && event.kind == VenueEventKind::kFill) {
        replay.deal_fills[deal].insert(event.order_id);
      }
      if (was_unknown) replay.resolved_from_unknown[event.order_id] = "filled as " + deal;
    } else if (was_unknown) {
      const VenueEvent event = persist::payload_as<persist::VenueEventRecord>(record.payload).event;
      const std::string deal(event.venue_order_id.data(),
                             ::strnlen(event.venue_order_id.data(), event.venue_order_id.size()));
      if (event.kind == VenueEventKind::kAccepted) {
        replay.resolved_from_unknown[event.order_id] = "working as " + deal;
      }
    }
    ++replay.records;
  }
  if (!(*reader)->status().ok()) return (*reader)->status();
  replay.last_sequence = engine.journal_sequence();
  if (replay.last_sequence != recovered->last_sequence) {
    return absl::DataLossError("replay ended at sequence " + std::to_string(replay.last_sequence) +
                               ", recovery found records up to " +
                               std::to_string(recovered->last_sequence));
  }
  replay.state = engine.capture_state();
  replay.digest = persist::state_digest(replay.state);
  return replay;
}

// ---- the scenario -------------------------------------------------------------------------------

class CrashTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string seed_text = env_or("QT_CRASH_SEED", "");
    seed_ = seed_text.empty()
                ? static_cast<uint64_t>(std::chrono::system_clock::now().time_since_epoch().count())
                : std::stoull(seed_text);
    kills_ = std::stoi(env_or("QT_CRASH_KILLS", "20"));
    binary_ = env_or("QT_CRASH_QUANTTRADING", QT_QUANTTRADING_BIN);
    std::cout << "crash test: seed " << seed_ << " (QT_CRASH_SEED=" << seed_
              << " repeats the kill moments), " << kills_ << " kills, binary " << binary_
              << std::endl;
    random_.seed(seed_);
    std::string pattern = (fs::temp_directory_path() / "qt-crash-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    work_ = pattern;
    data_dir_ = work_ / "data";
    ack_log_ = work_ / "acks.log";
  }
  void TearDown() override {
    if (HasFailure() || env_or("QT_CRASH_KEEP", "") == "1") {
      std::cout << "crash test: work directory kept: " << work_ << " (seed " << seed_ << ")"
                << std::endl;
    } else {
      std::error_code ignored;
      fs::remove_all(work_, ignored);
    }
  }

  static int failures() {
    return ::testing::UnitTest::GetInstance()->current_test_info()->result()->total_part_count();
  }

  std::string where() const {
    return "[seed " + std::to_string(seed_) + ", iteration " + std::to_string(iteration_) + "]";
  }

  std::vector<std::string> overrides() const {
    return {"persist.data_dir=" + data_dir_.string(), "persist.durability=group",
            "persist.segment_size_mib=1",  // the smallest: cheap copies
            // Snapshots every second: restarts recover from snapshot + journal tail, and kills
            // land in the middle of snapshot writes too.
            "persist.snapshot_interval_seconds=1",
            // The simulator shows a deal in its history at once: a short window keeps each
            // restart's reconciliation (readiness) to about a second.
            "venue.unknown_resolution_ms=5000",
            "load.orders_per_second=" + std::to_string(kLoadOrdersPerSecond),
            "load.ack_log=" + ack_log_.string(), "run.status_interval_seconds=0.5"};
  }

  std::unique_ptr<ChildProgram> spawn() {
    logins_.wait_turn();
    std::vector<std::string> argv = {binary_, "run"};
    for (const std::string& o : overrides()) {
      argv.push_back("--set");
      argv.push_back(o);
    }
    const fs::path log = work_ / ("run-" + std::to_string(iteration_) + ".log");
    auto child =
        std::make_unique<ChildProgram>(argv, test::simulator_environment(*sim_, ca_file_), log);
    EXPECT_EQ(child->spawn_error(), 0)
        << where() << " cannot start " << binary_ << ": " << std::strerror(child->spawn_error());
    return child;
  }

  // Waits for the recovery line and for the load client's first update of this run.
  ::testing::AssertionResult wait_until_trading(ChildProgram& child, std::size_t ack_bytes_before) {
    return test::wait_until_trading(child, ack_log_, ack_bytes_before, kStartTimeout, where());
  }

  // (3): the engine that just came up rebuilt the state the previous copy replays to.
  void check_restart(const ChildProgram& child, const Replay& previous) {
    const std::optional<StartReport> start = parse_start(child.log());
    ASSERT_TRUE(start.has_value()) << where() << " no recovery line";
    EXPECT_EQ(start->continuing_at, previous.last_sequence + 1)
        << where() << " the restarted engine continues at sequence " << start->continuing_at
        << " but the journal it was left ends at " << previous.last_sequence;
    ASSERT_TRUE(start->digest.has_value())
        << where() << " the restarted engine did not log 'journal: recovered state digest=...'";
    EXPECT_EQ(*start->digest_sequence, previous.last_sequence) << where();
    EXPECT_EQ(hex64(*start->digest), hex64(previous.digest))
        << where() << " the state the restarted engine rebuilt differs from a clean replay of "
        << "the same journal (sequence " << previous.last_sequence << ")";
    torn_tails_ += start->torn_tail ? 1 : 0;
    restarts_from_snapshot_ += start->from_snapshot ? 1 : 0;
  }

  // (1): every acknowledged order is in the journal, as advanced as the client saw it.
  void check_acknowledged(const Replay& replay) {
    std::size_t lines = 0;
    const std::map<std::string, ClientView> views = read_ack_log(ack_log_, &lines);
    std::size_t acknowledged = 0;
    for (const auto& [client_id, view] : views) {
      if (reported_clients_.contains(client_id)) continue;
      const int failures_before = failures();
      const auto journaled = replay.orders_by_client_id.find(client_id);
      if (!view.acknowledged) {
        // Refused before admission: the client was told so, and the journal holds no such order.
        if (view.last->order_id == 0) {
          EXPECT_TRUE(journaled == replay.orders_by_client_id.end())
              << where() << " order " << client_id << " was refused to the client but the "
              << "journal admitted it as order " << journaled->second.id << describe(view);
          if (failures() != failures_before) reported_clients_.insert(client_id);
          continue;
        }
      }
      ++acknowledged;
      if (journaled == replay.orders_by_client_id.end()) {
        ADD_FAILURE() << where() << " acknowledged order " << client_id << " is not in the journal"
                      << describe(view);
        reported_clients_.insert(client_id);
        continue;
      }
      const AckLine& last = *view.last;
      EXPECT_EQ(journaled->second.id, last.order_id)
          << where() << " " << client_id << ": the journal's order id differs from the one the "
          << "client was told" << describe(view);
      const Order* order = replay.order(journaled->second.id);
      if (order == nullptr) {
        ADD_FAILURE() << where() << " " << client_id << ": order " << journaled->second.id
                      << " is not in the replayed state" << describe(view);
        reported_clients_.insert(client_id);
        continue;
      }
      const std::string replayed =
          std::string(to_string(order->state)) + " filled=" + std::to_string(order->filled_size);
      if (is_terminal(last.state)) {
        EXPECT_TRUE(order->state == last.state && order->filled_size == last.filled)
            << where() << " " << client_id << " (order " << order->id << "): the client saw "
            << to_string(last.state) << " filled=" << last.filled << ", the journal says "
            << replayed << describe(view);
      } else {
        EXPECT_TRUE(reachable_states(last.state, last.filled).contains(order->state) &&
                    order->filled_size >= last.filled)
            << where() << " " << client_id << " (order " << order->id << "): the client saw "
            << to_string(last.state) << " filled=" << last.filled << ", the journal says only "
            << replayed << describe(view);
      }
      if (failures() != failures_before) reported_clients_.insert(client_id);
    }
    acknowledged_ = acknowledged;
    ack_lines_ = lines;
  }

  // (2): nothing reached the broker twice; the journal's fills are deals the broker executed.
  // The counts are cumulative over the whole test: each excess is reported when it grows.
  void check_venue(const Replay& replay) {
    const sim::SimStats stats = sim_->stats();
    for (const auto& [order_id, places] : replay.place_records) {
      if (places > 1 && reported_orders_.insert(order_id).second) {
        ADD_FAILURE() << where() << " order " << order_id << " has " << places
                      << " place requests in the journal";
      }
    }
    auto report_excess = [&](const std::string& what, int64_t have, int64_t limit,
                             const std::string& details) {
      int64_t& reported = reported_excess_[what];
      if (have - limit > reported) {
        ADD_FAILURE() << where() << " " << what << ": " << have << " > " << limit << details;
        reported = have - limit;
      }
    };
    int64_t market_places = 0;
    int64_t limit_places = 0;
    for (std::size_t i = 0; i < specs_.size(); ++i) {
      const std::string epic(specs_[i].name());
      market_places += replay.market_places[i];
      limit_places += replay.limit_places[i];
      report_excess(
          "order requests the broker took on " + epic + " vs place requests in the journal",
          stats.orders(epic) - manual_requests_[epic],
          replay.market_places[i] + replay.limit_places[i], "");
      // A fill the broker never executed: the orders resolved while Unknown are the suspects.
      std::string suspects;
      for (const auto& [order_id, resolution] : replay.resolved_from_unknown) {
        const Order* order = replay.order(order_id);
        if (order == nullptr || order->instrument != specs_[i].id) continue;
        const auto client = replay.client_id_of.find(order_id);
        suspects += "\n    order " + std::to_string(order_id) + " (" +
                    (client == replay.client_id_of.end() ? "?" : client->second) + " " +
                    std::string(to_string(order->side)) + " " + size_text(specs_[i], order->size) +
                    ") was Unknown, resolved " + resolution;
      }
      report_excess("fills in the journal on " + epic + " vs deals the broker executed",
                    replay.fills[i], stats.deals(epic) - manual_deals_[epic],
                    suspects.empty() ? "" : "; orders resolved while Unknown:" + suspects);
    }
    report_excess("POST /api/v1/positions requests vs market-order places in the journal",
                  stats.requests("POST /api/v1/positions") - manual_position_posts_, market_places,
                  "");
    report_excess("POST /api/v1/workingorders requests vs limit-order places in the journal",
                  stats.requests("POST /api/v1/workingorders") - manual_working_posts_,
                  limit_places, "");
    for (const auto& [deal, orders] : replay.deal_fills) {
      if (orders.size() > 1 && reported_deals_.insert(deal).second) {
        std::string list;
        for (OrderId id : orders) {
          const auto client = replay.client_id_of.find(id);
          list += " " + std::to_string(id) + " (" +
                  (client == replay.client_id_of.end() ? "?" : client->second) + ")";
        }
        ADD_FAILURE() << where() << " broker deal " << deal << " fills " << orders.size()
                      << " orders:" << list;
      }
    }
    post_positions_ = stats.requests("POST /api/v1/positions") - manual_position_posts_;
    post_working_ = stats.requests("POST /api/v1/workingorders") - manual_working_posts_;
    places_ = market_places + limit_places;
    broker_deals_ = 0;
    for (const auto& [epic, n] : stats.deals_by_epic) broker_deals_ += n;
    journal_fills_ = 0;
    for (int64_t n : replay.fills) journal_fills_ += n;
  }

  // Copies the data directory the dead engine left, replays the copy and checks (1) and (2).
  std::optional<Replay> inspect(const std::string& label, bool expect_clean) {
    const fs::path copy = work_ / "copy";
    std::error_code ec;
    fs::remove_all(copy, ec);
    fs::copy(data_dir_, copy, fs::copy_options::recursive, ec);
    EXPECT_FALSE(ec) << where() << " copying " << data_dir_ << ": " << ec.message();
    if (ec) return std::nullopt;
    absl::StatusOr<Replay> replay = replay_data_dir(copy, options_);
    EXPECT_TRUE(replay.ok()) << where() << " " << label << ": " << replay.status();
    if (!replay.ok()) return std::nullopt;
    const persist::Damage& damage = replay->verify.damage;
    if (expect_clean) {
      EXPECT_TRUE(replay->verify.clean()) << where() << " " << label << ": journal damaged\n"
                                          << replay->verify.to_text();
    } else {
      EXPECT_NE(damage.kind, persist::DamageKind::kCorruption)
          << where() << " " << label << ": journal corrupt\n"
          << replay->verify.to_text();
    }
    if (damage.kind == persist::DamageKind::kTornTail) {
      ++torn_tails_seen_;
      std::cout << where() << " torn tail after the kill: " << damage.segment.filename().string()
                << " at offset " << damage.offset << ": " << damage.reason << std::endl;
    }
    check_acknowledged(*replay);
    check_venue(*replay);
    return *std::move(replay);
  }

  void run_scenario(int kills, bool manual_trades);
  // After a restart is trading: its start-up reconciliation left nothing in doubt and the books
  // equal to the broker's (the engine's own line, checked against the journal at the end).
  void check_reconciled(const ChildProgram& child);
  // A trade on the account outside the engine, made while it is down after a SIGKILL: a market
  // deal or a working order far from the market on the manual epic (one the engine's strategies
  // and load do not trade).
  void trade_by_hand(bool working_order);

  void print_progress(const char* what, double seconds_alive, const Replay& replay) {
    std::size_t live = 0;
    std::size_t unknown = 0;
    for (const Order& o : replay.state.orders) {
      live += o.is_live() ? 1 : 0;
      unknown += o.state == OrderState::kUnknown ? 1 : 0;
    }
    std::cout << "iteration " << iteration_ << ": " << what << " after " << std::fixed
              << std::setprecision(2) << seconds_alive << " s; journal to sequence "
              << replay.last_sequence << " (" << replay.verify.segments.size()
              << " segments), orders " << replay.state.last_order_id << " (live " << live
              << ", Unknown " << unknown << "), client acknowledged " << acknowledged_
              << " orders in " << ack_lines_ << " updates; broker POST /positions "
              << post_positions_ << " + /workingorders " << post_working_ << " vs journal places "
              << places_ << "; broker deals " << broker_deals_ << " vs journal fills "
              << journal_fills_ << " (" << replay.resolved_from_unknown.size()
              << " orders resolved while Unknown); duplicate-id refusals "
              << replay.duplicate_id_refusals << "; digest " << hex64(replay.digest) << std::endl;
  }

  uint64_t seed_ = 0;
  int kills_ = 20;
  int iteration_ = 0;
  std::string binary_;
  std::mt19937_64 random_;
  fs::path work_;
  fs::path data_dir_;
  fs::path ack_log_;
  fs::path ca_file_;
  std::unique_ptr<sim::CapitalSimulator> sim_;
  std::vector<InstrumentSpec> specs_;
  EngineOptions options_;
  test::LoginPacer logins_;
  std::size_t acknowledged_ = 0;
  std::size_t ack_lines_ = 0;
  int64_t post_positions_ = 0;
  int64_t post_working_ = 0;
  int64_t places_ = 0;
  int64_t broker_deals_ = 0;
  int64_t journal_fills_ = 0;
  std::set<std::string> reported_clients_;  // each offending order is reported once
  std::set<OrderId> reported_orders_;
  std::set<std::string> reported_deals_;
  std::map<std::string, int64_t> reported_excess_;
  // Trades made on the account outside the engine (the manual variant), per epic.
  std::unique_ptr<capital::CapitalRestClient> manual_client_;
  std::map<std::string, int64_t> manual_requests_;
  std::map<std::string, int64_t> manual_deals_;
  std::map<std::string, SizeUnits> manual_net_;
  int64_t manual_position_posts_ = 0;
  int64_t manual_working_posts_ = 0;
  std::vector<double> reconcile_ms_;  // each restart's start-up reconciliation
  int restarts_from_snapshot_ = 0;
  int torn_tails_seen_ = 0;  // in the copies
  int torn_tails_ = 0;       // reported by the restarted engines
};

void CrashTest::run_scenario(int kills, bool manual_trades) {
  kills_ = kills;
  const auto test_started = Clock::now();
  ASSERT_TRUE(fs::exists(binary_) && ::access(binary_.c_str(), X_OK) == 0)
      << "the quanttrading binary is missing or not executable: " << binary_;
  ASSERT_GE(kills_, 1);

  // The broker, for the whole test: its record is the reference.
  ca_file_ = work_ / "sim-ca.pem";
  sim::SimOptions sim_options = sim::SimOptions::embedded();
  sim_options.write_ca_file = ca_file_.string();
  sim_options.seed = seed_;
  sim_options.quotes_per_second = 20;  // enough for the moving-average strategy to trade
  sim_ = std::make_unique<sim::CapitalSimulator>(sim_options);
  try {
    sim_->start();
  } catch (const std::exception& e) {
    FAIL() << "the simulator did not start: " << e.what();
  }
  ASSERT_TRUE(fs::exists(ca_file_)) << "the simulator wrote no CA file";

  // The program's configuration (same overrides), and its instruments as the broker defines
  // them — the program reads the dealing rules at start, in the configuration's order.
  ConfigSources sources;
  sources.set_overrides = overrides();
  absl::StatusOr<AppConfig> config = load_config(sources);
  ASSERT_TRUE(config.ok()) << config.status();
  {
    capital::CapitalClientConfig client_config;
    client_config.demo_url = sim_->rest_url();
    client_config.stream_url = sim_->stream_url();
    client_config.ca_file = ca_file_.string();
    client_config.api_key = capital::Secret(sim_options.credentials.api_key);
    client_config.identifier = capital::Secret(sim_options.credentials.identifier);
    client_config.password = capital::Secret(sim_options.credentials.password);
    client_config.api_timeout = std::chrono::milliseconds(5000);
    auto client = capital::CapitalRestClient::create(client_config);
    ASSERT_TRUE(client.ok()) << client.status();
    auto session = (*client)->login();
    ASSERT_TRUE(session.ok()) << "login at the simulator: " << session.status();
    logins_.logged_in_now();  // that login counts against the broker's login limit
    for (std::size_t i = 0; i < config->instruments.size(); ++i) {
      auto spec =
          (*client)->instrument_spec(config->instruments[i].symbol, static_cast<InstrumentId>(i));
      ASSERT_TRUE(spec.ok()) << config->instruments[i].symbol << ": " << spec.status();
      specs_.push_back(*spec);
    }
    if (manual_trades) manual_client_ = std::move(*client);
  }
  options_ = engine_options(*config, specs_);

  std::optional<Replay> previous;
  std::uniform_real_distribution<double> kill_after(kKillAfterMinSeconds, kKillAfterMaxSeconds);
  for (iteration_ = 1; iteration_ <= kills_; ++iteration_) {
    SCOPED_TRACE(where());
    std::error_code ec;
    const std::size_t ack_bytes = fs::exists(ack_log_) ? fs::file_size(ack_log_, ec) : 0;
    std::unique_ptr<ChildProgram> child = spawn();
    ASSERT_EQ(child->spawn_error(), 0);
    ASSERT_TRUE(wait_until_trading(*child, ack_bytes));
    if (previous) {
      check_restart(*child, *previous);
      if (HasFatalFailure()) return;
    }
    check_reconciled(*child);
    const double delay = kill_after(random_);
    const auto trading_since = Clock::now();
    while (Clock::now() - trading_since < std::chrono::duration<double>(delay)) {
      ASSERT_TRUE(child->poll()) << "quanttrading run exited by itself: "
                                 << describe_wait_status(*child->exit_status()) << "\n"
                                 << tail_of(child->log(), 40);
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    const std::optional<int> status = child->stop(SIGKILL, std::chrono::seconds(10));
    ASSERT_TRUE(status.has_value() && WIFSIGNALED(*status) && WTERMSIG(*status) == SIGKILL)
        << "SIGKILL did not end the child: "
        << (status ? describe_wait_status(*status) : "running");
    previous = inspect("after SIGKILL", /*expect_clean=*/false);
    ASSERT_TRUE(previous.has_value());
    print_progress("SIGKILL", delay, *previous);
    // While the engine is down — as a person would, seeing it gone — and without competing with
    // it for the account's request budget.
    if (manual_trades) trade_by_hand(/*working_order=*/iteration_ == 2);
    // Failures so far are recorded with the seed and iteration; the test goes on to find more.
  }

  // The last start: comes up, trades, and stops cleanly on SIGTERM.
  {
    SCOPED_TRACE(where() + " (final run, SIGTERM)");
    std::error_code ec;
    const std::size_t ack_bytes = fs::exists(ack_log_) ? fs::file_size(ack_log_, ec) : 0;
    std::unique_ptr<ChildProgram> child = spawn();
    ASSERT_EQ(child->spawn_error(), 0);
    ASSERT_TRUE(wait_until_trading(*child, ack_bytes));
    check_restart(*child, *previous);
    check_reconciled(*child);
    std::this_thread::sleep_for(std::chrono::duration<double>(kFinalRunSeconds));
    ASSERT_TRUE(child->poll()) << tail_of(child->log(), 40);
    const std::optional<int> status = child->stop(SIGTERM, kStopTimeout);
    ASSERT_TRUE(status.has_value())
        << "no exit within " << kStopTimeout.count() << " s of SIGTERM\n"
        << tail_of(child->log(), 40);
    EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0)
        << describe_wait_status(*status) << " after SIGTERM\n"
        << tail_of(child->log(), 40);
    std::optional<Replay> final_replay = inspect("after SIGTERM", /*expect_clean=*/true);
    ASSERT_TRUE(final_replay.has_value());
    print_progress("SIGTERM", kFinalRunSeconds, *final_replay);

    // After the clean stop (cancel_on_shutdown): nothing live, nothing in doubt, no working
    // order left at the broker, and per epic the journal's position equals the broker's exactly
    // and every deal the broker made is one fill of one order (inferred ones included) or, for
    // trades made by hand, covered by a journaled position adjustment of exactly their size.
    std::map<std::string, SizeUnits> broker_net;
    for (const sim::PositionInfo& p : sim_->positions()) {
      for (const InstrumentSpec& spec : specs_) {
        if (spec.name() != p.epic) continue;
        const SizeUnits size = spec.size_from_double(p.size);
        broker_net[p.epic] += p.direction == "BUY" ? size : -size;
      }
    }
    const sim::SimStats stats = sim_->stats();
    for (const InstrumentSpec& spec : specs_) {
      const std::string epic(spec.name());
      const SizeUnits journal_net = final_replay->state.positions[spec.id].net_size();
      std::string live;
      for (const Order& o : final_replay->state.orders) {
        if (o.instrument != spec.id || !o.is_live()) continue;
        live += "\n    order " + std::to_string(o.id) + " (" +
                std::string(o.client_order_id.view()) + " " + std::string(to_string(o.side)) + " " +
                size_text(spec, o.leaves()) + " " + std::string(to_string(o.state)) + ")";
      }
      std::string working_list;
      for (const sim::WorkingOrderInfo& w : sim_->working_orders()) {
        if (w.epic != epic) continue;
        working_list += "\n    broker working order " + w.deal_id + " " + w.direction + " " +
                        fmt::format("{:g} at {:g}", w.size, w.level);
      }
      const int64_t deals = stats.deals(epic);
      std::cout << epic << ": broker net " << size_text(spec, broker_net[epic]) << ", journal net "
                << size_text(spec, journal_net) << "; broker deals " << deals << " = journal fills "
                << final_replay->fills[spec.id] << " (" << final_replay->inferred_fills[spec.id]
                << " inferred from positions) + by hand " << manual_deals_[epic] << "; adjustments "
                << final_replay->adjustments[spec.id] << " of "
                << size_text(spec, final_replay->adjusted_size[spec.id]) << " (by hand "
                << size_text(spec, manual_net_[epic]) << ")" << std::endl;
      EXPECT_TRUE(live.empty()) << where() << " " << epic
                                << ": orders still live after the clean stop:" << live;
      EXPECT_TRUE(working_list.empty())
          << where() << " " << epic << ": working orders left at the broker:" << working_list;
      EXPECT_EQ(journal_net, broker_net[epic])
          << where() << " " << epic << ": the journal's net position is "
          << size_text(spec, journal_net) << ", the broker's " << size_text(spec, broker_net[epic]);
      EXPECT_EQ(final_replay->fills[spec.id] + manual_deals_[epic], deals)
          << where() << " " << epic << ": deals the broker made vs fills in the journal + deals "
          << "made by hand";
      EXPECT_EQ(final_replay->adjusted_size[spec.id], manual_net_[epic])
          << where() << " " << epic << ": the journal's position adjustments do not add up to "
          << "the trades made by hand (an adjustment hides an order's fill, or misses a trade)";
    }
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - test_started).count();
  std::sort(reconcile_ms_.begin(), reconcile_ms_.end());
  if (!reconcile_ms_.empty()) {
    std::cout << "crash test: restart to books equal the broker's (start-up reconciliation, "
              << "journal recovery excluded): p50 " << reconcile_ms_[reconcile_ms_.size() / 2]
              << " ms, max " << reconcile_ms_.back() << " ms over " << reconcile_ms_.size()
              << " restarts" << std::endl;
  }
  std::cout << "crash test: " << kills_ << " SIGKILLs + 1 SIGTERM in " << std::setprecision(1)
            << seconds << " s; " << restarts_from_snapshot_ << " of " << kills_
            << " restarts recovered from a snapshot + journal tail; torn tails: "
            << torn_tails_seen_ << " in copies, " << torn_tails_ << " reported at restart; seed "
            << seed_ << std::endl;
}

void CrashTest::check_reconciled(const ChildProgram& child) {
  const std::string log = child.log();
  static const std::regex books(
      R"(reconcile: start-up: (\d+) position differences, (\d+) orders settled from positions, )"
      R"((\d+) adjustments: ([^\n]*))");
  static const std::regex ready(
      R"(engine ready: reconciled (\d+) recovered orders in ([0-9.]+) ms, (\d+) left Unknown)");
  std::smatch books_match;
  std::smatch ready_match;
  ASSERT_TRUE(std::regex_search(log, books_match, books))
      << where() << " no start-up reconciliation line\n"
      << tail_of(log, 40);
  ASSERT_TRUE(std::regex_search(log, ready_match, ready)) << where() << " no readiness line\n"
                                                          << tail_of(log, 40);
  const int differences = std::stoi(books_match[1]);
  const int settled = std::stoi(books_match[2]);
  const int adjustments = std::stoi(books_match[3]);
  const int left_unknown = std::stoi(ready_match[3]);
  const double ms = std::stod(ready_match[2]);
  const std::size_t adopted = [&] {
    std::size_t n = 0;
    for (auto at = log.find("adopted the broker's working order"); at != std::string::npos;
         at = log.find("adopted the broker's working order", at + 1)) {
      ++n;
    }
    return n;
  }();
  reconcile_ms_.push_back(ms);
  std::cout << "iteration " << iteration_ << ": reconciled in " << ms
            << " ms: Unknown after reconciliation " << left_unknown << ", position differences "
            << differences << ", orders settled from positions " << settled << ", adjustments "
            << adjustments << ", orphan working orders adopted " << adopted << " ("
            << books_match[4] << ")" << std::endl;
  EXPECT_EQ(left_unknown, 0) << where() << " orders left Unknown after the reconciliation";
  EXPECT_EQ(differences, 0) << where() << " positions differ from the broker's after the "
                            << "reconciliation: " << books_match[4];
}

void CrashTest::trade_by_hand(bool working_order) {
  ASSERT_NE(manual_client_, nullptr);
  const InstrumentSpec& spec = specs_.back();  // US100: not traded by the default strategies
  const std::string epic(spec.name());
  const SizeUnits size = spec.min_size;
  const Side side = iteration_ % 2 == 0 ? Side::kSell : Side::kBuy;
  capital::DealSendResult result;
  // The engine shares the account's request budget: a refusal for now (429) is tried again, as
  // a person at the broker's platform would — for up to 30 s, as the client's backoff after
  // repeated 429s can reach well beyond ten.
  for (int attempt = 0; attempt < 150; ++attempt) {
    if (working_order) {
      // Far below the market: it stays working until the engine adopts it and (at the stop)
      // cancels it.
      const absl::StatusOr<capital::MarketDetails> market = manual_client_->market_details(epic);
      if (!market.ok() && absl::IsResourceExhausted(market.status())) {
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        continue;
      }
      ASSERT_TRUE(market.ok() && market->snapshot.bid.has_value())
          << where() << " no price for " << epic << ": " << market.status();
      capital::CreateWorkingOrderRequest request;
      request.epic = epic;
      request.direction = Side::kBuy;
      request.size = capital::Decimal::from_fixed_point(size, spec.size_decimals);
      request.level = capital::Decimal::from_fixed_point(
          spec.price_from_double(*market->snapshot.bid * 0.8) / spec.tick * spec.tick,
          spec.price_decimals);
      request.type = capital::WorkingOrderType::kLimit;
      result = manual_client_->create_working_order(request);
      ++manual_working_posts_;
    } else {
      capital::CreatePositionRequest request;
      request.epic = epic;
      request.direction = side;
      request.size = capital::Decimal::from_fixed_point(size, spec.size_decimals);
      result = manual_client_->open_position(request);
      ++manual_position_posts_;
    }
    if (result.accepted() || !absl::IsResourceExhausted(result.status)) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  if (result.accepted()) {
    ++manual_requests_[epic];
    if (!working_order) {
      ++manual_deals_[epic];
      manual_net_[epic] += side == Side::kBuy ? size : -size;
    }
  }
  ASSERT_TRUE(result.accepted()) << where() << " the trade by hand was refused: " << result.status;
  std::cout << "iteration " << iteration_ << ": by hand on the account: "
            << (working_order ? "working order BUY " : std::string(to_string(side)) + " ")
            << size_text(spec, size) << " " << epic << std::endl;
}

TEST_F(CrashTest, SigkillUnderLoadLosesNoAcknowledgedOrderAndDuplicatesNothingAtTheVenue) {
  run_scenario(kills_, /*manual_trades=*/false);
}

// The same with trades on the account that the engine did not make: a market deal before some
// kills and a working order once. Each must end up in a journaled reconciliation record (the
// deals) or an adopted order (the working order), and the books equal the broker's.
TEST_F(CrashTest, TradesMadeByHandOnTheAccountAreReconciledAcrossCrashes) {
  run_scenario(std::max(3, kills_ / 4), /*manual_trades=*/true);
}

}  // namespace
}  // namespace qt
