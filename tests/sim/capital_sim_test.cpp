// The simulator as a client sees it: a real server on an ephemeral loopback port, driven over
// HTTP/1.1 and WebSocket (plain and TLS) exactly as capital-api.md describes the broker.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <thread>
#include <vector>

#include "sim/capital_simulator.hpp"
#include "sim/crypto.hpp"
#include "tests/sim/sim_test_client.hpp"

namespace qt::sim {
namespace {

using namespace qt::sim::testing;

// Most tests switch the broker's request limits off so that they can go as fast as they like;
// the rate-limit tests switch them back on.
SimOptions test_options() {
  SimOptions o;
  o.always_open = true;
  o.quotes_per_second = 20;
  o.limits.enabled = false;
  return o;
}

struct Server {
  explicit Server(SimOptions o = test_options()) : sim(std::move(o)) { sim.start(); }
  CapitalSimulator sim;
};

std::string market_order(const std::string& epic, const std::string& direction, double size) {
  return fmt::format(R"({{"epic":"{}","direction":"{}","size":{}}})", epic, direction, size);
}

// POST /positions, then GET /confirms/{ref}.
Json deal(HttpClient& client, const std::string& epic, const std::string& direction, double size) {
  const Reply r = client.post("/api/v1/positions", market_order(epic, direction, size));
  EXPECT_EQ(r.status, 200) << r.body;
  const std::string ref = r.json().str("/dealReference");
  EXPECT_EQ(ref.rfind("o_", 0), 0u) << ref;
  const Reply confirm = client.get("/api/v1/confirms/" + ref);
  EXPECT_EQ(confirm.status, 200) << confirm.body;
  return confirm.json();
}

// ----- session ------------------------------------------------------------------------------

TEST(CapitalSimSession, LoginReturnsTokensInHeadersAndTheAccountInTheBody) {
  Server s;
  HttpClient client(s.sim);
  const Reply r = client.login();
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_GE(r.cst.size(), 20u);
  EXPECT_GE(r.security_token.size(), 20u);
  const Json body = r.json();
  EXPECT_EQ(body.str("/accountType"), "CFD");
  EXPECT_EQ(body.str("/currentAccountId"), "12345678901234567");
  EXPECT_EQ(body.num("/accountInfo/balance"), 10000);
  EXPECT_EQ(body.str("/currencyIsoCode"), "USD");
  EXPECT_EQ(body.str("/streamingHost"), fmt::format("ws://127.0.0.1:{}/", s.sim.port()));
  EXPECT_EQ(body.size("/accounts"), 2u);
  EXPECT_TRUE(body.boolean("/accounts/0/preferred"));
  EXPECT_EQ(s.sim.stats().logins, 1);
}

TEST(CapitalSimSession, WrongPasswordOrApiKeyIs401InvalidDetails) {
  Server s;
  HttpClient client(s.sim);
  client.password = "wrong";
  Reply r = client.login();
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.error_code(), "error.invalid.details");
  client.password = s.sim.options().credentials.password;
  client.api_key = "not-the-key";
  r = client.login();
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.error_code(), "error.invalid.details");
  EXPECT_EQ(s.sim.stats().logins, 0);
}

TEST(CapitalSimSession, MissingApiKeyIs400NullApiKey) {
  Server s;
  HttpClient client(s.sim);
  client.api_key.clear();
  const Reply r = client.login();
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.error_code(), "error.null.api.key");
}

TEST(CapitalSimSession, CallsWithoutValidTokensAre401InvalidSessionToken) {
  Server s;
  HttpClient client(s.sim);
  Reply r = client.get("/api/v1/accounts");
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.error_code(), "error.invalid.session.token");
  client.cst = "made-up";
  client.security_token = "made-up";
  r = client.get("/api/v1/ping");
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.error_code(), "error.invalid.session.token");
}

TEST(CapitalSimSession, TokensExpireAfterTheIdleTimeoutAndEachCallExtendsThem) {
  SimOptions o = test_options();
  o.session_idle_timeout = std::chrono::milliseconds(1000);
  Server s(o);
  HttpClient client(s.sim);
  ASSERT_EQ(client.login().status, 200);
  // Four calls 400 ms apart: 1.6 s in all, never 1 s idle.
  for (int i = 0; i < 4; ++i) {
    std::this_thread::sleep_for(400ms);
    EXPECT_EQ(client.get("/api/v1/ping").status, 200);
  }
  std::this_thread::sleep_for(1500ms);
  const Reply r = client.get("/api/v1/ping");
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.error_code(), "error.invalid.session.token");
  EXPECT_EQ(client.login().status, 200);
  EXPECT_EQ(client.get("/api/v1/ping").status, 200);
}

TEST(CapitalSimSession, ForcedExpiryInvalidatesEverySession) {
  Server s;
  HttpClient client(s.sim);
  ASSERT_EQ(client.login().status, 200);
  s.sim.expire_sessions();
  EXPECT_EQ(client.get("/api/v1/ping").status, 401);
}

