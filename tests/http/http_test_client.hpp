// A blocking HTTP/1.1 client over a plain POSIX socket, for the server tests: it writes exactly
// the bytes a test gives it (so tests can send malformed, slow, pipelined or oversized requests)
// and reads responses framed by Content-Length. Every read has a deadline, so a server that
// stalls fails the test instead of hanging it.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace qt::http::testing {

struct TestResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // names in lower case
  std::string body;

  std::string header(const std::string& lower_case_name) const {
    const auto it = headers.find(lower_case_name);
    return it == headers.end() ? std::string() : it->second;
  }
  bool has_header(const std::string& lower_case_name) const {
    return headers.count(lower_case_name) != 0;
  }
};

class TestClient {
 public:
  using Clock = std::chrono::steady_clock;

  explicit TestClient(uint16_t port, const char* host = "127.0.0.1") {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    ::inet_pton(AF_INET, host, &address.sin_addr);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
      ::close(fd_);
      fd_ = -1;
    }
    const int one = 1;
    if (fd_ >= 0) ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  ~TestClient() { close(); }
  TestClient(const TestClient&) = delete;
  TestClient& operator=(const TestClient&) = delete;

  bool connected() const { return fd_ >= 0; }
  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

  // Writes all of `bytes`; false when the connection is broken.
  bool send(std::string_view bytes) {
    while (!bytes.empty()) {
      const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }

  // One response; nullopt when the connection ends or `timeout` passes first. `head`: the
  // answer to a HEAD request, whose Content-Length describes a body that is not sent.
  std::optional<TestResponse> read_response(
      std::chrono::milliseconds timeout = std::chrono::milliseconds(5000), bool head = false) {
    const Clock::time_point deadline = Clock::now() + timeout;
    std::size_t header_end;
    while ((header_end = pending_.find("\r\n\r\n")) == std::string::npos) {
      if (!fill(deadline)) return std::nullopt;
    }
    TestResponse response;
    const std::string header_text = pending_.substr(0, header_end);
    std::size_t line_end = header_text.find("\r\n");
    const std::string status_line = header_text.substr(0, line_end);
    if (status_line.size() < 12) return std::nullopt;
    response.status = std::stoi(status_line.substr(9, 3));
    while (line_end != std::string::npos) {
      const std::size_t start = line_end + 2;
      line_end = header_text.find("\r\n", start);
      const std::string line = header_text.substr(start, line_end - start);
      const std::size_t colon = line.find(':');
      if (colon == std::string::npos) continue;
      std::string name = line.substr(0, colon);
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      std::string value = line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.erase(0, 1);
      response.headers[name] = value;
    }
    std::size_t length = 0;
    if (!head && response.has_header("content-length")) {
      length = std::stoul(response.header("content-length"));
    }
    const std::size_t body_start = header_end + 4;
    while (pending_.size() < body_start + length) {
      if (!fill(deadline)) return std::nullopt;
    }
    response.body = pending_.substr(body_start, length);
    pending_.erase(0, body_start + length);
    return response;
  }

  // True when the server closes the connection (EOF or reset) within `timeout`, discarding
  // whatever it sends before.
  bool closed_by_server(std::chrono::milliseconds timeout = std::chrono::milliseconds(5000)) {
    const Clock::time_point deadline = Clock::now() + timeout;
    while (true) {
      const int result = wait_readable(deadline);
      if (result <= 0) return false;
      char buffer[4096];
      const ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
      if (n == 0 || (n < 0 && errno == ECONNRESET)) return true;
      if (n < 0) return false;
    }
  }

  std::string_view unread() const { return pending_; }

 private:
  int wait_readable(Clock::time_point deadline) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return 0;
    pollfd descriptor{fd_, POLLIN, 0};
    return ::poll(&descriptor, 1, static_cast<int>(left));
  }

  bool fill(Clock::time_point deadline) {
    if (wait_readable(deadline) <= 0) return false;
    char buffer[16384];
    const ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
    if (n <= 0) return false;
    pending_.append(buffer, static_cast<std::size_t>(n));
    return true;
  }

  int fd_ = -1;
  std::string pending_;
};

// "GET <target> HTTP/1.1" with Host and the given extra header lines ("Name: value\r\n"...).
inline std::string get_request(std::string_view target, std::string_view extra_headers = {}) {
  std::string request = "GET ";
  request += target;
  request += " HTTP/1.1\r\nHost: test\r\n";
  request += extra_headers;
  request += "\r\n";
  return request;
}

inline std::string post_request(std::string_view target, std::string_view body,
                                std::string_view extra_headers = {},
                                std::string_view content_type = "application/json") {
  std::string request = "POST ";
  request += target;
  request += " HTTP/1.1\r\nHost: test\r\nContent-Type: ";
  request += content_type;
  request += "\r\nContent-Length: ";
  request += std::to_string(body.size());
  request += "\r\n";
  request += extra_headers;
  request += "\r\n";
  request += body;
  return request;
}

}  // namespace qt::http::testing
