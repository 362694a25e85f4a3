// Runs a program's registered Google Benchmark functions with the --benchmark_* arguments that
// parse_command_line (bench_cli.hpp) set aside. Header-only; benchmark code.
#pragma once

#include <benchmark/benchmark.h>

#include <string>
#include <vector>

namespace qt::bench {

// Runs the registered Google Benchmark functions with `args` (argv[0] first), as BENCHMARK_MAIN.
inline int run_registered_benchmarks(std::vector<std::string> args) {
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  int argc = static_cast<int>(argv.size());
  argv.push_back(nullptr);
  benchmark::Initialize(&argc, argv.data());
  if (benchmark::ReportUnrecognizedArguments(argc, argv.data())) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

}  // namespace qt::bench
