// A WebSocket client of the server (a route added with Router::add_websocket, e.g.
// /api/stream): the integrator pushes text frames to it from any thread; the server writes them
// on the session's I/O thread, in order, one at a time.
//
// Guarantees:
//  - bounded: at most WebSocketOptions::max_queued_frames frames wait per client. A send()
//    that would exceed it closes the session with close code 1008 and reason "slow consumer"
//    and counts it (HttpServerStats::websocket_slow_consumer_closes); a slow client never
//    holds more memory than its bound, and never slows anyone else;
//  - a close (by either side, by the bound, by idle timeout, by HttpServer::stop()) runs
//    on_closed once; after it, send() returns false;
//  - WebSocketSession is a cheap, copyable handle, safe to use from any thread and to keep
//    after the session or the server ended (it then refuses frames).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "gateway/http/message.hpp"

namespace qt::http {

namespace detail {
class WebSocketChannel;  // the I/O side, in websocket_session.cpp
}

class WebSocketSession {
 public:
  WebSocketSession() = default;
  WebSocketSession(std::shared_ptr<void> server, std::shared_ptr<detail::WebSocketChannel> channel)
      : server_(std::move(server)), channel_(std::move(channel)) {}

  // Queues one text frame. false when the session is closed or closing, or when this frame
  // exceeded the bound (the session is then closing as a slow consumer).
  bool send(std::string text) const;
  // Starts the close handshake with code 1000 and `reason` (at most 123 bytes are sent).
  void close(std::string_view reason = {}) const;
  bool is_open() const;
  // Frames accepted by send() and not yet written (at most max_queued_frames).
  std::size_t queued_frames() const;

  uint64_t id() const;  // unique within the server
  std::string_view client_address() const;
  const Principal* principal() const;  // nullptr on a public route
  explicit operator bool() const { return channel_ != nullptr; }

 private:
  std::shared_ptr<void> server_;  // the I/O contexts; declared first, so released last
  std::shared_ptr<detail::WebSocketChannel> channel_;
};

struct WebSocketCallbacks {
  // On the session's I/O thread, for each text or binary message from the client.
  std::function<void(const WebSocketSession&, std::string_view message)> on_message;
  // On the session's I/O thread, once, when the session ended: "slow consumer", "client
  // closed", "idle timeout", "server stopping", "closed by server" or the error.
  std::function<void(const WebSocketSession&, std::string_view reason)> on_closed;
};

// Runs on the I/O thread once the handshake completed (after authentication and admission);
// returns the callbacks of this session. `request` is the upgrade request.
using WebSocketHandler =
    std::function<WebSocketCallbacks(const Request& request, const WebSocketSession& session)>;

}  // namespace qt::http