TEST(CapitalSimSession, ExpireSessionsEveryFlagForgetsSessionsPeriodically) {
  SimOptions o = test_options();
  o.faults.expire_sessions_every_seconds = 0.3;
  Server s(o);
  HttpClient client(s.sim);
  ASSERT_EQ(client.login().status, 200);
  std::this_thread::sleep_for(450ms);
  EXPECT_EQ(client.get("/api/v1/ping").status, 401);
}

TEST(CapitalSimSession, PingTimeSessionAndLogout) {
  Server s;
  HttpClient client(s.sim);
  Reply r = client.get("/api/v1/time");  // no session needed
  ASSERT_EQ(r.status, 200);
  const double now_ms = static_cast<double>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                                std::chrono::system_clock::now().time_since_epoch())
                                                .count());
  EXPECT_NEAR(r.json().num("/serverTime"), now_ms, 5000);
  ASSERT_EQ(client.login().status, 200);
  r = client.get("/api/v1/ping");
  EXPECT_EQ(r.body, R"({"status":"OK"})");
  EXPECT_EQ(r.cst, client.cst);  // responses echo the tokens
  EXPECT_EQ(r.security_token, client.security_token);
  r = client.get("/api/v1/session");
  EXPECT_EQ(r.json().str("/accountId"), "12345678901234567");
  EXPECT_EQ(r.json().str("/streamEndpoint"), fmt::format("ws://127.0.0.1:{}/", s.sim.port()));
  r = client.put("/api/v1/session", R"({"accountId":"nope"})");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.error_code(), "error.invalid.accountId");
  r = client.put("/api/v1/session", R"({"accountId":"12345678907654321"})");
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(r.json().boolean("/dealingEnabled"));
  r = client.del("/api/v1/session");
  EXPECT_EQ(r.body, R"({"status":"SUCCESS"})");
  EXPECT_EQ(client.get("/api/v1/ping").status, 401);
}

TEST(CapitalSimSession, EncryptedPasswordLoginWithTheBrokersRsaKey) {
  Server s;
  HttpClient client(s.sim);
  const Reply key = client.get("/api/v1/session/encryptionKey");
  ASSERT_EQ(key.status, 200) << key.body;
  const Json k = key.json();
  const std::optional<std::string> encrypted =
      encrypt_password(k.str("/encryptionKey"), s.sim.options().credentials.password,
                       static_cast<int64_t>(k.num("/timeStamp")));
  ASSERT_TRUE(encrypted);
  Reply r = client.post("/api/v1/session", R"({"identifier":")" + client.identifier +
                                               R"(","password":")" + *encrypted +
                                               R"(","encryptedPassword":true})");
  EXPECT_EQ(r.status, 200) << r.body;
  const std::optional<std::string> wrong =
      encrypt_password(k.str("/encryptionKey"), "wrong", static_cast<int64_t>(k.num("/timeStamp")));
  std::this_thread::sleep_for(1s);
  r = client.post("/api/v1/session", R"({"identifier":")" + client.identifier +
                                         R"(","password":")" + *wrong +
                                         R"(","encryptedPassword":true})");
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.error_code(), "error.invalid.details");
}

// ----- accounts and markets ---------------------------------------------------------------------

TEST(CapitalSimAccounts, AccountsAndPreferences) {
  Server s;
  HttpClient client(s.sim);
  ASSERT_EQ(client.login().status, 200);
  Reply r = client.get("/api/v1/accounts");
  ASSERT_EQ(r.status, 200);
  Json j = r.json();
  EXPECT_EQ(j.size("/accounts"), 2u);
  EXPECT_EQ(j.str("/accounts/0/status"), "ENABLED");
  EXPECT_EQ(j.num("/accounts/0/balance/available"), 10000);

  r = client.get("/api/v1/accounts/preferences");
  j = r.json();
  EXPECT_FALSE(j.boolean("/hedgingMode"));
  EXPECT_EQ(j.num("/leverages/INDICES/current"), 20);
  EXPECT_EQ(j.size("/leverages"), 5u);
  r = client.put("/api/v1/accounts/preferences", R"({"leverages":{"INDICES":10}})");
  EXPECT_EQ(r.body, R"({"status":"SUCCESS"})");
  EXPECT_EQ(client.get("/api/v1/accounts/preferences").json().num("/leverages/INDICES/current"),
            10);
  r = client.put("/api/v1/accounts/preferences", R"({"leverages":{"INDICES":7}})");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.error_code(), "error.invalid.leverage.value");
}

