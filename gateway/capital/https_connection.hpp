// One keep-alive HTTPS connection to the broker (Boost.Beast over OpenSSL), used by one thread
// at a time, blocking the caller for at most one deadline per exchange.
//
// exchange() opens the connection lazily — resolve, TCP connect, TLS handshake with SNI and
// verification of the peer and the configured host (client_tls.hpp) unless insecure mode was
// chosen — then writes the request and reads the answer, all before one deadline
// (API_TIMEOUT). It classifies what happened so that callers never guess about an order:
//
//   kAnswered        a complete HTTP answer with a status below 500.
//   kNotSent         nothing complete reached the server: resolve, connect or TLS failure, or
//                    a write that did not complete. The server cannot have acted; any request
//                    may be sent again.
//   kOutcomeUnknown  the request was written, then the deadline passed, the connection broke,
//                    or the server answered 5xx. The server may or may not have acted.
//
// After any failure the connection is closed; the next exchange() reopens it. A response that
// does not allow keep-alive closes it too. Plain http:// is supported for local tests only.
//
// abort() (any thread, for shutdown) ends the exchange in progress at once, classified as at its
// deadline, and refuses every later one: a broker that stopped answering cannot hold a caller
// for API_TIMEOUT.
//
// Beast and OpenSSL stay inside the .cpp: including this header costs little. Not thread-safe
// (the ConnectionPool hands a connection to one thread at a time). Heap allocation per exchange
// on an open connection: the response body (when longer than std::string keeps inline) and, with
// TLS, OpenSSL's per-record bookkeeping; nothing else — the request is written into a buffer the
// connection keeps, the response is parsed without a header map, and Asio's operations take
// their memory from slots the connection keeps (OperationArena in the .cpp).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace boost::asio::ssl {
class context;
}  // namespace boost::asio::ssl

#include "absl/container/inlined_vector.h"
#include "absl/status/statusor.h"
#include "gateway/capital/client_config.hpp"
#include "gateway/capital/request_outcome.hpp"

namespace qt::capital {

enum class HttpMethod : uint8_t { kGet, kPost, kPut, kDelete };
std::string_view to_string(HttpMethod method);

// A request header; the caller owns the strings until the exchange returns.
struct HttpHeader {
  std::string_view name;
  std::string_view value;
};

// One request, as views of the caller's strings: the connection copies them only into its own
// request buffer, so building a request allocates nothing.
struct HttpRequest {
  HttpRequest() = default;
  HttpRequest(HttpMethod m, std::string_view t, std::string_view b = {})
      : method(m), target(t), body(b) {}

  HttpMethod method = HttpMethod::kGet;
  std::string_view target;  // path and query below the endpoint's base path, e.g. "/positions"
  std::string_view body;    // JSON; empty = none
  std::span<const HttpHeader> headers;  // besides Host, User-Agent, Accept, Content-Type/Length
};

// The response headers the client acts on (session tokens, 429 backoff); no other is kept.
inline constexpr std::string_view kKeptResponseHeaders[] = {"CST", "X-SECURITY-TOKEN",
                                                            "Retry-After"};

struct HttpResponse {
  int status = 0;
  // Of kKeptResponseHeaders, as received: "Name: value\r\n" each. Inline up to 256 bytes (the
  // broker's tokens take about 100), so keeping them allocates nothing.
  absl::InlinedVector<char, 256> kept_headers;
  std::string body;

  // The value of the first kept header of that name (case-insensitive); empty when absent.
  std::string_view header(std::string_view name) const;
};

enum class TransportError : uint8_t {
  kNone,
  kResolve,        // NotSent
  kConnect,        // NotSent
  kTlsHandshake,   // NotSent
  kCertificate,    // NotSent: the server's certificate failed verification (not retried)
  kWrite,          // NotSent: the request was not completely written
  kPoolExhausted,  // NotSent: no connection became free in time
  kStopped,        // NotSent: refused, the client is stopping (abort())
  kRateLimited,    // NotSent: refused by the client-side rate limiter
  kTimeout,        // OutcomeUnknown: written, no complete answer before the deadline
  kBroken,         // OutcomeUnknown: written, then the connection closed or reset
  kServerError,    // OutcomeUnknown: written, answered 5xx
};
std::string_view to_string(TransportError error);

struct ExchangeResult {
  RequestOutcome outcome = RequestOutcome::kNotSent;
  TransportError error = TransportError::kNone;
  HttpResponse response;           // status != 0 when an answer arrived (also for 5xx)
  std::string detail;              // what happened, for logs and errors; never holds secrets
  bool reused_connection = false;  // ran on a connection that had served an earlier exchange
};

// The TLS settings shared by every connection of a pool (an OpenSSL SSL_CTX).
class TlsContext {
 public:
  // verify=true: the system CA store, or only the CAs of `ca_file` and/or `ca_pem` when
  // given. verify=false: no verification at all (the caller logs that loudly).
  static absl::StatusOr<std::shared_ptr<TlsContext>> create(bool verify, const std::string& ca_file,
                                                            const std::string& ca_pem = {});
  ~TlsContext();
  bool verify() const { return verify_; }

  // The asio SSL context, shared by every connection made with this TlsContext (REST and
  // stream); lives as long as this object.
  boost::asio::ssl::context& asio_context();

 private:
  struct Impl;
  TlsContext(std::unique_ptr<Impl> impl, bool verify);
  std::unique_ptr<Impl> impl_;
  bool verify_;
};

class HttpsConnection {
 public:
  using time_point = std::chrono::steady_clock::time_point;

  // `tls` must be set for an https endpoint and is ignored for http.
  HttpsConnection(RestEndpoint endpoint, std::shared_ptr<TlsContext> tls);
  ~HttpsConnection();
  HttpsConnection(const HttpsConnection&) = delete;
  HttpsConnection& operator=(const HttpsConnection&) = delete;

  // Opens the connection now unless it is open: resolve, connect and TLS handshake within
  // `timeout`. nullopt when open; otherwise the kNotSent failure.
  std::optional<ExchangeResult> ensure_open(std::chrono::nanoseconds timeout);

  // Writes the request and reads the answer within `timeout` (opening the connection first,
  // within the same deadline, if it is not open).
  ExchangeResult exchange(const HttpRequest& request, std::chrono::nanoseconds timeout);

  // Any thread: what is in progress ends now (a request being or already written is
  // kOutcomeUnknown), and every later exchange is refused with kStopped. Not undone.
  void abort();

  bool is_open() const;
  // Open, and the peer has neither closed it nor sent anything unasked (checked with a
  // non-blocking peek at the socket).
  bool peer_alive() const;
  void close();

  time_point last_used() const { return last_used_; }
  uint64_t connects() const { return connects_.load(std::memory_order_relaxed); }  // attempts
  uint64_t exchanges_on_current() const { return exchanges_on_current_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  time_point last_used_{};
  std::atomic<uint64_t> connects_{0};
  uint64_t exchanges_on_current_ = 0;
};

}  // namespace qt::capital
