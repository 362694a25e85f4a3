// Small blocking clients for the simulator tests: HTTP/1.1 keep-alive and WebSocket, over plain
// TCP or TLS (trusting the simulator's certificate as the CA, verifying host "localhost").
// Test code only: each call runs its own io_context until the operation completes or times out.
#pragma once

#include <simdjson.h>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

#include "sim/capital_simulator.hpp"
#include "sim/json_body.hpp"

namespace qt::sim::testing {

namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace websocket = boost::beast::websocket;
using tcp = boost::asio::ip::tcp;
using PlainStream = beast::tcp_stream;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;
using namespace std::chrono_literals;

// A parsed JSON document; fields are read by JSON pointer ("/positions/0/position/dealId").
// Movable: the parser (which owns the document the root points into) lives on the heap.
class Json {
 public:
  explicit Json(const std::string& text)
      : text_(text), parser_(std::make_unique<simdjson::dom::parser>()) {
    ok_ = parser_->parse(text_).get(root_) == simdjson::SUCCESS;
  }
  bool ok() const { return ok_; }
  bool has(const std::string& pointer) const {
    simdjson::dom::element e;
    return ok_ && root_.at_pointer(pointer).get(e) == simdjson::SUCCESS;
  }
  std::string str(const std::string& pointer) const {
    std::string_view v;
    if (!ok_ || root_.at_pointer(pointer).get_string().get(v) != simdjson::SUCCESS) {
      return "<missing " + pointer + ">";
    }
    return std::string(v);
  }
  double num(const std::string& pointer) const {
    simdjson::dom::element e;
    if (!ok_ || root_.at_pointer(pointer).get(e) != simdjson::SUCCESS) return -1e300;
    return JsonBody::number(e).value_or(-1e300);
  }
  bool boolean(const std::string& pointer) const {
    bool v = false;
    return ok_ && root_.at_pointer(pointer).get_bool().get(v) == simdjson::SUCCESS && v;
  }
  std::size_t size(const std::string& pointer) const {
    simdjson::dom::array a;
    if (ok_ && root_.at_pointer(pointer).get_array().get(a) == simdjson::SUCCESS) return a.size();
    simdjson::dom::object o;
    if (ok_ && root_.at_pointer(pointer).get_object().get(o) == simdjson::SUCCESS) return o.size();
    return 0;
  }

 private:
  std::string text_;
  std::unique_ptr<simdjson::dom::parser> parser_;
  simdjson::dom::element root_;
  bool ok_ = false;
};

struct Reply {
  int status = 0;
  std::string body;
  std::string cst;
  std::string security_token;
  bool no_response = false;  // the connection closed (or timed out) before any response
  std::chrono::milliseconds elapsed{0};

  Json json() const { return Json(body); }
  std::string error_code() const { return Json(body).str("/errorCode"); }
};

inline ssl::context client_tls_context(const std::string& ca_pem) {
  ssl::context ctx(ssl::context::tls_client);
  ctx.set_verify_mode(ssl::verify_peer);
  ctx.add_certificate_authority(net::buffer(ca_pem));
  return ctx;
}

template <class Stream>
class BasicHttpClient {
 public:
  explicit BasicHttpClient(CapitalSimulator& sim)
      : api_key(sim.options().credentials.api_key),
        identifier(sim.options().credentials.identifier),
        password(sim.options().credentials.password),
        port_(sim.port()),
        ca_pem_(sim.certificate_pem()) {}

  std::string api_key;
  std::string identifier;
  std::string password;
  std::string cst;
  std::string security_token;
  std::chrono::milliseconds timeout = 5s;

  // Sends one request on the kept-alive connection (reconnecting when needed). Adds the API key
  // and the session tokens when set.
  Reply send(http::verb verb, const std::string& target, const std::string& body = "") {
    Reply reply;
    const auto started = std::chrono::steady_clock::now();
    if (!stream_) connect();
    http::request<http::string_body> req{verb, target, 11};
    req.set(http::field::host, "localhost");
    req.set(http::field::content_type, "application/json");
    if (!api_key.empty()) req.set("X-CAP-API-KEY", api_key);
    if (!cst.empty()) req.set("CST", cst);
    if (!security_token.empty()) req.set("X-SECURITY-TOKEN", security_token);
    req.keep_alive(true);
    req.body() = body;
    req.prepare_payload();

    http::response<http::string_body> res;
    beast::error_code error;
    bool done = false;
    beast::get_lowest_layer(*stream_).expires_after(timeout);
    http::async_write(*stream_, req, [&](beast::error_code ec, std::size_t) {
      if (ec) {
        error = ec;
        done = true;
        return;
      }
      http::async_read(*stream_, buffer_, res, [&](beast::error_code ec2, std::size_t) {
        error = ec2;
        done = true;
      });
    });
    ioc_.restart();
    ioc_.run();
    reply.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - started);
    if (error || !done) {
      reply.no_response = true;
      disconnect();
      return reply;
    }
    reply.status = static_cast<int>(res.result_int());
    reply.body = res.body();
    if (const auto it = res.find("CST"); it != res.end()) reply.cst = std::string(it->value());
    if (const auto it = res.find("X-SECURITY-TOKEN"); it != res.end()) {
      reply.security_token = std::string(it->value());
    }
    if (!res.keep_alive()) disconnect();
    return reply;
  }

