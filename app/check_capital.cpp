#include "app/check_capital.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <functional>
#include <memory>
#include <optional>
#include <thread>

#include "app/capital_connection.hpp"
#include "engine/clock.hpp"
#include "gateway/capital/rest_client.hpp"

namespace qt {

namespace {

struct StepResult {
  std::string name;
  bool passed = false;
  double latency_ms = 0;
  std::string detail;
};

class StepTable {
 public:
  // Runs `step`, timing it; the step returns OK with a detail, or an error.
  bool run(const std::string& name, const std::function<absl::StatusOr<std::string>()>& step) {
    const int64_t start = now_ns();
    absl::StatusOr<std::string> outcome = step();
    StepResult row;
    row.name = name;
    row.latency_ms = static_cast<double>(now_ns() - start) / 1e6;
    row.passed = outcome.ok();
    row.detail = outcome.ok() ? *outcome : std::string(outcome.status().message());
    rows_.push_back(row);
    return row.passed;
  }
  void skip(const std::string& name, const std::string& why) {
    rows_.push_back({name, false, 0, "not run: " + why});
  }
  bool all_passed() const {
    for (const StepResult& r : rows_) {
      if (!r.passed) return false;
    }
    return !rows_.empty();
  }
  void print() const {
    std::printf("%-22s %-6s %10s  %s\n", "step", "result", "latency", "detail");
    for (const StepResult& r : rows_) {
      std::printf("%-22s %-6s %8.1fms  %s\n", r.name.c_str(), r.passed ? "PASS" : "FAIL",
                  r.latency_ms, r.detail.c_str());
    }
    std::printf("%s\n", all_passed() ? "check-capital: all steps passed"
                                     : "check-capital: FAILED (see the rows marked FAIL)");
    std::fflush(stdout);
  }

