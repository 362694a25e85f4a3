// CapitalRestClient: the Capital.com REST calls the venue agent and the tools use, over the
// pooled HTTPS transport, with the session handled for the caller. The door of the client
// module (target qt_capital_client); its parts, bottom up:
//   client_config.hpp     CapitalClientConfig from the seed's environment names, Secret, masking
//   https_connection.hpp  one keep-alive TLS connection; Answered / NotSent / OutcomeUnknown
//   connection_pool.hpp   CONNECTION_POOL_SIZE connections, lock-free checkout
//   rate_limiter.hpp      the broker's limits, client-side; 429 backoff
//   retry_policy.hpp      what may be sent again (never an order with an unknown outcome)
//   rest_transport.hpp    one request: pool + rate limit + retries
//   session.hpp           login (plain / encrypted), tokens, single-flight re-login
// Wire formats (DTOs, JSON, error codes, password encryption) come from protocol.hpp.
//
// Calls block the calling thread (a venue worker, never the engine thread) and may run
// concurrently from several threads, up to CONNECTION_POOL_SIZE at once. Each call:
//   1. logs in first if there is no session (single flight, see session.hpp);
//   2. sends with X-CAP-API-KEY, CST and X-SECURITY-TOKEN through the transport, which applies
//      the client-side rate limits, API_TIMEOUT and the retry rule (retry_policy.hpp);
//   3. on 401 (the broker refused the session tokens): one re-login — shared by every worker
//      that got a 401 meanwhile — then the request is sent once more. This holds for order
//      requests too: a 401 is an explicit refusal given before anything is executed, so the
//      order was not placed and sending it again after the login cannot duplicate it. A second
//      401 is returned as is.
//   4. returns the typed answer (protocol DTOs) or a Status naming the broker's error code, the
//      client-side limit or the transport failure — never a secret.
//
// Order-changing calls (open/close position, create/amend/delete working order) return a
// DealSendResult whose `outcome` the caller must respect (trading_api.hpp): kAnswered with a
// deal reference to confirm, or the broker's refusal; kNotSent (no effect); kOutcomeUnknown
// (NEVER re-send: resolve from confirms, positions and working orders).
//
// The client is the venue agent's TradingApi (trading_api.hpp).
//
// A keep-alive thread (start_keepalive) pings the session when it has been idle for
// CAPITAL_PING_INTERVAL (default 5 min, under the broker's 10-minute expiry).
#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/instrument.hpp"
#include "gateway/capital/client_config.hpp"
#include "gateway/capital/protocol.hpp"
#include "gateway/capital/rest_transport.hpp"
#include "gateway/capital/session.hpp"
#include "gateway/capital/trading_api.hpp"

namespace qt::capital {

// GET /prices/{epic}. Empty / zero members are not sent (the broker's defaults apply).
struct PriceHistoryQuery {
  std::string epic;
  std::string resolution;  // MINUTE, MINUTE_5, ..., WEEK
  int max = 0;             // bars, ≤ 1000
  std::string from;        // UTC "YYYY-MM-DDTHH:MM:SS"
  std::string to;
};

class CapitalRestClient final : public TradingApi {
 public:
  static absl::StatusOr<std::unique_ptr<CapitalRestClient>> create(
      const CapitalClientConfig& config, ClientClock& clock = ClientClock::steady());
  ~CapitalRestClient() override;  // stops the keep-alive thread; does not log out
  CapitalRestClient(const CapitalRestClient&) = delete;
  CapitalRestClient& operator=(const CapitalRestClient&) = delete;

  // Session (section 2).
  absl::StatusOr<SessionCreateResponse> login();
  absl::Status logout();
  absl::Status ping();
  absl::StatusOr<SessionDetails> session_details();
  absl::StatusOr<SwitchAccountResponse> switch_account(std::string_view account_id);
  bool logged_in() const { return session_.logged_in(); }

  // Accounts (section 3).
  absl::StatusOr<AccountsResponse> accounts();
  absl::StatusOr<AccountPreferences> preferences();

  // Markets and prices (section 4).
  absl::StatusOr<MarketSearchResponse> search_markets(std::string_view search_term);
  absl::StatusOr<MarketDetailsListResponse> markets(const std::vector<std::string>& epics);
  absl::StatusOr<MarketDetails> market_details(std::string_view epic);
  // The engine's InstrumentSpec from the market's dealing rules (protocol/instrument_spec.hpp).
  absl::StatusOr<InstrumentSpec> instrument_spec(std::string_view epic, InstrumentId id);
  absl::StatusOr<PriceHistory> price_history(const PriceHistoryQuery& query);

  // Positions (section 5).
  absl::StatusOr<PositionsResponse> positions() override;
  absl::StatusOr<PositionItem> position(std::string_view deal_id);
  DealSendResult open_position(const CreatePositionRequest& request) override;
  DealSendResult amend_position(std::string_view deal_id, const AmendPositionRequest& request);
  DealSendResult close_position(std::string_view deal_id);

  // Working orders (section 5).
  absl::StatusOr<WorkingOrdersResponse> working_orders() override;
  DealSendResult create_working_order(const CreateWorkingOrderRequest& request) override;
  DealSendResult amend_working_order(std::string_view deal_id,
                                     const AmendWorkingOrderRequest& request);
  DealSendResult delete_working_order(std::string_view deal_id) override;

  // GET /history/activity?lastPeriod=<seconds>&detailed=true[&filter=epic==<epic>] (section 3);
  // the broker caps lastPeriod at one day.
  absl::StatusOr<ActivityHistoryResponse> activity_history(int64_t last_period_seconds,
                                                           std::string_view epic) override;

  // GET /confirms/{dealReference}: NotFound (error.not-found.dealReference) until recorded.
  absl::StatusOr<DealConfirmation> confirm(std::string_view deal_reference) override;

  // Any call, authenticated, with the 401 handling above. `target` is relative to /api/v1.
  // An error Status means no session could be had (login failed): the request was not sent,
  // or was refused with 401 and not sent again.
  absl::StatusOr<SendResult> execute(HttpMethod method, std::string_view target,
                                     std::string_view body, RequestClass request_class);

  // Any thread, for shutdown: every request in flight ends now (one already written has an
  // unknown outcome) and every later call fails (Cancelled) at once, so that a broker that
  // stopped answering cannot hold the venue's threads for API_TIMEOUT. Not undone.
  void abort_requests() { transport_->stop(); }

  // Keep-alive: pings when the session has been idle for config.ping_interval.
  void start_keepalive();
  void stop_keepalive();

  CapitalSession& session() { return session_; }
  RestTransport& transport() { return *transport_; }
  const CapitalClientConfig& config() const { return config_; }

 private:
  CapitalRestClient(const CapitalClientConfig& config, std::unique_ptr<RestTransport> transport);

  template <typename T, typename Parse>
  absl::StatusOr<T> get_parsed(std::string target, Parse parse);
  DealSendResult send_deal(HttpMethod method, std::string target, std::string body,
                           RequestClass request_class);
  void keepalive_loop();

  const CapitalClientConfig config_;
  std::unique_ptr<RestTransport> transport_;
  CapitalSession session_;
  std::atomic<int64_t> last_activity_ns_{0};  // steady clock, of the last authenticated call

  std::mutex keepalive_mutex_;
  std::condition_variable keepalive_wake_;
  bool keepalive_stop_ = false;
  std::thread keepalive_thread_;
};

}  // namespace qt::capital
