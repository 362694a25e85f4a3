// CapitalStreamClient against a scripted streaming server (stream_test_server.hpp) over real
// TLS with a CA made at test time: what goes on the wire (batched subscriptions with the
// session tokens, pings), what lands on the QuoteRing (exact fixed point), and how the client
// lives through drops, silence, refused tokens and refused certificates.
#include "feeds/capital/stream_client.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <set>
#include <thread>

#include "engine/clock.hpp"
#include "tests/capital_stream/stream_test_server.hpp"

namespace qt::capital {
namespace {

using namespace std::chrono_literals;
using testing::quote_frame;
using testing::ReceivedEnvelope;
using testing::StreamServerOptions;
using testing::StreamTestServer;
using testing::TestPki;
using testing::wait_until;

constexpr InstrumentId kGold = 1;
constexpr InstrumentId kEurUsd = 2;

EpicInstrument instrument(const std::string& epic, InstrumentId id, int price_decimals,
                          int size_decimals) {
  return {epic, make_instrument(id, epic, price_decimals, size_decimals, 0, 0, 0, 0)};
}

// GOLD: prices to 2 decimals, sizes to 2. EURUSD: prices to 5 decimals, whole units.
std::vector<EpicInstrument> gold_and_eurusd() {
  return {instrument("GOLD", kGold, 2, 2), instrument("EURUSD", kEurUsd, 5, 0)};
}

// Session tokens as the REST session hands them out; the test changes them at will.
class TokenSource {
 public:
  void set(std::string cst, std::string token, uint64_t epoch) {
    std::lock_guard lock(mutex_);
    tokens_ = StreamTokens{Secret(std::move(cst)), Secret(std::move(token)), epoch};
  }
  std::optional<StreamTokens> get() const {
    std::lock_guard lock(mutex_);
    return tokens_;
  }

 private:
  mutable std::mutex mutex_;
  std::optional<StreamTokens> tokens_ = StreamTokens{Secret("cst-1"), Secret("token-1"), 1};
};

class StreamClientTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    pki_ = new TestPki(TestPki::create({"DNS:localhost", "IP:127.0.0.1"}));
  }
  static void TearDownTestSuite() {
    delete pki_;
    pki_ = nullptr;
  }

  StreamConfig config_for(const StreamTestServer& server) {
    StreamConfig config;
    config.url = server.url();
    config.tls = *TlsContext::create(/*verify=*/true, pki_->ca_file);
    config.ping_interval = 1min;
    config.stale_after = 5s;
    config.reconnect_min_delay = 20ms;
    config.reconnect_max_delay = 200ms;
    config.connect_timeout = 2s;
    config.subscribe_timeout = 2s;
    config.backoff_seed = 7;
    return config;
  }

  StreamCallbacks callbacks() {
    StreamCallbacks cb;
    cb.tokens = [this] { return tokens_.get(); };
    cb.on_reconnected = [this] { reconnected_.fetch_add(1); };
    cb.on_session_invalid = [this](uint64_t epoch) {
      {
        std::lock_guard lock(refused_mutex_);
        refused_epochs_.push_back(epoch);
      }
      if (on_session_invalid_) on_session_invalid_(epoch);
    };
    return cb;
  }

  std::unique_ptr<CapitalStreamClient> start_client(StreamConfig config,
                                                    std::vector<EpicInstrument> epics) {
    absl::StatusOr<std::unique_ptr<CapitalStreamClient>> client = CapitalStreamClient::create(
        std::move(config), std::move(epics), *ring_, callbacks(), &doorbell_);
    EXPECT_TRUE(client.ok()) << client.status();
    if (!client.ok()) return nullptr;
    (*client)->start();
    return *std::move(client);
  }

  // Pops until `count` quotes have been taken (or 5 s pass).
  std::vector<Quote> take(std::size_t count) {
    std::vector<Quote> out;
    wait_until([&] {
      Quote q;
      while (ring_->try_pop(q)) out.push_back(q);
      return out.size() >= count;
    });
    return out;
  }

  static std::set<std::string> epics_of(const std::vector<ReceivedEnvelope>& envelopes) {
    std::set<std::string> out;
    for (const ReceivedEnvelope& e : envelopes)
      out.insert(e.request.epics.begin(), e.request.epics.end());
    return out;
  }

