#include "gateway/redis/redis_client.hpp"

#include <concurrentqueue/concurrentqueue.h>
#include <fmt/format.h>
#include <hiredis/hiredis.h>
#include <openssl/evp.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/circular_buffer.hpp>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <future>
#include <optional>
#include <thread>
#include <utility>

#include "absl/container/inlined_vector.h"

namespace qt::redis {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using Clock = std::chrono::steady_clock;

constexpr Clock::time_point kNoDeadline = Clock::time_point::max();

// A command in the protocol's wire form, in the buffer redisFormatCommandArgv allocated.
class EncodedCommand {
 public:
  EncodedCommand() = default;
  ~EncodedCommand() { reset(); }
  EncodedCommand(EncodedCommand&& other) noexcept
      : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}
  EncodedCommand& operator=(EncodedCommand&& other) noexcept {
    if (this != &other) {
      reset();
      data_ = std::exchange(other.data_, nullptr);
      size_ = std::exchange(other.size_, 0);
    }
    return *this;
  }

  static absl::StatusOr<EncodedCommand> encode(std::span<const std::string_view> args) {
    if (args.empty()) return absl::InvalidArgumentError("a Redis command needs a name");
    absl::InlinedVector<const char*, 16> argv;
    absl::InlinedVector<size_t, 16> lengths;
    for (std::string_view arg : args) {
      argv.push_back(arg.data());
      lengths.push_back(arg.size());
    }
    EncodedCommand command;
    const int size = redisFormatCommandArgv(&command.data_, static_cast<int>(argv.size()),
                                            argv.data(), lengths.data());
    if (size < 0 || command.data_ == nullptr) {
      return absl::ResourceExhaustedError("out of memory encoding a Redis command");
    }
    command.size_ = static_cast<std::size_t>(size);
    return command;
  }

  // Another buffer with the same bytes (malloc, as hiredis allocates: redisFreeCommand frees).
  EncodedCommand copy() const {
    EncodedCommand out;
    out.data_ = static_cast<char*>(std::malloc(size_ == 0 ? 1 : size_));
    if (out.data_ != nullptr) {
      if (size_ != 0) std::memcpy(out.data_, data_, size_);
      out.size_ = size_;
    }
    return out;
  }

  std::string_view bytes() const { return {data_, size_}; }
  bool empty() const { return size_ == 0; }

 private:
  void reset() {
    if (data_ != nullptr) redisFreeCommand(data_);
    data_ = nullptr;
    size_ = 0;
  }

  char* data_ = nullptr;
  std::size_t size_ = 0;
};

// What a submitting thread hands to the client's thread.
struct Submission {
  EncodedCommand command;
  RedisCallback done;
  Clock::time_point deadline{};
};

// A command written (or about to be) on the connection, owed a reply, in reply order. `done`
// is empty once the command completed early (DeadlineExceeded).
struct InFlight {
  RedisCallback done;
  Clock::time_point deadline{};
};

// Written by one thread, read by any.
class SingleWriterCounter {
 public:
  void add(uint64_t n = 1) {
    value_.store(value_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  uint64_t get() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> value_{0};
};

void complete(RedisCallback& done, absl::StatusOr<RedisReply> result) {
  RedisCallback callback = std::move(done);
  done = nullptr;
  std::move(callback)(std::move(result));
}

absl::Status validate(const RedisClientOptions& options) {
  if (options.endpoint.host.empty()) return absl::InvalidArgumentError("redis: no host");
  if (options.endpoint.db < 0) return absl::InvalidArgumentError("redis: negative db");
  if (options.command_timeout.count() <= 0) {
    return absl::InvalidArgumentError("redis: command_timeout must be positive");
  }
  if (options.unresponsive_timeout < options.command_timeout) {
    return absl::InvalidArgumentError("redis: unresponsive_timeout must be >= command_timeout");
  }
  if (options.connect_timeout.count() <= 0) {
    return absl::InvalidArgumentError("redis: connect_timeout must be positive");
  }
  if (options.reconnect_backoff_min.count() <= 0 ||
      options.reconnect_backoff_max < options.reconnect_backoff_min) {
    return absl::InvalidArgumentError(
        "redis: reconnect backoff needs 0 < reconnect_backoff_min <= reconnect_backoff_max");
  }
  if (options.max_outstanding == 0) {
    return absl::InvalidArgumentError("redis: max_outstanding must be at least 1");
  }
  return absl::OkStatus();
}

bool parse_decimal(std::string_view text, int64_t max, int64_t& out) {
  if (text.empty()) return false;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, out);
  return ec == std::errc() && ptr == end && out >= 0 && out <= max;
}

}  // namespace

