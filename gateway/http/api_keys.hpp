// API keys of the HTTP API: who may call which route. A key is presented as
// `Authorization: Bearer <key>` and stored only as the hex SHA-256 of its text.
//
// Guarantees:
//  - the key itself is never kept, logged or put into a Status message: only its digest is
//    compared, and every message names the key's `name`, never its text;
//  - authenticate() hashes the presented key once and compares the digest with EVERY stored
//    digest (CRYPTO_memcmp, no early exit), so the time taken does not depend on which key, or
//    which prefix of a digest, matched;
//  - ApiKeys is immutable after create(): any thread may call authenticate() concurrently.
//    It allocates only the returned Principal's name.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace qt::http {

// Ordered: a role may call every route that needs it or a lower one.
//   kPublic  no key needed (/health, /ready, /metrics); never the role of a key
//   kRead    GET routes
//   kTrade   + orders and cancels
//   kAdmin   + kill switch, trading state
enum class Role : uint8_t { kPublic = 0, kRead = 1, kTrade = 2, kAdmin = 3 };
std::string_view to_string(Role role);
// "read", "trade" or "admin" (the config's spelling); nullopt otherwise.
std::optional<Role> parse_key_role(std::string_view text);

// One configured key: `[[http.api_keys]] name = "...", role = "...", sha256 = "<64 hex>"`.
struct ApiKeyEntry {
  std::string name;
  Role role = Role::kRead;
  std::string sha256_hex;  // 64 hex digits, either case
};

// Who called: the name and role of the key that matched.
struct Principal {
  std::string name;
  Role role = Role::kRead;
};

class ApiKeys {
 public:
  // InvalidArgument (naming the entry by its name or position) when a name is empty or used
  // twice, a role is kPublic, a digest is not 64 hex digits, or two entries share a digest.
  // No entries is valid: every route that needs a key then answers 401.
  static absl::StatusOr<ApiKeys> create(const std::vector<ApiKeyEntry>& entries);

  // `authorization` is the Authorization header's value (empty when absent).
  //   Unauthenticated     missing header, not "Bearer <key>", or no stored key matches (401)
  //   PermissionDenied    the key matched but its role is below `required` (403)
  // `required` == kPublic accepts any matching key (and still refuses unknown ones).
  absl::StatusOr<Principal> authenticate(std::string_view authorization, Role required) const;

  std::size_t size() const { return entries_.size(); }

 private:
  struct Stored {
    std::string name;
    Role role;
    std::array<unsigned char, 32> digest;
  };
  explicit ApiKeys(std::vector<Stored> entries) : entries_(std::move(entries)) {}

  std::vector<Stored> entries_;
};

// A new key for `quanttrading apikey new`: "qt_" + 43 characters of base64url (32 random bytes
// from OpenSSL's RAND_bytes, no padding), and the hex SHA-256 to put in the config. Internal
// when the random generator fails. The caller shows the key once and keeps only the digest.
struct GeneratedApiKey {
  std::string key;
  std::string sha256_hex;  // lower case
};
absl::StatusOr<GeneratedApiKey> generate_api_key();

// Lower-case hex SHA-256 of `text` (OpenSSL EVP).
std::string sha256_hex(std::string_view text);

}  // namespace qt::http
