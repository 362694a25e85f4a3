// A throw-away certificate authority made at test time with OpenSSL: a CA certificate and a
// server certificate it signed (EC P-256, valid from an hour ago for a day). The CA is written
// to a PEM file for the client's ca_file; the server's chain and key stay in memory.
#pragma once

#include <string>
#include <vector>

namespace qt::capital::testing {

struct TestPki {
  std::string ca_cert_pem;
  std::string server_cert_pem;  // leaf, signed by the CA
  std::string server_key_pem;
  std::string ca_file;  // path of a file holding ca_cert_pem

  // `server_names`: subjectAltName entries such as "DNS:localhost", "IP:127.0.0.1".
  static TestPki create(const std::vector<std::string>& server_names);
};

}  // namespace qt::capital::testing
