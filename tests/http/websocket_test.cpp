// WebSocket routes over real sockets: frames pushed from another thread arrive in order,
// client messages reach the session, keys are checked at the upgrade, and a client that does
// not read is closed as a slow consumer — with its reason on the wire, and counted.
#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket.hpp>
#include <cstdio>
#include <mutex>
#include <thread>

#include "gateway/http/server.hpp"
#include "tests/http/http_test_client.hpp"

namespace qt::http {
namespace {

using namespace std::chrono_literals;
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

constexpr const char* kReadKey = "qt_ws-read-key-for-the-websocket-test-000000";

// The sessions the server opened and what they were told, as the integrator would keep them.
struct Sessions {
  std::mutex mutex;
  std::vector<WebSocketSession> open;
  std::vector<std::string> messages;
  std::vector<std::string> close_reasons;

  WebSocketSession wait_for_one() {
    const auto deadline = Clock::now() + 5s;
    while (Clock::now() < deadline) {
      {
        std::lock_guard lock(mutex);
        if (!open.empty()) return open.front();
      }
      std::this_thread::sleep_for(5ms);
    }
    return {};
  }
  std::vector<std::string> reasons() {
    std::lock_guard lock(mutex);
    return close_reasons;
  }
};

std::unique_ptr<HttpServer> start_server(Sessions& sessions, WebSocketOptions ws = {},
                                         Role role = Role::kPublic) {
  Router router;
  EXPECT_TRUE(
      router
          .add_websocket("/api/stream", RouteOptions().with_role(role),
                         [&sessions](const Request& request, const WebSocketSession& session) {
                           EXPECT_EQ(request.path(), "/api/stream");
                           std::lock_guard lock(sessions.mutex);
                           sessions.open.push_back(session);
                           WebSocketCallbacks callbacks;
                           callbacks.on_message = [&sessions](const WebSocketSession& s,
                                                              std::string_view message) {
                             std::lock_guard lock(sessions.mutex);
                             sessions.messages.emplace_back(message);
                             s.send("echo:" + std::string(message));
                           };
                           callbacks.on_closed = [&sessions](const WebSocketSession&,
                                                             std::string_view reason) {
                             std::lock_guard lock(sessions.mutex);
                             sessions.close_reasons.emplace_back(reason);
                           };
                           return callbacks;
                         })
          .ok());
  HttpServerOptions options;
  options.listen = "127.0.0.1:0";
  options.websocket = ws;
  options.shutdown_grace = 1000ms;
  absl::StatusOr<ApiKeys> keys = ApiKeys::create({{"reader", Role::kRead, sha256_hex(kReadKey)}});
  options.api_keys = std::make_shared<const ApiKeys>(*std::move(keys));
  auto server = std::make_unique<HttpServer>(std::move(options), std::move(router));
  EXPECT_TRUE(server->start().ok());
  return server;
}

// A blocking Beast WebSocket client.
struct TestWebSocket {
  asio::io_context io;
  websocket::stream<tcp::socket> ws{io};

  beast::error_code connect(uint16_t port, std::string authorization = {},
                            std::size_t receive_buffer = 0) {
    beast::error_code ec;
    if (receive_buffer != 0) {
      ws.next_layer().open(tcp::v4(), ec);
      // A small receive window makes "the client does not read" bite after little data.
      ws.next_layer().set_option(
          asio::socket_base::receive_buffer_size(static_cast<int>(receive_buffer)), ec);
    }
    ws.next_layer().connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), ec);
    if (ec) return ec;
    ws.set_option(websocket::stream_base::decorator([authorization](websocket::request_type& req) {
      if (!authorization.empty()) req.set(beast::http::field::authorization, authorization);
    }));
    websocket::response_type response;
    ws.handshake(response, "127.0.0.1", "/api/stream", ec);
    status = response.result_int();
    return ec;
  }

  std::string read(beast::error_code& ec) {
    beast::flat_buffer buffer;
    ws.read(buffer, ec);
    return beast::buffers_to_string(buffer.data());
  }