TEST(CapitalSimMarkets, GoldDetailsCarryDealingRulesHoursAndSnapshot) {
  Server s;
  HttpClient client(s.sim);
  ASSERT_EQ(client.login().status, 200);
  const Reply r = client.get("/api/v1/markets/GOLD");
  ASSERT_EQ(r.status, 200) << r.body;
  const Json j = r.json();
  EXPECT_EQ(j.str("/instrument/epic"), "GOLD");
  EXPECT_EQ(j.str("/instrument/type"), "COMMODITIES");
  EXPECT_EQ(j.str("/instrument/currency"), "USD");
  EXPECT_EQ(j.str("/instrument/openingHours/zone"), "UTC");
  EXPECT_EQ(j.str("/instrument/openingHours/mon/0"), "00:00 - 22:00");
  EXPECT_EQ(j.size("/instrument/openingHours/sat"), 0u);
  EXPECT_EQ(j.num("/dealingRules/minDealSize/value"), 0.01);
  EXPECT_EQ(j.num("/dealingRules/minSizeIncrement/value"), 0.01);
  EXPECT_EQ(j.str("/dealingRules/minStopOrProfitDistance/unit"), "PERCENTAGE");
  EXPECT_EQ(j.num("/snapshot/decimalPlacesFactor"), 2);
  EXPECT_EQ(j.num("/snapshot/scalingFactor"), 1);
  EXPECT_EQ(j.str("/snapshot/marketStatus"), "TRADEABLE");
  EXPECT_LT(j.num("/snapshot/bid"), j.num("/snapshot/offer"));
  EXPECT_GT(j.num("/snapshot/bid"), 3000);

  const Reply missing = client.get("/api/v1/markets/NOPE");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.error_code(), "error.not-found.epic");
}

TEST(CapitalSimMarkets, SearchEpicsAndAll) {
  Server s;
  HttpClient client(s.sim);
  ASSERT_EQ(client.login().status, 200);
  Json j = client.get("/api/v1/markets?searchTerm=gold").json();
  ASSERT_EQ(j.size("/markets"), 1u);
  EXPECT_EQ(j.str("/markets/0/epic"), "GOLD");
  EXPECT_EQ(j.str("/markets/0/instrumentType"), "COMMODITIES");
  j = client.get("/api/v1/markets?searchTerm=US%20Tech").json();
  EXPECT_EQ(j.str("/markets/0/epic"), "US100");
  j = client.get("/api/v1/markets?epics=GOLD,EURUSD").json();
  ASSERT_EQ(j.size("/marketDetails"), 2u);
  EXPECT_EQ(j.str("/marketDetails/1/instrument/epic"), "EURUSD");
  EXPECT_EQ(j.num("/marketDetails/1/snapshot/decimalPlacesFactor"), 5);
  j = client.get("/api/v1/markets").json();
  EXPECT_EQ(j.size("/markets"), 20u);
  const Reply empty = client.get("/api/v1/markets?searchTerm=");
  EXPECT_EQ(empty.status, 400);
  EXPECT_EQ(empty.error_code(), "error.null.searchTerm");
  j = client.get("/api/v1/marketnavigation").json();
  EXPECT_EQ(j.size("/nodes"), 5u);
}

TEST(CapitalSimMarkets, PricesHistory) {
  Server s;
  HttpClient client(s.sim);
  ASSERT_EQ(client.login().status, 200);
  Reply r = client.get("/api/v1/prices/SILVER");
  ASSERT_EQ(r.status, 200) << r.body;
  Json j = r.json();
  EXPECT_EQ(j.size("/prices"), 10u);
  EXPECT_EQ(j.str("/instrumentType"), "COMMODITIES");
  EXPECT_LT(j.num("/prices/9/closePrice/bid"), j.num("/prices/9/closePrice/ask"));
  EXPECT_GE(j.num("/prices/0/highPrice/bid"), j.num("/prices/0/lowPrice/bid"));
  j = client.get("/api/v1/prices/GOLD?resolution=HOUR&max=5").json();
  EXPECT_EQ(j.size("/prices"), 5u);
  r = client.get("/api/v1/prices/GOLD?resolution=FORTNIGHT");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.error_code(), "error.invalid.resolution");
}

// ----- trading ----------------------------------------------------------------------------------

TEST(CapitalSimTrading, OpenListAndClosePositionWithConfirms) {
  Server s;
  HttpClient client(s.sim);
  ASSERT_EQ(client.login().status, 200);
  const Json open = deal(client, "GOLD", "BUY", 1);
  EXPECT_EQ(open.str("/dealStatus"), "ACCEPTED");
  EXPECT_EQ(open.str("/status"), "OPEN");
  EXPECT_EQ(open.str("/reason"), "SUCCESS");
  EXPECT_EQ(open.str("/affectedDeals/0/status"), "OPENED");
  const std::string deal_id = open.str("/affectedDeals/0/dealId");
  EXPECT_EQ(deal_id.size(), 36u);
  EXPECT_NE(deal_id, open.str("/dealId"));  // the order id differs from the position id

  Json positions = client.get("/api/v1/positions").json();
  ASSERT_EQ(positions.size("/positions"), 1u);
  EXPECT_EQ(positions.str("/positions/0/position/dealId"), deal_id);
  EXPECT_EQ(positions.str("/positions/0/position/dealReference"), "p_" + deal_id);
  EXPECT_EQ(positions.str("/positions/0/position/direction"), "BUY");
  EXPECT_EQ(positions.num("/positions/0/position/size"), 1);
  EXPECT_EQ(positions.num("/positions/0/position/level"), open.num("/level"));
  EXPECT_EQ(positions.str("/positions/0/market/epic"), "GOLD");
  EXPECT_EQ(client.get("/api/v1/positions/" + deal_id).json().str("/position/dealId"), deal_id);
  EXPECT_EQ(client.get("/api/v1/positions/nope").error_code(), "error.not-found.dealId");

  const Reply close = client.del("/api/v1/positions/" + deal_id);
  ASSERT_EQ(close.status, 200);
  EXPECT_EQ(close.json().str("/dealReference"), "p_" + deal_id);
  const Json closed = client.get("/api/v1/confirms/p_" + deal_id).json();
  EXPECT_EQ(closed.str("/dealStatus"), "ACCEPTED");
  EXPECT_EQ(closed.str("/status"), "CLOSED");
  EXPECT_EQ(closed.str("/affectedDeals/0/status"), "FULLY_CLOSED");
  EXPECT_EQ(client.get("/api/v1/positions").json().size("/positions"), 0u);
  EXPECT_EQ(client.get("/api/v1/confirms/o_nope").error_code(), "error.not-found.dealReference");
  EXPECT_EQ(s.sim.stats().deals("GOLD"), 2);
}

