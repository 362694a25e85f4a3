// SimulatedBroker: the state and rules of the simulated Capital.com account, independent of
// the network. The server turns each HTTP request into a BrokerRequest and each WebSocket text
// frame into a call of handle_stream_message(); the tick timer calls tick().
//
// Implements capital-api.md: sessions and tokens (idle expiry), accounts and preferences,
// markets and prices, positions with netting, working orders filled when the market crosses
// them, confirms, activity history, the documented error bodies and the broker's rate limits.
//
// Thread safety: every public member locks one mutex, so the server thread and a test thread
// (inspection, price hooks) may call it concurrently. Not a hot path. The state behind it and
// which file implements which resource: sim/broker_state.hpp.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "sim/market_catalogue.hpp"
#include "sim/sim_options.hpp"

namespace qt::sim {

struct BrokerRequest {
  std::string method;                         // "GET", "POST", ...
  std::string path;                           // decoded, without the query: "/api/v1/positions"
  std::map<std::string, std::string> query;   // decoded query parameters
  std::optional<std::string> api_key;         // X-CAP-API-KEY
  std::optional<std::string> cst;             // CST
  std::optional<std::string> security_token;  // X-SECURITY-TOKEN
  std::string body;
};

struct BrokerResponse {
  int status = 200;
  std::string body;
  std::string cst;              // sent as the CST header when not empty
  std::string security_token;   // sent as X-SECURITY-TOKEN when not empty
  bool order_executed = false;  // an order request was carried out (a dealReference was issued)
};

// What one WebSocket connection asked to receive.
struct StreamSubscriptions {
  std::string cst;             // tokens of the last valid envelope
  uint64_t session_epoch = 0;  // the session's epoch then; switching account bumps it
  std::set<std::string> epics;
  std::set<std::string> ohlc_keys;  // "GOLD:MINUTE_5:classic"
};

struct StreamTick {
  std::string epic;
  std::string quote_json;  // the whole {"status":"OK","destination":"quote",...} frame
  // ohlc.event frames of this market keyed like StreamSubscriptions::ohlc_keys.
  std::vector<std::pair<std::string, std::string>> ohlc_json;
};

struct PositionInfo {
  std::string account_id;
  std::string deal_id;
  std::string epic;
  std::string direction;  // "BUY" / "SELL"
  double size = 0;
  double level = 0;
  std::string working_order_id;
  std::optional<double> stop_level;
  std::optional<double> profit_level;
};

struct WorkingOrderInfo {
  std::string account_id;
  std::string deal_id;
  std::string epic;
  std::string direction;
  std::string type;  // "LIMIT" / "STOP"
  double size = 0;
  double level = 0;
};

struct SimStats {
  int64_t logins = 0;         // successful POST /session
  int64_t failed_logins = 0;  // POST /session answered 4xx
  // Order requests that reached the dealing desk (got a dealReference), by epic:
  // POST /positions and POST /workingorders.
  std::map<std::string, int64_t> orders_by_epic;
  // Executed deals by epic: market deals accepted, working orders filled, positions closed.
  std::map<std::string, int64_t> deals_by_epic;
  std::map<std::string, int64_t> requests_by_path;  // "POST /api/v1/positions" -> count
  int64_t rate_limited = 0;                         // 429s from the broker limits
  int64_t injected_errors = 0;                      // fault: 5xx
  int64_t injected_429 = 0;                         // fault: 429
  int64_t stalled = 0;                              // fault: never answered
  int64_t dropped_responses = 0;                    // fault: order executed, response dropped
  int64_t ws_connections = 0;
  int64_t ws_drops = 0;
  int64_t quotes_pushed = 0;
  int64_t sessions_expired = 0;

  int64_t orders(const std::string& epic) const;
  int64_t deals(const std::string& epic) const;
  int64_t total_orders() const;
  int64_t requests(const std::string& method_and_path) const;
};

// {"errorCode":"<code>"}: the broker's error body.
std::string error_body(std::string_view code);

struct BrokerState;

class SimulatedBroker {
 public:
  explicit SimulatedBroker(SimOptions options,
                           std::vector<MarketSpec> markets = default_catalogue());
  ~SimulatedBroker();
  SimulatedBroker(const SimulatedBroker&) = delete;
  SimulatedBroker& operator=(const SimulatedBroker&) = delete;

  // The login response's streamingHost ("wss://127.0.0.1:PORT/"), set once the port is known.
  void set_streaming_host(std::string host);

  BrokerResponse handle(const BrokerRequest& request);

  // One WebSocket text frame; returns the frames to send back (in order).
  std::vector<std::string> handle_stream_message(std::string_view text,
                                                 StreamSubscriptions& subscriptions);
  // False once the tokens of the stream's session are gone (logout, forced expiry).
  bool stream_session_alive(const StreamSubscriptions& subscriptions);

  // One step of every open market's walk; fills working orders and stops; returns the new
  // quotes (open markets only) and the ohlc.event frames for `ohlc_keys` ("GOLD:MINUTE:classic").
  std::vector<StreamTick> tick(const std::set<std::string>& ohlc_keys = {});
  // The current quote frame of a market (sent right after a subscription); empty if unknown.
  std::string quote_frame(const std::string& epic);

  // Fault injection: forget every session (their next use answers 401).
  void expire_all_sessions();

  // Test hooks.
  // Moves a market's mid price and immediately runs order matching. False if unknown epic.
  bool set_mid_price(const std::string& epic, double mid);
  std::optional<std::pair<double, double>> quote(const std::string& epic);  // bid, ask

  // Inspection.
  SimStats stats();
  std::vector<PositionInfo> positions();
  std::vector<WorkingOrderInfo> working_orders();
  void count_request(const std::string& method, const std::string& path);
  enum class FaultEvent { kError, k429, kStall, kDroppedResponse, kWsConnect, kWsDrop, kQuote };
  void count_fault(FaultEvent event, int64_t n = 1);

  const SimOptions& options() const { return options_; }
  const std::vector<MarketSpec>& markets() const;

 private:
  SimOptions options_;
  std::mutex mutex_;
  std::unique_ptr<BrokerState> state_;  // guarded by mutex_
};

}  // namespace qt::sim
