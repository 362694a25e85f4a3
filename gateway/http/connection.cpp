// One HTTP/1.1 connection: read a request (Beast's parser, straight into a Request), route it,
// check the key, ask the admission step, run the handler, write its response, repeat — all on
// the connection's I/O thread. Deadlines are the connection's own timer, which cancels the
// socket's operation when it fires, so the connection can still answer 408 (Beast's
// tcp_stream would have closed the socket).
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <array>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/basic_parser.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <chrono>
#include <cstring>
#include <ctime>
#include <exception>

#include "gateway/http/request_builder.hpp"
#include "gateway/http/server_core.hpp"

namespace qt::http::detail {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

constexpr std::size_t kFirstReadBytes = 1024;
// A connection being closed is drained for at most this long and this many bytes, so that the
// client reads our last response instead of a reset caused by its unread bytes.
constexpr std::chrono::milliseconds kLingerTime{2000};
constexpr std::chrono::milliseconds kLingerTimeWhenStopping{100};
constexpr std::size_t kLingerBytes = 1 << 20;
constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";

std::string_view sv(beast::string_view text) {
  return {text.data(), text.size()};
}

bool equals_ignoring_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

bool is_token_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         std::strchr("!#$%&'*+-.^_`|~", c) != nullptr;
}

bool valid_header(const Header& header) {
  if (header.name.empty()) return false;
  for (const char c : header.name) {
    if (c == '\0' || !is_token_char(c)) return false;
  }
  return header.value.find_first_of(std::string_view("\r\n\0", 3)) == std::string::npos;
}

// Headers the server writes itself; a handler's copy of them is dropped, so that a handler
// cannot desynchronise the framing of the connection.
bool server_managed(std::string_view name) {
  for (const std::string_view managed :
       {"content-length", "transfer-encoding", "connection", "date", "server", "content-type"}) {
    if (equals_ignoring_case(name, managed)) return true;
  }
  return false;
}

asio::ip::address unmapped(const asio::ip::address& address) {
  if (address.is_v6() && address.to_v6().is_v4_mapped()) {
    return asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6());
  }
  return address;
}

// Beast's request parser, writing straight into the connection's Request: no header map, no
// per-field allocation once the connection's buffers have grown to its requests' size.
class RequestParser final : public bhttp::basic_parser<true> {
 public:
  explicit RequestParser(Request& request) : builder_(request) {}

 private:
  void on_request_impl(bhttp::verb, beast::string_view method, beast::string_view target,
                       int version, beast::error_code& ec) override {
    if (!builder_.set_request_line(sv(method), sv(target), static_cast<unsigned>(version))) {
      ec = bhttp::error::bad_target;
    }
  }
  void on_response_impl(int, beast::string_view, int, beast::error_code&) override {}
  void on_field_impl(bhttp::field, beast::string_view name, beast::string_view value,
                     beast::error_code&) override {
    builder_.add_header(sv(name), sv(value));
  }
  void on_header_impl(beast::error_code&) override {}
  void on_body_init_impl(const boost::optional<std::uint64_t>& content_length,
                         beast::error_code&) override {
    // Already checked against the body limit by the parser.
    if (content_length) builder_.body().reserve(static_cast<std::size_t>(*content_length));
  }
  std::size_t on_body_impl(beast::string_view body, beast::error_code&) override {
    builder_.body().append(body.data(), body.size());
    return body.size();
  }
  void on_chunk_header_impl(std::uint64_t, beast::string_view, beast::error_code&) override {}
  std::size_t on_chunk_body_impl(std::uint64_t, beast::string_view body,
                                 beast::error_code& ec) override {
    return on_body_impl(body, ec);
  }
  void on_finish_impl(beast::error_code&) override {}

  RequestBuilder builder_;
};

// Bytes read and thrown away while lingering; shared by the connections of one thread.
char* discard_buffer() {
  thread_local std::array<char, 4096> buffer;
  return buffer.data();
}

