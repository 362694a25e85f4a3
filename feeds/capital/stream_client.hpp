// CapitalStreamClient: the Capital.com market-data stream (capital-api.md §6) — one WebSocket
// to the streaming host, every quote parsed in place into a fixed-point qt::Quote and pushed
// onto the feed → engine QuoteRing.
//
// Connection: resolve → TCP (TCP_NODELAY) → TLS with SNI, verifying the peer certificate and
// host name unless the shared TlsContext is in the explicit insecure mode → WebSocket upgrade
// on the URL's path (/connect) → marketData.subscribe for every epic, in batches of at most 40,
// each envelope carrying cst/securityToken from the token provider and an increasing
// correlationId. Any handshake, read or write error, a close by the server or a dead transport
// (no byte for transport_idle_timeout, after a WebSocket ping at half of it) ends the
// connection; the next attempt follows after an exponential backoff with jitter
// (reconnect_min_delay … reconnect_max_delay; it starts again from the minimum after a
// connection that delivered a quote or lasted reconnect_max_delay). After a *re*-connection
// the client resubscribes everything and, once every batch is answered (or subscribe_timeout
// passed), calls on_reconnected — the venue takes a fresh REST snapshot there.
//
// Keep-alive: a ping envelope every ping_interval (default 9 min; the venue ends a stream
// session left silent for 10).
// Session: an error reply error.invalid.session.token → on_session_invalid(epoch of the
// refused tokens) — the REST session logs in again — then reconnect with the provider's new
// tokens. Other error replies are logged (subscriptions: with the batch's epics) and counted.
// Staleness: no quote on any epic for stale_after (default 10 s; also counted from start() and
// across disconnections) → one warning, stale_events + 1, ready() false; the next quote makes
// it ready again. Optional per epic (epic_stale_after): logged and counted, never affects
// ready(), since markets keep different hours.
//
// Threads: one thread of its own (the stream thread) runs a Boost.Asio io_context; it is the
// QuoteRing's single producer and rings the optional Doorbell after each push. The callbacks
// run on it: keep them short (on_session_invalid may block for a login — the stream is down
// meanwhile anyway). start(), stop(), ready() and stats() may be called from any thread.
// With busy_poll the thread spins on the io_context instead of sleeping in epoll (a dedicated
// core; about the wake-up cost less latency).
//
// Allocation: none per quote in this code. Beast copies each frame's payload from its socket
// buffer into one flat buffer sized max_frame_bytes + QuoteParser::kPadding (allocated per
// connection), where QuoteParser parses it in place (parse_padded, no second copy); a full ring
// drops the quote and counts it (a newer quote for the same epic supersedes it). OpenSSL 3.0
// itself allocates 40 bytes per received TLS 1.3 record (and frees them before returning); its
// record buffers are kept (gateway/capital/client_tls.cpp).
// tests/capital_stream/stream_alloc_test.cpp measures both. Control frames (acks, pings, errors)
// are decoded with the allocating protocol parser; that is the control path.
//
// Secrets: the tokens are written only into the envelopes on the wire, never logged.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/idle_strategy.hpp"
#include "engine/rings.hpp"
#include "feeds/capital/quote_parser.hpp"
#include "feeds/capital/stream_endpoint.hpp"
#include "gateway/capital/client_config.hpp"
#include "gateway/capital/https_connection.hpp"

namespace qt::capital {

// The session tokens a stream envelope carries, and which login produced them
// (CapitalSession::Credentials).
struct StreamTokens {
  Secret cst;
  Secret security_token;
  uint64_t epoch = 0;
};

struct StreamCallbacks {
  // Required. The current session tokens, asked before each connection and each ping; nullopt
  // while there is no session (the attempt then counts as failed and is retried).
  std::function<std::optional<StreamTokens>()> tokens;
  // The venue refused the tokens of `epoch` (error.invalid.session.token): log in again.
  std::function<void(uint64_t epoch)> on_session_invalid;
  // A re-connection is subscribed again: take a fresh snapshot over REST.
  std::function<void()> on_reconnected;
  // First thing on the stream thread (pin it, name it).
  std::function<void()> on_thread_start;
};

struct StreamConfig {
  static constexpr std::size_t kMaxEpicsPerSubscribe = 40;  // the venue's limit