 private:
  std::vector<StepResult> rows_;
};

std::string fmt_size(const InstrumentSpec& spec, SizeUnits size) {
  return fmt::format("{:g}", spec.size_to_double(size));
}

absl::StatusOr<std::string> confirm_accepted(capital::CapitalRestClient& client,
                                             const capital::DealSendResult& sent,
                                             std::string* deal_id) {
  if (!sent.accepted()) {
    return absl::Status(sent.status.code(), "deal request " +
                                                std::string(capital::to_string(sent.outcome)) +
                                                ": " + std::string(sent.status.message()));
  }
  for (int attempt = 0; attempt < 40; ++attempt) {
    absl::StatusOr<capital::DealConfirmation> confirmation = client.confirm(sent.deal_reference);
    if (confirmation.ok()) {
      if (confirmation->deal_status != capital::DealStatus::kAccepted) {
        return absl::FailedPreconditionError("confirm " + sent.deal_reference + ": REJECTED (" +
                                             confirmation->reason + ")");
      }
      if (deal_id != nullptr) {
        *deal_id = confirmation->affected_deals.empty() ? confirmation->deal_id
                                                        : confirmation->affected_deals[0].deal_id;
      }
      return "confirm " + sent.deal_reference + ": ACCEPTED";
    }
    if (!absl::IsNotFound(confirmation.status())) return confirmation.status();
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return absl::DeadlineExceededError("no confirm for " + sent.deal_reference + " after 2 s");
}

}  // namespace

CLI::App* add_check_capital_subcommand(CLI::App& app, CheckCapitalOptions& options) {
  CLI::App* command = app.add_subcommand("check-capital",
                                         "connection test: login, ping, accounts, market details, "
                                         "streamed quotes; exit 0 if all pass");
  command->add_option("--epic", options.epic, "market to read and stream")->capture_default_str();
  command->add_option("--stream-seconds", options.stream_seconds, "how long to stream quotes")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  command->add_flag("--place-test-order", options.place_test_order,
                    "open and close the minimum size and confirm both (demo only)");
  command->add_flag("--live", options.live, "use the live environment (CAPITAL_ENV=live)");
  return command;
}

int run_check_capital(const CheckCapitalOptions& options,
                      const std::vector<std::string>& environment) {
  absl::StatusOr<std::unique_ptr<CapitalConnection>> connection =
      CapitalConnection::open(environment, options.live);
  if (!connection.ok()) {
    std::fprintf(stderr, "check-capital: %s\n", std::string(connection.status().message()).c_str());
    return 2;
  }
  CapitalConnection& link = **connection;
  std::printf("check-capital against %s (%s)\n", link.description().c_str(),
              link.config().is_live() ? "LIVE" : "demo");
  if (options.place_test_order && link.config().is_live()) {
    std::fprintf(stderr, "check-capital: --place-test-order is refused on the live environment\n");
    return 2;
  }
  capital::CapitalRestClient& client = link.rest();
  StepTable table;

  const bool logged_in = table.run("login (POST /session)", [&]() -> absl::StatusOr<std::string> {
    absl::StatusOr<capital::SessionCreateResponse> session = client.login();
    if (!session.ok()) return session.status();
    return "account " + session->current_account_id + ", streaming host " + session->streaming_host;
  });
  if (!logged_in) {
    for (const char* step : {"ping (GET /ping)", "accounts", "market details", "stream quotes"}) {
      table.skip(step, "login failed");
    }
    table.print();
    return 1;
  }
  table.run("ping (GET /ping)", [&]() -> absl::StatusOr<std::string> {
    absl::Status status = client.ping();
    if (!status.ok()) return status;
    return std::string("status OK");
  });
  table.run("accounts", [&]() -> absl::StatusOr<std::string> {
    absl::StatusOr<capital::AccountsResponse> accounts = client.accounts();
    if (!accounts.ok()) return accounts.status();
    if (accounts->accounts.empty()) return absl::NotFoundError("no accounts");
    std::string detail = std::to_string(accounts->accounts.size()) + " account(s)";
    for (const capital::Account& a : accounts->accounts) {
      if (a.preferred) detail += ", preferred " + a.account_id + " (" + a.currency + ")";
    }
    return detail;
  });
  std::optional<InstrumentSpec> spec;
  table.run("market details", [&]() -> absl::StatusOr<std::string> {
    absl::StatusOr<InstrumentSpec> converted = client.instrument_spec(options.epic, 0);
    if (!converted.ok()) return converted.status();
    spec = *converted;
    return options.epic + ": " + std::to_string(spec->price_decimals) + " price decimals, min " +
           fmt_size(*spec, spec->min_size) + ", step " + fmt_size(*spec, spec->size_increment);
  });
  table.run("stream quotes", [&]() -> absl::StatusOr<std::string> {
    if (!spec) return absl::FailedPreconditionError("no market details for " + options.epic);
    absl::StatusOr<StreamSample> sample =
        link.sample_quotes(*spec, options.epic, options.stream_seconds);
    if (!sample.ok()) return sample.status();
    if (sample->quotes == 0) {
      return absl::DeadlineExceededError("no quote for " + options.epic + " in " +
                                         std::to_string(options.stream_seconds) + " s");
    }
    return fmt::format("{} quotes in {:g} s, last bid {:.{}f} / ask {:.{}f}", sample->quotes,
                       options.stream_seconds, spec->price_to_double(sample->last_bid),
                       static_cast<int>(spec->price_decimals),
                       spec->price_to_double(sample->last_ask),
                       static_cast<int>(spec->price_decimals));
  });
  if (options.place_test_order) {
    std::string position_id;
    const bool opened = table.run("open test position", [&]() -> absl::StatusOr<std::string> {
      if (!spec) return absl::FailedPreconditionError("no market details");
      capital::CreatePositionRequest request;
      request.epic = options.epic;
      request.direction = Side::kBuy;
      request.size = capital::Decimal::from_fixed_point(spec->min_size, spec->size_decimals);
      return confirm_accepted(client, client.open_position(request), &position_id);
    });
    if (opened) {
      table.run("close test position", [&]() -> absl::StatusOr<std::string> {
        return confirm_accepted(client, client.close_position(position_id), nullptr);
      });
    } else {
      table.skip("close test position", "nothing was opened");
    }
  }
  table.print();
  return table.all_passed() ? 0 : 1;
}

}  // namespace qt
