// The simulator's pieces without the network: catalogue, opening hours, price walk,
// option parsing, certificate generation, and broker rules driven through BrokerRequest.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <chrono>
#include <set>

#include "absl/strings/str_split.h"
#include "sim/broker.hpp"
#include "sim/crypto.hpp"
#include "sim/market_catalogue.hpp"
#include "sim/price_walk.hpp"
#include "tests/sim/sim_test_client.hpp"

namespace qt::sim {
namespace {

using testing::Json;

std::chrono::system_clock::time_point utc(int year, int month, int day, int hour, int minute) {
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  return std::chrono::system_clock::from_time_t(timegm(&tm));
}

TEST(SimCatalogue, TwentyPopularMarketsWithSaneRules) {
  const std::vector<MarketSpec>& markets = default_catalogue();
  EXPECT_EQ(markets.size(), 20u);
  std::set<std::string> epics;
  for (const MarketSpec& m : markets) {
    epics.insert(m.epic);
    EXPECT_GT(m.initial_mid, 0) << m.epic;
    EXPECT_GT(m.spread, 0) << m.epic;
    EXPECT_LT(m.spread / m.initial_mid, 0.01) << m.epic;
    EXPECT_LE(m.min_deal_size, m.max_deal_size) << m.epic;
    EXPECT_GT(m.min_size_increment, 0) << m.epic;
  }
  for (const char* epic :
       {"GOLD",   "SILVER", "OIL_CRUDE", "NATURALGAS", "EURUSD", "GBPUSD", "USDJPY",
        "AUDUSD", "USDCHF", "US500",     "US100",      "US30",   "DE40",   "UK100",
        "BTCUSD", "ETHUSD", "AAPL",      "TSLA",       "NVDA",   "AMZN"}) {
    EXPECT_EQ(epics.count(epic), 1u) << epic;
  }
}

TEST(SimCatalogue, OpeningHoursFollowTheWeeklySchedule) {
  const auto& markets = default_catalogue();
  auto find = [&](const std::string& epic) {
    for (const MarketSpec& m : markets) {
      if (m.epic == epic) return m;
    }
    return MarketSpec{};
  };
  const MarketSpec gold = find("GOLD");
  // 2025-11-26 is a Wednesday.
  EXPECT_TRUE(gold.hours.is_open(utc(2025, 11, 26, 12, 0)));
  EXPECT_FALSE(gold.hours.is_open(utc(2025, 11, 26, 22, 30)));  // daily break
  EXPECT_TRUE(gold.hours.is_open(utc(2025, 11, 26, 23, 30)));
  EXPECT_FALSE(gold.hours.is_open(utc(2025, 11, 29, 12, 0)));  // Saturday
  EXPECT_TRUE(gold.hours.is_open(utc(2025, 11, 30, 23, 10)));  // Sunday evening
  const MarketSpec aapl = find("AAPL");
  EXPECT_FALSE(aapl.hours.is_open(utc(2025, 11, 26, 12, 0)));
  EXPECT_TRUE(aapl.hours.is_open(utc(2025, 11, 26, 15, 0)));
  const MarketSpec btc = find("BTCUSD");
  EXPECT_TRUE(btc.hours.is_open(utc(2025, 11, 29, 3, 0)));  // crypto trades at weekends
}

TEST(SimPriceWalk, SameSeedSameStepsDifferentSeedDifferentSteps) {
  const MarketSpec& gold = default_catalogue()[0];
  PriceWalk a(gold, 7, 10, 1), b(gold, 7, 10, 1), c(gold, 8, 10, 1);
  bool differs = false;
  for (int i = 0; i < 500; ++i) {
    const SimQuote qa = a.step(i);
    const SimQuote qb = b.step(i);
    const SimQuote qc = c.step(i);
    ASSERT_EQ(qa.bid, qb.bid);
    ASSERT_EQ(qa.ask, qb.ask);
    ASSERT_EQ(qa.ask - qa.bid, 30);  // GOLD: spread 0.30 at 2 decimals
    differs |= qa.bid != qc.bid;
  }
  EXPECT_TRUE(differs);
}

TEST(SimPriceWalk, HistoryBarsAreConsistentAndEndAtTheCurrentPrice) {
  const MarketSpec& silver = default_catalogue()[1];
  const int64_t now = 1'764'000'000'000;
  const auto bars = price_history(silver, 1, Resolution::kMinute, now, 50.0, 10);
  ASSERT_EQ(bars.size(), 10u);
  EXPECT_EQ(bars.back().start_ms, bar_start_ms(Resolution::kMinute, now));
  for (std::size_t i = 0; i < bars.size(); ++i) {
    EXPECT_GE(bars[i].high_bid, std::max(bars[i].open_bid, bars[i].close_bid));
    EXPECT_LE(bars[i].low_bid, std::min(bars[i].open_bid, bars[i].close_bid));
    if (i > 0) {
      EXPECT_EQ(bars[i].start_ms - bars[i - 1].start_ms, 60'000);
    }
  }
  EXPECT_NEAR(static_cast<double>(bars.back().close_bid) / 1000, 50.0 - 0.01, 0.0011);
  EXPECT_EQ(price_history(silver, 1, Resolution::kMinute, now, 50.0, 10)[3].open_bid,
            bars[3].open_bid);
}

TEST(SimOptionsParse, LatencyDistributions) {
  EXPECT_EQ(LatencyDistribution::parse("25")->kind, LatencyDistribution::Kind::kFixed);
  EXPECT_EQ(LatencyDistribution::parse("fixed:25")->a_ms, 25);
  const auto u = LatencyDistribution::parse("uniform:5:50");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->kind, LatencyDistribution::Kind::kUniform);
  EXPECT_EQ(u->b_ms, 50);
  EXPECT_EQ(LatencyDistribution::parse("lognormal:20:0.5")->kind,
            LatencyDistribution::Kind::kLognormal);
  EXPECT_FALSE(LatencyDistribution::parse("uniform:50:5"));
  EXPECT_FALSE(LatencyDistribution::parse("gauss:1:2"));
  EXPECT_FALSE(LatencyDistribution::parse("abc"));
}

TEST(SimCrypto, SelfSignedCertificateIsPem) {
  const PemCertificate pem = generate_self_signed_certificate();
  EXPECT_NE(pem.cert_pem.find("-----BEGIN CERTIFICATE-----"), std::string::npos);
  EXPECT_NE(pem.key_pem.find("-----BEGIN PRIVATE KEY-----"), std::string::npos);
}

// Broker rules without the network.
class SimBrokerTest : public ::testing::Test {
 protected:
  BrokerResponse call(const std::string& method, const std::string& path,
                      const std::string& body = "") {
    BrokerRequest r;
    r.method = method;
    r.path = path.substr(0, path.find('?'));
    if (path.find('?') != std::string::npos) {
      for (const absl::string_view pair : absl::StrSplit(path.substr(path.find('?') + 1), '&')) {
        const std::pair<std::string, std::string> name_value =
            absl::StrSplit(pair, absl::MaxSplits('=', 1));
        r.query[name_value.first] = name_value.second;
      }
    }
    r.body = body;
    r.api_key = broker->options().credentials.api_key;
    if (!cst.empty()) {
      r.cst = cst;
      r.security_token = token;
    }
    return broker->handle(r);
  }
  void make(SimOptions o, std::vector<MarketSpec> markets = default_catalogue()) {
    o.limits.enabled = false;
    broker = std::make_unique<SimulatedBroker>(o, std::move(markets));
    const BrokerResponse login = call(
        "POST", "/api/v1/session", R"({"identifier":"sim@example.com","password":"sim-password"})");
    ASSERT_EQ(login.status, 200) << login.body;
    cst = login.cst;
    token = login.security_token;
  }
  std::unique_ptr<SimulatedBroker> broker;
  std::string cst, token;
};

TEST_F(SimBrokerTest, OrdersOutsideOpeningHoursAreRejectedMarketClosed) {
  std::vector<MarketSpec> markets = default_catalogue();
  for (MarketSpec& m : markets) m.hours = OpeningHours{};  // never open
  SimOptions o;
  o.always_open = false;
  make(o, markets);
  const BrokerResponse r =
      call("POST", "/api/v1/positions", R"({"epic":"GOLD","direction":"BUY","size":1})");
  ASSERT_EQ(r.status, 200);
  const std::string ref = Json(r.body).str("/dealReference");
  const Json confirm(call("GET", "/api/v1/confirms/" + ref).body);
  EXPECT_EQ(confirm.str("/dealStatus"), "REJECTED");
  EXPECT_EQ(confirm.str("/reason"), "MARKET_CLOSED");
  EXPECT_EQ(Json(call("GET", "/api/v1/markets/GOLD").body).str("/snapshot/marketStatus"), "CLOSED");
  EXPECT_TRUE(broker->tick().empty());  // closed markets do not move
}

TEST_F(SimBrokerTest, AlwaysOpenIgnoresTheHours) {
  std::vector<MarketSpec> markets = default_catalogue();
  for (MarketSpec& m : markets) m.hours = OpeningHours{};
  SimOptions o;
  o.always_open = true;
  make(o, markets);
  const BrokerResponse r =
      call("POST", "/api/v1/positions", R"({"epic":"GOLD","direction":"BUY","size":1})");
  const Json confirm(call("GET", "/api/v1/confirms/" + Json(r.body).str("/dealReference")).body);
  EXPECT_EQ(confirm.str("/dealStatus"), "ACCEPTED");
  EXPECT_EQ(broker->tick().size(), 20u);
}

TEST_F(SimBrokerTest, HedgingModeOpensOppositePositionsInsteadOfNetting) {
  SimOptions o;
  o.always_open = true;
  make(o);
  ASSERT_EQ(call("PUT", "/api/v1/accounts/preferences", R"({"hedgingMode":true})").status, 200);
  call("POST", "/api/v1/positions", R"({"epic":"US500","direction":"BUY","size":1})");
  call("POST", "/api/v1/positions", R"({"epic":"US500","direction":"SELL","size":1})");
  EXPECT_EQ(broker->positions().size(), 2u);
}

TEST_F(SimBrokerTest, TakeProfitClosesThePositionWhenReached) {
  SimOptions o;
  o.always_open = true;
  make(o);
  const double ask = broker->quote("GOLD")->second;
  const std::string body =
      fmt::format(R"({{"epic":"GOLD","direction":"BUY","size":1,"profitLevel":{}}})", ask + 20);
  ASSERT_EQ(call("POST", "/api/v1/positions", body).status, 200);
  ASSERT_EQ(broker->positions().size(), 1u);
  broker->set_mid_price("GOLD", ask + 30);
  EXPECT_TRUE(broker->positions().empty());
  const Json activity(call("GET", "/api/v1/history/activity?detailed=true").body);
  EXPECT_GE(activity.size("/activities"), 2u);
  EXPECT_EQ(activity.str("/activities/0/source"), "TP");
}

TEST_F(SimBrokerTest, InsufficientFundsIsRejected) {
  SimOptions o;
  o.always_open = true;
  o.initial_balance = 100;
  make(o);
  const BrokerResponse r =
      call("POST", "/api/v1/positions", R"({"epic":"GOLD","direction":"BUY","size":10})");
  const Json confirm(call("GET", "/api/v1/confirms/" + Json(r.body).str("/dealReference")).body);
  EXPECT_EQ(confirm.str("/dealStatus"), "REJECTED");
  EXPECT_EQ(confirm.str("/reason"), "INSUFFICIENT_FUNDS");
}

// The confirm of an amendment or deletion (`change`) of one existing deal.
void expect_change_confirm(const Json& confirm, const std::string& change,
                           const std::string& deal_id) {
  EXPECT_EQ(confirm.str("/status"), change);
  EXPECT_EQ(confirm.str("/dealStatus"), "ACCEPTED");
  EXPECT_EQ(confirm.str("/dealId"), deal_id);
  ASSERT_EQ(confirm.size("/affectedDeals"), 1u);
  EXPECT_EQ(confirm.str("/affectedDeals/0/dealId"), deal_id);
  EXPECT_EQ(confirm.str("/affectedDeals/0/status"), change);
}

// Amending a position confirms the position as it now stands, under its own "p_" reference.
TEST_F(SimBrokerTest, AmendedPositionIsConfirmedWithTheNewStopAndLimit) {
  SimOptions o;
  o.always_open = true;
  make(o);
  broker->set_mid_price("GOLD", 4000.00);  // bid 3999.85, ask 4000.15
  call("POST", "/api/v1/positions", R"({"epic":"GOLD","direction":"BUY","size":1})");
  ASSERT_EQ(broker->positions().size(), 1u);
  const std::string deal_id = broker->positions()[0].deal_id;

  const BrokerResponse r =
      call("PUT", "/api/v1/positions/" + deal_id, R"({"stopLevel":3950,"profitLevel":4100})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_FALSE(r.order_executed);
  EXPECT_EQ(Json(r.body).str("/dealReference"), "p_" + deal_id);
  const Json confirm(call("GET", "/api/v1/confirms/p_" + deal_id).body);
  expect_change_confirm(confirm, "AMENDED", deal_id);
  EXPECT_EQ(confirm.num("/level"), 4000.15);
  EXPECT_EQ(confirm.num("/size"), 1);
  EXPECT_EQ(confirm.str("/direction"), "BUY");
  EXPECT_EQ(confirm.num("/stopLevel"), 3950);
  EXPECT_EQ(confirm.num("/profitLevel"), 4100);
  const Json activity(call("GET", "/api/v1/history/activity").body);
  EXPECT_EQ(activity.str("/activities/0/type"), "EDIT_STOP_AND_LIMIT");
  EXPECT_EQ(activity.str("/activities/0/status"), "ACCEPTED");
}

// Amending and deleting a working order confirm the order as it then stands, each under a new
// "o_" reference, and record MODIFIED and CANCELLED.
TEST_F(SimBrokerTest, AmendedAndDeletedWorkingOrdersAreConfirmedAsTheyStand) {
  SimOptions o;
  o.always_open = true;
  make(o);
  call("POST", "/api/v1/workingorders",
       R"({"epic":"GOLD","direction":"SELL","size":2,"level":4100,"type":"LIMIT"})");
  ASSERT_EQ(broker->working_orders().size(), 1u);
  const std::string deal_id = broker->working_orders()[0].deal_id;

  const BrokerResponse amended = call("PUT", "/api/v1/workingorders/" + deal_id,
                                      R"({"level":4110,"trailingStop":true,"stopDistance":40})");
  ASSERT_EQ(amended.status, 200) << amended.body;
  EXPECT_FALSE(amended.order_executed);
  const std::string amend_ref = Json(amended.body).str("/dealReference");
  EXPECT_EQ(amend_ref.substr(0, 2), "o_");
  const Json amend(call("GET", "/api/v1/confirms/" + amend_ref).body);
  expect_change_confirm(amend, "AMENDED", deal_id);
  EXPECT_EQ(amend.num("/level"), 4110);
  EXPECT_EQ(amend.num("/size"), 2);
  EXPECT_EQ(amend.str("/direction"), "SELL");
  EXPECT_TRUE(amend.boolean("/trailingStop"));
  EXPECT_FALSE(amend.has("/stopLevel"));  // a working order keeps distances, not levels

  const BrokerResponse deleted = call("DELETE", "/api/v1/workingorders/" + deal_id);
  ASSERT_EQ(deleted.status, 200) << deleted.body;
  const std::string delete_ref = Json(deleted.body).str("/dealReference");
  EXPECT_NE(delete_ref, amend_ref);
  const Json del(call("GET", "/api/v1/confirms/" + delete_ref).body);
  expect_change_confirm(del, "DELETED", deal_id);
  EXPECT_EQ(del.num("/level"), 4110);
  EXPECT_TRUE(del.boolean("/trailingStop"));
  EXPECT_TRUE(broker->working_orders().empty());

  const Json activity(call("GET", "/api/v1/history/activity").body);
  EXPECT_EQ(activity.str("/activities/0/status"), "CANCELLED");
  EXPECT_EQ(activity.str("/activities/1/status"), "MODIFIED");
  EXPECT_EQ(activity.str("/activities/2/status"), "CREATED");
}

}  // namespace
}  // namespace qt::sim