  int status = 0;
};

TEST(WebSocket, FramesPushedFromAnotherThreadArriveInOrder) {
  Sessions sessions;
  auto server = start_server(sessions);
  TestWebSocket client;
  ASSERT_FALSE(client.connect(server->port()));
  const WebSocketSession session = sessions.wait_for_one();
  ASSERT_TRUE(session);
  EXPECT_TRUE(session.is_open());
  EXPECT_EQ(session.client_address(), "127.0.0.1");
  EXPECT_EQ(server->stats().websocket_sessions_open, 1u);

  std::thread pusher([session] {
    for (int i = 0; i < 500; ++i) ASSERT_TRUE(session.send("quote " + std::to_string(i)));
  });
  for (int i = 0; i < 500; ++i) {
    beast::error_code ec;
    ASSERT_EQ(client.read(ec), "quote " + std::to_string(i));
    ASSERT_FALSE(ec);
  }
  pusher.join();
}

TEST(WebSocket, ClientMessagesReachTheSession) {
  Sessions sessions;
  auto server = start_server(sessions);
  TestWebSocket client;
  ASSERT_FALSE(client.connect(server->port()));
  client.ws.write(asio::buffer(std::string(R"({"subscribe":["CS.D.EURUSD.CFD.IP"]})")));
  beast::error_code ec;
  EXPECT_EQ(client.read(ec), R"(echo:{"subscribe":["CS.D.EURUSD.CFD.IP"]})");
  std::lock_guard lock(sessions.mutex);
  EXPECT_EQ(sessions.messages.size(), 1u);
}

TEST(WebSocket, TheClientClosingEndsTheSessionOnce) {
  Sessions sessions;
  auto server = start_server(sessions);
  TestWebSocket client;
  ASSERT_FALSE(client.connect(server->port()));
  const WebSocketSession session = sessions.wait_for_one();
  client.ws.close(websocket::close_code::normal);
  const auto deadline = Clock::now() + 5s;
  while (sessions.reasons().empty() && Clock::now() < deadline) std::this_thread::sleep_for(5ms);
  EXPECT_EQ(sessions.reasons(), std::vector<std::string>{"client closed"});
  EXPECT_FALSE(session.is_open());
  EXPECT_FALSE(session.send("after the close"));
  EXPECT_EQ(server->stats().websocket_sessions_open, 0u);
  EXPECT_EQ(server->stats().connections_open, 0u);
}

TEST(WebSocket, ASlowConsumerIsClosedWithAReasonAndCounted) {
  Sessions sessions;
  WebSocketOptions ws;
  ws.max_queued_frames = 8;
  ws.close_timeout = 5000ms;  // long enough for the client below to drain and see the close
  auto server = start_server(sessions, ws);
  TestWebSocket client;
  ASSERT_FALSE(client.connect(server->port(), {}, 4096));
  const WebSocketSession session = sessions.wait_for_one();
  ASSERT_TRUE(session);

  // The client reads nothing: once the socket buffers are full, frames wait in the queue,
  // and the 9th waiting frame is refused and closes the session.
  const std::string frame(64 * 1024, 'q');
  int accepted = 0;
  const auto deadline = Clock::now() + 10s;
  std::size_t most_queued = 0;
  while (session.send(frame) && Clock::now() < deadline) {
    ++accepted;
    most_queued = std::max(most_queued, session.queued_frames());
    std::this_thread::sleep_for(1ms);
  }
  EXPECT_FALSE(session.send(frame));
  EXPECT_EQ(most_queued, 8u);  // the bound, reached and never passed
  EXPECT_GT(accepted, 8);      // the socket buffers took some before the queue filled
  std::printf("slow consumer: %d frames of 64 KiB accepted before the close\n", accepted);
  const auto closed_by = Clock::now() + 5s;
  while (server->stats().websocket_slow_consumer_closes == 0 && Clock::now() < closed_by) {
    std::this_thread::sleep_for(5ms);
  }
  EXPECT_EQ(server->stats().websocket_slow_consumer_closes, 1u);
  EXPECT_FALSE(session.is_open());

  // Now the client reads: the frames already in flight, then the close with its reason.
  int received = 0;
  beast::error_code ec;
  while (!ec) {
    const std::string text = client.read(ec);
    if (!ec) {
      EXPECT_EQ(text.size(), frame.size());
      ++received;
    }
  }
  EXPECT_EQ(ec, websocket::error::closed) << ec.message();
  EXPECT_EQ(client.ws.reason().code, websocket::close_code::policy_error);
  EXPECT_EQ(client.ws.reason().reason, "slow consumer");
  EXPECT_LE(received, accepted);
  const auto reported = Clock::now() + 5s;
  while (sessions.reasons().empty() && Clock::now() < reported) std::this_thread::sleep_for(5ms);
  EXPECT_EQ(sessions.reasons(), std::vector<std::string>{"slow consumer"});
}

