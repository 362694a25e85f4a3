// Each connection owns a single-threaded io_context and runs one asynchronous Beast operation
// at a time on the caller's thread (start the operation, run the context until it completes).
// Asynchronous operations are what make beast::tcp_stream's deadline work; to the caller the
// exchange is an ordinary blocking call.
#include "gateway/capital/https_connection.hpp"

#include <openssl/ssl.h>
#include <strings.h>
#include <sys/socket.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <cerrno>
#include <optional>

#include "fmt/format.h"
#include "gateway/capital/client_tls.hpp"

namespace qt::capital {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

namespace {

constexpr std::size_t kMaxResponseBody = 64u << 20;  // GET /markets (all markets) is large
constexpr std::string_view kUserAgent = "quanttrading/0.1";

http::verb to_verb(HttpMethod method) {
  switch (method) {
    case HttpMethod::kGet: return http::verb::get;
    case HttpMethod::kPost: return http::verb::post;
    case HttpMethod::kPut: return http::verb::put;
    case HttpMethod::kDelete: return http::verb::delete_;
  }
  return http::verb::get;
}

std::string str(beast::string_view s) {
  return std::string(s.data(), s.size());
}

}  // namespace

std::string_view to_string(HttpMethod method) {
  switch (method) {
    case HttpMethod::kGet: return "GET";
    case HttpMethod::kPost: return "POST";
    case HttpMethod::kPut: return "PUT";
    case HttpMethod::kDelete: return "DELETE";
  }
  return "?";
}

std::string_view to_string(TransportError error) {
  switch (error) {
    case TransportError::kNone: return "none";
    case TransportError::kResolve: return "resolve";
    case TransportError::kConnect: return "connect";
    case TransportError::kTlsHandshake: return "tls handshake";
    case TransportError::kCertificate: return "certificate";
    case TransportError::kWrite: return "write";
    case TransportError::kPoolExhausted: return "pool exhausted";
    case TransportError::kRateLimited: return "rate limited";
    case TransportError::kTimeout: return "timeout";
    case TransportError::kBroken: return "connection broken";
    case TransportError::kServerError: return "server error";
  }
  return "?";
}

const std::string* HttpResponse::header(std::string_view name) const {
  for (const HttpHeader& h : headers) {
    if (h.name.size() == name.size() &&
        ::strncasecmp(h.name.data(), name.data(), name.size()) == 0) {
      return &h.value;
    }
  }
  return nullptr;
}

// ---------------------------------------------------------------------------------------------
// TLS context.

struct TlsContext::Impl {
  ssl::context context{ssl::context::tls_client};
};

TlsContext::TlsContext(std::unique_ptr<Impl> impl, bool verify)
    : impl_(std::move(impl)), verify_(verify) {}
TlsContext::~TlsContext() = default;
ssl::context& TlsContext::asio_context() {
  return impl_->context;
}

absl::StatusOr<std::shared_ptr<TlsContext>> TlsContext::create(bool verify,
                                                               const std::string& ca_file,
                                                               const std::string& ca_pem) {
  auto impl = std::make_unique<Impl>();
  beast::error_code ec;
  impl->context.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                                ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                                ssl::context::no_tlsv1_1,
                            ec);
  if (ec) return absl::InternalError("TLS: cannot set protocol options: " + ec.message());
  if (verify) {
    impl->context.set_verify_mode(ssl::verify_peer);
    if (ca_file.empty() && ca_pem.empty()) {
      impl->context.set_default_verify_paths(ec);
      if (ec) return absl::InternalError("TLS: cannot load the system CA store: " + ec.message());
    }
    if (!ca_file.empty()) {
      impl->context.load_verify_file(ca_file, ec);
      if (ec) {
        return absl::InvalidArgumentError(
            fmt::format("TLS: cannot load CA file '{}': {}", ca_file, ec.message()));
      }
    }
    if (!ca_pem.empty()) {
      impl->context.add_certificate_authority(asio::buffer(ca_pem), ec);
      if (ec) return absl::InvalidArgumentError("TLS: cannot load the CA PEM: " + ec.message());
    }
  } else {
    impl->context.set_verify_mode(ssl::verify_none);
  }
  return std::shared_ptr<TlsContext>(new TlsContext(std::move(impl), verify));
}

// ---------------------------------------------------------------------------------------------
// Connection.

struct HttpsConnection::Impl {
  Impl(RestEndpoint e, std::shared_ptr<TlsContext> t) : endpoint(std::move(e)), tls(std::move(t)) {
    const bool default_port =
        (endpoint.tls && endpoint.port == 443) || (!endpoint.tls && endpoint.port == 80);
    const bool ipv6 = endpoint.host.find(':') != std::string::npos;
    host_header = ipv6 ? "[" + endpoint.host + "]" : endpoint.host;
    if (!default_port) host_header += fmt::format(":{}", endpoint.port);
    where = fmt::format("{}:{}", endpoint.host, endpoint.port);
  }

