#include "gateway/capital/client_config.hpp"

#include <algorithm>
#include <boost/asio/ip/address_v4.hpp>
#include <boost/url/parse.hpp>
#include <charconv>
#include <cmath>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "gateway/capital/server_url.hpp"

namespace qt::capital {
namespace {

using Env = std::map<std::string, std::string, std::less<>>;
using Errors = std::vector<std::string>;

Env parse_environment(const std::vector<std::string>& environment) {
  Env env;
  for (const std::string& entry : environment) {
    const std::size_t eq = entry.find('=');
    if (eq == std::string::npos || eq == 0) continue;
    env[entry.substr(0, eq)] = entry.substr(eq + 1);
  }
  return env;
}

std::optional<std::string> lookup(const Env& env, std::string_view name) {
  const auto it = env.find(name);
  if (it == env.end()) return std::nullopt;
  return it->second;
}

// NAME or NAME_FILE. The value of a secret is never quoted in an error.
std::optional<std::string> read_value_or_file(const Env& env, const std::string& name,
                                              Errors& errors) {
  const std::optional<std::string> direct = lookup(env, name);
  const std::optional<std::string> file = lookup(env, name + "_FILE");
  if (direct && file) {
    errors.push_back(fmt::format("{}: both {} and {}_FILE are set; use one", name, name, name));
    return std::nullopt;
  }
  if (file) {
    std::ifstream in(*file, std::ios::binary);
    if (!in) {
      errors.push_back(fmt::format("{}_FILE: cannot read '{}'", name, *file));
      return std::nullopt;
    }
    std::stringstream content;
    content << in.rdbuf();
    const std::string text(absl::StripAsciiWhitespace(content.str()));
    if (text.empty()) {
      errors.push_back(fmt::format("{}_FILE: '{}' is empty", name, *file));
      return std::nullopt;
    }
    return text;
  }
  if (direct) return std::string(absl::StripAsciiWhitespace(*direct));
  return std::nullopt;
}

std::optional<bool> parse_bool(const std::string& text) {
  const std::string lower = absl::AsciiStrToLower(absl::StripAsciiWhitespace(text));
  if (lower == "1" || lower == "true" || lower == "yes" || lower == "on") return true;
  if (lower == "0" || lower == "false" || lower == "no" || lower == "off" || lower.empty()) {
    return false;
  }
  return std::nullopt;
}

void read_bool(const Env& env, std::string_view name, bool& out, Errors& errors) {
  const std::optional<std::string> text = lookup(env, name);
  if (!text) return;
  const std::optional<bool> value = parse_bool(*text);
  if (!value) {
    errors.push_back(fmt::format("{}: '{}' is not a boolean (true/false)", name, *text));
    return;
  }
  out = *value;
}

void read_int(const Env& env, std::string_view name, int low, int high, int& out, Errors& errors) {
  const std::optional<std::string> text = lookup(env, name);
  if (!text) return;
  const absl::string_view s = absl::StripAsciiWhitespace(*text);
  int value = 0;
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc() || ptr != s.data() + s.size() || s.empty()) {
    errors.push_back(fmt::format("{}: '{}' is not an integer", name, *text));
    return;
  }
  if (value < low || value > high) {
    errors.push_back(fmt::format("{}: {} is outside [{}, {}]", name, value, low, high));
    return;
  }
  out = value;
}

// Seconds, fractions allowed, within (0, high].
template <typename Duration>
void read_seconds(const Env& env, std::string_view name, double high, Duration& out,
                  Errors& errors) {
  const std::optional<std::string> text = lookup(env, name);
  if (!text) return;
  const std::string s(absl::StripAsciiWhitespace(*text));
  double value = 0;
  std::size_t used = 0;
  try {
    value = std::stod(s, &used);
  } catch (...) {
    used = 0;
  }
  if (used == 0 || used != s.size() || !std::isfinite(value)) {
    errors.push_back(fmt::format("{}: '{}' is not a number of seconds", name, *text));
    return;
  }
  if (value <= 0 || value > high) {
    errors.push_back(fmt::format("{}: {} s is outside (0, {}]", name, s, high));
    return;
  }
  out = std::chrono::duration_cast<Duration>(std::chrono::duration<double>(value));
  if (out.count() == 0) out = Duration(1);
}

// Plain http:// and unverified certificates send the demo account's real credentials in a form
// anyone on the path can read or intercept: allowed only towards this machine (the simulator,
// tests).
bool is_loopback_host(std::string_view host) {
  if (host == "localhost" || host == "::1" || host == "[::1]") return true;
  boost::system::error_code ec;
  const boost::asio::ip::address_v4 v4 = boost::asio::ip::make_address_v4(host, ec);
  return !ec && v4.is_loopback();
}

void check_url(std::string_view name, const std::string& url, bool live, bool tls_verify,
               Errors& errors) {
  const absl::StatusOr<RestEndpoint> endpoint = parse_rest_url(url);
  if (!endpoint.ok()) {
    errors.push_back(fmt::format("{}: {}", name, std::string(endpoint.status().message())));
    return;
  }
  if (live && !endpoint->tls) {
    errors.push_back(fmt::format("{}: the live environment needs https://", name));
  } else if (!endpoint->tls && !is_loopback_host(endpoint->host)) {
    errors.push_back(fmt::format(
        "{}: http:// sends the credentials in clear; allowed only to a loopback address, not {}",
        name, endpoint->host));
  }
  if (!live && !tls_verify && endpoint->tls && !is_loopback_host(endpoint->host)) {
    errors.push_back(fmt::format(
        "CAPITAL_TLS_INSECURE_SKIP_VERIFY: allowed only to a loopback address, not {} ({}): the "
        "credentials would go to whoever answers",
        endpoint->host, name));
  }
}

Errors validation_errors(const CapitalClientConfig& config) {
  Errors errors;
  check_url("CAPITAL_API_URL", config.live_url, true, config.tls_verify, errors);
  check_url("CAPITAL_DEMO_URL", config.demo_url, false, config.tls_verify, errors);
  {
    const auto parsed = boost::urls::parse_uri(config.stream_url);
    if (!parsed || (parsed->scheme() != "wss" && parsed->scheme() != "ws")) {
      errors.push_back("CAPITAL_STREAM_URL: must be a wss:// (or ws:// for tests) URL");
    } else if (config.is_live() && parsed->scheme() != "wss") {
      errors.push_back("CAPITAL_STREAM_URL: the live environment needs wss://");
    } else if (parsed->scheme() == "ws" && !is_loopback_host(std::string(parsed->host()))) {
      errors.push_back(
          fmt::format("CAPITAL_STREAM_URL: ws:// is allowed only to a loopback address, not {}",
                      std::string(parsed->host())));
    } else if (!config.is_live() && !config.tls_verify &&
               !is_loopback_host(std::string(parsed->host()))) {
      errors.push_back(fmt::format(
          "CAPITAL_TLS_INSECURE_SKIP_VERIFY: allowed only to a loopback address, not {} "
          "(CAPITAL_STREAM_URL)",
          std::string(parsed->host())));
    }
  }
  if (!config.tls_verify && config.is_live()) {
    errors.push_back(
        "CAPITAL_TLS_INSECURE_SKIP_VERIFY: refused for the live environment; certificate "
        "verification stays on against the live broker");
  }
  if (!config.ca_file.empty()) {
    std::ifstream in(config.ca_file);
    if (!in) errors.push_back(fmt::format("CAPITAL_CA_FILE: cannot read '{}'", config.ca_file));
  }
  if (config.api_timeout.count() <= 0) errors.push_back("API_TIMEOUT: must be > 0");
  if (config.max_retries < 0 || config.max_retries > 10) {
    errors.push_back("MAX_RETRIES: must be within [0, 10]");
  }
  if (config.connection_pool_size < 1 || config.connection_pool_size > 256) {
    errors.push_back("CONNECTION_POOL_SIZE: must be within [1, 256]");
  }
  if (config.ping_interval.count() <= 0 || config.ping_interval >= std::chrono::minutes(10)) {
    errors.push_back(
        "CAPITAL_PING_INTERVAL: must be > 0 and below the broker's 10-minute session expiry");
  }
  const RateLimitConfig& limits = config.rate_limits;
  if (limits.requests_per_second <= 0) errors.push_back("rate limit: requests_per_second <= 0");
  if (limits.orders_per_hour < 0) errors.push_back("rate limit: orders_per_hour < 0");
  return errors;
}

std::string join_lines(const Errors& errors) {
  std::string out;
  for (const std::string& e : errors) {
    if (!out.empty()) out += '\n';
    out += e;
  }
  return out;
}

}  // namespace

