#include "gateway/capital/client_tls.hpp"

#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <boost/asio/ip/address.hpp>

#include "fmt/format.h"

namespace qt::capital {

absl::Status prepare_client_tls(SSL* native, const std::string& host, bool verify) {
  boost::system::error_code ec;
  boost::asio::ip::make_address(host, ec);
  const bool ip = !ec;
  if (!ip && SSL_set_tlsext_host_name(native, host.c_str()) != 1) {
    return absl::InternalError(fmt::format("TLS: cannot set SNI for {}", host));
  }
  SSL_clear_mode(native, SSL_MODE_RELEASE_BUFFERS);
  if (!verify) {
    SSL_set_verify(native, SSL_VERIFY_NONE, nullptr);
    return absl::OkStatus();
  }
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
