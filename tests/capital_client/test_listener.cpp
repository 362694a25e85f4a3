#include "tests/capital_client/test_listener.hpp"

#include <boost/asio/buffer.hpp>

namespace qt::capital::testing {

namespace asio = boost::asio;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

std::optional<ssl::context> server_tls_context(const TestPki* pki) {
  if (pki == nullptr) return std::nullopt;
  std::optional<ssl::context> tls(std::in_place, ssl::context::tls_server);
  tls->use_certificate_chain(asio::buffer(pki->server_cert_pem));
  tls->use_private_key(asio::buffer(pki->server_key_pem), ssl::context::pem);
  return tls;
}

void listen_on_loopback(tcp::acceptor& acceptor) {
  const tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), 0);
  acceptor.open(endpoint.protocol());
  acceptor.set_option(asio::socket_base::reuse_address(true));
  acceptor.bind(endpoint);
  acceptor.listen();
}

}  // namespace qt::capital::testing
