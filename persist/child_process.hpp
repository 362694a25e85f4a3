// Running an external program (the aws CLI) without a shell: argv goes to posix_spawnp as a
// vector, so no argument is ever parsed by /bin/sh and untrusted text (bucket names, paths,
// endpoint URLs) cannot inject commands. Stdout and stderr are captured separately.
//
// Guarantees: run_child_process() blocks the calling thread until the child exits; it drains
// both pipes concurrently (poll), so a chatty child never deadlocks on a full pipe; the child
// inherits the environment (so AWS_* variables reach the aws CLI) and no descriptor beyond
// stdin (/dev/null), stdout and stderr (the rest are closed in the child). Allocates; for commands,
// not the hot path.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace qt::persist {

struct ChildProcessResult {
  int exit_code = -1;  // the exit status, or 128 + signal number when killed by a signal
  std::string standard_output;
  std::string standard_error;
};

// Runs argv[0] (searched on PATH) with argv. NotFound when the program is not on PATH; a child
// that runs and fails is not an error here — inspect exit_code.
absl::StatusOr<ChildProcessResult> run_child_process(const std::vector<std::string>& argv);

// The program's full path if it is an executable on PATH (or an executable path), else empty.
std::string find_on_path(const std::string& program);

}  // namespace qt::persist
