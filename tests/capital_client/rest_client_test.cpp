// CapitalRestClient against the scripted broker (fake_broker.hpp) over verified HTTPS: the
// session (login, encrypted password, token echo, single-flight re-login on 401), the typed
// calls, order outcomes, keep-alive, and secrets that never reach logs or errors.
#include "gateway/capital/rest_client.hpp"

#include <gtest/gtest.h>

#include <thread>

#include "tests/capital_client/fake_broker.hpp"
#include "tests/capital_client/log_capture.hpp"

namespace qt::capital {
namespace {

using namespace decimal_literals;

using std::chrono::milliseconds;
using testing::FakeBroker;
using testing::kTestApiKey;
using testing::kTestIdentifier;
using testing::kTestPassword;
using testing::LogCapture;
using testing::ServerReply;

CapitalClientConfig config_for(const FakeBroker& broker) {
  CapitalClientConfig config;
  config.demo_url = broker.url();
  config.ca_file = broker.pki().ca_file;
  config.api_key = Secret(kTestApiKey);
  config.identifier = Secret(kTestIdentifier);
  config.password = Secret(kTestPassword);
  config.api_timeout = milliseconds(2000);
  config.connection_pool_size = 4;
  config.retry_base_delay = milliseconds(10);
  config.retry_max_delay = milliseconds(50);
  config.rate_limits.requests_per_second = 100;
  config.rate_limits.login_spacing = milliseconds(200);
  return config;
}

std::unique_ptr<CapitalRestClient> make_client(const CapitalClientConfig& config) {
  absl::StatusOr<std::unique_ptr<CapitalRestClient>> client = CapitalRestClient::create(config);
  EXPECT_TRUE(client.ok()) << client.status();
  return client.ok() ? *std::move(client) : nullptr;
}

CreatePositionRequest buy_gold(Decimal size = 1_dec) {
  CreatePositionRequest request;
  request.epic = "GOLD";
  request.direction = Side::kBuy;
  request.size = size;
  return request;
}

// Every way a secret could be written: the values themselves and the session tokens.
void expect_no_secrets(const std::string& text, const FakeBroker& broker) {
  EXPECT_EQ(text.find(kTestApiKey), std::string::npos) << text;
  EXPECT_EQ(text.find(kTestPassword), std::string::npos) << text;
  EXPECT_EQ(text.find(kTestIdentifier), std::string::npos) << text;
  EXPECT_EQ(text.find("cst-token-"), std::string::npos) << text;
  EXPECT_EQ(text.find("xst-token-"), std::string::npos) << text;
  (void)broker;
}

TEST(CapitalRestClient, LoginSendsTheApiKeyAndCredentialsAndKeepsTheTokens) {
  FakeBroker broker;
  auto client = make_client(config_for(broker));
  ASSERT_NE(client, nullptr);
  absl::StatusOr<SessionCreateResponse> session = client->login();
  ASSERT_TRUE(session.ok()) << session.status();
  EXPECT_EQ(session->current_account_id, "ACC-12345");
  EXPECT_TRUE(client->logged_in());

  absl::StatusOr<AccountsResponse> accounts = client->accounts();
  ASSERT_TRUE(accounts.ok()) << accounts.status();
  ASSERT_EQ(accounts->accounts.size(), 1u);
  EXPECT_EQ(accounts->accounts[0].balance.available, 10000);

  const auto requests = broker.server().requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].target, "/api/v1/session");
  EXPECT_EQ(requests[0].header("x-cap-api-key"), kTestApiKey);
  EXPECT_EQ(requests[1].header("cst"), "cst-token-1");
  EXPECT_EQ(requests[1].header("x-security-token"), "xst-token-1");
}

TEST(CapitalRestClient, TheFirstCallLogsInByItself) {
  FakeBroker broker;
  auto client = make_client(config_for(broker));
  ASSERT_NE(client, nullptr);
  EXPECT_TRUE(client->ping().ok());
  EXPECT_EQ(broker.logins(), 1);
  EXPECT_EQ(broker.count("GET /api/v1/ping"), 1);
}

TEST(CapitalRestClient, EchoedTokensReplaceTheStoredOnes) {
  FakeBroker broker;
  auto client = make_client(config_for(broker));
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(client->login().ok());
  broker.rotate_cst_on_next_answer();
  ASSERT_TRUE(client->ping().ok());
  ASSERT_TRUE(client->ping().ok()) << "the second ping must carry the rotated CST";
  EXPECT_EQ(broker.server().requests().back().header("cst"), broker.current_cst());
  EXPECT_EQ(broker.logins(), 1);
}