std::string_view to_string(CapitalEnvironment environment) {
  return environment == CapitalEnvironment::kLive ? "live" : "demo";
}

std::string RestEndpoint::to_string() const {
  return (tls ? "https://" : "http://") + url_authority(host, port, tls) + base_path;
}

absl::StatusOr<RestEndpoint> parse_rest_url(std::string_view url) {
  absl::StatusOr<ServerUrl> server = parse_server_url(url, "https", "http");
  if (!server.ok()) return server.status();
  if (server->query.has_value() || server->has_fragment) {
    return absl::InvalidArgumentError("the URL must not have a query or fragment");
  }
  RestEndpoint endpoint;
  endpoint.tls = server->tls;
  endpoint.host = std::move(server->host);
  endpoint.port = server->port;
  std::string& path = server->path;
  while (!path.empty() && path.back() == '/') path.pop_back();
  endpoint.base_path = path.empty() ? std::string(kApiBasePath) : path;
  return endpoint;
}

absl::Status validate(const CapitalClientConfig& config) {
  const Errors errors = validation_errors(config);
  if (errors.empty()) return absl::OkStatus();
  return absl::InvalidArgumentError(join_lines(errors));
}

absl::StatusOr<CapitalClientConfig> capital_config_from_env(
    const std::vector<std::string>& environment, bool live_flag) {
  const Env env = parse_environment(environment);
  Errors errors;
  CapitalClientConfig config;

  const std::optional<std::string> env_name = lookup(env, "CAPITAL_ENV");
  const std::string env_value =
      env_name ? absl::AsciiStrToLower(absl::StripAsciiWhitespace(*env_name)) : "";
  if (env_value.empty() || env_value == "demo") {
    if (env_value == "demo" && live_flag) {
      errors.push_back("CAPITAL_ENV: 'demo' contradicts --live; choose one");
    }
    config.environment = live_flag ? CapitalEnvironment::kLive : CapitalEnvironment::kDemo;
  } else if (env_value == "live") {
    config.environment = CapitalEnvironment::kLive;
  } else {
    errors.push_back(fmt::format("CAPITAL_ENV: '{}' is not demo or live", *env_name));
  }

  if (auto v = lookup(env, "CAPITAL_API_URL"))
    config.live_url = std::string(absl::StripAsciiWhitespace(*v));
  if (auto v = lookup(env, "CAPITAL_DEMO_URL"))
    config.demo_url = std::string(absl::StripAsciiWhitespace(*v));
  if (auto v = lookup(env, "CAPITAL_STREAM_URL"))
    config.stream_url = std::string(absl::StripAsciiWhitespace(*v));

  if (auto v = read_value_or_file(env, "CAPITAL_API_KEY", errors)) config.api_key = Secret(*v);
  if (auto v = read_value_or_file(env, "CAPITAL_IDENTIFIER", errors)) {
    config.identifier = Secret(*v);
  }
  if (auto v = read_value_or_file(env, "CAPITAL_PASSWORD", errors)) config.password = Secret(*v);
  read_bool(env, "CAPITAL_ENCRYPTED_PASSWORD", config.encrypted_password, errors);

  read_seconds(env, "API_TIMEOUT", 600.0, config.api_timeout, errors);
  read_int(env, "MAX_RETRIES", 0, 10, config.max_retries, errors);
  read_int(env, "CONNECTION_POOL_SIZE", 1, 256, config.connection_pool_size, errors);
  read_seconds(env, "CAPITAL_PING_INTERVAL", 599.0, config.ping_interval, errors);

  if (auto v = lookup(env, "CAPITAL_CA_FILE"))
    config.ca_file = std::string(absl::StripAsciiWhitespace(*v));
  bool insecure = false;
  read_bool(env, "CAPITAL_TLS_INSECURE_SKIP_VERIFY", insecure, errors);
  config.tls_verify = !insecure;

  if (config.is_live()) config.rate_limits.orders_per_hour = 0;  // the hourly cap is demo's

  if (errors.empty()) {
    Errors more = validation_errors(config);
    errors.insert(errors.end(), more.begin(), more.end());
  }
  if (!errors.empty()) return absl::InvalidArgumentError(join_lines(errors));
  return config;
}

