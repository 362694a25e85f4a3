// The HTTP API against a running engine (paper venue): every trading route and role, the
// answer of POST /api/trade once the order exists (here: no journal, so at once), the
// idempotency of client_order_id — in one run and after a restart, from the recovered orders —
// the errors that name the field, and readiness.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "gateway/http/order_entry.hpp"
#include "gateway/http/server.hpp"
#include "gateway/http/trading_routes.hpp"
#include "tests/engine_test_support.hpp"
#include "tests/http/http_test_client.hpp"

namespace qt::http {
namespace {

using testing::TestClient;
using testing::TestResponse;

struct Keys {
  GeneratedApiKey read, trade, admin;
};

class TradingApi : public ::testing::Test {
 protected:
  void SetUp() override {
    keys_.read = *generate_api_key();
    keys_.trade = *generate_api_key();
    keys_.admin = *generate_api_key();
    absl::StatusOr<ApiKeys> keys =
        ApiKeys::create({{"reader", Role::kRead, keys_.read.sha256_hex},
                         {"trader", Role::kTrade, keys_.trade.sha256_hex},
                         {"ops", Role::kAdmin, keys_.admin.sha256_hex}});
    ASSERT_TRUE(keys.ok()) << keys.status();
    api_keys_ = std::make_shared<const ApiKeys>(*std::move(keys));
    start_engine();
    start_server();
  }
  void start_server() {
    HttpServerOptions options;
    options.listen = "127.0.0.1:0";
    options.threads = 2;
    options.api_keys = api_keys_;
    Router router;
    TradingRoutesContext context;
    context.orders = entry_.get();
    context.engine = &rig_->engine->stats();
    context.instruments = qt::testing::test_instruments();
    context.readiness = [this] {
      return std::vector<ReadinessCheck>{
          {"engine", rig_->engine->stats().readiness.load() == EngineReadiness::kReady, "test"},
          {"venue_session", venue_up_.load(), "test"}};
    };
    ASSERT_TRUE(add_trading_routes(router, std::move(context)).ok());
    server_ = std::make_unique<HttpServer>(std::move(options), std::move(router));
    ASSERT_TRUE(server_->start().ok());
  }
  void TearDown() override {
    server_->stop();
    stop_engine();
  }

  void start_engine(const std::vector<Order>* recovered = nullptr) {
    rig_ = std::make_unique<qt::testing::EngineRig>();
    entry_ = std::make_unique<OrderEntry>(qt::testing::test_instruments());
    entry_->set_source(rig_->engine->add_client_port(entry_->port()));
    if (recovered != nullptr) entry_->seed(*recovered);
    rig_->start();
    rig_->push_quote(0, 230000, 230030);  // GOLD 2300.00 / 2300.30
    running_ = true;
    engine_thread_ = std::thread([this] {
      while (running_.load()) {
        const int work = rig_->engine->do_work() + rig_->venue->do_work();
        if (work == 0) std::this_thread::sleep_for(std::chrono::microseconds(50));
      }
    });
    entry_->start();
  }
  void stop_engine() {
    entry_->stop();
    running_ = false;
    if (engine_thread_.joinable()) engine_thread_.join();
  }

