// The stream client against the Capital.com simulator (sim/capital_simulator.hpp), wired the
// way the application wires it: tokens from the REST session (CapitalRestClient), the TLS
// trust decision from the same CapitalClientConfig, a refused token answered by a re-login.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "engine/clock.hpp"
#include "feeds/capital/stream_client.hpp"
#include "gateway/capital/rest_client.hpp"
#include "sim/capital_simulator.hpp"
#include "tests/capital_stream/stream_test_server.hpp"

namespace qt::capital {
namespace {

using namespace std::chrono_literals;
using testing::wait_until;

CapitalClientConfig config_for(const sim::CapitalSimulator& simulator) {
  const sim::SimCredentials credentials;
  CapitalClientConfig config;
  config.demo_url = simulator.rest_url();
  config.stream_url = simulator.stream_url();
  config.ca_pem = simulator.certificate_pem();
  config.api_key = Secret(credentials.api_key);
  config.identifier = Secret(credentials.identifier);
  config.password = Secret(credentials.password);
  config.api_timeout = 2000ms;
  config.rate_limits.max_wait = 5000ms;
  return config;
}

TEST(CapitalStreamOnSimulator, StreamsGoldWithRestSessionTokensAndSurvivesAnExpiredSession) {
  sim::SimOptions options = sim::SimOptions::embedded();
  options.quotes_per_second = 20;
  sim::CapitalSimulator simulator(options);
  simulator.start();

  const CapitalClientConfig config = config_for(simulator);
  absl::StatusOr<std::unique_ptr<CapitalRestClient>> rest = CapitalRestClient::create(config);
  ASSERT_TRUE(rest.ok()) << rest.status();
  ASSERT_TRUE((*rest)->login().ok());
  absl::StatusOr<InstrumentSpec> gold = (*rest)->instrument_spec("GOLD", 3);
  ASSERT_TRUE(gold.ok()) << gold.status();

  absl::StatusOr<StreamConfig> stream_config = stream_config_from(config);
  ASSERT_TRUE(stream_config.ok()) << stream_config.status();
  stream_config->reconnect_min_delay = 20ms;
  stream_config->reconnect_max_delay = 500ms;
  stream_config->stale_after = 5s;

  CapitalSession& session = (*rest)->session();
  std::atomic<int> reconnected{0};
  StreamCallbacks callbacks;
  callbacks.tokens = [&session]() -> std::optional<StreamTokens> {
    const CapitalSession::Credentials credentials = session.credentials();
    if (!credentials.valid()) return std::nullopt;
    return StreamTokens{credentials.tokens->cst, credentials.tokens->security_token,
                        credentials.epoch};
  };
  callbacks.on_session_invalid = [&session](uint64_t epoch) { (void)session.relogin(epoch); };
  callbacks.on_reconnected = [&reconnected] { reconnected.fetch_add(1); };

  auto ring = std::make_unique<QuoteRing>();
  absl::StatusOr<std::unique_ptr<CapitalStreamClient>> stream =
      CapitalStreamClient::create(*stream_config, {{"GOLD", *gold}}, *ring, callbacks);
  ASSERT_TRUE(stream.ok()) << stream.status();
  (*stream)->start();

  auto take = [&](std::size_t count) {
    std::vector<Quote> out;
    wait_until(
        [&] {
          Quote q;
          while (ring->try_pop(q)) out.push_back(q);
          return out.size() >= count;
        },
        10s);
    return out;
  };

  const std::vector<Quote> quotes = take(3);
  ASSERT_GE(quotes.size(), 3u);
  const int64_t wall_ms = wall_epoch_ms();
  for (const Quote& q : quotes) {
    EXPECT_EQ(q.instrument, 3);
    EXPECT_GT(q.bid, 0);
    EXPECT_GE(q.ask, q.bid);
    EXPECT_NEAR(static_cast<double>(q.venue_epoch_ms), static_cast<double>(wall_ms), 60'000.0);
  }
  EXPECT_TRUE((*stream)->ready());

  // The venue forgets every session: the stream is closed, the old tokens are refused, the
  // REST session logs in again and the stream comes back with the new tokens.
  const uint64_t logins_before = session.logins();
  simulator.expire_sessions();
  ASSERT_TRUE(wait_until([&] { return reconnected.load() >= 1; }, 10s));
  EXPECT_GT(session.logins(), logins_before);
  EXPECT_GE((*stream)->stats().session_refreshes, 1u);
  take(0);  // discard what came before
  EXPECT_GE(take(2).size(), 2u);

  // A dropped WebSocket: reconnect, resubscribe, quotes again.
  const int reconnects_before = reconnected.load();
  simulator.drop_websockets();
  ASSERT_TRUE(wait_until([&] { return reconnected.load() > reconnects_before; }, 10s));
  EXPECT_GE(take(2).size(), 2u);
  EXPECT_EQ((*stream)->stats().drops, 0u);

  (*stream)->stop();
  simulator.stop();
}

}  // namespace
}  // namespace qt::capital
