#include "sim/crypto.hpp"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <stdexcept>
#include <vector>

#include "common/base64.hpp"

namespace qt::sim {

namespace {

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct CtxFree {
  void operator()(EVP_PKEY_CTX* p) const { EVP_PKEY_CTX_free(p); }
};
struct X509Free {
  void operator()(X509* p) const { X509_free(p); }
};
struct BioFree {
  void operator()(BIO* p) const { BIO_free(p); }
};
struct ExtFree {
  void operator()(X509_EXTENSION* p) const { X509_EXTENSION_free(p); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;
using PkeyCtx = std::unique_ptr<EVP_PKEY_CTX, CtxFree>;

[[noreturn]] void fail(const char* what) {
  throw std::runtime_error(std::string("OpenSSL: ") + what);
}

std::string bio_text(BIO* bio) {
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<std::size_t>(size));
}

void add_extension(X509* cert, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
  std::unique_ptr<X509_EXTENSION, ExtFree> ext(
      X509V3_EXT_conf_nid(nullptr, &ctx, nid, const_cast<char*>(value)));
  if (!ext || X509_add_ext(cert, ext.get(), -1) != 1) fail("X509_add_ext");
}

}  // namespace

PemCertificate generate_self_signed_certificate(int days) {
  Pkey key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  if (!key) fail("EC P-256 key generation");

  std::unique_ptr<X509, X509Free> cert(X509_new());
  if (!cert) fail("X509_new");
  X509_set_version(cert.get(), 2);  // v3
  // A random 64-bit serial: a client that cached an older certificate must not mistake it.
  unsigned char serial_bytes[8];
  FILE* urandom = std::fopen("/dev/urandom", "rb");
  if (urandom == nullptr || std::fread(serial_bytes, 1, sizeof serial_bytes, urandom) != 8) {
    if (urandom != nullptr) std::fclose(urandom);
    fail("/dev/urandom");
  }
  std::fclose(urandom);
  serial_bytes[0] &= 0x7f;
  BIGNUM* serial = BN_bin2bn(serial_bytes, sizeof serial_bytes, nullptr);
  BN_to_ASN1_INTEGER(serial, X509_get_serialNumber(cert.get()));
  BN_free(serial);

  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -60);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), static_cast<long>(days) * 86'400);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("quanttrading simulator"), -1,
                             -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("localhost"), -1, -1, 0);
  X509_set_issuer_name(cert.get(), name);
  if (X509_set_pubkey(cert.get(), key.get()) != 1) fail("X509_set_pubkey");
  // Self-signed and trusted as its own CA by clients that load it as ca_file.
  add_extension(cert.get(), NID_basic_constraints, "critical,CA:TRUE");
  add_extension(cert.get(), NID_key_usage, "critical,digitalSignature,keyCertSign");
  add_extension(cert.get(), NID_ext_key_usage, "serverAuth");
  add_extension(cert.get(), NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1");
  add_extension(cert.get(), NID_subject_key_identifier, "hash");
  if (X509_sign(cert.get(), key.get(), EVP_sha256()) == 0) fail("X509_sign");

  std::unique_ptr<BIO, BioFree> cert_bio(BIO_new(BIO_s_mem()));
  std::unique_ptr<BIO, BioFree> key_bio(BIO_new(BIO_s_mem()));
  if (PEM_write_bio_X509(cert_bio.get(), cert.get()) != 1) fail("PEM_write_bio_X509");
  if (PEM_write_bio_PrivateKey(key_bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) !=
      1) {
    fail("PEM_write_bio_PrivateKey");
  }
  return {bio_text(cert_bio.get()), bio_text(key_bio.get())};
}

bool write_text_file(const std::string& path, std::string_view text) {
  FILE* file = std::fopen(path.c_str(), "wb");
  if (file == nullptr) return false;
  const bool ok = std::fwrite(text.data(), 1, text.size(), file) == text.size();
  return std::fclose(file) == 0 && ok;
}

struct RsaKeyPair::Impl {
  Pkey key;
};

RsaKeyPair::RsaKeyPair(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
RsaKeyPair::RsaKeyPair(RsaKeyPair&&) noexcept = default;
RsaKeyPair& RsaKeyPair::operator=(RsaKeyPair&&) noexcept = default;
RsaKeyPair::~RsaKeyPair() = default;

RsaKeyPair RsaKeyPair::generate(int bits) {
  auto impl = std::make_unique<Impl>();
  impl->key.reset(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(bits)));
  if (!impl->key) fail("RSA key generation");
  return RsaKeyPair(std::move(impl));
}

std::string RsaKeyPair::public_key_base64() const {
  unsigned char* der = nullptr;
  const int size = i2d_PUBKEY(impl_->key.get(), &der);
  if (size <= 0) fail("i2d_PUBKEY");
  std::string bytes(reinterpret_cast<const char*>(der), static_cast<std::size_t>(size));
  OPENSSL_free(der);
  return base64_encode(bytes);
}

std::optional<std::string> RsaKeyPair::decrypt_base64(std::string_view ciphertext_base64) const {
  const std::optional<std::string> cipher = base64_decode(ciphertext_base64);
  if (!cipher) return std::nullopt;
  PkeyCtx ctx(EVP_PKEY_CTX_new(impl_->key.get(), nullptr));
  if (!ctx || EVP_PKEY_decrypt_init(ctx.get()) != 1 ||
      EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_PADDING) != 1) {
    return std::nullopt;
  }
  const auto* in = reinterpret_cast<const unsigned char*>(cipher->data());
  size_t out_size = 0;
  if (EVP_PKEY_decrypt(ctx.get(), nullptr, &out_size, in, cipher->size()) != 1) {
    return std::nullopt;
  }
  std::string out(out_size, '\0');
  if (EVP_PKEY_decrypt(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &out_size, in,
                       cipher->size()) != 1) {
    return std::nullopt;
  }
  out.resize(out_size);
  return out;
}

std::optional<std::string> encrypt_password(std::string_view encryption_key_base64,
                                            std::string_view password, int64_t timestamp_ms) {
  const std::optional<std::string> der = base64_decode(encryption_key_base64);
  if (!der) return std::nullopt;
  const auto* p = reinterpret_cast<const unsigned char*>(der->data());
  Pkey key(d2i_PUBKEY(nullptr, &p, static_cast<long>(der->size())));
  if (!key) return std::nullopt;
  const std::string plain =
      base64_encode(std::string(password) + "|" + std::to_string(timestamp_ms));
  PkeyCtx ctx(EVP_PKEY_CTX_new(key.get(), nullptr));
  if (!ctx || EVP_PKEY_encrypt_init(ctx.get()) != 1 ||
      EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_PADDING) != 1) {
    return std::nullopt;
  }
  const auto* in = reinterpret_cast<const unsigned char*>(plain.data());
  size_t out_size = 0;
  if (EVP_PKEY_encrypt(ctx.get(), nullptr, &out_size, in, plain.size()) != 1) return std::nullopt;
  std::vector<unsigned char> out(out_size);
  if (EVP_PKEY_encrypt(ctx.get(), out.data(), &out_size, in, plain.size()) != 1) {
    return std::nullopt;
  }
  return base64_encode(std::string_view(reinterpret_cast<const char*>(out.data()), out_size));
}

}  // namespace qt::sim
