// A real redis-server for tests and benchmarks: started on 127.0.0.1 on a free port, in a
// directory of the caller's, without persistence (--save '' --appendonly no); stopped (SIGTERM,
// then SIGKILL) when the object dies, and killed with the test process even when that dies
// without running destructors (started through setpriv --pdeathsig KILL).
//
// A missing redis-server is an error naming the package (Debian redis-server), never a skip:
// the caller turns it into a test failure. QT_REDIS_SERVER overrides the program.
//
// Header-only, without gtest (bench/redis_bench uses it too).
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"

extern char** environ;

namespace qt::redis::test {

// The redis-server program, or "" when there is none to run.
inline std::string redis_server_program() {
  if (const char* chosen = std::getenv("QT_REDIS_SERVER"); chosen != nullptr && *chosen != 0) {
    return ::access(chosen, X_OK) == 0 ? chosen : "";
  }
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path != nullptr ? path : "/usr/bin:/usr/sbin");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    const std::filesystem::path candidate = std::filesystem::path(dir) / "redis-server";
    if (::access(candidate.c_str(), X_OK) == 0) return candidate.string();
  }
  for (const char* fixed : {"/usr/bin/redis-server", "/usr/sbin/redis-server"}) {
    if (::access(fixed, X_OK) == 0) return fixed;
  }
  return "";
}

// A port nobody listens on right now (the kernel's choice for an ephemeral bind).
inline int free_loopback_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return 0;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t length = sizeof(address);
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0) {
    port = ntohs(address.sin_port);
  }
  ::close(fd);
  return port;
}

// PING over a fresh connection; true on +PONG (or -NOAUTH: up, wants a password).
inline bool redis_answers_ping(int port, std::chrono::milliseconds timeout) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000);
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(static_cast<uint16_t>(port));
  bool up = false;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0) {
    constexpr char kPing[] = "PING\r\n";
    char answer[64] = {};
    if (::send(fd, kPing, sizeof(kPing) - 1, MSG_NOSIGNAL) == sizeof(kPing) - 1 &&
        ::recv(fd, answer, sizeof(answer) - 1, 0) > 0) {
      up = std::strncmp(answer, "+PONG", 5) == 0 || std::strncmp(answer, "-NOAUTH", 7) == 0;
    }
  }
  ::close(fd);
  return up;
}

class RedisServerProcess {
 public:
  // Starts redis-server in `dir` (created), on `port` or, when 0, on a free port (retrying a
  // few ports if one is taken between the choice and the bind). `extra_args` are appended
  // ("--requirepass", "secret").
  static absl::StatusOr<std::unique_ptr<RedisServerProcess>> start(
      const std::filesystem::path& dir, int port = 0, std::vector<std::string> extra_args = {}) {
    const std::string program = redis_server_program();
    if (program.empty()) {
      const char* chosen = std::getenv("QT_REDIS_SERVER");
      return absl::FailedPreconditionError(
          chosen != nullptr && *chosen != 0
              ? "QT_REDIS_SERVER=" + std::string(chosen) + " is not an executable redis-server"
              : "redis-server is not installed (looked on PATH and in /usr/bin): install the "
                "Debian package redis-server (scripts/install-deps.sh lists it)");
    }
    std::filesystem::create_directories(dir);
    std::unique_ptr<RedisServerProcess> server(new RedisServerProcess());
    server->program_ = program;
    server->dir_ = dir;
    server->extra_args_ = std::move(extra_args);
    absl::Status started = absl::UnknownError("no attempt");
    for (int attempt = 0; attempt < 5; ++attempt) {
      server->port_ = port != 0 ? port : free_loopback_port();
      started = server->spawn_and_wait();
      if (started.ok() || port != 0) break;
    }
    if (!started.ok()) return started;
    return server;
  }

  ~RedisServerProcess() { stop(); }
  RedisServerProcess(const RedisServerProcess&) = delete;
  RedisServerProcess& operator=(const RedisServerProcess&) = delete;

  int port() const { return port_; }
  std::string url(int db = 0) const {
    return "redis://127.0.0.1:" + std::to_string(port_) + "/" + std::to_string(db);
  }
  std::string log() const {
    std::ifstream in(dir_ / "redis.log");
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
  }

  // SIGTERM, then SIGKILL after 2 s; reaps the process.
  void stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGCONT);  // a paused server cannot act on SIGTERM
    ::kill(pid_, SIGTERM);
    for (int i = 0; i < 200; ++i) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    kill_now();
  }

  // SIGKILL, as a crash: the kernel closes its connections. Reaps the process.
  void kill_now() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
  }

  // A new process on the same port and directory (after kill_now() or stop()).
  absl::Status restart() {
    stop();
    return spawn_and_wait();
  }

  // SIGSTOP / SIGCONT: the server keeps its sockets (the kernel still accepts connections and
  // buffers commands) but answers nothing while paused.
  void pause() {
    if (pid_ > 0) ::kill(pid_, SIGSTOP);
  }
  void resume() {
    if (pid_ > 0) ::kill(pid_, SIGCONT);
  }

 private:
  RedisServerProcess() = default;

  absl::Status spawn_and_wait() {
    if (port_ <= 0) return absl::UnavailableError("no free port");
    const std::string log_path = (dir_ / "redis.log").string();
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND,
                                     0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    const bool have_setpriv = ::access(kSetpriv, X_OK) == 0;
    std::vector<std::string> args;
    if (have_setpriv) args = {kSetpriv, "--pdeathsig", "KILL", "--"};
    const std::vector<std::string> redis_args = {program_,
                                                 "--port",
                                                 std::to_string(port_),
                                                 "--bind",
                                                 "127.0.0.1",
                                                 "--save",
                                                 "",
                                                 "--appendonly",
                                                 "no",
                                                 "--dir",
                                                 dir_.string(),
                                                 "--daemonize",
                                                 "no",
                                                 "--logfile",
                                                 "",
                                                 "--protected-mode",
                                                 "yes"};
    args.insert(args.end(), redis_args.begin(), redis_args.end());
    args.insert(args.end(), extra_args_.begin(), extra_args_.end());
    std::vector<char*> argv;
    for (std::string& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    const std::string executable = have_setpriv ? std::string(kSetpriv) : program_;
    const int error =
        ::posix_spawn(&pid_, executable.c_str(), &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (error != 0) {
      pid_ = -1;
      return absl::InternalError("cannot start " + program_ + ": " + std::strerror(error));
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return absl::UnavailableError("redis-server exited at start-up on port " +
                                      std::to_string(port_) + ":\n" + log());
      }
      if (redis_answers_ping(port_, std::chrono::milliseconds(200))) return absl::OkStatus();
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    kill_now();
    return absl::DeadlineExceededError("redis-server did not answer PING within 10 s:\n" + log());
  }

  static constexpr const char* kSetpriv = "/usr/bin/setpriv";

  std::string program_;
  std::filesystem::path dir_;
  std::vector<std::string> extra_args_;
  int port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace qt::redis::test
