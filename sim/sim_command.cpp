#include "sim/sim_command.hpp"

#include <signal.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <cstdio>
#include <ctime>
#include <exception>

#include "sim/capital_simulator.hpp"

namespace qt::sim {

CLI::App* add_sim_subcommand(CLI::App& app, SimOptions& o) {
  CLI::App* sim = app.add_subcommand(
      "sim", "run the Capital.com-compatible simulator (REST + WebSocket) on its own");
  o.port = 8443;

  sim->add_option("--bind", o.bind_address, "address to listen on")->capture_default_str();
  sim->add_option("--port", o.port, "port (0 = any free port)")->capture_default_str();
  sim->add_flag_callback(
      "--tls", [&o] { o.tls = SimOptions::TlsMode::kGenerated; },
      "serve TLS with a self-signed certificate generated at start (CN/SAN localhost, 127.0.0.1)");
  sim->add_option_function<std::string>(
         "--cert",
         [&o](const std::string& path) {
           o.cert_file = path;
           o.tls = SimOptions::TlsMode::kFiles;
         },
         "TLS certificate chain (PEM); needs --key")
      ->check(CLI::ExistingFile);
  sim->add_option("--key", o.key_file, "TLS private key (PEM)")->check(CLI::ExistingFile);
  sim->add_option("--write-ca", o.write_ca_file,
                  "with --tls: write the generated certificate here (a client's ca_file)");

  sim->add_option("--api-key", o.credentials.api_key, "accepted X-CAP-API-KEY")
      ->capture_default_str();
  sim->add_option("--identifier", o.credentials.identifier, "accepted login identifier")
      ->capture_default_str();
  sim->add_option("--password", o.credentials.password, "accepted login password");
  sim->add_option_function<double>(
         "--session-idle-seconds",
         [&o](double s) {
           o.session_idle_timeout = std::chrono::milliseconds(static_cast<int64_t>(s * 1000));
         },
         "tokens expire after this long unused (default 600)")
      ->check(CLI::PositiveNumber);

  sim->add_option("--seed", o.seed, "seed of prices, ids and fault rolls")->capture_default_str();
  sim->add_option("--quotes-per-second", o.quotes_per_second,
                  "price steps (and quotes per subscribed market) per second")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  sim->add_option("--volatility-scale", o.volatility_scale, "multiplies every market's volatility")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  sim->add_flag("--always-open", o.always_open, "ignore the markets' opening hours");
  sim->add_option("--balance", o.initial_balance, "starting balance of the preferred account")
      ->capture_default_str();
  sim->add_option("--timezone-offset", o.timezone_offset_hours,
                  "hours added to UTC in the local date fields")
      ->capture_default_str();
  sim->add_flag("--hedging", o.hedging_mode, "start the accounts in hedging mode (no netting)");

  sim->add_flag_callback(
      "--no-rate-limits", [&o] { o.limits.enabled = false; },
      "do not enforce the broker's request limits");
  sim->add_option("--requests-per-second", o.limits.requests_per_second, "per-user request limit")
      ->capture_default_str();
  sim->add_option("--order-interval-ms", o.limits.order_min_interval_ms,
                  "minimum gap between POST /positions|/workingorders")
      ->capture_default_str();
  sim->add_option("--orders-per-hour", o.limits.orders_per_hour, "order requests per hour")
      ->capture_default_str();

  const auto rate = CLI::Range(0.0, 1.0);
  sim->add_option_function<double>(
      "--latency-ms",
      [&o](double ms) {
        o.faults.latency.kind =
            ms > 0 ? LatencyDistribution::Kind::kFixed : LatencyDistribution::Kind::kNone;
        o.faults.latency.a_ms = ms;
      },
      "fault: fixed delay before handling each REST request");
  sim->add_option_function<std::string>(
      "--latency-dist",
      [&o](const std::string& text) {
        const std::optional<LatencyDistribution> d = LatencyDistribution::parse(text);
        if (!d) throw CLI::ValidationError("--latency-dist", "bad distribution: " + text);
        o.faults.latency = *d;
      },
      "fault: delay distribution, fixed:MS | uniform:MIN:MAX | lognormal:MEDIAN:SIGMA");
  sim->add_option("--error-rate", o.faults.error_rate, "fault: share of requests answered 500")
      ->check(rate);
  sim->add_option("--rate-429", o.faults.rate_429, "fault: share of requests answered 429")
      ->check(rate);
  sim->add_option("--stall-rate", o.faults.stall_rate, "fault: share of requests never answered")
      ->check(rate);
  sim->add_flag_callback(
      "--drop-order-response", [&o] { o.faults.drop_order_response_rate = 1; },
      "fault: execute every order but close the connection without a response");
  sim->add_option("--drop-order-response-rate", o.faults.drop_order_response_rate,
                  "fault: share of executed orders whose response is dropped")
      ->check(rate);
  sim->add_option("--order-error-rate", o.faults.order_error_rate,
                  "fault: share of order requests answered 500 without being executed")
      ->check(rate);
  sim->add_option("--error-after-execution-rate", o.faults.error_after_execution_rate,
                  "fault: share of executed orders answered 500 (the deal stands)")
      ->check(rate);
  sim->add_option("--confirm-delay-ms", o.faults.confirm_delay_ms,
                  "fault: GET /confirms answers 404 for this long after the deal")
      ->check(CLI::NonNegativeNumber);
  sim->add_option("--ws-drop-every", o.faults.ws_drop_every_seconds,
                  "fault: close every WebSocket every S seconds")
      ->check(CLI::NonNegativeNumber);
  sim->add_option("--expire-sessions-every", o.faults.expire_sessions_every_seconds,
                  "fault: forget every session every S seconds")
      ->check(CLI::NonNegativeNumber);

  sim->add_option("-d,--duration", o.run_seconds, "stop after this many seconds (0 = never)")
      ->check(CLI::NonNegativeNumber);
  sim->callback([sim, &o] {
    if (!o.cert_file.empty() && o.key_file.empty()) {
      throw CLI::ValidationError("--cert", "needs --key");
    }
    if (o.cert_file.empty() && !o.key_file.empty()) {
      throw CLI::ValidationError("--key", "needs --cert");
    }
    (void)sim;
  });
  return sim;
}

int run_sim_command(const SimOptions& options) {
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  CapitalSimulator sim(options);
  try {
    sim.start();
  } catch (const std::exception& e) {
    spdlog::error("simulator start failed: {}", e.what());
    return 1;
  }
  std::printf("capital simulator: REST %s/api/v1  stream %s\n", sim.rest_url().c_str(),
              sim.stream_url().c_str());
  std::printf("  X-CAP-API-KEY %s, identifier %s; seed %llu; %s\n",
              options.credentials.api_key.c_str(), options.credentials.identifier.c_str(),
              static_cast<unsigned long long>(options.seed),
              options.always_open ? "markets always open" : "markets follow their opening hours");
  if (sim.tls() && options.tls == SimOptions::TlsMode::kGenerated) {
    std::printf(
        "  self-signed certificate%s%s\n",
        options.write_ca_file.empty() ? " (use --write-ca FILE to trust it)" : " written to ",
        options.write_ca_file.c_str());
  }
  std::fflush(stdout);

  int signal_number = 0;
  if (options.run_seconds > 0) {
    timespec timeout{};
    timeout.tv_sec = static_cast<time_t>(options.run_seconds);
    timeout.tv_nsec =
        static_cast<long>((options.run_seconds - static_cast<double>(timeout.tv_sec)) * 1e9);
    siginfo_t info;
    signal_number = sigtimedwait(&stop_signals, &info, &timeout);
    while (signal_number < 0 && errno == EINTR) {
      signal_number = sigtimedwait(&stop_signals, &info, &timeout);
    }
  } else {
    sigwait(&stop_signals, &signal_number);
  }
  sim.stop();

  const SimStats stats = sim.stats();
  int64_t requests = 0;
  for (const auto& [path, n] : stats.requests_by_path) requests += n;
  int64_t deals = 0;
  for (const auto& [epic, n] : stats.deals_by_epic) deals += n;
  std::printf(
      "summary: requests=%lld logins=%lld orders=%lld deals=%lld open positions=%zu "
      "working orders=%zu quotes pushed=%lld ws connections=%lld rate-limited=%lld "
      "faults: errors=%lld 429=%lld stalled=%lld dropped responses=%lld ws drops=%lld\n",
      static_cast<long long>(requests), static_cast<long long>(stats.logins),
      static_cast<long long>(stats.total_orders()), static_cast<long long>(deals),
      sim.positions().size(), sim.working_orders().size(),
      static_cast<long long>(stats.quotes_pushed), static_cast<long long>(stats.ws_connections),
      static_cast<long long>(stats.rate_limited), static_cast<long long>(stats.injected_errors),
      static_cast<long long>(stats.injected_429), static_cast<long long>(stats.stalled),
      static_cast<long long>(stats.dropped_responses), static_cast<long long>(stats.ws_drops));
  return 0;
}

}  // namespace qt::sim