class HttpConnection final : public std::enable_shared_from_this<HttpConnection>,
                             public ExchangeSink,
                             public Closable {
 public:
  HttpConnection(ServerCore& core, std::size_t context, tcp::socket socket)
      : core_(core),
        context_(context),
        executor_(core.contexts[context]->get_executor()),
        socket_(std::move(socket)),
        deadline_(executor_),
        // Room for a full header (whose limit the parser enforces) and a read beyond it.
        buffer_(core.options.max_header_bytes + 2 * kFirstReadBytes),
        id_(core.next_connection_id.fetch_add(1, std::memory_order_relaxed)) {}

  void start() {
    core_.registries[context_].emplace(this, weak_from_this());
    beast::error_code ec;
    socket_.set_option(tcp::no_delay(true), ec);
    const tcp::endpoint peer = socket_.remote_endpoint(ec);
    if (ec || core_.stopping.load(std::memory_order_relaxed)) {
      close_now();
      return;
    }
    peer_ = unmapped(peer.address());
    peer_text_ = peer_.to_string();
    read_next();
  }

  void post_response(uint64_t exchange, Response response) override {
    asio::post(executor_,
               [self = shared_from_this(), exchange, response = std::move(response)]() mutable {
                 self->on_response(exchange, std::move(response));
               });
  }

  void post_admission(uint64_t exchange, AdmissionResult result) override {
    asio::post(executor_,
               [self = shared_from_this(), exchange, result = std::move(result)]() mutable {
                 self->on_admission(exchange, std::move(result));
               });
  }

  void begin_shutdown() override {
    shutting_down_ = true;
    if (phase_ == Phase::kIdle || phase_ == Phase::kClosing) close_now();
  }

  void force_close() override { close_now(); }

 private:
  enum class Phase : uint8_t {
    kIdle,       // waiting for the first byte of a request
    kHeader,     // reading the request line and headers
    kBody,       // reading the body
    kAdmitting,  // waiting for the admission step
    kHandling,   // waiting for the handler's Responder
    kWriting,    // writing the response
    kClosing,    // half-closed, draining before the close
    kClosed,
  };

  // --- deadlines ------------------------------------------------------------------------------

  void arm(Clock::time_point deadline) {
    timed_out_ = false;
    deadline_.expires_at(deadline);
    deadline_.async_wait(
        [self = shared_from_this(), generation = ++timer_generation_](const beast::error_code& ec) {
          if (ec || generation != self->timer_generation_ || self->phase_ == Phase::kClosed) return;
          self->timed_out_ = true;
          beast::error_code ignored;
          self->socket_.cancel(ignored);
        });
  }

  void disarm() {
    ++timer_generation_;
    deadline_.cancel();
  }

  // --- reading --------------------------------------------------------------------------------

  void read_next() {
    if (shutting_down_) {
      close_now();
      return;
    }
    RequestBuilder builder(request_);
    builder.clear();
    builder.set_connection_id(id_);
    parser_.emplace(request_);
    parser_->header_limit(static_cast<std::uint32_t>(core_.options.max_header_bytes));
    parser_->body_limit(static_cast<std::uint64_t>(core_.options.max_body_bytes));
    admission_headers_.clear();
    close_after_response_ = false;
    response_status_ = 0;
    response_body_bytes_ = 0;
    route_ = nullptr;
    if (buffer_.size() > 0) {  // a pipelined request is already here
      start_header();
      return;
    }
    phase_ = Phase::kIdle;
    arm(Clock::now() + core_.options.idle_timeout);
    socket_.async_read_some(
        buffer_.prepare(kFirstReadBytes),
        [self = shared_from_this()](const beast::error_code& ec, std::size_t n) {
          if (self->phase_ == Phase::kClosed) return;
          if (ec) {  // idle timeout, the client closed, a reset: nothing to answer
            self->close_now();
            return;
          }
          self->buffer_.commit(n);
          self->start_header();
        });
  }

  void start_header() {
    phase_ = Phase::kHeader;
    started_ = Clock::now();
    arm(started_ + core_.options.header_timeout);
    bhttp::async_read_header(socket_, buffer_, *parser_,
                             [self = shared_from_this()](const beast::error_code& ec, std::size_t) {
                               self->on_header(ec);
                             });
  }

  void on_header(const beast::error_code& ec) {
    if (phase_ == Phase::kClosed) return;
    if (ec) {
      on_read_error(ec);
      return;
    }
    if (parser_->is_done()) {
      on_request_read();
      return;
    }
    const std::optional<std::string_view> expect = request_.header("Expect");
    if (expect && equals_ignoring_case(*expect, "100-continue") && request_.version() >= 11) {
      // The client waits for this before sending the body (curl does for bodies over 1 KiB).
      arm(Clock::now() + core_.options.write_timeout);
      asio::async_write(socket_, asio::buffer(kContinue),
                        [self = shared_from_this()](const beast::error_code& ec, std::size_t) {
                          if (self->phase_ == Phase::kClosed) return;
                          if (ec) {
                            self->close_now();
                            return;
                          }
                          self->start_body();
                        });
      return;
    }
    start_body();
  }

  void start_body() {
    phase_ = Phase::kBody;
    arm(Clock::now() + core_.options.body_timeout);
    bhttp::async_read(socket_, buffer_, *parser_,
                      [self = shared_from_this()](const beast::error_code& ec, std::size_t) {
                        if (self->phase_ == Phase::kClosed) return;
                        if (ec) {
                          self->on_read_error(ec);
                          return;
                        }
                        self->on_request_read();
                      });
  }

  void on_read_error(const beast::error_code& ec) {
    disarm();
    if (timed_out_) {
      const bool header = phase_ == Phase::kHeader;
      if (header) core_.header_timeouts.fetch_add(1, std::memory_order_relaxed);
      spdlog::debug("http: connection {} from {}: request {} timed out", id_, peer_text_,
                    header ? "header" : "body");
      respond_error(408, "request_timeout",
                    header ? "the request header did not arrive in time"
                           : "the request body did not arrive in time",
                    {}, /*close=*/true);
      return;
    }
    const beast::error_code end_of_stream = bhttp::error::end_of_stream;
    if (ec.category() != end_of_stream.category() || ec == bhttp::error::end_of_stream ||
        ec == bhttp::error::partial_message) {
      close_now();  // the client went away, or a socket error: nobody to answer
      return;
    }
    if (ec == bhttp::error::header_limit || ec == bhttp::error::buffer_overflow) {
      respond_error(431, "header_too_large",
                    fmt::format("the request line and headers exceed {} bytes",
                                core_.options.max_header_bytes),
                    {}, true);
      return;
    }
    if (ec == bhttp::error::body_limit) {
      respond_error(413, "body_too_large",
                    fmt::format("the request body exceeds {} bytes", core_.options.max_body_bytes),
                    {}, true);
      return;
    }
    // Beast's own description of what is malformed ("bad method", "bad field"...): fixed
    // texts, never the request's bytes.
    respond_error(400, "malformed_request", fmt::format("malformed request: {}", ec.message()), {},
                  true);
  }

  // --- dispatch -------------------------------------------------------------------------------

  void on_request_read() {
    disarm();
    keep_alive_ = parser_->keep_alive();
    request_body_bytes_ = request_.body().size();
    const std::string client =
        core_.options.trusted_proxies.empty()
            ? peer_text_
            : core_.options.trusted_proxies
                  .client_address(peer_, request_.joined_header("X-Forwarded-For"),
                                  request_.header("X-Real-IP").value_or(std::string_view()))
                  .to_string();
    RequestBuilder builder(request_);
    builder.set_addresses(peer_text_, client);

    const RouteMatch match = core_.router.match(request_.method(), request_.path(), &request_);
    if (match.outcome == RouteMatch::Outcome::kNotFound) {
      respond_error(404, "not_found", "no route for this path");
      return;
    }
    if (match.outcome == RouteMatch::Outcome::kMethodNotAllowed) {
      respond_error(405, "method_not_allowed", fmt::format("this path accepts {}", match.allow),
                    {{"Allow", match.allow}});
      return;
    }
    route_ = match.route;

    if (route_->min_role != Role::kPublic) {
      const std::string_view authorization =
          request_.header("Authorization").value_or(std::string_view());
      const absl::StatusOr<Principal> principal =
          core_.options.api_keys
              ? core_.options.api_keys->authenticate(authorization, route_->min_role)
              : absl::StatusOr<Principal>(absl::UnauthenticatedError("no API keys are configured"));
      if (!principal.ok()) {
        const bool forbidden = absl::IsPermissionDenied(principal.status());
        const std::string message(principal.status().message());
        // The status message names the key's name at most, never the key (api_keys.hpp).
        spdlog::debug("http: {} {} {} from {}: {}", forbidden ? 403 : 401,
                      to_string(request_.method()), route_->label, request_.client_address(),
                      message);
        if (forbidden) {
          respond_error(403, "forbidden", message);
        } else {
          respond_error(401, "unauthorized", message, {{"WWW-Authenticate", "Bearer"}});
        }
        return;
      }
      builder.set_principal(*principal);
    }

    if (route_->websocket) {
      upgrade_ = build_upgrade_request();
      if (!beast::websocket::is_upgrade(*upgrade_)) {
        respond_error(426, "upgrade_required", "this route is a WebSocket: send an upgrade",
                      {{"Upgrade", "websocket"}});
        return;
      }
    }

    if (core_.options.admission) {
      phase_ = Phase::kAdmitting;
      AdmissionReply reply(handle(++exchange_));
      try {
        core_.options.admission(request_, std::move(reply));
      } catch (const std::exception& e) {  // the reply, destroyed undecided, answers 500
        spdlog::error("http: the admission step threw on {}: {}", route_->label, e.what());
      }
      return;
    }
    run_handler();
  }

  void on_admission(uint64_t exchange, AdmissionResult result) {
    if (phase_ != Phase::kAdmitting || exchange != exchange_) return;  // closed meanwhile
    admission_headers_ = std::move(result.headers);
    if (result.rejection) {
      respond(std::move(*result.rejection));
      return;
    }
    run_handler();
  }

  void run_handler() {
    if (route_->json_body &&
        !is_json_content_type(request_.header("Content-Type").value_or(std::string_view()))) {
      respond_error(415, "unsupported_media_type", "the body must be application/json");
      return;
    }
    if (route_->websocket) {
      hand_over_to_websocket();
      return;
    }
    phase_ = Phase::kHandling;
    Responder responder(handle(++exchange_));
    try {
      core_.router.handler (*route_)(request_, std::move(responder));
    } catch (const std::exception& e) {  // the Responder, destroyed unanswered, answers 500
      spdlog::error("http: the handler of {} threw: {}", route_->label, e.what());
    }
  }

  void on_response(uint64_t exchange, Response response) {
    if (phase_ != Phase::kHandling || exchange != exchange_) return;  // closed meanwhile
    respond(std::move(response));
  }

  ExchangeHandle handle(uint64_t exchange) {
    return ExchangeHandle{core_.keep_alive(), shared_from_this(), exchange};
  }

  bhttp::request<bhttp::empty_body> build_upgrade_request() const {
    bhttp::request<bhttp::empty_body> upgrade;
    upgrade.method_string(request_.method_text());
    upgrade.target(request_.target());
    upgrade.version(request_.version());
    for (std::size_t i = 0; i < request_.header_count(); ++i) {
      const auto [name, value] = request_.header_at(i);
      upgrade.insert(name, value);
    }
    return upgrade;
  }

  void hand_over_to_websocket() {
    response_status_ = 101;
    observe(true);
    // The channel keeps this connection's slot in connections_open.
    core_.registries[context_].erase(this);
    phase_ = Phase::kClosed;
    disarm();
    start_websocket_channel(core_, context_, beast::tcp_stream(std::move(socket_)),
                            std::move(*upgrade_), std::move(request_),
                            core_.router.websocket_handler(*route_));
  }

  // --- writing --------------------------------------------------------------------------------

  void respond_error(int status, std::string_view code, std::string_view message,
                     HeaderList headers = {}, bool close = false) {
    Response response = error_response(status, code, message);
    response.headers = std::move(headers);
    if (close) close_after_response_ = true;
    respond(std::move(response));
  }

  void respond(Response response) {
    if (response.status < 200 || response.status > 599) {
      spdlog::error("http: the handler of {} answered status {}; sent 500 instead",
                    route_ ? std::string_view(route_->label) : kUnmatchedRouteLabel,
                    response.status);
      response = error_response(500, "internal", "the handler gave an invalid status");
    }
    if (!keep_alive_ || shutting_down_) close_after_response_ = true;
    const bool head = request_.method() == Method::kHead;
    const bool bodiless = response.status == 204 || response.status == 304;
    response_status_ = response.status;
    response_body_bytes_ = response.body.size();

    out_.clear();
    const auto put = [this](std::string_view text) { out_.append(text); };
    put(fmt::format("HTTP/1.1 {} {}\r\n", response.status, reason_phrase(response.status)));
    put("Server: quanttrading\r\nDate: ");
    put(http_date_now());
    put("\r\n");
    if (!bodiless) {
      if (!response.content_type.empty()) {
        put("Content-Type: ");
        put(response.content_type);
        put("\r\n");
      }
      put(fmt::format("Content-Length: {}\r\n", response.body.size()));
    }
    if (close_after_response_) {
      put("Connection: close\r\n");
    } else if (request_.version() == 10) {
      put("Connection: keep-alive\r\n");
    }
    for (const HeaderList* list : {&admission_headers_, &response.headers}) {
      for (const Header& header : *list) {
        if (!valid_header(header) || server_managed(header.name)) {
          spdlog::warn("http: response header '{}' dropped (invalid or managed by the server)",
                       header.name.substr(0, 64));
          continue;
        }
        put(header.name);
        put(": ");
        put(header.value);
        put("\r\n");
      }
    }
    put("\r\n");
    if (!head && !bodiless) put(response.body);

    phase_ = Phase::kWriting;
    arm(Clock::now() + core_.options.write_timeout);
    asio::async_write(socket_, asio::buffer(out_),
                      [self = shared_from_this()](const beast::error_code& ec, std::size_t) {
                        self->on_written(ec);
                      });
  }

  void on_written(const beast::error_code& ec) {
    if (phase_ == Phase::kClosed) return;
    disarm();
    core_.requests.fetch_add(1, std::memory_order_relaxed);
    observe(!ec);
    if (ec) {
      close_now();
      return;
    }
    if (close_after_response_) {
      linger_then_close();
      return;
    }
    read_next();
  }

  void observe(bool written) {
    if (!core_.options.on_request) return;
    RequestRecord record;
    record.route_label = route_ ? std::string_view(route_->label) : kUnmatchedRouteLabel;
    record.method = to_string(request_.method());
    record.status = response_status_;
    record.duration = Clock::now() - started_;
    record.client_address = request_.client_address().empty() ? std::string_view(peer_text_)
                                                              : request_.client_address();
    record.principal =
        request_.principal() ? std::string_view(request_.principal()->name) : std::string_view();
    record.request_body_bytes = request_body_bytes_;
    record.response_body_bytes = response_body_bytes_;
    record.connection_id = id_;
    record.written = written;
    try {
      core_.options.on_request(record);
    } catch (const std::exception& e) {
      spdlog::error("http: the request observer threw: {}", e.what());
    }
  }

  // --- closing --------------------------------------------------------------------------------

  // Half-closes, then reads and discards what the client still sends (bounded), so that a
  // close with unread bytes does not reset the connection before the client read our answer.
  void linger_then_close() {
    phase_ = Phase::kClosing;
    beast::error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_send, ignored);
    arm(Clock::now() + (shutting_down_ ? kLingerTimeWhenStopping : kLingerTime));
    linger();
  }

  void linger() {
    socket_.async_read_some(
        asio::buffer(discard_buffer(), 4096),
        [self = shared_from_this()](const beast::error_code& ec, std::size_t n) {
          if (self->phase_ == Phase::kClosed) return;
          self->lingered_bytes_ += n;
          if (ec || self->lingered_bytes_ > kLingerBytes) {
            self->close_now();
            return;
          }
          self->linger();
        });
  }

  void close_now() {
    if (phase_ == Phase::kClosed) return;
    phase_ = Phase::kClosed;
    disarm();
    beast::error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
    core_.registries[context_].erase(this);
    core_.connection_closed();
  }

  ServerCore& core_;
  const std::size_t context_;
  const asio::io_context::executor_type executor_;  // read from any thread by post_*()
  tcp::socket socket_;
  asio::steady_timer deadline_;
  beast::flat_buffer buffer_;
  const uint64_t id_;

  Phase phase_ = Phase::kIdle;
  bool shutting_down_ = false;
  bool keep_alive_ = true;
  bool close_after_response_ = false;
  bool timed_out_ = false;
  uint64_t timer_generation_ = 0;
  uint64_t exchange_ = 0;  // which Responder / AdmissionReply the connection waits for

  asio::ip::address peer_;
  std::string peer_text_;
  Request request_;
  std::optional<RequestParser> parser_;
  const RouteInfo* route_ = nullptr;
  std::optional<bhttp::request<bhttp::empty_body>> upgrade_;
  HeaderList admission_headers_;
  std::string out_;

  Clock::time_point started_{};
  int response_status_ = 0;
  std::size_t request_body_bytes_ = 0;
  std::size_t response_body_bytes_ = 0;
  std::size_t lingered_bytes_ = 0;
};

