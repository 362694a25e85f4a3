// Issue 11: with the broker unreachable, a stop signal ends `quanttrading run` within its drain
// deadline (10 s against Capital.com) and a little — not after every request in flight has
// waited out API_TIMEOUT (30 s) — and the log names, by order id, what was left undone: the
// orders still live or in doubt at exit and the cancels the broker never confirmed.
//
// The simulator runs as its own process (`quanttrading sim`) so that SIGSTOP can freeze it: its
// kernel still accepts connections and takes requests, nothing answers — a blackholed broker.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <regex>
#include <set>
#include <thread>

#include "tests/quanttrading_process_support.hpp"

namespace qt::test {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr seconds kDrainDeadline{10};  // app/trading_app.cpp, Capital.com mode
// The stream's close handshake (1 s), a rate-limit slot being waited for, a loaded machine.
constexpr seconds kSlack{3};

// The live-order count of the last status line, or -1 before the first.
int last_live_orders(const std::string& log) {
  static const std::regex live(R"(engine READY .* live=(\d+))");
  int last = -1;
  for (auto it = std::sregex_iterator(log.begin(), log.end(), live); it != std::sregex_iterator();
       ++it) {
    last = std::stoi((*it)[1]);
  }
  return last;
}

TEST(UnreachableBrokerShutdown, ASignalExitsWithinTheDrainDeadlineAndNamesWhatWasLeftUndone) {
  const fs::path binary = QT_QUANTTRADING_BIN;
  ASSERT_TRUE(fs::exists(binary)) << "the quanttrading binary is missing: " << binary;
  const fs::path work =
      fs::temp_directory_path() / ("qt-unreachable-" + std::to_string(::getpid()));
  fs::remove_all(work);
  fs::create_directories(work);
  const fs::path ca_file = work / "ca.pem";

  ChildProgram broker({binary.string(), "sim", "--port", "0", "--tls", "--write-ca",
                       ca_file.string(), "--always-open"},
                      simulator_environment(sim::SimCredentials{}, "", "", ca_file),
                      work / "sim.log");
  ASSERT_EQ(broker.spawn_error(), 0);
  static const std::regex listening(R"(capital simulator: REST (\S+)/api/v1  stream (\S+))");
  std::smatch urls;
  std::string sim_log;
  const auto sim_deadline = ProgramClock::now() + seconds(30);
  while (broker.poll() && ProgramClock::now() < sim_deadline) {
    sim_log = broker.log();
    if (std::regex_search(sim_log, urls, listening)) break;
    std::this_thread::sleep_for(milliseconds(50));
  }
  ASSERT_FALSE(urls.empty()) << "the simulator did not start:\n" << broker.log();

  ChildProgram engine(
      {binary.string(), "run", "--set", "persist.data_dir=" + (work / "data").string(), "--set",
       "run.status_interval_seconds=0.5"},
      simulator_environment(sim::SimCredentials{}, urls[1], urls[2], ca_file), work / "run.log");
  ASSERT_EQ(engine.spawn_error(), 0);
  // Trading, with orders working at the broker (the quoter's limit orders).
  const auto trading_deadline = ProgramClock::now() + seconds(60);
  while (engine.poll() && last_live_orders(engine.log()) <= 0 &&
         ProgramClock::now() < trading_deadline) {
    std::this_thread::sleep_for(milliseconds(100));
  }
  ASSERT_GT(last_live_orders(engine.log()), 0) << "no order working at the broker:\n"
                                               << tail_of(engine.log(), 30);

  ASSERT_EQ(::kill(broker.pid(), SIGSTOP), 0);
  // Let the venue's threads block in requests the frozen broker will never answer.
  std::this_thread::sleep_for(seconds(1));
  const auto signalled = ProgramClock::now();
  const std::optional<int> status = engine.stop(SIGTERM, seconds(60));
  const auto took = std::chrono::duration_cast<milliseconds>(ProgramClock::now() - signalled);
  ::kill(broker.pid(), SIGCONT);
  const std::string log = engine.log();

  ASSERT_TRUE(status.has_value()) << "no exit within 60 s of SIGTERM:\n" << tail_of(log, 30);
  std::printf("SIGTERM to exit: %lld ms; the engine's shutdown lines:\n",
              static_cast<long long>(took.count()));
  for (std::size_t at = log.find("shutdown: "); at != std::string::npos;
       at = log.find("shutdown: ", at + 1)) {
    std::printf("  %s\n", log.substr(at, log.find('\n', at) - at).c_str());
  }
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0)
      << describe_wait_status(*status) << "\n"
      << tail_of(log, 30);
  EXPECT_LE(took, kDrainDeadline + kSlack) << "SIGTERM took " << took.count() << " ms\n"
                                           << tail_of(log, 30);
  EXPECT_NE(log.find("shutdown: not drained within 10 s"), std::string::npos) << tail_of(log, 30);

  // Each order the summary counts as live at exit is named once, and the count line agrees.
  static const std::regex named(R"(shutdown: left undone: order (\d+) )");
  std::set<std::string> ids;
  std::size_t lines = 0;
  for (auto it = std::sregex_iterator(log.begin(), log.end(), named); it != std::sregex_iterator();
       ++it, ++lines) {
    ids.insert((*it)[1]);
  }
  EXPECT_EQ(ids.size(), lines) << "an order named twice:\n" << tail_of(log, 30);
  std::smatch summary;
  ASSERT_TRUE(std::regex_search(log, summary, std::regex(R"(live orders at exit=(\d+))")))
      << tail_of(log, 30);
  const std::size_t live_at_exit = std::stoul(summary[1]);
  EXPECT_GT(live_at_exit, 0u) << "the frozen broker confirmed nothing, yet nothing was left:\n"
                              << tail_of(log, 30);
  EXPECT_EQ(lines, live_at_exit) << tail_of(log, 30);
  EXPECT_NE(log.find(std::to_string(live_at_exit) + " order(s) live or in doubt at exit"),
            std::string::npos)
      << tail_of(log, 30);
  // Every order was asked to cancel (run.cancel_on_shutdown): none is left merely "working".
  EXPECT_EQ(log.find("(run.cancel_on_shutdown is off)"), std::string::npos) << tail_of(log, 30);
  EXPECT_TRUE(log.find("cancel not confirmed by the venue") != std::string::npos ||
              log.find("its cancel was refused or not sent") != std::string::npos ||
              log.find(": in doubt: ") != std::string::npos)
      << tail_of(log, 30);

  broker.stop(SIGTERM, seconds(10));
  std::error_code ec;
  fs::remove_all(work, ec);
}

}  // namespace
}  // namespace qt::test
