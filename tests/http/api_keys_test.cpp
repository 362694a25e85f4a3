// API keys: digests, roles, 401 vs 403, key generation, and that no message carries a key.
#include "gateway/http/api_keys.hpp"

#include <gtest/gtest.h>

#include <set>

namespace qt::http {
namespace {

constexpr const char* kReadKey = "qt_read-key-for-tests-0000000000000000000000";
constexpr const char* kTradeKey = "qt_trade-key-for-tests-000000000000000000000";
constexpr const char* kAdminKey = "qt_admin-key-for-tests-000000000000000000000";

ApiKeys test_keys() {
  absl::StatusOr<ApiKeys> keys = ApiKeys::create({
      {"reader", Role::kRead, sha256_hex(kReadKey)},
      {"trader", Role::kTrade, sha256_hex(kTradeKey)},
      {"operator", Role::kAdmin, sha256_hex(kAdminKey)},
  });
  EXPECT_TRUE(keys.ok()) << keys.status();
  return *std::move(keys);
}

std::string bearer(const char* key) {
  return std::string("Bearer ") + key;
}

TEST(ApiKeys, Sha256OfAKnownText) {
  // FIPS 180-2 test vector.
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(ApiKeys, EachRoleReachesItsLevelAndBelow) {
  const ApiKeys keys = test_keys();
  struct Case {
    const char* key;
    Role required;
    bool allowed;
  };
  const Case cases[] = {
      {kReadKey, Role::kRead, true},   {kReadKey, Role::kTrade, false},
      {kReadKey, Role::kAdmin, false}, {kTradeKey, Role::kRead, true},
      {kTradeKey, Role::kTrade, true}, {kTradeKey, Role::kAdmin, false},
      {kAdminKey, Role::kRead, true},  {kAdminKey, Role::kTrade, true},
      {kAdminKey, Role::kAdmin, true},
  };
  for (const Case& c : cases) {
    const absl::StatusOr<Principal> principal = keys.authenticate(bearer(c.key), c.required);
    if (c.allowed) {
      EXPECT_TRUE(principal.ok()) << c.key << " " << to_string(c.required);
    } else {
      EXPECT_TRUE(absl::IsPermissionDenied(principal.status()))
          << c.key << " " << to_string(c.required);
    }
  }
  const absl::StatusOr<Principal> trader = keys.authenticate(bearer(kTradeKey), Role::kRead);
  ASSERT_TRUE(trader.ok());
  EXPECT_EQ(trader->name, "trader");
  EXPECT_EQ(trader->role, Role::kTrade);
}

TEST(ApiKeys, MissingMalformedOrUnknownKeysAreUnauthenticated) {
  const ApiKeys keys = test_keys();
  for (const std::string& header :
       {std::string(), std::string("Bearer"), std::string("Bearer "), std::string("Basic abc"),
        std::string("Bearer qt_unknown"), std::string(kReadKey),
        std::string("Bearer ") + kReadKey + " extra", std::string("Bearer ") + kReadKey + "x"}) {
    EXPECT_TRUE(absl::IsUnauthenticated(keys.authenticate(header, Role::kRead).status())) << header;
  }
}

TEST(ApiKeys, SchemeIsCaseInsensitiveAndSpacesAreTrimmed) {
  const ApiKeys keys = test_keys();
  EXPECT_TRUE(keys.authenticate(std::string("bearer ") + kReadKey, Role::kRead).ok());
  EXPECT_TRUE(keys.authenticate(std::string("BEARER   ") + kReadKey + "  ", Role::kRead).ok());
}

TEST(ApiKeys, NoStatusMessageContainsTheKey) {
  const ApiKeys keys = test_keys();
  const std::string wrong = "qt_this-is-a-wrong-key-that-must-not-leak-0000";
  for (const std::string& header :
       {bearer(wrong.c_str()), bearer(kReadKey), std::string("Basic ") + wrong}) {
    const absl::Status status = keys.authenticate(header, Role::kAdmin).status();
    ASSERT_FALSE(status.ok());
    EXPECT_EQ(status.message().find("qt_"), absl::string_view::npos) << status;
  }
}

TEST(ApiKeys, EmptyKeySetRefusesEveryKey) {
  const absl::StatusOr<ApiKeys> keys = ApiKeys::create({});
  ASSERT_TRUE(keys.ok());
  EXPECT_TRUE(absl::IsUnauthenticated(keys->authenticate(bearer(kAdminKey), Role::kRead).status()));
}

TEST(ApiKeys, RefusesBadEntries) {
  const std::string digest = sha256_hex("k");
  EXPECT_TRUE(absl::IsInvalidArgument(ApiKeys::create({{"", Role::kRead, digest}}).status()));
  EXPECT_TRUE(absl::IsInvalidArgument(ApiKeys::create({{"a", Role::kPublic, digest}}).status()));
  EXPECT_TRUE(absl::IsInvalidArgument(ApiKeys::create({{"a", Role::kRead, "k"}}).status()));
  EXPECT_TRUE(absl::IsInvalidArgument(
      ApiKeys::create({{"a", Role::kRead, digest.substr(1) + "g"}}).status()));
  EXPECT_TRUE(absl::IsInvalidArgument(
      ApiKeys::create({{"a", Role::kRead, digest}, {"a", Role::kRead, sha256_hex("j")}}).status()));
  EXPECT_TRUE(absl::IsInvalidArgument(
      ApiKeys::create({{"a", Role::kRead, digest}, {"b", Role::kAdmin, digest}}).status()));
  // Upper-case hex is the same digest.
  std::string upper = digest;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  const absl::StatusOr<ApiKeys> keys = ApiKeys::create({{"a", Role::kRead, upper}});
  ASSERT_TRUE(keys.ok());
  EXPECT_TRUE(keys->authenticate("Bearer k", Role::kRead).ok());
}

TEST(ApiKeys, GeneratedKeysAreRandomPrefixedAndMatchTheirDigest) {
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    const absl::StatusOr<GeneratedApiKey> generated = generate_api_key();
    ASSERT_TRUE(generated.ok());
    EXPECT_EQ(generated->key.size(), 3u + 43u);  // "qt_" + 32 bytes of base64url, unpadded
    EXPECT_EQ(generated->key.rfind("qt_", 0), 0u);
    EXPECT_EQ(generated->key.find_first_not_of(
                  "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", 3),
              std::string::npos);
    EXPECT_EQ(generated->sha256_hex, sha256_hex(generated->key));
    EXPECT_TRUE(seen.insert(generated->key).second);
    const absl::StatusOr<ApiKeys> keys =
        ApiKeys::create({{"new", Role::kTrade, generated->sha256_hex}});
    ASSERT_TRUE(keys.ok());
    EXPECT_TRUE(keys->authenticate("Bearer " + generated->key, Role::kTrade).ok());
  }
}

TEST(ApiKeys, RoleNames) {
  EXPECT_EQ(parse_key_role("read"), Role::kRead);
  EXPECT_EQ(parse_key_role("trade"), Role::kTrade);
  EXPECT_EQ(parse_key_role("admin"), Role::kAdmin);
  EXPECT_EQ(parse_key_role("public"), std::nullopt);
  EXPECT_EQ(parse_key_role("Admin"), std::nullopt);
}

}  // namespace
}  // namespace qt::http
