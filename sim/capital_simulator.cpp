#include "sim/capital_simulator.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <cmath>
#include <fstream>
#include <future>
#include <random>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "absl/strings/str_split.h"
#include "common/websocket_outbox.hpp"
#include "sim/crypto.hpp"

namespace qt::sim {

namespace {

namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace websocket = boost::beast::websocket;
using tcp = boost::asio::ip::tcp;
using PlainStream = beast::tcp_stream;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;

template <class Stream>
constexpr bool kIsTls = std::is_same_v<Stream, TlsStream>;

constexpr std::size_t kMaxQueuedFrames = 20'000;  // per WebSocket; beyond it quotes are dropped

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string percent_decode(absl::string_view text, bool plus_is_space) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '%' && i + 2 < text.size()) {
      const int hi = hex_value(text[i + 1]);
      const int lo = hex_value(text[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
        continue;
      }
    }
    out += (plus_is_space && c == '+') ? ' ' : c;
  }
  return out;
}

BrokerRequest to_broker_request(const http::request<http::string_body>& req) {
  BrokerRequest out;
  out.method = std::string(req.method_string());
  const absl::string_view target(req.target().data(), req.target().size());
  const std::size_t q = target.find('?');
  out.path = percent_decode(target.substr(0, q), false);
  if (q != absl::string_view::npos) {
    for (const absl::string_view pair :
         absl::StrSplit(target.substr(q + 1), '&', absl::SkipEmpty())) {
      const std::pair<absl::string_view, absl::string_view> name_value =
          absl::StrSplit(pair, absl::MaxSplits('=', 1));
      out.query[percent_decode(name_value.first, true)] = percent_decode(name_value.second, true);
    }
  }
  auto header = [&](const char* name) -> std::optional<std::string> {
    const auto it = req.find(name);
    if (it == req.end()) return std::nullopt;
    return std::string(it->value());
  };
  out.api_key = header("X-CAP-API-KEY");
  out.cst = header("CST");
  out.security_token = header("X-SECURITY-TOKEN");
  out.body = req.body();
  return out;
}

// What the fault dice decided for one request.
struct FaultRoll {
  bool stall = false;
  bool error = false;
  bool too_many = false;
  bool drop_order_response = false;
  bool order_error = false;
  bool error_after_execution = false;
  std::chrono::microseconds delay{0};
};

// Something the server can close on stop / fault.
class Connection {
 public:
  virtual ~Connection() = default;
  virtual void close() = 0;
};

class StreamConnection : public Connection {
 public:
  virtual void send(std::string frame) = 0;
  virtual StreamSubscriptions& subscriptions() = 0;
  virtual std::chrono::steady_clock::time_point last_activity() const = 0;
};

}  // namespace

// ---------------------------------------------------------------------------------------------

struct CapitalSimulator::Impl {
  explicit Impl(SimOptions o)
      : options(std::move(o)), broker(options), fault_rng(options.seed ^ 0xfa017ULL) {}

  SimOptions options;
  SimulatedBroker broker;
  std::string cert_pem;
  std::string key_pem;
  uint16_t bound_port = 0;
  std::string bound_host;
  std::atomic<bool> running{false};
  bool stopped = false;

  std::unique_ptr<net::io_context> ioc;
  std::optional<ssl::context> ssl_ctx;
  std::unique_ptr<tcp::acceptor> acceptor;
  std::unique_ptr<net::steady_timer> tick_timer;
  std::unique_ptr<net::steady_timer> ws_drop_timer;
  std::unique_ptr<net::steady_timer> expiry_timer;
  std::chrono::steady_clock::time_point next_tick;
  std::chrono::steady_clock::duration tick_interval{};
  std::thread thread;

  // io thread only.
  std::vector<std::weak_ptr<Connection>> connections;
  std::vector<std::weak_ptr<StreamConnection>> streams;
  std::mt19937_64 fault_rng;
  std::uniform_real_distribution<double> unit{0.0, 1.0};
  std::normal_distribution<double> normal{0.0, 1.0};