  RestEndpoint endpoint;
  std::shared_ptr<TlsContext> tls;
  std::string host_header;
  std::string where;  // host:port, for messages
  asio::io_context ioc{1};
  std::optional<beast::ssl_stream<beast::tcp_stream>> tls_stream;
  std::optional<beast::tcp_stream> plain_stream;
  beast::flat_buffer buffer;

  bool open() const {
    if (tls_stream) return beast::get_lowest_layer(*tls_stream).socket().is_open();
    if (plain_stream) return plain_stream->socket().is_open();
    return false;
  }

  beast::tcp_stream& lowest() {
    return tls_stream ? beast::get_lowest_layer(*tls_stream) : *plain_stream;
  }

  void reset() {
    if (tls_stream) {
      beast::error_code ignored;
      beast::get_lowest_layer(*tls_stream).socket().close(ignored);
    }
    if (plain_stream) {
      beast::error_code ignored;
      plain_stream->socket().close(ignored);
    }
    tls_stream.reset();
    plain_stream.reset();
    buffer.clear();
  }

  // Starts one asynchronous operation and runs the context until it has completed.
  template <typename Start>
  beast::error_code run(Start&& start) {
    beast::error_code result = asio::error::operation_aborted;
    start([&result](beast::error_code ec, auto&&...) { result = ec; });
    ioc.restart();
    ioc.run();
    return result;
  }

  ExchangeResult fail(RequestOutcome outcome, TransportError error, std::string detail) {
    reset();
    ExchangeResult result;
    result.outcome = outcome;
    result.error = error;
    result.detail = std::move(detail);
    return result;
  }

  // Resolve, connect and (for https) handshake. Returns a result only on failure.
  std::optional<ExchangeResult> connect(std::chrono::steady_clock::time_point deadline) {
    reset();
    tcp::resolver resolver(ioc);
    asio::steady_timer timer(ioc);
    beast::error_code resolve_ec;
    tcp::resolver::results_type endpoints;
    bool timed_out = false;
    resolver.async_resolve(endpoint.host, std::to_string(endpoint.port),
                           [&](beast::error_code ec, tcp::resolver::results_type results) {
                             resolve_ec = ec;
                             endpoints = std::move(results);
                             timer.cancel();
                           });
    timer.expires_at(deadline);
    timer.async_wait([&](beast::error_code ec) {
      if (!ec) {
        timed_out = true;
        resolver.cancel();
      }
    });
    ioc.restart();
    ioc.run();
    if (timed_out) {
      return fail(RequestOutcome::kNotSent, TransportError::kResolve,
                  fmt::format("resolving {} timed out", endpoint.host));
    }
    if (resolve_ec) {
      return fail(RequestOutcome::kNotSent, TransportError::kResolve,
                  fmt::format("cannot resolve {}: {}", endpoint.host, resolve_ec.message()));
    }

    if (endpoint.tls) {
      tls_stream.emplace(ioc, tls->asio_context());
    } else {
      plain_stream.emplace(ioc);
    }
    lowest().expires_at(deadline);
    beast::error_code ec = run([&](auto handler) { lowest().async_connect(endpoints, handler); });
    if (ec) {
      return fail(RequestOutcome::kNotSent, TransportError::kConnect,
                  ec == beast::error::timeout
                      ? fmt::format("connecting to {} timed out", where)
                      : fmt::format("cannot connect to {}: {}", where, ec.message()));
    }
    beast::error_code ignored;
    lowest().socket().set_option(tcp::no_delay(true), ignored);
    if (!endpoint.tls) return std::nullopt;

    SSL* native = tls_stream->native_handle();
    if (absl::Status prepared = prepare_client_tls(native, endpoint.host, tls->verify());
        !prepared.ok()) {
      return fail(RequestOutcome::kNotSent, TransportError::kTlsHandshake,
                  std::string(prepared.message()));
    }
    lowest().expires_at(deadline);
    ec = run([&](auto handler) { tls_stream->async_handshake(ssl::stream_base::client, handler); });
    if (ec) {
      const std::string certificate = certificate_failure(native);
      if (tls->verify() && !certificate.empty()) {
        return fail(
            RequestOutcome::kNotSent, TransportError::kCertificate,
            fmt::format("TLS: the certificate of {} failed verification: {}", where, certificate));
      }
      return fail(RequestOutcome::kNotSent, TransportError::kTlsHandshake,
                  ec == beast::error::timeout
                      ? fmt::format("TLS handshake with {} timed out", where)
                      : fmt::format("TLS handshake with {} failed: {}", where, ec.message()));
    }
    return std::nullopt;
  }

