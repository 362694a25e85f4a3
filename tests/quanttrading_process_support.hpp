// Support for tests that drive the real `quanttrading` binary against a Capital.com simulator
// the test hosts in-process (sim::CapitalSimulator): spawning a program with its output in a log
// file, running a subcommand to completion, the environment that points a child at the
// simulator and nowhere else, the pacing the broker's login limit asks for, waiting until a
// `run` trades, and reading the start-up recovery lines that app/persistence.cpp logs
// ("journal: ... continuing at sequence N", "journal: recovered state digest=<hex> at
// sequence N"). Shared by the crash test and the engine backup/restore test.
//
// Header-only; tests only (blocks, allocates, spawns processes). A ChildProgram still running
// when destroyed is SIGKILLed and reaped, so a failing assertion never leaves an engine behind.
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "sim/capital_simulator.hpp"

extern char** environ;

namespace qt::test {

using ProgramClock = std::chrono::steady_clock;

inline std::string read_text_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The last `lines` lines of `text` (all of it when shorter), for failure messages.
inline std::string tail_of(const std::string& text, std::size_t lines) {
  std::size_t pos = text.size();
  for (std::size_t n = 0; n <= lines && pos != std::string::npos && pos > 0; ++n) {
    pos = text.rfind('\n', pos - 1);
  }
  return pos == std::string::npos ? text : text.substr(pos + 1);
}

// A digest as the program prints it: 16 lower-case hex digits.
inline std::string hex64(uint64_t value) {
  char text[17];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(value));
  return text;
}

inline std::string describe_wait_status(int status) {
  if (WIFEXITED(status)) return "exit " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return "killed by signal " + std::to_string(WTERMSIG(status));
  return "wait status " + std::to_string(status);
}

// One program, stdout and stderr to a log file. Killed (SIGKILL) if still running when destroyed,
// and when the test process dies without destroying it (a sanitizer abort, a crash): it runs
// under `setpriv --pdeathsig KILL`, which execs it in place, so its pid is the program's own.
class ChildProgram {
 public:
  ChildProgram(const std::vector<std::string>& program_argv, const std::vector<std::string>& env,
               const std::filesystem::path& log)
      : log_(log) {
    std::vector<std::string> argv = {"/usr/bin/setpriv", "--pdeathsig", "KILL", "--"};
    argv.insert(argv.end(), program_argv.begin(), program_argv.end());
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    std::vector<char*> envp;
    for (const std::string& e : env) envp.push_back(const_cast<char*>(e.c_str()));
    envp.push_back(nullptr);
    spawn_error_ = posix_spawn(&pid_, argv[0].c_str(), &actions, nullptr, args.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    if (spawn_error_ != 0) pid_ = -1;
  }
  ~ChildProgram() {
    if (running()) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  ChildProgram(const ChildProgram&) = delete;
  ChildProgram& operator=(const ChildProgram&) = delete;

  int spawn_error() const { return spawn_error_; }
  pid_t pid() const { return pid_; }
  bool running() const { return pid_ > 0 && !status_.has_value(); }
  std::string log() const { return read_text_file(log_); }

  // Reaps the child if it has exited; true while it runs.
  bool poll() {
    if (!running()) return false;
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) status_ = status;
    return running();
  }
  // Waits up to `timeout` for the exit; the wait status, or nullopt while it still runs.
  std::optional<int> wait(std::chrono::milliseconds timeout) {
    const auto deadline = ProgramClock::now() + timeout;
    while (poll() && ProgramClock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return status_;
  }
  // Sends `signal` and waits up to `timeout` for the exit; the wait status, or nullopt.
  std::optional<int> stop(int signal, std::chrono::milliseconds timeout) {
    if (running()) ::kill(pid_, signal);
    return wait(timeout);
  }
  std::optional<int> exit_status() const { return status_; }

 private:
  std::filesystem::path log_;
  pid_t pid_ = -1;
  int spawn_error_ = 0;
  std::optional<int> status_;
};

// A program run to completion (a subcommand such as backup, restore, journal replay).
struct ProgramRun {
  std::optional<int> wait_status;  // nullopt: it did not finish in time (it was then killed)
  std::string output;              // stdout and stderr, interleaved as written

  bool exited_with(int code) const {
    return wait_status && WIFEXITED(*wait_status) && WEXITSTATUS(*wait_status) == code;
  }
  std::string describe() const {
    return (wait_status ? describe_wait_status(*wait_status) : std::string("no exit in time")) +
           "; output:\n" + output;
  }
};

inline ProgramRun run_program(const std::vector<std::string>& argv,
                              const std::vector<std::string>& env, const std::filesystem::path& log,
                              std::chrono::milliseconds timeout) {
  ProgramRun run;
  ChildProgram child(argv, env, log);
  if (child.spawn_error() != 0) {
    run.output = "cannot start " + argv[0] + ": " + std::strerror(child.spawn_error());
    return run;
  }
  run.wait_status = child.wait(timeout);
  run.output = child.log();
  return run;
}

// The environment for a child of this test: ours without anything that would reach its
// configuration or broker connection (QT_*, CAPITAL_*, API_TIMEOUT, CONNECTION_POOL_SIZE,
// MAX_RETRIES), plus a simulator's credentials, URLs and CA file. Everything else (PATH, AWS_*
// for the aws CLI) passes through.
inline std::vector<std::string> simulator_environment(const sim::SimCredentials& credentials,
                                                      const std::string& rest_url,
                                                      const std::string& stream_url,
                                                      const std::filesystem::path& ca_file) {
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string entry(*e);
    if (entry.rfind("QT_", 0) == 0 || entry.rfind("CAPITAL_", 0) == 0 ||
        entry.rfind("API_TIMEOUT=", 0) == 0 || entry.rfind("CONNECTION_POOL_SIZE=", 0) == 0 ||
        entry.rfind("MAX_RETRIES=", 0) == 0) {
      continue;
    }
    env.push_back(entry);
  }
  env.push_back("CAPITAL_API_KEY=" + credentials.api_key);
  env.push_back("CAPITAL_IDENTIFIER=" + credentials.identifier);
  env.push_back("CAPITAL_PASSWORD=" + credentials.password);
  env.push_back("CAPITAL_DEMO_URL=" + rest_url);
  env.push_back("CAPITAL_STREAM_URL=" + stream_url);
  env.push_back("CAPITAL_CA_FILE=" + ca_file.string());
  return env;
}

// The same for the simulator this test hosts.
inline std::vector<std::string> simulator_environment(const sim::CapitalSimulator& simulator,
                                                      const std::filesystem::path& ca_file) {
  return simulator_environment(simulator.options().credentials, simulator.rest_url(),
                               simulator.stream_url(), ca_file);
}

// The broker allows one POST /session per second per API key: engines started one after the
// other against the same simulator must not earn a 429 at login from the one before.
class LoginPacer {
 public:
  static constexpr std::chrono::milliseconds kSpacing{1200};