  template <class T>
  static void prune(std::vector<std::weak_ptr<T>>& list) {
    list.erase(std::remove_if(list.begin(), list.end(), [](const auto& w) { return w.expired(); }),
               list.end());
  }

  void track(const std::shared_ptr<Connection>& c) {
    if (connections.size() > 64) prune(connections);
    connections.push_back(c);
  }
  void track_stream(const std::shared_ptr<StreamConnection>& s) {
    prune(streams);
    streams.push_back(s);
    broker.count_fault(SimulatedBroker::FaultEvent::kWsConnect);
  }

  bool roll(double rate) { return rate > 0 && (rate >= 1 || unit(fault_rng) < rate); }

  FaultRoll roll_faults() {
    const FaultOptions& f = options.faults;
    FaultRoll r;
    // Every die is rolled for every request so that the sequence stays reproducible.
    r.stall = roll(f.stall_rate);
    r.error = roll(f.error_rate);
    r.too_many = roll(f.rate_429);
    r.drop_order_response = roll(f.drop_order_response_rate);
    r.order_error = roll(f.order_error_rate);
    r.error_after_execution = roll(f.error_after_execution_rate);  // no die drawn at rate 0
    double ms = 0;
    switch (f.latency.kind) {
      case LatencyDistribution::Kind::kNone: break;
      case LatencyDistribution::Kind::kFixed: ms = f.latency.a_ms; break;
      case LatencyDistribution::Kind::kUniform:
        ms = f.latency.a_ms + (f.latency.b_ms - f.latency.a_ms) * unit(fault_rng);
        break;
      case LatencyDistribution::Kind::kLognormal:
        ms = std::exp(std::log(f.latency.a_ms) + f.latency.b_ms * normal(fault_rng));
        break;
    }
    r.delay = std::chrono::microseconds(static_cast<int64_t>(std::min(ms, 3'600'000.0) * 1000));
    return r;
  }

  void accept();
  void schedule_tick();
  void on_tick();
  void schedule_ws_drop();
  void schedule_expiry();
  void drop_streams() {
    std::vector<std::shared_ptr<StreamConnection>> live;
    for (const auto& w : streams) {
      if (auto s = w.lock()) live.push_back(std::move(s));
    }
    streams.clear();
    // Counted before closing: a client that sees its connection drop sees the count too.
    if (!live.empty()) {
      broker.count_fault(SimulatedBroker::FaultEvent::kWsDrop, static_cast<int64_t>(live.size()));
    }
    for (const auto& s : live) s->close();
  }
  void shutdown() {
    boost::system::error_code ec;
    if (acceptor) acceptor->close(ec);
    if (tick_timer) tick_timer->cancel();
    if (ws_drop_timer) ws_drop_timer->cancel();
    if (expiry_timer) expiry_timer->cancel();
    for (const auto& w : streams) {
      if (auto s = w.lock()) s->close();
    }
    for (const auto& w : connections) {
      if (auto c = w.lock()) c->close();
    }
    streams.clear();
    connections.clear();
  }
};

namespace {

using Impl = CapitalSimulator::Impl;

// ----- WebSocket ------------------------------------------------------------------------------

template <class Stream>
class WsSession : public StreamConnection, public std::enable_shared_from_this<WsSession<Stream>> {
 public:
  WsSession(Impl& impl, Stream&& stream) : impl_(impl), ws_(std::move(stream)), outbox_(ws_) {}

  void run(http::request<http::string_body> req) {
    beast::get_lowest_layer(ws_).expires_never();
    websocket::stream_base::timeout timeout{};
    timeout.handshake_timeout = std::chrono::seconds(30);
    timeout.idle_timeout = websocket::stream_base::none();
    timeout.keep_alive_pings = false;
    ws_.set_option(timeout);
    ws_.set_option(websocket::stream_base::decorator([](websocket::response_type& res) {
      res.set(http::field::server, "quanttrading-capital-sim");
    }));
    last_activity_ = std::chrono::steady_clock::now();
    ws_.async_accept(req, [self = this->shared_from_this()](beast::error_code ec) {
      if (ec) return;
      self->impl_.track_stream(self);
      self->read();
    });
  }

