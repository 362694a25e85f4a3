// `quanttrading sim`: runs the Capital.com simulator alone until SIGINT/SIGTERM (or --duration).
//
//   CLI::App* sim = add_sim_subcommand(cli, sim_options);
//   ...
//   if (sim->parsed()) return run_sim_command(sim_options);
#pragma once

#include "sim/sim_options.hpp"

namespace CLI {
class App;
}

namespace qt::sim {

// Registers the `sim` subcommand and its flags, which write into `options`. Returns it.
CLI::App* add_sim_subcommand(CLI::App& app, SimOptions& options);

// Starts the simulator, prints where it listens, waits for a stop signal or the duration,
// prints a summary and returns the exit code (0, or 1 when it cannot start).
int run_sim_command(const SimOptions& options);

}  // namespace qt::sim