TEST(CapitalRestClient, EncryptedPasswordLoginUsesTheBrokersRsaKey) {
  FakeBroker broker;
  CapitalClientConfig config = config_for(broker);
  config.encrypted_password = true;
  auto client = make_client(config);
  ASSERT_NE(client, nullptr);
  absl::StatusOr<SessionCreateResponse> session = client->login();
  ASSERT_TRUE(session.ok()) << session.status();
  EXPECT_EQ(broker.count("GET /api/v1/session/encryptionKey"), 1);
  const auto requests = broker.server().requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_NE(requests[1].body.find("\"encryptedPassword\":true"), std::string::npos);
  EXPECT_EQ(requests[1].body.find(kTestPassword), std::string::npos)
      << "the password must not travel in clear text";
}

TEST(CapitalRestClient, AnExpiredSessionLogsInOnceAndReplaysTheRequest) {
  FakeBroker broker;
  auto client = make_client(config_for(broker));
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(client->login().ok());
  broker.expire_session();
  absl::StatusOr<PositionsResponse> positions = client->positions();
  ASSERT_TRUE(positions.ok()) << positions.status();
  EXPECT_EQ(broker.logins(), 2);
  EXPECT_EQ(broker.count("GET /api/v1/positions"), 2);  // 401, then the replay
}

TEST(CapitalRestClient, ConcurrentUnauthorizedRequestsShareOneLogin) {
  FakeBroker broker;
  auto client = make_client(config_for(broker));
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(client->login().ok());
  broker.expire_session();
  // All four requests leave with the dead tokens before anyone logs in again.
  ServerReply slow_refusal;
  slow_refusal.status = 401;
  slow_refusal.body = R"({"errorCode":"error.invalid.session.token"})";
  slow_refusal.delay = milliseconds(300);
  broker.inject("GET /api/v1/positions", slow_refusal, 4);

  std::atomic<int> succeeded{0};
  std::vector<std::thread> workers;
  for (int i = 0; i < 4; ++i) {
    workers.emplace_back([&] {
      if (client->positions().ok()) ++succeeded;
    });
  }
  for (std::thread& t : workers) t.join();
  EXPECT_EQ(succeeded.load(), 4);
  EXPECT_EQ(broker.logins(), 2) << "one login at start, exactly one re-login for four 401s";
  EXPECT_EQ(broker.count("GET /api/v1/positions"), 8);
}

TEST(CapitalRestClient, AnOrderRefusedWith401IsSentAgainAfterTheLogin) {
  FakeBroker broker;
  auto client = make_client(config_for(broker));
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(client->login().ok());
  broker.expire_session();
  const DealSendResult result = client->open_position(buy_gold());
  EXPECT_TRUE(result.accepted()) << result.status;
  EXPECT_EQ(result.deal_reference, "o_1");  // the refused attempt created no deal
  EXPECT_EQ(broker.count("POST /api/v1/positions"), 2);
  EXPECT_EQ(broker.logins(), 2);
}

