// The engine thread never waits on the terminal: with the NonBlockingSink the `run` command
// installs, a flood of log lines from the engine (illegal venue events) behind a log sink that
// stalls does not slow the engine's processing, and every line is either written or counted as
// dropped.
#include <gtest/gtest.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>

#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "app/logging.hpp"
#include "tests/engine_test_support.hpp"

namespace qt {
namespace {

using testing::EngineRig;
using testing::new_order;

constexpr InstrumentId kGold = 0;

// A terminal that stalls: each line waits up to 100 ms for a gate the test opens at the end.
class StallingSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  void open_gate() {
    {
      std::lock_guard lock(gate_mutex_);
      open_ = true;
    }
    gate_.notify_all();
  }
  uint64_t written() const { return written_.load(); }
  uint64_t written_containing(const std::string& text) {
    std::lock_guard lock(mutex_);
    uint64_t n = 0;
    for (const std::string& line : lines_) n += line.find(text) != std::string::npos;
    return n;
  }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    {
      std::unique_lock lock(gate_mutex_);
      gate_.wait_for(lock, std::chrono::milliseconds(100), [this] { return open_; });
    }
    lines_.emplace_back(msg.payload.data(), msg.payload.size());
    written_.fetch_add(1);
  }
  void flush_() override {}

 private:
  std::mutex gate_mutex_;
  std::condition_variable gate_;
  bool open_ = false;
  std::vector<std::string> lines_;  // base_sink's mutex_ held
  std::atomic<uint64_t> written_{0};
};

TEST(EngineLogging, AFloodOfIllegalTransitionsBehindAStallingTerminalDoesNotStallTheEngine) {
  auto terminal = std::make_shared<StallingSink>();
  auto background = std::make_shared<NonBlockingSink>(terminal, /*capacity=*/16);
  const std::shared_ptr<spdlog::logger> previous = spdlog::default_logger();
  spdlog::set_default_logger(std::make_shared<spdlog::logger>("engine", background));

  EngineRig rig;
  rig.start();
  rig.quote(kGold, 230000, 230030);
  rig.send(new_order("m1", kGold, Side::kBuy, OrderType::kMarket, 0, 100));
  ASSERT_EQ(rig.drain_updates().back().state, OrderState::kFilled);
  const OrderId filled = 1;
  const uint64_t quotes_before = rig.engine->stats().quotes.load();
  const uint64_t written_before = terminal->written();

  // A burst: 200 fills for an order already filled (each logged as an illegal transition),
  // interleaved with 2,000 quotes.
  constexpr int kIllegal = 200;
  constexpr int kQuotes = 2000;
  for (int i = 0; i < kQuotes; ++i) {
    if (i % (kQuotes / kIllegal) == 0) {
      VenueEvent late_fill;
      late_fill.kind = VenueEventKind::kFill;
      late_fill.order_id = filled;
      late_fill.fill_price = 230030;
      late_fill.fill_size = 100;
      ASSERT_TRUE(rig.events->try_push(late_fill));
    }
    Quote quote;
    quote.instrument = kGold;
    quote.bid = 230000 + i % 5;
    quote.ask = quote.bid + 30;
    quote.bid_size = quote.ask_size = 1000;
    ASSERT_TRUE(rig.engine_quotes->try_push(quote));
    if (i % 256 == 255) rig.pump();  // the engine drains a batch; the rings never fill
  }
  rig.pump();

  // The whole burst is processed while the terminal has taken at most a couple of lines (each
  // takes 100 ms); written synchronously, all 200 would have been, 20 s.
  EXPECT_EQ(rig.engine->stats().illegal_transitions.load(), static_cast<uint64_t>(kIllegal));
  EXPECT_EQ(rig.engine->stats().quotes.load() - quotes_before, static_cast<uint64_t>(kQuotes));
  EXPECT_LE(terminal->written() - written_before, 2u);

  // Every illegal-transition line was either written or counted as dropped.
  terminal->open_gate();
  background->flush();
  EXPECT_GT(background->dropped(), 0u);
  EXPECT_EQ(terminal->written_containing("illegal order transition") + background->dropped(),
            static_cast<uint64_t>(kIllegal));
  spdlog::set_default_logger(previous);
}

