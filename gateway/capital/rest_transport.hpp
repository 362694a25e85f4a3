// One logical REST request to the broker: client-side rate limit, a pooled connection, the
// exchange, and the retries the RetryPolicy allows (see retry_policy.hpp for the rule).
//
// Each attempt: check out a connection (waiting up to API_TIMEOUT for a free one), open it if
// needed (connect + TLS within API_TIMEOUT), then take the rate-limit slot (waiting up to
// max_wait), then write and read within API_TIMEOUT. The slot is taken on an open connection so
// that the request leaves when its slot says, not a handshake later.
//
// send() blocks the calling worker thread for all of that plus the backoff between retries.
// Several workers may send concurrently (up to CONNECTION_POOL_SIZE exchanges at once). Never
// called from the engine thread.
//
// Session headers are the caller's business (CapitalSession / CapitalRestClient); the
// transport never logs headers or bodies, so credentials and tokens never reach a log.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>

#include "absl/status/statusor.h"
#include "gateway/capital/client_config.hpp"
#include "gateway/capital/connection_pool.hpp"
#include "gateway/capital/https_connection.hpp"
#include "gateway/capital/rate_limiter.hpp"
#include "gateway/capital/retry_policy.hpp"

namespace qt::capital {

// What send() did, beyond the last attempt's result.
struct SendResult {
  ExchangeResult result;                 // of the last attempt
  int attempts = 0;                      // exchanges started (0: refused before any)
  std::chrono::nanoseconds rate_wait{};  // total time spent waiting for rate-limit slots
};

class RestTransport {
 public:
  // Builds the TLS context and the pool. Logs a warning when certificate verification is off
  // or the endpoint is plain http. `clock` paces the rate limiter and the retry backoff.
  static absl::StatusOr<std::unique_ptr<RestTransport>> create(
      const CapitalClientConfig& config, ClientClock& clock = ClientClock::steady());

  // `request.target` is relative to the API base path ("/positions" → "/api/v1/positions").
  SendResult send(const HttpRequest& request, RequestClass request_class);

  // Any thread, for shutdown: the exchanges in progress end at once (ConnectionPool::abort_all)
  // and send() refuses from now on (kStopped) instead of retrying.
  void stop();

  const RestEndpoint& endpoint() const { return endpoint_; }
  ConnectionPool& pool() { return *pool_; }
  RateLimiter& rate_limiter() { return limiter_; }
  const RetryPolicy& retry_policy() const { return retry_; }

  uint64_t retries() const { return retries_.load(std::memory_order_relaxed); }

 private:
  RestTransport(const CapitalClientConfig& config, RestEndpoint endpoint,
                std::shared_ptr<TlsContext> tls, ClientClock& clock);

  RestEndpoint endpoint_;
  std::chrono::nanoseconds timeout_;
  ClientClock& clock_;
  std::unique_ptr<ConnectionPool> pool_;
  RateLimiter limiter_;
  RetryPolicy retry_;
  std::atomic<uint64_t> retries_{0};
  std::atomic<bool> stopped_{false};
};

}  // namespace qt::capital
