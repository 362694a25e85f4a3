// HttpServer: options, the listening socket and accept loop, the I/O threads, and stop().
#include "gateway/http/server.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <charconv>
#include <future>

#include "gateway/http/server_core.hpp"

namespace qt::http {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

constexpr unsigned kMaxThreads = 64;
constexpr std::chrono::milliseconds kAcceptBackoff{50};

}  // namespace

absl::StatusOr<ListenAddress> parse_listen_address(std::string_view text) {
  const auto invalid = [text] {
    return absl::InvalidArgumentError(fmt::format(
        "http listen '{}': expected ADDRESS:PORT, e.g. 127.0.0.1:8080 or [::1]:8080", text));
  };
  std::string_view host;
  std::string_view port_text;
  if (!text.empty() && text.front() == '[') {
    const std::size_t close = text.find("]:");
    if (close == std::string_view::npos) return invalid();
    host = text.substr(1, close - 1);
    port_text = text.substr(close + 2);
  } else {
    const std::size_t colon = text.rfind(':');
    if (colon == std::string_view::npos || text.find(':') != colon) return invalid();
    host = text.substr(0, colon);
    port_text = text.substr(colon + 1);
  }
  unsigned port = 0;
  const auto [end, ec] =
      std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || ec != std::errc() || end != port_text.data() + port_text.size() ||
      port > 65535) {
    return invalid();
  }
  boost::system::error_code parse_error;
  const asio::ip::address address = asio::ip::make_address(std::string(host), parse_error);
  if (parse_error) return invalid();
  return ListenAddress{address, static_cast<uint16_t>(port)};
}

absl::Status validate(const HttpServerOptions& options) {
  if (absl::StatusOr<ListenAddress> listen = parse_listen_address(options.listen); !listen.ok()) {
    return listen.status();
  }
  const auto invalid = [](std::string_view what) {
    return absl::InvalidArgumentError(fmt::format("http {}", what));
  };
  if (options.threads == 0 || options.threads > kMaxThreads) {
    return invalid(fmt::format("threads must be 1..{}", kMaxThreads));
  }
  if (options.max_body_bytes == 0) return invalid("max_body_bytes must be positive");
  if (options.max_header_bytes < 1024 || options.max_header_bytes > (1u << 20)) {
    return invalid("max_header_bytes must be 1 KiB..1 MiB");
  }
  if (options.max_connections == 0) return invalid("max_connections must be positive");
  for (const auto& [name, value] :
       {std::pair{"header_timeout", options.header_timeout},
        std::pair{"body_timeout", options.body_timeout},
        std::pair{"idle_timeout", options.idle_timeout},
        std::pair{"write_timeout", options.write_timeout},
        std::pair{"websocket idle_timeout", options.websocket.idle_timeout},
        std::pair{"websocket close_timeout", options.websocket.close_timeout}}) {
    if (value.count() <= 0) return invalid(fmt::format("{} must be positive", name));
  }
  if (options.shutdown_grace.count() < 0) return invalid("shutdown_grace must not be negative");
  if (options.websocket.max_queued_frames == 0) {
    return invalid("websocket max_queued_frames must be positive");
  }
  if (options.websocket.max_message_bytes == 0) {
    return invalid("websocket max_message_bytes must be positive");
  }
  return absl::OkStatus();
}

namespace {

struct Acceptor {
  // Accepts the next connection onto the next I/O context (round robin).
  static void accept(detail::ServerCore& core) {
    const std::size_t context = core.next_context++ % core.contexts.size();
    core.acceptor->async_accept(
        *core.contexts[context],
        [&core, context](const boost::system::error_code& ec, tcp::socket socket) {
          on_accept(core, context, ec, std::move(socket));
        });
  }

  static void on_accept(detail::ServerCore& core, std::size_t context,
                        const boost::system::error_code& ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted || core.stopping.load() || !core.acceptor->is_open()) {
      return;
    }
    if (ec) {
      // Out of descriptors or memory: waiting a little lets closing connections free some,
      // where retrying at once would spin.
      const bool exhausted = ec == asio::error::no_descriptors ||
                             ec == asio::error::no_buffer_space || ec == asio::error::no_memory ||
                             ec.value() == ENFILE;
      const auto now = std::chrono::steady_clock::now();
      if (now - core.last_accept_error_log > std::chrono::seconds(1)) {
        core.last_accept_error_log = now;
        spdlog::warn("http: accept failed: {}{}", ec.message(),
                     exhausted ? " (retrying in 50 ms)" : "");
      }
      if (exhausted) {
        core.accept_backoff->expires_after(kAcceptBackoff);
        core.accept_backoff->async_wait([&core](const boost::system::error_code& wait_error) {
          if (!wait_error && !core.stopping.load()) accept(core);
        });
        return;
      }
      accept(core);
      return;
    }
    core.connections_accepted.fetch_add(1, std::memory_order_relaxed);
    if (core.connections_open.load(std::memory_order_relaxed) >= core.options.max_connections) {
      core.connections_rejected.fetch_add(1, std::memory_order_relaxed);
      asio::post(*core.contexts[context], [&core, socket = std::move(socket)]() mutable {
        detail::reject_connection(core, std::move(socket));
      });
    } else {
      core.connections_open.fetch_add(1, std::memory_order_relaxed);
      asio::post(*core.contexts[context], [&core, context, socket = std::move(socket)]() mutable {
        detail::start_http_connection(core, context, std::move(socket));
      });
    }
    accept(core);
  }
};