  void send(std::string frame) override {
    if (closed_ || outbox_.size() >= kMaxQueuedFrames) return;
    outbox_.push(std::move(frame), this->shared_from_this());
  }

  void close() override {
    if (closed_) return;
    closed_ = true;
    outbox_.stop();
    beast::error_code ec;
    beast::get_lowest_layer(ws_).socket().shutdown(tcp::socket::shutdown_both, ec);
    beast::get_lowest_layer(ws_).close();
  }

  StreamSubscriptions& subscriptions() override { return subs_; }
  std::chrono::steady_clock::time_point last_activity() const override { return last_activity_; }

 private:
  void read() {
    ws_.async_read(buffer_, [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec) {
        self->closed_ = true;
        self->outbox_.stop();
        return;
      }
      self->last_activity_ = std::chrono::steady_clock::now();
      const std::string text = beast::buffers_to_string(self->buffer_.data());
      self->buffer_.consume(self->buffer_.size());
      for (std::string& frame : self->impl_.broker.handle_stream_message(text, self->subs_)) {
        self->send(std::move(frame));
      }
      self->read();
    });
  }

  Impl& impl_;
  websocket::stream<Stream> ws_;
  beast::flat_buffer buffer_;
  WebSocketOutbox<websocket::stream<Stream>> outbox_;
  bool closed_ = false;
  StreamSubscriptions subs_;
  std::chrono::steady_clock::time_point last_activity_;
};

// ----- HTTP -----------------------------------------------------------------------------------

template <class Stream>
class HttpSession : public Connection, public std::enable_shared_from_this<HttpSession<Stream>> {
 public:
  HttpSession(Impl& impl, Stream&& stream)
      : impl_(impl), stream_(std::move(stream)), timer_(stream_.get_executor()) {}

