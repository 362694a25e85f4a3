#include "gateway/capital/rest_trading_api.hpp"

#include <ctime>

namespace qt::capital {

namespace {

DealSubmission to_submission(const DealSendResult& result) {
  DealSubmission submission;
  switch (result.outcome) {
    case RequestOutcome::kAnswered: submission.outcome = SendOutcome::kAnswered; break;
    case RequestOutcome::kNotSent: submission.outcome = SendOutcome::kNotSent; break;
    case RequestOutcome::kOutcomeUnknown: submission.outcome = SendOutcome::kOutcomeUnknown; break;
  }
  submission.deal_reference = result.deal_reference;
  submission.error = result.status;
  return submission;
}

}  // namespace

int64_t parse_broker_utc_ms(std::string_view text) {
  std::tm tm{};
  int millis = 0;
  const std::string copy(text);
  const int fields = std::sscanf(copy.c_str(), "%d-%d-%dT%d:%d:%d.%d", &tm.tm_year, &tm.tm_mon,
                                 &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &millis);
  if (fields < 6) return 0;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return static_cast<int64_t>(timegm(&tm)) * 1000 + (fields == 7 ? millis : 0);
}

DealSubmission RestTradingApi::submit_deal(const DealRequest& request) {
  if (request.working_order) {
    CreateWorkingOrderRequest body;
    body.epic = request.epic;
    body.direction = request.side;
    body.size = request.size;
    body.level = request.level;
    body.type = WorkingOrderType::kLimit;
    return to_submission(client_.create_working_order(body));
  }
  CreatePositionRequest body;
  body.epic = request.epic;
  body.direction = request.side;
  body.size = request.size;
  return to_submission(client_.open_position(body));
}

DealSubmission RestTradingApi::delete_working_order(const std::string& deal_id) {
  return to_submission(client_.delete_working_order(deal_id));
}

absl::StatusOr<ConfirmedDeal> RestTradingApi::confirm(const std::string& deal_reference) {
  absl::StatusOr<DealConfirmation> answer = client_.confirm(deal_reference);
  if (!answer.ok()) return answer.status();
  ConfirmedDeal deal;
  deal.accepted = answer->deal_status == DealStatus::kAccepted;
  deal.reason = answer->reason;
  deal.deal_id = answer->deal_id;
  for (const AffectedDeal& affected : answer->affected_deals) {
    deal.affected_deal_ids.push_back(affected.deal_id);
  }
  deal.level = answer->level.value_or(Decimal());
  deal.size = answer->size.value_or(Decimal());
  return deal;
}

absl::StatusOr<std::vector<BrokerPosition>> RestTradingApi::positions() {
  absl::StatusOr<PositionsResponse> answer = client_.positions();
  if (!answer.ok()) return answer.status();
  std::vector<BrokerPosition> out;
  for (const PositionItem& item : answer->positions) {
    BrokerPosition p;
    p.deal_id = item.position.deal_id;
    p.working_order_id = item.position.working_order_id;
    p.epic = item.market.epic;
    p.side = item.position.direction;
    p.size = item.position.size;
    p.level = item.position.level;
    p.created_epoch_ms = parse_broker_utc_ms(item.position.created_date_utc);
    out.push_back(std::move(p));
  }
  return out;
}

absl::StatusOr<std::vector<BrokerWorkingOrder>> RestTradingApi::working_orders() {
  absl::StatusOr<WorkingOrdersResponse> answer = client_.working_orders();
  if (!answer.ok()) return answer.status();
  std::vector<BrokerWorkingOrder> out;
  for (const WorkingOrderItem& item : answer->working_orders) {
    const WorkingOrderData& data = item.working_order_data;
    out.push_back({data.deal_id, data.epic, data.direction, data.order_size, data.order_level});
  }
  return out;
}

absl::StatusOr<std::vector<BrokerActivity>> RestTradingApi::activity(const std::string& epic,
                                                                     int64_t last_period_seconds) {
  absl::StatusOr<ActivityHistoryResponse> answer =
      client_.activity_history(last_period_seconds, epic);
  if (!answer.ok()) return answer.status();
  std::vector<BrokerActivity> out;
  out.reserve(answer->activities.size());
  for (const Activity& item : answer->activities) {
    BrokerActivity a;
    a.deal_id = item.deal_id;
    a.epic = item.epic;
    a.source = item.source;
    a.type = item.type;
    a.status = item.status;
    a.epoch_ms = parse_broker_utc_ms(item.date_utc);
    if (item.details) {
      a.has_details = true;
      a.side = item.details->direction;
      a.size = item.details->size;
    }
    out.push_back(std::move(a));
  }
  return out;
}

}  // namespace qt::capital
