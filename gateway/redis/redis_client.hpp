// RedisClient: one pipelined connection to a Redis server, for the HTTP rate limiter's shared
// counters and for leader leases — an asynchronous command API that any thread may call.
//
//  submit (any thread): encodes the command (hiredis redisFormatCommandArgv) on the caller's
//    thread and hands it over a lock-free MPSC queue (moodycamel ConcurrentQueue) to the
//    client's own I/O thread, waking it with at most one asio::post per batch. submit() either
//    accepts the command — its callback then runs exactly once, later, on the client's thread —
//    or refuses it at once and never calls the callback: ResourceExhausted when max_outstanding
//    commands are unanswered, Unavailable while the client is not connected (fail fast: the
//    caller applies its own policy, e.g. the rate limiter's fail-open or fail-closed).
//  client thread: writes every queued command in one buffer (many commands per write; while a
//    write is in progress the next batch accumulates), parses replies with hiredis's reader and
//    completes callbacks in submission order (FIFO per submitting thread; across threads in the
//    order the queue delivered them, which is the order Redis executed them).
//  failures: a command unanswered command_timeout after submit() completes DeadlineExceeded (its
//    late reply is discarded; it keeps its place in the bound until then); a connection whose
//    oldest command stays unanswered unresponsive_timeout after submit() (Redis stopped, a dead
//    path) is dropped. On a dropped or lost connection every accepted command completes
//    Unavailable at once, and the client reconnects by itself (AUTH when configured, SELECT db)
//    with doubling backoff from reconnect_backoff_min to reconnect_backoff_max.
//
// Callbacks run on the client's thread: keep them short and non-blocking (hand the result to
// your own executor). They may call submit(); they must not destroy the client. Destruction
// completes every accepted command Unavailable and joins the thread; stop submitting first.
// Allocation per command: the encoded command (hiredis mallocs it), the callback's captures
// beyond AnyInvocable's inline storage, and a string or array reply's storage; per batch, the
// wake-up's Asio handler. The queue's blocks, the in-flight ring and the I/O buffers are reused.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gateway/redis/redis_reply.hpp"

namespace qt::redis {

// Where Redis is: "redis://host[:port][/db]" (port 6379 and db 0 when omitted; an IPv6 host in
// brackets). A password never goes into the URL (it would end up in configs and logs): see
// RedisClientOptions::password.
struct RedisEndpoint {
  std::string host;
  uint16_t port = 6379;
  int db = 0;
};
absl::StatusOr<RedisEndpoint> parse_redis_url(std::string_view url);
std::string to_string(const RedisEndpoint& endpoint);  // "redis://host:port/db"

struct RedisClientOptions {
  RedisEndpoint endpoint;
  // AUTH on every connect when non-empty (AUTH username password when username is set, Redis 6
  // ACLs). The caller reads it from its secret file; the client never logs it.
  std::string username;
  std::string password;
  std::chrono::milliseconds command_timeout{50};
  std::chrono::milliseconds unresponsive_timeout{1000};  // >= command_timeout
  std::chrono::milliseconds connect_timeout{1000};       // resolve + TCP connect + AUTH/SELECT
  std::chrono::milliseconds reconnect_backoff_min{25};
  std::chrono::milliseconds reconnect_backoff_max{2000};
  // Commands accepted and not yet answered (queued, written, or timed out but still owed a
  // reply by Redis). Beyond it submit() refuses with ResourceExhausted.
  std::size_t max_outstanding = 10'000;
};

// Counters for metrics; any thread may read them while the client runs.
struct RedisClientStats {
  uint64_t commands_sent = 0;         // written to the connection (the client's own included)
  uint64_t writes = 0;                // socket writes: commands_sent / writes = commands per write
  uint64_t replies = 0;               // received
  uint64_t error_replies = 0;         // of which Redis error replies (-ERR, -NOSCRIPT, ...)
  uint64_t deadline_exceeded = 0;     // commands completed DeadlineExceeded
  uint64_t failed_unavailable = 0;    // accepted commands completed Unavailable (connection lost)
  uint64_t refused_disconnected = 0;  // submit() refused: not connected
  uint64_t refused_full = 0;          // submit() refused: max_outstanding reached
  uint64_t connects = 0;              // connections established (AUTH/SELECT answered)
  uint64_t reconnects = 0;            // of which after an established one was lost
  uint64_t connect_failures = 0;      // connection attempts that failed
  uint64_t connection_losses = 0;     // established connections dropped
  uint64_t script_loads = 0;          // SCRIPT LOADs after NOSCRIPT
  uint64_t outstanding = 0;           // gauge: accepted, not yet answered
  bool connected = false;             // gauge
};

// Called exactly once with the reply (a Redis error reply is a reply), or with
// DeadlineExceeded or Unavailable.
using RedisCallback = absl::AnyInvocable<void(absl::StatusOr<RedisReply>) &&>;

// A Lua script run by EVALSHA (see RedisClient::eval_script): its source and SHA-1, computed
// once. Copies share the text.
class RedisScript {
 public:
  explicit RedisScript(std::string source);
  const std::string& source() const;
  const std::string& sha1() const;  // 40 lowercase hex digits, as SCRIPT LOAD returns it

 private:
  struct Body;
  std::shared_ptr<const Body> body_;
};

class RedisClient {
 public:
  // Starts the client's thread, which connects in the background (wait_until_connected()).
  // InvalidArgument for inconsistent options.
  static absl::StatusOr<std::unique_ptr<RedisClient>> start(RedisClientOptions options);
  ~RedisClient();
  RedisClient(const RedisClient&) = delete;
  RedisClient& operator=(const RedisClient&) = delete;

  // Any thread. One command, its arguments as Redis takes them ({"INCR", key}); the views need
  // live only during the call. OK = accepted; otherwise `done` is not called (see above).
  absl::Status submit(std::span<const std::string_view> args, RedisCallback done);
  absl::Status submit(std::initializer_list<std::string_view> args, RedisCallback done);

  // Any thread. EVALSHA sha numkeys keys... args...; on a NOSCRIPT reply (first use, SCRIPT
  // FLUSH, a restarted Redis) the client sends SCRIPT LOAD and EVALSHA again, pipelined, once,
  // within the first command's deadline, and `done` sees only the final outcome (a script that
  // does not compile: the SCRIPT LOAD error).
  absl::Status eval_script(const RedisScript& script, std::span<const std::string_view> keys,
                           std::span<const std::string_view> args, RedisCallback done);

  // Blocking versions for tests and command-line tools (never on the client's thread:
  // FailedPrecondition). They wait at most about command_timeout.
  absl::StatusOr<RedisReply> call(std::span<const std::string_view> args);
  absl::StatusOr<RedisReply> call(std::initializer_list<std::string_view> args);

  // Any thread: whether the connection is established and SELECTed; waits up to `timeout`.
  bool connected() const;
  bool wait_until_connected(std::chrono::milliseconds timeout) const;

  RedisClientStats stats() const;
  const RedisClientOptions& options() const;

 private:
  struct Impl;
  explicit RedisClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace qt::redis
