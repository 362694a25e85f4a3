#include "feeds/capital/stream_tls.hpp"

#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include <boost/asio/ip/address.hpp>

#include "fmt/format.h"

namespace qt::capital {

namespace asio = boost::asio;
namespace ssl = asio::ssl;

// TlsContext keeps its asio context behind an opaque Impl and has no accessor for it yet.
// Until https_connection.hpp grows one (proposed: `ssl::context& TlsContext::asio_context()`),
// this is the Impl's definition repeated token for token from https_connection.cpp, as the
// one-definition rule allows for a class defined in several translation units. It must change
// whenever that one does; stream_ssl_context() checks the verify mode as a tripwire.
struct TlsContext::Impl {
  ssl::context context{ssl::context::tls_client};
};

absl::StatusOr<ssl::context*> stream_ssl_context(TlsContext& tls) {
  ssl::context& context = tls.impl().context;
  const int expected = tls.verify() ? SSL_VERIFY_PEER : SSL_VERIFY_NONE;
  if (context.native_handle() == nullptr ||
      SSL_CTX_get_verify_mode(context.native_handle()) != expected) {
    return absl::InternalError(
        "TLS: the shared TlsContext does not match the stream client's view of it "
        "(feeds/capital/stream_tls.cpp must follow https_connection.cpp)");
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
