// HttpServer over real sockets on 127.0.0.1 (ephemeral ports): routing, keep-alive and
// pipelining, answers from other threads, limits and timeouts, the connection cap, API keys,
// trusted proxies, the admission step, the observer and stop().
#include "gateway/http/server.hpp"

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <mutex>
#include <sstream>
#include <thread>

#include "tests/http/http_test_client.hpp"

namespace qt::http {
namespace {

using namespace std::chrono_literals;
using testing::get_request;
using testing::post_request;
using testing::TestClient;
using testing::TestResponse;
using Clock = std::chrono::steady_clock;

constexpr const char* kReadKey = "qt_R3ad-key-for-the-server-test-000000000000";
constexpr const char* kTradeKey = "qt_Tr4de-key-for-the-server-test-00000000000";
constexpr const char* kAdminKey = "qt_Adm1n-key-for-the-server-test-00000000000";

// Answers on a thread of its own after `delay` (the engine answering later).
void answer_later(Responder responder, std::chrono::milliseconds delay, Response response) {
  std::thread([responder = std::move(responder), delay, response = std::move(response)]() mutable {
    std::this_thread::sleep_for(delay);
    responder.send(std::move(response));
  }).detach();
}

Router test_router() {
  Router router;
  const auto ok = [](const absl::Status& status) { EXPECT_TRUE(status.ok()) << status; };
  ok(router.add(Method::kGet, "/health", {}, [](const Request&, Responder responder) {
    responder.send(Response::json(200, R"({"status":"ok"})"));
  }));
  ok(router.add(Method::kGet, "/echo/{id}", {}, [](const Request& request, Responder responder) {
    responder.send(Response::text(
        200, std::string(request.path_param("id")) + "|" +
                 request.query_param("status").value_or("-") + "|" +
                 std::string(request.client_address()) + "|" +
                 (request.principal() ? request.principal()->name : std::string("-"))));
  }));
  ok(router.add(Method::kGet, "/slow/{ms}", {}, [](const Request& request, Responder responder) {
    const int ms = std::stoi(std::string(request.path_param("ms")));
    answer_later(std::move(responder), std::chrono::milliseconds(ms),
                 Response::text(200, "slow " + std::to_string(ms)));
  }));
  ok(router.add(Method::kGet, "/forget", {}, [](const Request&, Responder) {}));
  ok(router.add(Method::kGet, "/throw", {},
                [](const Request&, Responder) { throw std::runtime_error("handler bug"); }));
  ok(router.add(Method::kGet, "/bad-status", {}, [](const Request&, Responder responder) {
    responder.send(Response::text(99, "no"));
  }));
  ok(router.add(Method::kGet, "/inject", {}, [](const Request&, Responder responder) {
    Response response = Response::text(200, "ok");
    response.headers = {{"X-Good", "yes"},
                        {"X-Bad", "a\r\nInjected: 1"},
                        {"Content-Length", "999"},
                        {"Bad Name", "x"}};
    responder.send(std::move(response));
  }));
  ok(router.add(Method::kPost, "/body", RouteOptions().with_json_body(),
                [](const Request& request, Responder responder) {
                  responder.send(Response::text(200, std::to_string(request.body().size())));
                }));
  ok(router.add(Method::kGet, "/auth/read", RouteOptions().with_role(Role::kRead),
                [](const Request& request, Responder responder) {
                  responder.send(Response::text(200, request.principal()->name));
                }));
  ok(router.add(Method::kPost, "/auth/trade", RouteOptions().with_role(Role::kTrade),
                [](const Request& request, Responder responder) {
                  responder.send(Response::text(200, request.principal()->name));
                }));
  ok(router.add(Method::kPost, "/auth/admin", RouteOptions().with_role(Role::kAdmin),
                [](const Request& request, Responder responder) {
                  responder.send(Response::text(200, request.principal()->name));
                }));
  return router;
}

std::shared_ptr<const ApiKeys> test_keys() {
  absl::StatusOr<ApiKeys> keys = ApiKeys::create({
      {"reader", Role::kRead, sha256_hex(kReadKey)},
      {"trader", Role::kTrade, sha256_hex(kTradeKey)},
      {"operator", Role::kAdmin, sha256_hex(kAdminKey)},
  });
  EXPECT_TRUE(keys.ok());
  return std::make_shared<const ApiKeys>(*std::move(keys));
}

HttpServerOptions test_options() {
  HttpServerOptions options;
  options.listen = "127.0.0.1:0";
  options.threads = 2;
  options.shutdown_grace = 2000ms;
  options.api_keys = test_keys();
  return options;
}

std::unique_ptr<HttpServer> start_server(HttpServerOptions options = test_options(),
                                         Router router = test_router()) {
  auto server = std::make_unique<HttpServer>(std::move(options), std::move(router));
  const absl::Status started = server->start();
  EXPECT_TRUE(started.ok()) << started;
  EXPECT_NE(server->port(), 0);
  return server;
}

TestResponse round_trip(uint16_t port, const std::string& request) {
  TestClient client(port);
  EXPECT_TRUE(client.connected());
  EXPECT_TRUE(client.send(request));
  std::optional<TestResponse> response = client.read_response();
  EXPECT_TRUE(response.has_value()) << request;
  return response.value_or(TestResponse{});
}

std::string bearer(const char* key) {
  return std::string("Authorization: Bearer ") + key + "\r\n";
}

template <class Predicate>
bool eventually(Predicate predicate, std::chrono::milliseconds timeout = 5000ms) {
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    if (predicate()) return true;
    std::this_thread::sleep_for(5ms);
  }
  return predicate();
}

// --- routing --------------------------------------------------------------------------------

TEST(HttpServer, RoutesWithPathParametersAndQuery) {
  auto server = start_server();
  const TestResponse response = round_trip(server->port(), get_request("/echo/ord-17?status=open"));
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, "ord-17|open|127.0.0.1|-");
  EXPECT_EQ(response.header("content-type"), "text/plain; charset=utf-8");
  EXPECT_EQ(response.header("server"), "quanttrading");
  EXPECT_TRUE(response.has_header("date"));
}

