#include "gateway/capital/protocol/password.hpp"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "common/base64.hpp"

namespace qt::capital {
namespace {

struct PkeyFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
struct PkeyCtxFree {
  void operator()(EVP_PKEY_CTX* ctx) const { EVP_PKEY_CTX_free(ctx); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;
using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree>;

// Wipes a std::string's bytes when it goes out of scope.
struct Wipe {
  std::string& text;
  ~Wipe() {
    if (!text.empty()) OPENSSL_cleanse(text.data(), text.size());
  }
};

// An error that never carries secrets; the OpenSSL error queue is cleared so it does not leak
// into unrelated later calls on this thread.
absl::Status crypto_error(std::string_view what) {
  ERR_clear_error();
  return absl::InternalError(std::string("Capital.com password encryption: ") + std::string(what));
}

PkeyPtr load_public_key(const std::string& der) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  PkeyPtr key(d2i_PUBKEY(nullptr, &p, static_cast<long>(der.size())));
  if (key) return key;
  ERR_clear_error();
  p = reinterpret_cast<const unsigned char*>(der.data());
  return PkeyPtr(d2i_PublicKey(EVP_PKEY_RSA, nullptr, &p, static_cast<long>(der.size())));
}

}  // namespace

absl::StatusOr<std::string> encrypt_password(std::string_view base64_der_public_key,
                                             std::string_view password, int64_t timestamp_ms) {
  const std::optional<std::string> der = base64_decode(base64_der_public_key);
  if (!der.has_value() || der->empty()) {
    return absl::InvalidArgumentError(
        "Capital.com password encryption: the encryption key is not valid base64");
  }
  PkeyPtr key = load_public_key(*der);
  if (!key) {
    ERR_clear_error();
    return absl::InvalidArgumentError(
        "Capital.com password encryption: the encryption key is not a DER RSA public key");
  }
  if (EVP_PKEY_is_a(key.get(), "RSA") != 1) {
    return absl::InvalidArgumentError(
        "Capital.com password encryption: the encryption key is not an RSA key");
  }

  std::string joined;
  Wipe wipe_joined{joined};
  const std::string stamp = std::to_string(timestamp_ms);
  joined.reserve(password.size() + 1 + stamp.size());
  joined.append(password).append("|").append(stamp);
  std::string plaintext = base64_encode(joined);
  Wipe wipe_plaintext{plaintext};

  // PKCS#1 v1.5 fits at most (modulus bytes - 11) bytes of plaintext.
  const int modulus_bytes = EVP_PKEY_get_size(key.get());
  if (modulus_bytes <= 11 || plaintext.size() > static_cast<std::size_t>(modulus_bytes - 11)) {
    return absl::InvalidArgumentError(
        "Capital.com password encryption: the password is too long for the venue's key");
  }

  PkeyCtxPtr ctx(EVP_PKEY_CTX_new(key.get(), nullptr));
  if (!ctx || EVP_PKEY_encrypt_init(ctx.get()) <= 0 ||
      EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_PADDING) <= 0) {
    return crypto_error("cannot set up RSA PKCS#1 v1.5 encryption");
  }
  const auto* in = reinterpret_cast<const unsigned char*>(plaintext.data());
  std::size_t out_size = 0;
  if (EVP_PKEY_encrypt(ctx.get(), nullptr, &out_size, in, plaintext.size()) <= 0) {
    return crypto_error("RSA encryption failed");
  }
  std::string cipher(out_size, '\0');
  if (EVP_PKEY_encrypt(ctx.get(), reinterpret_cast<unsigned char*>(cipher.data()), &out_size, in,
                       plaintext.size()) <= 0) {
    return crypto_error("RSA encryption failed");
  }
  cipher.resize(out_size);
  return base64_encode(cipher);
}

}  // namespace qt::capital
