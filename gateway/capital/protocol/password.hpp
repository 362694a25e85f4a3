// The encrypted-password login of POST /session (capital-api.md section 2):
//   GET /session/encryptionKey → {"encryptionKey": base64 DER RSA public key, "timeStamp": ms}
//   password field = base64(RSA_PKCS1v1.5_encrypt(key, base64(password + "|" + timeStamp)))
//   with "encryptedPassword": true.
// (The venue's docs say "AES"; its reference code is RSA/ECB/PKCS1Padding, which this is.)
//
// OpenSSL 3 EVP APIs; the key may be SubjectPublicKeyInfo DER (what the venue sends) or a bare
// PKCS#1 RSAPublicKey. Error messages never contain the password or the key. The plaintext
// intermediate is wiped (OPENSSL_cleanse) before returning. Thread-safe; allocates.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace qt::capital {

absl::StatusOr<std::string> encrypt_password(std::string_view base64_der_public_key,
                                             std::string_view password, int64_t timestamp_ms);

}  // namespace qt::capital