  static TestPki* pki_;
  std::unique_ptr<QuoteRing> ring_ = std::make_unique<QuoteRing>();
  Doorbell doorbell_;
  TokenSource tokens_;
  std::atomic<int> reconnected_{0};
  std::vector<uint64_t> refused_epochs() {
    std::lock_guard lock(refused_mutex_);
    return refused_epochs_;
  }

  std::mutex refused_mutex_;
  std::vector<uint64_t> refused_epochs_;
  std::function<void(uint64_t)> on_session_invalid_;  // set before start()
};

TestPki* StreamClientTest::pki_ = nullptr;

TEST_F(StreamClientTest, SubscribesNinetyFiveEpicsInBatchesOfFortyFortyAndFifteen) {
  StreamTestServer server({}, pki_);
  std::vector<EpicInstrument> epics;
  for (int i = 0; i < 95; ++i) {
    epics.push_back(instrument(fmt::format("EPIC{:02}", i), static_cast<InstrumentId>(i), 2, 2));
  }
  auto client = start_client(config_for(server), epics);

  ASSERT_TRUE(wait_until(
      [&] { return server.envelopes(WsDestination::kMarketDataSubscribe).size() == 3; }));
  const auto subscribes = server.envelopes(WsDestination::kMarketDataSubscribe);
  EXPECT_EQ(subscribes[0].request.epics.size(), 40u);
  EXPECT_EQ(subscribes[1].request.epics.size(), 40u);
  EXPECT_EQ(subscribes[2].request.epics.size(), 15u);
  EXPECT_EQ(epics_of(subscribes).size(), 95u);
  EXPECT_EQ(subscribes[0].request.epics.front(), "EPIC00");
  EXPECT_EQ(subscribes[2].request.epics.back(), "EPIC94");
  for (std::size_t i = 0; i < subscribes.size(); ++i) {
    EXPECT_EQ(subscribes[i].request.cst, "cst-1");
    EXPECT_EQ(subscribes[i].request.security_token, "token-1");
    EXPECT_EQ(subscribes[i].request.correlation_id, std::to_string(i + 1));
  }
  EXPECT_TRUE(client->connected());
  EXPECT_FALSE(client->ready()) << "no quote yet";
  EXPECT_EQ(client->stats().subscribe_failures, 0u);
}

TEST_F(StreamClientTest, QuotesArriveOnTheRingInExactFixedPoint) {
  StreamTestServer server({}, pki_);
  auto client = start_client(config_for(server), gold_and_eurusd());
  ASSERT_TRUE(wait_until(
      [&] { return server.envelopes(WsDestination::kMarketDataSubscribe).size() == 1; }));

  const int64_t before = now_ns();
  // GOLD 2300.1 / 2300.4 at 2 decimals → 230010 / 230040; sizes 100.0 and 250.5 → 10000, 25050.
  server.push(quote_frame("GOLD", "2300.1", "2300.4", 1714557600123, "100.0", "250.5"));
  // EURUSD 1.08543 / 1.08551 at 5 decimals → 108543 / 108551; size 1000000.0 → 1000000.
  server.push(quote_frame("EURUSD", "1.08543", "1.08551", 1714557600124, "1000000.0", "1000000.0"));
  const std::vector<Quote> quotes = take(2);
  ASSERT_EQ(quotes.size(), 2u);

  EXPECT_EQ(quotes[0].instrument, kGold);
  EXPECT_EQ(quotes[0].bid, 230010);
  EXPECT_EQ(quotes[0].ask, 230040);
  EXPECT_EQ(quotes[0].bid_size, 10000);
  EXPECT_EQ(quotes[0].ask_size, 25050);
  EXPECT_EQ(quotes[0].venue_epoch_ms, 1714557600123);
  EXPECT_EQ(quotes[0].sequence, 1u);
  EXPECT_GE(quotes[0].received_ns, before);

  EXPECT_EQ(quotes[1].instrument, kEurUsd);
  EXPECT_EQ(quotes[1].bid, 108543);
  EXPECT_EQ(quotes[1].ask, 108551);
  EXPECT_EQ(quotes[1].bid_size, 1000000);
  EXPECT_EQ(quotes[1].ask_size, 1000000);
  EXPECT_EQ(quotes[1].venue_epoch_ms, 1714557600124);
  EXPECT_EQ(quotes[1].sequence, 2u);
  EXPECT_GE(quotes[1].received_ns, quotes[0].received_ns);

  EXPECT_TRUE(client->ready());
  const StreamStats stats = client->stats();
  EXPECT_EQ(stats.quotes, 2u);
  EXPECT_EQ(stats.drops, 0u);
  EXPECT_EQ(stats.last_quote_ns, quotes[1].received_ns);
}

