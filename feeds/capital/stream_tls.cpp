#include "feeds/capital/stream_tls.hpp"

#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include <boost/asio/ip/address.hpp>

#include "fmt/format.h"

namespace qt::capital {

namespace asio = boost::asio;
namespace ssl = asio::ssl;

absl::StatusOr<ssl::context*> stream_ssl_context(TlsContext& tls) {
  ssl::context& context = tls.asio_context();
  if (context.native_handle() == nullptr) {
    return absl::InternalError("TLS: the shared TlsContext has no SSL context");
  }
  return &context;
}

absl::Status prepare_client_tls(SSL* native, const std::string& host, bool verify) {
  boost::system::error_code ec;
  asio::ip::make_address(host, ec);
  const bool ip = !ec;
  if (!ip && SSL_set_tlsext_host_name(native, host.c_str()) != 1) {
    return absl::InternalError(fmt::format("TLS: cannot set SNI for {}", host));
  }
  // Asio turns SSL_MODE_RELEASE_BUFFERS on for every SSL: OpenSSL then frees its read buffer
  // whenever it runs empty and allocates it again for the next record — two mallocs per
  // received record on the quote path. A stream connection keeps its buffers instead (~34 KB).
  SSL_clear_mode(native, SSL_MODE_RELEASE_BUFFERS);
  if (!verify) {
    SSL_set_verify(native, SSL_VERIFY_NONE, nullptr);
    return absl::OkStatus();
  }
  // OpenSSL checks the name during chain verification, so a mismatch is reported as such.
  X509_VERIFY_PARAM* param = SSL_get0_param(native);
  X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  const int set = ip ? X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str())
                     : X509_VERIFY_PARAM_set1_host(param, host.c_str(), 0);
  if (set != 1) return absl::InternalError(fmt::format("TLS: cannot expect host {}", host));
  SSL_set_verify(native, SSL_VERIFY_PEER, nullptr);
  return absl::OkStatus();
}

std::string certificate_failure(SSL* native) {
  const long result = SSL_get_verify_result(native);
  if (result == X509_V_OK) return {};
  return X509_verify_cert_error_string(result);
}

}  // namespace qt::capital
