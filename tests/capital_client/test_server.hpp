// A minimal scripted HTTP(S) server for the client's integration tests (Boost.Beast, one
// thread, C++20 coroutines). Each request is answered by the test's handler, which may delay
// the answer, drop the connection without answering, or close it after answering. The server
// counts the TCP connections it accepted and records every request it read.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "tests/capital_client/test_pki.hpp"

namespace qt::capital::testing {

struct ServerRequest {
  std::string method;
  std::string target;
  std::string body;
  std::map<std::string, std::string> headers;  // lower-case names
  int connection = 0;                          // 1-based index of the accepted connection
  std::chrono::steady_clock::time_point received;

  std::string header(const std::string& lower_name) const {
    const auto it = headers.find(lower_name);
    return it == headers.end() ? std::string() : it->second;
  }
};

struct ServerReply {
  int status = 200;
  std::string body = "{}";
  std::vector<std::pair<std::string, std::string>> headers;
  std::chrono::milliseconds delay{0};  // before answering (or dropping)
  bool drop = false;                   // close the connection without answering
  bool close_after = false;            // answer (advertising keep-alive), then close
};

class TestServer {
 public:
  using Handler = std::function<ServerReply(const ServerRequest&)>;

  // tls == nullptr: plain HTTP.
  TestServer(Handler handler, const TestPki* tls);
  ~TestServer();
  TestServer(const TestServer&) = delete;
  TestServer& operator=(const TestServer&) = delete;

  uint16_t port() const { return port_; }
  // "https://localhost:<port>" (or http://).
  std::string url(const std::string& host = "localhost") const;

  int connections_accepted() const { return accepted_.load(); }
  int requests_seen() const;
  std::vector<ServerRequest> requests() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  uint16_t port_ = 0;
  bool tls_ = false;
  std::atomic<int> accepted_{0};
};

}  // namespace qt::capital::testing