absl::StatusOr<RedisEndpoint> parse_redis_url(std::string_view url) {
  constexpr std::string_view kScheme = "redis://";
  auto invalid = [url](std::string_view why) {
    return absl::InvalidArgumentError(
        fmt::format("Redis URL '{}': {} (expected redis://host[:port][/db])", url, why));
  };
  if (!url.starts_with(kScheme)) return invalid("not a redis:// URL");
  std::string_view rest = url.substr(kScheme.size());
  const std::size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  const std::string_view path = slash == std::string_view::npos ? "" : rest.substr(slash + 1);
  if (authority.find('@') != std::string_view::npos) {
    // Not echoed: the URL holds a secret.
    return absl::InvalidArgumentError(
        "Redis URL: credentials do not belong in the URL; give the password separately");
  }
  RedisEndpoint endpoint;
  std::string_view port;
  if (authority.starts_with('[')) {
    const std::size_t close = authority.find(']');
    if (close == std::string_view::npos) return invalid("unclosed '[' in the host");
    endpoint.host = std::string(authority.substr(1, close - 1));
    const std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (!after.starts_with(':')) return invalid("unexpected text after the host");
      port = after.substr(1);
      if (port.empty()) return invalid("empty port");
    }
  } else {
    const std::size_t colon = authority.find(':');
    if (colon != std::string_view::npos) {
      if (authority.find(':', colon + 1) != std::string_view::npos) {
        return invalid("an IPv6 host goes in brackets");
      }
      port = authority.substr(colon + 1);
      if (port.empty()) return invalid("empty port");
    }
    endpoint.host = std::string(authority.substr(0, colon));
  }
  if (endpoint.host.empty()) return invalid("no host");
  if (!port.empty()) {
    int64_t value = 0;
    if (!parse_decimal(port, 65535, value) || value == 0) return invalid("bad port");
    endpoint.port = static_cast<uint16_t>(value);
  }
  if (!path.empty()) {
    int64_t value = 0;
    if (!parse_decimal(path, 1'000'000, value)) return invalid("the path must be a db number");
    endpoint.db = static_cast<int>(value);
  }
  return endpoint;
}

std::string to_string(const RedisEndpoint& endpoint) {
  const bool ipv6 = endpoint.host.find(':') != std::string::npos;
  return ipv6 ? fmt::format("redis://[{}]:{}/{}", endpoint.host, endpoint.port, endpoint.db)
              : fmt::format("redis://{}:{}/{}", endpoint.host, endpoint.port, endpoint.db);
}

// ---------------------------------------------------------------------------------------------
// RedisScript

struct RedisScript::Body {
  std::string source;
  std::string sha1;
};

RedisScript::RedisScript(std::string source) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  std::string hex;
  if (EVP_Digest(source.data(), source.size(), digest, &length, EVP_sha1(), nullptr) == 1) {
    static constexpr char kDigits[] = "0123456789abcdef";
    for (unsigned int i = 0; i < length; ++i) {
      hex.push_back(kDigits[digest[i] >> 4]);
      hex.push_back(kDigits[digest[i] & 0xf]);
    }
  }
  // Without a digest (no SHA-1 in this OpenSSL), EVALSHA of "" answers NOSCRIPT and every call
  // loads the script: slower, still correct.
  body_ = std::make_shared<const Body>(Body{std::move(source), std::move(hex)});
}

