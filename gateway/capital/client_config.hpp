// Configuration of the Capital.com REST client, read from the seed's environment names.
//
// Names (seed, honoured as is):
//   CAPITAL_API_URL       live REST URL    default https://api-capital.backend-capital.com
//   CAPITAL_DEMO_URL      demo REST URL    default https://demo-api-capital.backend-capital.com
//   CAPITAL_API_KEY       API key          (secret; or CAPITAL_API_KEY_FILE)
//   CAPITAL_PASSWORD      API-key password (secret; or CAPITAL_PASSWORD_FILE)
//   CAPITAL_IDENTIFIER    login e-mail     (treated as a secret; or CAPITAL_IDENTIFIER_FILE)
//   API_TIMEOUT           seconds per request attempt, default 30 (fractions allowed)
//   MAX_RETRIES           retries of a request that is safe to repeat, default 3
//   CONNECTION_POOL_SIZE  keep-alive TLS connections, default 10
// Additions:
//   CAPITAL_ENV           demo (default) | live; `--live` on the command line does the same
//   CAPITAL_STREAM_URL    default wss://api-streaming-capital.backend-capital.com/connect
//   CAPITAL_ENCRYPTED_PASSWORD  true: log in with the RSA encrypted-password flow
//   CAPITAL_CA_FILE       PEM file of CAs to trust instead of the system store (tests, proxies)
//   CAPITAL_TLS_INSECURE_SKIP_VERIFY  true: do not verify the server certificate. Demo only,
//                         logged as a warning at every connection pool start. Never for live.
//   CAPITAL_PING_INTERVAL seconds between keep-alive pings of an idle session, default 300
//
// A URL without a path gets the API base path /api/v1; http:// is accepted for the demo
// environment only (local simulator, tests). A *_FILE variable names a file whose content,
// trimmed of surrounding white space, is the value (the Docker/Kubernetes secrets convention);
// setting both NAME and NAME_FILE is an error.
//
// Secrets are held in `Secret`, which prints as "********" through fmt, spdlog and iostreams;
// only code that puts them on the wire calls reveal(). Errors never quote a secret's value.
//
// Used at start-up; allocates freely; no threads.
#pragma once

#include <chrono>
#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "fmt/format.h"

namespace qt::capital {

inline constexpr std::string_view kLiveRestUrl = "https://api-capital.backend-capital.com";
inline constexpr std::string_view kDemoRestUrl = "https://demo-api-capital.backend-capital.com";
inline constexpr std::string_view kStreamUrl =
    "wss://api-streaming-capital.backend-capital.com/connect";
inline constexpr std::string_view kApiBasePath = "/api/v1";
inline constexpr std::string_view kMaskedSecret = "********";

// A credential. Deliberately has no implicit conversion to text: printing it (fmt, spdlog,
// operator<<, gtest) shows kMaskedSecret; reveal() is for the code that sends it.
class Secret {
 public:
  Secret() = default;
  explicit Secret(std::string value) : value_(std::move(value)) {}

  const std::string& reveal() const { return value_; }
  bool empty() const { return value_.empty(); }
  // "********" when set, "<unset>" when empty.
  std::string_view masked() const { return value_.empty() ? "<unset>" : kMaskedSecret; }

  friend bool operator==(const Secret&, const Secret&) = default;
  friend std::ostream& operator<<(std::ostream& out, const Secret& s) { return out << s.masked(); }

 private:
  std::string value_;
};

enum class CapitalEnvironment : uint8_t { kDemo, kLive };
std::string_view to_string(CapitalEnvironment environment);

// A parsed REST base URL.
struct RestEndpoint {
  bool tls = true;   // https (false only for http:// in the demo environment)
  std::string host;  // lower case, no brackets
  uint16_t port = 443;
  std::string base_path{kApiBasePath};  // no trailing '/'

  // "https://host[:port]/api/v1", the port shown only when not the scheme's default.
  std::string to_string() const;
};

// Parses "https://host[:port][/base/path]" with Boost.URL. Rejects other schemes, user info,
// queries and fragments. An empty or "/" path becomes /api/v1.
absl::StatusOr<RestEndpoint> parse_rest_url(std::string_view url);

// Client-side copies of the broker's published limits (capital-api.md §7). A request waits at
// most `max_wait` for its slot; beyond that it is refused with ResourceExhausted.
struct RateLimitConfig {
  int requests_per_second = 10;                   // all requests of this user
  std::chrono::milliseconds order_spacing{100};   // POST /positions and POST /workingorders
  std::chrono::milliseconds login_spacing{1000};  // POST /session
  int orders_per_hour = 1000;                     // demo only; 0 = no hourly limit (live)
  // Added to each window, so that jitter between here and the broker cannot bunch two
  // requests into one of the broker's windows.
  std::chrono::milliseconds safety_margin{20};
  std::chrono::milliseconds max_wait{2000};
  // After a 429 the limited class stops for this long, doubled per consecutive 429, capped.
  std::chrono::milliseconds backoff_after_429{1000};
  std::chrono::milliseconds max_backoff_after_429{30000};
};

struct CapitalClientConfig {
  CapitalEnvironment environment = CapitalEnvironment::kDemo;
  std::string live_url{kLiveRestUrl};
  std::string demo_url{kDemoRestUrl};
  std::string stream_url{kStreamUrl};

  Secret api_key;
  Secret identifier;
  Secret password;
  bool encrypted_password = false;

  std::chrono::milliseconds api_timeout{30000};  // one attempt: connect, TLS, write and read
  int max_retries = 3;
  int connection_pool_size = 10;

  bool tls_verify = true;  // false only with CAPITAL_TLS_INSECURE_SKIP_VERIFY, demo only
  std::string ca_file;     // empty = the system CA store
  // PEM text of CAs to trust, set in code (e.g. the embedded simulator's certificate); with
  // ca_file, both are trusted. Not read from the environment.
  std::string ca_pem;

  std::chrono::seconds ping_interval{300};       // session idle expiry is 10 min
  std::chrono::seconds connection_max_idle{30};  // an idle pooled connection older is reopened
  std::chrono::milliseconds retry_base_delay{200};
  std::chrono::milliseconds retry_max_delay{5000};
  RateLimitConfig rate_limits;

  bool is_live() const { return environment == CapitalEnvironment::kLive; }
  const std::string& rest_url() const { return is_live() ? live_url : demo_url; }
  bool has_credentials() const {
    return !api_key.empty() && !identifier.empty() && !password.empty();
  }
};

// Reads the variables above from `environment` ("NAME=value" strings, e.g. qt's
// process_environment()). `live_flag` is the command line's --live. Every problem is reported
// at once, one per line, each starting with the variable's name; no line quotes a secret.
absl::StatusOr<CapitalClientConfig> capital_config_from_env(
    const std::vector<std::string>& environment, bool live_flag);

// Checks a config built in code (tests, the simulator wiring) with the same rules as
// capital_config_from_env: URLs parse, http:// and insecure TLS only for demo, ranges.
absl::Status validate(const CapitalClientConfig& config);

// The effective configuration, one "name = value" per line, secrets as "********"/"<unset>".
std::string describe_masked(const CapitalClientConfig& config);

}  // namespace qt::capital

template <>
struct fmt::formatter<qt::capital::Secret> : fmt::formatter<std::string_view> {
  template <typename FormatContext>
  auto format(const qt::capital::Secret& secret, FormatContext& ctx) const {
    return fmt::formatter<std::string_view>::format(secret.masked(), ctx);
  }
};