TEST(CapitalSimTrading, OppositeDealNetsAgainstOpenPositionsFirstInFirstOut) {
  Server s;
  HttpClient client(s.sim);
  ASSERT_EQ(client.login().status, 200);
  const std::string first = deal(client, "SILVER", "BUY", 1).str("/affectedDeals/0/dealId");
  const std::string second = deal(client, "SILVER", "BUY", 2).str("/affectedDeals/0/dealId");
  // SELL 1.5: closes the first (1) fully, the second by 0.5 -> 1.5 left of it.
  const Json net = deal(client, "SILVER", "SELL", 1.5);
  EXPECT_EQ(net.str("/dealStatus"), "ACCEPTED");
  ASSERT_EQ(net.size("/affectedDeals"), 2u);
  EXPECT_EQ(net.str("/affectedDeals/0/dealId"), first);
  EXPECT_EQ(net.str("/affectedDeals/0/status"), "FULLY_CLOSED");
  EXPECT_EQ(net.str("/affectedDeals/1/dealId"), second);
  EXPECT_EQ(net.str("/affectedDeals/1/status"), "PARTIALLY_CLOSED");
  const std::vector<PositionInfo> positions = s.sim.positions();
  ASSERT_EQ(positions.size(), 1u);
  EXPECT_EQ(positions[0].deal_id, second);
  EXPECT_DOUBLE_EQ(positions[0].size, 1.5);
  // SELL 2.5 more: closes the rest (1.5) and opens SELL 1.
  const Json flip = deal(client, "SILVER", "SELL", 2.5);
  EXPECT_EQ(flip.str("/status"), "OPEN");
  EXPECT_EQ(flip.str("/affectedDeals/1/status"), "OPENED");
  ASSERT_EQ(s.sim.positions().size(), 1u);
  EXPECT_EQ(s.sim.positions()[0].direction, "SELL");
  EXPECT_DOUBLE_EQ(s.sim.positions()[0].size, 1);
}

TEST(CapitalSimTrading, SizeBelowMinimumOrOffTheIncrementIsRejected) {
  Server s;
  HttpClient client(s.sim);
  ASSERT_EQ(client.login().status, 200);
  Json c = deal(client, "GOLD", "BUY", 0.001);  // GOLD: min 0.01
  EXPECT_EQ(c.str("/dealStatus"), "REJECTED");
  EXPECT_EQ(c.str("/reason"), "MINIMUM_ORDER_SIZE_ERROR");
  EXPECT_EQ(c.size("/affectedDeals"), 0u);
  c = deal(client, "GOLD", "BUY", 0.015);  // increment 0.01
  EXPECT_EQ(c.str("/dealStatus"), "REJECTED");
  EXPECT_EQ(c.str("/reason"), "MINIMUM_ORDER_SIZE_ERROR");
  EXPECT_TRUE(s.sim.positions().empty());
  EXPECT_EQ(s.sim.stats().orders("GOLD"), 2);
  EXPECT_EQ(s.sim.stats().deals("GOLD"), 0);
}

TEST(CapitalSimTrading, StopLossOutsideTheAllowedRangeIs400WithTheLimit) {
  Server s;
  HttpClient client(s.sim);
  ASSERT_EQ(client.login().status, 200);
  const Reply r = client.post("/api/v1/positions",
                              R"({"epic":"SILVER","direction":"BUY","size":1,"stopLevel":1})");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.error_code().rfind("error.invalid.stoploss.minvalue: ", 0), 0u) << r.body;
  EXPECT_TRUE(s.sim.positions().empty());
}