const std::string& RedisScript::source() const {
  return body_->source;
}
const std::string& RedisScript::sha1() const {
  return body_->sha1;
}

// ---------------------------------------------------------------------------------------------
// RedisClient::Impl

struct RedisClient::Impl {
  explicit Impl(RedisClientOptions opts)
      : options(std::move(opts)),
        name(to_string(options.endpoint)),
        backoff(options.reconnect_backoff_min) {
    in_flight.set_capacity(1024);
  }

  // ---- any thread ----------------------------------------------------------------------------

  // Accepts the command (moving `done` away) or refuses it (leaving `done` untouched). The
  // refusals come first, so that failing fast costs no encoding.
  absl::Status submit(std::span<const std::string_view> args, RedisCallback& done,
                      Clock::time_point deadline) {
    if (absl::Status admitted = reserve_place(); !admitted.ok()) return admitted;
    absl::StatusOr<EncodedCommand> command = EncodedCommand::encode(args);
    if (!command.ok()) {
      outstanding.fetch_sub(1, std::memory_order_relaxed);
      return command.status();
    }
    return hand_over(*command, done, deadline);
  }

  absl::Status submit(EncodedCommand& command, RedisCallback& done, Clock::time_point deadline) {
    if (absl::Status admitted = reserve_place(); !admitted.ok()) return admitted;
    return hand_over(command, done, deadline);
  }

  // A place among max_outstanding, or the reason there is none.
  absl::Status reserve_place() {
    if (stopping.load(std::memory_order_acquire)) {
      refused_disconnected.fetch_add(1, std::memory_order_relaxed);
      return absl::UnavailableError(fmt::format("{}: the client is stopping", name));
    }
    if (!connected.load(std::memory_order_acquire)) {
      refused_disconnected.fetch_add(1, std::memory_order_relaxed);
      return absl::UnavailableError(fmt::format("{}: not connected", name));
    }
    if (outstanding.fetch_add(1, std::memory_order_relaxed) >= options.max_outstanding) {
      outstanding.fetch_sub(1, std::memory_order_relaxed);
      refused_full.fetch_add(1, std::memory_order_relaxed);
      return absl::ResourceExhaustedError(
          fmt::format("{}: {} commands already unanswered", name, options.max_outstanding));
    }
    return absl::OkStatus();
  }

  // With a place reserved: queues the command for the client's thread.
  absl::Status hand_over(EncodedCommand& command, RedisCallback& done, Clock::time_point deadline) {
    Submission submission{std::move(command), std::move(done), deadline};
    if (!submissions.enqueue(std::move(submission))) {
      // The queue could not grow; enqueue() moves from its argument only on success.
      command = std::move(submission.command);
      done = std::move(submission.done);
      outstanding.fetch_sub(1, std::memory_order_relaxed);
      refused_full.fetch_add(1, std::memory_order_relaxed);
      return absl::ResourceExhaustedError(fmt::format("{}: out of memory queueing", name));
    }
    // One wake-up per batch: only the submitter that finds no wake-up pending posts one. The
    // client thread clears the flag before it drains, so a command queued after the drain
    // started either is drained by it or posts the next wake-up.
    if (!wake_pending.exchange(true, std::memory_order_acq_rel)) {
      asio::post(io, [this] { on_wake(); });
    }
    return absl::OkStatus();
  }

  Clock::time_point deadline_from_now() const { return Clock::now() + options.command_timeout; }

  RedisClientStats stats() const {
    RedisClientStats s;
    s.commands_sent = commands_sent.get();
    s.writes = writes.get();
    s.replies = replies.get();
    s.error_replies = error_replies.get();
    s.deadline_exceeded = deadline_exceeded.get();
    s.failed_unavailable = failed_unavailable.get();
    s.refused_disconnected = refused_disconnected.load(std::memory_order_relaxed);
    s.refused_full = refused_full.load(std::memory_order_relaxed);
    s.connects = connects.get();
    s.reconnects = reconnects.get();
    s.connect_failures = connect_failures.get();
    s.connection_losses = connection_losses.get();
    s.script_loads = script_loads.load(std::memory_order_relaxed);
    s.outstanding = outstanding.load(std::memory_order_relaxed);
    s.connected = connected.load(std::memory_order_relaxed);
    return s;
  }

