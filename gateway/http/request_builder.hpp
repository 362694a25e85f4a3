// Internal to gateway/http: the one place that writes a Request's private fields — the
// connection's parser fills it from the wire, the router adds the route and its parameters,
// the server the addresses and the principal. Not for route handlers.
#pragma once

#include <string_view>

#include "gateway/http/message.hpp"

namespace qt::http {

class RequestBuilder {
 public:
  explicit RequestBuilder(Request& request) : request_(request) {}

  // Empties the request for the next one on the connection; keeps the buffers' capacity.
  void clear();
  // The request line. Returns false when the target is not origin-form ("/path?query") or
  // the request is larger than a Request can index (4 GiB).
  bool set_request_line(std::string_view method, std::string_view target, unsigned version);
  void add_header(std::string_view name, std::string_view value);
  std::string& body() { return request_.body_; }

  void add_path_param(std::string_view name, std::string value) {
    request_.path_params_.emplace_back(name, std::move(value));
  }
  void set_route(const RouteInfo* route) { request_.route_ = route; }
  void set_addresses(std::string peer, std::string client) {
    request_.peer_address_ = std::move(peer);
    request_.client_address_ = std::move(client);
  }
  void set_principal(Principal principal) { request_.principal_ = std::move(principal); }
  void set_connection_id(uint64_t id) { request_.connection_id_ = id; }

 private:
  Request::Span append(std::string_view text);
  Request& request_;
};

// Percent-decodes `text` into `out` ('+' as a space when `plus_is_space`). A '%' not followed by
// two hex digits is kept as it is.
void percent_decode(std::string_view text, bool plus_is_space, std::string& out);

}  // namespace qt::http