// A connection over the cap: a canned 503, then closed.
class RejectedConnection final : public std::enable_shared_from_this<RejectedConnection> {
 public:
  explicit RejectedConnection(tcp::socket socket)
      : socket_(std::move(socket)), deadline_(socket_.get_executor()) {}

  void start() {
    static const std::string kResponse = [] {
      const Response body =
          error_response(503, "over_capacity", "the server is at its connection limit");
      return fmt::format(
          "HTTP/1.1 503 Service Unavailable\r\nServer: quanttrading\r\nContent-Type: "
          "application/json\r\nContent-Length: {}\r\nRetry-After: 1\r\nConnection: "
          "close\r\n\r\n{}",
          body.body.size(), body.body);
    }();
    deadline_.expires_after(kLingerTime);
    deadline_.async_wait([self = shared_from_this()](const beast::error_code& ec) {
      if (ec) return;
      beast::error_code ignored;
      self->socket_.close(ignored);
    });
    asio::async_write(socket_, asio::buffer(kResponse),
                      [self = shared_from_this()](const beast::error_code& ec, std::size_t) {
                        if (ec) {
                          self->finish();
                          return;
                        }
                        beast::error_code ignored;
                        self->socket_.shutdown(tcp::socket::shutdown_send, ignored);
                        self->linger();
                      });
  }

