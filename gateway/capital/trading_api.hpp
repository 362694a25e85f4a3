// TradingApi: the broker operations the Capital.com venue agent needs, as an interface, so the
// agent's logic — confirms, Unknown resolution, working-order fill detection — is tested
// against a scripted fake, and runs in production over the REST client (rest_trading_api.hpp).
//
// Calls block (they are network requests) and are made only from the venue's worker threads.
// Prices and sizes cross this boundary as exact decimals (Decimal, protocol/decimal.hpp), exactly
// the digits on the wire; the venue agent converts them to and from the engine's fixed point
// with the instrument's scales, without floating point.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "engine/types.hpp"
#include "gateway/capital/protocol/decimal.hpp"

namespace qt::capital {

struct DealRequest {
  std::string epic;
  Side side = Side::kBuy;
  Decimal size;
  Decimal level;               // working orders only
  bool working_order = false;  // false: POST /positions; true: POST /workingorders LIMIT
};

// What happened to a state-changing request (POST/DELETE). Only kAnswered carries the broker's
// word; kNotSent means nothing reached the broker (safe to treat as refused); kOutcomeUnknown
// means it may or may not have been executed and must be reconciled, never re-sent.
enum class SendOutcome : uint8_t { kAnswered, kNotSent, kOutcomeUnknown };

struct DealSubmission {
  SendOutcome outcome = SendOutcome::kNotSent;
  std::string deal_reference;  // kAnswered and accepted by the API
  absl::Status error;          // kAnswered with an error body (4xx), or the transport error
};

struct ConfirmedDeal {
  bool accepted = false;                       // dealStatus ACCEPTED
  std::string reason;                          // e.g. SUCCESS, MINIMUM_ORDER_SIZE_ERROR
  std::string deal_id;                         // the order's dealId
  std::vector<std::string> affected_deal_ids;  // position ids (affectedDeals[].dealId)
  Decimal level;                               // 0 when the confirm has none
  Decimal size;
};

struct BrokerPosition {
  std::string deal_id;
  std::string working_order_id;  // set when the position came from a working order
  std::string epic;
  Side side = Side::kBuy;
  Decimal size;
  Decimal level;
  int64_t created_epoch_ms = 0;
};

struct BrokerWorkingOrder {
  std::string deal_id;
  std::string epic;
  Side side = Side::kBuy;
  Decimal size;
  Decimal level;
};

// One entry of the broker's activity history (GET /history/activity, detailed).
struct BrokerActivity {
  std::string deal_id;
  std::string epic;
  std::string source;  // USER, SYSTEM, SL, TP, DEALER, CLOSE_OUT
  std::string type;    // POSITION, WORKING_ORDER, ...
  std::string status;  // ACCEPTED, EXECUTED, REJECTED, CREATED, ...
  bool has_details = false;
  Side side = Side::kBuy;  // details.direction, when has_details
  Decimal size;
  int64_t epoch_ms = 0;  // dateUTC
};

class TradingApi {
 public:
  virtual ~TradingApi() = default;
  virtual DealSubmission submit_deal(const DealRequest& request) = 0;
  virtual DealSubmission delete_working_order(const std::string& deal_id) = 0;
  // NotFound while the broker has not recorded the reference yet.
  virtual absl::StatusOr<ConfirmedDeal> confirm(const std::string& deal_reference) = 0;
  virtual absl::StatusOr<std::vector<BrokerPosition>> positions() = 0;
  virtual absl::StatusOr<std::vector<BrokerWorkingOrder>> working_orders() = 0;
  // The activity on `epic` over the last `last_period_seconds` (at most one day).
  virtual absl::StatusOr<std::vector<BrokerActivity>> activity(const std::string& epic,
                                                               int64_t last_period_seconds) = 0;
};

}  // namespace qt::capital