TEST(CapitalSimTrading, LimitOrderFillsWhenTheMarketCrossesItsLevel) {
  Server s;
  HttpClient client(s.sim);
  ASSERT_EQ(client.login().status, 200);
  const auto [bid, ask] = *s.sim.quote("GOLD");
  const double level = std::round((ask - 20) * 100) / 100;
  Reply r = client.post("/api/v1/workingorders",
                        fmt::format(R"({{"epic":"GOLD","direction":"BUY","size":0.5,"level":{},)"
                                    R"("type":"LIMIT"}})",
                                    level));
  ASSERT_EQ(r.status, 200) << r.body;
  const Json confirm = client.get("/api/v1/confirms/" + r.json().str("/dealReference")).json();
  EXPECT_EQ(confirm.str("/dealStatus"), "ACCEPTED");
  const std::string order_id = confirm.str("/dealId");
  Json orders = client.get("/api/v1/workingorders").json();
  ASSERT_EQ(orders.size("/workingOrders"), 1u);
  EXPECT_EQ(orders.str("/workingOrders/0/workingOrderData/dealId"), order_id);
  EXPECT_EQ(orders.str("/workingOrders/0/workingOrderData/orderType"), "LIMIT");
  EXPECT_EQ(orders.str("/workingOrders/0/workingOrderData/timeInForce"), "GOOD_TILL_CANCELLED");
  EXPECT_EQ(orders.num("/workingOrders/0/workingOrderData/orderLevel"), level);
  EXPECT_TRUE(s.sim.positions().empty());

  // The ask falls through the level: the order becomes a position.
  ASSERT_TRUE(s.sim.set_mid_price("GOLD", level - 5));
  EXPECT_TRUE(s.sim.working_orders().empty());
  const std::vector<PositionInfo> positions = s.sim.positions();
  ASSERT_EQ(positions.size(), 1u);
  EXPECT_EQ(positions[0].working_order_id, order_id);
  EXPECT_EQ(positions[0].direction, "BUY");
  EXPECT_DOUBLE_EQ(positions[0].size, 0.5);
  EXPECT_LE(positions[0].level, level);
  EXPECT_EQ(client.get("/api/v1/workingorders").json().size("/workingOrders"), 0u);
  (void)bid;
}

TEST(CapitalSimTrading, StopOrderFillsWhenTheMarketFallsThroughIt) {
  Server s;
  HttpClient client(s.sim);
  ASSERT_EQ(client.login().status, 200);
  const double bid = s.sim.quote("EURUSD")->first;
  const double level = std::round((bid - 0.0050) * 1e5) / 1e5;
  const Reply r = client.post(
      "/api/v1/workingorders",
      fmt::format(R"({{"epic":"EURUSD","direction":"SELL","size":1000,"level":{},"type":"STOP"}})",
                  level));
  ASSERT_EQ(r.status, 200) << r.body;
  ASSERT_EQ(s.sim.working_orders().size(), 1u);
  ASSERT_TRUE(s.sim.set_mid_price("EURUSD", level - 0.0010));
  ASSERT_EQ(s.sim.positions().size(), 1u);
  EXPECT_EQ(s.sim.positions()[0].direction, "SELL");
}

TEST(CapitalSimTrading, WorkingOrderWithPastGoodTillDateIs400) {
  Server s;
  HttpClient client(s.sim);
  ASSERT_EQ(client.login().status, 200);
  const Reply r = client.post(
      "/api/v1/workingorders",
      R"({"epic":"GOLD","direction":"BUY","size":1,"level":100,"type":"LIMIT","goodTillDate":"2020-01-01T00:00:00"})");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.error_code(), "error.not-in-future.goodTillDate");
}

// ----- rate limits ------------------------------------------------------------------------------

TEST(CapitalSimLimits, SecondOrderWithin100MillisecondsIs429) {
  SimOptions o = test_options();
  o.limits.enabled = true;
  Server s(o);
  HttpClient client(s.sim);
  ASSERT_EQ(client.login().status, 200);
  EXPECT_EQ(client.post("/api/v1/positions", market_order("GOLD", "BUY", 1)).status, 200);
  const Reply r = client.post("/api/v1/positions", market_order("GOLD", "BUY", 1));
  EXPECT_EQ(r.status, 429);
  EXPECT_EQ(r.error_code(), "error.too-many.requests");
  std::this_thread::sleep_for(120ms);
  EXPECT_EQ(client.post("/api/v1/positions", market_order("GOLD", "BUY", 1)).status, 200);
  EXPECT_EQ(s.sim.stats().orders("GOLD"), 2);
}

TEST(CapitalSimLimits, EleventhRequestWithinOneSecondIs429) {
  SimOptions o = test_options();
  o.limits.enabled = true;
  Server s(o);
  HttpClient client(s.sim);
  ASSERT_EQ(client.login().status, 200);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(client.get("/api/v1/ping").status, 200) << i;
  const Reply r = client.get("/api/v1/ping");
  EXPECT_EQ(r.status, 429);
  EXPECT_EQ(r.error_code(), "error.too-many.requests");
  std::this_thread::sleep_for(1050ms);
  EXPECT_EQ(client.get("/api/v1/ping").status, 200);
}

