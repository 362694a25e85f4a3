// A scripted stand-in for Capital.com's REST API, just enough of it to test the client's
// session handling and calls: login (plain and encrypted password), CST / X-SECURITY-TOKEN
// checks with 401 error.invalid.session.token, token rotation, ping, accounts, markets, prices,
// positions, working orders and confirms. Bodies are written with the protocol layer, so they
// are what the real broker's documented bodies look like. Faults are injected per path.
//
// Served by TestServer (HTTPS with the test CA). Thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "tests/capital_client/test_pki.hpp"
#include "tests/capital_client/test_server.hpp"

namespace qt::capital::testing {

inline constexpr const char* kTestApiKey = "ak-test-9f8e7d6c5b4a";
inline constexpr const char* kTestIdentifier = "quant.trader@example.com";
inline constexpr const char* kTestPassword = "s3cr3t-Pa55w0rd!";

class FakeBroker {
 public:
  FakeBroker();  // starts the HTTPS server
  ~FakeBroker();

  std::string url() const { return server_->url(); }
  const TestPki& pki() const;
  TestServer& server() { return *server_; }

  // The current session stops being accepted (as after 10 minutes idle).
  void expire_session();
  // Answers after this one echo a fresh CST (token rotation).
  void rotate_cst_on_next_answer() { rotate_cst_ = true; }
  // The next request to `path` (e.g. "POST /api/v1/positions") gets `reply` instead.
  void inject(const std::string& method_and_path, ServerReply reply, int times = 1);

  int logins() const { return logins_.load(); }  // successful POST /session
  int login_attempts() const { return login_attempts_.load(); }
  int count(const std::string& method_and_path) const;  // requests seen to that path
  std::string current_cst() const;
  std::string current_security_token() const;
  int64_t last_encryption_timestamp() const { return encryption_timestamp_.load(); }

 private:
  ServerReply handle(const ServerRequest& request);
  ServerReply login(const ServerRequest& request);
  ServerReply authenticated(const ServerRequest& request, const std::string& key);

  struct Rsa;
  std::unique_ptr<Rsa> rsa_;
  mutable std::mutex mutex_;
  std::string cst_;
  std::string security_token_;
  int token_counter_ = 0;
  std::atomic<bool> rotate_cst_{false};
  std::map<std::string, std::pair<ServerReply, int>> injected_;
  std::map<std::string, int> counts_;
  int deal_counter_ = 0;
  std::atomic<int> logins_{0};
  std::atomic<int> login_attempts_{0};
  std::atomic<int64_t> encryption_timestamp_{0};
  std::unique_ptr<TestServer> server_;  // last: stops before the state above goes
};

}  // namespace qt::capital::testing