  void start_thread() {
    asio::post(io, [this] { start_connect(); });
    thread = std::thread([this] { io.run(); });
  }

  void stop_thread() {
    stopping.store(true, std::memory_order_release);
    asio::post(io, [this] { shutdown(); });
    if (thread.joinable()) thread.join();
    // Commands that raced with stop() into the queue after the client thread's last drain.
    fail_queued(absl::UnavailableError(fmt::format("{}: the client stopped", name)));
  }

  // ---- client thread -------------------------------------------------------------------------

  enum class LinkState : uint8_t { kWaiting, kConnecting, kHandshaking, kConnected, kStopped };

  void start_connect() {
    if (state == LinkState::kStopped) return;
    state = LinkState::kConnecting;
    const uint64_t generation = ++link_generation;
    connect_timer.expires_after(options.connect_timeout);
    connect_timer.async_wait([this, generation](const boost::system::error_code& ec) {
      // Connected: a timer that expired as the handshake completed, too late to be cancelled.
      if (ec || generation != link_generation || state == LinkState::kConnected) return;
      fail_connection(fmt::format("no connection within {} ms", options.connect_timeout.count()));
    });
    resolver.async_resolve(
        options.endpoint.host, std::to_string(options.endpoint.port),
        tcp::resolver::numeric_service,
        [this, generation](const boost::system::error_code& ec, tcp::resolver::results_type found) {
          if (generation != link_generation) return;
          if (ec) return fail_connection("cannot resolve the host: " + ec.message());
          asio::async_connect(
              socket, found,
              [this, generation](const boost::system::error_code& error, const tcp::endpoint&) {
                if (generation != link_generation) return;
                if (error) return fail_connection("cannot connect: " + error.message());
                boost::system::error_code ignored;
                socket.set_option(tcp::no_delay(true), ignored);
                socket.set_option(asio::socket_base::keep_alive(true), ignored);
                begin_handshake();
              });
        });
  }

  // AUTH (when configured) and SELECT, pipelined; connected once SELECT answers +OK.
  void begin_handshake() {
    state = LinkState::kHandshaking;
    reader = std::make_unique<RedisReplyReader>();
    const uint64_t generation = link_generation;
    if (!options.password.empty()) {
      const std::array<std::string_view, 3> with_user = {"AUTH", options.username,
                                                         options.password};
      const std::array<std::string_view, 2> password_only = {"AUTH", options.password};
      send_internal(options.username.empty() ? std::span<const std::string_view>(password_only)
                                             : std::span<const std::string_view>(with_user),
                    [this, generation](absl::StatusOr<RedisReply> reply) {
                      if (generation != link_generation || !reply.ok()) return;
                      if (reply->is_error()) fail_connection("AUTH refused: " + reply->text());
                    });
    }
    const std::string db = std::to_string(options.endpoint.db);
    const std::array<std::string_view, 2> select = {"SELECT", db};
    send_internal(select, [this, generation](absl::StatusOr<RedisReply> reply) {
      if (generation != link_generation || !reply.ok()) return;
      if (reply->is_error()) return fail_connection("SELECT refused: " + reply->text());
      on_connected();
    });
    start_read();
    flush_output();
  }

  void send_internal(std::span<const std::string_view> args, RedisCallback done) {
    absl::StatusOr<EncodedCommand> command = EncodedCommand::encode(args);
    if (!command.ok()) return fail_connection(std::string(command.status().message()));
    outstanding.fetch_add(1, std::memory_order_relaxed);
    append_command(*command, std::move(done), kNoDeadline);
  }

