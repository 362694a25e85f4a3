// posix_spawnp with captured output; see child_process.hpp.
#include "persist/child_process.hpp"

#include <errno.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <system_error>

extern char** environ;

namespace qt::persist {
namespace {

std::string errno_text(int error) {
  return std::error_code(error, std::generic_category()).message();
}

// Owns the two ends of a pipe; both close-on-exec, so only the dup2'ed copies reach the child.
struct Pipe {
  int read_end = -1;
  int write_end = -1;
  ~Pipe() {
    if (read_end >= 0) ::close(read_end);
    if (write_end >= 0) ::close(write_end);
  }
  bool open() {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) return false;
    read_end = fds[0];
    write_end = fds[1];
    return true;
  }
  void close_write() {
    if (write_end >= 0) ::close(write_end);
    write_end = -1;
  }
};

// Reads both pipes until both reach end of file.
void drain(int out_fd, int err_fd, std::string& out, std::string& err) {
  pollfd fds[2] = {{out_fd, POLLIN, 0}, {err_fd, POLLIN, 0}};
  std::string* sinks[2] = {&out, &err};
  int open_count = 2;
  char buffer[16384];
  while (open_count > 0) {
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      const ssize_t n = ::read(fds[i].fd, buffer, sizeof(buffer));
      if (n > 0) {
        sinks[i]->append(buffer, static_cast<std::size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        fds[i].fd = -1;  // poll ignores negative descriptors
        --open_count;
      }
    }
  }
}

}  // namespace

std::string find_on_path(const std::string& program) {
  if (program.find('/') != std::string::npos) {
    return ::access(program.c_str(), X_OK) == 0 ? program : std::string();
  }
  const char* path = std::getenv("PATH");
  std::string_view rest = path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin";
  while (!rest.empty()) {
    const std::size_t colon = rest.find(':');
    const std::string_view dir = rest.substr(0, colon);
    rest = colon == std::string_view::npos ? std::string_view() : rest.substr(colon + 1);
    const std::string candidate = std::string(dir.empty() ? "." : dir) + "/" + program;
    std::error_code ec;
    if (::access(candidate.c_str(), X_OK) == 0 && !std::filesystem::is_directory(candidate, ec)) {
      return candidate;
    }
  }
  return {};
}

absl::StatusOr<ChildProcessResult> run_child_process(const std::vector<std::string>& argv) {
  if (argv.empty()) return absl::InvalidArgumentError("run_child_process: empty argv");
  if (find_on_path(argv[0]).empty()) {
    return absl::NotFoundError(fmt::format("{}: not found on PATH", argv[0]));
  }
  Pipe out_pipe;
  Pipe err_pipe;
  if (!out_pipe.open() || !err_pipe.open()) {
    return absl::InternalError(fmt::format("pipe: {}", errno_text(errno)));
  }

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out_pipe.write_end, 1);
  posix_spawn_file_actions_adddup2(&actions, err_pipe.write_end, 2);
  // Descriptors some library opened without close-on-exec (and the data-directory lock, were it
  // ever opened so) must not leak into the child.
  posix_spawn_file_actions_addclosefrom_np(&actions, 3);

  // A blocked SIGINT/SIGTERM mask (the engine blocks them before its threads start) would be
  // inherited by the child; give it the default mask and handlers.
  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  sigset_t empty_mask;
  sigemptyset(&empty_mask);
  sigset_t default_signals;
  sigemptyset(&default_signals);
  sigaddset(&default_signals, SIGINT);
  sigaddset(&default_signals, SIGTERM);
  sigaddset(&default_signals, SIGPIPE);
  posix_spawnattr_setsigmask(&attributes, &empty_mask);
  posix_spawnattr_setsigdefault(&attributes, &default_signals);
  posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

  std::vector<char*> args;
  args.reserve(argv.size() + 1);
  for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);

  pid_t pid = -1;
  const int spawn_error =
      ::posix_spawnp(&pid, args[0], &actions, &attributes, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attributes);
  if (spawn_error != 0) {
    if (spawn_error == ENOENT) {
      return absl::NotFoundError(fmt::format("{}: not found on PATH", argv[0]));
    }
    return absl::InternalError(
        fmt::format("cannot start {}: {}", argv[0], errno_text(spawn_error)));
  }
  // Our copies of the write ends must go, or the reads below never see end of file.
  out_pipe.close_write();
  err_pipe.close_write();

  ChildProcessResult result;
  drain(out_pipe.read_end, err_pipe.read_end, result.standard_output, result.standard_error);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) {
      return absl::InternalError(fmt::format("waitpid({}): {}", argv[0], errno_text(errno)));
    }
  }
  if (WIFEXITED(status)) {
    result.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    result.exit_code = 128 + WTERMSIG(status);
  }
  return result;
}

}  // namespace qt::persist