 private:
  void linger() {
    socket_.async_read_some(
        asio::buffer(discard_buffer(), 4096),
        [self = shared_from_this()](const beast::error_code& ec, std::size_t n) {
          self->lingered_bytes_ += n;
          if (ec || self->lingered_bytes_ > kLingerBytes) {
            self->finish();
            return;
          }
          self->linger();
        });
  }

  void finish() {
    deadline_.cancel();
    beast::error_code ignored;
    socket_.close(ignored);
  }

  tcp::socket socket_;
  asio::steady_timer deadline_;
  std::size_t lingered_bytes_ = 0;
};

}  // namespace

void start_http_connection(ServerCore& core, std::size_t context, tcp::socket socket) {
  std::make_shared<HttpConnection>(core, context, std::move(socket))->start();
}

void reject_connection(ServerCore&, tcp::socket socket) {
  std::make_shared<RejectedConnection>(std::move(socket))->start();
}

std::string_view http_date_now() {
  struct Cache {
    std::time_t second = -1;
    char text[40] = {};
    std::size_t size = 0;
  };
  thread_local Cache cache;
  const std::time_t now = std::time(nullptr);
  if (now != cache.second) {
    static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                              "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    std::tm utc{};
    ::gmtime_r(&now, &utc);
    const auto result =
        fmt::format_to_n(cache.text, sizeof cache.text - 1, "{}, {:02} {} {} {:02}:{:02}:{:02} GMT",
                         kDays[utc.tm_wday], utc.tm_mday, kMonths[utc.tm_mon], utc.tm_year + 1900,
                         utc.tm_hour, utc.tm_min, utc.tm_sec);
    cache.size = result.size;
    cache.second = now;
  }
  return {cache.text, cache.size};
}

}  // namespace qt::http::detail