  TestResponse call(std::string_view method, std::string_view target, std::string_view body = {},
                    const std::string& key = {}) {
    TestClient client(server_->port());
    std::string request = std::string(method) + " " + std::string(target) +
                          " HTTP/1.1\r\nHost: test\r\nConnection: close\r\n";
    if (!key.empty()) request += "Authorization: Bearer " + key + "\r\n";
    if (!body.empty()) {
      request +=
          "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
          "\r\n";
    }
    request += "\r\n" + std::string(body);
    EXPECT_TRUE(client.send(request));
    std::optional<TestResponse> response = client.read_response();
    EXPECT_TRUE(response.has_value());
    return response.value_or(TestResponse{});
  }
  std::string trade_body(std::string_view client_id, std::string_view extra = {}) {
    return R"({"epic":"GOLD","direction":"BUY","size":0.1,"type":"MARKET","client_order_id":")" +
           std::string(client_id) + "\"" + std::string(extra) + "}";
  }
  // Polls GET /api/orders/{id} until the order is in `state` (or 5 s pass).
  TestResponse until_state(const std::string& id, std::string_view state) {
    TestResponse response;
    for (int i = 0; i < 500; ++i) {
      response = call("GET", "/api/orders/" + id, {}, keys_.read.key);
      if (response.body.find("\"state\":\"" + std::string(state) + "\"") != std::string::npos) {
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return response;
  }

  Keys keys_;
  std::shared_ptr<const ApiKeys> api_keys_;
  std::unique_ptr<qt::testing::EngineRig> rig_;
  std::unique_ptr<OrderEntry> entry_;
  std::unique_ptr<HttpServer> server_;
  std::thread engine_thread_;
  std::atomic<bool> running_{false};
  std::atomic<bool> venue_up_{true};
};

TEST_F(TradingApi, HealthNeedsNoKeyAndReadinessListsEveryCheck) {
  EXPECT_EQ(call("GET", "/health").status, 200);
  TestResponse ready = call("GET", "/ready");
  EXPECT_EQ(ready.status, 200) << ready.body;
  EXPECT_NE(ready.body.find(R"({"name":"venue_session","ok":true)"), std::string::npos);
  venue_up_ = false;  // the venue session went down
  ready = call("GET", "/ready");
  EXPECT_EQ(ready.status, 503);
  EXPECT_NE(ready.body.find(R"({"name":"venue_session","ok":false)"), std::string::npos);
  EXPECT_NE(ready.body.find(R"("ready":false)"), std::string::npos);
  venue_up_ = true;
  EXPECT_EQ(call("GET", "/ready").status, 200);
}

TEST_F(TradingApi, EachRouteWantsItsRole) {
  EXPECT_EQ(call("POST", "/api/trade", trade_body("r1")).status, 401);
  EXPECT_EQ(call("POST", "/api/trade", trade_body("r1"), keys_.read.key).status, 403);
  EXPECT_EQ(call("POST", "/api/trade", trade_body("r1"), keys_.trade.key).status, 201);
  EXPECT_EQ(call("GET", "/api/positions", {}, keys_.read.key).status, 200);
  EXPECT_EQ(call("GET", "/api/positions").status, 401);
  EXPECT_EQ(call("POST", "/api/kill-switch", R"({"engaged":true})", keys_.trade.key).status, 403);
  EXPECT_EQ(call("POST", "/api/trading-state", R"({"state":"HALTED"})", keys_.trade.key).status,
            403);
  EXPECT_EQ(call("GET", "/api/orders/1", {}, "qt_not-a-key").status, 401);
}

TEST_F(TradingApi, ATradeIsAnsweredWithTheOrderAndFills) {
  const TestResponse created = call("POST", "/api/trade", trade_body("buy-1"), keys_.trade.key);
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_NE(created.body.find(R"("client_order_id":"buy-1")"), std::string::npos);
  EXPECT_NE(created.body.find(R"("epic":"GOLD")"), std::string::npos);
  EXPECT_NE(created.body.find(R"("size":0.1)"), std::string::npos);
  const TestResponse filled = until_state("buy-1", "filled");
  EXPECT_EQ(filled.status, 200);
  EXPECT_NE(filled.body.find(R"("state":"filled")"), std::string::npos) << filled.body;
  EXPECT_NE(filled.body.find(R"("average_price":2300.3)"), std::string::npos) << filled.body;
  // By order id too.
  const std::size_t at = created.body.find("\"order_id\":");
  const std::string id = created.body.substr(at + 11, created.body.find(',', at) - at - 11);
  EXPECT_EQ(call("GET", "/api/orders/" + id, {}, keys_.read.key).status, 200);
  const TestResponse positions = call("GET", "/api/positions", {}, keys_.read.key);
  EXPECT_NE(positions.body.find(R"("epic":"GOLD","net_size":0.1)"), std::string::npos)
      << positions.body;
  const TestResponse quote = call("GET", "/api/quotes/GOLD", {}, keys_.read.key);
  EXPECT_EQ(quote.body, R"({"epic":"GOLD","bid":2300,"ask":2300.3})");
}

TEST_F(TradingApi, TheSameClientOrderIdNeverCreatesASecondOrder) {
  const TestResponse first = call("POST", "/api/trade", trade_body("once"), keys_.trade.key);
  ASSERT_EQ(first.status, 201);
  const TestResponse again = call("POST", "/api/trade", trade_body("once"), keys_.trade.key);
  EXPECT_EQ(again.status, 201);
  EXPECT_EQ(again.body, first.body);
  EXPECT_EQ(again.header("idempotent-replayed"), "true");
  EXPECT_EQ(rig_->engine->stats().orders_received.load(), 1u);
  EXPECT_EQ(entry_->stats().idempotent_replays.load(), 1u);
}

TEST_F(TradingApi, AfterARestartTheRecoveredOrdersStillAnswerForTheirIds) {
  ASSERT_EQ(call("POST", "/api/trade", trade_body("before-restart"), keys_.trade.key).status, 201);
  until_state("before-restart", "filled");
  // What recovery hands over: the engine's orders (here captured from the running engine).
  server_->stop();
  stop_engine();
  const EngineState state = rig_->engine->capture_state();
  start_engine(&state.orders);
  start_server();
  const TestResponse again =
      call("POST", "/api/trade", trade_body("before-restart"), keys_.trade.key);
  EXPECT_EQ(again.status, 201) << again.body;
  EXPECT_EQ(again.header("idempotent-replayed"), "true");
  EXPECT_NE(again.body.find(R"("client_order_id":"before-restart")"), std::string::npos);
  EXPECT_EQ(rig_->engine->stats().orders_received.load(), 0u);  // the new engine saw nothing
}

TEST_F(TradingApi, BadBodiesAreRefusedNamingTheField) {
  const std::string& key = keys_.trade.key;
  TestResponse r = call("POST", "/api/trade", "{not json", key);
  EXPECT_EQ(r.status, 400);
  r = call("POST", "/api/trade",
           R"({"epic":"GOLD","direction":"BUY","type":"MARKET","client_order_id":"x"})", key);
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find(R"("field":"size")"), std::string::npos) << r.body;
  r = call("POST", "/api/trade", trade_body("x", R"(,"colour":"red")"), key);
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find(R"("field":"colour")"), std::string::npos) << r.body;
  r = call(
      "POST", "/api/trade",
      R"({"epic":"GOLD","direction":"BUY","size":0.123,"type":"MARKET","client_order_id":"x"})",
      key);
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find(R"("field":"size")"), std::string::npos) << r.body;
  r = call("POST", "/api/trade",
           R"({"epic":"SILVER","direction":"BUY","size":1,"type":"MARKET","client_order_id":"x"})",
           key);
  EXPECT_EQ(r.status, 422);
  EXPECT_NE(r.body.find(R"("field":"epic")"), std::string::npos) << r.body;
  r = call("POST", "/api/trade",
           R"({"epic":"GOLD","direction":"UP","size":1,"type":"MARKET","client_order_id":"x"})",
           key);
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find(R"("field":"direction")"), std::string::npos) << r.body;
  r = call("POST", "/api/trade",
           R"({"epic":"GOLD","direction":"BUY","size":1,"type":"LIMIT","client_order_id":"x"})",
           key);
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find(R"("field":"level")"), std::string::npos) << r.body;
  r = call("POST", "/api/trade", trade_body("an-id-longer-than-24-characters"), key);
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find(R"("field":"client_order_id")"), std::string::npos) << r.body;
  EXPECT_EQ(rig_->engine->stats().orders_received.load(), 0u);  // none reached the engine
}