// Runs `action` on every live connection of every I/O thread, on its thread, and waits until
// all threads have done it.
template <class Action>
void for_each_connection(detail::ServerCore& core, Action action) {
  std::vector<std::future<void>> done;
  for (std::size_t i = 0; i < core.contexts.size(); ++i) {
    auto promise = std::make_shared<std::promise<void>>();
    done.push_back(promise->get_future());
    asio::post(*core.contexts[i], [&core, i, action, promise] {
      // Copied first: an action may close a connection, which leaves the registry.
      std::vector<std::shared_ptr<detail::Closable>> live;
      for (const auto& [key, weak] : core.registries[i]) {
        if (auto connection = weak.lock()) live.push_back(std::move(connection));
      }
      for (const auto& connection : live) action(*connection);
      promise->set_value();
    });
  }
  for (auto& future : done) future.wait();
}

}  // namespace

HttpServer::HttpServer(HttpServerOptions options, Router router)
    : core_(std::make_shared<detail::ServerCore>(std::move(options), std::move(router))) {}

HttpServer::~HttpServer() {
  stop();
}

absl::Status HttpServer::start() {
  if (started_) return absl::FailedPreconditionError("http server already started");
  if (absl::Status valid = validate(core_->options); !valid.ok()) return valid;
  const ListenAddress listen = *parse_listen_address(core_->options.listen);

  detail::ServerCore& core = *core_;
  for (unsigned i = 0; i < core.options.threads; ++i) {
    // One thread per context: Asio may then skip its internal locking.
    core.contexts.push_back(std::make_unique<asio::io_context>(1));
    core.work.emplace_back(asio::make_work_guard(*core.contexts.back()));
  }
  core.registries.resize(core.contexts.size());
  core.acceptor.emplace(*core.contexts[0]);
  core.accept_backoff.emplace(*core.contexts[0]);

  const tcp::endpoint endpoint(listen.address, listen.port);
  boost::system::error_code ec;
  core.acceptor->open(endpoint.protocol(), ec);
  if (!ec) core.acceptor->set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) core.acceptor->bind(endpoint, ec);
  if (!ec) core.acceptor->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return absl::UnavailableError(
        fmt::format("http: cannot listen on {}: {}", core.options.listen, ec.message()));
  }
  port_ = core.acceptor->local_endpoint(ec).port();
  started_ = true;
  Acceptor::accept(core);
  for (auto& context : core.contexts) {
    threads_.emplace_back([context = context.get()] {
      while (true) {
        try {
          context->run();
          return;
        } catch (const std::exception& e) {  // a handler's bug must not end the I/O thread
          spdlog::error("http: an I/O thread caught: {}", e.what());
        }
      }
    });
  }
  spdlog::info("http: listening on {}:{} ({} I/O thread{})", listen.address.to_string(), port(),
               threads_.size(), threads_.size() == 1 ? "" : "s");
  return absl::OkStatus();
}

uint16_t HttpServer::port() const {
  return port_;
}

void HttpServer::stop() {
  if (!started_ || stopped_) {
    stopped_ = true;
    return;
  }
  stopped_ = true;
  detail::ServerCore& core = *core_;
  core.stopping.store(true);
  {
    std::promise<void> closed;
    asio::post(*core.contexts[0], [&core, &closed] {
      boost::system::error_code ignored;
      core.acceptor->close(ignored);
      core.accept_backoff->cancel();
      closed.set_value();
    });
    closed.get_future().wait();
  }
  for_each_connection(core, [](detail::Closable& connection) { connection.begin_shutdown(); });
  const auto deadline = std::chrono::steady_clock::now() + core.options.shutdown_grace;
  while (core.connections_open.load() > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  const uint64_t left = core.connections_open.load();
  if (left > 0) {
    spdlog::warn("http: {} connection(s) still busy after the {} ms grace; closing them", left,
                 core.options.shutdown_grace.count());
  }
  for_each_connection(core, [](detail::Closable& connection) { connection.force_close(); });
  for (std::size_t i = 0; i < core.contexts.size(); ++i) {
    core.work[i].reset();
    core.contexts[i]->stop();
  }
  for (std::thread& thread : threads_) thread.join();
  threads_.clear();
  spdlog::info("http: stopped");
}

HttpServerStats HttpServer::stats() const {
  const detail::ServerCore& core = *core_;
  constexpr auto relaxed = std::memory_order_relaxed;
  HttpServerStats stats;
  stats.connections_open = core.connections_open.load(relaxed);
  stats.connections_accepted = core.connections_accepted.load(relaxed);
  stats.connections_rejected = core.connections_rejected.load(relaxed);
  stats.requests = core.requests.load(relaxed);
  stats.header_timeouts = core.header_timeouts.load(relaxed);
  stats.websocket_sessions_open = core.websocket_sessions_open.load(relaxed);
  stats.websocket_slow_consumer_closes = core.websocket_slow_consumer_closes.load(relaxed);
  return stats;
}

}  // namespace qt::http
