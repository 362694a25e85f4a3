// The REST client against the Capital.com simulator (sim/capital_simulator.hpp) over verified
// TLS: the same path production takes, with the simulator's broker rules, its own rate-limit
// enforcement and its fault injection.
#include <gtest/gtest.h>

#include <cmath>
#include <thread>

#include "gateway/capital/rest_client.hpp"
#include "sim/capital_simulator.hpp"

namespace qt::capital {
namespace {

using namespace decimal_literals;

using std::chrono::milliseconds;

sim::SimOptions sim_options() {
  sim::SimOptions options = sim::SimOptions::embedded();
  options.quotes_per_second = 20;
  return options;
}

CapitalClientConfig config_for(const sim::CapitalSimulator& simulator) {
  const sim::SimCredentials credentials;
  CapitalClientConfig config;
  config.demo_url = simulator.rest_url();
  config.ca_pem = simulator.certificate_pem();
  config.api_key = Secret(credentials.api_key);
  config.identifier = Secret(credentials.identifier);
  config.password = Secret(credentials.password);
  config.api_timeout = milliseconds(2000);
  config.connection_pool_size = 4;
  config.retry_base_delay = milliseconds(20);
  config.retry_max_delay = milliseconds(100);
  config.rate_limits.max_wait = milliseconds(5000);
  return config;
}

std::unique_ptr<CapitalRestClient> make_client(const CapitalClientConfig& config) {
  absl::StatusOr<std::unique_ptr<CapitalRestClient>> client = CapitalRestClient::create(config);
  EXPECT_TRUE(client.ok()) << client.status();
  return client.ok() ? *std::move(client) : nullptr;
}

CreatePositionRequest market_order(const std::string& epic, Side side, Decimal size) {
  CreatePositionRequest request;
  request.epic = epic;
  request.direction = side;
  request.size = size;
  return request;
}

// GET /confirms until the broker has recorded the reference.
absl::StatusOr<DealConfirmation> await_confirm(CapitalRestClient& client,
                                               const std::string& reference) {
  absl::StatusOr<DealConfirmation> confirmation = absl::NotFoundError("not yet");
  for (int i = 0; i < 40 && absl::IsNotFound(confirmation.status()); ++i) {
    confirmation = client.confirm(reference);
    if (absl::IsNotFound(confirmation.status())) std::this_thread::sleep_for(milliseconds(25));
  }
  return confirmation;
}

TEST(CapitalClientOnSimulator, LogsInReadsAccountsAndBuildsInstrumentSpecs) {
  sim::CapitalSimulator simulator(sim_options());
  simulator.start();
  auto client = make_client(config_for(simulator));
  ASSERT_NE(client, nullptr);
  absl::StatusOr<SessionCreateResponse> session = client->login();
  ASSERT_TRUE(session.ok()) << session.status();
  EXPECT_FALSE(session->current_account_id.empty());

  absl::StatusOr<AccountsResponse> accounts = client->accounts();
  ASSERT_TRUE(accounts.ok()) << accounts.status();
  ASSERT_FALSE(accounts->accounts.empty());

  absl::StatusOr<InstrumentSpec> gold = client->instrument_spec("GOLD", 0);
  ASSERT_TRUE(gold.ok()) << gold.status();
  EXPECT_EQ(gold->name(), "GOLD");
  EXPECT_EQ(gold->price_decimals, 2);
  EXPECT_GT(gold->min_size, 0);

  absl::StatusOr<MarketSearchResponse> search = client->search_markets("Gold");
  ASSERT_TRUE(search.ok()) << search.status();
  EXPECT_FALSE(search->markets.empty());

  PriceHistoryQuery query;
  query.epic = "GOLD";
  query.resolution = "MINUTE";
  query.max = 5;
  absl::StatusOr<PriceHistory> history = client->price_history(query);
  ASSERT_TRUE(history.ok()) << history.status();

  EXPECT_TRUE(client->ping().ok());
  EXPECT_EQ(client->market_details("NO_SUCH_EPIC").status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(client->logout().ok());
  EXPECT_EQ(simulator.stats().logins, 1);
}

TEST(CapitalClientOnSimulator, EncryptedPasswordLogin) {
  sim::CapitalSimulator simulator(sim_options());
  simulator.start();
  CapitalClientConfig config = config_for(simulator);
  config.encrypted_password = true;
  auto client = make_client(config);
  ASSERT_NE(client, nullptr);
  absl::StatusOr<SessionCreateResponse> session = client->login();
  ASSERT_TRUE(session.ok()) << session.status();
  EXPECT_EQ(simulator.stats().requests("GET /api/v1/session/encryptionKey"), 1);
}

TEST(CapitalClientOnSimulator, WrongPasswordIsRefusedWithTheBrokersCode) {
  sim::CapitalSimulator simulator(sim_options());
  simulator.start();
  CapitalClientConfig config = config_for(simulator);
  config.password = Secret("not-the-password");
  auto client = make_client(config);
  ASSERT_NE(client, nullptr);
  absl::StatusOr<SessionCreateResponse> session = client->login();
  ASSERT_FALSE(session.ok());
  EXPECT_EQ(capital_error_code(session.status()), "error.invalid.details");
  EXPECT_EQ(session.status().message().find("not-the-password"), std::string::npos);
}

TEST(CapitalClientOnSimulator, MarketOrderConfirmPositionAndClose) {
  sim::CapitalSimulator simulator(sim_options());
  simulator.start();
  auto client = make_client(config_for(simulator));
  ASSERT_NE(client, nullptr);

  const DealSendResult opened = client->open_position(market_order("GOLD", Side::kBuy, 1_dec));
  ASSERT_TRUE(opened.accepted()) << opened.status;
  absl::StatusOr<DealConfirmation> confirmation = await_confirm(*client, opened.deal_reference);
  ASSERT_TRUE(confirmation.ok()) << confirmation.status();
  EXPECT_EQ(confirmation->deal_status, DealStatus::kAccepted);
  ASSERT_FALSE(confirmation->affected_deals.empty());
  const std::string position_id = confirmation->affected_deals[0].deal_id;

  absl::StatusOr<PositionsResponse> positions = client->positions();
  ASSERT_TRUE(positions.ok()) << positions.status();
  ASSERT_EQ(positions->positions.size(), 1u);
  EXPECT_EQ(positions->positions[0].position.deal_id, position_id);
  EXPECT_EQ(positions->positions[0].market.epic, "GOLD");
  EXPECT_TRUE(client->position(position_id).ok());

  const DealSendResult closed = client->close_position(position_id);
  ASSERT_TRUE(closed.accepted()) << closed.status;
  EXPECT_TRUE(await_confirm(*client, closed.deal_reference).ok());
  EXPECT_TRUE(simulator.positions().empty());
}

TEST(CapitalClientOnSimulator, WorkingOrderCreateAmendListDelete) {
  sim::CapitalSimulator simulator(sim_options());
  simulator.start();
  auto client = make_client(config_for(simulator));
  ASSERT_NE(client, nullptr);
  const auto quote = simulator.quote("GOLD");
  ASSERT_TRUE(quote.has_value());

  CreateWorkingOrderRequest order;
  order.epic = "GOLD";
  order.direction = Side::kBuy;
  const auto below_market = static_cast<int64_t>(std::floor(quote->first * 0.9));  // rests
  order.size = 1_dec;
  order.level = Decimal(below_market, 0);
  order.type = WorkingOrderType::kLimit;
  const DealSendResult created = client->create_working_order(order);
  ASSERT_TRUE(created.accepted()) << created.status;
  absl::StatusOr<DealConfirmation> confirmation = await_confirm(*client, created.deal_reference);
  ASSERT_TRUE(confirmation.ok()) << confirmation.status();

  absl::StatusOr<WorkingOrdersResponse> listed = client->working_orders();
  ASSERT_TRUE(listed.ok()) << listed.status();
  ASSERT_EQ(listed->working_orders.size(), 1u);
  const std::string order_id = listed->working_orders[0].working_order_data.deal_id;

  AmendWorkingOrderRequest amend;
  amend.level = Decimal(below_market - 1, 0);
  EXPECT_TRUE(client->amend_working_order(order_id, amend).accepted());
  EXPECT_TRUE(client->delete_working_order(order_id).accepted());
  EXPECT_TRUE(simulator.working_orders().empty());
}

TEST(CapitalClientOnSimulator, ExpiredSessionsAreRenewedWithoutLosingRequests) {
  sim::CapitalSimulator simulator(sim_options());
  simulator.start();
  auto client = make_client(config_for(simulator));
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(client->login().ok());
  simulator.expire_sessions();
  std::atomic<int> ok{0};
  std::vector<std::thread> workers;
  for (int i = 0; i < 4; ++i) {
    workers.emplace_back([&] {
      if (client->positions().ok()) ++ok;
    });
  }
  for (std::thread& t : workers) t.join();
  EXPECT_EQ(ok.load(), 4);
  EXPECT_EQ(simulator.stats().logins, 2) << "one re-login shared by the four refused requests";
  const DealSendResult after = client->open_position(market_order("GOLD", Side::kSell, 1_dec));
  EXPECT_TRUE(after.accepted()) << after.status;
}

TEST(CapitalClientOnSimulator, BurstsStayWithinTheBrokersLimits) {
  sim::CapitalSimulator simulator(sim_options());  // enforces 10/s, 1 order per 100 ms, ...
  simulator.start();
  CapitalClientConfig config = config_for(simulator);
  // Production keeps 20 ms between windows; a loaded test machine (sanitizers, parallel ctest)
  // can stall a thread longer than that between taking its slot and writing.
  config.rate_limits.safety_margin = milliseconds(50);
  auto client = make_client(config);
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(client->login().ok());
  std::atomic<int> failures{0};
  std::vector<std::thread> workers;
  for (int w = 0; w < 4; ++w) {
    workers.emplace_back([&, w] {
      for (int i = 0; i < 6; ++i) {
        if (i % 3 == 0) {
          if (!client->open_position(market_order("GOLD", w % 2 ? Side::kBuy : Side::kSell, 1_dec))
                   .accepted()) {
            ++failures;
          }
        } else if (!client->positions().ok()) {
          ++failures;
        }
      }
    });
  }
  for (std::thread& t : workers) t.join();
  EXPECT_EQ(failures.load(), 0);
  const sim::SimStats stats = simulator.stats();
  EXPECT_EQ(stats.rate_limited, 0) << "the client's own limits must keep it under the broker's";
  EXPECT_EQ(stats.orders("GOLD"), 8);
}

TEST(CapitalClientOnSimulator, LostOrderAnswersAreOutcomeUnknownAndNeverDuplicated) {
  sim::SimOptions options = sim_options();
  options.faults.drop_order_response_rate = 1.0;  // every executed order loses its answer
  sim::CapitalSimulator simulator(options);
  simulator.start();
  auto client = make_client(config_for(simulator));
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(client->login().ok());

  const DealSendResult result = client->open_position(market_order("GOLD", Side::kBuy, 1_dec));
  EXPECT_EQ(result.outcome, RequestOutcome::kOutcomeUnknown) << result.status;
  EXPECT_EQ(result.attempts, 1);

  // Reconciliation sees exactly one position: the order was executed once.
  absl::StatusOr<PositionsResponse> positions = client->positions();
  ASSERT_TRUE(positions.ok()) << positions.status();
  EXPECT_EQ(positions->positions.size(), 1u);
  const sim::SimStats stats = simulator.stats();
  EXPECT_EQ(stats.requests("POST /api/v1/positions"), 1);
  EXPECT_EQ(stats.orders("GOLD"), 1);
}

TEST(CapitalClientOnSimulator, UnderRandomFaultsEveryOrderReachesTheBrokerAtMostOnce) {
  sim::SimOptions options = sim_options();
  options.faults.error_rate = 0.15;
  options.faults.rate_429 = 0.05;
  options.faults.drop_order_response_rate = 0.2;
  options.seed = 7;
  sim::CapitalSimulator simulator(options);
  simulator.start();
  CapitalClientConfig config = config_for(simulator);
  config.max_retries = 5;
  auto client = make_client(config);
  ASSERT_NE(client, nullptr);
  absl::Status login = absl::UnknownError("not tried");
  for (int i = 0; i < 10 && !login.ok(); ++i) login = client->login().status();
  ASSERT_TRUE(login.ok()) << login;

  constexpr int kOrders = 20;
  int accepted = 0;
  int unknown = 0;
  int refused = 0;
  int sent = 0;
  for (int i = 0; i < kOrders; ++i) {
    const DealSendResult r =
        client->open_position(market_order("GOLD", i % 2 ? Side::kBuy : Side::kSell, 1_dec));
    sent += r.attempts;
    if (r.accepted()) {
      ++accepted;
    } else if (r.outcome == RequestOutcome::kOutcomeUnknown) {
      ++unknown;
    } else {
      ++refused;
    }
  }
  const sim::SimStats stats = simulator.stats();
  EXPECT_EQ(accepted + unknown + refused, kOrders);
  EXPECT_EQ(stats.requests("POST /api/v1/positions"), sent);
  EXPECT_LE(sent, kOrders) << "an order request is never sent twice";
  // What the broker executed is what was accepted plus some of the unknown, never more.
  EXPECT_GE(stats.orders("GOLD"), accepted);
  EXPECT_LE(stats.orders("GOLD"), accepted + unknown);
  EXPECT_GT(unknown, 0) << "the faults did happen (seeded)";
}

TEST(CapitalClientOnSimulator, A429StormIsRiddenOutWithBackoffAndNoOrderIsSentTwice) {
  sim::SimOptions options = sim_options();
  options.faults.rate_429 = 0.5;  // half of every request is refused with 429, seeded
  options.seed = 11;
  sim::CapitalSimulator simulator(options);
  simulator.start();
  CapitalClientConfig config = config_for(simulator);
  config.max_retries = 6;
  // Test-scale backoff (production: 1 s doubling to 30 s) so the storm is ridden out quickly.
  config.rate_limits.backoff_after_429 = milliseconds(20);
  config.rate_limits.max_backoff_after_429 = milliseconds(200);
  auto client = make_client(config);
  ASSERT_NE(client, nullptr);
  absl::Status login = absl::UnknownError("not tried");
  for (int i = 0; i < 10 && !login.ok(); ++i) login = client->login().status();
  ASSERT_TRUE(login.ok()) << login;

  // Reads: retried after backing off, so nearly all get through; what does not is a clear
  // "too many requests" error, never anything else.
  constexpr int kReads = 20;
  int reads_ok = 0;
  for (int i = 0; i < kReads; ++i) {
    absl::StatusOr<PositionsResponse> positions = client->positions();
    if (positions.ok()) {
      ++reads_ok;
    } else {
      EXPECT_TRUE(absl::IsResourceExhausted(positions.status())) << positions.status();
    }
  }
  EXPECT_GE(reads_ok, kReads / 2);
  const sim::SimStats during = simulator.stats();
  EXPECT_LE(during.requests("GET /api/v1/positions"), kReads * (config.max_retries + 1));

  // Orders: a 429 is the broker's refusal, reported as such and never sent again; while the
  // client backs off it may refuse an order itself rather than earn another 429.
  constexpr int kOrders = 10;
  int accepted = 0;
  int refused_429 = 0;
  int order_requests = 0;
  for (int i = 0; i < kOrders; ++i) {
    const DealSendResult r =
        client->open_position(market_order("GOLD", i % 2 ? Side::kBuy : Side::kSell, 1_dec));
    order_requests += r.attempts;
    if (r.accepted()) {
      ++accepted;
    } else {
      EXPECT_NE(r.outcome, RequestOutcome::kOutcomeUnknown) << r.status;
      EXPECT_LE(r.attempts, 1);
      EXPECT_TRUE(absl::IsResourceExhausted(r.status)) << r.status;
      ++refused_429;
    }
  }
  const sim::SimStats stats = simulator.stats();
  EXPECT_EQ(accepted + refused_429, kOrders);
  EXPECT_GT(refused_429, 0) << "the storm did hit the orders (seeded)";
  EXPECT_EQ(stats.requests("POST /api/v1/positions"), order_requests);
  EXPECT_LE(order_requests, kOrders) << "an order refused with 429 is not sent again";
  EXPECT_EQ(stats.orders("GOLD"), accepted);
  EXPECT_GT(stats.injected_429, 0);
  EXPECT_EQ(stats.rate_limited, 0) << "the client's own limits kept it under the broker's";
}

TEST(CapitalClientOnSimulator, ActivityHistoryListsTheDealsOfAnEpic) {
  sim::CapitalSimulator simulator(sim_options());
  simulator.start();
  auto client = make_client(config_for(simulator));
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(client->login().ok());
  ASSERT_TRUE(client->open_position(market_order("GOLD", Side::kBuy, 1_dec)).accepted());
  absl::StatusOr<ActivityHistoryResponse> gold = client->activity_history(600, "GOLD");
  ASSERT_TRUE(gold.ok()) << gold.status();
  ASSERT_EQ(gold->activities.size(), 1u);
  const Activity& a = gold->activities[0];
  EXPECT_EQ(a.epic, "GOLD");
  EXPECT_EQ(a.source, "USER");
  EXPECT_EQ(a.type, "POSITION");
  ASSERT_TRUE(a.details.has_value());
  EXPECT_EQ(a.details->direction, Side::kBuy);
  EXPECT_EQ(a.details->size, 1_dec);
  absl::StatusOr<ActivityHistoryResponse> silver = client->activity_history(600, "SILVER");
  ASSERT_TRUE(silver.ok()) << silver.status();
  EXPECT_TRUE(silver->activities.empty());
}

}  // namespace
}  // namespace qt::capital
