// `quanttrading check-capital`: the connection test of the seed. Logs in, pings, lists
// accounts, reads one market's details (and turns its dealing rules into the engine's
// instrument spec), streams quotes for a few seconds and, with --place-test-order (demo only),
// opens and closes the minimum size and confirms both. Prints one table row per step with its
// latency and PASS/FAIL; exits 0 only if every step passed.
//
// Without credentials it starts the built-in simulator on loopback (TLS, certificate made at
// start) and checks against that, saying so.
#pragma once

#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace qt {

struct CheckCapitalOptions {
  std::string epic = "GOLD";
  double stream_seconds = 5;
  bool place_test_order = false;
  bool live = false;
};

CLI::App* add_check_capital_subcommand(CLI::App& app, CheckCapitalOptions& options);
int run_check_capital(const CheckCapitalOptions& options,
                      const std::vector<std::string>& environment);

}  // namespace qt