TEST_F(StreamClientTest, PlainWebSocketWorksForLocalTests) {
  StreamTestServer server({}, nullptr);
  StreamConfig config = config_for(server);
  config.tls = nullptr;
  auto client = start_client(config, gold_and_eurusd());
  ASSERT_TRUE(wait_until(
      [&] { return server.envelopes(WsDestination::kMarketDataSubscribe).size() == 1; }));
  server.push(quote_frame("GOLD", "2300.10", "2300.40", 1));
  const std::vector<Quote> quotes = take(1);
  ASSERT_EQ(quotes.size(), 1u);
  EXPECT_EQ(quotes[0].bid, 230010);
  EXPECT_EQ(client->endpoint().to_string(), server.url());
}

TEST_F(StreamClientTest, ReconnectsResubscribesAndAsksForASnapshotAfterTheServerDrops) {
  StreamTestServer server({}, pki_);
  auto client = start_client(config_for(server), gold_and_eurusd());
  ASSERT_TRUE(wait_until(
      [&] { return server.envelopes(WsDestination::kMarketDataSubscribe).size() == 1; }));
  server.push(quote_frame("GOLD", "2300.1", "2300.4", 1));
  ASSERT_EQ(take(1).size(), 1u);
  EXPECT_EQ(reconnected_.load(), 0) << "the first connection is not a reconnection";

  server.drop_connections();
  ASSERT_TRUE(wait_until([&] { return reconnected_.load() == 1; }));
  EXPECT_EQ(server.upgrades(), 2);
  std::vector<ReceivedEnvelope> second;
  for (const ReceivedEnvelope& e : server.envelopes(WsDestination::kMarketDataSubscribe)) {
    if (e.connection == 2) second.push_back(e);
  }
  EXPECT_EQ(epics_of(second), (std::set<std::string>{"GOLD", "EURUSD"}));

  server.push(quote_frame("GOLD", "2301.5", "2301.8", 2));
  const std::vector<Quote> after = take(1);
  ASSERT_EQ(after.size(), 1u);
  EXPECT_EQ(after[0].bid, 230150);
  EXPECT_EQ(after[0].sequence, 2u) << "one sequence across connections";
  EXPECT_TRUE(client->ready());
  const StreamStats stats = client->stats();
  EXPECT_EQ(stats.connects, 2u);
  EXPECT_EQ(stats.reconnects, 1u);
  EXPECT_EQ(stats.disconnects, 1u);
}

TEST_F(StreamClientTest, KeepsReconnectingWithBackoffWhileTheServerIsAway) {
  // A port nobody listens on: every attempt fails at TCP connect.
  uint16_t dead_port = 0;
  {
    StreamTestServer gone({}, pki_);
    dead_port = gone.port();
  }
  StreamTestServer reference({}, pki_);
  StreamConfig config = config_for(reference);
  config.url = fmt::format("wss://localhost:{}/connect", dead_port);
  auto client = start_client(config, gold_and_eurusd());
  // 20, 40, 80, 160, 200, 200 ms ceilings (jitter takes half to all of each): 5+ attempts in 1 s.
  ASSERT_TRUE(wait_until([&] { return client->stats().connect_failures >= 5; }, 3s));
  EXPECT_FALSE(client->connected());
  EXPECT_FALSE(client->ready());
  EXPECT_EQ(client->stats().connects, 0u);
}

