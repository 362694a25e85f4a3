// OpenSSL 3 helpers of the simulator: the self-signed TLS certificate it serves when no
// certificate is given, and the RSA key of the broker's encrypted-password login.
//
// Not on any hot path; functions allocate and are safe to call from any thread.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace qt::sim {

struct PemCertificate {
  std::string cert_pem;  // also the CA a client trusts (ca_file)
  std::string key_pem;
};

// EC P-256 key, CN=localhost, SAN DNS:localhost + IP:127.0.0.1, valid for `days` from now.
// Throws std::runtime_error if OpenSSL fails.
PemCertificate generate_self_signed_certificate(int days = 1);

// Writes `text` to `path` (mode 0644). Returns false on failure.
bool write_text_file(const std::string& path, std::string_view text);

// The key behind GET /session/encryptionKey.
class RsaKeyPair {
 public:
  static RsaKeyPair generate(int bits = 2048);  // throws std::runtime_error on failure
  RsaKeyPair(RsaKeyPair&&) noexcept;
  RsaKeyPair& operator=(RsaKeyPair&&) noexcept;
  ~RsaKeyPair();

  // base64 of the DER SubjectPublicKeyInfo, as the broker sends it.
  std::string public_key_base64() const;
  // RSA/ECB/PKCS1Padding decryption of base64 ciphertext; nullopt if it does not decrypt.
  std::optional<std::string> decrypt_base64(std::string_view ciphertext_base64) const;

 private:
  struct Impl;
  explicit RsaKeyPair(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The client side of the encrypted-password login, as the broker's reference code does it:
// base64(RSA_PKCS1v1.5(base64(password + "|" + timestamp))). nullopt if the key is unusable.
std::optional<std::string> encrypt_password(std::string_view encryption_key_base64,
                                            std::string_view password, int64_t timestamp_ms);

}  // namespace qt::sim
