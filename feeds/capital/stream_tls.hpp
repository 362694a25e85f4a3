// TLS for the market-data stream, on the REST client's TlsContext (gateway/capital/
// https_connection.hpp): the same trust decision — the system CA store, CAPITAL_CA_FILE, or the
// explicit insecure mode — made once in TlsContext::create and shared, never set up twice.
//
// Header-only for the asio types, so only the stream client's .cpp includes it.
#pragma once

#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gateway/capital/https_connection.hpp"

namespace qt::capital {

// The asio SSL context inside `tls` (lives as long as `tls`), or Internal if it has none.
absl::StatusOr<boost::asio::ssl::context*> stream_ssl_context(TlsContext& tls);

// Per connection, before the handshake: SNI (unless `host` is an IP literal) and, when the
// context verifies, peer verification of `host` (DNS name or IP address; no partial wildcards),
// as HttpsConnection does for REST connections; and OpenSSL keeps its record buffers (no
// allocation per received record).
absl::Status prepare_client_tls(SSL* ssl, const std::string& host, bool verify);

// After a failed handshake: the certificate verification error, or "" if it was not that.
std::string certificate_failure(SSL* ssl);

}  // namespace qt::capital
