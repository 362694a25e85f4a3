// The listening side of the scripted test servers (HTTPS and WebSocket): a TLS server context
// holding the test PKI's server certificate, and an acceptor on 127.0.0.1 at a port the kernel
// picks. Call both before the server's io thread starts.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <optional>

#include "tests/capital_client/test_pki.hpp"

namespace qt::capital::testing {

// pki == nullptr: no context (plain TCP).
std::optional<boost::asio::ssl::context> server_tls_context(const TestPki* pki);

// Opens, binds and listens; the port is acceptor.local_endpoint().port().
void listen_on_loopback(boost::asio::ip::tcp::acceptor& acceptor);

}  // namespace qt::capital::testing
