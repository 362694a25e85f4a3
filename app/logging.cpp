#include "app/logging.hpp"

#include <pthread.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <cassert>
#include <chrono>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "common/json_writer.hpp"

namespace qt {

namespace {

std::shared_ptr<NonBlockingSink> g_background_sink;  // set once by setup_logging

// %*: the log message as a quoted JSON string.
class JsonEscapedMessage final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    append_json_string(dest, std::string_view(msg.payload.data(), msg.payload.size()));
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<JsonEscapedMessage>();
  }
};

// The longest prefix of `text` of at most `limit` bytes that does not end inside a UTF-8
// sequence, so a cut line is still valid UTF-8 (and valid JSON once escaped).
std::size_t utf8_prefix_length(std::string_view text, std::size_t limit) {
  if (text.size() <= limit) return text.size();
  std::size_t length = limit;
  while (length > 0 && (static_cast<unsigned char>(text[length]) & 0xC0) == 0x80) --length;
  return length;
}

}  // namespace

struct NonBlockingSink::Slot {
  std::atomic<uint64_t> sequence{0};
  spdlog::log_clock::time_point time;
  spdlog::source_loc source;
  std::size_t thread_id = 0;
  spdlog::level::level_enum level = spdlog::level::off;
  uint8_t logger_name_length = 0;
  uint16_t length = 0;
  std::array<char, 32> logger_name;
  std::array<char, kMaxLineBytes> text;
};

NonBlockingSink::NonBlockingSink(std::shared_ptr<spdlog::sinks::sink> target, std::size_t capacity)
    : target_(std::move(target)), mask_(capacity - 1), slots_(new Slot[capacity]) {
  assert(capacity >= 2 && (capacity & (capacity - 1)) == 0);
  for (std::size_t i = 0; i < capacity; ++i) slots_[i].sequence.store(i, std::memory_order_relaxed);
  thread_ = std::thread([this] {
    ::pthread_setname_np(::pthread_self(), "qt-log");
    run();
  });
}

NonBlockingSink::~NonBlockingSink() {
  stop();
}

void NonBlockingSink::stop() {
  if (!thread_.joinable()) return;
  stopping_.store(true, std::memory_order_release);
  doorbell_.ring();
  thread_.join();
}

void NonBlockingSink::log(const spdlog::details::log_msg& msg) {
  // A bounded multi-producer queue (D. Vyukov's): a producer claims a position by CAS, fills the
  // slot and publishes it through the slot's sequence; a slot not yet written back is full.
  uint64_t position = enqueue_position_.load(std::memory_order_relaxed);
  Slot* slot;
  while (true) {
    slot = &slots_[position & mask_];
    const uint64_t sequence = slot->sequence.load(std::memory_order_acquire);
    const auto lag = static_cast<int64_t>(sequence - position);
    if (lag == 0) {
      if (enqueue_position_.compare_exchange_weak(position, position + 1,
                                                  std::memory_order_relaxed)) {
        break;
      }
    } else if (lag < 0) {
      dropped_.fetch_add(1, std::memory_order_relaxed);
      return;
    } else {
      position = enqueue_position_.load(std::memory_order_relaxed);
    }
  }
  slot->time = msg.time;
  slot->source = msg.source;
  slot->thread_id = msg.thread_id;
  slot->level = msg.level;
  slot->logger_name_length =
      static_cast<uint8_t>(std::min(msg.logger_name.size(), slot->logger_name.size()));
  std::memcpy(slot->logger_name.data(), msg.logger_name.data(), slot->logger_name_length);
  slot->length = static_cast<uint16_t>(utf8_prefix_length(
      std::string_view(msg.payload.data(), msg.payload.size()), slot->text.size()));
  std::memcpy(slot->text.data(), msg.payload.data(), slot->length);
  slot->sequence.store(position + 1, std::memory_order_release);
  doorbell_.ring();
}

