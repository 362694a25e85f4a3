// Issue 11: an engine restarted while the account's request budget is spent (here: a broker that
// answers every request 429) waits it out — not ready, saying why, trying again less and less
// often — instead of exiting, which a supervisor would answer with a restart that spends more of
// the budget; and a stop signal during the wait stops it at once, cleanly.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include "tests/quanttrading_process_support.hpp"

namespace qt::test {
namespace {

namespace fs = std::filesystem;

TEST(StartupPatience, ASpentRequestBudgetIsWaitedOutAndAStopSignalEndsTheWait) {
  const fs::path binary = QT_QUANTTRADING_BIN;
  ASSERT_TRUE(fs::exists(binary)) << "the quanttrading binary is missing: " << binary;
  const fs::path work = fs::temp_directory_path() / ("qt-startup-" + std::to_string(::getpid()));
  fs::create_directories(work);

  sim::SimOptions options = sim::SimOptions::embedded();
  options.write_ca_file = (work / "ca.pem").string();
  options.faults.rate_429 = 1.0;  // every request refused: the budget is spent
  sim::CapitalSimulator simulator(options);
  simulator.start();

  ChildProgram child({binary.string(), "run", "--data-dir", (work / "data").string()},
                     simulator_environment(simulator, work / "ca.pem"), work / "run.log");
  ASSERT_EQ(child.spawn_error(), 0);
  const auto deadline = ProgramClock::now() + std::chrono::seconds(60);
  auto waits = [&] {
    const std::string log = child.log();
    std::size_t n = 0;
    for (std::size_t at = log.find("the broker refuses for now"); at != std::string::npos;
         at = log.find("the broker refuses for now", at + 1)) {
      ++n;
    }
    return n;
  };
  while (waits() < 2 && child.poll() && ProgramClock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_TRUE(child.poll()) << "it exited instead of waiting:\n" << tail_of(child.log(), 20);
  ASSERT_GE(waits(), 2u) << tail_of(child.log(), 20);
  EXPECT_NE(child.log().find("not ready, trying again in"), std::string::npos);

  const std::optional<int> status = child.stop(SIGTERM, std::chrono::seconds(10));
  ASSERT_TRUE(status.has_value()) << "SIGTERM did not end the wait:\n" << tail_of(child.log(), 20);
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0)
      << describe_wait_status(*status) << "\n"
      << tail_of(child.log(), 20);
  EXPECT_NE(child.log().find("stopped by a signal while waiting for the broker"), std::string::npos)
      << tail_of(child.log(), 20);
  simulator.stop();
  std::error_code ec;
  fs::remove_all(work, ec);
}

}  // namespace
}  // namespace qt::test