std::string describe_masked(const CapitalClientConfig& config) {
  auto ms = [](std::chrono::milliseconds d) { return fmt::format("{} ms", d.count()); };
  std::string out;
  auto line = [&out](std::string_view name, std::string_view value) {
    out += fmt::format("{} = {}\n", name, value);
  };
  line("environment", to_string(config.environment));
  line("rest_url", config.rest_url());
  line("live_url (CAPITAL_API_URL)", config.live_url);
  line("demo_url (CAPITAL_DEMO_URL)", config.demo_url);
  line("stream_url", config.stream_url);
  line("api_key", config.api_key.masked());
  line("identifier", config.identifier.masked());
  line("password", config.password.masked());
  line("encrypted_password", config.encrypted_password ? "true" : "false");
  line("api_timeout", ms(config.api_timeout));
  line("max_retries", fmt::format("{}", config.max_retries));
  line("connection_pool_size", fmt::format("{}", config.connection_pool_size));
  line("tls_verify", config.tls_verify ? "true" : "FALSE (insecure: certificates not verified)");
  line("ca_file", config.ca_file.empty() && config.ca_pem.empty()
                      ? "<system store>"
                      : (config.ca_file.empty() ? "<in-memory PEM>" : config.ca_file));
  line("ping_interval", fmt::format("{} s", config.ping_interval.count()));
  const RateLimitConfig& r = config.rate_limits;
  line("rate_limit.requests_per_second", fmt::format("{}", r.requests_per_second));
  line("rate_limit.order_spacing", ms(r.order_spacing));
  line("rate_limit.login_spacing", ms(r.login_spacing));
  line("rate_limit.orders_per_hour",
       r.orders_per_hour == 0 ? "unlimited" : fmt::format("{}", r.orders_per_hour));
  line("rate_limit.max_wait", ms(r.max_wait));
  return out;
}

}  // namespace qt::capital
