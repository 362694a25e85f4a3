// The broker session: logging in, holding the CST / X-SECURITY-TOKEN pair, and logging in
// again when the broker stops accepting it.
//
// Login: POST /session with X-CAP-API-KEY and {identifier, password}; with
// CAPITAL_ENCRYPTED_PASSWORD, first GET /session/encryptionKey and send
// base64(RSA-PKCS#1 v1.5(base64(password|timeStamp))) with encryptedPassword:true. Every login
// passes the client-side login limit (1 per second) and the overall limit.
//
// Tokens: taken from the login answer's headers; every later answer that echoes CST or
// X-SECURITY-TOKEN replaces them. They live 10 minutes after the last use; the REST client's
// keep-alive pings an idle session well before that.
//
// Re-login (single flight): a caller whose request got a 401 calls relogin() with the epoch of
// the tokens it used. The first such caller logs in; callers that arrive while it does wait on
// the same mutex and, finding the epoch moved on, return that login's result instead of
// logging in again. So a burst of 401s from many workers costs exactly one login, and queued
// requests are not lost: they wait, then go out with the new tokens.
//
// Credentials the broker refused (401 error.invalid.details, error.invalid.api.key, 400
// error.null.api.key) stop automatic re-logins — repeating a bad password can lock an account
// — until login() is called explicitly.
//
// Secrets: the API key, identifier, password and tokens are never logged nor put in a Status.
// Thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "gateway/capital/client_config.hpp"
#include "gateway/capital/protocol.hpp"
#include "gateway/capital/rest_transport.hpp"

namespace qt::capital {

// The Status of a finished send: OK for a 2xx answer; the broker's error (protocol's
// status_from_http_response: code, explanation, HTTP status) for other answers; for transport
// failures ResourceExhausted (client-side rate limit), DeadlineExceeded (timeout) or
// Unavailable, with the transport's detail. Never contains a secret.
absl::Status status_of(const SendResult& sent);

class CapitalSession {
 public:
  // The session tokens. Replaced whole, never changed in place, so a request holds a snapshot
  // without copying the strings.
  struct Tokens {
    Secret cst;
    Secret security_token;
  };
  // The tokens a request goes out with, and which login produced them.
  struct Credentials {
    std::shared_ptr<const Tokens> tokens;  // null: no session
    uint64_t epoch = 0;                    // login attempts made before these tokens were read
    bool valid() const {
      return tokens != nullptr && !tokens->cst.empty() && !tokens->security_token.empty();
    }
  };

  CapitalSession(const CapitalClientConfig& config, RestTransport& transport);

  // Logs in now, whatever the state (and re-enables automatic re-login).
  absl::StatusOr<SessionCreateResponse> login();

  // Logs in again unless a login was attempted since `used_epoch`, in which case it returns
  // that login's result. See the header comment.
  absl::Status relogin(uint64_t used_epoch);

  Credentials credentials() const;
  bool logged_in() const;

  // Takes CST / X-SECURITY-TOKEN echoed by an answer to a request sent with `used_epoch`
  // tokens (ignored if a newer login happened meanwhile).
  void absorb(const HttpResponse& response, uint64_t used_epoch);

  // Drops the tokens (after DELETE /session).
  void forget();

  // The last login answer (account ids, streaming host), if any.
  std::optional<SessionCreateResponse> last_login() const;
  uint64_t logins() const;

 private:
  absl::StatusOr<SessionCreateResponse> login_locked();  // login_mutex_ held
  absl::StatusOr<std::string> encrypted_password();
  HttpHeader api_key_header() const;

  const CapitalClientConfig config_;
  RestTransport& transport_;

  std::mutex login_mutex_;          // one login at a time; held while logging in
  mutable std::mutex state_mutex_;  // guards the fields below; never held across I/O
  std::shared_ptr<const Tokens> tokens_;
  uint64_t epoch_ = 0;
  uint64_t logins_ = 0;
  absl::Status last_login_status_ = absl::UnauthenticatedError("not logged in yet");
  bool credentials_refused_ = false;
  std::optional<SessionCreateResponse> last_login_;
};

}  // namespace qt::capital
