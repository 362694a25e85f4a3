// Internal to gateway/http: what the server's connections share — the options, the router, the
// I/O contexts, the per-thread registries of live connections, the counters — and the two entry
// points that start a connection. Included only by the server's .cpp files (it pulls in Asio and
// Beast).
//
// Lifetime: HttpServer holds the ServerCore; Responders, AdmissionReplies and WebSocketSessions
// hold it too (so a late answer never touches a destroyed io_context). Connections and channels
// hold only a plain reference: they live inside the io_contexts' handlers or behind one of those
// handles, so the core outlives them, and no cycle keeps the core alive after the last handle.
#pragma once

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/message.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <unordered_map>
#include <vector>

#include "gateway/http/server.hpp"

namespace qt::http::detail {

// A connection or WebSocket channel, as the server's stop() sees it. Called on its own thread.
class Closable {
 public:
  virtual ~Closable() = default;
  // Stop taking new work: idle connections close now, busy ones after their current response.
  virtual void begin_shutdown() = 0;
  // Close now.
  virtual void force_close() = 0;
};

// The live connections of one I/O thread; touched only on that thread.
using Registry = std::unordered_map<const Closable*, std::weak_ptr<Closable>>;

struct ServerCore : std::enable_shared_from_this<ServerCore> {
  ServerCore(HttpServerOptions options_in, Router router_in)
      : options(std::move(options_in)), router(std::move(router_in)) {}

  // Declared first: destroyed last, after everything that may refer to them.
  std::vector<std::unique_ptr<boost::asio::io_context>> contexts;
  std::vector<
      std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>>>
      work;
  std::vector<Registry> registries;  // one per context

  const HttpServerOptions options;
  const Router router;
  std::optional<boost::asio::ip::tcp::acceptor> acceptor;  // on contexts[0]
  // The accept loop's state, on contexts[0]'s thread.
  std::optional<boost::asio::steady_timer> accept_backoff;
  std::size_t next_context = 0;
  std::chrono::steady_clock::time_point last_accept_error_log{};

  std::atomic<bool> stopping{false};
  std::atomic<uint64_t> next_connection_id{1};
  std::atomic<uint64_t> connections_open{0};
  std::atomic<uint64_t> connections_accepted{0};
  std::atomic<uint64_t> connections_rejected{0};
  std::atomic<uint64_t> requests{0};
  std::atomic<uint64_t> header_timeouts{0};
  std::atomic<uint64_t> websocket_sessions_open{0};
  std::atomic<uint64_t> websocket_slow_consumer_closes{0};

  // The handle a Responder / WebSocketSession keeps; empty while the core is being destroyed.
  std::shared_ptr<void> keep_alive() { return weak_from_this().lock(); }
  // Decrements the open-connection gauge (a connection's or channel's close, exactly once).
  void connection_closed() { connections_open.fetch_sub(1, std::memory_order_relaxed); }
};

// Starts serving an accepted socket on contexts[context]; it already counts in
// connections_open. On the context's thread.
void start_http_connection(ServerCore& core, std::size_t context,
                           boost::asio::ip::tcp::socket socket);

// Takes over an HTTP connection whose upgrade request was accepted (route, key, admission):
// runs the WebSocket handshake, then the session. Keeps the connection's slot in
// connections_open. On the context's thread.
void start_websocket_channel(ServerCore& core, std::size_t context, boost::beast::tcp_stream stream,
                             boost::beast::http::request<boost::beast::http::empty_body> upgrade,
                             Request request, const WebSocketHandler& handler);

// Writes a short canned response, then half-closes and drains the socket briefly before
// closing it, so the client reads the answer instead of a reset. Used for the 503 of a
// connection over the cap.
void reject_connection(ServerCore& core, boost::asio::ip::tcp::socket socket);

// The current time as an HTTP date ("Sun, 06 Nov 1994 08:49:37 GMT"), cached per thread for
// the current second.
std::string_view http_date_now();

}  // namespace qt::http::detail