  template <typename Stream>
  ExchangeResult exchange_on(Stream& stream, const HttpRequest& request,
                             std::chrono::steady_clock::time_point deadline) {
    http::request<http::string_body> req{to_verb(request.method), request.target, 11};
    req.set(http::field::host, host_header);
    req.set(http::field::user_agent, kUserAgent);
    req.set(http::field::accept, "application/json");
    for (const HttpHeader& h : request.headers) req.set(h.name, h.value);
    if (!request.body.empty()) {
      req.set(http::field::content_type, "application/json");
      req.body() = request.body;
    }
    req.prepare_payload();

    lowest().expires_at(deadline);
    beast::error_code ec = run([&](auto handler) { http::async_write(stream, req, handler); });
    if (ec) {
      return fail(RequestOutcome::kNotSent, TransportError::kWrite,
                  ec == beast::error::timeout
                      ? fmt::format("writing {} {} to {} timed out", to_string(request.method),
                                    request.target, where)
                      : fmt::format("writing {} {} to {} failed: {}", to_string(request.method),
                                    request.target, where, ec.message()));
    }

    http::response_parser<http::string_body> parser;
    parser.body_limit(kMaxResponseBody);
    lowest().expires_at(deadline);
    ec = run([&](auto handler) { http::async_read(stream, buffer, parser, handler); });
    if (ec) {
      const bool timeout = ec == beast::error::timeout;
      return fail(RequestOutcome::kOutcomeUnknown,
                  timeout ? TransportError::kTimeout : TransportError::kBroken,
                  timeout ? fmt::format("no answer to {} {} from {} before the deadline",
                                        to_string(request.method), request.target, where)
                          : fmt::format("connection to {} broke after {} {} was sent: {}", where,
                                        to_string(request.method), request.target, ec.message()));
    }
    lowest().expires_never();

    ExchangeResult result;
    http::response<http::string_body>& res = parser.get();
    result.response.status = static_cast<int>(res.result_int());
    for (const auto& field : res) {
      result.response.headers.push_back({str(field.name_string()), str(field.value())});
    }
    result.response.body = std::move(res.body());
    if (!parser.keep_alive()) reset();
    if (result.response.status >= 500) {
      result.outcome = RequestOutcome::kOutcomeUnknown;
      result.error = TransportError::kServerError;
      result.detail = fmt::format("{} {} answered HTTP {}", to_string(request.method),
                                  request.target, result.response.status);
    } else {
      result.outcome = RequestOutcome::kAnswered;
    }
    return result;
  }
};

HttpsConnection::HttpsConnection(RestEndpoint endpoint, std::shared_ptr<TlsContext> tls)
    : impl_(std::make_unique<Impl>(std::move(endpoint), std::move(tls))) {}

HttpsConnection::~HttpsConnection() = default;

bool HttpsConnection::is_open() const {
  return impl_->open();
}

bool HttpsConnection::peer_alive() const {
  if (!impl_->open() || impl_->buffer.size() != 0) return false;
  if (impl_->tls_stream && SSL_pending(impl_->tls_stream->native_handle()) > 0) return false;
  const int fd = impl_->tls_stream
                     ? beast::get_lowest_layer(*impl_->tls_stream).socket().native_handle()
                     : impl_->plain_stream->socket().native_handle();
  char byte;
  const ssize_t n = ::recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  if (n >= 0) return false;  // 0: the peer closed; > 0: unasked bytes (e.g. a TLS alert)
  return errno == EAGAIN || errno == EWOULDBLOCK;
}

void HttpsConnection::close() {
  impl_->reset();
}

std::optional<ExchangeResult> HttpsConnection::ensure_open(std::chrono::nanoseconds timeout) {
  if (impl_->open()) return std::nullopt;
  exchanges_on_current_ = 0;
  if (impl_->endpoint.tls && !impl_->tls) {
    return impl_->fail(RequestOutcome::kNotSent, TransportError::kTlsHandshake,
                       "TLS: no TLS context for an https endpoint");
  }
  connects_.fetch_add(1, std::memory_order_relaxed);
  return impl_->connect(std::chrono::steady_clock::now() +
                        std::chrono::duration_cast<std::chrono::steady_clock::duration>(timeout));
}

ExchangeResult HttpsConnection::exchange(const HttpRequest& request,
                                         std::chrono::nanoseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::duration_cast<std::chrono::steady_clock::duration>(timeout);
  if (std::optional<ExchangeResult> failed = ensure_open(timeout)) return *failed;
  const bool reused = exchanges_on_current_ > 0;
  ExchangeResult result = impl_->tls_stream
                              ? impl_->exchange_on(*impl_->tls_stream, request, deadline)
                              : impl_->exchange_on(*impl_->plain_stream, request, deadline);
  result.reused_connection = reused;
  ++exchanges_on_current_;
  last_used_ = std::chrono::steady_clock::now();
  return result;
}

}  // namespace qt::capital