TEST_F(TradingApi, RiskRefusalsAre422WithTheReason) {
  // 60.00 GOLD: above the 50.00 per order limit.
  const TestResponse r =
      call("POST", "/api/trade",
           R"({"epic":"GOLD","direction":"BUY","size":60,"type":"MARKET","client_order_id":"big"})",
           keys_.trade.key);
  EXPECT_EQ(r.status, 422) << r.body;
  EXPECT_NE(r.body.find(R"("reason":"max_order_size")"), std::string::npos) << r.body;
  // A refusal creates no order: the id can be used again.
  EXPECT_EQ(call("POST", "/api/trade", trade_body("big"), keys_.trade.key).status, 201);
}

TEST_F(TradingApi, TheKillSwitchStopsTradingAndCancelsWorkingOrders) {
  const TestResponse limit = call(
      "POST", "/api/trade",
      R"({"epic":"GOLD","direction":"BUY","size":0.1,"type":"LIMIT","level":2200,"client_order_id":"rest"})",
      keys_.trade.key);
  ASSERT_EQ(limit.status, 201) << limit.body;
  until_state("rest", "new");
  EXPECT_EQ(call("POST", "/api/kill-switch", R"({"engaged":true})", keys_.admin.key).status, 202);
  EXPECT_NE(until_state("rest", "canceled").body.find(R"("state":"canceled")"), std::string::npos);
  const TestResponse refused = call("POST", "/api/trade", trade_body("after"), keys_.trade.key);
  EXPECT_EQ(refused.status, 422);
  EXPECT_NE(refused.body.find(R"("reason":"kill_switch")"), std::string::npos) << refused.body;
  const TestResponse account = call("GET", "/api/account", {}, keys_.read.key);
  EXPECT_NE(account.body.find(R"("kill_switch":true)"), std::string::npos) << account.body;
}

TEST_F(TradingApi, ACancelIsAcceptedForALiveOrderOnly) {
  ASSERT_EQ(
      call(
          "POST", "/api/trade",
          R"({"epic":"GOLD","direction":"BUY","size":0.1,"type":"LIMIT","level":2200,"client_order_id":"c1"})",
          keys_.trade.key)
          .status,
      201);
  until_state("c1", "new");
  EXPECT_EQ(call("DELETE", "/api/orders/c1", {}, keys_.read.key).status, 403);
  EXPECT_EQ(call("DELETE", "/api/orders/c1", {}, keys_.trade.key).status, 202);
  until_state("c1", "canceled");
  EXPECT_EQ(call("DELETE", "/api/orders/c1", {}, keys_.trade.key).status, 409);
  EXPECT_EQ(call("DELETE", "/api/orders/nope", {}, keys_.trade.key).status, 404);
  const TestResponse open = call("GET", "/api/orders?status=open", {}, keys_.read.key);
  EXPECT_EQ(open.body, R"({"orders":[]})");
  const TestResponse all = call("GET", "/api/orders?status=all", {}, keys_.read.key);
  EXPECT_NE(all.body.find(R"("client_order_id":"c1")"), std::string::npos);
}

}  // namespace
}  // namespace qt::http
