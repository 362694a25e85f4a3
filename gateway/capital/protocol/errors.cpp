#include "gateway/capital/protocol/errors.hpp"

#include <fmt/format.h>

#include "absl/strings/cord.h"
#include "absl/strings/string_view.h"
#include "gateway/capital/protocol/parse.hpp"

namespace qt::capital {
namespace {

using C = CapitalErrorCode;
using S = absl::StatusCode;

absl::string_view absl_view(std::string_view text) {
  return {text.data(), text.size()};
}

// The family of codes not in the table, by prefix.
std::optional<absl::StatusCode> family_status(std::string_view code) {
  if (code.starts_with("error.not-found.")) return S::kNotFound;
  if (code.starts_with("error.null.") || code.starts_with("error.invalid.") ||
      code.starts_with("error.not-in-future.")) {
    return S::kInvalidArgument;
  }
  if (code.starts_with("error.too-many.")) return S::kResourceExhausted;
  return std::nullopt;
}

absl::StatusCode http_status_code(int http_status) {
  switch (http_status) {
    case 400: return S::kInvalidArgument;
    case 401: return S::kUnauthenticated;
    case 403: return S::kPermissionDenied;
    case 404: return S::kNotFound;
    case 408: return S::kDeadlineExceeded;
    case 409: return S::kAborted;
    case 429: return S::kResourceExhausted;
    case 500: return S::kInternal;
    case 502:
    case 503: return S::kUnavailable;
    case 504: return S::kDeadlineExceeded;
    default: break;
  }
  if (http_status >= 500) return S::kUnavailable;
  if (http_status >= 400) return S::kFailedPrecondition;
  return S::kUnknown;
}

std::string_view http_explanation(int http_status) {
  switch (http_status) {
    case 400: return "rejected the request as invalid";
    case 401: return "refused the credentials";
    case 403: return "refused access";
    case 404: return "found nothing at that address";
    case 408: return "timed out waiting for the request";
    case 429: return "is rate limiting this client";
    case 500: return "failed internally";
    case 502: return "is unreachable behind its gateway";
    case 503: return "is unavailable";
    case 504: return "timed out behind its gateway";
    default: break;
  }
  return http_status >= 500 ? "failed" : "rejected the request";
}

}  // namespace

const std::array<CapitalErrorInfo, kCapitalErrorCount> kCapitalErrors = {{
    {C::kNullApiKey, "error.null.api.key", 400, S::kUnauthenticated,
     "rejected the request: no API key was sent (X-CAP-API-KEY header missing)", true},
    {C::kInvalidDetails, "error.invalid.details", 401, S::kUnauthenticated,
     "rejected the login: invalid identifier or password", true},
    {C::kTooManyRequests, "error.too-many.requests", 429, S::kResourceExhausted,
     "rate limit exceeded: too many requests (session 1/s per API key, 10 requests/s overall, "
     "trading 1 per 0.1 s)",
     true},
    {C::kInvalidSessionToken, "error.invalid.session.token", 401, S::kUnauthenticated,
     "rejected the session tokens: the session expired (10 min idle) or was never valid; log in "
     "again",
     false},
    {C::kInvalidApiKey, "error.invalid.api.key", 401, S::kUnauthenticated,
     "rejected the API key: unknown, disabled or expired key", false},
    {C::kNotFoundEpic, "error.not-found.epic", 404, S::kNotFound, "knows no market with that epic",
     true},
    {C::kNotFoundDealId, "error.not-found.dealId", 404, S::kNotFound,
     "knows no position or working order with that dealId", true},
    {C::kNotFoundDealReference, "error.not-found.dealReference", 404, S::kNotFound,
     "knows no deal with that dealReference (not yet confirmed, or expired)", true},
    {C::kInvalidAccountId, "error.invalid.accountId", 400, S::kInvalidArgument,
     "rejected the account switch: no such account for this client", true},
    {C::kInvalidLeverageValue, "error.invalid.leverage.value", 400, S::kInvalidArgument,
     "rejected the leverage: not one of the values available for that group", true},
    {C::kInvalidFrom, "error.invalid.from", 400, S::kInvalidArgument,
     "rejected the date range: invalid 'from' date (UTC YYYY-MM-DDTHH:MM:SS, span at most one "
     "day)",
     true},
    {C::kNullSearchTerm, "error.null.searchTerm", 400, S::kInvalidArgument,
     "rejected the market search: empty searchTerm", true},
    {C::kInvalidLimit, "error.invalid.limit", 400, S::kInvalidArgument,
     "rejected the limit: must be between 1 and 500", true},
    {C::kInvalidResolution, "error.invalid.resolution", 400, S::kInvalidArgument,
     "rejected the price resolution: not one of MINUTE, MINUTE_5, MINUTE_15, MINUTE_30, HOUR, "
     "HOUR_4, DAY, WEEK",
     true},
    {C::kNotInFutureGoodTillDate, "error.not-in-future.goodTillDate", 400, S::kInvalidArgument,
     "rejected the working order: goodTillDate is not in the future", true},
    {C::kInvalidStopLossMinValue, "error.invalid.stoploss.minvalue", 400, S::kInvalidArgument,
     "rejected the stop loss: below the minimum allowed value given in the detail", true},
    {C::kInvalidStopLossMaxValue, "error.invalid.stoploss.maxvalue", 400, S::kInvalidArgument,
     "rejected the stop loss: above the maximum allowed value given in the detail", true},
    {C::kInvalidTakeProfitMinValue, "error.invalid.takeprofit.minvalue", 400, S::kInvalidArgument,
     "rejected the take profit: below the minimum allowed value given in the detail", true},
    {C::kInvalidTakeProfitMaxValue, "error.invalid.takeprofit.maxvalue", 400, S::kInvalidArgument,
     "rejected the take profit: above the maximum allowed value given in the detail", true},
}};

const CapitalErrorInfo* find_capital_error(std::string_view code) {
  const std::size_t colon = code.find(": ");
  if (colon != std::string_view::npos) code = code.substr(0, colon);
  for (const CapitalErrorInfo& info : kCapitalErrors) {
    if (info.code == code) return &info;
  }
  return nullptr;
}

const CapitalErrorInfo& capital_error_info(CapitalErrorCode id) {
  return kCapitalErrors[static_cast<std::size_t>(id)];
}

absl::Status to_status(int http_status, const ErrorBody& body) {
  const CapitalErrorInfo* info = find_capital_error(body.code);
  absl::StatusCode code = http_status_code(http_status);
  std::string_view explanation = http_explanation(http_status);
  if (info != nullptr) {
    code = info->status_code;
    explanation = info->explanation;
  } else if (const auto family = family_status(body.code); family.has_value()) {
    code = *family;
  }
  std::string message;
  if (body.code.empty()) {
    message = fmt::format("Capital.com {} (no error code, HTTP {})", explanation, http_status);
  } else if (body.detail.empty()) {
    message = fmt::format("Capital.com {} ({}, HTTP {})", explanation, body.code, http_status);
  } else {
    message = fmt::format("Capital.com {} ({}: {}, HTTP {})", explanation, body.code,
                          body.detail.substr(0, 64), http_status);
  }
  if (code == S::kOk || code == S::kUnknown) code = S::kUnknown;
  absl::Status status(code, absl_view(message));
  if (!body.code.empty()) {
    status.SetPayload(absl_view(kCapitalErrorPayload), absl::Cord(absl_view(body.code)));
  }
  return status;
}

absl::Status status_from_http_response(int http_status, std::string_view body) {
  absl::StatusOr<ErrorBody> parsed = parse_error_body(body);
  return to_status(http_status, parsed.ok() ? *parsed : ErrorBody{});
}

std::optional<std::string> capital_error_code(const absl::Status& status) {
  const auto payload = status.GetPayload(absl_view(kCapitalErrorPayload));
  if (!payload.has_value()) return std::nullopt;
  return std::string(*payload);
}

}  // namespace qt::capital
