// Route patterns and matching; see router.hpp.
#include "gateway/http/router.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "gateway/http/request_builder.hpp"

namespace qt::http {

namespace {
struct Segment {
  std::string text;  // the literal, or the parameter's name
  bool parameter = false;
};
using Segments = std::vector<Segment>;
}  // namespace

struct Router::Entry : RouteInfo {
  Segments segments;
  Handler handler;
  WebSocketHandler websocket_handler;
};

namespace {

bool is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

// Splits "/a/b" into {"a", "b"}; "/" into {}. The caller checked the leading '/'.
std::vector<std::string_view> split(std::string_view path) {
  std::vector<std::string_view> segments;
  if (path == "/") return segments;
  path.remove_prefix(1);
  while (true) {
    const std::size_t slash = path.find('/');
    segments.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return segments;
}

// Whether `path` matches `segments`, walking the path without allocating.
bool path_matches(const Segments& segments, std::string_view path) {
  if (path.empty() || path.front() != '/') return false;
  if (segments.empty()) return path == "/";
  std::string_view rest = path.substr(1);
  for (std::size_t i = 0; i < segments.size(); ++i) {
    const std::size_t slash = rest.find('/');
    const std::string_view part = rest.substr(0, slash);
    const bool last = i + 1 == segments.size();
    if (last != (slash == std::string_view::npos)) return false;
    if (segments[i].parameter ? part.empty() : part != segments[i].text) return false;
    if (!last) rest.remove_prefix(slash + 1);
  }
  return true;
}

// True when `a` is more specific than `b` (same length): at the first segment where one has a
// literal and the other a parameter, the literal wins.
bool more_specific(const Segments& a, const Segments& b) {
  for (std::size_t i = 0; i < a.size() && i < b.size(); ++i) {
    if (a[i].parameter != b[i].parameter) return !a[i].parameter;
  }
  return false;
}

bool same_shape(const Segments& a, const Segments& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i].parameter != b[i].parameter) return false;
    if (!a[i].parameter && a[i].text != b[i].text) return false;
  }
  return true;
}

}  // namespace

Router::Router() = default;
Router::~Router() = default;
Router::Router(Router&&) noexcept = default;
Router& Router::operator=(Router&&) noexcept = default;

absl::Status Router::add(Method method, std::string_view pattern, RouteOptions options,
                         Handler handler) {
  if (!handler) return absl::InvalidArgumentError(fmt::format("route {}: no handler", pattern));
  return add_entry(method, pattern, std::move(options), std::move(handler), {});
}

absl::Status Router::add_websocket(std::string_view pattern, RouteOptions options,
                                   WebSocketHandler handler) {
  if (!handler) return absl::InvalidArgumentError(fmt::format("route {}: no handler", pattern));
  return add_entry(Method::kGet, pattern, std::move(options), {}, std::move(handler));
}

absl::Status Router::add_entry(Method method, std::string_view pattern, RouteOptions options,
                               Handler handler, WebSocketHandler websocket_handler) {
  const auto invalid = [&](std::string_view why) {
    return absl::InvalidArgumentError(fmt::format("route pattern '{}': {}", pattern, why));
  };
  if (method == Method::kOther) return invalid("method must be a named one");
  if (pattern.empty() || pattern.front() != '/') return invalid("must start with '/'");
  auto entry = std::make_unique<Entry>();
  std::set<std::string_view> names;
  for (const std::string_view part : split(pattern)) {
    if (part.empty()) return invalid("has an empty segment");
    Segment segment;
    if (part.front() == '{') {
      const std::string_view name = part.substr(1, part.size() - 2);
      if (part.size() < 3 || part.back() != '}' ||
          !std::all_of(name.begin(), name.end(), is_name_char)) {
        return invalid("a parameter is written {name}, name of letters, digits and '_'");
      }
      if (!names.insert(name).second) return invalid("a parameter name is used twice");
      segment.text = std::string(name);
      segment.parameter = true;
    } else {
      if (part.find_first_of("{}?#%") != std::string_view::npos) {
        return invalid("a literal segment may not contain '{', '}', '?', '#' or '%'");
      }
      segment.text = std::string(part);
    }
    entry->segments.push_back(std::move(segment));
  }
  for (const auto& other : entries_) {
    if (other->method == method && same_shape(other->segments, entry->segments)) {
      return absl::AlreadyExistsError(fmt::format("route {} {}: conflicts with {} {}",
                                                  to_string(method), pattern,
                                                  to_string(other->method), other->pattern));
    }
  }
  entry->method = method;
  entry->pattern = std::string(pattern);
  entry->label = options.label.empty() ? entry->pattern : std::move(options.label);
  entry->rate_limit_scope =
      options.rate_limit_scope.empty() ? "default" : std::move(options.rate_limit_scope);
  entry->min_role = options.min_role;
  entry->json_body = options.json_body;
  entry->websocket = static_cast<bool>(websocket_handler);
  entry->handler = std::move(handler);
  entry->websocket_handler = std::move(websocket_handler);
  entries_.push_back(std::move(entry));
  return absl::OkStatus();
}

RouteMatch Router::match(Method method, std::string_view path, Request* request) const {
  const Entry* best = nullptr;
  const Entry* best_get = nullptr;  // for HEAD without a HEAD route
  bool path_known = false;
  for (const auto& entry : entries_) {
    if (!path_matches(entry->segments, path)) continue;
    path_known = true;
    const Entry** slot = entry->method == method                                    ? &best
                         : method == Method::kHead && entry->method == Method::kGet ? &best_get
                                                                                    : nullptr;
    if (slot && (*slot == nullptr || more_specific(entry->segments, (*slot)->segments))) {
      *slot = entry.get();
    }
  }
  if (best == nullptr) best = best_get;
  RouteMatch result;
  if (best == nullptr) {
    if (!path_known) return result;
    result.outcome = RouteMatch::Outcome::kMethodNotAllowed;
    std::set<std::string_view> methods;
    for (const auto& entry : entries_) {
      if (!path_matches(entry->segments, path)) continue;
      methods.insert(to_string(entry->method));
      if (entry->method == Method::kGet) methods.insert("HEAD");
    }
    for (const std::string_view name : methods) {
      if (!result.allow.empty()) result.allow += ", ";
      result.allow += name;
    }
    return result;
  }
  result.outcome = RouteMatch::Outcome::kFound;
  result.route = best;
  if (request != nullptr) {
    RequestBuilder builder(*request);
    builder.set_route(best);
    const std::vector<std::string_view> parts = split(path);
    for (std::size_t i = 0; i < best->segments.size(); ++i) {
      if (!best->segments[i].parameter) continue;
      std::string value;
      percent_decode(parts[i], false, value);
      builder.add_path_param(best->segments[i].text, std::move(value));
    }
  }
  return result;
}

const Handler& Router::handler(const RouteInfo& route) const {
  return static_cast<const Entry&>(route).handler;
}

const WebSocketHandler& Router::websocket_handler(const RouteInfo& route) const {
  return static_cast<const Entry&>(route).websocket_handler;
}

std::vector<const RouteInfo*> Router::routes() const {
  std::vector<const RouteInfo*> out;
  for (const auto& entry : entries_) out.push_back(entry.get());
  return out;
}

}  // namespace qt::http
