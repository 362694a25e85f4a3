// The I/O side of a WebSocket session (Beast), and the WebSocketSession handle.
//
// The outbound queue is the channel's own rather than common/websocket_outbox.hpp's: the bound
// must hold across threads (send() runs on any thread), so every frame is counted from send()
// until its write completes, which needs the write's completion that the outbox keeps inside.
#include "gateway/http/websocket_session.hpp"

#include <spdlog/spdlog.h>

#include <atomic>
#include <boost/asio/buffer.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/websocket.hpp>
#include <deque>

#include "gateway/http/server_core.hpp"

namespace qt::http {
namespace detail {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;

constexpr std::chrono::seconds kHandshakeTimeout{10};
constexpr std::size_t kMaxCloseReason = 123;  // RFC 6455 section 5.5: 125-byte control payload

}  // namespace

class WebSocketChannel final : public std::enable_shared_from_this<WebSocketChannel>,
                               public Closable {
 public:
  WebSocketChannel(ServerCore& core, std::size_t context, beast::tcp_stream stream, Request request)
      : core_(core),
        context_(context),
        executor_(core.contexts[context]->get_executor()),
        ws_(std::move(stream)),
        close_timer_(executor_),
        request_(std::move(request)),
        id_(request_.connection_id()) {}

  void start(beast::http::request<beast::http::empty_body> upgrade,
             const WebSocketHandler& handler) {
    core_.registries[context_].emplace(this, weak_from_this());
    const WebSocketOptions& options = core_.options.websocket;
    beast::get_lowest_layer(ws_).expires_never();  // the WebSocket's own timeouts below
    websocket::stream_base::timeout timeout{};
    timeout.handshake_timeout = kHandshakeTimeout;
    timeout.idle_timeout = options.idle_timeout;
    timeout.keep_alive_pings = true;
    ws_.set_option(timeout);
    ws_.set_option(websocket::stream_base::decorator([](websocket::response_type& response) {
      response.set(beast::http::field::server, "quanttrading");
    }));
    ws_.read_message_max(options.max_message_bytes);
    upgrade_ = std::move(upgrade);  // read by the handshake until it completes
    ws_.async_accept(upgrade_, [self = shared_from_this(), &handler](const beast::error_code& ec) {
      self->on_accepted(ec, handler);
    });
  }

  // Any thread.
  bool send(std::string text) {
    if (!open_.load(std::memory_order_acquire)) return false;
    if (queued_.fetch_add(1, std::memory_order_acq_rel) >=
        core_.options.websocket.max_queued_frames) {
      queued_.fetch_sub(1, std::memory_order_acq_rel);
      open_.store(false, std::memory_order_release);  // refused from now on, on every thread
      asio::post(executor_, [self = shared_from_this()] { self->close_slow_consumer(); });
      return false;
    }
    asio::post(executor_, [self = shared_from_this(), text = std::move(text)]() mutable {
      self->push(std::move(text));
    });
    return true;
  }

  // Any thread.
  void close(std::string reason) {
    asio::post(executor_, [self = shared_from_this(), reason = std::move(reason)] {
      self->begin_close(websocket::close_code::normal,
                        reason.empty() ? std::string("closed by server") : reason);
    });
  }

  bool is_open() const { return open_.load(std::memory_order_acquire); }
  std::size_t queued_frames() const { return queued_.load(std::memory_order_acquire); }
  uint64_t id() const { return id_; }
  const Request& request() const { return request_; }

  void begin_shutdown() override {
    begin_close(websocket::close_code::going_away, "server stopping");
  }
  void force_close() override { finish("server stopping"); }

 private:
  enum class Phase : uint8_t { kHandshake, kOpen, kClosing, kClosed };

  WebSocketSession handle() { return WebSocketSession(core_.keep_alive(), shared_from_this()); }

  void on_accepted(const beast::error_code& ec, const WebSocketHandler& handler) {
    if (phase_ == Phase::kClosed) return;
    if (ec) {
      finish(ec.message());
      return;
    }
    phase_ = Phase::kOpen;
    core_.websocket_sessions_open.fetch_add(1, std::memory_order_relaxed);
    counted_open_ = true;
    open_.store(true, std::memory_order_release);
    try {
      callbacks_ = handler(request_, handle());
    } catch (const std::exception& e) {
      spdlog::error("http: the WebSocket handler of {} threw: {}", request_.route().label,
                    e.what());
      begin_close(websocket::close_code::internal_error, "internal error");
    }
    read();
  }

  void read() {
    ws_.async_read(inbound_, [self = shared_from_this()](const beast::error_code& ec, std::size_t) {
      self->on_read(ec);
    });
  }

  void on_read(const beast::error_code& ec) {
    if (phase_ == Phase::kClosed) return;
    if (ec) {
      if (phase_ == Phase::kClosing) {
        finish(close_reason_);  // the client answered our close, or went away
      } else if (ec == websocket::error::closed) {
        finish("client closed");
      } else if (ec == beast::error::timeout) {
        finish("idle timeout");
      } else {
        finish(ec.message());
      }
      return;
    }
    if (phase_ == Phase::kOpen && callbacks_.on_message) {
      const auto data = inbound_.cdata();
      const std::string_view message(static_cast<const char*>(data.data()), data.size());
      try {
        callbacks_.on_message(handle(), message);
      } catch (const std::exception& e) {
        spdlog::error("http: a WebSocket on_message threw: {}", e.what());
      }
    }
    inbound_.consume(inbound_.size());
    read();
  }

  void push(std::string text) {
    if (phase_ != Phase::kOpen) {
      queued_.fetch_sub(1, std::memory_order_acq_rel);
      return;
    }
    frames_.push_back(std::move(text));
    if (!writing_) write_front();
  }

  void write_front() {
    writing_ = true;
    ws_.text(true);
    ws_.async_write(asio::buffer(frames_.front()),
                    [self = shared_from_this()](const beast::error_code& ec, std::size_t) {
                      self->on_written(ec);
                    });
  }

  void on_written(const beast::error_code& ec) {
    writing_ = false;
    frames_.pop_front();
    queued_.fetch_sub(1, std::memory_order_acq_rel);
    if (phase_ == Phase::kClosed) return;
    if (ec) {
      finish(ec.message());
      return;
    }
    if (phase_ == Phase::kOpen && !frames_.empty()) write_front();
  }

  void close_slow_consumer() {
    if (phase_ != Phase::kOpen) return;
    spdlog::info("http: WebSocket {} from {} closed: slow consumer ({} frames queued)", id_,
                 request_.client_address(), core_.options.websocket.max_queued_frames);
    begin_close(websocket::close_code::policy_error, "slow consumer");
    core_.websocket_slow_consumer_closes.fetch_add(1, std::memory_order_relaxed);
  }

  // Sends a close frame (after the write in flight, if any), drops the frames not yet
  // written, and keeps reading until the client answers — for at most close_timeout.
  void begin_close(websocket::close_code code, std::string reason) {
    if (phase_ == Phase::kClosed || phase_ == Phase::kClosing) return;
    if (phase_ == Phase::kHandshake) {
      finish(reason);
      return;
    }
    phase_ = Phase::kClosing;
    open_.store(false, std::memory_order_release);
    close_reason_ = std::move(reason);
    const std::size_t unsent = frames_.size() - (writing_ ? 1 : 0);
    frames_.erase(frames_.begin() + static_cast<std::ptrdiff_t>(frames_.size() - unsent),
                  frames_.end());
    queued_.fetch_sub(unsent, std::memory_order_acq_rel);
    close_timer_.expires_after(core_.options.websocket.close_timeout);
    close_timer_.async_wait([self = shared_from_this()](const beast::error_code& ec) {
      if (!ec) self->finish(self->close_reason_);
    });
    websocket::close_reason frame(code);
    frame.reason = close_reason_.substr(0, kMaxCloseReason);
    ws_.async_close(frame, [self = shared_from_this()](const beast::error_code& ec) {
      if (ec) self->finish(self->close_reason_);
      // Otherwise the read loop ends when the client answers the close.
    });
  }

  void finish(std::string_view reason) {
    if (phase_ == Phase::kClosed) return;
    phase_ = Phase::kClosed;
    open_.store(false, std::memory_order_release);
    close_timer_.cancel();
    beast::get_lowest_layer(ws_).close();
    core_.registries[context_].erase(this);
    core_.connection_closed();
    if (counted_open_) core_.websocket_sessions_open.fetch_sub(1, std::memory_order_relaxed);
    // Released here: callbacks that captured this session's handle would otherwise keep the
    // channel alive forever.
    WebSocketCallbacks callbacks = std::move(callbacks_);
    callbacks_ = {};
    if (callbacks.on_closed) {
      try {
        callbacks.on_closed(handle(), reason);
      } catch (const std::exception& e) {
        spdlog::error("http: a WebSocket on_closed threw: {}", e.what());
      }
    }
  }

  ServerCore& core_;
  const std::size_t context_;
  const asio::io_context::executor_type executor_;  // read from any thread by send()
  websocket::stream<beast::tcp_stream> ws_;
  asio::steady_timer close_timer_;
  beast::flat_buffer inbound_;
  beast::http::request<beast::http::empty_body> upgrade_;
  const Request request_;
  const uint64_t id_;

  std::atomic<bool> open_{false};
  std::atomic<std::size_t> queued_{0};  // frames accepted by send() and not yet written
  Phase phase_ = Phase::kHandshake;
  bool counted_open_ = false;
  bool writing_ = false;
  std::deque<std::string> frames_;
  std::string close_reason_;
  WebSocketCallbacks callbacks_;
};

void start_websocket_channel(ServerCore& core, std::size_t context, beast::tcp_stream stream,
                             beast::http::request<beast::http::empty_body> upgrade, Request request,
                             const WebSocketHandler& handler) {
  std::make_shared<WebSocketChannel>(core, context, std::move(stream), std::move(request))
      ->start(std::move(upgrade), handler);
}

}  // namespace detail

bool WebSocketSession::send(std::string text) const {
  return channel_ && channel_->send(std::move(text));
}

void WebSocketSession::close(std::string_view reason) const {
  if (channel_) channel_->close(std::string(reason));
}

bool WebSocketSession::is_open() const {
  return channel_ && channel_->is_open();
}

std::size_t WebSocketSession::queued_frames() const {
  return channel_ ? channel_->queued_frames() : 0;
}

uint64_t WebSocketSession::id() const {
  return channel_ ? channel_->id() : 0;
}

std::string_view WebSocketSession::client_address() const {
  return channel_ ? channel_->request().client_address() : std::string_view();
}

const Principal* WebSocketSession::principal() const {
  return channel_ ? channel_->request().principal() : nullptr;
}

}  // namespace qt::http
