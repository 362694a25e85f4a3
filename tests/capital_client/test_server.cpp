#include "tests/capital_client/test_server.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <cctype>

#include "tests/capital_client/test_listener.hpp"

namespace qt::capital::testing {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using asio::use_awaitable;

struct TestServer::Impl {
  Impl(TestServer& owner, Handler h, const TestPki* pki)
      : server(owner), handler(std::move(h)), tls(server_tls_context(pki)), acceptor(ioc) {
    listen_on_loopback(acceptor);
  }

  asio::awaitable<void> accept_loop() {
    while (true) {
      tcp::socket socket = co_await acceptor.async_accept(use_awaitable);
      const int index = ++server.accepted_;
      asio::co_spawn(ioc, serve(std::move(socket), index), asio::detached);
    }
  }

  asio::awaitable<void> serve(tcp::socket socket, int index) {
    try {
      if (tls) {
        beast::ssl_stream<tcp::socket> stream(std::move(socket), *tls);
        co_await stream.async_handshake(ssl::stream_base::server, use_awaitable);
        co_await serve_stream(stream, index);
      } else {
        co_await serve_stream(socket, index);
      }
    } catch (const std::exception&) {
      // The client went away or failed the handshake: that connection is over.
    }
  }

  template <typename Stream>
  asio::awaitable<void> serve_stream(Stream& stream, int index) {
    beast::flat_buffer buffer;
    while (true) {
      http::request<http::string_body> req;
      co_await http::async_read(stream, buffer, req, use_awaitable);
      ServerRequest seen;
      seen.method = std::string(req.method_string());
      seen.target = std::string(req.target());
      seen.body = req.body();
      seen.connection = index;
      seen.received = std::chrono::steady_clock::now();
      for (const auto& field : req) {
        std::string name(field.name_string());
        for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        seen.headers[name] = std::string(field.value());
      }
      {
        std::lock_guard lock(mutex);
        requests.push_back(seen);
      }
      const ServerReply reply = handler(seen);
      if (reply.delay.count() > 0) {
        asio::steady_timer timer(co_await asio::this_coro::executor, reply.delay);
        co_await timer.async_wait(use_awaitable);
      }
      if (reply.drop) co_return;
      http::response<http::string_body> res{static_cast<http::status>(reply.status), req.version()};
      res.set(http::field::content_type, "application/json");
      for (const auto& [name, value] : reply.headers) res.set(name, value);
      res.body() = reply.body;
      res.keep_alive(req.keep_alive());
      res.prepare_payload();
      co_await http::async_write(stream, res, use_awaitable);
      if (reply.close_after || !res.keep_alive()) co_return;
    }
  }

  TestServer& server;
  Handler handler;
  asio::io_context ioc{1};
  std::optional<ssl::context> tls;
  tcp::acceptor acceptor;
  std::thread thread;
  mutable std::mutex mutex;
  std::vector<ServerRequest> requests;
};

TestServer::TestServer(Handler handler, const TestPki* tls)
    : impl_(std::make_unique<Impl>(*this, std::move(handler), tls)), tls_(tls != nullptr) {
  port_ = impl_->acceptor.local_endpoint().port();
  asio::co_spawn(impl_->ioc, impl_->accept_loop(), asio::detached);
  impl_->thread = std::thread([this] { impl_->ioc.run(); });
}

TestServer::~TestServer() {
  impl_->ioc.stop();
  impl_->thread.join();
}

std::string TestServer::url(const std::string& host) const {
  return (tls_ ? "https://" : "http://") + host + ":" + std::to_string(port_);
}

int TestServer::requests_seen() const {
  std::lock_guard lock(impl_->mutex);
  return static_cast<int>(impl_->requests.size());
}

std::vector<ServerRequest> TestServer::requests() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->requests;
}

}  // namespace qt::capital::testing
