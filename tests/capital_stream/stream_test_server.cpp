#include "tests/capital_stream/stream_test_server.hpp"

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <mutex>
#include <optional>
#include <thread>

#include "common/websocket_outbox.hpp"
#include "fmt/format.h"
#include "gateway/capital/protocol.hpp"
#include "tests/capital_client/test_listener.hpp"

namespace qt::capital::testing {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

namespace {

// One WebSocket of the server, any stream type. Lives as long as its pending operations.
class Session {
 public:
  virtual ~Session() = default;
  virtual void send(std::string frame) = 0;
  virtual void drop() = 0;
  virtual bool open() const = 0;
};

}  // namespace

struct StreamTestServer::Impl {
  Impl(StreamServerOptions o, const TestPki* pki)
      : options(std::move(o)), tls(server_tls_context(pki)), acceptor(ioc) {
    listen_on_loopback(acceptor);
  }

  template <typename Stream>
  class WsSession : public Session, public std::enable_shared_from_this<WsSession<Stream>> {
   public:
    WsSession(Impl& server, Stream&& stream)
        : server_(server), ws_(std::move(stream)), outbox_(ws_) {}

    void start() {
      if constexpr (std::is_same_v<Stream, beast::ssl_stream<beast::tcp_stream>>) {
        ws_.next_layer().async_handshake(ssl::stream_base::server,
                                         [self = this->shared_from_this()](beast::error_code ec) {
                                           if (!ec) self->read_upgrade();
                                         });
      } else {
        read_upgrade();
      }
    }

    void send(std::string frame) override {
      if (open_) outbox_.push(std::move(frame), this->shared_from_this());
    }

    void drop() override {
      open_ = false;
      outbox_.stop();
      beast::error_code ignored;
      beast::get_lowest_layer(ws_).socket().shutdown(tcp::socket::shutdown_both, ignored);
      beast::get_lowest_layer(ws_).close();
    }

    bool open() const override { return open_; }

   private:
    void read_upgrade() {
      http::async_read(ws_.next_layer(), buffer_, request_,
                       [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                         if (!ec) self->upgrade();
                       });
    }

    void upgrade() {
      if (!websocket::is_upgrade(request_) || request_.target() != server_.options.path) {
        auto res = std::make_shared<http::response<http::string_body>>(http::status::not_found,
                                                                       request_.version());
        res->body() = "no such stream";
        res->prepare_payload();
        http::async_write(ws_.next_layer(), *res,
                          [self = this->shared_from_this(), res](beast::error_code, std::size_t) {
                            self->drop();
                          });
        return;
      }
      ws_.async_accept(request_, [self = this->shared_from_this()](beast::error_code ec) {
        if (ec) return;
        self->open_ = true;
        {
          std::lock_guard lock(self->server_.mutex);
          self->index_ = ++self->server_.upgrades;
          self->server_.sessions.push_back(self);
        }
        self->read();
      });
    }

    void read() {
      ws_.async_read(buffer_, [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
        if (ec) {
          self->open_ = false;
          return;
        }
        const std::string text = beast::buffers_to_string(self->buffer_.data());
        self->buffer_.consume(self->buffer_.size());
        for (std::string& reply : self->server_.answer(text, self->index_)) {
          self->send(std::move(reply));
        }
        self->read();
      });
    }

    Impl& server_;
    websocket::stream<Stream> ws_;
    beast::flat_buffer buffer_;
    http::request<http::string_body> request_;
    WebSocketOutbox<websocket::stream<Stream>> outbox_;
    std::atomic<bool> open_{false};  // read by the test thread (open_connections)
    int index_ = 0;
  };

  void accept() {
    acceptor.async_accept([this](beast::error_code ec, tcp::socket socket) {
      if (ec) return;
      socket.set_option(tcp::no_delay(true), ec);
      if (tls) {
        std::make_shared<WsSession<beast::ssl_stream<beast::tcp_stream>>>(
            *this, beast::ssl_stream<beast::tcp_stream>(std::move(socket), *tls))
            ->start();
      } else {
        std::make_shared<WsSession<beast::tcp_stream>>(*this, beast::tcp_stream(std::move(socket)))
            ->start();
      }
      accept();
    });
  }