TEST(HttpServer, UnknownPathIs404AsJson) {
  auto server = start_server();
  const TestResponse response = round_trip(server->port(), get_request("/nowhere"));
  EXPECT_EQ(response.status, 404);
  EXPECT_EQ(response.header("content-type"), "application/json");
  EXPECT_EQ(response.body, R"({"error":"not_found","message":"no route for this path"})");
}

TEST(HttpServer, WrongMethodIs405WithAllow) {
  auto server = start_server();
  const TestResponse response = round_trip(server->port(), post_request("/health", "{}"));
  EXPECT_EQ(response.status, 405);
  EXPECT_EQ(response.header("allow"), "GET, HEAD");
  EXPECT_NE(response.body.find(R"("error":"method_not_allowed")"), std::string::npos);
}

TEST(HttpServer, HeadAnswersWithoutABodyAndKeepsTheConnectionUsable) {
  auto server = start_server();
  TestClient client(server->port());
  ASSERT_TRUE(client.send("HEAD /health HTTP/1.1\r\nHost: t\r\n\r\n" + get_request("/echo/2")));
  const std::optional<TestResponse> head = client.read_response(5000ms, /*head=*/true);
  ASSERT_TRUE(head);
  EXPECT_EQ(head->status, 200);
  EXPECT_EQ(head->header("content-length"), "15");  // {"status":"ok"}
  // Had a body followed the HEAD answer, this would read it as a status line and fail.
  const std::optional<TestResponse> next = client.read_response();
  ASSERT_TRUE(next);
  EXPECT_EQ(next->body, "2|-|127.0.0.1|-");
}

// --- keep-alive, pipelining, Connection: close ----------------------------------------------

TEST(HttpServer, KeepAliveServesManyRequestsOnOneConnection) {
  auto server = start_server();
  TestClient client(server->port());
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(client.send(get_request("/echo/" + std::to_string(i))));
    const std::optional<TestResponse> response = client.read_response();
    ASSERT_TRUE(response);
    EXPECT_EQ(response->body, std::to_string(i) + "|-|127.0.0.1|-");
    EXPECT_FALSE(response->has_header("connection"));
  }
  EXPECT_EQ(server->stats().connections_accepted, 1u);
  // Counted once the write completed, which may be just after the client read it.
  EXPECT_TRUE(eventually([&] { return server->stats().requests == 20; }));
}

TEST(HttpServer, PipelinedRequestsAreAnsweredInOrder) {
  auto server = start_server();
  TestClient client(server->port());
  // The first answers last (150 ms later, from another thread): order must still hold.
  ASSERT_TRUE(client.send(get_request("/slow/150") + get_request("/echo/2") +
                          get_request("/slow/10") + get_request("/echo/4")));
  std::vector<std::string> bodies;
  for (int i = 0; i < 4; ++i) {
    const std::optional<TestResponse> response = client.read_response();
    ASSERT_TRUE(response) << i;
    bodies.push_back(response->body);
  }
  EXPECT_EQ(bodies, (std::vector<std::string>{"slow 150", "2|-|127.0.0.1|-", "slow 10",
                                              "4|-|127.0.0.1|-"}));
}

