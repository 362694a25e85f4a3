#include "gateway/capital/session.hpp"

#include "spdlog/spdlog.h"

namespace qt::capital {
namespace {

// Codes that mean "these credentials will not work": no automatic retry with them.
bool credentials_refused(const absl::Status& status) {
  const std::optional<std::string> code = capital_error_code(status);
  return code && (*code == "error.invalid.details" || *code == "error.invalid.api.key" ||
                  *code == "error.null.api.key");
}

absl::Status with_context(const absl::Status& status, std::string_view context) {
  return absl::Status(status.code(), fmt::format("{}: {}", context, std::string(status.message())));
}

}  // namespace

absl::Status status_of(const SendResult& sent) {
  const ExchangeResult& r = sent.result;
  const int http = r.response.status;
  if (r.outcome == RequestOutcome::kAnswered && http >= 200 && http < 300) {
    return absl::OkStatus();
  }
  if (http != 0) return status_from_http_response(http, r.response.body);
  switch (r.error) {
    case TransportError::kRateLimited: return absl::ResourceExhaustedError(r.detail);
    case TransportError::kStopped: return absl::CancelledError(r.detail);
    case TransportError::kTimeout:
      return absl::DeadlineExceededError(r.detail + " (outcome unknown)");
    case TransportError::kBroken: return absl::UnavailableError(r.detail + " (outcome unknown)");
    default: return absl::UnavailableError(r.detail);
  }
}

CapitalSession::CapitalSession(const CapitalClientConfig& config, RestTransport& transport)
    : config_(config), transport_(transport) {}

HttpHeader CapitalSession::api_key_header() const {
  return HttpHeader{kHeaderApiKey, config_.api_key.reveal()};
}

absl::StatusOr<SessionCreateResponse> CapitalSession::login() {
  std::lock_guard login_lock(login_mutex_);
  {
    std::lock_guard lock(state_mutex_);
    credentials_refused_ = false;
  }
  return login_locked();
}

absl::Status CapitalSession::relogin(uint64_t used_epoch) {
  std::lock_guard login_lock(login_mutex_);
  bool had_tokens = false;
  {
    std::lock_guard lock(state_mutex_);
    if (epoch_ != used_epoch) return last_login_status_;  // someone logged in meanwhile
    had_tokens = tokens_ != nullptr;
    if (credentials_refused_) {
      return absl::Status(last_login_status_.code(),
                          fmt::format("automatic login suspended after the broker refused the "
                                      "credentials; {}",
                                      std::string(last_login_status_.message())));
    }
  }
  if (had_tokens) spdlog::info("capital: logging in again (the session tokens were refused)");
  return login_locked().status();
}

absl::StatusOr<std::string> CapitalSession::encrypted_password() {
  HttpRequest request{HttpMethod::kGet, "/session/encryptionKey"};
  const HttpHeader headers[] = {api_key_header()};
  request.headers = headers;
  const SendResult sent = transport_.send(request, RequestClass::kGeneral);
  if (absl::Status status = status_of(sent); !status.ok()) {
    return with_context(status, "GET /session/encryptionKey");
  }
  absl::StatusOr<EncryptionKeyResponse> key =
      parse_encryption_key_response(sent.result.response.body);
  if (!key.ok()) return key.status();
  return encrypt_password(key->encryption_key, config_.password.reveal(), key->time_stamp);
}

absl::StatusOr<SessionCreateResponse> CapitalSession::login_locked() {
  auto finish = [this](absl::Status status) {
    std::lock_guard lock(state_mutex_);
    ++epoch_;
    last_login_status_ = status;
    if (!status.ok()) {
      tokens_.reset();
      credentials_refused_ = credentials_refused(status);
    }
    return status;
  };

  if (config_.api_key.empty() || config_.identifier.empty() || config_.password.empty()) {
    return finish(absl::FailedPreconditionError(
        "Capital.com login: CAPITAL_API_KEY, CAPITAL_IDENTIFIER and CAPITAL_PASSWORD must all "
        "be set"));
  }

  SessionLoginRequest body;
  body.identifier = config_.identifier.reveal();
  if (config_.encrypted_password) {
    absl::StatusOr<std::string> encrypted = encrypted_password();
    if (!encrypted.ok()) {
      return finish(with_context(encrypted.status(), "Capital.com login (encrypted password)"));
    }
    body.password = *std::move(encrypted);
    body.encrypted_password = true;
  } else {
    body.password = config_.password.reveal();
  }
  const std::string json = to_json(body);
  HttpRequest request{HttpMethod::kPost, "/session", json};
  const HttpHeader headers[] = {api_key_header()};
  request.headers = headers;
  const SendResult sent = transport_.send(request, RequestClass::kLogin);
  if (absl::Status status = status_of(sent); !status.ok()) {
    spdlog::warn("capital: login to the {} environment failed: {}", to_string(config_.environment),
                 std::string(status.message()));
    return finish(status);
  }

  const HttpResponse& response = sent.result.response;
  const std::string_view cst = response.header(kHeaderCst);
  const std::string_view token = response.header(kHeaderSecurityToken);
  if (cst.empty() || token.empty()) {
    return finish(absl::InternalError(
        "Capital.com login answered 200 without the CST and X-SECURITY-TOKEN headers"));
  }
  absl::StatusOr<SessionCreateResponse> parsed = parse_session_create_response(response.body);
  if (!parsed.ok()) return finish(parsed.status());

  {
    std::lock_guard lock(state_mutex_);
    tokens_ = std::make_shared<const Tokens>(
        Tokens{Secret(std::string(cst)), Secret(std::string(token))});
    last_login_ = *parsed;
    ++logins_;
    ++epoch_;
    last_login_status_ = absl::OkStatus();
  }
  spdlog::info("capital: logged in ({} environment, account {})", to_string(config_.environment),
               parsed->current_account_id);
  return parsed;
}

CapitalSession::Credentials CapitalSession::credentials() const {
  std::lock_guard lock(state_mutex_);
  return Credentials{tokens_, epoch_};
}

bool CapitalSession::logged_in() const {
  std::lock_guard lock(state_mutex_);
  return Credentials{tokens_, epoch_}.valid();
}

void CapitalSession::absorb(const HttpResponse& response, uint64_t used_epoch) {
  const std::string_view cst = response.header(kHeaderCst);
  const std::string_view token = response.header(kHeaderSecurityToken);
  if (cst.empty() && token.empty()) return;
  std::lock_guard lock(state_mutex_);
  if (used_epoch != epoch_ || tokens_ == nullptr) return;  // a newer login (or logout) wins
  // Answers echo the tokens they were sent with: a new snapshot only when one changed.
  const bool new_cst = !cst.empty() && cst != tokens_->cst.reveal();
  const bool new_token = !token.empty() && token != tokens_->security_token.reveal();
  if (!new_cst && !new_token) return;
  tokens_ = std::make_shared<const Tokens>(
      Tokens{new_cst ? Secret(std::string(cst)) : tokens_->cst,
             new_token ? Secret(std::string(token)) : tokens_->security_token});
}

void CapitalSession::forget() {
  std::lock_guard lock(state_mutex_);
  tokens_.reset();
  ++epoch_;
  last_login_status_ = absl::UnauthenticatedError("logged out");
}

std::optional<SessionCreateResponse> CapitalSession::last_login() const {
  std::lock_guard lock(state_mutex_);
  return last_login_;
}

uint64_t CapitalSession::logins() const {
  std::lock_guard lock(state_mutex_);
  return logins_;
}

}  // namespace qt::capital