TEST_F(StreamClientTest, SilenceMakesTheFeedStaleAndQuotesMakeItReadyAgain) {
  StreamTestServer server({}, pki_);
  StreamConfig config = config_for(server);
  config.stale_after = 150ms;
  auto client = start_client(config, gold_and_eurusd());
  ASSERT_TRUE(wait_until(
      [&] { return server.envelopes(WsDestination::kMarketDataSubscribe).size() == 1; }));
  server.push(quote_frame("GOLD", "2300.1", "2300.4", 1));
  ASSERT_EQ(take(1).size(), 1u);
  EXPECT_TRUE(client->ready());
  const uint64_t stale_before = client->stats().stale_events;

  const auto silent_from = std::chrono::steady_clock::now();
  ASSERT_TRUE(wait_until([&] { return !client->ready(); }));
  EXPECT_GE(std::chrono::steady_clock::now() - silent_from, 140ms);
  EXPECT_EQ(client->stats().stale_events, stale_before + 1);
  EXPECT_TRUE(client->connected()) << "stale is not disconnected";

  server.push(quote_frame("GOLD", "2300.2", "2300.5", 2));
  ASSERT_EQ(take(1).size(), 1u);
  EXPECT_TRUE(wait_until([&] { return client->ready(); }));
  EXPECT_EQ(client->stats().stale_events, stale_before + 1) << "counted once per silence";
}

TEST_F(StreamClientTest, PerEpicSilenceIsCountedWithoutTouchingReadiness) {
  StreamTestServer server({}, pki_);
  StreamConfig config = config_for(server);
  config.stale_after = 5s;
  config.epic_stale_after = 100ms;
  auto client = start_client(config, gold_and_eurusd());
  ASSERT_TRUE(wait_until(
      [&] { return server.envelopes(WsDestination::kMarketDataSubscribe).size() == 1; }));
  // GOLD keeps quoting every 10 ms; EURUSD says nothing until asked to.
  std::atomic<bool> quoting{true};
  std::thread gold([&] {
    for (int i = 0; quoting.load(); ++i) {
      server.push(quote_frame("GOLD", "2300.1", "2300.4", i));
      std::this_thread::sleep_for(10ms);
    }
  });
  EXPECT_TRUE(wait_until([&] { return client->stats().stale_epics == 1; }));
  EXPECT_TRUE(client->ready());
  EXPECT_EQ(client->stats().epic_stale_events, 1u);
  server.push(quote_frame("EURUSD", "1.08543", "1.08551", 99));
  EXPECT_TRUE(wait_until([&] { return client->stats().stale_epics == 0; }));
  quoting = false;
  gold.join();
}

TEST_F(StreamClientTest, PingsAtTheConfiguredInterval) {
  StreamTestServer server({}, pki_);
  StreamConfig config = config_for(server);
  config.ping_interval = 100ms;
  auto client = start_client(config, gold_and_eurusd());
  ASSERT_TRUE(wait_until([&] { return server.envelopes(WsDestination::kPing).size() >= 4; }));
  const std::vector<ReceivedEnvelope> pings = server.envelopes(WsDestination::kPing);
  for (std::size_t i = 0; i < pings.size(); ++i) {
    EXPECT_EQ(pings[i].request.cst, "cst-1");
    EXPECT_EQ(pings[i].request.security_token, "token-1");
    if (i > 0) {
      EXPECT_GE(pings[i].at - pings[i - 1].at, 90ms) << "ping " << i;
    }
  }
  EXPECT_TRUE(wait_until([&] { return client->stats().pings_answered >= 4; }));
  EXPECT_EQ(client->stats().disconnects, 0u);
}

TEST_F(StreamClientTest, RefusedSessionTokenAsksForANewLoginAndReconnectsWithTheNewTokens) {
  StreamTestServer server({}, pki_);
  server.accept_tokens("cst-2", "token-2");  // the venue has moved on: cst-1 is expired
  on_session_invalid_ = [this](uint64_t) { tokens_.set("cst-2", "token-2", 2); };  // re-login
  auto client = start_client(config_for(server), gold_and_eurusd());

  ASSERT_TRUE(wait_until([&] {
    for (const ReceivedEnvelope& e : server.envelopes(WsDestination::kMarketDataSubscribe)) {
      if (e.request.cst == "cst-2") return true;
    }
    return false;
  }));
  EXPECT_EQ(refused_epochs(), std::vector<uint64_t>{1}) << "refresh asked for the refused login";
  server.push(quote_frame("GOLD", "2300.1", "2300.4", 1));
  ASSERT_EQ(take(1).size(), 1u);
  const StreamStats stats = client->stats();
  EXPECT_EQ(stats.session_refreshes, 1u);
  EXPECT_GE(stats.error_replies, 1u);
  EXPECT_GE(server.upgrades(), 2);
}

