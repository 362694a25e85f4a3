// Sessions: login (plain or RSA-encrypted password), the encryption key, tokens and idle
// expiry, session details and account switching; see broker_state.hpp.
#include "absl/strings/match.h"
#include "common/base64.hpp"
#include "sim/broker_state.hpp"
#include "sim/json_body.hpp"

namespace qt::sim {

BrokerState::Session* BrokerState::authenticate(const BrokerRequest& r, BrokerResponse& failure) {
  failure = error(401, "error.invalid.session.token");
  if (!r.cst || !r.security_token) return nullptr;
  const auto it = sessions.find(*r.cst);
  if (it == sessions.end() || it->second.security_token != *r.security_token) return nullptr;
  const auto now = SteadyClock::now();
  if (now - it->second.last_used > options.session_idle_timeout) {
    sessions.erase(it);
    ++stats.sessions_expired;
    return nullptr;
  }
  it->second.last_used = now;
  return &it->second;
}

BrokerResponse BrokerState::login(const BrokerRequest& r) {
  auto fail = [&](int status, std::string_view code) {
    ++stats.failed_logins;
    return error(status, code);
  };
  if (!r.api_key || r.api_key->empty()) return fail(400, "error.null.api.key");
  if (options.limits.enabled &&
      !within_limit(session_posts[*r.api_key], std::chrono::seconds(1),
                    options.limits.session_posts_per_second, SteadyClock::now())) {
    ++stats.failed_logins;
    return too_many();
  }
  if (*r.api_key != options.credentials.api_key) return fail(401, "error.invalid.details");
  JsonBody body;
  if (!body.parse(r.body)) return fail(400, "error.invalid.json");
  const std::optional<std::string> identifier = body.str("identifier");
  std::optional<std::string> password = body.str("password");
  if (!identifier) return fail(400, "error.null.identifier");
  if (!password) return fail(400, "error.null.password");
  if (body.boolean("encryptedPassword").value_or(false)) {
    password = decrypt_password(*password);
    if (!password) return fail(401, "error.invalid.details");
  }
  if (!absl::EqualsIgnoreCase(*identifier, options.credentials.identifier) ||
      *password != options.credentials.password) {
    return fail(401, "error.invalid.details");
  }

  Session session;
  session.cst = new_token(24);
  session.security_token = new_token(30);
  session.api_key = *r.api_key;
  session.last_used = SteadyClock::now();
  for (const Account& a : accounts) {
    if (a.preferred) session.account_id = a.id;
  }
  ++stats.logins;
  const Account& current = *find_account(session.account_id);

  JsonWriter w;
  w.begin_object();
  w.member("accountType", "CFD");
  w.key("accountInfo");
  write_funds(w, current);
  w.member("currencyIsoCode", kAccountCurrency).member("currencySymbol", "$");
  w.member("currentAccountId", current.id).member("streamingHost", streaming_host);
  w.key("accounts").begin_array();
  for (const Account& a : accounts) {
    w.begin_object().member("accountId", a.id).member("accountName", a.name);
    w.member("preferred", a.preferred).member("accountType", "CFD");
    w.member("currency", kAccountCurrency).member("symbol", "$");
    w.key("balance");
    write_funds(w, a);
    w.end_object();
  }
  w.end_array();
  w.member("clientId", "12345678").member("timezoneOffset", options.timezone_offset_hours);
  w.member("hasActiveDemoAccounts", true).member("hasActiveLiveAccounts", false);
  w.member("trailingStopsEnabled", false);
  w.end_object();

  BrokerResponse response = json_ok(w.take());
  response.cst = session.cst;
  response.security_token = session.security_token;
  sessions[session.cst] = std::move(session);
  return response;
}

std::optional<std::string> BrokerState::decrypt_password(const std::string& encrypted) {
  if (!encryption_key) return std::nullopt;
  const std::optional<std::string> inner = encryption_key->decrypt_base64(encrypted);
  if (!inner) return std::nullopt;
  const std::optional<std::string> plain = base64_decode(*inner);
  if (!plain) return std::nullopt;
  const std::size_t bar = plain->rfind('|');
  if (bar == std::string::npos) return std::nullopt;
  // The timestamp must be one of the last hour's (the broker rejects stale ones).
  const std::string stamp = plain->substr(bar + 1);
  char* end = nullptr;
  const long long ts = std::strtoll(stamp.c_str(), &end, 10);
  if (end == stamp.c_str() || std::llabs(epoch_ms_now() - ts) > 3'600'000) return std::nullopt;
  return plain->substr(0, bar);
}

BrokerResponse BrokerState::encryption_key_response(const BrokerRequest& r) {
  if (!r.api_key || r.api_key->empty()) return error(400, "error.null.api.key");
  if (*r.api_key != options.credentials.api_key) return error(401, "error.invalid.details");
  if (!encryption_key) encryption_key = RsaKeyPair::generate(2048);
  JsonWriter w;
  w.begin_object().member("encryptionKey", encryption_key->public_key_base64());
  w.member("timeStamp", epoch_ms_now()).end_object();
  return json_ok(w.take());
}

BrokerResponse BrokerState::session_details(const Session& session) {
  JsonWriter w;
  w.begin_object().member("clientId", "12345678").member("accountId", session.account_id);
  w.member("timezoneOffset", options.timezone_offset_hours).member("locale", "en");
  w.member("currency", kAccountCurrency).member("streamEndpoint", streaming_host);
  w.end_object();
  return json_ok(w.take());
}

BrokerResponse BrokerState::switch_account(const BrokerRequest& r, Session& session) {
  JsonBody body;
  if (!body.parse(r.body)) return error(400, "error.invalid.json");
  const std::optional<std::string> id = body.str("accountId");
  if (!id) return error(400, "error.null.accountId");
  if (find_account(*id) == nullptr) return error(400, "error.invalid.accountId");
  if (*id != session.account_id) {
    session.account_id = *id;
    ++session.epoch;  // drops the session's WebSocket streams
  }
  JsonWriter w;
  w.begin_object().member("trailingStopsEnabled", false).member("dealingEnabled", true);
  w.member("hasActiveDemoAccounts", true).member("hasActiveLiveAccounts", false).end_object();
  return json_ok(w.take());
}

}  // namespace qt::sim