TEST(CapitalRestClient, ASecond401IsReturnedAsIs) {
  FakeBroker broker;
  auto client = make_client(config_for(broker));
  ASSERT_NE(client, nullptr);
  ServerReply refusal;
  refusal.status = 401;
  refusal.body = R"({"errorCode":"error.invalid.session.token"})";
  broker.inject("GET /api/v1/accounts", refusal, 5);
  absl::StatusOr<AccountsResponse> accounts = client->accounts();
  ASSERT_FALSE(accounts.ok());
  EXPECT_EQ(accounts.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(capital_error_code(accounts.status()), "error.invalid.session.token");
  EXPECT_EQ(broker.count("GET /api/v1/accounts"), 2);
  EXPECT_EQ(broker.logins(), 2);
}

TEST(CapitalRestClient, WrongCredentialsFailWithoutSecretsAndStopAutomaticLogins) {
  FakeBroker broker;
  CapitalClientConfig config = config_for(broker);
  const std::string wrong_password = "wrong-Pa55w0rd-xyz";
  config.password = Secret(wrong_password);
  LogCapture log;
  auto client = make_client(config);
  ASSERT_NE(client, nullptr);

  absl::StatusOr<SessionCreateResponse> session = client->login();
  ASSERT_FALSE(session.ok());
  EXPECT_EQ(session.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(capital_error_code(session.status()), "error.invalid.details");
  const std::string message(session.status().message());
  EXPECT_EQ(message.find(wrong_password), std::string::npos) << message;
  EXPECT_EQ(message.find(kTestApiKey), std::string::npos) << message;
  EXPECT_EQ(message.find(kTestIdentifier), std::string::npos) << message;

  absl::StatusOr<AccountsResponse> accounts = client->accounts();
  ASSERT_FALSE(accounts.ok());
  EXPECT_NE(accounts.status().message().find("automatic login suspended"), std::string::npos)
      << accounts.status();
  EXPECT_EQ(broker.login_attempts(), 1) << "a refused password is not tried again by itself";
  EXPECT_EQ(broker.count("GET /api/v1/accounts"), 0);

  EXPECT_FALSE(client->login().ok());  // an explicit login does try again
  EXPECT_EQ(broker.login_attempts(), 2);
  EXPECT_EQ(log.text().find(wrong_password), std::string::npos) << log.text();
  expect_no_secrets(log.text(), broker);
}

TEST(CapitalRestClient, SecretsNeverReachTheLogsEvenAtTraceLevel) {
  FakeBroker broker;
  LogCapture log;  // captures every level, trace included
  {
    auto client = make_client(config_for(broker));
    ASSERT_NE(client, nullptr);
    ASSERT_TRUE(client->login().ok());
    broker.expire_session();
    ASSERT_TRUE(client->positions().ok());  // 401, re-login, replay
    ServerReply timeout;
    timeout.delay = milliseconds(2500);
    broker.inject("POST /api/v1/positions", timeout);
    EXPECT_EQ(client->open_position(buy_gold()).outcome, RequestOutcome::kOutcomeUnknown);
    EXPECT_FALSE(client->market_details("NOPE").ok());
    EXPECT_TRUE(client->logout().ok());
  }
  EXPECT_NE(log.text().find("logged in"), std::string::npos) << "the capture works";
  expect_no_secrets(log.text(), broker);
}

TEST(CapitalRestClient, MissingCredentialsAreAClearError) {
  FakeBroker broker;
  CapitalClientConfig config = config_for(broker);
  config.password = Secret();
  auto client = make_client(config);
  ASSERT_NE(client, nullptr);
  absl::StatusOr<SessionCreateResponse> session = client->login();
  ASSERT_FALSE(session.ok());
  EXPECT_EQ(session.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(session.status().message().find("CAPITAL_PASSWORD"), std::string::npos);
  EXPECT_EQ(broker.login_attempts(), 0);
}

TEST(CapitalRestClient, ATimedOutOrderIsOutcomeUnknownAndNotSentAgain) {
  FakeBroker broker;
  CapitalClientConfig config = config_for(broker);
  config.api_timeout = milliseconds(300);
  auto client = make_client(config);
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(client->login().ok());
  ServerReply slow;
  slow.body = R"({"dealReference":"o_late"})";
  slow.delay = milliseconds(1000);
  broker.inject("POST /api/v1/workingorders", slow);
  CreateWorkingOrderRequest order;
  order.epic = "GOLD";
  order.direction = Side::kSell;
  order.size = 2_dec;
  order.level = 2400_dec;
  order.type = WorkingOrderType::kLimit;
  LogCapture log;
  const DealSendResult result = client->create_working_order(order);
  EXPECT_EQ(result.outcome, RequestOutcome::kOutcomeUnknown);
  EXPECT_EQ(result.status.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(result.attempts, 1);
  EXPECT_NE(log.text().find("OUTCOME UNKNOWN"), std::string::npos) << log.text();
  std::this_thread::sleep_for(milliseconds(200));
  EXPECT_EQ(broker.count("POST /api/v1/workingorders"), 1);
}

TEST(CapitalRestClient, A200WithoutADealReferenceIsOutcomeUnknown) {
  FakeBroker broker;
  auto client = make_client(config_for(broker));
  ASSERT_NE(client, nullptr);
  ServerReply odd;
  odd.body = "{}";
  broker.inject("POST /api/v1/positions", odd);
  const DealSendResult result = client->open_position(buy_gold());
  EXPECT_EQ(result.outcome, RequestOutcome::kOutcomeUnknown);
  EXPECT_FALSE(result.status.ok());
  EXPECT_EQ(broker.count("POST /api/v1/positions"), 1);
}

TEST(CapitalRestClient, ABrokerRefusalCarriesItsErrorCode) {
  FakeBroker broker;
  auto client = make_client(config_for(broker));
  ASSERT_NE(client, nullptr);
  ServerReply refusal;
  refusal.status = 400;
  refusal.body = R"({"errorCode":"error.invalid.stoploss.minvalue: 17.146"})";
  broker.inject("POST /api/v1/positions", refusal);
  const DealSendResult result = client->open_position(buy_gold());
  EXPECT_EQ(result.outcome, RequestOutcome::kAnswered);
  EXPECT_EQ(result.status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(capital_error_code(result.status), "error.invalid.stoploss.minvalue");
  EXPECT_FALSE(result.accepted());
}

TEST(CapitalRestClient, OrdersConfirmsAndWorkingOrders) {
  FakeBroker broker;
  auto client = make_client(config_for(broker));
  ASSERT_NE(client, nullptr);
  const DealSendResult opened = client->open_position(buy_gold(0.5_dec));
  ASSERT_TRUE(opened.accepted()) << opened.status;
  absl::StatusOr<DealConfirmation> confirmation = client->confirm(opened.deal_reference);
  ASSERT_TRUE(confirmation.ok()) << confirmation.status();
  EXPECT_EQ(confirmation->deal_status, DealStatus::kAccepted);
  ASSERT_EQ(confirmation->affected_deals.size(), 1u);
  EXPECT_EQ(confirmation->affected_deals[0].deal_id, "006011e7-0001-54c4-0000-000080560046");

  const auto requests = broker.server().requests();
  EXPECT_NE(requests.back().target.find("/api/v1/confirms/o_1"), std::string::npos);
  EXPECT_EQ(broker.server().requests()[1].body, R"({"epic":"GOLD","direction":"BUY","size":0.5})");

  EXPECT_TRUE(client->close_position("006011e7-0001-54c4-0000-000080560046").accepted());
  EXPECT_EQ(broker.count("DELETE /api/v1/positions/006011e7-0001-54c4-0000-000080560046"), 1);
  EXPECT_TRUE(client->delete_working_order("WO-1").accepted());
  AmendWorkingOrderRequest amend;
  amend.level = 2350_dec;
  EXPECT_TRUE(client->amend_working_order("WO-1", amend).accepted());
  EXPECT_TRUE(client->working_orders().ok());
  EXPECT_TRUE(client->positions().ok());
}

TEST(CapitalRestClient, MarketsPricesAndInstrumentSpecs) {
  FakeBroker broker;
  auto client = make_client(config_for(broker));
  ASSERT_NE(client, nullptr);

  absl::StatusOr<MarketSearchResponse> search = client->search_markets("gold spot/usd");
  ASSERT_TRUE(search.ok()) << search.status();
  EXPECT_EQ(broker.server().requests().back().target,
            "/api/v1/markets?searchTerm=gold%20spot%2Fusd");
  EXPECT_FALSE(client->search_markets("").ok());

  absl::StatusOr<InstrumentSpec> spec = client->instrument_spec("GOLD", 3);
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->id, 3);
  EXPECT_EQ(spec->name(), "GOLD");
  EXPECT_EQ(spec->price_decimals, 2);
  EXPECT_EQ(spec->size_decimals, 2);
  EXPECT_EQ(spec->min_size, 1);       // 0.01 at 2 decimals
  EXPECT_EQ(spec->max_size, 50'000);  // 500

  absl::StatusOr<MarketDetails> missing = client->market_details("NOPE");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(capital_error_code(missing.status()), "error.not-found.epic");

  PriceHistoryQuery query;
  query.epic = "GOLD";
  query.resolution = "MINUTE_5";
  query.max = 2;
  query.from = "2024-05-01T10:00:00";
  absl::StatusOr<PriceHistory> history = client->price_history(query);
  ASSERT_TRUE(history.ok()) << history.status();
  EXPECT_EQ(history->prices.size(), 2u);
  EXPECT_EQ(broker.server().requests().back().target,
            "/api/v1/prices/GOLD?resolution=MINUTE_5&max=2&from=2024-05-01T10%3A00%3A00");
}

TEST(CapitalRestClient, LogoutEndsTheSession) {
  FakeBroker broker;
  auto client = make_client(config_for(broker));
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(client->login().ok());
  EXPECT_TRUE(client->logout().ok());
  EXPECT_FALSE(client->logged_in());
  EXPECT_EQ(broker.count("DELETE /api/v1/session"), 1);
}

TEST(CapitalRestClient, KeepAlivePingsAnIdleSession) {
  FakeBroker broker;
  CapitalClientConfig config = config_for(broker);
  config.ping_interval = std::chrono::seconds(1);
  auto client = make_client(config);
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(client->login().ok());
  client->start_keepalive();
  std::this_thread::sleep_for(milliseconds(2600));  // pings due at about 1 s and 2 s
  client->stop_keepalive();
  EXPECT_GE(broker.count("GET /api/v1/ping"), 2);
  EXPECT_LE(broker.count("GET /api/v1/ping"), 3);
}

TEST(CapitalRestClient, KeepAliveStaysQuietWhileTheSessionIsBusy) {
  FakeBroker broker;
  CapitalClientConfig config = config_for(broker);
  config.ping_interval = std::chrono::seconds(1);
  auto client = make_client(config);
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(client->login().ok());
  client->start_keepalive();
  for (int i = 0; i < 8; ++i) {
    ASSERT_TRUE(client->accounts().ok());
    std::this_thread::sleep_for(milliseconds(200));
  }
  client->stop_keepalive();
  EXPECT_EQ(broker.count("GET /api/v1/ping"), 0);
}

}  // namespace
}  // namespace qt::capital
