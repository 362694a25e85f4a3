// Capital.com error codes ({"errorCode":"code[: detail]"}) → absl::Status.
//
// kCapitalErrors lists every code the API reference documents (capital-api.md sections 2-7),
// each with the HTTP status it comes with, the absl code it maps to and a human explanation.
// to_status() builds the message
//   "Capital.com rejected the login: invalid identifier or password (error.invalid.details, HTTP
//   401)"
// and attaches the bare code as the payload kCapitalErrorPayload, so callers branch on
// capital_error_code(status) rather than on message text. Messages contain only the code, the
// venue's detail (a number such as a stop-loss limit) and the HTTP status — never tokens,
// API keys, identifiers or passwords.
//
// Codes not in the table fall back by family (error.null.* / error.invalid.* → InvalidArgument,
// error.not-found.* → NotFound), then by HTTP status (400 InvalidArgument, 401 Unauthenticated,
// 403 PermissionDenied, 404 NotFound, 408/504 DeadlineExceeded, 409 Aborted, 429
// ResourceExhausted, 500 Internal, 502/503 Unavailable, other 5xx Unavailable).
#pragma once

#include <array>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "gateway/capital/protocol/messages.hpp"

namespace qt::capital {

enum class CapitalErrorCode : uint8_t {
  kNullApiKey = 0,             // error.null.api.key
  kInvalidDetails,             // error.invalid.details
  kTooManyRequests,            // error.too-many.requests
  kInvalidSessionToken,        // error.invalid.session.token      [unconfirmed]
  kInvalidApiKey,              // error.invalid.api.key            [unconfirmed]
  kNotFoundEpic,               // error.not-found.epic
  kNotFoundDealId,             // error.not-found.dealId
  kNotFoundDealReference,      // error.not-found.dealReference
  kInvalidAccountId,           // error.invalid.accountId
  kInvalidLeverageValue,       // error.invalid.leverage.value
  kInvalidFrom,                // error.invalid.from
  kNullSearchTerm,             // error.null.searchTerm
  kInvalidLimit,               // error.invalid.limit
  kInvalidResolution,          // error.invalid.resolution
  kNotInFutureGoodTillDate,    // error.not-in-future.goodTillDate
  kInvalidStopLossMinValue,    // error.invalid.stoploss.minvalue: <limit>
  kInvalidStopLossMaxValue,    // error.invalid.stoploss.maxvalue: <limit>
  kInvalidTakeProfitMinValue,  // error.invalid.takeprofit.minvalue: <limit>
  kInvalidTakeProfitMaxValue,  // error.invalid.takeprofit.maxvalue: <limit>
  kCount
};

struct CapitalErrorInfo {
  CapitalErrorCode id;
  std::string_view code;         // wire text without the ": detail" suffix
  int http_status;               // the status it is documented with
  absl::StatusCode status_code;  // what to_status() returns for it
  std::string_view explanation;  // completes "Capital.com ..."
  bool confirmed;                // false: seen only in client code ([unconfirmed])
};

inline constexpr std::size_t kCapitalErrorCount =
    static_cast<std::size_t>(CapitalErrorCode::kCount);
extern const std::array<CapitalErrorInfo, kCapitalErrorCount> kCapitalErrors;

// The table entry for a code (with or without ": detail"), or nullptr.
const CapitalErrorInfo* find_capital_error(std::string_view code);
const CapitalErrorInfo& capital_error_info(CapitalErrorCode id);

// Status for a venue error answer. http_status is the response's status line.
absl::Status to_status(int http_status, const ErrorBody& body);

// Status for any non-2xx answer: parses {"errorCode":...} from `body`; a body that is not an
// error body (an HTML page from a proxy, empty) gives the HTTP-status fallback with
// "(no error code, HTTP 502)". The body text is never copied into the message.
absl::Status status_from_http_response(int http_status, std::string_view body);

// Payload key carrying the bare code ("error.invalid.details") on statuses from to_status().
inline constexpr std::string_view kCapitalErrorPayload = "qt.capital/errorCode";
std::optional<std::string> capital_error_code(const absl::Status& status);

}  // namespace qt::capital
