// Issue 11, "An operator's view and hand": `quanttrading orders resolve` and `quanttrading
// reconcile`, run as the operator runs them — the real binary, its own process.
//
// The journals are written here directly (JournalWriter + encode_event of the records the engine
// would write: an order received, sent, then Unknown or filled), so the state each command starts
// from is exact. The broker for `reconcile` is a `quanttrading sim --tls` process of its own,
// traded on by hand through the REST client, as an operator's manual trade would be.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <regex>
#include <thread>

#include "engine/clock.hpp"
#include "gateway/capital/rest_client.hpp"
#include "persist/data_dir.hpp"
#include "persist/engine_journal.hpp"
#include "persist/journal.hpp"
#include "persist/journal_reader.hpp"
#include "tests/quanttrading_process_support.hpp"

namespace qt::test {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr InstrumentId kGold = 0;    // the default configuration: 2 price, 2 size decimals
constexpr InstrumentId kEurUsd = 1;  // 5 price decimals, 0 size decimals

// A journal as the engine writes it, one record per call, sequences and order ids from 1.
class JournalScript {
 public:
  OrderId receive(InstrumentId instrument, Side side, OrderType type, PriceUnits limit,
                  SizeUnits size) {
    EngineEvent event;
    event.kind = EngineEventKind::kOrderReceived;
    event.order_id = ++last_order_;
    event.order.client_order_id = ClientOrderId::from("op-" + std::to_string(last_order_));
    event.order.source = 1;
    event.order.instrument = instrument;
    event.order.side = side;
    event.order.type = type;
    event.order.limit_price = limit;
    event.order.size = size;
    add(event);
    EngineEvent sent;
    sent.kind = EngineEventKind::kSentToVenue;
    sent.order_id = last_order_;
    sent.sent.order_id = last_order_;
    sent.sent.instrument = instrument;
    sent.sent.side = side;
    sent.sent.type = type;
    sent.sent.limit_price = limit;
    sent.sent.size = size;
    add(sent);
    return last_order_;
  }
  void venue(OrderId order, VenueEventKind kind, SizeUnits fill_size = 0, PriceUnits price = 0) {
    EngineEvent event;
    event.kind = EngineEventKind::kVenueEvent;
    event.order_id = order;
    event.venue.kind = kind;
    event.venue.order_id = order;
    event.venue.fill_size = fill_size;
    event.venue.fill_price = price;
    add(event);
  }
  void write(const fs::path& data_dir) const {
    persist::JournalOptions options;
    options.dir = persist::journal_dir(data_dir);
    options.segment_size = 1 << 20;
    options.durability = persist::Durability::kSync;
    absl::StatusOr<std::unique_ptr<persist::JournalWriter>> writer =
        persist::JournalWriter::open(options, 1);
    ASSERT_TRUE(writer.ok()) << writer.status();
    for (const EngineEvent& event : events_) {
      ASSERT_TRUE((*writer)->append(persist::encode_event(event)).ok());
    }
    ASSERT_TRUE((*writer)->commit().ok());
    ASSERT_TRUE((*writer)->close().ok());
  }