  void on_connected() {
    state = LinkState::kConnected;
    connect_timer.cancel();
    backoff = options.reconnect_backoff_min;
    if (ever_connected) reconnects.add();
    connects.add();
    if (ever_connected) {
      spdlog::info("redis {}: reconnected ({} failed attempt(s) since the loss)", name,
                   failed_attempts);
    } else if (failed_attempts > 0) {
      spdlog::info("redis {}: connected after {} failed attempt(s)", name, failed_attempts);
    } else {
      spdlog::info("redis {}: connected", name);
    }
    ever_connected = true;
    failed_attempts = 0;
    connected.store(true, std::memory_order_release);
    drain_submissions();
  }

  void on_wake() {
    // Acquire: the exchange reads the flag a submitter set after its enqueue, so that enqueue
    // is visible to the drain below.
    wake_pending.exchange(false, std::memory_order_acq_rel);
    drain_submissions();
  }

  void drain_submissions() {
    std::array<Submission, 64> batch;
    std::size_t count = 0;
    while ((count = submissions.try_dequeue_bulk(consumer, batch.begin(), batch.size())) != 0) {
      for (std::size_t i = 0; i < count; ++i) {
        Submission& submission = batch[i];
        if (state != LinkState::kConnected) {
          outstanding.fetch_sub(1, std::memory_order_relaxed);
          failed_unavailable.add();
          complete(submission.done, absl::UnavailableError(fmt::format("{}: not connected", name)));
        } else {
          append_command(submission.command, std::move(submission.done), submission.deadline);
        }
        submission.command = EncodedCommand();
      }
    }
    flush_output();
    arm_sweep();
  }

  void append_command(EncodedCommand& command, RedisCallback done, Clock::time_point deadline) {
    pending_output.append(command.bytes());
    if (in_flight.full()) in_flight.set_capacity(in_flight.capacity() * 2);
    in_flight.push_back(InFlight{std::move(done), deadline});
    commands_sent.add();
  }

  // Writes everything pending in one write; what is appended meanwhile goes in the next one.
  void flush_output() {
    if (writing || pending_output.empty()) return;
    if (state != LinkState::kConnected && state != LinkState::kHandshaking) return;
    writing = true;
    writes.add();
    std::swap(pending_output, writing_output);
    const uint64_t generation = link_generation;
    asio::async_write(socket, asio::buffer(writing_output),
                      [this, generation](const boost::system::error_code& ec, std::size_t) {
                        if (generation != link_generation) return;
                        writing = false;
                        writing_output.clear();
                        if (ec) return fail_connection("write failed: " + ec.message());
                        flush_output();
                      });
  }

  void start_read() {
    const uint64_t generation = link_generation;
    socket.async_read_some(
        asio::buffer(read_buffer),
        [this, generation](const boost::system::error_code& ec, std::size_t bytes) {
          if (generation != link_generation) return;
          if (ec == asio::error::eof) return fail_connection("Redis closed the connection");
          if (ec) return fail_connection("read failed: " + ec.message());
          on_bytes(generation, std::string_view(read_buffer.data(), bytes));
        });
  }

  void on_bytes(uint64_t generation, std::string_view bytes) {
    if (absl::Status fed = reader->feed(bytes); !fed.ok()) {
      return fail_connection(std::string(fed.message()));
    }
    for (;;) {
      absl::StatusOr<std::optional<RedisReply>> next = reader->next();
      if (!next.ok()) return fail_connection(std::string(next.status().message()));
      if (!next->has_value()) break;
      replies.add();
      if ((*next)->is_error()) error_replies.add();
      if (in_flight.empty()) return fail_connection("a reply to no command");
      InFlight answered = std::move(in_flight.front());
      in_flight.pop_front();
      if (deadline_cursor > 0) --deadline_cursor;
      outstanding.fetch_sub(1, std::memory_order_relaxed);
      if (answered.done) complete(answered.done, std::move(**next));
      // An internal callback may have dropped the connection (AUTH or SELECT refused).
      if (generation != link_generation) return;
    }
    start_read();
    arm_sweep();
  }

  Clock::time_point unresponsive_at(const InFlight& oldest) const {
    return oldest.deadline - options.command_timeout + options.unresponsive_timeout;
  }

