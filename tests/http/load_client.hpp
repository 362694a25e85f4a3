// Holds many keep-alive connections to a server at once and sends requests on all of them, for
// the connection-count tests. One io_context on the calling thread (or process); connects in
// waves so the listen backlog never overflows.
//
// It talks to the test through two descriptors (pipes), so the same code runs on a thread of
// the test (1,000 connections) or in a forked process (10,000: each side then has its own
// descriptor limit):
//   client → test  "connected C answered A\n"  all connections open, each answered once
//   test → client  "go\n"                      the test has checked the server meanwhile
//   client → test  "answered A\n"              the total of 200s after the second round
#pragma once

#include <sys/resource.h>
#include <unistd.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

namespace qt::http::testing {

class LoadClient {
 public:
  LoadClient(uint16_t port, int connections) : port_(port), count_(connections) {}

  // Runs the protocol above; returns when done (or after `deadline` in total).
  void run(int to_test, int from_test, std::chrono::seconds deadline = std::chrono::seconds(120)) {
    namespace asio = boost::asio;
    const asio::ip::tcp::endpoint server(asio::ip::make_address("127.0.0.1"), port_);
    asio::steady_timer give_up(io_, deadline);
    give_up.async_wait([this](const boost::system::error_code& ec) {
      if (ec) return;
      for (auto& connection : connections_) {
        boost::system::error_code ignored;
        connection->socket.close(ignored);
      }
    });
    for (int i = 0; i < count_; ++i) connections_.push_back(std::make_unique<Connection>(io_));
    connect_more(server);
    run_until_idle();
    round();
    write_line(to_test, "connected " + std::to_string(connected_) + " answered " +
                            std::to_string(answered_) + "\n");
    if (read_line(from_test) != "go") return;
    round();
    give_up.cancel();
    write_line(to_test, "answered " + std::to_string(answered_) + "\n");
    connections_.clear();
  }

  static void write_line(int fd, const std::string& line) {
    std::size_t done = 0;
    while (done < line.size()) {
      const ssize_t n = ::write(fd, line.data() + done, line.size() - done);
      if (n <= 0) return;
      done += static_cast<std::size_t>(n);
    }
  }

  // One line without its '\n'; empty at end of file.
  static std::string read_line(int fd) {
    std::string line;
    char c;
    while (::read(fd, &c, 1) == 1 && c != '\n') line.push_back(c);
    return line;
  }

  // Raises the soft descriptor limit to the hard one; returns the hard limit.
  static rlim_t raise_descriptor_limit() {
    rlimit limit{};
    ::getrlimit(RLIMIT_NOFILE, &limit);
    limit.rlim_cur = limit.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &limit);
    return limit.rlim_max;
  }

 private:
  static constexpr int kConnectWave = 500;

  struct Connection {
    explicit Connection(boost::asio::io_context& io) : socket(io) {}
    boost::asio::ip::tcp::socket socket;
    boost::beast::flat_buffer buffer;
    boost::beast::http::response<boost::beast::http::string_body> response;
    bool open = false;
  };

  void connect_more(const boost::asio::ip::tcp::endpoint& server) {
    while (in_flight_ < kConnectWave && next_ < count_) {
      Connection& connection = *connections_[static_cast<std::size_t>(next_++)];
      ++in_flight_;
      connection.socket.async_connect(
          server, [this, &connection, server](const boost::system::error_code& ec) {
            --in_flight_;
            if (!ec) {
              connection.open = true;
              ++connected_;
            }
            connect_more(server);
          });
    }
  }

  void round() {
    namespace http = boost::beast::http;
    static const std::string kRequest = "GET /health HTTP/1.1\r\nHost: load\r\n\r\n";
    for (auto& pointer : connections_) {
      Connection& connection = *pointer;
      if (!connection.open) continue;
      ++pending_;
      boost::asio::async_write(
          connection.socket, boost::asio::buffer(kRequest),
          [this, &connection](const boost::system::error_code& ec, std::size_t) {
            if (ec) {
              connection.open = false;
              --pending_;
              return;
            }
            connection.response = {};
            http::async_read(
                connection.socket, connection.buffer, connection.response,
                [this, &connection](const boost::system::error_code& read_error, std::size_t) {
                  --pending_;
                  if (read_error || connection.response.result_int() != 200 ||
                      !connection.response.keep_alive()) {
                    connection.open = false;
                    return;
                  }
                  ++answered_;
                });
          });
    }
    run_until_idle();
  }

  // The give-up timer keeps the context busy, so run() would not return by itself: run until
  // no connect and no request is in flight (the timer closes the sockets if that never comes).
  void run_until_idle() {
    while (in_flight_ > 0 || pending_ > 0) io_.run_one();
  }

  boost::asio::io_context io_{1};
  uint16_t port_;
  int count_;
  std::vector<std::unique_ptr<Connection>> connections_;
  int next_ = 0;
  int in_flight_ = 0;  // connects
  int pending_ = 0;    // requests written or being written, not yet answered
  int connected_ = 0;
  int answered_ = 0;
};

}  // namespace qt::http::testing