TEST(HttpServer, ConnectionCloseIsHonoured) {
  auto server = start_server();
  TestClient client(server->port());
  ASSERT_TRUE(client.send(get_request("/health", "Connection: close\r\n")));
  const std::optional<TestResponse> response = client.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->header("connection"), "close");
  EXPECT_TRUE(client.closed_by_server());
}

TEST(HttpServer, Http10ClosesUnlessAskedToKeepAlive) {
  auto server = start_server();
  TestClient once(server->port());
  ASSERT_TRUE(once.send("GET /health HTTP/1.0\r\n\r\n"));
  ASSERT_TRUE(once.read_response());
  EXPECT_TRUE(once.closed_by_server());

  TestClient kept(server->port());
  ASSERT_TRUE(kept.send("GET /health HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
  const std::optional<TestResponse> first = kept.read_response();
  ASSERT_TRUE(first);
  EXPECT_EQ(first->header("connection"), "keep-alive");
  ASSERT_TRUE(kept.send("GET /health HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
  EXPECT_TRUE(kept.read_response());
}

// --- answering later, or never ----------------------------------------------------------------

TEST(HttpServer, AResponderAnswersFromAnotherThread) {
  auto server = start_server();
  const auto started = Clock::now();
  const TestResponse response = round_trip(server->port(), get_request("/slow/100"));
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, "slow 100");
  EXPECT_GE(Clock::now() - started, 100ms);
}

TEST(HttpServer, AResponderDestroyedWithoutAnAnswerSends500) {
  auto server = start_server();
  const TestResponse response = round_trip(server->port(), get_request("/forget"));
  EXPECT_EQ(response.status, 500);
  EXPECT_NE(response.body.find(R"("error":"internal")"), std::string::npos);
}

TEST(HttpServer, AThrowingHandlerAnswers500AndTheServerGoesOn) {
  auto server = start_server();
  EXPECT_EQ(round_trip(server->port(), get_request("/throw")).status, 500);
  EXPECT_EQ(round_trip(server->port(), get_request("/health")).status, 200);
}

TEST(HttpServer, AnInvalidStatusBecomes500) {
  auto server = start_server();
  EXPECT_EQ(round_trip(server->port(), get_request("/bad-status")).status, 500);
}

TEST(HttpServer, AResponderAnswersOnlyOnce) {
  Router router;
  std::atomic<int> second_send{-1};
  ASSERT_TRUE(router
                  .add(Method::kGet, "/twice", {},
                       [&second_send](const Request&, Responder responder) {
                         responder.send(Response::text(200, "first"));
                         second_send = responder.send(Response::text(200, "second")) ? 1 : 0;
                       })
                  .ok());
  auto server = start_server(test_options(), std::move(router));
  TestClient client(server->port());
  ASSERT_TRUE(client.send(get_request("/twice") + get_request("/twice")));
  EXPECT_EQ(client.read_response()->body, "first");
  EXPECT_EQ(client.read_response()->body, "first");
  EXPECT_EQ(second_send.load(), 0);
}

TEST(HttpServer, HandlerHeadersCannotInjectOrReframe) {
  auto server = start_server();
  const TestResponse response = round_trip(server->port(), get_request("/inject"));
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, "ok");
  EXPECT_EQ(response.header("x-good"), "yes");
  EXPECT_EQ(response.header("content-length"), "2");
  EXPECT_FALSE(response.has_header("x-bad"));
  EXPECT_FALSE(response.has_header("injected"));
}

// --- limits -----------------------------------------------------------------------------------

HttpServerOptions small_limits() {
  HttpServerOptions options = test_options();
  options.max_body_bytes = 1024;
  options.max_header_bytes = 2048;
  return options;
}

TEST(HttpServer, ABodyWithinTheLimitReachesTheHandler) {
  auto server = start_server(small_limits());
  EXPECT_EQ(round_trip(server->port(), post_request("/body", std::string(1024, 'x'))).body, "1024");
  const std::string chunked =
      "POST /body HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
      "Transfer-Encoding: chunked\r\n\r\n"
      "a\r\n0123456789\r\n5\r\nabcde\r\n0\r\n\r\n";
  EXPECT_EQ(round_trip(server->port(), chunked).body, "15");
}

TEST(HttpServer, AContentLengthOverTheLimitIs413BeforeTheBodyIsSent) {
  auto server = start_server(small_limits());
  TestClient client(server->port());
  // Only the header: the answer must not wait for 100 MB that never come.
  ASSERT_TRUE(
      client.send("POST /body HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                  "Content-Length: 100000000\r\n\r\n"));
  const std::optional<TestResponse> response = client.read_response(2000ms);
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 413);
  EXPECT_EQ(response->body,
            R"({"error":"body_too_large","message":"the request body exceeds 1024 bytes"})");
  EXPECT_EQ(response->header("connection"), "close");
  EXPECT_TRUE(client.closed_by_server());
}

TEST(HttpServer, AChunkedBodyOverTheLimitIs413WhileItArrives) {
  auto server = start_server(small_limits());
  TestClient client(server->port());
  ASSERT_TRUE(
      client.send("POST /body HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                  "Transfer-Encoding: chunked\r\n\r\n"));
  ASSERT_TRUE(client.send("400\r\n" + std::string(1024, 'x') + "\r\n"));  // 1024: at the limit
  ASSERT_TRUE(client.send("1\r\nx\r\n"));                                 // one byte over
  const std::optional<TestResponse> response = client.read_response(2000ms);
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 413);
  EXPECT_TRUE(client.closed_by_server());
}

TEST(HttpServer, ExpectContinueGetsA100BeforeTheBody) {
  auto server = start_server();
  TestClient client(server->port());
  ASSERT_TRUE(client.send(
      "POST /body HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: 2\r\n"
      "Expect: 100-continue\r\n\r\n"));
  const std::optional<TestResponse> interim = client.read_response();
  ASSERT_TRUE(interim);
  EXPECT_EQ(interim->status, 100);
  ASSERT_TRUE(client.send("{}"));
  const std::optional<TestResponse> response = client.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "2");
}

TEST(HttpServer, AWrongContentTypeIs415) {
  auto server = start_server();
  const TestResponse response =
      round_trip(server->port(), post_request("/body", "{}", {}, "text/plain"));
  EXPECT_EQ(response.status, 415);
  EXPECT_NE(response.body.find(R"("error":"unsupported_media_type")"), std::string::npos);
}

TEST(HttpServer, HeadersOverTheLimitAre431) {
  auto server = start_server(small_limits());
  TestClient client(server->port());
  ASSERT_TRUE(client.send(get_request("/health", "X-Big: " + std::string(4000, 'b') + "\r\n")));
  const std::optional<TestResponse> response = client.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 431);
  EXPECT_TRUE(client.closed_by_server());
}

TEST(HttpServer, MalformedRequestsAre400AndClose) {
  auto server = start_server();
  for (const char* garbage :
       {"GARBAGE\r\n\r\n", "GET /x HTTP/9.9\r\n\r\n", "GET abc HTTP/1.1\r\nHost: t\r\n\r\n",
        "GET / HTTP/1.1\r\nBad Header\r\n\r\n",
        "POST /body HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nxx",
        "POST /body HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"}) {
    TestClient client(server->port());
    ASSERT_TRUE(client.send(garbage));
    const std::optional<TestResponse> response = client.read_response();
    ASSERT_TRUE(response) << garbage;
    EXPECT_EQ(response->status, 400) << garbage;
    EXPECT_NE(response->body.find(R"("error":"malformed_request")"), std::string::npos);
    EXPECT_TRUE(client.closed_by_server()) << garbage;
  }
  EXPECT_EQ(round_trip(server->port(), get_request("/health")).status, 200);
}

// --- timeouts ---------------------------------------------------------------------------------

TEST(HttpServer, AnIncompleteHeaderIsAnswered408AndClosed) {
  HttpServerOptions options = test_options();
  options.header_timeout = 300ms;
  auto server = start_server(options);
  TestClient client(server->port());
  const auto started = Clock::now();
  ASSERT_TRUE(client.send("GET /health HTTP/1.1\r\nHost: t\r\n"));  // no blank line, ever
  const std::optional<TestResponse> response = client.read_response(3000ms);
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 408);
  EXPECT_GE(Clock::now() - started, 300ms);
  EXPECT_TRUE(client.closed_by_server());
  EXPECT_EQ(server->stats().header_timeouts, 1u);
}

TEST(HttpServer, ASlowlorisIsCutOffAndOtherClientsAreUnaffected) {
  HttpServerOptions options = test_options();
  options.threads = 1;  // the slow client shares the thread with the others
  options.header_timeout = 2000ms;
  auto server = start_server(options);
  const uint16_t port = server->port();

  std::atomic<bool> slow_done{false};
  std::optional<TestResponse> slow_answer;
  Clock::duration slow_elapsed{};
  std::thread slowloris([&] {
    TestClient client(port);
    const auto started = Clock::now();
    client.send("GET /health HTTP/1.1\r\nHost: t\r\nX-Slow: ");
    // One header byte per second, never finishing the header.
    for (int i = 0; i < 10 && !slow_done; ++i) {
      if (!client.send("a")) break;
      std::optional<TestResponse> response = client.read_response(1000ms);
      if (response) {
        slow_answer = std::move(response);
        slow_elapsed = Clock::now() - started;
        break;
      }
    }
    slow_done = true;
  });

  // Meanwhile others are answered at once.
  int answered = 0;
  Clock::duration slowest{};
  while (!slow_done) {
    const auto started = Clock::now();
    TestClient client(port);
    client.send(get_request("/health"));
    const std::optional<TestResponse> response = client.read_response(1000ms);
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 200);
    slowest = std::max(slowest, Clock::now() - started);
    ++answered;
    std::this_thread::sleep_for(50ms);
  }
  slowloris.join();
  ASSERT_TRUE(slow_answer) << "the slow client was never cut off";
  EXPECT_EQ(slow_answer->status, 408);
  EXPECT_GE(slow_elapsed, 2000ms);
  EXPECT_LT(slow_elapsed, 4000ms);
  EXPECT_GE(answered, 10);
  EXPECT_LT(slowest, 250ms);
}