TEST(WebSocket, AClientThatNeverReadsIsCutAfterTheCloseTimeout) {
  Sessions sessions;
  WebSocketOptions ws;
  ws.max_queued_frames = 4;
  ws.close_timeout = 300ms;
  auto server = start_server(sessions, ws);
  TestWebSocket client;
  ASSERT_FALSE(client.connect(server->port(), {}, 4096));
  const WebSocketSession session = sessions.wait_for_one();
  const std::string frame(64 * 1024, 'q');
  const auto deadline = Clock::now() + 10s;
  while (session.send(frame) && Clock::now() < deadline) std::this_thread::sleep_for(1ms);
  // The close frame cannot be written past the stuck frames: the socket is cut instead.
  const auto cut_by = Clock::now() + 5s;
  while (server->stats().connections_open != 0 && Clock::now() < cut_by) {
    std::this_thread::sleep_for(5ms);
  }
  EXPECT_EQ(server->stats().connections_open, 0u);
  EXPECT_EQ(server->stats().websocket_slow_consumer_closes, 1u);
  EXPECT_EQ(sessions.reasons(), std::vector<std::string>{"slow consumer"});
}

TEST(WebSocket, APlainGetOnAWebSocketRouteIs426) {
  Sessions sessions;
  auto server = start_server(sessions);
  testing::TestClient client(server->port());
  ASSERT_TRUE(client.send(testing::get_request("/api/stream")));
  const std::optional<testing::TestResponse> response = client.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 426);
  EXPECT_EQ(response->header("upgrade"), "websocket");
}

TEST(WebSocket, TheUpgradeNeedsAKeyWhenTheRouteDoes) {
  Sessions sessions;
  auto server = start_server(sessions, {}, Role::kRead);
  TestWebSocket anonymous;
  EXPECT_TRUE(anonymous.connect(server->port()));
  EXPECT_EQ(anonymous.status, 401);
  TestWebSocket keyed;
  ASSERT_FALSE(keyed.connect(server->port(), std::string("Bearer ") + kReadKey));
  const WebSocketSession session = sessions.wait_for_one();
  ASSERT_TRUE(session);
  ASSERT_NE(session.principal(), nullptr);
  EXPECT_EQ(session.principal()->name, "reader");
}

TEST(WebSocket, StoppingTheServerClosesSessionsAsGoingAway) {
  Sessions sessions;
  auto server = start_server(sessions);
  TestWebSocket client;
  ASSERT_FALSE(client.connect(server->port()));
  const WebSocketSession session = sessions.wait_for_one();
  std::thread reader([&client] {
    beast::error_code ec;
    while (!ec) client.read(ec);
  });
  server->stop();
  reader.join();
  EXPECT_EQ(client.ws.reason().code, websocket::close_code::going_away);
  EXPECT_EQ(client.ws.reason().reason, "server stopping");
  EXPECT_EQ(sessions.reasons(), std::vector<std::string>{"server stopping"});
  EXPECT_FALSE(session.send("late"));  // the handle outlives the server harmlessly
}

}  // namespace
}  // namespace qt::http
