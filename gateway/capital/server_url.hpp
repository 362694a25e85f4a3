// The server part of the venue's URLs, parsed once for the REST client (https://, or http:// for
// local tests) and the market-data stream (wss://, or ws://): scheme, host and port. Boost.URL
// does the grammar. Plain values and pure functions; no I/O.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace qt::capital {

struct ServerUrl {
  bool tls = true;                   // the URL's scheme is `tls_scheme`
  std::string host;                  // lower case; an IPv6 literal without its brackets
  uint16_t port = 443;               // the URL's, or the scheme's default (443 or 80)
  std::string path;                  // encoded, as written; empty when the URL has none
  std::optional<std::string> query;  // encoded, without the '?'
  bool has_fragment = false;
};

// Accepts `tls_scheme` ("https", "wss") and `plain_scheme` ("http", "ws") in any case; refuses
// other schemes, user info, an empty host and a port outside 1..65535. Query and fragment are
// the caller's to accept or refuse.
absl::StatusOr<ServerUrl> parse_server_url(std::string_view url, std::string_view tls_scheme,
                                           std::string_view plain_scheme);

// host[:port] as the Host header and a URL write it: an IPv6 literal in brackets, the port only
// when it is not the scheme's default.
std::string url_authority(std::string_view host, uint16_t port, bool tls);

}  // namespace qt::capital