bool NonBlockingSink::write_one() {
  const uint64_t position = written_.load(std::memory_order_relaxed);
  Slot& slot = slots_[position & mask_];
  if (slot.sequence.load(std::memory_order_acquire) != position + 1) return false;
  spdlog::details::log_msg msg(
      slot.time, slot.source,
      spdlog::string_view_t(slot.logger_name.data(), slot.logger_name_length), slot.level,
      spdlog::string_view_t(slot.text.data(), slot.length));
  msg.thread_id = slot.thread_id;
  try {
    target_->log(msg);
  } catch (const std::exception&) {
    // A failed write (stderr closed, disk full behind a redirect) costs this line, never the
    // logging thread: an exception escaping it would terminate the process.
    dropped_.fetch_add(1, std::memory_order_relaxed);
  }
  slot.sequence.store(position + mask_ + 1, std::memory_order_release);
  written_.store(position + 1, std::memory_order_release);
  return true;
}

void NonBlockingSink::run() {
  while (true) {
    if (write_one()) continue;
    if (stopping_.load(std::memory_order_acquire)) {
      while (write_one()) {
      }
      target_->flush();
      return;
    }
    const uint32_t epoch = doorbell_.prepare_wait();
    const Slot& next = slots_[written_.load(std::memory_order_relaxed) & mask_];
    if (next.sequence.load(std::memory_order_acquire) !=
            written_.load(std::memory_order_relaxed) + 1 &&
        !stopping_.load(std::memory_order_acquire)) {
      doorbell_.wait_until(epoch, kNoDeadline);
    }
    doorbell_.cancel_wait();
  }
}

void NonBlockingSink::flush() {
  const uint64_t queued = enqueue_position_.load(std::memory_order_acquire);
  while (written_.load(std::memory_order_acquire) < queued) {
    std::this_thread::sleep_for(std::chrono::microseconds(100));
  }
  target_->flush();
}

void NonBlockingSink::set_pattern(const std::string& pattern) {
  target_->set_pattern(pattern);
}

void NonBlockingSink::set_formatter(std::unique_ptr<spdlog::formatter> formatter) {
  target_->set_formatter(std::move(formatter));
}

absl::Status setup_logging(std::string_view level, std::string_view format, LogWrites writes) {
  const spdlog::level::level_enum parsed = spdlog::level::from_str(std::string(level));
  if (parsed == spdlog::level::off && level != "off") {
    return absl::InvalidArgumentError(
        absl::StrCat("log.level: unknown level '", std::string(level), "'"));
  }
  std::shared_ptr<spdlog::sinks::sink> sink =
      std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
  if (writes == LogWrites::kBackground) {
    g_background_sink = std::make_shared<NonBlockingSink>(std::move(sink));
    sink = g_background_sink;
  }
  auto logger = std::make_shared<spdlog::logger>("quanttrading", std::move(sink));
  if (format == "json") {
    auto formatter = std::make_unique<spdlog::pattern_formatter>(spdlog::pattern_time_type::utc);
    formatter->add_flag<JsonEscapedMessage>('*').set_pattern(
        R"({"ts":"%Y-%m-%dT%H:%M:%S.%fZ","level":"%l","thread":%t,"msg":%*})");
    logger->set_formatter(std::move(formatter));
  } else if (format == "text") {
    logger->set_pattern("%Y-%m-%d %H:%M:%S.%e %^%-5l%$ %v");
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("log.format: unknown format '", std::string(format), "'"));
  }
  logger->set_level(parsed);
  spdlog::set_default_logger(logger);
  return absl::OkStatus();
}

void shutdown_logging() {
  spdlog::default_logger()->flush();
  if (g_background_sink == nullptr) return;
  // Back to writing on the caller's thread, then stop the background writer here rather than
  // in static destruction, where the order against spdlog's own registry is unspecified.
  auto logger = std::make_shared<spdlog::logger>(spdlog::default_logger()->name(),
                                                 g_background_sink->target());
  logger->set_level(spdlog::default_logger()->level());
  spdlog::set_default_logger(std::move(logger));
  g_background_sink->stop();
}

uint64_t log_lines_dropped() {
  return g_background_sink != nullptr ? g_background_sink->dropped() : 0;
}

}  // namespace qt
