#include "gateway/capital/client_config.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "fmt/format.h"
#include "tests/capital_client/log_capture.hpp"

namespace qt::capital {
namespace {

constexpr const char* kApiKey = "ak-5f2b9c1e7d";
constexpr const char* kPassword = "Pa55-w0rd!secret";
constexpr const char* kIdentifier = "trader@example.com";

class TempFile {
 public:
  explicit TempFile(const std::string& content) {
    static std::atomic<int> counter{0};
    path_ = ::testing::TempDir() + "qt_capital_config_" + std::to_string(::getpid()) + "_" +
            std::to_string(counter++);
    std::ofstream(path_, std::ios::binary) << content;
  }
  ~TempFile() { std::remove(path_.c_str()); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::string error_of(const std::vector<std::string>& env, bool live = false) {
  const absl::StatusOr<CapitalClientConfig> config = capital_config_from_env(env, live);
  EXPECT_FALSE(config.ok());
  if (config.ok()) return {};
  EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(config.status().message());
}

TEST(CapitalClientConfig, DefaultsAreDemoWithTheBrokersDocumentedHosts) {
  const absl::StatusOr<CapitalClientConfig> config = capital_config_from_env({}, false);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->environment, CapitalEnvironment::kDemo);
  EXPECT_EQ(config->rest_url(), "https://demo-api-capital.backend-capital.com");
  EXPECT_EQ(config->live_url, "https://api-capital.backend-capital.com");
  EXPECT_EQ(config->stream_url, "wss://api-streaming-capital.backend-capital.com/connect");
  EXPECT_EQ(config->api_timeout, std::chrono::seconds(30));
  EXPECT_EQ(config->max_retries, 3);
  EXPECT_EQ(config->connection_pool_size, 10);
  EXPECT_TRUE(config->tls_verify);
  EXPECT_TRUE(config->ca_file.empty());
  EXPECT_EQ(config->rate_limits.orders_per_hour, 1000);
  EXPECT_FALSE(config->has_credentials());
}

TEST(CapitalClientConfig, ReadsTheSeedNames) {
  const absl::StatusOr<CapitalClientConfig> config = capital_config_from_env(
      {"CAPITAL_API_URL=https://live.example.com", "CAPITAL_DEMO_URL=https://demo.example.com:8443",
       std::string("CAPITAL_API_KEY=") + kApiKey, std::string("CAPITAL_PASSWORD=") + kPassword,
       std::string("CAPITAL_IDENTIFIER=") + kIdentifier, "API_TIMEOUT=12.5", "MAX_RETRIES=5",
       "CONNECTION_POOL_SIZE=4", "UNRELATED=1"},
      false);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->live_url, "https://live.example.com");
  EXPECT_EQ(config->rest_url(), "https://demo.example.com:8443");
  EXPECT_EQ(config->api_key.reveal(), kApiKey);
  EXPECT_EQ(config->password.reveal(), kPassword);
  EXPECT_EQ(config->identifier.reveal(), kIdentifier);
  EXPECT_EQ(config->api_timeout, std::chrono::milliseconds(12'500));
  EXPECT_EQ(config->max_retries, 5);
  EXPECT_EQ(config->connection_pool_size, 4);
  EXPECT_TRUE(config->has_credentials());
}

TEST(CapitalClientConfig, SecretsComeFromFilesTrimmed) {
  TempFile key(std::string("  ") + kApiKey + "\n");
  TempFile password(std::string(kPassword) + "\r\n");
  TempFile identifier(std::string(kIdentifier) + "\n\n");
  const absl::StatusOr<CapitalClientConfig> config = capital_config_from_env(
      {"CAPITAL_API_KEY_FILE=" + key.path(), "CAPITAL_PASSWORD_FILE=" + password.path(),
       "CAPITAL_IDENTIFIER_FILE=" + identifier.path()},
      false);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->api_key.reveal(), kApiKey);
  EXPECT_EQ(config->password.reveal(), kPassword);
  EXPECT_EQ(config->identifier.reveal(), kIdentifier);
}

TEST(CapitalClientConfig, ValueAndFileTogetherIsAnErrorThatQuotesNeither) {
  TempFile password(kPassword);
  const std::string error = error_of(
      {std::string("CAPITAL_PASSWORD=") + kPassword, "CAPITAL_PASSWORD_FILE=" + password.path()});
  EXPECT_NE(error.find("both CAPITAL_PASSWORD and CAPITAL_PASSWORD_FILE"), std::string::npos)
      << error;
  EXPECT_EQ(error.find(kPassword), std::string::npos);
}

TEST(CapitalClientConfig, UnreadableOrEmptySecretFileIsNamed) {
  TempFile empty("  \n");
  const std::string error = error_of(
      {"CAPITAL_API_KEY_FILE=/nonexistent/qt/key", "CAPITAL_PASSWORD_FILE=" + empty.path()});
  EXPECT_NE(error.find("CAPITAL_API_KEY_FILE: cannot read '/nonexistent/qt/key'"),
            std::string::npos)
      << error;
  EXPECT_NE(error.find("CAPITAL_PASSWORD_FILE: '" + empty.path() + "' is empty"), std::string::npos)
      << error;
}

TEST(CapitalClientConfig, LiveNeedsTheFlagOrCapitalEnv) {
  auto by_flag = capital_config_from_env({}, true);
  ASSERT_TRUE(by_flag.ok()) << by_flag.status();
  EXPECT_EQ(by_flag->environment, CapitalEnvironment::kLive);
  EXPECT_EQ(by_flag->rest_url(), "https://api-capital.backend-capital.com");
  EXPECT_EQ(by_flag->rate_limits.orders_per_hour, 0) << "the hourly cap is demo's";

  auto by_env = capital_config_from_env({"CAPITAL_ENV=LIVE"}, false);
  ASSERT_TRUE(by_env.ok()) << by_env.status();
  EXPECT_EQ(by_env->environment, CapitalEnvironment::kLive);

  auto demo = capital_config_from_env({"CAPITAL_ENV=demo"}, false);
  ASSERT_TRUE(demo.ok());
  EXPECT_EQ(demo->environment, CapitalEnvironment::kDemo);
}

TEST(CapitalClientConfig, ContradictoryOrUnknownEnvironmentIsRejected) {
  EXPECT_NE(error_of({"CAPITAL_ENV=demo"}, true).find("contradicts --live"), std::string::npos);
  EXPECT_NE(error_of({"CAPITAL_ENV=paper"}).find("CAPITAL_ENV: 'paper' is not demo or live"),
            std::string::npos);
}

TEST(CapitalClientConfig, BadNumbersAreReportedTogether) {
  const std::string error =
      error_of({"API_TIMEOUT=0", "MAX_RETRIES=many", "CONNECTION_POOL_SIZE=1000"});
  EXPECT_NE(error.find("API_TIMEOUT: 0 s is outside (0, 600]"), std::string::npos) << error;
  EXPECT_NE(error.find("MAX_RETRIES: 'many' is not an integer"), std::string::npos) << error;
  EXPECT_NE(error.find("CONNECTION_POOL_SIZE: 1000 is outside [1, 256]"), std::string::npos)
      << error;
}

TEST(CapitalClientConfig, UrlsAreParsedWithTheApiBasePath) {
  auto plain = parse_rest_url("https://demo-api-capital.backend-capital.com");
  ASSERT_TRUE(plain.ok());
  EXPECT_TRUE(plain->tls);
  EXPECT_EQ(plain->host, "demo-api-capital.backend-capital.com");
  EXPECT_EQ(plain->port, 443);
  EXPECT_EQ(plain->base_path, "/api/v1");
  EXPECT_EQ(plain->to_string(), "https://demo-api-capital.backend-capital.com/api/v1");

  auto local = parse_rest_url("http://127.0.0.1:8080/api/v1/");
  ASSERT_TRUE(local.ok());
  EXPECT_FALSE(local->tls);
  EXPECT_EQ(local->port, 8080);
  EXPECT_EQ(local->base_path, "/api/v1");

  EXPECT_FALSE(parse_rest_url("ftp://host").ok());
  EXPECT_FALSE(parse_rest_url("https://user:pw@host").ok());
  EXPECT_FALSE(parse_rest_url("https://host/?a=b").ok());
  EXPECT_FALSE(parse_rest_url("not a url").ok());
  EXPECT_FALSE(parse_rest_url("https://host:99999").ok());
}

TEST(CapitalClientConfig, PlainHttpAndInsecureTlsAreForDemoOnly) {
  auto demo = capital_config_from_env(
      {"CAPITAL_DEMO_URL=http://localhost:9000", "CAPITAL_STREAM_URL=wss://127.0.0.1:9000/connect",
       "CAPITAL_TLS_INSECURE_SKIP_VERIFY=true"},
      false);
  ASSERT_TRUE(demo.ok()) << demo.status();
  EXPECT_FALSE(demo->tls_verify);

  const std::string error = error_of(
      {"CAPITAL_API_URL=http://localhost:9000", "CAPITAL_TLS_INSECURE_SKIP_VERIFY=1"}, true);
  EXPECT_NE(error.find("CAPITAL_API_URL: the live environment needs https://"), std::string::npos)
      << error;
  EXPECT_NE(error.find("CAPITAL_TLS_INSECURE_SKIP_VERIFY: refused for the live environment"),
            std::string::npos)
      << error;
}

// Issue 11: the demo account's credentials are real. In clear, or to a server whose certificate
// is not checked, they may go only to this machine (the simulator, tests).
TEST(CapitalClientConfig, PlainHttpAndInsecureTlsAreForLoopbackOnly) {
  std::string error = error_of({"CAPITAL_DEMO_URL=http://demo.example.com:9000"}, false);
  EXPECT_NE(error.find("CAPITAL_DEMO_URL: http:// sends the credentials in clear; allowed only to "
                       "a loopback address, not demo.example.com"),
            std::string::npos)
      << error;
  error = error_of({"CAPITAL_TLS_INSECURE_SKIP_VERIFY=true"}, false);  // the broker's own hosts
  EXPECT_NE(error.find("CAPITAL_TLS_INSECURE_SKIP_VERIFY: allowed only to a loopback address, not "
                       "demo-api-capital.backend-capital.com"),
            std::string::npos)
      << error;
  EXPECT_NE(error.find("(CAPITAL_STREAM_URL)"), std::string::npos) << error;
  error = error_of({"CAPITAL_STREAM_URL=ws://10.0.0.5:9000/connect"}, false);
  EXPECT_NE(error.find("CAPITAL_STREAM_URL: ws:// is allowed only to a loopback address"),
            std::string::npos)
      << error;
  EXPECT_TRUE(capital_config_from_env({"CAPITAL_DEMO_URL=http://127.0.0.2:9000",
                                       "CAPITAL_STREAM_URL=ws://[::1]:9000/connect"},
                                      false)
                  .ok());
}

TEST(CapitalClientConfig, DescribeMaskedNeverShowsSecrets) {
  auto config = capital_config_from_env(
      {std::string("CAPITAL_API_KEY=") + kApiKey, std::string("CAPITAL_PASSWORD=") + kPassword,
       std::string("CAPITAL_IDENTIFIER=") + kIdentifier},
      false);
  ASSERT_TRUE(config.ok());
  const std::string text = describe_masked(*config);
  EXPECT_EQ(text.find(kApiKey), std::string::npos) << text;
  EXPECT_EQ(text.find(kPassword), std::string::npos) << text;
  EXPECT_EQ(text.find(kIdentifier), std::string::npos) << text;
  EXPECT_NE(text.find("api_key = ********"), std::string::npos) << text;
  EXPECT_NE(text.find("password = ********"), std::string::npos) << text;
  EXPECT_NE(text.find("rest_url = https://demo-api-capital.backend-capital.com"), std::string::npos)
      << text;

  const std::string unset = describe_masked(CapitalClientConfig{});
  EXPECT_NE(unset.find("password = <unset>"), std::string::npos) << unset;
}

TEST(CapitalClientConfig, SecretsPrintMaskedThroughFmtSpdlogAndStreams) {
  const Secret secret(kPassword);
  EXPECT_EQ(fmt::format("{}", secret), "********");
  std::ostringstream out;
  out << secret;
  EXPECT_EQ(out.str(), "********");
  testing::LogCapture capture;
  spdlog::error("password is {}", secret);
  EXPECT_EQ(capture.text().find(kPassword), std::string::npos);
  EXPECT_NE(capture.text().find("password is ********"), std::string::npos);
}

}  // namespace
}  // namespace qt::capital