// The broker counts a request before it checks the tokens: ten refused with 401 spend the second's
// budget, and the eleventh, with good tokens, is 429.
TEST(CapitalSimLimits, RequestsRefusedWith401CountAgainstTheRequestBudget) {
  SimOptions o = test_options();
  o.limits.enabled = true;
  Server s(o);
  HttpClient client(s.sim);
  ASSERT_EQ(client.login().status, 200);
  HttpClient stale(s.sim);
  stale.cst = "expired-cst";
  stale.security_token = "expired-security-token";
  for (int i = 0; i < 10; ++i) EXPECT_EQ(stale.get("/api/v1/ping").status, 401) << i;
  const Reply r = client.get("/api/v1/ping");
  EXPECT_EQ(r.status, 429);
  EXPECT_EQ(r.error_code(), "error.too-many.requests");
  std::this_thread::sleep_for(1050ms);
  EXPECT_EQ(client.get("/api/v1/ping").status, 200);
}

TEST(CapitalSimLimits, SecondLoginWithinOneSecondIs429) {
  SimOptions o = test_options();
  o.limits.enabled = true;
  Server s(o);
  HttpClient client(s.sim);
  EXPECT_EQ(client.login().status, 200);
  const Reply r = client.login();
  EXPECT_EQ(r.status, 429);
  EXPECT_EQ(r.error_code(), "error.too-many.requests");
}

// ----- streaming --------------------------------------------------------------------------------

TEST(CapitalSimStream, SubscribedEpicsReceiveQuotesWithBidBelowOffer) {
  Server s;
  HttpClient client(s.sim);
  ASSERT_EQ(client.login().status, 200);
  WsClient ws(s.sim);
  ws.send(envelope("marketData.subscribe", "7", client.cst, client.security_token,
                   R"({"epics":["GOLD","EURUSD","BTCUSD"]})"));
  const std::optional<Json> ack = ws.read_until("marketData.subscribe");
  ASSERT_TRUE(ack);
  EXPECT_EQ(ack->str("/status"), "OK");
  EXPECT_EQ(ack->str("/correlationId"), "7");
  EXPECT_EQ(ack->str("/payload/subscriptions/GOLD"), "PROCESSED");
  EXPECT_EQ(ack->str("/payload/subscriptions/BTCUSD"), "PROCESSED");

  std::map<std::string, int> quotes;
  for (int i = 0; i < 200 && (quotes["GOLD"] < 3 || quotes["EURUSD"] < 3 || quotes["BTCUSD"] < 3);
       ++i) {
    const std::optional<Json> q = ws.read_until("quote");
    ASSERT_TRUE(q);
    EXPECT_EQ(q->str("/status"), "OK");
    EXPECT_EQ(q->str("/payload/product"), "CFD");
    EXPECT_LT(q->num("/payload/bid"), q->num("/payload/ofr"));
    EXPECT_GT(q->num("/payload/bidQty"), 0);
    EXPECT_GT(q->num("/payload/timestamp"), 1.7e12);
    ++quotes[q->str("/payload/epic")];
  }
  EXPECT_GE(quotes["GOLD"], 3);
  EXPECT_GE(quotes["EURUSD"], 3);
  EXPECT_GE(quotes["BTCUSD"], 3);
  EXPECT_EQ(quotes.size(), 3u);  // nothing unsubscribed
}

TEST(CapitalSimStream, MoreThanFortyEpicsIsAnError) {
  Server s;
  HttpClient client(s.sim);
  ASSERT_EQ(client.login().status, 200);
  WsClient ws(s.sim);
  std::string epics;
  for (int i = 0; i < 41; ++i) epics += (i ? ",\"E" : "\"E") + std::to_string(i) + "\"";
  ws.send(envelope("marketData.subscribe", "1", client.cst, client.security_token,
                   "{\"epics\":[" + epics + "]}"));
  const std::optional<Json> reply = ws.read_until("marketData.subscribe");
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->str("/status"), "ERROR");
}

TEST(CapitalSimStream, EnvelopesNeedValidTokens) {
  Server s;
  WsClient ws(s.sim);
  ws.send(envelope("marketData.subscribe", "1", "bad", "bad", R"({"epics":["GOLD"]})"));
  const std::optional<Json> reply = ws.read_until("marketData.subscribe");
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->str("/status"), "ERROR");
  EXPECT_EQ(reply->str("/payload/errorCode"), "error.invalid.session.token");
}

TEST(CapitalSimStream, PingIsAnsweredAndUnsubscribeStopsQuotes) {
  Server s;
  HttpClient client(s.sim);
  ASSERT_EQ(client.login().status, 200);
  WsClient ws(s.sim);
  ws.send(envelope("ping", "42", client.cst, client.security_token));
  std::optional<Json> reply = ws.read_until("ping");
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->str("/status"), "OK");
  EXPECT_EQ(reply->str("/correlationId"), "42");
  ws.send(envelope("marketData.subscribe", "1", client.cst, client.security_token,
                   R"({"epics":["GOLD"]})"));
  ASSERT_TRUE(ws.read_until("quote"));
  ws.send(envelope("marketData.unsubscribe", "2", client.cst, client.security_token,
                   R"({"epics":["GOLD"]})"));
  ASSERT_TRUE(ws.read_until("marketData.unsubscribe"));
  EXPECT_FALSE(ws.read_until("quote", 400ms));
}

