// HttpServer: the HTTP/1.1 and WebSocket server of the API (Boost.Beast), plain TCP — TLS is
// the reverse proxy's job (deploy kit).
//
// Threads: `threads` I/O threads, each running its own io_context; a connection lives on one of
// them for its whole life, so its state needs no lock. Handlers run on those threads and must
// not block: they answer at once or hand the work to the engine and answer later through their
// Responder (responder.hpp), from any thread.
//
// Per request, in order: read (idle, header and body timeouts; header and body size limits) →
// route (404, 405) → API key (401, 403) → admission step, i.e. the rate limiter (its verdict and
// headers) → Content-Type (415) → handler → response, then the observer. Every error the
// server makes is {"error": code, "message": text} JSON. Requests on a keep-alive connection
// (pipelined or not) are answered one at a time, in order.
//
// Limits: beyond max_connections a new connection gets 503 and is closed; a client that sends
// its header too slowly (slowloris) gets 408 and is closed; a body larger than max_body_bytes
// gets 413 (from Content-Length before any of it is read, or while a chunked body arrives).
//
// Lifetime: construct, start(), stop() (or the destructor): stop refuses new connections,
// lets requests in progress finish within shutdown_grace, then closes what is left and joins
// the threads. Not restartable. Responders and WebSocketSessions may outlive the server.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "gateway/http/api_keys.hpp"
#include "gateway/http/client_address.hpp"
#include "gateway/http/router.hpp"

namespace qt::http {

struct WebSocketOptions {
  std::size_t max_queued_frames = 1024;            // per client; beyond: closed "slow consumer"
  std::size_t max_message_bytes = 64 * 1024;       // from the client
  std::chrono::milliseconds idle_timeout{60'000};  // pinged at half; closed without an answer
  std::chrono::milliseconds close_timeout{5'000};  // for the close handshake, then cut
};

// What the server reports after each request's response was written (or failed to be).
struct RequestRecord {
  std::string_view route_label;  // RouteInfo::label, or kUnmatchedRouteLabel
  std::string_view method;       // to_string(Method): "GET", ..., "OTHER" (bounded)
  int status = 0;
  std::chrono::nanoseconds duration{};  // first byte of the request → response written
  std::string_view client_address;
  std::string_view principal;  // the key's name; empty on public routes or before auth
  std::size_t request_body_bytes = 0;
  std::size_t response_body_bytes = 0;
  uint64_t connection_id = 0;
  bool written = true;  // false: the client went away before the response was written
};

// Runs on an I/O thread before the handler. Must not block: answer through `reply` now or
// later from any thread (the Redis-backed limiter answers when its pipeline returns).
using AdmissionStep = std::function<void(const Request& request, AdmissionReply reply)>;
// Runs on an I/O thread; must be cheap (metrics, access log).
using RequestObserver = std::function<void(const RequestRecord& record)>;

struct HttpServerOptions {
  std::string listen = "127.0.0.1:8080";  // "host:port" or "[v6]:port"; port 0: ephemeral
  unsigned threads = 1;
  std::size_t max_body_bytes = 64 * 1024;
  std::size_t max_header_bytes = 16 * 1024;          // request line and headers
  std::chrono::milliseconds header_timeout{10'000};  // first byte → end of header
  std::chrono::milliseconds body_timeout{10'000};    // end of header → end of body
  std::chrono::milliseconds idle_timeout{60'000};    // keep-alive, between requests
  std::chrono::milliseconds write_timeout{10'000};   // writing one response
  std::size_t max_connections = 10'000;              // HTTP and WebSocket together
  std::chrono::milliseconds shutdown_grace{5'000};
  WebSocketOptions websocket;

  std::shared_ptr<const ApiKeys> api_keys;  // null: routes that need a key answer 401
  TrustedProxies trusted_proxies;           // empty: the client is the socket's peer
  AdmissionStep admission;                  // null: every request is admitted
  RequestObserver on_request;               // null: none
};

// InvalidArgument naming the option: unparsable listen, zero threads or limits, a timeout
// that is not positive.
absl::Status validate(const HttpServerOptions& options);

struct ListenAddress {
  boost::asio::ip::address address;
  uint16_t port = 0;
};
// "127.0.0.1:8080", "[::1]:0", "0.0.0.0:8080"; InvalidArgument otherwise (no host names).
absl::StatusOr<ListenAddress> parse_listen_address(std::string_view text);

// Monotonic counters and gauges, readable from any thread (relaxed atomics underneath).
struct HttpServerStats {
  uint64_t connections_open = 0;                // gauge: HTTP + WebSocket
  uint64_t connections_accepted = 0;            // counter, including rejected ones
  uint64_t connections_rejected = 0;            // counter: over max_connections (503)
  uint64_t requests = 0;                        // counter: responses the server finished
  uint64_t header_timeouts = 0;                 // counter: 408 (slow or stalled header)
  uint64_t websocket_sessions_open = 0;         // gauge
  uint64_t websocket_slow_consumer_closes = 0;  // counter
};

namespace detail {
struct ServerCore;
}

class HttpServer {
 public:
  HttpServer(HttpServerOptions options, Router router);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Validates the options, binds and listens, starts the I/O threads. InvalidArgument for bad
  // options, Unavailable when the address cannot be bound (naming it and the reason).
  absl::Status start();
  // The bound port (after start; the ephemeral one when listen's port is 0).
  uint16_t port() const;
  // Idempotent; see the top of this file. Not from a handler (it waits for the I/O threads).
  void stop();

  HttpServerStats stats() const;

 private:
  std::shared_ptr<detail::ServerCore> core_;
  std::vector<std::thread> threads_;
  uint16_t port_ = 0;
  bool started_ = false;
  bool stopped_ = false;
};

}  // namespace qt::http
