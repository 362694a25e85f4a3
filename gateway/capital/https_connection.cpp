// Each connection owns a single-threaded io_context and runs one asynchronous Beast operation
// at a time on the caller's thread (start the operation, run the context until it completes).
// Asynchronous operations are what make the deadlines work; to the caller the
// exchange is an ordinary blocking call.
#include "gateway/capital/https_connection.hpp"

#include <openssl/ssl.h>
#include <strings.h>
#include <sys/socket.h>

#include <array>
#include <boost/asio/bind_allocator.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <cerrno>
#include <charconv>
#include <cstddef>
#include <optional>

#include "fmt/format.h"
#include "gateway/capital/client_tls.hpp"
#include "gateway/capital/server_url.hpp"

namespace qt::capital {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
// The io_context's own executor rather than the type-erased any_io_executor: Asio then runs a
// completion inline, or allocates it with the handler's allocator (the connection's arena),
// where any_io_executor would take a fresh heap block for it in every run of the context.
using Executor = asio::io_context::executor_type;
using TcpStream = beast::basic_stream<tcp, Executor>;
using DeadlineTimer =
    asio::basic_waitable_timer<std::chrono::steady_clock,
                               asio::wait_traits<std::chrono::steady_clock>, Executor>;

namespace {

constexpr std::size_t kMaxResponseBody = 64u << 20;  // GET /markets (all markets) is large
constexpr std::string_view kUserAgent = "quanttrading/0.1";

bool same_header_name(std::string_view a, std::string_view b) {
  return a.size() == b.size() && ::strncasecmp(a.data(), b.data(), a.size()) == 0;
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
    case TransportError::kStopped: return "stopped";
    case TransportError::kRateLimited: return "rate limited";
    case TransportError::kTimeout: return "timeout";
    case TransportError::kBroken: return "connection broken";
    case TransportError::kServerError: return "server error";
  }
  return "?";
}

std::string_view HttpResponse::header(std::string_view name) const {
  std::string_view rest(kept_headers.data(), kept_headers.size());
  while (!rest.empty()) {
    const std::size_t end = rest.find("\r\n");
    const std::string_view line = rest.substr(0, end);
    rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 2);
    const std::size_t colon = line.find(": ");
    if (colon != std::string_view::npos && same_header_name(line.substr(0, colon), name)) {
      return line.substr(colon + 2);
    }
  }
  return {};
}

namespace {

// Memory for the Asio operations of an exchange (the write, the read's steps, the deadline
// timer, their completions), kept by the connection and reused by every exchange: a few slots,
// first fit; a larger request, or one beyond them, comes from the heap. One thread at a time.
class OperationArena {
 public:
  void* allocate(std::size_t size) {
    for (Slot& slot : slots_) {
      if (!slot.used && size <= sizeof slot.bytes) {
        slot.used = true;
        return slot.bytes;
      }
    }
    return ::operator new(size);
  }
  void deallocate(void* pointer) noexcept {
    for (Slot& slot : slots_) {
      if (pointer == slot.bytes) {
        slot.used = false;
        return;
      }
    }
    ::operator delete(pointer);
  }

 private:
  struct Slot {
    alignas(std::max_align_t) unsigned char bytes[1024];
    bool used = false;
  };
  std::array<Slot, 4> slots_{};
};

// The allocator Asio and Beast use for an operation whose completion handler carries it.
template <typename T>
struct ArenaAllocator {
  using value_type = T;
  explicit ArenaAllocator(OperationArena& a) noexcept : arena(&a) {}
  template <typename U>
  ArenaAllocator(const ArenaAllocator<U>& other) noexcept  // NOLINT: implicit, Asio rebinds
      : arena(other.arena) {}
  T* allocate(std::size_t n) { return static_cast<T*>(arena->allocate(n * sizeof(T))); }
  void deallocate(T* pointer, std::size_t) noexcept { arena->deallocate(pointer); }
  template <typename U>
  bool operator==(const ArenaAllocator<U>& other) const noexcept {
    return arena == other.arena;
  }
  OperationArena* arena;
};

bool kept_header(std::string_view name) {
  for (const std::string_view kept : kKeptResponseHeaders) {
    if (same_header_name(kept, name)) return true;
  }
  return false;
}

// Reads one response straight into an HttpResponse: the status, the kept headers and the body
// (reserved from Content-Length when the server gives it). No header map, no per-field nodes.
class ResponseReader final : public http::basic_parser<false> {
 public:
  explicit ResponseReader(HttpResponse& out) : out_(out) {}

