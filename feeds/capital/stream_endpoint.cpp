#include "feeds/capital/stream_endpoint.hpp"

#include "absl/strings/str_cat.h"
#include "fmt/format.h"
#include "gateway/capital/server_url.hpp"

namespace qt::capital {

std::string StreamEndpoint::host_header() const {
  return url_authority(host, port, tls);
}

std::string StreamEndpoint::to_string() const {
  return fmt::format("{}://{}{}", tls ? "wss" : "ws", host_header(), target);
}

absl::StatusOr<StreamEndpoint> parse_stream_url(std::string_view url) {
  absl::StatusOr<ServerUrl> server = parse_server_url(url, "wss", "ws");
  if (!server.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("stream URL: ", server.status().message()));
  }
  if (server->has_fragment) return absl::InvalidArgumentError("stream URL: has a fragment");
  StreamEndpoint endpoint;
  endpoint.tls = server->tls;
  endpoint.host = std::move(server->host);
  endpoint.port = server->port;
  endpoint.target = server->path.empty() ? "/" : std::move(server->path);
  if (server->query.has_value()) endpoint.target += '?' + *server->query;
  return endpoint;
}

}  // namespace qt::capital
