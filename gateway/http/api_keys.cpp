// API keys: SHA-256 through OpenSSL EVP, constant-time digest comparison; see api_keys.hpp.
#include "gateway/http/api_keys.hpp"

#include <fmt/format.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <strings.h>

#include <algorithm>
#include <unordered_set>

#include "common/base64.hpp"

namespace qt::http {
namespace {

using Digest = std::array<unsigned char, 32>;

Digest sha256(std::string_view text) {
  Digest digest{};
  unsigned int length = 0;
  EVP_Digest(text.data(), text.size(), digest.data(), &length, EVP_sha256(), nullptr);
  return digest;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::optional<Digest> parse_digest(std::string_view hex) {
  if (hex.size() != 64) return std::nullopt;
  Digest digest{};
  for (std::size_t i = 0; i < digest.size(); ++i) {
    const int high = hex_value(hex[2 * i]);
    const int low = hex_value(hex[2 * i + 1]);
    if (high < 0 || low < 0) return std::nullopt;
    digest[i] = static_cast<unsigned char>(high << 4 | low);
  }
  return digest;
}

std::string to_hex(const Digest& digest) {
  constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * digest.size());
  for (const unsigned char byte : digest) {
    out.push_back(kHex[byte >> 4]);
    out.push_back(kHex[byte & 0xF]);
  }
  return out;
}

bool is_space(char c) {
  return c == ' ' || c == '\t';
}

// The token of "Bearer <token>" (scheme case-insensitive, RFC 7235); empty when the header is
// not of that form.
std::string_view bearer_token(std::string_view authorization) {
  constexpr std::string_view kScheme = "bearer";
  if (authorization.size() <= kScheme.size() ||
      ::strncasecmp(authorization.data(), kScheme.data(), kScheme.size()) != 0 ||
      !is_space(authorization[kScheme.size()])) {
    return {};
  }
  std::string_view token = authorization.substr(kScheme.size());
  while (!token.empty() && is_space(token.front())) token.remove_prefix(1);
  while (!token.empty() && is_space(token.back())) token.remove_suffix(1);
  if (std::any_of(token.begin(), token.end(), is_space)) return {};
  return token;
}

}  // namespace

std::string_view to_string(Role role) {
  switch (role) {
    case Role::kPublic: return "public";
    case Role::kRead: return "read";
    case Role::kTrade: return "trade";
    case Role::kAdmin: return "admin";
  }
  return "?";
}

std::optional<Role> parse_key_role(std::string_view text) {
  if (text == "read") return Role::kRead;
  if (text == "trade") return Role::kTrade;
  if (text == "admin") return Role::kAdmin;
  return std::nullopt;
}

absl::StatusOr<ApiKeys> ApiKeys::create(const std::vector<ApiKeyEntry>& entries) {
  std::vector<Stored> stored;
  stored.reserve(entries.size());
  std::unordered_set<std::string_view> names;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const ApiKeyEntry& entry = entries[i];
    if (entry.name.empty()) {
      return absl::InvalidArgumentError(fmt::format("api key #{}: name is empty", i + 1));
    }
    if (!names.insert(entry.name).second) {
      return absl::InvalidArgumentError(
          fmt::format("api key '{}': the name is used twice", entry.name));
    }
    if (entry.role == Role::kPublic) {
      return absl::InvalidArgumentError(
          fmt::format("api key '{}': role must be read, trade or admin", entry.name));
    }
    const std::optional<Digest> digest = parse_digest(entry.sha256_hex);
    if (!digest) {
      return absl::InvalidArgumentError(fmt::format(
          "api key '{}': sha256 must be 64 hex digits (the SHA-256 of the key, not the key)",
          entry.name));
    }
    for (const Stored& other : stored) {
      if (other.digest == *digest) {
        return absl::InvalidArgumentError(
            fmt::format("api keys '{}' and '{}' have the same sha256", other.name, entry.name));
      }
    }
    stored.push_back(Stored{entry.name, entry.role, *digest});
  }
  return ApiKeys(std::move(stored));
}

absl::StatusOr<Principal> ApiKeys::authenticate(std::string_view authorization,
                                                Role required) const {
  if (authorization.empty()) return absl::UnauthenticatedError("missing API key");
  const std::string_view key = bearer_token(authorization);
  if (key.empty()) {
    return absl::UnauthenticatedError("the Authorization header must be 'Bearer <key>'");
  }
  const Digest presented = sha256(key);
  // Every stored digest is compared, and the match is selected with a mask, so neither the
  // number of comparisons nor a branch depends on which entry (if any) matched.
  std::size_t matched = entries_.size();
  for (std::size_t i = 0; i < entries_.size(); ++i) {
    const int differs = CRYPTO_memcmp(presented.data(), entries_[i].digest.data(), 32) != 0;
    const std::size_t keep_mask = static_cast<std::size_t>(0) - static_cast<std::size_t>(differs);
    matched = (matched & keep_mask) | (i & ~keep_mask);
  }
  if (matched == entries_.size()) return absl::UnauthenticatedError("unknown API key");
  const Stored& entry = entries_[matched];
  if (entry.role < required) {
    return absl::PermissionDeniedError(
        fmt::format("this route needs role '{}'; key '{}' has role '{}'", to_string(required),
                    entry.name, to_string(entry.role)));
  }
  return Principal{entry.name, entry.role};
}

absl::StatusOr<GeneratedApiKey> generate_api_key() {
  unsigned char random[32];
  if (RAND_bytes(random, sizeof random) != 1) {
    return absl::InternalError("OpenSSL RAND_bytes failed: no key generated");
  }
  std::string text =
      base64_encode(std::string_view(reinterpret_cast<char*>(random), sizeof random));
  OPENSSL_cleanse(random, sizeof random);
  // base64url (RFC 4648 section 5) without padding: safe in a header, a shell and a TOML string.
  std::replace(text.begin(), text.end(), '+', '-');
  std::replace(text.begin(), text.end(), '/', '_');
  text.erase(std::find(text.begin(), text.end(), '='), text.end());
  GeneratedApiKey generated;
  generated.key = "qt_" + text;
  generated.sha256_hex = sha256_hex(generated.key);
  return generated;
}

std::string sha256_hex(std::string_view text) {
  return to_hex(sha256(text));
}

}  // namespace qt::http