 private:
  void on_request_impl(http::verb, beast::string_view, beast::string_view, int,
                       beast::error_code&) override {}
  void on_response_impl(int code, beast::string_view, int, beast::error_code&) override {
    out_.status = code;
  }
  void on_field_impl(http::field, beast::string_view name, beast::string_view value,
                     beast::error_code&) override {
    if (!kept_header(std::string_view(name.data(), name.size()))) return;
    auto append = [this](beast::string_view text) {
      out_.kept_headers.insert(out_.kept_headers.end(), text.begin(), text.end());
    };
    append(name);
    append(": ");
    append(value);
    append("\r\n");
  }
  void on_header_impl(beast::error_code&) override {}
  void on_body_init_impl(const boost::optional<std::uint64_t>& content_length,
                         beast::error_code&) override {
    if (content_length) out_.body.reserve(static_cast<std::size_t>(*content_length));
  }
  std::size_t on_body_impl(beast::string_view body, beast::error_code&) override {
    out_.body.append(body.data(), body.size());
    return body.size();
  }
  void on_chunk_header_impl(std::uint64_t, beast::string_view, beast::error_code&) override {}
  std::size_t on_chunk_body_impl(std::uint64_t, beast::string_view body,
                                 beast::error_code& ec) override {
    return on_body_impl(body, ec);
  }
  void on_finish_impl(beast::error_code&) override {}

