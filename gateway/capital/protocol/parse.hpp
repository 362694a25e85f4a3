// JSON text → typed message (messages.hpp) for every Capital.com body and WS frame.
//
// - Tolerant: unknown fields are ignored; absent or null optional fields keep their defaults;
//   renamed fields are read under either name (guaranteedStopAllowed / controlledRiskAllowed,
//   the 2022 dealing-rule names); numbers may be integers or decimals; correlationId may be a
//   string or a number; unknown marketStatus / confirm status texts become kUnknown.
// - Strict: a missing required field (see messages.hpp), a wrong JSON type or an unknown value
//   of a closed enum (direction, dealStatus, orderType, ...) fails with InvalidArgument naming
//   the payload kind and the field path, e.g.
//     "Capital.com market details: missing required field 'snapshot.marketStatus'"
//   Malformed JSON fails with InvalidArgument too. Messages never quote string field values
//   from the input (a login body carries the password); only enum texts are echoed.
// - Exact: Decimal fields are read from the number's text, every digit kept (decimal.hpp).
// - Never throws (simdjson's error-code API), allocates (the DTOs; simdjson's parsers keep their
//   buffers per thread): not for the quote path — use feeds/capital/quote_parser.hpp there.
//   Thread-safe (no state shared between threads).
#pragma once

#include <string_view>

#include "absl/status/statusor.h"
#include "gateway/capital/protocol/messages.hpp"

namespace qt::capital {

// Session and account (REST sections 2-3).
absl::StatusOr<SessionLoginRequest> parse_session_login_request(std::string_view json);
absl::StatusOr<SessionCreateResponse> parse_session_create_response(std::string_view json);
absl::StatusOr<SessionDetails> parse_session_details(std::string_view json);
absl::StatusOr<SwitchAccountRequest> parse_switch_account_request(std::string_view json);
absl::StatusOr<SwitchAccountResponse> parse_switch_account_response(std::string_view json);
absl::StatusOr<EncryptionKeyResponse> parse_encryption_key_response(std::string_view json);
absl::StatusOr<StatusResponse> parse_status_response(std::string_view json);
absl::StatusOr<ServerTimeResponse> parse_server_time_response(std::string_view json);
absl::StatusOr<AccountsResponse> parse_accounts_response(std::string_view json);
absl::StatusOr<AccountPreferences> parse_account_preferences(std::string_view json);
absl::StatusOr<UpdatePreferencesRequest> parse_update_preferences_request(std::string_view json);

// Markets and prices (section 4).
absl::StatusOr<MarketSearchResponse> parse_market_search_response(std::string_view json);
absl::StatusOr<MarketDetails> parse_market_details(std::string_view json);
absl::StatusOr<MarketDetailsListResponse> parse_market_details_list_response(std::string_view json);
absl::StatusOr<PriceHistory> parse_price_history(std::string_view json);

// Trading (section 5).
absl::StatusOr<CreatePositionRequest> parse_create_position_request(std::string_view json);
absl::StatusOr<AmendPositionRequest> parse_amend_position_request(std::string_view json);
absl::StatusOr<CreateWorkingOrderRequest> parse_create_working_order_request(std::string_view json);
absl::StatusOr<AmendWorkingOrderRequest> parse_amend_working_order_request(std::string_view json);
absl::StatusOr<DealReferenceResponse> parse_deal_reference_response(std::string_view json);
absl::StatusOr<PositionsResponse> parse_positions_response(std::string_view json);
absl::StatusOr<PositionItem> parse_position_item(std::string_view json);  // GET /positions/{id}
absl::StatusOr<WorkingOrdersResponse> parse_working_orders_response(std::string_view json);
absl::StatusOr<ActivityHistoryResponse> parse_activity_history_response(std::string_view json);
absl::StatusOr<DealConfirmation> parse_deal_confirmation(std::string_view json);

// The broker's UTC timestamps ("2024-05-01T09:59:59.123", no zone: createdDateUTC, dateUTC)
// → epoch ms; 0 if malformed.
int64_t parse_broker_utc_ms(std::string_view text);

// {"errorCode":"code[: detail]"} (section 7).
absl::StatusOr<ErrorBody> parse_error_body(std::string_view json);

// WebSocket (section 6). parse_ws_request: client → server (what the simulator receives).
// parse_ws_server_message: server → client; status "ERROR" (or any status other than "OK")
// gives WsErrorReply whatever the destination; an unknown destination is InvalidArgument.
absl::StatusOr<WsRequest> parse_ws_request(std::string_view json);
absl::StatusOr<WsServerMessage> parse_ws_server_message(std::string_view json);

}  // namespace qt::capital