TEST_F(StreamClientTest, RefusedEpicIsCountedAndTheOthersStream) {
  StreamServerOptions options;
  options.epic_status["EURUSD"] = "ERROR";
  StreamTestServer server(options, pki_);
  auto client = start_client(config_for(server), gold_and_eurusd());
  ASSERT_TRUE(wait_until([&] { return client->stats().subscribe_failures == 1; }));
  server.push(quote_frame("GOLD", "2300.1", "2300.4", 1));
  EXPECT_EQ(take(1).size(), 1u);
  EXPECT_EQ(client->stats().disconnects, 0u);
}

TEST_F(StreamClientTest, FullRingDropsQuotesAndCountsThem) {
  StreamTestServer server({}, pki_);
  auto client = start_client(config_for(server), gold_and_eurusd());
  ASSERT_TRUE(wait_until(
      [&] { return server.envelopes(WsDestination::kMarketDataSubscribe).size() == 1; }));
  // Nobody pops: 4096 fit, the last 5 do not.
  const std::size_t pushed = QuoteRing::kCapacity + 5;
  for (std::size_t i = 0; i < pushed; ++i) {
    server.push(quote_frame("GOLD", "2300.1", "2300.4", static_cast<int64_t>(i)));
  }
  ASSERT_TRUE(wait_until([&] {
    const StreamStats s = client->stats();
    return s.quotes + s.drops == pushed;
  }));
  EXPECT_EQ(client->stats().quotes, QuoteRing::kCapacity);
  EXPECT_EQ(client->stats().drops, 5u);
}

TEST_F(StreamClientTest, BadFramesAreCountedAndTheStreamCarriesOn) {
  StreamTestServer server({}, pki_);
  StreamConfig config = config_for(server);
  config.max_frame_bytes = 1024;
  auto client = start_client(config, gold_and_eurusd());
  ASSERT_TRUE(wait_until(
      [&] { return server.envelopes(WsDestination::kMarketDataSubscribe).size() == 1; }));
  server.push("{\"status\":\"OK\",\"destination\":\"quote\",\"payload\":{\"epic\":");  // truncated
  server.push(quote_frame("SILVER", "28.1", "28.2", 1));                               // not ours
  server.push(std::string(4000, ' ') + quote_frame("GOLD", "1", "2", 1));              // too long
  server.push(quote_frame("GOLD", "2300.1", "2300.4", 2));
  const std::vector<Quote> quotes = take(1);
  ASSERT_EQ(quotes.size(), 1u);
  EXPECT_EQ(quotes[0].venue_epoch_ms, 2);
  const StreamStats stats = client->stats();
  EXPECT_EQ(stats.parse_errors, 2u);
  EXPECT_EQ(stats.unknown_epics, 1u);
  EXPECT_EQ(stats.disconnects, 0u);
}

TEST_F(StreamClientTest, RefusesACertificateIssuedForAnotherHost) {
  const TestPki other = TestPki::create({"DNS:other.example"});
  StreamTestServer server({}, &other);
  StreamConfig config = config_for(server);
  config.tls = *TlsContext::create(true, other.ca_file);  // trusted CA, wrong name
  auto client = start_client(config, gold_and_eurusd());
  ASSERT_TRUE(wait_until([&] { return client->stats().connect_failures >= 2; }));
  EXPECT_EQ(server.upgrades(), 0);
  EXPECT_FALSE(client->connected());
}

TEST_F(StreamClientTest, InsecureModeSkipsVerificationWhenExplicitlyChosen) {
  const TestPki other = TestPki::create({"DNS:other.example"});
  StreamTestServer server({}, &other);
  StreamConfig config = config_for(server);
  config.tls = *TlsContext::create(/*verify=*/false, "");
  auto client = start_client(config, gold_and_eurusd());
  EXPECT_TRUE(wait_until([&] { return client->connected(); }));
}