  void start() {
    if constexpr (kIsTls<Stream>) {
      beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(30));
      stream_.async_handshake(ssl::stream_base::server,
                              [self = this->shared_from_this()](beast::error_code ec) {
                                if (ec) return;
                                self->read();
                              });
    } else {
      read();
    }
  }

  void close() override {
    closed_ = true;
    timer_.cancel();
    beast::error_code ec;
    beast::get_lowest_layer(stream_).socket().shutdown(tcp::socket::shutdown_both, ec);
    beast::get_lowest_layer(stream_).close();
  }

 private:
  void read() {
    if (closed_) return;
    parser_.emplace();
    parser_->body_limit(1 << 20);
    beast::get_lowest_layer(stream_).expires_never();
    http::async_read(stream_, buffer_, *parser_,
                     [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                       self->on_read(ec);
                     });
  }

  void on_read(beast::error_code ec) {
    if (ec) {
      if (ec == http::error::end_of_stream) finish();
      return;
    }
    http::request<http::string_body> req = parser_->release();
    if (websocket::is_upgrade(req)) {
      const std::string_view target = req.target();
      const std::string_view path = target.substr(0, target.find('?'));
      if (path == "/connect" || path == "/") {
        std::make_shared<WsSession<Stream>>(impl_, std::move(stream_))->run(std::move(req));
        return;
      }
    }
    process(std::move(req));
  }

  void process(http::request<http::string_body> req) {
    BrokerRequest request = to_broker_request(req);
    impl_.broker.count_request(request.method, request.path);
    const FaultRoll roll = impl_.roll_faults();
    if (roll.stall) {
      // Never answer: hold the connection open until the client gives up or the server stops.
      impl_.broker.count_fault(SimulatedBroker::FaultEvent::kStall);
      timer_.expires_at(net::steady_timer::time_point::max());
      timer_.async_wait([self = this->shared_from_this()](beast::error_code) {});
      return;
    }
    const unsigned version = req.version();
    const bool keep_alive = req.keep_alive();
    auto respond = [self = this->shared_from_this(), request = std::move(request), roll, version,
                    keep_alive]() { self->respond(request, roll, version, keep_alive); };
    if (roll.delay.count() > 0) {
      timer_.expires_after(roll.delay);
      timer_.async_wait([respond = std::move(respond)](beast::error_code ec) {
        if (!ec) respond();
      });
    } else {
      respond();
    }
  }

  void respond(const BrokerRequest& request, const FaultRoll& roll, unsigned version,
               bool keep_alive) {
    if (closed_) return;
    BrokerResponse out;
    const bool order_request =
        request.method == "POST" &&
        (request.path.ends_with("/positions") || request.path.ends_with("/workingorders"));
    if (roll.error || (roll.order_error && order_request)) {
      impl_.broker.count_fault(SimulatedBroker::FaultEvent::kError);
      out.status = 500;
      out.body = error_body("error.internal.server");
    } else if (roll.too_many) {
      impl_.broker.count_fault(SimulatedBroker::FaultEvent::k429);
      out.status = 429;
      out.body = error_body("error.too-many.requests");
    } else {
      out = impl_.broker.handle(request);
    }
    if (out.order_executed && roll.error_after_execution) {
      // The deal is done; the client is told the server failed (it must not send it again).
      impl_.broker.count_fault(SimulatedBroker::FaultEvent::kError);
      out.status = 500;
      out.body = error_body("error.internal.server");
    }
    if (out.order_executed && roll.drop_order_response) {
      // The order is done; the client never hears about it.
      impl_.broker.count_fault(SimulatedBroker::FaultEvent::kDroppedResponse);
      close();
      return;
    }
    spdlog::debug("sim: {} {} -> {}", request.method, request.path, out.status);
    auto res = std::make_shared<http::response<http::string_body>>(
        static_cast<http::status>(out.status), version);
    res->set(http::field::server, "quanttrading-capital-sim");
    res->set(http::field::content_type, "application/json");
    if (!out.cst.empty()) res->set("CST", out.cst);
    if (!out.security_token.empty()) res->set("X-SECURITY-TOKEN", out.security_token);
    res->keep_alive(keep_alive);
    res->body() = std::move(out.body);
    res->prepare_payload();
    http::async_write(stream_, *res,
                      [self = this->shared_from_this(), res](beast::error_code ec, std::size_t) {
                        if (ec) return;
                        if (!res->keep_alive()) {
                          self->finish();
                          return;
                        }
                        self->read();
                      });
  }

  void finish() {
    if constexpr (kIsTls<Stream>) {
      beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(5));
      stream_.async_shutdown([self = this->shared_from_this()](beast::error_code) {
        beast::get_lowest_layer(self->stream_).close();
      });
    } else {
      beast::error_code ec;
      stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    }
  }

  Impl& impl_;
  Stream stream_;
  net::steady_timer timer_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  bool closed_ = false;
};

}  // namespace

// ----- Impl: accept and timers ----------------------------------------------------------------

void CapitalSimulator::Impl::accept() {
  acceptor->async_accept([this](beast::error_code ec, tcp::socket socket) {
    if (ec) {
      if (ec == net::error::operation_aborted || !acceptor->is_open()) return;
      spdlog::warn("sim: accept failed: {}", ec.message());
    } else {
      socket.set_option(tcp::no_delay(true), ec);
      if (ssl_ctx) {
        auto session =
            std::make_shared<HttpSession<TlsStream>>(*this, TlsStream(std::move(socket), *ssl_ctx));
        track(session);
        session->start();
      } else {
        auto session =
            std::make_shared<HttpSession<PlainStream>>(*this, PlainStream(std::move(socket)));
        track(session);
        session->start();
      }
    }
    accept();
  });
}

void CapitalSimulator::Impl::schedule_tick() {
  next_tick += tick_interval;
  const auto now = std::chrono::steady_clock::now();
  if (next_tick < now - 4 * tick_interval) next_tick = now;  // after a stall, do not burst
  tick_timer->expires_at(next_tick);
  tick_timer->async_wait([this](beast::error_code ec) {
    if (ec) return;
    on_tick();
    schedule_tick();
  });
}