TEST(HttpServer, AnIncompleteBodyIsAnswered408AndClosed) {
  HttpServerOptions options = test_options();
  options.body_timeout = 300ms;
  auto server = start_server(options);
  TestClient client(server->port());
  ASSERT_TRUE(
      client.send("POST /body HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                  "Content-Length: 10\r\n\r\n{\"a\""));  // 4 of the 10 bytes, then nothing
  const std::optional<TestResponse> response = client.read_response(3000ms);
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 408);
  EXPECT_NE(response->body.find("body did not arrive in time"), std::string::npos);
  EXPECT_TRUE(client.closed_by_server());
}

TEST(HttpServer, AClientThatLeavesBeforeItsAnswerDoesNotDisturbTheServer) {
  auto server = start_server();
  for (int i = 0; i < 20; ++i) {
    TestClient client(server->port());
    ASSERT_TRUE(client.send(get_request("/slow/20")));
  }  // each closes before its answer is written
  EXPECT_TRUE(eventually([&] { return server->stats().connections_open == 0; }));
  EXPECT_EQ(round_trip(server->port(), get_request("/health")).status, 200);
}

TEST(HttpServer, AnIdleKeepAliveConnectionIsClosedQuietly) {
  HttpServerOptions options = test_options();
  options.idle_timeout = 300ms;
  auto server = start_server(options);
  TestClient client(server->port());
  ASSERT_TRUE(client.send(get_request("/health")));
  ASSERT_TRUE(client.read_response());
  const auto started = Clock::now();
  EXPECT_TRUE(client.closed_by_server(3000ms));
  EXPECT_GE(Clock::now() - started, 250ms);
  EXPECT_TRUE(client.unread().empty());
  EXPECT_TRUE(eventually([&] { return server->stats().connections_open == 0; }));
}

