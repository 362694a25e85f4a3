#include "app/capital_connection.hpp"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <thread>

#include "sim/capital_simulator.hpp"

namespace qt {

CapitalConnection::~CapitalConnection() {
  rest_.reset();
  if (simulator_) simulator_->stop();
  if (!ca_file_to_remove_.empty()) std::remove(ca_file_to_remove_.c_str());
}

absl::StatusOr<std::unique_ptr<CapitalConnection>> CapitalConnection::open(
    const std::vector<std::string>& environment, bool live, uint64_t sim_seed,
    double sim_quotes_per_second) {
  absl::StatusOr<capital::CapitalClientConfig> config =
      capital::capital_config_from_env(environment, live);
  if (!config.ok()) return config.status();
  std::unique_ptr<CapitalConnection> connection(new CapitalConnection());
  connection->config_ = std::move(*config);
  capital::CapitalClientConfig& cfg = connection->config_;

  if (!cfg.has_credentials()) {
    if (cfg.is_live()) {
      return absl::FailedPreconditionError(
          "live environment requested but CAPITAL_API_KEY, CAPITAL_IDENTIFIER and "
          "CAPITAL_PASSWORD are not all set");
    }
    // No credentials: run against the built-in simulator, through the same client code.
    sim::SimOptions options = sim::SimOptions::embedded();
    options.seed = sim_seed;
    options.quotes_per_second = sim_quotes_per_second;
    char ca_path[] = "/tmp/quanttrading-sim-ca-XXXXXX";
    const int fd = ::mkstemp(ca_path);
    if (fd < 0) return absl::InternalError("cannot create a temporary CA file in /tmp");
    ::close(fd);
    options.write_ca_file = ca_path;
    connection->ca_file_to_remove_ = ca_path;
    connection->simulator_ = std::make_unique<sim::CapitalSimulator>(options);
    try {
      connection->simulator_->start();
    } catch (const std::exception& e) {
      return absl::InternalError(std::string("cannot start the built-in simulator: ") + e.what());
    }
    sim::CapitalSimulator& simulator = *connection->simulator_;
    cfg.environment = capital::CapitalEnvironment::kDemo;
    cfg.demo_url = simulator.rest_url();
    cfg.stream_url = simulator.stream_url();
    cfg.ca_file = ca_path;
    cfg.tls_verify = true;
    cfg.api_key = capital::Secret(options.credentials.api_key);
    cfg.identifier = capital::Secret(options.credentials.identifier);
    cfg.password = capital::Secret(options.credentials.password);
    if (absl::Status valid = capital::validate(cfg); !valid.ok()) return valid;
    spdlog::warn(
        "no Capital.com credentials configured: running against the built-in "
        "Capital.com simulator at {} (TLS, certificate generated at start); set "
        "CAPITAL_API_KEY, CAPITAL_IDENTIFIER and CAPITAL_PASSWORD to trade on the demo",
        simulator.rest_url());
  } else if (cfg.is_live()) {
    spdlog::warn("LIVE environment: orders go to the real market at {}", cfg.rest_url());
  }
  absl::StatusOr<std::unique_ptr<capital::CapitalRestClient>> rest =
      capital::CapitalRestClient::create(cfg);
  if (!rest.ok()) return rest.status();
  connection->rest_ = std::move(*rest);
  return connection;
}

absl::StatusOr<std::unique_ptr<capital::CapitalStreamClient>> CapitalConnection::make_stream(
    std::vector<capital::EpicInstrument> subscriptions, QuoteRing& ring, Doorbell* doorbell,
    std::function<void()> on_reconnected) {
  absl::StatusOr<capital::StreamConfig> stream_config = capital::stream_config_from(config_);
  if (!stream_config.ok()) return stream_config.status();
  capital::CapitalSession& session = rest_->session();
  capital::StreamCallbacks callbacks;
  callbacks.tokens = [&session]() -> std::optional<capital::StreamTokens> {
    const capital::CapitalSession::Credentials credentials = session.credentials();
    if (!credentials.valid()) return std::nullopt;
    return capital::StreamTokens{credentials.tokens->cst, credentials.tokens->security_token,
                                 credentials.epoch};
  };
  callbacks.on_session_invalid = [&session](uint64_t epoch) {
    if (absl::Status status = session.relogin(epoch); !status.ok()) {
      spdlog::error("stream: re-login failed: {}", std::string(status.message()));
    }
  };
  callbacks.on_reconnected = std::move(on_reconnected);
  callbacks.on_thread_start = [] { pthread_setname_np(pthread_self(), "qt-stream"); };
  return capital::CapitalStreamClient::create(std::move(*stream_config), std::move(subscriptions),
                                              ring, std::move(callbacks), doorbell);
}

absl::StatusOr<StreamSample> CapitalConnection::sample_quotes(const InstrumentSpec& spec,
                                                              const std::string& epic,
                                                              double seconds) {
  auto ring = std::make_unique<QuoteRing>();
  absl::StatusOr<std::unique_ptr<capital::CapitalStreamClient>> stream =
      make_stream({{epic, spec}}, *ring, nullptr);
  if (!stream.ok()) return stream.status();
  (*stream)->start();
  StreamSample sample;
  const auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000));
  while (std::chrono::steady_clock::now() < deadline) {
    ring->drain([&](const Quote& q) {
      ++sample.quotes;
      sample.last_bid = q.bid;
      sample.last_ask = q.ask;
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  const capital::StreamStats stats = (*stream)->stats();
  (*stream)->stop();
  if (sample.quotes == 0 && stats.connects == 0) {
    return absl::UnavailableError("stream never connected (" +
                                  std::to_string(stats.connect_failures) + " failed attempts)");
  }
  return sample;
}

std::string CapitalConnection::description() const {
  if (simulator_) return "the built-in Capital.com simulator at " + simulator_->rest_url();
  return config_.rest_url();
}

}  // namespace qt
