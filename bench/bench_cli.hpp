// Command lines of the benchmark programs: CLI11 for a program's own options (`--name=value` and
// `--name value` both work); a program that also registers Google Benchmark functions passes
// every --benchmark_* argument on to it (run_registered_benchmarks, in registered_benchmarks.hpp).
// Header-only; benchmark code.
#pragma once

#include <CLI/CLI.hpp>
#include <optional>
#include <string>
#include <vector>

namespace qt::bench {

// Accepts a number above zero (CLI11 2.1's PositiveNumber reports its range as 0 to 1.8e308).
inline const CLI::Validator kPositive(
    [](std::string& input) -> std::string {
      double value = 0;
      if (!CLI::detail::lexical_cast(input, value) || !(value > 0)) {
        return "must be a number above 0, not " + input;
      }
      return {};
    },
    "POSITIVE");

// An option that must be above zero, its initial value shown as the default.
template <typename T>
CLI::Option* add_positive_option(CLI::App& app, const std::string& name, T& value,
                                 const std::string& description) {
  return app.add_option(name, value, description)->default_val(value)->check(kPositive);
}

// Parses argv into `app`. With `benchmark_args`, arguments that start with --benchmark_ are
// collected there (after argv[0]) instead of being refused. Returns the exit code when the
// program must stop (--help: 0; a bad argument: CLI11's code, after its message), else nullopt.
inline std::optional<int> parse_command_line(CLI::App& app, int argc, char** argv,
                                             std::vector<std::string>* benchmark_args = nullptr) {
  if (benchmark_args != nullptr) app.allow_extras();
  try {
    app.parse(argc, argv);
    if (benchmark_args != nullptr) {
      benchmark_args->assign(1, argv[0]);
      for (const std::string& extra : app.remaining()) {
        if (extra.rfind("--benchmark_", 0) != 0) throw CLI::ExtrasError({extra});
        benchmark_args->push_back(extra);
      }
    }
  } catch (const CLI::ParseError& error) {
    return app.exit(error);
  }
  return std::nullopt;
}

}  // namespace qt::bench
