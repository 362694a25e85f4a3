// The transport against a real local HTTPS server (tests/capital_client/test_server.hpp) with a
// certificate authority made at test time: TLS verification, keep-alive pooling, and what is —
// and is never — sent again.
#include "gateway/capital/rest_transport.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <thread>

#include "tests/capital_client/log_capture.hpp"
#include "tests/capital_client/test_pki.hpp"
#include "tests/capital_client/test_server.hpp"

namespace qt::capital {
namespace {

using std::chrono::milliseconds;
using testing::LogCapture;
using testing::ServerReply;
using testing::ServerRequest;
using testing::TestPki;
using testing::TestServer;

const TestPki& pki() {
  static const TestPki instance = TestPki::create({"DNS:localhost", "IP:127.0.0.1"});
  return instance;
}

const TestPki& localhost_only_pki() {
  static const TestPki instance = TestPki::create({"DNS:localhost"});
  return instance;
}

CapitalClientConfig config_for(const std::string& url, const std::string& ca_file) {
  CapitalClientConfig config;
  config.demo_url = url;
  config.ca_file = ca_file;
  config.api_timeout = milliseconds(2000);
  config.max_retries = 3;
  config.connection_pool_size = 1;
  config.retry_base_delay = milliseconds(10);
  config.retry_max_delay = milliseconds(50);
  config.rate_limits.backoff_after_429 = milliseconds(300);
  return config;
}

std::unique_ptr<RestTransport> make_transport(const CapitalClientConfig& config) {
  absl::StatusOr<std::unique_ptr<RestTransport>> transport = RestTransport::create(config);
  EXPECT_TRUE(transport.ok()) << transport.status();
  return transport.ok() ? *std::move(transport) : nullptr;
}

// String literals only: an HttpRequest views its strings.
HttpRequest get(std::string_view target) {
  return HttpRequest{HttpMethod::kGet, target};
}
HttpRequest post(std::string_view target, std::string_view body) {
  return HttpRequest{HttpMethod::kPost, target, body};
}

ServerReply ok(std::string body = R"({"status":"OK"})") {
  ServerReply reply;
  reply.body = std::move(body);
  return reply;
}

// A port on which nothing listens.
uint16_t closed_port() {
  boost::asio::io_context ioc;
  boost::asio::ip::tcp::acceptor acceptor(ioc, {boost::asio::ip::make_address("127.0.0.1"), 0});
  return acceptor.local_endpoint().port();
}

TEST(RestTransport, VerifiedTlsToTheTestCaSucceeds) {
  TestServer server([](const ServerRequest&) { return ok(); }, &pki());
  auto transport = make_transport(config_for(server.url(), pki().ca_file));
  ASSERT_NE(transport, nullptr);
  const SendResult sent = transport->send(get("/ping"), RequestClass::kGeneral);
  EXPECT_EQ(sent.result.outcome, RequestOutcome::kAnswered) << sent.result.detail;
  EXPECT_EQ(sent.result.response.status, 200);
  EXPECT_EQ(sent.result.response.body, R"({"status":"OK"})");
  ASSERT_EQ(server.requests_seen(), 1);
  const ServerRequest seen = server.requests()[0];
  EXPECT_EQ(seen.target, "/api/v1/ping");
  EXPECT_EQ(seen.header("host"), "localhost:" + std::to_string(server.port()));
  EXPECT_EQ(seen.header("accept"), "application/json");
}

TEST(RestTransport, AnUntrustedCertificateFailsClearlyAndIsNotRetried) {
  TestServer server([](const ServerRequest&) { return ok(); }, &pki());
  auto transport = make_transport(config_for(server.url(), /*ca_file=*/""));  // system store
  ASSERT_NE(transport, nullptr);
  const SendResult sent = transport->send(get("/ping"), RequestClass::kGeneral);
  EXPECT_EQ(sent.result.outcome, RequestOutcome::kNotSent);
  EXPECT_EQ(sent.result.error, TransportError::kCertificate);
  EXPECT_NE(sent.result.detail.find("the certificate of localhost:" +
                                    std::to_string(server.port()) + " failed verification"),
            std::string::npos)
      << sent.result.detail;
  EXPECT_NE(sent.result.detail.find("local issuer"), std::string::npos) << sent.result.detail;
  EXPECT_EQ(sent.attempts, 1);
  EXPECT_EQ(server.requests_seen(), 0);
}

TEST(RestTransport, ACertificateForAnotherNameFailsVerification) {
  TestServer server([](const ServerRequest&) { return ok(); }, &localhost_only_pki());
  auto transport =
      make_transport(config_for(server.url("127.0.0.1"), localhost_only_pki().ca_file));
  ASSERT_NE(transport, nullptr);
  const SendResult sent = transport->send(get("/ping"), RequestClass::kGeneral);
  EXPECT_EQ(sent.result.error, TransportError::kCertificate) << sent.result.detail;
  EXPECT_NE(sent.result.detail.find("IP address mismatch"), std::string::npos)
      << sent.result.detail;
  EXPECT_EQ(server.requests_seen(), 0);
}

TEST(RestTransport, InsecureModeConnectsButLogsALoudWarning) {
  TestServer server([](const ServerRequest&) { return ok(); }, &pki());
  CapitalClientConfig config = config_for(server.url(), "");
  config.tls_verify = false;
  LogCapture log;
  auto transport = make_transport(config);
  ASSERT_NE(transport, nullptr);
  EXPECT_NE(log.text().find("[warning] !!! INSECURE: TLS certificate verification is DISABLED"),
            std::string::npos)
      << log.text();
  const SendResult sent = transport->send(get("/ping"), RequestClass::kGeneral);
  EXPECT_EQ(sent.result.response.status, 200) << sent.result.detail;
}

TEST(RestTransport, PlainHttpWorksForLocalTestsWithAWarning) {
  TestServer server([](const ServerRequest&) { return ok(); }, nullptr);
  LogCapture log;
  auto transport = make_transport(config_for(server.url(), ""));
  ASSERT_NE(transport, nullptr);
  EXPECT_NE(log.text().find("!!! INSECURE: plain http://"), std::string::npos) << log.text();
  EXPECT_EQ(transport->send(get("/ping"), RequestClass::kGeneral).result.response.status, 200);
}

TEST(RestTransport, SequentialRequestsReuseOneKeepAliveConnection) {
  TestServer server([](const ServerRequest&) { return ok(); }, &pki());
  auto transport = make_transport(config_for(server.url(), pki().ca_file));
  ASSERT_NE(transport, nullptr);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(transport->send(get("/ping"), RequestClass::kGeneral).result.response.status, 200);
  }
  EXPECT_EQ(server.requests_seen(), 5);
  EXPECT_EQ(server.connections_accepted(), 1);
}

TEST(RestTransport, ConcurrentWorkersShareAtMostPoolSizeConnections) {
  TestServer server(
      [](const ServerRequest&) {
        ServerReply reply = ok();
        reply.delay = milliseconds(20);
        return reply;
      },
      &pki());
  CapitalClientConfig config = config_for(server.url(), pki().ca_file);
  config.connection_pool_size = 2;
  config.rate_limits.requests_per_second = 1000;
  auto transport = make_transport(config);
  ASSERT_NE(transport, nullptr);
  std::atomic<int> answered{0};
  std::vector<std::thread> workers;
  for (int w = 0; w < 4; ++w) {
    workers.emplace_back([&] {
      for (int i = 0; i < 5; ++i) {
        if (transport->send(get("/ping"), RequestClass::kGeneral).result.response.status == 200) {
          ++answered;
        }
      }
    });
  }
  for (std::thread& t : workers) t.join();
  EXPECT_EQ(answered.load(), 20);
  EXPECT_EQ(server.connections_accepted(), 2);
}

TEST(RestTransport, AConnectionTheServerClosedIsReplacedTransparently) {
  std::atomic<int> count{0};
  TestServer server(
      [&](const ServerRequest&) {
        ServerReply reply = ok();
        reply.close_after = ++count == 1;  // keep-alive advertised, then closed
        return reply;
      },
      &pki());
  auto transport = make_transport(config_for(server.url(), pki().ca_file));
  ASSERT_NE(transport, nullptr);
  EXPECT_EQ(transport->send(get("/ping"), RequestClass::kGeneral).result.response.status, 200);
  std::this_thread::sleep_for(milliseconds(100));  // the close reaches the client
  const SendResult second = transport->send(post("/positions", "{}"), RequestClass::kOrder);
  EXPECT_EQ(second.result.response.status, 200) << second.result.detail;
  EXPECT_EQ(second.attempts, 1);
  EXPECT_EQ(server.connections_accepted(), 2);
  EXPECT_EQ(transport->pool().stale_dropped(), 1u);
}

TEST(RestTransport, ATimedOutOrderIsOutcomeUnknownAndNeverSentAgain) {
  TestServer server(
      [](const ServerRequest&) {
        ServerReply reply = ok(R"({"dealReference":"o_1"})");
        reply.delay = milliseconds(1500);
        return reply;
      },
      &pki());
  CapitalClientConfig config = config_for(server.url(), pki().ca_file);
  config.api_timeout = milliseconds(300);
  auto transport = make_transport(config);
  ASSERT_NE(transport, nullptr);
  const auto start = std::chrono::steady_clock::now();
  const SendResult sent = transport->send(
      post("/positions", R"({"epic":"GOLD","direction":"BUY","size":1})"), RequestClass::kOrder);
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(sent.result.outcome, RequestOutcome::kOutcomeUnknown);
  EXPECT_EQ(sent.result.error, TransportError::kTimeout);
  EXPECT_EQ(sent.attempts, 1);
  EXPECT_GE(elapsed, milliseconds(300));
  EXPECT_LT(elapsed, milliseconds(1200));
  std::this_thread::sleep_for(milliseconds(300));
  EXPECT_EQ(server.requests_seen(), 1) << "the order must reach the server exactly once";
}

// Shutdown with the broker not answering: stop() ends the order in flight at once — it was
// written, so its outcome is unknown — long before API_TIMEOUT, and refuses what comes after.
TEST(RestTransport, StopEndsAnExchangeInFlightAndRefusesLaterRequests) {
  TestServer server(
      [](const ServerRequest&) {
        ServerReply reply = ok(R"({"dealReference":"o_1"})");
        reply.delay = milliseconds(5000);
        return reply;
      },
      &pki());
  CapitalClientConfig config = config_for(server.url(), pki().ca_file);
  config.api_timeout = milliseconds(10000);
  auto transport = make_transport(config);
  ASSERT_NE(transport, nullptr);
  SendResult sent;
  std::thread worker([&] {
    sent = transport->send(post("/positions", R"({"epic":"GOLD","direction":"BUY","size":1})"),
                           RequestClass::kOrder);
  });
  while (server.requests_seen() == 0) std::this_thread::sleep_for(milliseconds(5));
  const auto stopped = std::chrono::steady_clock::now();
  transport->stop();
  worker.join();
  EXPECT_LT(std::chrono::steady_clock::now() - stopped, milliseconds(1000));
  EXPECT_EQ(sent.result.outcome, RequestOutcome::kOutcomeUnknown);
  EXPECT_EQ(sent.result.error, TransportError::kBroken);
  EXPECT_EQ(sent.attempts, 1);

  const SendResult later = transport->send(get("/ping"), RequestClass::kGeneral);
  EXPECT_EQ(later.result.outcome, RequestOutcome::kNotSent);
  EXPECT_EQ(later.result.error, TransportError::kStopped);
  EXPECT_EQ(later.attempts, 0);
  EXPECT_EQ(server.requests_seen(), 1);
}

TEST(RestTransport, ATimedOutGetIsRetried) {
  std::atomic<int> count{0};
  TestServer server(
      [&](const ServerRequest&) {
        ServerReply reply = ok();
        if (++count == 1) reply.delay = milliseconds(1500);
        return reply;
      },
      &pki());
  CapitalClientConfig config = config_for(server.url(), pki().ca_file);
  config.api_timeout = milliseconds(300);
  auto transport = make_transport(config);
  ASSERT_NE(transport, nullptr);
  const SendResult sent = transport->send(get("/positions"), RequestClass::kGeneral);
  EXPECT_EQ(sent.result.outcome, RequestOutcome::kAnswered) << sent.result.detail;
  EXPECT_EQ(sent.attempts, 2);
  EXPECT_EQ(server.requests_seen(), 2);
  EXPECT_EQ(transport->retries(), 1u);
}

TEST(RestTransport, AServerErrorOnAnOrderIsOutcomeUnknown) {
  TestServer server(
      [](const ServerRequest&) {
        ServerReply reply;
        reply.status = 503;
        reply.body = R"({"errorCode":"error.service.unavailable"})";
        return reply;
      },
      &pki());
  auto transport = make_transport(config_for(server.url(), pki().ca_file));
  ASSERT_NE(transport, nullptr);
  const SendResult sent = transport->send(post("/workingorders", "{}"), RequestClass::kOrder);
  EXPECT_EQ(sent.result.outcome, RequestOutcome::kOutcomeUnknown);
  EXPECT_EQ(sent.result.error, TransportError::kServerError);
  EXPECT_EQ(sent.result.response.status, 503);
  EXPECT_EQ(sent.attempts, 1);
  EXPECT_EQ(server.requests_seen(), 1);
}

TEST(RestTransport, AConnectionDroppedAfterAnOrderWasWrittenIsOutcomeUnknown) {
  TestServer server(
      [](const ServerRequest&) {
        ServerReply reply;
        reply.drop = true;
        return reply;
      },
      &pki());
  auto transport = make_transport(config_for(server.url(), pki().ca_file));
  ASSERT_NE(transport, nullptr);
  const SendResult sent = transport->send(post("/positions", "{}"), RequestClass::kOrder);
  EXPECT_EQ(sent.result.outcome, RequestOutcome::kOutcomeUnknown);
  EXPECT_EQ(sent.result.error, TransportError::kBroken);
  EXPECT_EQ(sent.attempts, 1);
  EXPECT_EQ(server.requests_seen(), 1);
}

TEST(RestTransport, ARefusedConnectionIsNotSentAndRetriedEvenForAnOrder) {
  CapitalClientConfig config =
      config_for("https://localhost:" + std::to_string(closed_port()), pki().ca_file);
  auto transport = make_transport(config);
  ASSERT_NE(transport, nullptr);
  const SendResult sent = transport->send(post("/positions", "{}"), RequestClass::kOrder);
  EXPECT_EQ(sent.result.outcome, RequestOutcome::kNotSent);
  EXPECT_EQ(sent.result.error, TransportError::kConnect);
  EXPECT_NE(sent.result.detail.find("cannot connect to localhost:"), std::string::npos)
      << sent.result.detail;
  EXPECT_EQ(sent.attempts, 4);  // the first attempt and MAX_RETRIES = 3
}

TEST(RestTransport, A429BacksOffThenTheGetIsRetried) {
  std::atomic<int> count{0};
  TestServer server(
      [&](const ServerRequest&) {
        if (++count == 1) {
          ServerReply reply;
          reply.status = 429;
          reply.body = R"({"errorCode":"error.too-many.requests"})";
          return reply;
        }
        return ok();
      },
      &pki());
  auto transport = make_transport(config_for(server.url(), pki().ca_file));
  ASSERT_NE(transport, nullptr);
  const SendResult sent = transport->send(get("/prices/GOLD"), RequestClass::kGeneral);
  EXPECT_EQ(sent.result.response.status, 200);
  EXPECT_EQ(sent.attempts, 2);
  const std::vector<ServerRequest> seen = server.requests();
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_GE(seen[1].received - seen[0].received, milliseconds(300)) << "the 429 backoff";
  EXPECT_EQ(transport->rate_limiter().server_429s(), 1u);
}

TEST(RestTransport, A429OnAnOrderIsReturnedAsTheBrokersRefusal) {
  TestServer server(
      [](const ServerRequest&) {
        ServerReply reply;
        reply.status = 429;
        reply.body = R"({"errorCode":"error.too-many.requests"})";
        return reply;
      },
      &pki());
  auto transport = make_transport(config_for(server.url(), pki().ca_file));
  ASSERT_NE(transport, nullptr);
  const SendResult sent = transport->send(post("/positions", "{}"), RequestClass::kOrder);
  EXPECT_EQ(sent.result.outcome, RequestOutcome::kAnswered);
  EXPECT_EQ(sent.result.response.status, 429);
  EXPECT_EQ(sent.attempts, 1);
  EXPECT_EQ(server.requests_seen(), 1);
}

TEST(RestTransport, TheClientSideLimitRefusesRatherThanEarningA429) {
  TestServer server([](const ServerRequest&) { return ok(); }, &pki());
  CapitalClientConfig config = config_for(server.url(), pki().ca_file);
  config.rate_limits.max_wait = milliseconds(20);
  auto transport = make_transport(config);
  ASSERT_NE(transport, nullptr);
  EXPECT_EQ(transport->send(post("/positions", "{}"), RequestClass::kOrder).result.response.status,
            200);
  const SendResult second = transport->send(post("/positions", "{}"), RequestClass::kOrder);
  EXPECT_EQ(second.result.outcome, RequestOutcome::kNotSent);
  EXPECT_EQ(second.result.error, TransportError::kRateLimited);
  EXPECT_NE(second.result.detail.find("order requests (1 per 100 ms)"), std::string::npos)
      << second.result.detail;
  EXPECT_EQ(second.attempts, 0);
  EXPECT_EQ(server.requests_seen(), 1);
}

}  // namespace
}  // namespace qt::capital
