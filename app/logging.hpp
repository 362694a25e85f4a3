// Process-wide logging set-up (spdlog): human-readable text, or JSON lines with the message
// escaped, on stderr. Called once by main before any thread starts.
//
// With LogWrites::kBackground (`quanttrading run`) every line goes through a NonBlockingSink: a
// thread that logs — the engine on a burst of illegal transitions — never waits on the terminal.
#pragma once

#include <spdlog/sinks/sink.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string_view>
#include <thread>

#include "absl/status/status.h"
#include "engine/idle_strategy.hpp"

namespace qt {

enum class LogWrites : uint8_t { kCaller, kBackground };

absl::Status setup_logging(std::string_view level, std::string_view format,
                           LogWrites writes = LogWrites::kCaller);
// Called once by main before it returns: writes every queued line, stops the background writer
// and logs on the caller's thread from then on.
void shutdown_logging();
// Lines the background writer had no room for since set-up (0 with kCaller).
uint64_t log_lines_dropped();

// A spdlog sink for loggers used on hot threads. log() copies the formatted line into a slot of
// a bounded lock-free multi-producer queue and rings a logging thread, which writes it through
// `target`: no lock, no allocation, no wait. A line that finds the queue full is dropped and
// counted, as is one the target fails to write; one longer than kMaxLineBytes is cut there (at a
// UTF-8 character boundary). Lines keep their order.
class NonBlockingSink final : public spdlog::sinks::sink {
 public:
  static constexpr std::size_t kDefaultCapacity = 1024;  // lines; a power of two
  static constexpr std::size_t kMaxLineBytes = 1920;

  explicit NonBlockingSink(std::shared_ptr<spdlog::sinks::sink> target,
                           std::size_t capacity = kDefaultCapacity);
  ~NonBlockingSink() override;  // stop()
  // Writes what is queued and joins the logging thread; later lines are not written. Idempotent.
  void stop();

  void log(const spdlog::details::log_msg& msg) override;
  // Waits until every line queued before the call is written, then flushes the target. Not for
  // hot threads (only main calls it, before exit).
  void flush() override;
  void set_pattern(const std::string& pattern) override;
  void set_formatter(std::unique_ptr<spdlog::formatter> formatter) override;

  const std::shared_ptr<spdlog::sinks::sink>& target() const noexcept { return target_; }
  uint64_t dropped() const noexcept { return dropped_.load(std::memory_order_relaxed); }

 private:
  struct Slot;
  bool write_one();
  void run();

  std::shared_ptr<spdlog::sinks::sink> target_;
  const std::size_t mask_;
  std::unique_ptr<Slot[]> slots_;
  alignas(64) std::atomic<uint64_t> enqueue_position_{0};
  alignas(64) std::atomic<uint64_t> written_{0};  // the logging thread's dequeue position
  std::atomic<uint64_t> dropped_{0};
  std::atomic<bool> stopping_{false};
  Doorbell doorbell_;
  std::thread thread_;
};

}  // namespace qt
