// Settings of the Capital.com simulator: where it listens, the credentials it accepts, how its
// prices move, the broker limits it enforces and the faults it injects.
//
// Plain data, copied into the simulator at start. Every random choice the simulator makes
// (prices, ids, fault rolls) is drawn from generators seeded by `seed`, so the same options and
// the same request sequence give the same run.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace qt::sim {

// How long the simulator waits before handling a request.
struct LatencyDistribution {
  enum class Kind : uint8_t { kNone, kFixed, kUniform, kLognormal };
  Kind kind = Kind::kNone;
  double a_ms = 0;  // fixed: the delay; uniform: min; lognormal: median
  double b_ms = 0;  // uniform: max; lognormal: sigma (of the underlying normal)

  // Parses "N" or "fixed:N", "uniform:MIN:MAX", "lognormal:MEDIAN:SIGMA" (milliseconds).
  static std::optional<LatencyDistribution> parse(const std::string& text);
  std::string to_string() const;
};

struct FaultOptions {
  LatencyDistribution latency;
  double error_rate = 0;                // share of REST requests answered 500, not handled
  double rate_429 = 0;                  // share of REST requests answered 429, not handled
  double stall_rate = 0;                // share of REST requests never answered
  double drop_order_response_rate = 0;  // share of executed orders whose response is dropped
  double order_error_rate = 0;          // share of order requests (POST /positions, /workingorders)
                                        // answered 500 without being executed
  double error_after_execution_rate = 0;  // share of executed orders answered 500 (the deal stands)
  // GET /confirms/{ref} answers 404 for this long after the deal (the real broker can, for a
  // moment); 0 = at once.
  int64_t confirm_delay_ms = 0;
  double ws_drop_every_seconds = 0;          // 0 = never; else close every WebSocket that often
  double expire_sessions_every_seconds = 0;  // 0 = never; else forget every session that often
};

// The broker's documented limits (capital-api.md section 7).
struct RateLimitOptions {
  bool enabled = true;
  int requests_per_second = 10;      // per user, every call but /time and logins; 401s too
  int order_min_interval_ms = 100;   // POST /positions and POST /workingorders, per user
  int orders_per_hour = 1000;        // POST /positions and POST /workingorders, per user
  int session_posts_per_second = 1;  // POST /session, per API key
};

struct SimCredentials {
  std::string api_key = "sim-api-key";
  std::string identifier = "sim@example.com";
  std::string password = "sim-password";
};

struct SimOptions {
  // Network. Port 0 picks a free port; CapitalSimulator::port() tells which.
  std::string bind_address = "127.0.0.1";
  uint16_t port = 0;

  // TLS: off, from PEM files, or with a certificate generated at start.
  enum class TlsMode : uint8_t { kOff, kFiles, kGenerated };
  TlsMode tls = TlsMode::kOff;
  std::string cert_file;      // kFiles
  std::string key_file;       // kFiles
  std::string write_ca_file;  // kGenerated: also write the certificate here (a client's ca_file)

  SimCredentials credentials;
  std::chrono::milliseconds session_idle_timeout{std::chrono::minutes(10)};
  std::chrono::milliseconds ws_idle_timeout{std::chrono::minutes(10)};

  // Prices.
  uint64_t seed = 42;
  double quotes_per_second = 4;  // walk steps per second; each pushes a quote per subscription
  double volatility_scale = 1;   // multiplies every market's daily volatility
  bool always_open = false;      // ignore the catalogue's opening hours

  // Account.
  double initial_balance = 10'000;
  int timezone_offset_hours = 0;  // local = UTC + this, for the broker's paired date fields
  bool hedging_mode = false;

  RateLimitOptions limits;
  FaultOptions faults;

  // `quanttrading sim` only: stop after this many seconds (0 = run until SIGINT/SIGTERM).
  double run_seconds = 0;

  // The settings `quanttrading run` uses when it starts the simulator for itself: loopback,
  // ephemeral port, generated TLS certificate, markets always open, default credentials.
  static SimOptions embedded();
};

}  // namespace qt::sim