TEST_F(StreamClientTest, StopsPromptlyWhileConnectedAndWhileWaitingToReconnect) {
  {
    StreamTestServer server({}, pki_);
    auto client = start_client(config_for(server), gold_and_eurusd());
    ASSERT_TRUE(wait_until([&] { return client->connected(); }));
    const auto t0 = std::chrono::steady_clock::now();
    client->stop();
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 1500ms);
    EXPECT_FALSE(client->connected());
    EXPECT_TRUE(wait_until([&] { return server.open_connections() == 0; }));
  }
  {
    StreamTestServer server({}, pki_);
    StreamConfig config = config_for(server);
    config.url = "wss://localhost:1/connect";
    config.reconnect_min_delay = 10s;
    config.reconnect_max_delay = 10s;
    auto client = start_client(config, gold_and_eurusd());
    ASSERT_TRUE(wait_until([&] { return client->stats().connect_failures >= 1; }));
    const auto t0 = std::chrono::steady_clock::now();
    client.reset();  // the destructor stops
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 500ms);
  }
}

TEST_F(StreamClientTest, CreateRefusesUnusableSettings) {
  StreamCallbacks cb;
  cb.tokens = [] { return std::optional<StreamTokens>(); };
  auto make = [&](StreamConfig c) {
    return CapitalStreamClient::create(std::move(c), gold_and_eurusd(), *ring_, cb).status();
  };
  StreamConfig http;
  http.url = "https://api-streaming-capital.backend-capital.com/connect";
  EXPECT_EQ(make(http).code(), absl::StatusCode::kInvalidArgument);
  StreamConfig batch;
  batch.max_epics_per_subscribe = 41;
  EXPECT_EQ(make(batch).code(), absl::StatusCode::kInvalidArgument);
  StreamConfig ping;
  ping.ping_interval = 10min;
  EXPECT_EQ(make(ping).code(), absl::StatusCode::kInvalidArgument);
  StreamConfig fine;
  EXPECT_TRUE(make(fine).ok());
  EXPECT_EQ(CapitalStreamClient::create(fine, gold_and_eurusd(), *ring_, StreamCallbacks{})
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument)
      << "no token provider";
}

TEST(StreamEndpoint, ParsesTheVenueUrlAndLocalOnes) {
  const auto venue = parse_stream_url("wss://api-streaming-capital.backend-capital.com/connect");
  ASSERT_TRUE(venue.ok()) << venue.status();
  EXPECT_TRUE(venue->tls);
  EXPECT_EQ(venue->host, "api-streaming-capital.backend-capital.com");
  EXPECT_EQ(venue->port, 443);
  EXPECT_EQ(venue->target, "/connect");
  EXPECT_EQ(venue->host_header(), "api-streaming-capital.backend-capital.com");

  const auto login_answer = parse_stream_url("wss://api-streaming-capital.backend-capital.com/");
  ASSERT_TRUE(login_answer.ok());
  EXPECT_EQ(login_answer->target, "/");

  const auto local = parse_stream_url("ws://127.0.0.1:8080");
  ASSERT_TRUE(local.ok());
  EXPECT_FALSE(local->tls);
  EXPECT_EQ(local->port, 8080);
  EXPECT_EQ(local->target, "/");
  EXPECT_EQ(local->host_header(), "127.0.0.1:8080");

  const auto v6 = parse_stream_url("wss://[::1]:9443/connect");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->host_header(), "[::1]:9443");

  EXPECT_FALSE(parse_stream_url("https://example.com/connect").ok());
  EXPECT_FALSE(parse_stream_url("wss://user:pw@example.com/").ok());
  EXPECT_FALSE(parse_stream_url("wss://example.com:99999/").ok());
  EXPECT_FALSE(parse_stream_url("not a url").ok());
}

TEST(ReconnectBackoff, DoublesFromTheMinimumToTheCapWithJitterInTheUpperHalf) {
  ReconnectBackoff backoff(100ms, 30s, 42);
  // Ceilings: 100, 200, 400, ..., 25 600 ms, then 30 s for good.
  const std::vector<std::chrono::milliseconds> ceilings = {
      100ms, 200ms, 400ms, 800ms, 1600ms, 3200ms, 6400ms, 12800ms, 25600ms, 30s, 30s, 30s};
  for (std::size_t attempt = 0; attempt < ceilings.size(); ++attempt) {
    const auto delay = backoff.next();
    EXPECT_GE(delay, ceilings[attempt] / 2) << "attempt " << attempt;
    EXPECT_LE(delay, ceilings[attempt]) << "attempt " << attempt;
  }
  backoff.reset();
  EXPECT_LE(backoff.next(), 100ms);
}

}  // namespace
}  // namespace qt::capital
