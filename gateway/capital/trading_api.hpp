// TradingApi: the broker operations the Capital.com venue agent needs, as an interface, so the
// agent's logic — confirms, Unknown resolution, working-order fill detection — is tested
// against a scripted fake, and runs in production over the REST client (CapitalRestClient
// implements it, rest_client.hpp).
//
// It speaks the protocol's messages (protocol/messages.hpp): prices and sizes cross it as exact
// Decimals, the digits on the wire; the venue agent converts them to and from the engine's fixed
// point with the instrument's scales. Calls block (they are network requests) and are made only
// from the venue's worker and poller threads.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gateway/capital/protocol/messages.hpp"
#include "gateway/capital/request_outcome.hpp"

namespace qt::capital {

// What an order-changing request (POST/PUT/DELETE) came to. Only kAnswered carries the broker's
// word: `status` OK with `deal_reference` (then read confirm(deal_reference) — a 200 is not a
// fill), or the broker's refusal. kNotSent: nothing reached the broker (client rate limit,
// connect/TLS failure after the allowed retries, no session). kOutcomeUnknown: sent, no usable
// answer (timeout, reset, 5xx, 200 without a dealReference) — NEVER re-send; the order is
// resolved from confirms, positions and working orders.
struct DealSendResult {
  RequestOutcome outcome = RequestOutcome::kNotSent;
  std::string deal_reference;  // set when the broker accepted the request
  absl::Status status;         // OK iff accepted; else the refusal or the failure
  int attempts = 0;
  bool accepted() const { return outcome == RequestOutcome::kAnswered && status.ok(); }
};

class TradingApi {
 public:
  virtual ~TradingApi() = default;
  // POST /positions (a market order) and POST /workingorders (a limit order).
  virtual DealSendResult open_position(const CreatePositionRequest& request) = 0;
  virtual DealSendResult create_working_order(const CreateWorkingOrderRequest& request) = 0;
  virtual DealSendResult delete_working_order(std::string_view deal_id) = 0;
  // GET /confirms/{dealReference}: NotFound while the broker has not recorded it yet.
  virtual absl::StatusOr<DealConfirmation> confirm(std::string_view deal_reference) = 0;
  virtual absl::StatusOr<PositionsResponse> positions() = 0;
  virtual absl::StatusOr<WorkingOrdersResponse> working_orders() = 0;
  // The detailed activity on `epic` over the last `last_period_seconds` (at most one day).
  virtual absl::StatusOr<ActivityHistoryResponse> activity_history(int64_t last_period_seconds,
                                                                   std::string_view epic) = 0;
};

}  // namespace qt::capital