// Keeps every line it is given (read after the NonBlockingSink's flush()).
class RecordingSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  std::vector<std::string> lines;

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    lines.emplace_back(msg.payload.data(), msg.payload.size());
  }
  void flush_() override {}
};

// Several threads log at once into a small queue: each line arrives whole or is counted as
// dropped, and one thread's lines keep their order.
TEST(NonBlockingSink, ConcurrentProducersLoseNoLineUncountedAndKeepEachThreadsOrder) {
  auto recorder = std::make_shared<RecordingSink>();
  auto background = std::make_shared<NonBlockingSink>(recorder, /*capacity=*/64);
  spdlog::logger logger("stress", background);
  constexpr int kThreads = 4;
  constexpr int kLinesEach = 5000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&logger, t] {
      for (int i = 0; i < kLinesEach; ++i) logger.info("{} {}", t, i);
    });
  }
  for (std::thread& thread : threads) thread.join();
  background->flush();
  EXPECT_EQ(recorder->lines.size() + background->dropped(),
            static_cast<uint64_t>(kThreads * kLinesEach));
  std::vector<int> last(kThreads, -1);
  for (const std::string& line : recorder->lines) {
    int t = -1, i = -1;
    ASSERT_EQ(std::sscanf(line.c_str(), "%d %d", &t, &i), 2) << line;
    ASSERT_GT(i, last[t]) << "thread " << t << " out of order";
    last[t] = i;
  }
}

// A line longer than the slot is cut at a UTF-8 character boundary, never inside a character.
TEST(NonBlockingSink, CutsAnOverlongLineAtACharacterBoundary) {
  auto recorder = std::make_shared<RecordingSink>();
  auto background = std::make_shared<NonBlockingSink>(recorder, /*capacity=*/4);
  spdlog::logger logger("utf8", background);
  // "é" is two bytes: one byte of padding puts a character across the kMaxLineBytes limit.
  std::string line = "x";
  while (line.size() < NonBlockingSink::kMaxLineBytes + 8) line += "\xc3\xa9";
  logger.info("{}", line);
  background->flush();
  ASSERT_EQ(recorder->lines.size(), 1u);
  const std::string& written = recorder->lines[0];
  EXPECT_EQ(written.size(), NonBlockingSink::kMaxLineBytes - 1);
  EXPECT_EQ(written, line.substr(0, written.size()));
  EXPECT_NE(static_cast<unsigned char>(written.back()), 0xc3) << "cut inside a character";
}

// A target that throws costs the line (counted as dropped), never the logging thread: the lines
// after it are still written.
TEST(NonBlockingSink, ATargetThatThrowsCostsTheLineNotTheLoggingThread) {
  class FlakySink final : public spdlog::sinks::base_sink<std::mutex> {
   public:
    std::vector<std::string> lines;  // read after flush()

   protected:
    void sink_it_(const spdlog::details::log_msg& msg) override {
      std::string text(msg.payload.data(), msg.payload.size());
      if (text == "fail") throw spdlog::spdlog_ex("write failed");
      lines.push_back(std::move(text));
    }
    void flush_() override {}
  };
  auto flaky = std::make_shared<FlakySink>();
  auto background = std::make_shared<NonBlockingSink>(flaky, /*capacity=*/8);
  spdlog::logger logger("flaky", background);
  logger.info("before");
  logger.info("fail");
  logger.info("after");
  background->flush();
  EXPECT_EQ(flaky->lines, (std::vector<std::string>{"before", "after"}));
  EXPECT_EQ(background->dropped(), 1u);
}

}  // namespace
}  // namespace qt
