// A real S3-compatible server for tests: s3rver (npm) started on 127.0.0.1 with an ephemeral
// port and its own storage directory, stopped (SIGTERM, then SIGKILL) when the object dies, and
// the aws CLI pointed at it through a hermetic environment (S3RVER's fixed credentials, region
// us-east-1, no profile or config files of the developer's).
//
// Missing tools are test FAILURES with the command that installs them, never skips: s3rver is
// looked up at QT_S3RVER_PROGRAM (build/tools, installed by scripts/install-node-tools.sh via
// `make deps`) and then on PATH; aws on PATH (Debian package awscli).
//
// Header-only; tests only.
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <regex>
#include <sstream>
#include <string>
#include <thread>

#include "persist/child_process.hpp"

extern char** environ;

namespace qt::persist::test {

#ifndef QT_S3RVER_PROGRAM
#define QT_S3RVER_PROGRAM ""
#endif

// The s3rver program, or "" when it is installed nowhere we look.
inline std::string s3rver_program() {
  const std::string built = QT_S3RVER_PROGRAM;
  if (!built.empty() && ::access(built.c_str(), X_OK) == 0) return built;
  return find_on_path("s3rver");
}

inline std::string missing_s3rver_message() {
  return std::string("s3rver is not installed (looked at '") + QT_S3RVER_PROGRAM +
         "' and on PATH): run `make deps` or scripts/install-node-tools.sh (needs node + npm)";
}

inline std::string missing_aws_message() {
  return "the aws CLI is not on PATH: install the Debian package awscli (scripts/install-deps.sh)";
}

// Points the aws CLI of this process and its children at s3rver, and at nothing else.
inline void use_hermetic_aws_environment(const std::filesystem::path& scratch) {
  ::setenv("AWS_ACCESS_KEY_ID", "S3RVER", 1);
  ::setenv("AWS_SECRET_ACCESS_KEY", "S3RVER", 1);
  ::setenv("AWS_DEFAULT_REGION", "us-east-1", 1);
  ::setenv("AWS_REGION", "us-east-1", 1);
  ::setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
  ::setenv("AWS_CONFIG_FILE", (scratch / "aws-config-none").c_str(), 1);
  ::setenv("AWS_SHARED_CREDENTIALS_FILE", (scratch / "aws-credentials-none").c_str(), 1);
  ::setenv("AWS_PAGER", "", 1);
  ::unsetenv("AWS_PROFILE");
  ::unsetenv("AWS_SESSION_TOKEN");
  ::unsetenv("AWS_ENDPOINT_URL");
}

class S3rverProcess {
 public:
  static constexpr const char* kSetpriv = "/usr/bin/setpriv";
  // Starts s3rver storing under storage_dir; fails (with its log) if it does not report a port.
  static absl::StatusOr<std::unique_ptr<S3rverProcess>> start(
      const std::filesystem::path& storage_dir) {
    const std::string program = s3rver_program();
    if (program.empty()) return absl::FailedPreconditionError(missing_s3rver_message());
    std::filesystem::create_directories(storage_dir);
    std::unique_ptr<S3rverProcess> server(new S3rverProcess());
    server->log_path_ = storage_dir.parent_path() / (storage_dir.filename().string() + ".log");

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, server->log_path_.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    const std::string directory = storage_dir.string();
    // Through setpriv (util-linux) so that s3rver is killed with the test process even when
    // that dies without running destructors (a sanitizer abort): a leftover s3rver kept the
    // caller's inherited file descriptors, such as a build lock, open.
    std::vector<std::string> args = {kSetpriv,    "--pdeathsig", "KILL",    "--",
                                     program,     "--directory", directory, "--address",
                                     "127.0.0.1", "--port",      "0"};
    std::vector<char*> argv;
    for (std::string& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    const int error =
        ::posix_spawn(&server->pid_, kSetpriv, &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (error != 0) {
      server->pid_ = -1;
      return absl::InternalError("cannot start " + program + ": " + std::strerror(error));
    }
    // s3rver prints "S3rver listening on 127.0.0.1:PORT" once it accepts connections. Node
    // starts in about a second here; the deadline only bounds a broken install.
    const std::regex listening(R"(listening on 127\.0\.0\.1:(\d+))");
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < deadline) {
      std::smatch match;
      const std::string log = server->log();
      if (std::regex_search(log, match, listening)) {
        server->port_ = std::stoi(match[1]);
        return server;
      }
      int status = 0;
      if (::waitpid(server->pid_, &status, WNOHANG) == server->pid_) {
        server->pid_ = -1;
        return absl::UnavailableError("s3rver exited at start-up:\n" + log);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return absl::DeadlineExceededError("s3rver reported no port within 30 s:\n" + server->log());
  }

  ~S3rverProcess() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    for (int i = 0; i < 100; ++i) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }
  S3rverProcess(const S3rverProcess&) = delete;
  S3rverProcess& operator=(const S3rverProcess&) = delete;

  int port() const { return port_; }
  std::string endpoint_url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::string log() const {
    std::ifstream in(log_path_);
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
  }

  // `aws s3 <args...> --endpoint-url <this server>`; the CLI's output on failure.
  absl::StatusOr<std::string> aws_s3(std::vector<std::string> args) const {
    std::vector<std::string> argv = {"aws", "s3"};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.push_back("--endpoint-url");
    argv.push_back(endpoint_url());
    absl::StatusOr<ChildProcessResult> result = run_child_process(argv);
    if (!result.ok()) return result.status();
    if (result->exit_code != 0) {
      return absl::UnavailableError("aws s3 exited " + std::to_string(result->exit_code) + ": " +
                                    result->standard_error + result->standard_output);
    }
    return result->standard_output;
  }

 private:
  S3rverProcess() = default;

  pid_t pid_ = -1;
  int port_ = 0;
  std::filesystem::path log_path_;
};

}  // namespace qt::persist::test
