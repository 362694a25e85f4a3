#include "gateway/capital/rest_client.hpp"

#include <algorithm>
#include <boost/url/encode.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>

#include "spdlog/spdlog.h"

namespace qt::capital {
namespace {

using std::chrono::steady_clock;

constexpr std::size_t kMaxEpicsPerRequest = 50;

std::string encode(std::string_view text) {
  return boost::urls::encode(boost::urls::string_view(text.data(), text.size()),
                             boost::urls::unreserved_chars);
}

int64_t steady_now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

absl::StatusOr<std::unique_ptr<CapitalRestClient>> CapitalRestClient::create(
    const CapitalClientConfig& config, ClientClock& clock) {
  if (absl::Status valid = validate(config); !valid.ok()) return valid;
  absl::StatusOr<std::unique_ptr<RestTransport>> transport = RestTransport::create(config, clock);
  if (!transport.ok()) return transport.status();
  return std::unique_ptr<CapitalRestClient>(new CapitalRestClient(config, *std::move(transport)));
}

CapitalRestClient::CapitalRestClient(const CapitalClientConfig& config,
                                     std::unique_ptr<RestTransport> transport)
    : config_(config), transport_(std::move(transport)), session_(config_, *transport_) {
  last_activity_ns_.store(steady_now_ns(), std::memory_order_relaxed);
}

CapitalRestClient::~CapitalRestClient() {
  stop_keepalive();
}

// ---------------------------------------------------------------------------------------------
// The authenticated call.

absl::StatusOr<SendResult> CapitalRestClient::execute(HttpMethod method, std::string_view target,
                                                      std::string_view body,
                                                      RequestClass request_class) {
  HttpRequest request{method, target, body};
  for (int round = 0;; ++round) {
    CapitalSession::Credentials credentials = session_.credentials();
    if (!credentials.valid()) {
      if (absl::Status login = session_.relogin(credentials.epoch); !login.ok()) return login;
      credentials = session_.credentials();
      if (!credentials.valid()) return absl::UnauthenticatedError("no Capital.com session");
    }
    const HttpHeader headers[] = {
        {kHeaderApiKey, config_.api_key.reveal()},
        {kHeaderCst, credentials.tokens->cst.reveal()},
        {kHeaderSecurityToken, credentials.tokens->security_token.reveal()},
    };
    request.headers = headers;
    SendResult sent = transport_->send(request, request_class);
    const HttpResponse& response = sent.result.response;
    if (response.status != 0) {
      session_.absorb(response, credentials.epoch);
      last_activity_ns_.store(steady_now_ns(), std::memory_order_relaxed);
    }
    if (spdlog::should_log(spdlog::level::debug)) {
      spdlog::debug("capital: {} {} → {} (attempts {}, rate wait {})", to_string(method), target,
                    response.status != 0 ? fmt::format("HTTP {}", response.status)
                                         : std::string(to_string(sent.result.outcome)),
                    sent.attempts, describe_duration(sent.rate_wait));
    }
    if (response.status != 401 || round == 1) return sent;

    // The tokens were refused: nothing was executed. One shared re-login, then once more.
    const std::string code =
        capital_error_code(status_from_http_response(401, response.body)).value_or("no error code");
    spdlog::info("capital: {} {} answered 401 ({}); logging in again, then sending it once more",
                 to_string(method), target, code);
    if (absl::Status login = session_.relogin(credentials.epoch); !login.ok()) return login;
  }
}

template <typename T, typename Parse>
absl::StatusOr<T> CapitalRestClient::get_parsed(std::string target, Parse parse) {
  absl::StatusOr<SendResult> sent =
      execute(HttpMethod::kGet, std::move(target), std::string(), RequestClass::kGeneral);
  if (!sent.ok()) return sent.status();
  if (absl::Status status = status_of(*sent); !status.ok()) return status;
  return parse(sent->result.response.body);
}

DealSendResult CapitalRestClient::send_deal(HttpMethod method, std::string target, std::string body,
                                            RequestClass request_class) {
  const std::string what = fmt::format("{} {}", to_string(method), target);
  DealSendResult out;
  absl::StatusOr<SendResult> sent =
      execute(method, std::move(target), std::move(body), request_class);
  if (!sent.ok()) {
    out.outcome = RequestOutcome::kNotSent;  // no session: not sent, or refused with 401
    out.status = sent.status();
    return out;
  }
  out.attempts = sent->attempts;
  out.outcome = sent->result.outcome;
  const int http = sent->result.response.status;
  if (out.outcome == RequestOutcome::kAnswered && http >= 200 && http < 300) {
    absl::StatusOr<DealReferenceResponse> reference =
        parse_deal_reference_response(sent->result.response.body);
    if (reference.ok() && !reference->deal_reference.empty()) {
      out.deal_reference = std::move(reference->deal_reference);
      out.status = absl::OkStatus();
      return out;
    }
    // Accepted by HTTP but without a reference we can confirm: whether it executed is unknown.
    out.outcome = RequestOutcome::kOutcomeUnknown;
    out.status = absl::InternalError(fmt::format(
        "{} answered HTTP {} without a usable dealReference (outcome unknown)", what, http));
  } else {
    out.status = status_of(*sent);
  }
  if (out.outcome == RequestOutcome::kOutcomeUnknown) {
    spdlog::error(
        "capital: {}: OUTCOME UNKNOWN ({}); not sent again — resolve from confirms, positions "
        "and working orders",
        what, std::string(out.status.message()));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Session.

absl::StatusOr<SessionCreateResponse> CapitalRestClient::login() {
  absl::StatusOr<SessionCreateResponse> result = session_.login();
  if (result.ok()) last_activity_ns_.store(steady_now_ns(), std::memory_order_relaxed);
  return result;
}

absl::Status CapitalRestClient::logout() {
  if (!session_.logged_in()) return absl::OkStatus();
  absl::StatusOr<SendResult> sent =
      execute(HttpMethod::kDelete, "/session", std::string(), RequestClass::kGeneral);
  session_.forget();
  if (!sent.ok()) return sent.status();
  return status_of(*sent);
}

absl::Status CapitalRestClient::ping() {
  return get_parsed<StatusResponse>("/ping", parse_status_response).status();
}

absl::StatusOr<SessionDetails> CapitalRestClient::session_details() {
  return get_parsed<SessionDetails>("/session", parse_session_details);
}

absl::StatusOr<SwitchAccountResponse> CapitalRestClient::switch_account(
    std::string_view account_id) {
  absl::StatusOr<SendResult> sent =
      execute(HttpMethod::kPut, "/session", to_json(SwitchAccountRequest{std::string(account_id)}),
              RequestClass::kGeneral);
  if (!sent.ok()) return sent.status();
  if (absl::Status status = status_of(*sent); !status.ok()) return status;
  return parse_switch_account_response(sent->result.response.body);
}

// ---------------------------------------------------------------------------------------------
// Accounts, markets, prices.

absl::StatusOr<AccountsResponse> CapitalRestClient::accounts() {
  return get_parsed<AccountsResponse>("/accounts", parse_accounts_response);
}

absl::StatusOr<AccountPreferences> CapitalRestClient::preferences() {
  return get_parsed<AccountPreferences>("/accounts/preferences", parse_account_preferences);
}

absl::StatusOr<MarketSearchResponse> CapitalRestClient::search_markets(
    std::string_view search_term) {
  if (search_term.empty()) return absl::InvalidArgumentError("market search: empty search term");
  return get_parsed<MarketSearchResponse>("/markets?searchTerm=" + encode(search_term),
                                          parse_market_search_response);
}

absl::StatusOr<MarketDetailsListResponse> CapitalRestClient::markets(
    const std::vector<std::string>& epics) {
  if (epics.empty() || epics.size() > kMaxEpicsPerRequest) {
    return absl::InvalidArgumentError(fmt::format(
        "markets: between 1 and {} epics per request, not {}", kMaxEpicsPerRequest, epics.size()));
  }
  std::string target = "/markets?epics=";
  for (std::size_t i = 0; i < epics.size(); ++i) {
    if (i != 0) target += ',';
    target += encode(epics[i]);
  }
  return get_parsed<MarketDetailsListResponse>(std::move(target),
                                               parse_market_details_list_response);
}

absl::StatusOr<MarketDetails> CapitalRestClient::market_details(std::string_view epic) {
  if (epic.empty()) return absl::InvalidArgumentError("market details: empty epic");
  return get_parsed<MarketDetails>("/markets/" + encode(epic), parse_market_details);
}

absl::StatusOr<InstrumentSpec> CapitalRestClient::instrument_spec(std::string_view epic,
                                                                  InstrumentId id) {
  absl::StatusOr<MarketDetails> details = market_details(epic);
  if (!details.ok()) return details.status();
  return instrument_spec_from(*details, id);
}

absl::StatusOr<PriceHistory> CapitalRestClient::price_history(const PriceHistoryQuery& query) {
  if (query.epic.empty()) return absl::InvalidArgumentError("price history: empty epic");
  std::string target = "/prices/" + encode(query.epic);
  char separator = '?';
  auto add = [&](std::string_view name, std::string_view value) {
    target += separator;
    target += name;
    target += '=';
    target += encode(value);
    separator = '&';
  };
  if (!query.resolution.empty()) add("resolution", query.resolution);
  if (query.max > 0) add("max", std::to_string(query.max));
  if (!query.from.empty()) add("from", query.from);
  if (!query.to.empty()) add("to", query.to);
  return get_parsed<PriceHistory>(std::move(target), parse_price_history);
}

// ---------------------------------------------------------------------------------------------
// Trading.

absl::StatusOr<PositionsResponse> CapitalRestClient::positions() {
  return get_parsed<PositionsResponse>("/positions", parse_positions_response);
}

absl::StatusOr<PositionItem> CapitalRestClient::position(std::string_view deal_id) {
  return get_parsed<PositionItem>("/positions/" + encode(deal_id), parse_position_item);
}

DealSendResult CapitalRestClient::open_position(const CreatePositionRequest& request) {
  return send_deal(HttpMethod::kPost, "/positions", to_json(request), RequestClass::kOrder);
}

DealSendResult CapitalRestClient::amend_position(std::string_view deal_id,
                                                 const AmendPositionRequest& request) {
  return send_deal(HttpMethod::kPut, "/positions/" + encode(deal_id), to_json(request),
                   RequestClass::kGeneral);
}

DealSendResult CapitalRestClient::close_position(std::string_view deal_id) {
  return send_deal(HttpMethod::kDelete, "/positions/" + encode(deal_id), std::string(),
                   RequestClass::kGeneral);
}

absl::StatusOr<WorkingOrdersResponse> CapitalRestClient::working_orders() {
  return get_parsed<WorkingOrdersResponse>("/workingorders", parse_working_orders_response);
}

absl::StatusOr<ActivityHistoryResponse> CapitalRestClient::activity_history(
    int64_t last_period_seconds, std::string_view epic) {
  const int64_t period = std::clamp<int64_t>(last_period_seconds, 1, 86'400);
  std::string target = "/history/activity?lastPeriod=" + std::to_string(period) + "&detailed=true";
  if (!epic.empty()) target += "&filter=" + encode("epic==" + std::string(epic));
  return get_parsed<ActivityHistoryResponse>(std::move(target), parse_activity_history_response);
}

DealSendResult CapitalRestClient::create_working_order(const CreateWorkingOrderRequest& request) {
  return send_deal(HttpMethod::kPost, "/workingorders", to_json(request), RequestClass::kOrder);
}

DealSendResult CapitalRestClient::amend_working_order(std::string_view deal_id,
                                                      const AmendWorkingOrderRequest& request) {
  return send_deal(HttpMethod::kPut, "/workingorders/" + encode(deal_id), to_json(request),
                   RequestClass::kGeneral);
}

DealSendResult CapitalRestClient::delete_working_order(std::string_view deal_id) {
  return send_deal(HttpMethod::kDelete, "/workingorders/" + encode(deal_id), std::string(),
                   RequestClass::kGeneral);
}

absl::StatusOr<DealConfirmation> CapitalRestClient::confirm(std::string_view deal_reference) {
  return get_parsed<DealConfirmation>("/confirms/" + encode(deal_reference),
                                      parse_deal_confirmation);
}

// ---------------------------------------------------------------------------------------------
// Keep-alive.

void CapitalRestClient::start_keepalive() {
  std::lock_guard lock(keepalive_mutex_);
  if (keepalive_thread_.joinable()) return;
  keepalive_stop_ = false;
  keepalive_thread_ = std::thread([this] { keepalive_loop(); });
}

void CapitalRestClient::stop_keepalive() {
  {
    std::lock_guard lock(keepalive_mutex_);
    keepalive_stop_ = true;
  }
  keepalive_wake_.notify_all();
  if (keepalive_thread_.joinable()) keepalive_thread_.join();
}

void CapitalRestClient::keepalive_loop() {
  const auto interval = std::chrono::duration_cast<steady_clock::duration>(config_.ping_interval);
  const auto retry_after_failure =
      std::min(interval, steady_clock::duration(std::chrono::seconds(30)));
  steady_clock::time_point not_before = steady_clock::time_point::min();
  std::unique_lock lock(keepalive_mutex_);
  while (!keepalive_stop_) {
    const steady_clock::time_point last(
        std::chrono::nanoseconds(last_activity_ns_.load(std::memory_order_relaxed)));
    const steady_clock::time_point due = std::max(last + interval, not_before);
    const steady_clock::time_point now = steady_clock::now();
    if (now < due) {
      keepalive_wake_.wait_until(lock, due);
      continue;
    }
    if (!session_.logged_in()) {  // nothing to keep alive
      not_before = now + interval;
      continue;
    }
    lock.unlock();
    const absl::Status status = ping();
    lock.lock();
    if (!status.ok()) {
      spdlog::warn("capital: keep-alive ping failed: {}", std::string(status.message()));
      not_before = steady_clock::now() + retry_after_failure;
    }
  }
}

}  // namespace qt::capital