  // The venue's answers to one client envelope (io thread).
  std::vector<std::string> answer(const std::string& text, int connection) {
    absl::StatusOr<WsRequest> request = parse_ws_request(text);
    if (!request.ok()) {
      WsErrorReply error;
      error.destination = "unknown";
      error.error.code = "error.invalid.json";
      return {to_json(error)};
    }
    bool tokens_ok = false;
    {
      std::lock_guard lock(mutex);
      envelopes.push_back({connection, *request, std::chrono::steady_clock::now()});
      tokens_ok =
          request->cst == options.accepted_cst && request->security_token == options.accepted_token;
    }
    if (!tokens_ok) {
      WsErrorReply error;
      error.destination = std::string(to_string(request->destination));
      error.correlation_id = request->correlation_id;
      error.error.code = "error.invalid.session.token";
      return {to_json(error)};
    }
    if (request->destination == WsDestination::kPing) {
      if (!options.answer_pings) return {};
      return {to_json(WsPingReply{request->correlation_id})};
    }
    if (request->destination == WsDestination::kMarketDataSubscribe) {
      if (!options.answer_subscriptions) return {};
      WsSubscriptionReply reply;
      reply.destination = WsDestination::kMarketDataSubscribe;
      reply.correlation_id = request->correlation_id;
      for (const std::string& epic : request->epics) {
        const auto scripted = options.epic_status.find(epic);
        reply.subscriptions.emplace_back(
            epic, scripted == options.epic_status.end() ? "PROCESSED" : scripted->second);
      }
      return {to_json(reply)};
    }
    return {};
  }

  std::vector<std::shared_ptr<Session>> live_sessions() {
    std::lock_guard lock(mutex);
    std::vector<std::shared_ptr<Session>> out;
    for (const auto& weak : sessions) {
      if (auto s = weak.lock(); s && s->open()) out.push_back(std::move(s));
    }
    return out;
  }

  StreamServerOptions options;
  asio::io_context ioc{1};
  std::optional<ssl::context> tls;
  tcp::acceptor acceptor;
  std::thread thread;

  mutable std::mutex mutex;  // guards the members below, and the tokens in options
  std::vector<ReceivedEnvelope> envelopes;
  std::vector<std::weak_ptr<Session>> sessions;
  int upgrades = 0;
};

StreamTestServer::StreamTestServer(StreamServerOptions options, const TestPki* pki)
    : impl_(std::make_unique<Impl>(std::move(options), pki)), tls_(pki != nullptr) {
  port_ = impl_->acceptor.local_endpoint().port();
  impl_->accept();
  impl_->thread = std::thread([this] { impl_->ioc.run(); });
}

StreamTestServer::~StreamTestServer() {
  impl_->ioc.stop();
  impl_->thread.join();
}

std::string StreamTestServer::url(const std::string& host) const {
  return fmt::format("{}://{}:{}{}", tls_ ? "wss" : "ws", host, port_, impl_->options.path);
}

void StreamTestServer::push(std::string frame) {
  asio::post(impl_->ioc, [this, frame = std::move(frame)] {
    for (const auto& s : impl_->live_sessions()) s->send(frame);
  });
}

void StreamTestServer::drop_connections() {
  asio::post(impl_->ioc, [this] {
    for (const auto& s : impl_->live_sessions()) s->drop();
  });
}

void StreamTestServer::accept_tokens(std::string cst, std::string token) {
  std::lock_guard lock(impl_->mutex);
  impl_->options.accepted_cst = std::move(cst);
  impl_->options.accepted_token = std::move(token);
}

int StreamTestServer::upgrades() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->upgrades;
}

int StreamTestServer::open_connections() const {
  std::lock_guard lock(impl_->mutex);
  int open = 0;
  for (const auto& weak : impl_->sessions) {
    if (auto s = weak.lock(); s && s->open()) ++open;
  }
  return open;
}

std::vector<ReceivedEnvelope> StreamTestServer::envelopes() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->envelopes;
}

std::vector<ReceivedEnvelope> StreamTestServer::envelopes(WsDestination destination) const {
  std::vector<ReceivedEnvelope> out;
  for (ReceivedEnvelope& e : envelopes()) {
    if (e.request.destination == destination) out.push_back(std::move(e));
  }
  return out;
}

bool wait_until(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return done();
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

std::string quote_frame(const std::string& epic, const std::string& bid, const std::string& ofr,
                        int64_t timestamp_ms, const std::string& bid_qty,
                        const std::string& ofr_qty) {
  return fmt::format(
      R"({{"status":"OK","destination":"quote","payload":{{"epic":"{}","product":"CFD",)"
      R"("bid":{},"bidQty":{},"ofr":{},"ofrQty":{},"timestamp":{}}}}})",
      epic, bid, bid_qty, ofr, ofr_qty, timestamp_ms);
}

}  // namespace qt::capital::testing
