// Router: which handler answers a method and a path, and what the server checks before it runs
// (the role a key needs, the Content-Type, the label under which the request is counted).
//
// Patterns are paths whose segments are literal or a parameter, `{name}`, that matches one
// non-empty segment: "/api/orders/{id}". Of the routes that match a request's method and path,
// the most specific wins (at the first segment where two patterns differ, a literal beats a
// parameter), so "/api/orders/open" and "/api/orders/{id}" coexist. HEAD is answered by the GET
// route unless a HEAD route exists. No route for the path: 404; routes for the path but not for
// the method: 405 with `Allow` listing them.
//
// Built on one thread before HttpServer takes it; immutable afterwards, so the server's I/O
// threads read it without locks. match() allocates only for the request's path parameters.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "gateway/http/api_keys.hpp"
#include "gateway/http/message.hpp"
#include "gateway/http/responder.hpp"
#include "gateway/http/websocket_session.hpp"

namespace qt::http {

// What the integrator says about a route besides its handler.
struct RouteOptions {
  Role min_role = Role::kPublic;  // kPublic: no key needed
  // The route's name in metrics and access logs; bounded cardinality, never the raw path.
  // Empty: the pattern ("/api/orders/{id}").
  std::string label;
  // Free-form name the admission step (rate limiter) reads, e.g. "trade"; empty: "default".
  std::string rate_limit_scope;
  // The request must say Content-Type: application/json, else 415 (checked before the handler).
  bool json_body = false;

  // Chainable, as GCC 12 warns about designated initializers that leave fields out:
  //   RouteOptions().with_role(Role::kTrade).with_rate_limit_scope("trade").with_json_body()
  RouteOptions& with_role(Role role) {
    min_role = role;
    return *this;
  }
  RouteOptions& with_label(std::string text) {
    label = std::move(text);
    return *this;
  }
  RouteOptions& with_rate_limit_scope(std::string scope) {
    rate_limit_scope = std::move(scope);
    return *this;
  }
  RouteOptions& with_json_body() {
    json_body = true;
    return *this;
  }
};

struct RouteInfo {
  Method method = Method::kGet;
  std::string pattern;
  std::string label;             // never empty
  std::string rate_limit_scope;  // never empty
  Role min_role = Role::kPublic;
  bool json_body = false;
  bool websocket = false;
};

// Runs on an I/O thread; must not block. May answer through the Responder at once or later,
// from any thread.
using Handler = std::function<void(const Request& request, Responder responder)>;

// The label of requests that matched no route (404, 405, and errors before routing).
inline constexpr std::string_view kUnmatchedRouteLabel = "unmatched";

struct RouteMatch {
  enum class Outcome : uint8_t { kFound, kNotFound, kMethodNotAllowed };
  Outcome outcome = Outcome::kNotFound;
  const RouteInfo* route = nullptr;  // kFound
  std::string allow;                 // kMethodNotAllowed: "DELETE, GET, HEAD"
};

class Router {
 public:
  Router();
  ~Router();
  Router(Router&&) noexcept;
  Router& operator=(Router&&) noexcept;

  // InvalidArgument for a pattern that is not "/" followed by segments (literal text without
  // '{', '}', '?', '#', '%'; or `{name}` with name [A-Za-z0-9_]+, each name once), or for
  // Method::kOther; AlreadyExists when the method has a route of the same shape (equal up to
  // parameter names).
  absl::Status add(Method method, std::string_view pattern, RouteOptions options, Handler handler);
  // A GET route that answers a WebSocket upgrade (426 to a plain GET).
  absl::Status add_websocket(std::string_view pattern, RouteOptions options,
                             WebSocketHandler handler);

  // Looks the route up. When found and `request` is given, the request's route and decoded
  // path parameters are set.
  RouteMatch match(Method method, std::string_view path, Request* request = nullptr) const;

  // The handlers of a route returned by match() (the other one is empty).
  const Handler& handler(const RouteInfo& route) const;
  const WebSocketHandler& websocket_handler(const RouteInfo& route) const;

  std::vector<const RouteInfo*> routes() const;

 private:
  struct Entry;
  absl::Status add_entry(Method method, std::string_view pattern, RouteOptions options,
                         Handler handler, WebSocketHandler websocket_handler);
  std::vector<std::unique_ptr<Entry>> entries_;
};

}  // namespace qt::http