// --- connection cap ---------------------------------------------------------------------------

TEST(HttpServer, BeyondTheConnectionCapANewConnectionGets503AndIsClosed) {
  HttpServerOptions options = test_options();
  options.max_connections = 2;
  auto server = start_server(options);
  auto first = std::make_unique<TestClient>(server->port());
  TestClient second(server->port());
  for (TestClient* client : {first.get(), &second}) {
    ASSERT_TRUE(client->send(get_request("/health")));
    ASSERT_TRUE(client->read_response());
  }
  TestClient third(server->port());
  ASSERT_TRUE(third.send(get_request("/health")));
  const std::optional<TestResponse> refused = third.read_response();
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 503);
  EXPECT_EQ(refused->header("connection"), "close");
  EXPECT_EQ(refused->header("retry-after"), "1");
  EXPECT_NE(refused->body.find(R"("error":"over_capacity")"), std::string::npos);
  EXPECT_TRUE(third.closed_by_server());
  EXPECT_EQ(server->stats().connections_rejected, 1u);

  first.reset();  // a slot frees up
  ASSERT_TRUE(eventually([&] { return server->stats().connections_open == 1; }));
  EXPECT_EQ(round_trip(server->port(), get_request("/health")).status, 200);
}

// --- API keys ---------------------------------------------------------------------------------