void CapitalSimulator::Impl::on_tick() {
  prune(streams);
  std::set<std::string> ohlc_keys;
  for (const auto& w : streams) {
    if (auto s = w.lock())
      ohlc_keys.insert(s->subscriptions().ohlc_keys.begin(), s->subscriptions().ohlc_keys.end());
  }
  const std::vector<StreamTick> ticks = broker.tick(ohlc_keys);
  const auto now = std::chrono::steady_clock::now();
  int64_t pushed = 0;
  for (const auto& w : streams) {
    auto s = w.lock();
    if (!s) continue;
    StreamSubscriptions& subs = s->subscriptions();
    if (!broker.stream_session_alive(subs) || now - s->last_activity() > options.ws_idle_timeout) {
      s->close();
      continue;
    }
    for (const StreamTick& t : ticks) {
      if (subs.epics.count(t.epic) != 0) {
        s->send(t.quote_json);
        ++pushed;
      }
      for (const auto& [key, frame] : t.ohlc_json) {
        if (subs.ohlc_keys.count(key) != 0) s->send(frame);
      }
    }
  }
  if (pushed > 0) broker.count_fault(SimulatedBroker::FaultEvent::kQuote, pushed);
}

void CapitalSimulator::Impl::schedule_ws_drop() {
  ws_drop_timer->expires_after(
      std::chrono::milliseconds(static_cast<int64_t>(options.faults.ws_drop_every_seconds * 1000)));
  ws_drop_timer->async_wait([this](beast::error_code ec) {
    if (ec) return;
    drop_streams();
    schedule_ws_drop();
  });
}

void CapitalSimulator::Impl::schedule_expiry() {
  expiry_timer->expires_after(std::chrono::milliseconds(
      static_cast<int64_t>(options.faults.expire_sessions_every_seconds * 1000)));
  expiry_timer->async_wait([this](beast::error_code ec) {
    if (ec) return;
    broker.expire_all_sessions();
    schedule_expiry();
  });
}

// ----- CapitalSimulator -----------------------------------------------------------------------

CapitalSimulator::CapitalSimulator(SimOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {}

CapitalSimulator::~CapitalSimulator() {
  stop();
}

namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

void CapitalSimulator::start() {
  Impl& s = *impl_;
  if (s.running || s.stopped) throw std::runtime_error("simulator already started");
  const SimOptions& o = s.options;

  if (o.tls == SimOptions::TlsMode::kFiles) {
    s.cert_pem = read_file(o.cert_file);
    s.key_pem = read_file(o.key_file);
  } else if (o.tls == SimOptions::TlsMode::kGenerated) {
    PemCertificate generated = generate_self_signed_certificate(1);
    s.cert_pem = std::move(generated.cert_pem);
    s.key_pem = std::move(generated.key_pem);
    if (!o.write_ca_file.empty() && !write_text_file(o.write_ca_file, s.cert_pem)) {
      throw std::runtime_error("cannot write " + o.write_ca_file);
    }
  }
  if (o.tls != SimOptions::TlsMode::kOff) {
    s.ssl_ctx.emplace(ssl::context::tls_server);
    s.ssl_ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                           ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                           ssl::context::no_tlsv1_1);
    s.ssl_ctx->use_certificate_chain(net::buffer(s.cert_pem));
    s.ssl_ctx->use_private_key(net::buffer(s.key_pem), ssl::context::pem);
  }

  s.ioc = std::make_unique<net::io_context>(1);
  const auto address = net::ip::make_address(o.bind_address);
  s.acceptor = std::make_unique<tcp::acceptor>(*s.ioc);
  const tcp::endpoint endpoint(address, o.port);
  s.acceptor->open(endpoint.protocol());
  s.acceptor->set_option(net::socket_base::reuse_address(true));
  s.acceptor->bind(endpoint);
  s.acceptor->listen(net::socket_base::max_listen_connections);
  s.bound_port = s.acceptor->local_endpoint().port();
  s.bound_host = address.is_unspecified() ? "127.0.0.1" : o.bind_address;
  s.broker.set_streaming_host(
      fmt::format("{}://{}:{}/", s.ssl_ctx ? "wss" : "ws", s.bound_host, s.bound_port));

  s.tick_timer = std::make_unique<net::steady_timer>(*s.ioc);
  s.ws_drop_timer = std::make_unique<net::steady_timer>(*s.ioc);
  s.expiry_timer = std::make_unique<net::steady_timer>(*s.ioc);
  const double qps = o.quotes_per_second > 0 ? o.quotes_per_second : 1;
  s.tick_interval = std::chrono::duration_cast<std::chrono::steady_clock::duration>(
      std::chrono::duration<double>(1.0 / qps));
  s.next_tick = std::chrono::steady_clock::now();
  s.accept();
  s.schedule_tick();
  if (o.faults.ws_drop_every_seconds > 0) s.schedule_ws_drop();
  if (o.faults.expire_sessions_every_seconds > 0) s.schedule_expiry();

  // Logged before the io thread exists: the first spdlog call creates spdlog's registry, and
  // creating it here while the io thread logs its first request raced (TSan sees no order
  // through the guard inside the uninstrumented libspdlog).
  spdlog::info("capital simulator listening on {} (stream {}), seed {}", rest_url(), stream_url(),
               o.seed);
  s.running = true;
  s.thread = std::thread([&s] {
    try {
      s.ioc->run();
    } catch (const std::exception& e) {
      spdlog::error("sim: io thread stopped: {}", e.what());
    }
  });
}