  HttpResponse& out_;
};

}  // namespace

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
    host_header = url_authority(endpoint.host, endpoint.port, endpoint.tls);
    where = fmt::format("{}:{}", endpoint.host, endpoint.port);
  }

  RestEndpoint endpoint;
  std::shared_ptr<TlsContext> tls;
  std::string host_header;
  std::string where;  // host:port, for messages
  asio::io_context ioc{1};
  std::optional<beast::ssl_stream<TcpStream>> tls_stream;
  std::optional<TcpStream> plain_stream;
  // Kept from exchange to exchange: the response bytes, the request text, the operations'
  // memory and the deadline timer.
  beast::flat_buffer buffer;
  std::string request_text;
  OperationArena arena;
  DeadlineTimer deadline_timer{ioc.get_executor()};
  // abort(): set by any thread before it posts cancel_operations(), checked before each phase, so
  // a phase begun before that handler ran is ended by it and none begins after.
  std::atomic<bool> aborted{false};
  tcp::resolver* resolving = nullptr;  // the caller's thread: the resolve in progress

  bool open() const {
    if (tls_stream) return beast::get_lowest_layer(*tls_stream).socket().is_open();
    if (plain_stream) return plain_stream->socket().is_open();
    return false;
  }

  TcpStream& lowest() { return tls_stream ? beast::get_lowest_layer(*tls_stream) : *plain_stream; }

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

  // Runs on the caller's thread, inside ioc.run(): posted by abort(). Shutting the socket down
  // ends a read pending now and every later read or write at once, not only the pending one.
  void cancel_operations() {
    if (resolving != nullptr) resolving->cancel();
    if (!tls_stream && !plain_stream) return;
    beast::error_code ignored;
    lowest().socket().shutdown(tcp::socket::shutdown_both, ignored);
    lowest().cancel();  // a connect or handshake in progress
  }

  std::optional<ExchangeResult> refuse_if_aborted() {
    if (!aborted.load(std::memory_order_acquire)) return std::nullopt;
    return fail(RequestOutcome::kNotSent, TransportError::kStopped,
                fmt::format("not sent to {}: the client is stopping", where));
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
    resolving = &resolver;
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
    resolving = nullptr;
    if (std::optional<ExchangeResult> refused = refuse_if_aborted()) return refused;
    if (timed_out) {
      return fail(RequestOutcome::kNotSent, TransportError::kResolve,
                  fmt::format("resolving {} timed out", endpoint.host));
    }
    if (resolve_ec) {
      return fail(RequestOutcome::kNotSent, TransportError::kResolve,
                  fmt::format("cannot resolve {}: {}", endpoint.host, resolve_ec.message()));
    }

    if (endpoint.tls) {
      tls_stream.emplace(ioc.get_executor(), tls->asio_context());
    } else {
      plain_stream.emplace(ioc.get_executor());
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

    if (std::optional<ExchangeResult> refused = refuse_if_aborted()) return refused;
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

  // The request's text, in the buffer the connection keeps (its capacity survives).
  void write_request_text(const HttpRequest& request) {
    std::string& out = request_text;
    out.clear();
    out.append(to_string(request.method)).append(" ").append(endpoint.base_path);
    out.append(request.target).append(" HTTP/1.1\r\nHost: ").append(host_header);
    out.append("\r\nUser-Agent: ").append(kUserAgent);
    out.append("\r\nAccept: application/json\r\n");
    for (const HttpHeader& h : request.headers) {
      out.append(h.name).append(": ").append(h.value).append("\r\n");
    }
    if (!request.body.empty()) out.append("Content-Type: application/json\r\n");
    // As Beast's prepare_payload: a GET without a body says nothing about its length.
    if (!request.body.empty() || request.method != HttpMethod::kGet) {
      char digits[24];
      const auto end = std::to_chars(digits, digits + sizeof digits, request.body.size()).ptr;
      out.append("Content-Length: ").append(digits, end).append("\r\n");
    }
    out.append("\r\n").append(request.body);
  }

  // Writes the request, then reads the answer, in one run of the context under one deadline
  // timer; every operation's memory comes from `arena`.
  template <typename Stream>
  ExchangeResult exchange_on(Stream& stream, const HttpRequest& request,
                             std::chrono::steady_clock::time_point deadline) {
    write_request_text(request);
    ExchangeResult result;
    ResponseReader reader(result.response);
    reader.body_limit(kMaxResponseBody);
    const ArenaAllocator<void> memory(arena);
    bool written = false;
    bool timed_out = false;
    beast::error_code ec;
    lowest().expires_never();
    deadline_timer.expires_at(deadline);
    deadline_timer.async_wait(asio::bind_allocator(memory, [&](beast::error_code waited) {
      if (waited) return;  // cancelled: the exchange ended first
      timed_out = true;
      beast::error_code ignored;
      lowest().socket().cancel(ignored);
    }));
    asio::async_write(stream, asio::buffer(request_text),
                      asio::bind_allocator(memory, [&](beast::error_code wrote, std::size_t) {
                        written = !wrote;
                        if (wrote) {
                          ec = wrote;
                          deadline_timer.cancel();
                          return;
                        }
                        http::async_read(
                            stream, buffer, reader,
                            asio::bind_allocator(memory, [&](beast::error_code read, std::size_t) {
                              ec = read;
                              deadline_timer.cancel();
                            }));
                      }));
    ioc.restart();
    ioc.run();

    const std::string_view method = to_string(request.method);
    if (!written && aborted.load(std::memory_order_acquire)) {
      // Cut short by abort(), not by the network: the bytes may all have left already.
      return fail(RequestOutcome::kOutcomeUnknown, TransportError::kBroken,
                  fmt::format("writing {} {}{} to {} was abandoned", method, endpoint.base_path,
                              request.target, where));
    }
    if (!written) {
      return fail(RequestOutcome::kNotSent, TransportError::kWrite,
                  timed_out ? fmt::format("writing {} {}{} to {} timed out", method,
                                          endpoint.base_path, request.target, where)
                            : fmt::format("writing {} {}{} to {} failed: {}", method,
                                          endpoint.base_path, request.target, where, ec.message()));
    }
    if (ec) {
      return fail(RequestOutcome::kOutcomeUnknown,
                  timed_out ? TransportError::kTimeout : TransportError::kBroken,
                  timed_out
                      ? fmt::format("no answer to {} {}{} from {} before the deadline", method,
                                    endpoint.base_path, request.target, where)
                      : fmt::format("connection to {} broke after {} {}{} was sent: {}", where,
                                    method, endpoint.base_path, request.target, ec.message()));
    }
    if (!reader.keep_alive()) reset();
    if (result.response.status >= 500) {
      result.outcome = RequestOutcome::kOutcomeUnknown;
      result.error = TransportError::kServerError;
      result.detail = fmt::format("{} {}{} answered HTTP {}", method, endpoint.base_path,
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

void HttpsConnection::abort() {
  impl_->aborted.store(true, std::memory_order_release);
  asio::post(impl_->ioc, [impl = impl_.get()] { impl->cancel_operations(); });
}

std::optional<ExchangeResult> HttpsConnection::ensure_open(std::chrono::nanoseconds timeout) {
  if (std::optional<ExchangeResult> refused = impl_->refuse_if_aborted()) return refused;
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
  if (result.outcome != RequestOutcome::kAnswered && impl_->aborted.load()) {
    result.detail += " (abandoned: the client is stopping)";
  }
  result.reused_connection = reused;
  ++exchanges_on_current_;
  last_used_ = std::chrono::steady_clock::now();
  return result;
}

}  // namespace qt::capital