  std::string url{kStreamUrl};  // wss://host[:port]/path; ws:// for tests and benchmarks
  // TLS settings for wss (share the REST client's). Null: the system CA store, verifying.
  std::shared_ptr<TlsContext> tls;

  std::chrono::milliseconds connect_timeout{10'000};  // resolve + TCP + TLS + WS upgrade
  std::chrono::milliseconds ping_interval{std::chrono::minutes(9)};
  std::chrono::milliseconds stale_after{10'000};
  std::chrono::milliseconds epic_stale_after{0};  // 0: no per-epic staleness
  std::chrono::milliseconds reconnect_min_delay{100};
  std::chrono::milliseconds reconnect_max_delay{30'000};
  std::chrono::milliseconds subscribe_timeout{10'000};
  // No byte from the server for this long (a WebSocket ping goes out at half) → reconnect.
  // 0: off.
  std::chrono::milliseconds transport_idle_timeout{60'000};
  std::size_t max_epics_per_subscribe = kMaxEpicsPerSubscribe;
  std::size_t max_frame_bytes = 64 * 1024;  // longer frames are skipped and counted
  bool busy_poll = false;
  uint64_t backoff_seed = 0;  // 0: random
};

// The stream settings of a REST client configuration: CAPITAL_STREAM_URL, and a TlsContext
// made by TlsContext::create from CAPITAL_CA_FILE (and ca_pem) / CAPITAL_TLS_INSECURE_SKIP_VERIFY —
// the same trust decision as the REST client's.
absl::StatusOr<StreamConfig> stream_config_from(const CapitalClientConfig& config);

// Counters since construction; read with relaxed loads, so a snapshot is not atomic as a
// whole.
struct StreamStats {
  uint64_t quotes = 0;              // pushed onto the ring
  uint64_t drops = 0;               // parsed, ring full
  uint64_t unknown_epics = 0;       // quotes for epics not in the table
  uint64_t parse_errors = 0;        // malformed or oversized frames
  uint64_t frames = 0;              // WebSocket messages received
  uint64_t bytes = 0;               // payload bytes received
  uint64_t connects = 0;            // WebSocket upgrades that succeeded
  uint64_t reconnects = 0;          // of those, after an earlier connection
  uint64_t connect_failures = 0;    // attempts that did not reach an upgraded WebSocket
  uint64_t disconnects = 0;         // established connections that ended (not by stop())
  uint64_t stale_events = 0;        // fresh → stale transitions of the whole feed
  uint64_t epic_stale_events = 0;   // per-epic transitions (epic_stale_after)
  uint64_t subscribe_failures = 0;  // epics the venue did not subscribe (refused or error)
  uint64_t pings_sent = 0;
  uint64_t pings_answered = 0;
  uint64_t error_replies = 0;
  uint64_t session_refreshes = 0;  // on_session_invalid calls
  int64_t last_quote_ns = 0;       // qt::now_ns() of the last quote; 0 = none yet
  uint32_t stale_epics = 0;        // epics stale now (epic_stale_after)
  bool connected = false;
  bool ready = false;
};

class CapitalStreamClient {
 public:
  // `subscriptions`: the epics to subscribe and the instruments their quotes become (the
  // QuoteParser's table). `ring` and `doorbell` must outlive the client.
  static absl::StatusOr<std::unique_ptr<CapitalStreamClient>> create(
      StreamConfig config, std::vector<EpicInstrument> subscriptions, QuoteRing& ring,
      StreamCallbacks callbacks, Doorbell* doorbell = nullptr);

  ~CapitalStreamClient();  // stop()
  CapitalStreamClient(const CapitalStreamClient&) = delete;
  CapitalStreamClient& operator=(const CapitalStreamClient&) = delete;

  // Starts the stream thread, which connects at once. Once only.
  void start();
  // Closes the WebSocket (a close frame, at most 1 s) and joins the thread. Idempotent.
  void stop();

  // Connected, and a quote arrived within stale_after.
  bool ready() const noexcept;
  bool connected() const noexcept;
  StreamStats stats() const noexcept;
  const StreamEndpoint& endpoint() const noexcept;

  struct Impl;

 private:
  explicit CapitalStreamClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace qt::capital
