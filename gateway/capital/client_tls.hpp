// What every TLS connection to the broker — REST (https_connection.cpp) and the market-data
// stream (feeds/capital/stream_client.cpp) — does to its OpenSSL session before the handshake,
// and how it reads a failed one. The trust decision itself (system CAs, CAPITAL_CA_FILE or the
// explicit insecure mode) is made once, in TlsContext (https_connection.hpp).
#pragma once

#include <openssl/ssl.h>

#include <string>

#include "absl/status/status.h"

namespace qt::capital {

// SNI (unless `host` is an IP literal) and, when `verify`, peer verification of `host` by
// OpenSSL during chain verification (DNS name or IP address; no partial wildcards), so a name
// mismatch fails the handshake as a certificate error. The session keeps its record buffers
// (Asio asks OpenSSL to release them whenever they run empty: two allocations per record).
absl::Status prepare_client_tls(SSL* ssl, const std::string& host, bool verify);

// After a failed handshake: the certificate verification error, or "" if it was not that.
std::string certificate_failure(SSL* ssl);

}  // namespace qt::capital