  Reply get(const std::string& target) { return send(http::verb::get, target); }
  Reply post(const std::string& target, const std::string& body) {
    return send(http::verb::post, target, body);
  }
  Reply put(const std::string& target, const std::string& body) {
    return send(http::verb::put, target, body);
  }
  Reply del(const std::string& target) { return send(http::verb::delete_, target); }

  // POST /session with the configured credentials; keeps the tokens on success.
  Reply login() {
    const Reply r = post("/api/v1/session", R"({"identifier":")" + identifier +
                                                R"(","password":")" + password + R"("})");
    if (r.status == 200) {
      cst = r.cst;
      security_token = r.security_token;
    }
    return r;
  }

  void disconnect() {
    if (!stream_) return;
    beast::error_code ec;
    beast::get_lowest_layer(*stream_).socket().close(ec);
    stream_.reset();
    buffer_.clear();
  }

 private:
  void connect() {
    const tcp::endpoint endpoint(net::ip::make_address("127.0.0.1"), port_);
    if constexpr (std::is_same_v<Stream, TlsStream>) {
      if (!tls_ctx_) tls_ctx_.emplace(client_tls_context(ca_pem_));
      stream_ = std::make_unique<Stream>(ioc_, *tls_ctx_);
      SSL_set_tlsext_host_name(stream_->native_handle(), "localhost");
      stream_->set_verify_callback(ssl::host_name_verification("localhost"));
      beast::get_lowest_layer(*stream_).connect(endpoint);
      stream_->handshake(ssl::stream_base::client);
    } else {
      stream_ = std::make_unique<Stream>(ioc_);
      stream_->connect(endpoint);
    }
  }

  net::io_context ioc_;
  uint16_t port_;
  std::string ca_pem_;
  std::optional<ssl::context> tls_ctx_;
  std::unique_ptr<Stream> stream_;
  beast::flat_buffer buffer_;
};

using HttpClient = BasicHttpClient<PlainStream>;
using TlsHttpClient = BasicHttpClient<TlsStream>;

template <class Stream>
class BasicWsClient {
 public:
  BasicWsClient(CapitalSimulator& sim, const std::string& path = "/connect") {
    const tcp::endpoint endpoint(net::ip::make_address("127.0.0.1"), sim.port());
    if constexpr (std::is_same_v<Stream, TlsStream>) {
      tls_ctx_.emplace(client_tls_context(sim.certificate_pem()));
      ws_ = std::make_unique<websocket::stream<Stream>>(ioc_, *tls_ctx_);
      SSL_set_tlsext_host_name(ws_->next_layer().native_handle(), "localhost");
      ws_->next_layer().set_verify_callback(ssl::host_name_verification("localhost"));
      beast::get_lowest_layer(*ws_).connect(endpoint);
      ws_->next_layer().handshake(ssl::stream_base::client);
    } else {
      ws_ = std::make_unique<websocket::stream<Stream>>(ioc_);
      beast::get_lowest_layer(*ws_).connect(endpoint);
    }
    ws_->handshake("localhost", path);
  }

  void send(const std::string& text) {
    ws_->text(true);
    ws_->write(net::buffer(text));
  }

  // The next text frame, or nullopt on timeout or when the connection closed.
  std::optional<std::string> read(std::chrono::milliseconds timeout = 3s) {
    if (closed_) return std::nullopt;
    beast::flat_buffer buffer;
    beast::error_code error;
    bool done = false;
    ws_->async_read(buffer, [&](beast::error_code ec, std::size_t) {
      error = ec;
      done = true;
    });
    ioc_.restart();
    ioc_.run_for(timeout);
    if (!done) {
      beast::get_lowest_layer(*ws_).close();
      ioc_.restart();
      ioc_.run();
      closed_ = true;
      return std::nullopt;
    }
    if (error) {
      closed_ = true;
      return std::nullopt;
    }
    return beast::buffers_to_string(buffer.data());
  }

  // Reads frames until one has `destination`, skipping others (quotes).
  std::optional<Json> read_until(const std::string& destination,
                                 std::chrono::milliseconds timeout = 3s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      const std::optional<std::string> frame = read(left);
      if (!frame) return std::nullopt;
      Json json(*frame);
      if (json.str("/destination") == destination) return json;
    }
    return std::nullopt;
  }

  bool closed() const { return closed_; }

 private:
  net::io_context ioc_;
  std::optional<ssl::context> tls_ctx_;
  std::unique_ptr<websocket::stream<Stream>> ws_;
  bool closed_ = false;
};

using WsClient = BasicWsClient<PlainStream>;
using TlsWsClient = BasicWsClient<TlsStream>;

// {"destination":D,"correlationId":C,"cst":..,"securityToken":..,"payload":P}
inline std::string envelope(const std::string& destination, const std::string& correlation,
                            const std::string& cst, const std::string& token,
                            const std::string& payload = "{}") {
  return R"({"destination":")" + destination + R"(","correlationId":")" + correlation +
         R"(","cst":")" + cst + R"(","securityToken":")" + token + R"(","payload":)" + payload +
         "}";
}

}  // namespace qt::sim::testing
