// RestTradingApi: the venue agent's TradingApi over the real Capital.com REST client — market
// orders as POST /positions, limit orders as POST /workingorders (LIMIT), cancels as
// DELETE /workingorders/{dealId}, confirms, and the position / working-order lists the poller
// reconciles against. Thread-safe as the REST client is; blocking.
#pragma once

#include "gateway/capital/rest_client.hpp"
#include "gateway/capital/trading_api.hpp"

namespace qt::capital {

class RestTradingApi final : public TradingApi {
 public:
  explicit RestTradingApi(CapitalRestClient& client) : client_(client) {}

  DealSubmission submit_deal(const DealRequest& request) override;
  DealSubmission delete_working_order(const std::string& deal_id) override;
  absl::StatusOr<ConfirmedDeal> confirm(const std::string& deal_reference) override;
  absl::StatusOr<std::vector<BrokerPosition>> positions() override;
  absl::StatusOr<std::vector<BrokerWorkingOrder>> working_orders() override;
  absl::StatusOr<std::vector<BrokerActivity>> activity(const std::string& epic,
                                                       int64_t last_period_seconds) override;

 private:
  CapitalRestClient& client_;
};

// "2024-05-01T09:59:59.123" (the broker's UTC timestamps, no zone) → epoch ms; 0 if malformed.
int64_t parse_broker_utc_ms(std::string_view text);

}  // namespace qt::capital