  // One timer for every deadline: it wakes at the earliest of the first pending command's
  // deadline and the oldest unanswered command's unresponsive time. Deadlines are submit time +
  // one timeout, so they come in (nearly) the order of the ring; a command whose deadline is a
  // few microseconds before its predecessor's (another thread's) expires with that predecessor.
  void arm_sweep() {
    if (state != LinkState::kConnected) return;
    Clock::time_point wake = kNoDeadline;
    if (deadline_cursor < in_flight.size()) wake = in_flight[deadline_cursor].deadline;
    if (!in_flight.empty() && in_flight.front().deadline != kNoDeadline) {
      wake = std::min(wake, unresponsive_at(in_flight.front()));
    }
    if (wake == kNoDeadline) return;
    if (sweep_armed && sweep_wake <= wake) return;
    sweep_armed = true;
    sweep_wake = wake;
    sweep_timer.expires_at(wake);
    const uint64_t generation = link_generation;
    sweep_timer.async_wait([this, generation](const boost::system::error_code& ec) {
      if (ec || generation != link_generation) return;
      sweep_armed = false;
      on_sweep(generation);
    });
  }

  void on_sweep(uint64_t generation) {
    const Clock::time_point now = Clock::now();
    while (deadline_cursor < in_flight.size()) {
      InFlight& entry = in_flight[deadline_cursor];
      if (entry.done) {
        if (entry.deadline > now) break;
        deadline_exceeded.add();
        complete(entry.done,
                 absl::DeadlineExceededError(fmt::format("{}: no reply within {} ms", name,
                                                         options.command_timeout.count())));
      }
      ++deadline_cursor;
    }
    if (generation != link_generation) return;
    if (!in_flight.empty() && in_flight.front().deadline != kNoDeadline &&
        now >= unresponsive_at(in_flight.front())) {
      return fail_connection(fmt::format("no reply for {} ms; Redis is stopped or unreachable",
                                         options.unresponsive_timeout.count()));
    }
    arm_sweep();
  }

  // Drops the connection: every accepted command completes Unavailable, and a reconnect is
  // scheduled after the backoff.
  void fail_connection(std::string reason) {
    const bool was_connected = state == LinkState::kConnected;
    (was_connected ? connection_losses : connect_failures).add();
    // After the counter: a reader that sees `connected` false also sees it counted.
    connected.store(false, std::memory_order_release);
    ++link_generation;
    if (state != LinkState::kStopped) state = LinkState::kWaiting;
    close_link();
    const std::size_t failing = in_flight.size();
    if (was_connected) {
      spdlog::warn("redis {}: connection lost ({}); failing {} command(s), reconnecting", name,
                   reason, failing);
    } else {
      if (failed_attempts == 0) {
        spdlog::warn("redis {}: cannot connect ({}); retrying with backoff up to {} ms", name,
                     reason, options.reconnect_backoff_max.count());
      } else {
        spdlog::debug("redis {}: connect attempt {} failed ({})", name, failed_attempts + 1,
                      reason);
      }
      ++failed_attempts;
    }
    const absl::Status unavailable = absl::UnavailableError(fmt::format("{}: {}", name, reason));
    fail_accepted(unavailable);
    schedule_reconnect();
  }

  void close_link() {
    boost::system::error_code ignored;
    socket.close(ignored);
    resolver.cancel();
    connect_timer.cancel();
    sweep_timer.cancel();
    sweep_armed = false;
    writing = false;
    pending_output.clear();
    writing_output.clear();
  }

  // Completes every command on the connection and in the queue with `status`. Callbacks may
  // submit again: `connected` is already false, so they are refused at once.
  void fail_accepted(const absl::Status& status) {
    while (!in_flight.empty()) {
      InFlight entry = std::move(in_flight.front());
      in_flight.pop_front();
      outstanding.fetch_sub(1, std::memory_order_relaxed);
      if (entry.done) {
        failed_unavailable.add();
        complete(entry.done, status);
      }
    }
    deadline_cursor = 0;
    fail_queued(status);
  }