TEST(CapitalSimStream, OhlcSubscriptionPushesBars) {
  Server s;
  HttpClient client(s.sim);
  ASSERT_EQ(client.login().status, 200);
  WsClient ws(s.sim);
  ws.send(envelope("OHLCMarketData.subscribe", "3", client.cst, client.security_token,
                   R"({"epics":["GOLD"],"resolutions":["MINUTE_5"]})"));
  const std::optional<Json> ack = ws.read_until("OHLCMarketData.subscribe");
  ASSERT_TRUE(ack);
  EXPECT_EQ(ack->str("/payload/subscriptions/GOLD:MINUTE_5:classic"), "PROCESSED");
  const std::optional<Json> bar = ws.read_until("ohlc.event");
  ASSERT_TRUE(bar);
  EXPECT_EQ(bar->str("/payload/resolution"), "MINUTE_5");
  EXPECT_EQ(bar->str("/payload/priceType"), "bid");
  EXPECT_GE(bar->num("/payload/h"), bar->num("/payload/l"));
}

// First `n` GOLD bids from a fresh simulator with `seed`.
std::vector<double> gold_bids(uint64_t seed, std::size_t n) {
  SimOptions o = test_options();
  o.seed = seed;
  o.quotes_per_second = 50;
  Server s(o);
  HttpClient client(s.sim);
  EXPECT_EQ(client.login().status, 200);
  WsClient ws(s.sim);
  ws.send(envelope("marketData.subscribe", "1", client.cst, client.security_token,
                   R"({"epics":["GOLD"]})"));
  std::vector<double> bids;
  while (bids.size() < n) {
    const std::optional<Json> q = ws.read_until("quote");
    if (!q) break;
    bids.push_back(q->num("/payload/bid"));
  }
  return bids;
}

TEST(CapitalSimStream, SameSeedGivesTheSamePriceSequence) {
  // Each market's k-th step is fixed by the seed; the two runs may join the walk a few steps
  // apart, so align on the first quote of the later one.
  const std::vector<double> a = gold_bids(2024, 60);
  const std::vector<double> b = gold_bids(2024, 60);
  ASSERT_EQ(a.size(), 60u);
  ASSERT_EQ(b.size(), 60u);
  std::size_t shift_a = 0, shift_b = 0;
  bool aligned = false;
  for (std::size_t k = 0; k < 20 && !aligned; ++k) {
    if (std::equal(a.begin() + static_cast<std::ptrdiff_t>(k),
                   a.begin() + static_cast<std::ptrdiff_t>(k) + 30, b.begin())) {
      shift_a = k;
      aligned = true;
    } else if (std::equal(b.begin() + static_cast<std::ptrdiff_t>(k),
                          b.begin() + static_cast<std::ptrdiff_t>(k) + 30, a.begin())) {
      shift_b = k;
      aligned = true;
    }
  }
  ASSERT_TRUE(aligned) << "no common 30-quote run";
  for (std::size_t i = 0; i + std::max(shift_a, shift_b) < 60; ++i) {
    EXPECT_EQ(a[i + shift_a], b[i + shift_b]) << i;
  }
  const std::vector<double> c = gold_bids(2025, 60);
  EXPECT_NE(std::vector<double>(a.begin() + 10, a.begin() + 40),
            std::vector<double>(c.begin() + 10, c.begin() + 40));
}

TEST(CapitalSimStream, SwitchingAccountDropsTheStream) {
  Server s;
  HttpClient client(s.sim);
  ASSERT_EQ(client.login().status, 200);
  WsClient ws(s.sim);
  ws.send(envelope("marketData.subscribe", "1", client.cst, client.security_token,
                   R"({"epics":["GOLD"]})"));
  ASSERT_TRUE(ws.read_until("quote"));
  ASSERT_EQ(client.put("/api/v1/session", R"({"accountId":"12345678907654321"})").status, 200);
  for (int i = 0; i < 100 && ws.read(1s); ++i) {
  }
  EXPECT_TRUE(ws.closed());
}

// ----- faults -----------------------------------------------------------------------------------

TEST(CapitalSimFaults, DroppedOrderResponseStillExecutesTheOrderExactlyOnce) {
  SimOptions o = test_options();
  o.faults.drop_order_response_rate = 1;
  Server s(o);
  HttpClient client(s.sim);
  ASSERT_EQ(client.login().status, 200);
  const Reply r = client.post("/api/v1/positions", market_order("GOLD", "BUY", 1));
  EXPECT_TRUE(r.no_response);
  EXPECT_EQ(r.status, 0);
  // Reconciling over a new connection shows the position the order made.
  const Json positions = client.get("/api/v1/positions").json();
  ASSERT_EQ(positions.size("/positions"), 1u);
  const SimStats stats = s.sim.stats();
  EXPECT_EQ(stats.orders("GOLD"), 1);
  EXPECT_EQ(stats.deals("GOLD"), 1);
  EXPECT_EQ(stats.requests("POST /api/v1/positions"), 1);
  EXPECT_EQ(stats.dropped_responses, 1);
}

