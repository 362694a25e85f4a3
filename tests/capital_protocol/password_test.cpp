// Specification of the encrypted-password login: the output is
// base64(RSA_PKCS1v1.5(base64(password + "|" + timeStamp))), checked by decrypting with the
// private half of a key pair generated here.
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <memory>

#include "gateway/capital/protocol.hpp"

namespace qt::capital {
namespace {

struct PkeyFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;

Pkey generate_rsa(unsigned bits) {
  return Pkey(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(bits)));
}

// base64 of the SubjectPublicKeyInfo DER: what GET /session/encryptionKey returns.
std::string public_key_base64(EVP_PKEY* key) {
  unsigned char* der = nullptr;
  const int length = i2d_PUBKEY(key, &der);
  std::string bytes(reinterpret_cast<const char*>(der), static_cast<std::size_t>(length));
  OPENSSL_free(der);
  return base64_encode(bytes);
}

std::string decrypt(EVP_PKEY* key, const std::string& cipher) {
  std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)> ctx(EVP_PKEY_CTX_new(key, nullptr),
                                                                  EVP_PKEY_CTX_free);
  EXPECT_EQ(EVP_PKEY_decrypt_init(ctx.get()), 1);
  EXPECT_EQ(EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_PADDING), 1);
  std::size_t size = 0;
  const auto* in = reinterpret_cast<const unsigned char*>(cipher.data());
  EXPECT_EQ(EVP_PKEY_decrypt(ctx.get(), nullptr, &size, in, cipher.size()), 1);
  std::string out(size, '\0');
  EXPECT_EQ(EVP_PKEY_decrypt(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &size, in,
                             cipher.size()),
            1);
  out.resize(size);
  return out;
}

TEST(CapitalPassword, Base64MatchesRfc4648Vectors) {
  EXPECT_EQ(base64_encode(""), "");
  EXPECT_EQ(base64_encode("f"), "Zg==");
  EXPECT_EQ(base64_encode("fo"), "Zm8=");
  EXPECT_EQ(base64_encode("foo"), "Zm9v");
  EXPECT_EQ(base64_encode("foob"), "Zm9vYg==");
  EXPECT_EQ(base64_encode("fooba"), "Zm9vYmE=");
  EXPECT_EQ(base64_encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(base64_decode("Zm9vYmFy"), "foobar");
  EXPECT_EQ(base64_decode("Zm9v\nYg=="), "foob");    // whitespace (PEM-style wraps) is skipped
  EXPECT_FALSE(base64_decode("Zm9vY").has_value());  // bad length
  EXPECT_FALSE(base64_decode("Zm9v*mFy").has_value());
  EXPECT_FALSE(base64_decode("Zg==Zg==").has_value());  // data after padding
}

TEST(CapitalPassword, DecryptsToBase64OfPasswordBarTimestamp) {
  const Pkey key = generate_rsa(2048);
  ASSERT_TRUE(key);
  auto encrypted = encrypt_password(public_key_base64(key.get()), "s3cret pass", 1714557600123);
  ASSERT_TRUE(encrypted.ok()) << encrypted.status();
  const std::optional<std::string> cipher = base64_decode(*encrypted);
  ASSERT_TRUE(cipher.has_value());
  EXPECT_EQ(cipher->size(), 256u);  // one RSA-2048 block
  EXPECT_EQ(decrypt(key.get(), *cipher), base64_encode("s3cret pass|1714557600123"));
}

TEST(CapitalPassword, EachEncryptionIsRandomizedButDecryptsTheSame) {
  const Pkey key = generate_rsa(2048);
  const std::string public_key = public_key_base64(key.get());
  auto first = encrypt_password(public_key, "pw", 1);
  auto second = encrypt_password(public_key, "pw", 1);
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_NE(*first, *second);  // PKCS#1 v1.5 random padding
  EXPECT_EQ(decrypt(key.get(), *base64_decode(*first)),
            decrypt(key.get(), *base64_decode(*second)));
}

TEST(CapitalPassword, AcceptsABarePkcs1RsaPublicKey) {
  const Pkey key = generate_rsa(1024);
  unsigned char* der = nullptr;
  const int length = i2d_PublicKey(key.get(), &der);  // RSAPublicKey, not SubjectPublicKeyInfo
  ASSERT_GT(length, 0);
  const std::string bytes(reinterpret_cast<const char*>(der), static_cast<std::size_t>(length));
  OPENSSL_free(der);
  auto encrypted = encrypt_password(base64_encode(bytes), "pw", 42);
  ASSERT_TRUE(encrypted.ok()) << encrypted.status();
  EXPECT_EQ(decrypt(key.get(), *base64_decode(*encrypted)), base64_encode("pw|42"));
}

TEST(CapitalPassword, RejectsKeysThatAreNotBase64DerRsaWithoutLeakingThePassword) {
  auto not_base64 = encrypt_password("not base64 !!", "hunter2", 1);
  EXPECT_EQ(not_base64.status().code(), absl::StatusCode::kInvalidArgument);
  auto not_der = encrypt_password(base64_encode("definitely not DER"), "hunter2", 1);
  EXPECT_EQ(not_der.status().code(), absl::StatusCode::kInvalidArgument);
  const Pkey ec(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  ASSERT_TRUE(ec);
  auto not_rsa = encrypt_password(public_key_base64(ec.get()), "hunter2", 1);
  EXPECT_EQ(not_rsa.status().code(), absl::StatusCode::kInvalidArgument);
  for (const auto* result : {&not_base64, &not_der, &not_rsa}) {
    const auto message = result->status().message();
    EXPECT_EQ(std::string(message.data(), message.size()).find("hunter2"), std::string::npos);
  }
}

TEST(CapitalPassword, RejectsAPasswordTooLongForOneRsaBlock) {
  const Pkey key = generate_rsa(1024);  // 128-byte block: at most 117 bytes of plaintext
  auto too_long = encrypt_password(public_key_base64(key.get()), std::string(100, 'x'), 1);
  EXPECT_EQ(too_long.status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace qt::capital
