// A scripted Capital.com streaming server for the stream client's integration tests: Boost.Beast
// WebSocket over TLS (a test PKI made at start, see tests/capital_client/test_pki.hpp) or plain
// TCP, one io thread. It records every envelope the client sends (parsed with the protocol's
// parse_ws_request), answers marketData.subscribe (PROCESSED per epic, or the epic's scripted
// status) and ping like the venue, refuses envelopes whose tokens are not the accepted ones
// with error.invalid.session.token, and lets the test push frames and drop connections.
// Every public member may be called from the test thread while the server runs.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "gateway/capital/protocol/messages.hpp"
#include "tests/capital_client/test_pki.hpp"

namespace qt::capital::testing {

struct ReceivedEnvelope {
  int connection = 0;  // 1-based index of the upgraded WebSocket it came on
  WsRequest request;
  std::chrono::steady_clock::time_point at;
};

struct StreamServerOptions {
  std::string path = "/connect";  // upgrades on other paths get 404
  std::string accepted_cst = "cst-1";
  std::string accepted_token = "token-1";
  bool answer_subscriptions = true;
  bool answer_pings = true;
  std::map<std::string, std::string> epic_status;  // epic → status in the ack ("PROCESSED")
};

class StreamTestServer {
 public:
  // pki == nullptr: plain ws://.
  StreamTestServer(StreamServerOptions options, const TestPki* pki);
  ~StreamTestServer();
  StreamTestServer(const StreamTestServer&) = delete;
  StreamTestServer& operator=(const StreamTestServer&) = delete;

  uint16_t port() const { return port_; }
  // "wss://localhost:<port>/connect" (or ws://).
  std::string url(const std::string& host = "localhost") const;

  // Text frame to every open WebSocket.
  void push(std::string frame);
  // Closes every open connection abruptly (no close frame), like a network failure.
  void drop_connections();
  // Tokens the server accepts from now on.
  void accept_tokens(std::string cst, std::string token);

  int upgrades() const;          // WebSockets upgraded so far
  int open_connections() const;  // upgraded and not closed
  std::vector<ReceivedEnvelope> envelopes() const;
  std::vector<ReceivedEnvelope> envelopes(WsDestination destination) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  uint16_t port_ = 0;
  bool tls_ = false;
};

// Polls `done` every millisecond until it is true or `timeout` passes; returns its last value.
bool wait_until(const std::function<bool()>& done,
                std::chrono::milliseconds timeout = std::chrono::milliseconds(5000));

// A quote push exactly as the venue sends it.
std::string quote_frame(const std::string& epic, const std::string& bid, const std::string& ofr,
                        int64_t timestamp_ms, const std::string& bid_qty = "100.0",
                        const std::string& ofr_qty = "100.0");

}  // namespace qt::capital::testing
