// A real redis-server for tests: started on 127.0.0.1 on a free port with its own directory,
// nothing persisted (--save '' --appendonly no), stopped (SIGTERM, then SIGKILL) when the object
// dies, and killed with the test process even when that dies without running destructors
// (setpriv --pdeathsig). Plus a minimal synchronous hiredis connection to talk to it.
//
// A missing redis-server is a test FAILURE naming the package, never a skip.
//
// Header-only; tests only.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
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

namespace qt::http::test {

struct RedisReplyDeleter {
  void operator()(redisReply* reply) const { freeReplyObject(reply); }
};
using RedisReply = std::unique_ptr<redisReply, RedisReplyDeleter>;

// One blocking connection (hiredis's synchronous API).
class RedisConnection {
 public:
  static absl::StatusOr<std::unique_ptr<RedisConnection>> connect(int port) {
    timeval timeout{5, 0};
    redisContext* context = redisConnectWithTimeout("127.0.0.1", port, timeout);
    if (context == nullptr) return absl::ResourceExhaustedError("hiredis: cannot allocate");
    std::unique_ptr<RedisConnection> connection(new RedisConnection(context));
    if (context->err != 0) {
      return absl::UnavailableError(std::string("redis 127.0.0.1:") + std::to_string(port) + ": " +
                                    context->errstr);
    }
    return connection;
  }
  ~RedisConnection() { redisFree(context_); }
  RedisConnection(const RedisConnection&) = delete;
  RedisConnection& operator=(const RedisConnection&) = delete;

  // The reply, which may be an error reply; Unavailable when the connection failed.
  absl::StatusOr<RedisReply> command(const std::vector<std::string>& args) {
    std::vector<const char*> argv;
    std::vector<size_t> lengths;
    for (const std::string& arg : args) {
      argv.push_back(arg.data());
      lengths.push_back(arg.size());
    }
    auto* reply = static_cast<redisReply*>(
        redisCommandArgv(context_, static_cast<int>(argv.size()), argv.data(), lengths.data()));
    if (reply == nullptr) return absl::UnavailableError(std::string("redis: ") + context_->errstr);
    return RedisReply(reply);
  }

 private:
  explicit RedisConnection(redisContext* context) : context_(context) {}
  redisContext* context_;
};

class RedisTestServer {
 public:
  static constexpr const char* kSetpriv = "/usr/bin/setpriv";

  static std::string program() {
    const char* path = std::getenv("PATH");
    std::stringstream dirs(path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin");
    std::string dir;
    while (std::getline(dirs, dir, ':')) {
      const std::string candidate = dir + "/redis-server";
      if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    }
    return {};
  }

  // Starts redis-server with its files under `dir`; answers PING before this returns.
  static absl::StatusOr<std::unique_ptr<RedisTestServer>> start(const std::filesystem::path& dir) {
    const std::string redis_server = program();
    if (redis_server.empty()) {
      return absl::FailedPreconditionError(
          "redis-server is not on PATH: install the Debian package redis-server "
          "(scripts/install-deps.sh)");
    }
    std::filesystem::create_directories(dir);
    std::string failures;
    // A free port may be taken between our probe and redis's bind: try a few.
    for (int attempt = 0; attempt < 5; ++attempt) {
      std::unique_ptr<RedisTestServer> server(new RedisTestServer());
      server->log_path_ = dir / "redis.log";
      server->port_ = free_port();
      absl::Status started = server->spawn(redis_server, dir);
      if (started.ok()) return server;
      failures += started.ToString() + "\n";
    }
    return absl::UnavailableError("redis-server did not start:\n" + failures);
  }

  ~RedisTestServer() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    for (int i = 0; i < 250; ++i) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }
  RedisTestServer(const RedisTestServer&) = delete;
  RedisTestServer& operator=(const RedisTestServer&) = delete;

  int port() const { return port_; }
  std::string log() const {
    std::ifstream in(log_path_);
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
  }

 private:
  RedisTestServer() = default;

  static int free_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
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

  absl::Status spawn(const std::string& redis_server, const std::filesystem::path& dir) {
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, log_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND,
                                     0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    std::vector<std::string> args = {
        kSetpriv,     "--pdeathsig",         "KILL",   "--", redis_server,   "--bind", "127.0.0.1",
        "--port",     std::to_string(port_), "--save", "",   "--appendonly", "no",     "--dir",
        dir.string(), "--daemonize",         "no"};
    std::vector<char*> argv;
    for (std::string& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    const int error = ::posix_spawn(&pid_, kSetpriv, &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (error != 0) {
      pid_ = -1;
      return absl::InternalError(std::string("cannot start redis-server: ") + std::strerror(error));
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return absl::UnavailableError("redis-server exited at start-up on port " +
                                      std::to_string(port_) + ":\n" + log());
      }
      absl::StatusOr<std::unique_ptr<RedisConnection>> connection = RedisConnection::connect(port_);
      if (connection.ok()) {
        absl::StatusOr<RedisReply> pong = (*connection)->command({"PING"});
        if (pong.ok() && (*pong)->type == REDIS_REPLY_STATUS) return absl::OkStatus();
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return absl::DeadlineExceededError("redis-server did not answer PING within 20 s:\n" + log());
  }

  pid_t pid_ = -1;
  int port_ = 0;
  std::filesystem::path log_path_;
};

}  // namespace qt::http::test
