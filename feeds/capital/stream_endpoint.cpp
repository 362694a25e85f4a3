#include "feeds/capital/stream_endpoint.hpp"

#include <boost/url/parse.hpp>
#include <charconv>

#include "absl/strings/ascii.h"
#include "fmt/format.h"

namespace qt::capital {
namespace {

bool default_port(const StreamEndpoint& e) {
  return e.port == (e.tls ? 443 : 80);
}

}  // namespace

std::string StreamEndpoint::host_header() const {
  const bool ipv6 = host.find(':') != std::string::npos;
  std::string out = ipv6 ? "[" + host + "]" : host;
  if (!default_port(*this)) out += fmt::format(":{}", port);
  return out;
}

std::string StreamEndpoint::to_string() const {
  return fmt::format("{}://{}{}", tls ? "wss" : "ws", host_header(), target);
}

absl::StatusOr<StreamEndpoint> parse_stream_url(std::string_view url) {
  const auto parsed = boost::urls::parse_uri(url);
  if (!parsed) {
    return absl::InvalidArgumentError("stream URL: not an absolute URL (expected wss://host/path)");
  }
  const boost::urls::url_view& u = *parsed;
  StreamEndpoint endpoint;
  const std::string scheme =
      absl::AsciiStrToLower(absl::string_view(u.scheme().data(), u.scheme().size()));
  if (scheme == "wss") {
    endpoint.tls = true;
    endpoint.port = 443;
  } else if (scheme == "ws") {
    endpoint.tls = false;
    endpoint.port = 80;
  } else {
    return absl::InvalidArgumentError(
        fmt::format("stream URL: scheme '{}' is not wss or ws", scheme));
  }
  if (u.has_userinfo()) {
    return absl::InvalidArgumentError("stream URL: credentials in the URL are not accepted");
  }
  if (u.has_fragment()) return absl::InvalidArgumentError("stream URL: has a fragment");
  std::string host(u.encoded_host().data(), u.encoded_host().size());
  if (!host.empty() && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (host.empty()) return absl::InvalidArgumentError("stream URL: no host");
  endpoint.host = absl::AsciiStrToLower(host);
  if (u.has_port()) {
    const std::string_view text(u.port().data(), u.port().size());
    int port = 0;
    const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), port);
    if (ec != std::errc() || ptr != text.data() + text.size() || port <= 0 || port > 65535) {
      return absl::InvalidArgumentError(fmt::format("stream URL: port '{}' is invalid", text));
    }
    endpoint.port = static_cast<uint16_t>(port);
  }
  std::string target(u.encoded_path().data(), u.encoded_path().size());
  if (target.empty()) target = "/";
  if (u.has_query()) {
    target += '?';
    target.append(u.encoded_query().data(), u.encoded_query().size());
  }
  endpoint.target = std::move(target);
  return endpoint;
}

}  // namespace qt::capital