 private:
  void add(EngineEvent event) {
    event.sequence = events_.size() + 1;
    event.timestamp_ns = wall_now_ns();
    events_.push_back(event);
  }
  std::vector<EngineEvent> events_;
  OrderId last_order_ = 0;
};

uint64_t journal_records(const fs::path& data_dir) {
  auto reader = persist::JournalReader::open(persist::journal_dir(data_dir));
  if (!reader.ok()) return 0;
  uint64_t n = 0;
  persist::RecordView view;
  while ((*reader)->next(view)) ++n;
  return n;
}

// Ours without anything that reaches a broker or a configuration, plus `extra`.
std::vector<std::string> offline_environment(const std::vector<std::string>& extra = {}) {
  std::vector<std::string> env;
  for (const std::string& entry :
       simulator_environment(sim::SimCredentials{}, "", "", fs::path())) {
    if (entry.rfind("CAPITAL_", 0) != 0 && entry.rfind("SUDO_USER=", 0) != 0) {
      env.push_back(entry);
    }
  }
  env.insert(env.end(), extra.begin(), extra.end());
  return env;
}

class OperatorCommands : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(fs::exists(binary_)) << "the quanttrading binary is missing: " << binary_;
    fs::remove_all(work_);
    fs::create_directories(work_);
  }
  void TearDown() override {
    std::error_code ec;
    if (!HasFailure()) fs::remove_all(work_, ec);
  }
  ProgramRun quanttrading(std::vector<std::string> args, const std::vector<std::string>& env) {
    args.insert(args.begin(), binary_.string());
    return run_program(args, env, work_ / ("run-" + std::to_string(++runs_) + ".log"),
                       milliseconds(30'000));
  }

  const fs::path binary_ = QT_QUANTTRADING_BIN;
  const fs::path work_ = fs::temp_directory_path() / ("qt-operator-" + std::to_string(::getpid()));
  int runs_ = 0;
};

TEST_F(OperatorCommands, ResolveSettlesALiveOrderByHandOnlyWithTheEngineStopped) {
  const fs::path data = work_ / "data";
  JournalScript script;
  const OrderId doubtful_buy = script.receive(kEurUsd, Side::kBuy, OrderType::kMarket, 0, 1000);
  script.venue(doubtful_buy, VenueEventKind::kOutcomeUnknown);
  const OrderId doubtful_sell = script.receive(kGold, Side::kSell, OrderType::kLimit, 406'500, 100);
  script.venue(doubtful_sell, VenueEventKind::kOutcomeUnknown);
  ASSERT_NO_FATAL_FAILURE(script.write(data));
  const uint64_t written = journal_records(data);
  ASSERT_EQ(written, 6u);
  const std::vector<std::string> env = offline_environment({"SUDO_USER=alice"});
  const std::string dir = "--data-dir=" + data.string();

  {  // An engine holds the data directory: refused, nothing written.
    absl::StatusOr<persist::DataDirLock> lock = persist::DataDirLock::acquire(data);
    ASSERT_TRUE(lock.ok()) << lock.status();
    const ProgramRun held =
        quanttrading({"orders", "resolve", "1", "--filled", "1.1562", dir}, env);
    EXPECT_TRUE(held.exited_with(4)) << held.describe();
    EXPECT_NE(held.output.find("an engine is running on " + data.string() + " (pid " +
                               std::to_string(::getpid()) + "): stop it first"),
              std::string::npos)
        << held.output;
    EXPECT_EQ(journal_records(data), written);
  }

  // A price with more decimals than GOLD has is refused, not rounded.
  const ProgramRun rounded =
      quanttrading({"orders", "resolve", "2", "--filled", "4065.001", dir}, env);
  EXPECT_TRUE(rounded.exited_with(3)) << rounded.describe();
  EXPECT_NE(rounded.output.find("GOLD prices have 2 decimals"), std::string::npos)
      << rounded.output;
  EXPECT_EQ(journal_records(data), written);

  const ProgramRun filled = quanttrading(
      {"orders", "resolve", "1", "--filled", "1.1562", "--reason", "broker statement 42", dir},
      env);
  ASSERT_TRUE(filled.exited_with(0)) << filled.describe();
  EXPECT_NE(filled.output.find("order 1 EURUSD BUY 1000 market (filled 0) was Unknown"),
            std::string::npos)
      << filled.output;
  EXPECT_NE(filled.output.find("resolved by alice: filled 1000 at 1.1562 (reason: broker "
                               "statement 42)"),
            std::string::npos)
      << filled.output;
  EXPECT_NE(filled.output.find("note \"operator alice: filled\""), std::string::npos)
      << filled.output;
  EXPECT_NE(filled.output.find("is now Reconciled; position EURUSD net 1000 avg price 1.15620"),
            std::string::npos)
      << filled.output;
  EXPECT_EQ(journal_records(data), written + 1) << "exactly one record";

  const ProgramRun again = quanttrading({"orders", "resolve", "1", "--not-executed", dir}, env);
  EXPECT_TRUE(again.exited_with(1)) << again.describe();
  EXPECT_NE(again.output.find("is Reconciled, not live: nothing to resolve"), std::string::npos)
      << again.output;
  EXPECT_EQ(journal_records(data), written + 1);

  // What the next start-up rebuilds: the order Reconciled, the position moved by its fill.
  ProgramRun replay = quanttrading({"journal", "replay", dir}, env);
  ASSERT_TRUE(replay.exited_with(0)) << replay.describe();
  EXPECT_TRUE(std::regex_search(replay.output, std::regex(R"(\n  Reconciled +1\n)")))
      << replay.output;
  EXPECT_TRUE(std::regex_search(replay.output, std::regex(R"(\n  Unknown +1\n)"))) << replay.output;
  EXPECT_TRUE(
      std::regex_search(replay.output, std::regex(R"(\n  EURUSD +net 1000  avg price 1\.15620 )")))
      << replay.output;
  const ProgramRun dump =
      quanttrading({"journal", "dump", "--type", "venue_event", "--order-id", "1", dir}, env);
  EXPECT_TRUE(dump.exited_with(0)) << dump.describe();
  EXPECT_NE(dump.output.find("operator alice: filled"), std::string::npos) << dump.output;

  // Not executed: the order ends, the position stays where it was.
  const ProgramRun not_executed = quanttrading(
      {"orders", "resolve", "2", "--not-executed", "--reason", "not in the statement", dir}, env);
  ASSERT_TRUE(not_executed.exited_with(0)) << not_executed.describe();
  EXPECT_NE(not_executed.output.find("is now Reconciled; position GOLD net 0.00"),
            std::string::npos)
      << not_executed.output;
  replay = quanttrading({"journal", "replay", dir}, env);
  ASSERT_TRUE(replay.exited_with(0)) << replay.describe();
  EXPECT_TRUE(std::regex_search(replay.output, std::regex(R"(\n  Reconciled +2\n)")))
      << replay.output;
  EXPECT_TRUE(std::regex_search(replay.output, std::regex(R"(\n  GOLD +net 0\.00 )")))
      << replay.output;
  EXPECT_TRUE(std::regex_search(replay.output, std::regex(R"(\(0 live\))"))) << replay.output;
}

// A deal confirmed ACCEPTED at the simulator.
void expect_accepted(capital::CapitalRestClient& client, const capital::DealSendResult& sent) {
  ASSERT_TRUE(sent.accepted()) << sent.status;
  for (int attempt = 0; attempt < 100; ++attempt) {
    absl::StatusOr<capital::DealConfirmation> confirmation = client.confirm(sent.deal_reference);
    if (confirmation.ok()) {
      ASSERT_EQ(confirmation->deal_status, capital::DealStatus::kAccepted) << confirmation->reason;
      return;
    }
    std::this_thread::sleep_for(milliseconds(20));
  }
  FAIL() << "no confirm for " << sent.deal_reference;
}

TEST_F(OperatorCommands, ReconcileComparesTheJournalWithTheBrokerAndNamesEachDifference) {
  const fs::path ca_file = work_ / "ca.pem";
  ChildProgram broker({binary_.string(), "sim", "--port", "0", "--tls", "--write-ca",
                       ca_file.string(), "--always-open"},
                      offline_environment(), work_ / "sim.log");
  ASSERT_EQ(broker.spawn_error(), 0);
  static const std::regex listening(R"(capital simulator: REST (\S+)/api/v1  stream (\S+))");
  std::smatch urls;
  std::string sim_log;
  const auto sim_deadline = ProgramClock::now() + seconds(20);
  while (broker.poll() && ProgramClock::now() < sim_deadline) {
    sim_log = broker.log();
    if (std::regex_search(sim_log, urls, listening)) break;
    std::this_thread::sleep_for(milliseconds(50));
  }
  ASSERT_FALSE(urls.empty()) << "the simulator did not start:\n" << broker.log();
  const std::vector<std::string> env =
      simulator_environment(sim::SimCredentials{}, urls[1], urls[2], ca_file);

  // The operator's own REST session: trades the engine knows nothing of.
  absl::StatusOr<capital::CapitalClientConfig> config =
      capital::capital_config_from_env(env, false);
  ASSERT_TRUE(config.ok()) << config.status();
  absl::StatusOr<std::unique_ptr<capital::CapitalRestClient>> client =
      capital::CapitalRestClient::create(*config);
  ASSERT_TRUE(client.ok()) << client.status();
  LoginPacer pacer;
  pacer.wait_turn();
  ASSERT_TRUE((*client)->login().ok());
  capital::CreatePositionRequest eurusd;
  eurusd.epic = "EURUSD";
  eurusd.direction = Side::kBuy;
  eurusd.size = capital::Decimal(1000, 0);
  ASSERT_NO_FATAL_FAILURE(expect_accepted(**client, (*client)->open_position(eurusd)));

  // The engine's journal: the same 1000 EURUSD bought and filled.
  const fs::path data = work_ / "data";
  JournalScript script;
  const OrderId bought = script.receive(kEurUsd, Side::kBuy, OrderType::kMarket, 0, 1000);
  script.venue(bought, VenueEventKind::kAccepted);
  script.venue(bought, VenueEventKind::kFill, 1000, 115'620);
  ASSERT_NO_FATAL_FAILURE(script.write(data));
  const std::string dir = "--data-dir=" + data.string();

  pacer.wait_turn();
  const ProgramRun equal = quanttrading({"reconcile", dir}, env);
  EXPECT_TRUE(equal.exited_with(0)) << equal.describe();
  EXPECT_NE(equal.output.find("\nEURUSD engine 1000 broker 1000 equal\n"), std::string::npos)
      << equal.output;
  EXPECT_NE(equal.output.find("\nGOLD engine 0.00 broker 0.00 equal\n"), std::string::npos)
      << equal.output;
  EXPECT_NE(equal.output.find("verdict: books equal"), std::string::npos) << equal.output;
  EXPECT_NE(equal.output.find("run this again"), std::string::npos) << equal.output;
  EXPECT_NE(equal.output.find("0 reconciled, 0 position_adjusted"), std::string::npos)
      << equal.output;

  // By hand at the broker: a GOLD position and a EURUSD working order far from the market.
  capital::CreatePositionRequest gold;
  gold.epic = "GOLD";
  gold.direction = Side::kBuy;
  gold.size = capital::Decimal(1, 0);
  ASSERT_NO_FATAL_FAILURE(expect_accepted(**client, (*client)->open_position(gold)));
  capital::CreateWorkingOrderRequest working;
  working.epic = "EURUSD";
  working.direction = Side::kBuy;
  working.size = capital::Decimal(100, 0);
  working.level = capital::Decimal(5, 1);
  ASSERT_NO_FATAL_FAILURE(expect_accepted(**client, (*client)->create_working_order(working)));

  pacer.wait_turn();
  const ProgramRun differs = quanttrading({"reconcile", dir}, env);
  EXPECT_TRUE(differs.exited_with(1)) << differs.describe();
  EXPECT_NE(differs.output.find("\nGOLD engine 0.00 broker 1.00 DIFFERS by 1.00"),
            std::string::npos)
      << differs.output;
  EXPECT_NE(differs.output.find("\nEURUSD engine 1000 broker 1000 equal\n"), std::string::npos)
      << differs.output;
  EXPECT_TRUE(std::regex_search(
      differs.output, std::regex(R"(working at the broker: \S+ BUY 100 at 0\.5: ORPHAN)")))
      << differs.output;
  EXPECT_NE(differs.output.find("verdict: DIFFERENCE: GOLD position differs by 1.00; EURUSD "
                                "orphan working order"),
            std::string::npos)
      << differs.output;

  // An order in doubt in the journal is a difference of its own, named.
  const fs::path doubtful = work_ / "doubtful";
  JournalScript unknown;
  const OrderId sent = unknown.receive(kEurUsd, Side::kBuy, OrderType::kMarket, 0, 1000);
  unknown.venue(sent, VenueEventKind::kOutcomeUnknown);
  ASSERT_NO_FATAL_FAILURE(unknown.write(doubtful));
  pacer.wait_turn();
  const ProgramRun in_doubt = quanttrading({"reconcile", "--data-dir", doubtful.string()}, env);
  EXPECT_TRUE(in_doubt.exited_with(1)) << in_doubt.describe();
  EXPECT_NE(in_doubt.output.find("engine order 1 EURUSD BUY 1000 market (filled 0) UNKNOWN"),
            std::string::npos)
      << in_doubt.output;
  EXPECT_NE(in_doubt.output.find("EURUSD order 1 Unknown"), std::string::npos) << in_doubt.output;

  // No credentials: no broker to ask — said so, with its own exit code.
  const ProgramRun no_broker = quanttrading({"reconcile", dir}, offline_environment());
  EXPECT_TRUE(no_broker.exited_with(5)) << no_broker.describe();
  EXPECT_NE(no_broker.output.find("no Capital.com credentials"), std::string::npos)
      << no_broker.output;

  // A broker that does not answer: exit 4.
  std::vector<std::string> closed = env;
  for (std::string& entry : closed) {
    if (entry.rfind("CAPITAL_DEMO_URL=", 0) == 0) entry = "CAPITAL_DEMO_URL=https://127.0.0.1:9";
  }
  closed.push_back("MAX_RETRIES=0");
  closed.push_back("API_TIMEOUT=2");
  const ProgramRun unreachable = quanttrading({"reconcile", dir}, closed);
  EXPECT_TRUE(unreachable.exited_with(4)) << unreachable.describe();
  EXPECT_NE(unreachable.output.find("cannot read the broker's books"), std::string::npos)
      << unreachable.output;

  broker.stop(SIGTERM, seconds(10));
}

}  // namespace
}  // namespace qt::test
