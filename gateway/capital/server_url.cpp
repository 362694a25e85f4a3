#include "gateway/capital/server_url.hpp"

#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>
#include <charconv>

#include "absl/strings/ascii.h"
#include "fmt/format.h"

namespace qt::capital {

absl::StatusOr<ServerUrl> parse_server_url(std::string_view url, std::string_view tls_scheme,
                                           std::string_view plain_scheme) {
  const auto parsed = boost::urls::parse_uri(url);
  if (!parsed) {
    return absl::InvalidArgumentError(
        fmt::format("not an absolute URL (expected {}://host[:port][/path])", tls_scheme));
  }
  const boost::urls::url_view& u = *parsed;
  ServerUrl out;
  const std::string scheme =
      absl::AsciiStrToLower(absl::string_view(u.scheme().data(), u.scheme().size()));
  if (scheme == tls_scheme) {
    out.tls = true;
    out.port = 443;
  } else if (scheme == plain_scheme) {
    out.tls = false;
    out.port = 80;
  } else {
    return absl::InvalidArgumentError(
        fmt::format("scheme '{}' is not {} or {}", scheme, tls_scheme, plain_scheme));
  }
  if (u.has_userinfo()) {
    return absl::InvalidArgumentError("credentials in the URL are not accepted");
  }
  std::string host(u.encoded_host().data(), u.encoded_host().size());
  if (!host.empty() && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (host.empty()) return absl::InvalidArgumentError("the URL has no host");
  out.host = absl::AsciiStrToLower(host);
  if (u.has_port()) {
    const std::string_view text(u.port().data(), u.port().size());
    int port = 0;
    const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), port);
    if (ec != std::errc() || ptr != text.data() + text.size() || port <= 0 || port > 65535) {
      return absl::InvalidArgumentError(fmt::format("port '{}' is invalid", text));
    }
    out.port = static_cast<uint16_t>(port);
  }
  out.path.assign(u.encoded_path().data(), u.encoded_path().size());
  if (u.has_query()) out.query.emplace(u.encoded_query().data(), u.encoded_query().size());
  out.has_fragment = u.has_fragment();
  return out;
}

std::string url_authority(std::string_view host, uint16_t port, bool tls) {
  const bool ipv6 = host.find(':') != std::string_view::npos;
  std::string out = ipv6 ? fmt::format("[{}]", host) : std::string(host);
  if (port != (tls ? 443 : 80)) out += fmt::format(":{}", port);
  return out;
}

}  // namespace qt::capital