TEST(CapitalSimFaults, ErrorRateOneAnswersEveryRequestWith500) {
  SimOptions o = test_options();
  o.faults.error_rate = 1;
  Server s(o);
  HttpClient client(s.sim);
  Reply r = client.login();
  EXPECT_EQ(r.status, 500);
  EXPECT_FALSE(r.error_code().empty());
  r = client.get("/api/v1/time");
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(r.error_code(), "error.internal.server");
  EXPECT_EQ(s.sim.stats().injected_errors, 2);
  EXPECT_EQ(s.sim.stats().logins, 0);
}

TEST(CapitalSimFaults, Rate429OneAnswersEveryRequestWith429) {
  SimOptions o = test_options();
  o.faults.rate_429 = 1;
  Server s(o);
  HttpClient client(s.sim);
  const Reply r = client.get("/api/v1/time");
  EXPECT_EQ(r.status, 429);
  EXPECT_EQ(r.error_code(), "error.too-many.requests");
}

TEST(CapitalSimFaults, FixedLatencyDelaysEveryAnswer) {
  SimOptions o = test_options();
  o.faults.latency = *LatencyDistribution::parse("fixed:150");
  Server s(o);
  HttpClient client(s.sim);
  const Reply r = client.get("/api/v1/time");
  EXPECT_EQ(r.status, 200);
  EXPECT_GE(r.elapsed, 150ms);
}

TEST(CapitalSimFaults, StalledRequestsAreNeverAnswered) {
  SimOptions o = test_options();
  o.faults.stall_rate = 1;
  Server s(o);
  HttpClient client(s.sim);
  client.timeout = 300ms;
  const Reply r = client.get("/api/v1/time");
  EXPECT_TRUE(r.no_response);
  EXPECT_EQ(s.sim.stats().stalled, 1);
}

TEST(CapitalSimFaults, WebSocketsAreDroppedEveryInterval) {
  SimOptions o = test_options();
  o.faults.ws_drop_every_seconds = 0.3;
  Server s(o);
  HttpClient client(s.sim);
  ASSERT_EQ(client.login().status, 200);
  WsClient ws(s.sim);
  ws.send(envelope("marketData.subscribe", "1", client.cst, client.security_token,
                   R"({"epics":["GOLD"]})"));
  ASSERT_TRUE(ws.read_until("quote"));
  for (int i = 0; i < 100 && ws.read(1s); ++i) {
  }
  EXPECT_TRUE(ws.closed());
  EXPECT_GE(s.sim.stats().ws_drops, 1);
}

// ----- TLS --------------------------------------------------------------------------------------

TEST(CapitalSimTls, GeneratedCertificateIsTrustedAsCaForRestAndStream) {
  SimOptions o = test_options();
  o.tls = SimOptions::TlsMode::kGenerated;
  Server s(o);
  EXPECT_EQ(s.sim.rest_url(), fmt::format("https://127.0.0.1:{}", s.sim.port()));
  EXPECT_EQ(s.sim.stream_url(), fmt::format("wss://127.0.0.1:{}/connect", s.sim.port()));
  TlsHttpClient client(s.sim);
  const Reply login = client.login();
  ASSERT_EQ(login.status, 200) << login.body;
  EXPECT_EQ(login.json().str("/streamingHost"), fmt::format("wss://127.0.0.1:{}/", s.sim.port()));
  EXPECT_EQ(client.get("/api/v1/ping").status, 200);
  EXPECT_EQ(client.get("/api/v1/markets/GOLD").status, 200);  // same kept-alive connection
  TlsWsClient ws(s.sim);
  ws.send(envelope("marketData.subscribe", "1", client.cst, client.security_token,
                   R"({"epics":["GOLD"]})"));
  const std::optional<Json> quote = ws.read_until("quote");
  ASSERT_TRUE(quote);
  EXPECT_EQ(quote->str("/payload/epic"), "GOLD");
}

TEST(CapitalSimTls, CertificateAndKeyFromFiles) {
  const PemCertificate pem = generate_self_signed_certificate();
  const std::string dir = ::testing::TempDir();
  ASSERT_TRUE(write_text_file(dir + "/sim_cert.pem", pem.cert_pem));
  ASSERT_TRUE(write_text_file(dir + "/sim_key.pem", pem.key_pem));
  SimOptions o = test_options();
  o.tls = SimOptions::TlsMode::kFiles;
  o.cert_file = dir + "/sim_cert.pem";
  o.key_file = dir + "/sim_key.pem";
  Server s(o);
  EXPECT_EQ(s.sim.certificate_pem(), pem.cert_pem);
  TlsHttpClient client(s.sim);
  EXPECT_EQ(client.get("/api/v1/time").status, 200);
}

}  // namespace
}  // namespace qt::sim