TEST(HttpServer, RoutesNeedAKeyOfTheirRole) {
  auto server = start_server();
  const uint16_t port = server->port();
  const TestResponse missing = round_trip(port, get_request("/auth/read"));
  EXPECT_EQ(missing.status, 401);
  EXPECT_EQ(missing.header("www-authenticate"), "Bearer");
  EXPECT_EQ(missing.body, R"({"error":"unauthorized","message":"missing API key"})");
  EXPECT_EQ(round_trip(port, get_request("/auth/read", "Authorization: Bearer qt_nope\r\n")).status,
            401);
  EXPECT_EQ(round_trip(port, get_request("/auth/read", "Authorization: Basic dXNlcjpw\r\n")).status,
            401);

  EXPECT_EQ(round_trip(port, get_request("/auth/read", bearer(kReadKey))).body, "reader");
  const TestResponse read_on_trade =
      round_trip(port, post_request("/auth/trade", "{}", bearer(kReadKey)));
  EXPECT_EQ(read_on_trade.status, 403);
  EXPECT_NE(read_on_trade.body.find(R"("error":"forbidden")"), std::string::npos);
  EXPECT_EQ(round_trip(port, post_request("/auth/trade", "{}", bearer(kTradeKey))).body, "trader");
  EXPECT_EQ(round_trip(port, post_request("/auth/admin", "{}", bearer(kTradeKey))).status, 403);
  EXPECT_EQ(round_trip(port, post_request("/auth/admin", "{}", bearer(kAdminKey))).body,
            "operator");
  EXPECT_EQ(round_trip(port, get_request("/auth/read", bearer(kAdminKey))).body, "operator");
  // Public routes need none, and ignore a wrong one.
  EXPECT_EQ(round_trip(port, get_request("/health", "Authorization: Bearer qt_nope\r\n")).status,
            200);
}

TEST(HttpServer, WithoutConfiguredKeysEveryKeyedRouteIs401) {
  HttpServerOptions options = test_options();
  options.api_keys = nullptr;
  auto server = start_server(options);
  EXPECT_EQ(round_trip(server->port(), get_request("/auth/read", bearer(kAdminKey))).status, 401);
}

// Captures everything logged through spdlog's default logger while it lives.
class LogCapture {
 public:
  LogCapture() : previous_(spdlog::default_logger()) {
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(text_);
    auto logger = std::make_shared<spdlog::logger>("capture", sink);
    logger->set_level(spdlog::level::trace);
    spdlog::set_default_logger(logger);
  }
  ~LogCapture() { spdlog::set_default_logger(previous_); }
  std::string text() {
    spdlog::default_logger()->flush();
    return text_.str();
  }

 private:
  std::shared_ptr<spdlog::logger> previous_;
  std::ostringstream text_;
};

TEST(HttpServer, AKeyNeverAppearsInLogsOrErrors) {
  LogCapture capture;
  std::string bodies;
  {
    auto server = start_server();
    const uint16_t port = server->port();
    const std::string wrong = "qt_wr0ng-key-that-must-never-be-logged-00000";
    for (const std::string& request :
         {get_request("/auth/read", "Authorization: Bearer " + wrong + "\r\n"),
          get_request("/auth/read", "Authorization: " + wrong + "\r\n"),
          post_request("/auth/admin", "{}", bearer(kReadKey)),
          post_request("/auth/trade", "{}", bearer(kTradeKey)),
          get_request("/nowhere", bearer(kAdminKey))}) {
      bodies += round_trip(port, request).body;
    }
  }
  const std::string logs = capture.text();
  // The test must see the log lines it checks: the 401 and 403 were logged.
  EXPECT_NE(logs.find("401 GET /auth/read"), std::string::npos) << logs;
  EXPECT_NE(logs.find("403 POST /auth/admin"), std::string::npos) << logs;
  for (const std::string& secret : {std::string("wr0ng-key"), std::string(kReadKey + 3),
                                    std::string(kTradeKey + 3), std::string(kAdminKey + 3)}) {
    EXPECT_EQ(logs.find(secret), std::string::npos) << secret << " in\n" << logs;
    EXPECT_EQ(bodies.find(secret), std::string::npos) << secret << " in\n" << bodies;
  }
}

// --- trusted proxies --------------------------------------------------------------------------

TEST(HttpServer, ATrustedProxyNamesTheClient) {
  HttpServerOptions options = test_options();
  options.trusted_proxies = *TrustedProxies::parse({"127.0.0.0/8"});
  auto server = start_server(options);
  EXPECT_EQ(round_trip(server->port(),
                       get_request("/echo/1", "X-Forwarded-For: 6.6.6.6, 203.0.113.7\r\n"))
                .body,
            "1|-|203.0.113.7|-");
  EXPECT_EQ(round_trip(server->port(), get_request("/echo/1", "X-Real-IP: 198.51.100.2\r\n")).body,
            "1|-|198.51.100.2|-");
}