  void fail_queued(const absl::Status& status) {
    std::array<Submission, 64> batch;
    std::size_t count = 0;
    while ((count = submissions.try_dequeue_bulk(consumer, batch.begin(), batch.size())) != 0) {
      for (std::size_t i = 0; i < count; ++i) {
        outstanding.fetch_sub(1, std::memory_order_relaxed);
        failed_unavailable.add();
        complete(batch[i].done, status);
        batch[i].command = EncodedCommand();
      }
    }
  }

  void schedule_reconnect() {
    if (state == LinkState::kStopped) return;
    backoff_timer.expires_after(backoff);
    backoff = std::min(backoff * 2, options.reconnect_backoff_max);
    const uint64_t generation = link_generation;
    backoff_timer.async_wait([this, generation](const boost::system::error_code& ec) {
      if (ec || generation != link_generation) return;
      start_connect();
    });
  }

  void shutdown() {
    state = LinkState::kStopped;
    connected.store(false, std::memory_order_release);
    ++link_generation;
    close_link();
    backoff_timer.cancel();
    fail_accepted(absl::UnavailableError(fmt::format("{}: the client stopped", name)));
    work.reset();
    io.stop();
  }

  // ---- members -------------------------------------------------------------------------------

  const RedisClientOptions options;
  const std::string name;  // redis://host:port/db, for logs and errors

  // Shared by submitters and the client thread.
  alignas(64) std::atomic<std::size_t> outstanding{0};
  std::atomic<bool> wake_pending{false};
  std::atomic<bool> connected{false};
  std::atomic<bool> stopping{false};
  std::atomic<uint64_t> refused_disconnected{0};
  std::atomic<uint64_t> refused_full{0};
  std::atomic<uint64_t> script_loads{0};
  moodycamel::ConcurrentQueue<Submission> submissions;

  // The client thread's; the counters are read by stats() from any thread.
  alignas(64) SingleWriterCounter commands_sent;
  SingleWriterCounter writes;
  SingleWriterCounter replies;
  SingleWriterCounter error_replies;
  SingleWriterCounter deadline_exceeded;
  SingleWriterCounter failed_unavailable;
  SingleWriterCounter connects;
  SingleWriterCounter reconnects;
  SingleWriterCounter connect_failures;
  SingleWriterCounter connection_losses;

  asio::io_context io{1};
  asio::executor_work_guard<asio::io_context::executor_type> work{io.get_executor()};
  tcp::resolver resolver{io};
  tcp::socket socket{io};
  asio::steady_timer connect_timer{io};
  asio::steady_timer sweep_timer{io};
  asio::steady_timer backoff_timer{io};
  moodycamel::ConsumerToken consumer{submissions};

  LinkState state = LinkState::kWaiting;
  uint64_t link_generation = 0;  // bumped whenever a connection ends: stale handlers see it
  std::unique_ptr<RedisReplyReader> reader;
  std::array<char, 16 * 1024> read_buffer{};
  std::string pending_output;
  std::string writing_output;
  bool writing = false;
  boost::circular_buffer<InFlight> in_flight;
  std::size_t deadline_cursor = 0;  // in_flight before it: answered late or expired
  bool sweep_armed = false;
  Clock::time_point sweep_wake{};
  std::chrono::milliseconds backoff;
  bool ever_connected = false;
  uint64_t failed_attempts = 0;

  std::thread thread;
};

// ---------------------------------------------------------------------------------------------
// RedisClient

absl::StatusOr<std::unique_ptr<RedisClient>> RedisClient::start(RedisClientOptions options) {
  if (absl::Status valid = validate(options); !valid.ok()) return valid;
  auto impl = std::make_unique<Impl>(std::move(options));
  impl->start_thread();
  return std::unique_ptr<RedisClient>(new RedisClient(std::move(impl)));
}

RedisClient::RedisClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

RedisClient::~RedisClient() {
  impl_->stop_thread();
}

absl::Status RedisClient::submit(std::span<const std::string_view> args, RedisCallback done) {
  return impl_->submit(args, done, impl_->deadline_from_now());
}