  // Sleeps until a login now keeps the spacing, and counts one.
  void wait_turn() {
    const auto since = ProgramClock::now() - last_login_;
    if (since < kSpacing) std::this_thread::sleep_for(kSpacing - since);
    last_login_ = ProgramClock::now();
  }
  // A login made elsewhere (the test's own REST client).
  void logged_in_now() { last_login_ = ProgramClock::now(); }

 private:
  ProgramClock::time_point last_login_{};
};

// What `quanttrading run` logged about its start-up recovery.
struct StartReport {
  uint64_t continuing_at = 0;  // "continuing at sequence N"
  std::optional<uint64_t> digest;
  std::optional<uint64_t> digest_sequence;
  bool torn_tail = false;
  bool from_snapshot = false;  // recovered from a snapshot + the journal after it
};

// nullopt until the log holds the recovery line.
inline std::optional<StartReport> parse_start(const std::string& log) {
  static const std::regex recovered(R"(journal: .*continuing at sequence (\d+))");
  static const std::regex digest(
      R"(journal: recovered state digest=([0-9a-fA-F]+) at sequence (\d+))");
  std::smatch m;
  if (!std::regex_search(log, m, recovered)) return std::nullopt;
  StartReport report;
  report.continuing_at = std::stoull(m[1]);
  if (std::regex_search(log, m, digest)) {
    report.digest = std::stoull(m[1], nullptr, 16);
    report.digest_sequence = std::stoull(m[2]);
  }
  report.torn_tail = log.find("journal: torn tail removed") != std::string::npos;
  report.from_snapshot = log.find("(snapshot snapshot-") != std::string::npos;
  return report;
}

// Whether the load client's ack log (`load.ack_log`: "<client id> <state> <filled> <order id>"
// per update) holds an update other than Rejected past `offset`: the engine trades.
inline bool acknowledged_since(const std::filesystem::path& ack_log, std::size_t offset) {
  const std::string text = read_text_file(ack_log);
  if (text.size() <= offset) return false;
  std::istringstream lines(text.substr(offset));
  for (std::string line; std::getline(lines, line);) {
    std::istringstream fields(line);
    std::string client_id;
    std::string state;
    fields >> client_id >> state;
    // Recovered orders' updates (Unknown, or refusals while the engine reconciles) are not
    // trading.
    if (fields && state != "Rejected" && state != "Unknown") return true;
  }
  return false;
}

// Waits for the recovery line, the engine's "engine ready" line (the venue has reconciled what
// was recovered) and then for the load client's first acknowledged order written to `ack_log`
// after both (and past `ack_bytes_before`). Fails (naming `where`, with the log's tail) if the
// child exits or does not get there within `timeout`.
inline ::testing::AssertionResult wait_until_trading(ChildProgram& child,
                                                     const std::filesystem::path& ack_log,
                                                     std::size_t ack_bytes_before,
                                                     std::chrono::seconds timeout,
                                                     const std::string& where) {
  const auto deadline = ProgramClock::now() + timeout;
  bool recovered = false;
  bool ready = false;
  std::size_t ack_bytes_at_ready = ack_bytes_before;
  while (ProgramClock::now() < deadline) {
    if (!child.poll()) {
      return ::testing::AssertionFailure() << where << " quanttrading run did not come up: "
                                           << describe_wait_status(*child.exit_status()) << "\n"
                                           << tail_of(child.log(), 40);
    }
    recovered = recovered || parse_start(child.log()).has_value();
    if (recovered && !ready && child.log().find("engine ready") != std::string::npos) {
      ready = true;
      ack_bytes_at_ready = std::max(ack_bytes_before, read_text_file(ack_log).size());
    }
    if (ready && acknowledged_since(ack_log, ack_bytes_at_ready)) {
      return ::testing::AssertionSuccess();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return ::testing::AssertionFailure() << where << " no "
                                       << (ready       ? "acknowledged order after ready"
                                           : recovered ? "\"engine ready\" line"
                                                       : "journal recovery line")
                                       << " within " << timeout.count() << " s\n"
                                       << tail_of(child.log(), 40);
}

}  // namespace qt::test