TEST(HttpServer, ASpoofedForwardedForFromAnUntrustedPeerIsIgnored) {
  HttpServerOptions options = test_options();
  options.trusted_proxies = *TrustedProxies::parse({"10.0.0.0/8"});  // not the test's 127.0.0.1
  std::mutex mutex;
  std::vector<std::string> seen_by_admission;
  options.admission = [&](const Request& request, AdmissionReply reply) {
    std::lock_guard lock(mutex);
    seen_by_admission.emplace_back(request.client_address());
    reply.allow();
  };
  auto server = start_server(options);
  EXPECT_EQ(round_trip(server->port(), get_request("/echo/1",
                                                   "X-Forwarded-For: 203.0.113.7\r\n"
                                                   "X-Real-IP: 203.0.113.8\r\n"))
                .body,
            "1|-|127.0.0.1|-");
  std::lock_guard lock(mutex);
  EXPECT_EQ(seen_by_admission, std::vector<std::string>{"127.0.0.1"});
}

// --- admission step ---------------------------------------------------------------------------

TEST(HttpServer, TheAdmissionStepCanRejectWithItsOwnResponse) {
  HttpServerOptions options = test_options();
  options.admission = [](const Request& request, AdmissionReply reply) {
    if (request.route().pattern != "/echo/{id}") {
      reply.allow();
      return;
    }
    Response refused = error_response(429, "rate_limited", "10 per 1 minute");
    refused.headers = {{"Retry-After", "7"}, {"X-RateLimit-Remaining", "0"}};
    reply.reject(std::move(refused));
  };
  auto server = start_server(options);
  const TestResponse limited = round_trip(server->port(), get_request("/echo/1"));
  EXPECT_EQ(limited.status, 429);
  EXPECT_EQ(limited.header("retry-after"), "7");
  EXPECT_EQ(limited.header("x-ratelimit-remaining"), "0");
  EXPECT_EQ(round_trip(server->port(), get_request("/health")).status, 200);
}

TEST(HttpServer, TheAdmissionStepAnswersLaterAndAddsHeaders) {
  HttpServerOptions options = test_options();
  std::atomic<int> admitted{0};
  options.admission = [&admitted](const Request& request, AdmissionReply reply) {
    // The limiter sees the route's scope and, on keyed routes, who calls.
    const std::string principal = request.principal() ? request.principal()->name : "-";
    std::thread([reply = std::move(reply), scope = request.route().rate_limit_scope, principal,
                 &admitted]() mutable {
      std::this_thread::sleep_for(20ms);
      ++admitted;
      reply.allow({{"X-RateLimit-Limit", "100"}, {"X-Scope", scope + "/" + principal}});
    }).detach();
  };
  auto server = start_server(options);
  const TestResponse response =
      round_trip(server->port(), get_request("/auth/read", bearer(kReadKey)));
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.header("x-ratelimit-limit"), "100");
  EXPECT_EQ(response.header("x-scope"), "default/reader");
  EXPECT_EQ(admitted.load(), 1);
  // A 401 is decided before the admission step runs.
  EXPECT_EQ(round_trip(server->port(), get_request("/auth/read")).status, 401);
  EXPECT_EQ(admitted.load(), 1);
}

TEST(HttpServer, AnAdmissionReplyDroppedUndecidedIs500) {
  HttpServerOptions options = test_options();
  options.admission = [](const Request&, AdmissionReply) {};
  auto server = start_server(options);
  EXPECT_EQ(round_trip(server->port(), get_request("/health")).status, 500);
}

// --- observer ---------------------------------------------------------------------------------

TEST(HttpServer, TheObserverSeesTheRouteLabelNeverTheRawPath) {
  HttpServerOptions options = test_options();
  options.threads = 1;  // records arrive in request order
  std::mutex mutex;
  std::vector<std::tuple<std::string, std::string, int, std::string>> records;
  options.on_request = [&](const RequestRecord& record) {
    std::lock_guard lock(mutex);
    records.emplace_back(record.route_label, record.method, record.status,
                         std::string(record.principal));
    EXPECT_GT(record.duration.count(), 0);
  };
  auto server = start_server(options);
  round_trip(server->port(), get_request("/echo/secret-order-id-1"));
  round_trip(server->port(), get_request("/no/such/path"));
  round_trip(server->port(), "DELETE /health HTTP/1.1\r\nHost: t\r\n\r\n");
  round_trip(server->port(), "BREW /health HTTP/1.1\r\nHost: t\r\n\r\n");
  round_trip(server->port(), get_request("/auth/read", bearer(kReadKey)));
  ASSERT_TRUE(eventually([&] {
    std::lock_guard lock(mutex);
    return records.size() == 5;
  }));
  std::lock_guard lock(mutex);
  using Record = std::tuple<std::string, std::string, int, std::string>;
  EXPECT_EQ(records, (std::vector<Record>{{"/echo/{id}", "GET", 200, ""},
                                          {"unmatched", "GET", 404, ""},
                                          {"unmatched", "DELETE", 405, ""},
                                          {"unmatched", "OTHER", 405, ""},
                                          {"/auth/read", "GET", 200, "reader"}}));
}