void CapitalSimulator::stop() {
  Impl& s = *impl_;
  if (!s.running) return;
  s.running = false;
  s.stopped = true;
  std::promise<void> done;
  net::post(*s.ioc, [&s, &done] {
    s.shutdown();
    done.set_value();
  });
  done.get_future().wait_for(std::chrono::seconds(5));
  s.ioc->stop();
  if (s.thread.joinable()) s.thread.join();
  // Sockets and timers first, then the context (which destroys any handler still pending).
  s.acceptor.reset();
  s.tick_timer.reset();
  s.ws_drop_timer.reset();
  s.expiry_timer.reset();
  s.ioc.reset();
}

bool CapitalSimulator::running() const {
  return impl_->running;
}
uint16_t CapitalSimulator::port() const {
  return impl_->bound_port;
}
bool CapitalSimulator::tls() const {
  return impl_->options.tls != SimOptions::TlsMode::kOff;
}
std::string CapitalSimulator::host() const {
  return impl_->bound_host;
}

std::string CapitalSimulator::rest_url() const {
  return fmt::format("{}://{}:{}", tls() ? "https" : "http", host(), port());
}

std::string CapitalSimulator::stream_url() const {
  return fmt::format("{}://{}:{}/connect", tls() ? "wss" : "ws", host(), port());
}

const std::string& CapitalSimulator::certificate_pem() const {
  return impl_->cert_pem;
}
const SimOptions& CapitalSimulator::options() const {
  return impl_->options;
}
SimulatedBroker& CapitalSimulator::broker() {
  return impl_->broker;
}
SimStats CapitalSimulator::stats() {
  return impl_->broker.stats();
}
std::vector<PositionInfo> CapitalSimulator::positions() {
  return impl_->broker.positions();
}
std::vector<WorkingOrderInfo> CapitalSimulator::working_orders() {
  return impl_->broker.working_orders();
}
bool CapitalSimulator::set_mid_price(const std::string& epic, double mid) {
  return impl_->broker.set_mid_price(epic, mid);
}
std::optional<std::pair<double, double>> CapitalSimulator::quote(const std::string& epic) {
  return impl_->broker.quote(epic);
}
void CapitalSimulator::expire_sessions() {
  impl_->broker.expire_all_sessions();
}

void CapitalSimulator::drop_websockets() {
  Impl& s = *impl_;
  if (!s.running) return;
  std::promise<void> done;
  net::post(*s.ioc, [&s, &done] {
    s.drop_streams();
    done.set_value();
  });
  done.get_future().wait_for(std::chrono::seconds(5));
}

}  // namespace qt::sim