absl::Status RedisClient::submit(std::initializer_list<std::string_view> args, RedisCallback done) {
  return submit(std::span<const std::string_view>(args.begin(), args.size()), std::move(done));
}

absl::Status RedisClient::eval_script(const RedisScript& script,
                                      std::span<const std::string_view> keys,
                                      std::span<const std::string_view> args, RedisCallback done) {
  const std::string key_count = std::to_string(keys.size());
  absl::InlinedVector<std::string_view, 16> argv = {"EVALSHA", script.sha1(), key_count};
  argv.insert(argv.end(), keys.begin(), keys.end());
  argv.insert(argv.end(), args.begin(), args.end());
  absl::StatusOr<EncodedCommand> command = EncodedCommand::encode(argv);
  if (!command.ok()) return command.status();
  EncodedCommand again = command->copy();
  if (again.empty()) return absl::ResourceExhaustedError("out of memory encoding EVALSHA");

  const Clock::time_point deadline = impl_->deadline_from_now();
  Impl* impl = impl_.get();
  RedisCallback first = [impl, script, again = std::move(again), deadline,
                         done = std::move(done)](absl::StatusOr<RedisReply> reply) mutable {
    if (!reply.ok() || !reply->is_error_code("NOSCRIPT")) {
      return std::move(done)(std::move(reply));
    }
    // Redis does not know the script (never loaded, SCRIPT FLUSH, restarted): load it and run
    // it again, both in the same write. A load that fails (a script that does not compile)
    // leaves its error for the second EVALSHA's NOSCRIPT to report.
    impl->script_loads.fetch_add(1, std::memory_order_relaxed);
    auto load_error = std::make_shared<std::optional<absl::StatusOr<RedisReply>>>();
    const std::array<std::string_view, 3> load = {"SCRIPT", "LOAD", script.source()};
    RedisCallback on_load = [load_error](absl::StatusOr<RedisReply> loaded) {
      if (!loaded.ok() || loaded->is_error()) *load_error = std::move(loaded);
    };
    if (absl::Status accepted = impl->submit(load, on_load, deadline); !accepted.ok()) {
      return std::move(done)(accepted);
    }
    RedisCallback on_retry = [load_error,
                              done = std::move(done)](absl::StatusOr<RedisReply> retried) mutable {
      if (load_error->has_value() && retried.ok() && retried->is_error_code("NOSCRIPT")) {
        return std::move(done)(std::move(**load_error));
      }
      std::move(done)(std::move(retried));
    };
    if (absl::Status accepted = impl->submit(again, on_retry, deadline); !accepted.ok()) {
      std::move(on_retry)(accepted);
    }
  };
  return impl_->submit(*command, first, deadline);
}

absl::StatusOr<RedisReply> RedisClient::call(std::span<const std::string_view> args) {
  if (std::this_thread::get_id() == impl_->thread.get_id()) {
    return absl::FailedPreconditionError("RedisClient::call on the client's own thread");
  }
  auto promise = std::make_shared<std::promise<absl::StatusOr<RedisReply>>>();
  std::future<absl::StatusOr<RedisReply>> future = promise->get_future();
  absl::Status accepted = submit(
      args, [promise](absl::StatusOr<RedisReply> reply) { promise->set_value(std::move(reply)); });
  if (!accepted.ok()) return accepted;
  return future.get();
}

absl::StatusOr<RedisReply> RedisClient::call(std::initializer_list<std::string_view> args) {
  return call(std::span<const std::string_view>(args.begin(), args.size()));
}

bool RedisClient::connected() const {
  return impl_->connected.load(std::memory_order_acquire);
}

bool RedisClient::wait_until_connected(std::chrono::milliseconds timeout) const {
  const Clock::time_point until = Clock::now() + timeout;
  while (!connected()) {
    if (Clock::now() >= until) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

RedisClientStats RedisClient::stats() const {
  return impl_->stats();
}

const RedisClientOptions& RedisClient::options() const {
  return impl_->options;
}

}  // namespace qt::redis