// --- threads, stop ----------------------------------------------------------------------------

TEST(HttpServer, ManyClientsOnManyThreads) {
  HttpServerOptions options = test_options();
  options.threads = 4;
  auto server = start_server(options);
  const uint16_t port = server->port();
  std::atomic<int> ok{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < 8; ++c) {
    clients.emplace_back([port, c, &ok] {
      TestClient client(port);
      for (int i = 0; i < 50; ++i) {
        const std::string id = std::to_string(c * 1000 + i);
        client.send(get_request("/echo/" + id));
        const std::optional<TestResponse> response = client.read_response();
        if (response && response->body == id + "|-|127.0.0.1|-") ++ok;
      }
    });
  }
  for (std::thread& client : clients) client.join();
  EXPECT_EQ(ok.load(), 400);
}

TEST(HttpServer, StopFinishesTheRequestInFlightAndClosesIdleConnections) {
  auto server = start_server();
  TestClient idle(server->port());
  ASSERT_TRUE(idle.send(get_request("/health")));
  ASSERT_TRUE(idle.read_response());
  TestClient busy(server->port());
  ASSERT_TRUE(busy.send(get_request("/slow/300")));
  std::this_thread::sleep_for(50ms);
  const auto started = Clock::now();
  server->stop();
  EXPECT_GE(Clock::now() - started, 200ms);  // it waited for the slow answer
  EXPECT_LT(Clock::now() - started, 2000ms);
  const std::optional<TestResponse> response = busy.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->body, "slow 300");
  EXPECT_EQ(response->header("connection"), "close");
  EXPECT_TRUE(idle.closed_by_server(1000ms));
  TestClient late(server->port());
  EXPECT_FALSE(late.connected() && late.send(get_request("/health")) && late.read_response(500ms));
}

TEST(HttpServer, StopIsBoundedByTheGraceWhenAnAnswerNeverComes) {
  HttpServerOptions options = test_options();
  options.shutdown_grace = 200ms;
  auto server = start_server(options);
  TestClient busy(server->port());
  ASSERT_TRUE(busy.send(get_request("/slow/1500")));
  std::this_thread::sleep_for(50ms);
  const auto started = Clock::now();
  server->stop();
  EXPECT_LT(Clock::now() - started, 1000ms);
  EXPECT_TRUE(busy.closed_by_server(1000ms));
}

TEST(HttpServer, AResponderMayOutliveTheServer) {
  std::mutex mutex;
  std::optional<Responder> kept;
  Router router;
  ASSERT_TRUE(router
                  .add(Method::kGet, "/keep", {},
                       [&](const Request&, Responder responder) {
                         std::lock_guard lock(mutex);
                         kept.emplace(std::move(responder));
                       })
                  .ok());
  HttpServerOptions options = test_options();
  options.shutdown_grace = 100ms;
  auto server = start_server(options, std::move(router));
  TestClient client(server->port());
  ASSERT_TRUE(client.send(get_request("/keep")));
  ASSERT_TRUE(eventually([&] {
    std::lock_guard lock(mutex);
    return kept.has_value();
  }));
  server.reset();  // stopped and destroyed while the Responder still owes an answer
  std::lock_guard lock(mutex);
  EXPECT_TRUE(kept->send(Response::text(200, "too late")));  // dropped, harmlessly
  kept.reset();
}

TEST(HttpServerOptions, ValidationNamesTheOption) {
  HttpServerOptions options;
  EXPECT_TRUE(validate(options).ok());
  options.listen = "localhost:80";
  EXPECT_TRUE(absl::IsInvalidArgument(validate(options)));
  options.listen = "[::1]:0";
  EXPECT_TRUE(validate(options).ok());
  options.threads = 0;
  EXPECT_NE(validate(options).message().find("threads"), absl::string_view::npos);
  options.threads = 1;
  options.header_timeout = 0ms;
  EXPECT_NE(validate(options).message().find("header_timeout"), absl::string_view::npos);
  for (const char* bad : {"", "127.0.0.1", "127.0.0.1:", "127.0.0.1:65536", "::1:80", "[::1]"}) {
    EXPECT_FALSE(parse_listen_address(bad).ok()) << bad;
  }
  EXPECT_EQ(parse_listen_address("0.0.0.0:8080")->port, 8080);
}

TEST(HttpServer, AnAddressInUseIsUnavailable) {
  auto first = start_server();
  HttpServerOptions options = test_options();
  options.listen = "127.0.0.1:" + std::to_string(first->port());
  HttpServer second(options, test_router());
  EXPECT_TRUE(absl::IsUnavailable(second.start()));
}

}  // namespace
}  // namespace qt::http
