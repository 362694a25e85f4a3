// Where the market-data stream connects and how long it waits before connecting again.
//
// StreamEndpoint: the parsed CAPITAL_STREAM_URL, wss://host[:port][/path] (ws:// for local tests
// and benchmarks), e.g. wss://api-streaming-capital.backend-capital.com/connect → host
// api-streaming-capital.backend-capital.com, port 443, target /connect.
//
// ReconnectBackoff: exponential backoff with jitter between connection attempts. Attempt n
// (0-based) waits a uniformly drawn time in [d/2, d] where d = min(max_delay, min_delay * 2^n),
// so a fleet of clients dropped together does not come back together. reset() after a
// connection that was worth keeping (see stream_client.hpp) starts again from min_delay.
//
// Plain values and pure functions; no threads, no I/O.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <random>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace qt::capital {

struct StreamEndpoint {
  bool tls = true;   // wss
  std::string host;  // lower case, no brackets around an IPv6 literal
  uint16_t port = 443;
  std::string target = "/";  // path (and query) of the WebSocket upgrade request

  // The Host header: "host" or "host:port" when the port is not the scheme's default.
  std::string host_header() const;
  // "wss://host[:port]/target", for logs.
  std::string to_string() const;
};

// Accepts ws:// and wss:// only; rejects user info and fragments. An empty path becomes "/".
absl::StatusOr<StreamEndpoint> parse_stream_url(std::string_view url);

class ReconnectBackoff {
 public:
  using Duration = std::chrono::nanoseconds;

  ReconnectBackoff(Duration min_delay, Duration max_delay, uint64_t seed)
      : min_delay_(min_delay), max_delay_(std::max(min_delay, max_delay)), random_(seed) {}

  // The un-jittered ceiling of attempt `attempt` (0-based).
  Duration ceiling(uint32_t attempt) const {
    Duration d = min_delay_;
    for (uint32_t i = 0; i < attempt && d < max_delay_; ++i) d *= 2;
    return std::min(d, max_delay_);
  }

  // The delay before the next attempt; each call counts one attempt.
  Duration next() {
    const Duration top = ceiling(attempt_);
    if (attempt_ < 63) ++attempt_;
    std::uniform_int_distribution<int64_t> pick(top.count() / 2, top.count());
    return Duration(pick(random_));
  }

  void reset() { attempt_ = 0; }
  uint32_t attempt() const { return attempt_; }

 private:
  Duration min_delay_;
  Duration max_delay_;
  uint32_t attempt_ = 0;
  std::mt19937_64 random_;
};

}  // namespace qt::capital
