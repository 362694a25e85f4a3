// RedisClient against a real redis-server that each test starts on its own port and directory
// (tests/redis/redis_server_process.hpp): reply types, pipelining from several threads in FIFO
// order, EVALSHA/NOSCRIPT, a killed and restarted Redis, a stopped (SIGSTOP) Redis, the bound on
// unanswered commands, SELECT, AUTH and shutdown.
#include "gateway/redis/redis_client.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <numeric>
#include <thread>
#include <vector>

#include "tests/redis/redis_server_process.hpp"
#include "tests/support/test_files.hpp"

namespace qt::redis {

// gtest prints replies as redis-cli would.
void PrintTo(const RedisReply& reply, std::ostream* out) {
  *out << reply.debug_string();
}

namespace {

using namespace std::chrono_literals;
using test::RedisServerProcess;
using Clock = std::chrono::steady_clock;

// The results one callback received, awaited by the test thread. Held by shared_ptr so that a
// callback the client runs late (at its destruction) never outlives it.
class Outcome : public std::enable_shared_from_this<Outcome> {
 public:
  static std::shared_ptr<Outcome> make() { return std::make_shared<Outcome>(); }

  RedisCallback callback() {
    return [self = shared_from_this()](absl::StatusOr<RedisReply> result) {
      std::lock_guard lock(self->mutex_);
      self->results_.push_back(std::move(result));
      self->thread_ = std::this_thread::get_id();
      self->changed_.notify_all();
    };
  }

  // The first result; kAborted (a code the client never uses) when no callback ran in time.
  absl::StatusOr<RedisReply> wait(std::chrono::milliseconds timeout = 10s) {
    std::unique_lock lock(mutex_);
    if (!changed_.wait_for(lock, timeout, [this] { return !results_.empty(); })) {
      return absl::AbortedError("test: the callback did not run");
    }
    return results_.front();
  }

  std::size_t calls() {
    std::lock_guard lock(mutex_);
    return results_.size();
  }
  std::thread::id thread() {
    std::lock_guard lock(mutex_);
    return thread_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<absl::StatusOr<RedisReply>> results_;
  std::thread::id thread_;
};

template <typename Predicate>
bool eventually(Predicate predicate, std::chrono::milliseconds timeout = 10s) {
  const auto until = Clock::now() + timeout;
  while (!predicate()) {
    if (Clock::now() >= until) return false;
    std::this_thread::sleep_for(2ms);
  }
  return true;
}

class RedisClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<RedisServerProcess>> started =
        RedisServerProcess::start(scratch_.path() / "redis");
    ASSERT_TRUE(started.ok()) << started.status();
    server_ = std::move(*started);
  }

  RedisClientOptions options_for(int db = 0) const {
    RedisClientOptions options;
    absl::StatusOr<RedisEndpoint> endpoint = parse_redis_url(server_->url(db));
    EXPECT_TRUE(endpoint.ok()) << endpoint.status();
    if (endpoint.ok()) options.endpoint = *endpoint;
    options.reconnect_backoff_max = 100ms;
    return options;
  }

  // A started, connected client (nullptr after a recorded failure).
  static std::unique_ptr<RedisClient> connect(RedisClientOptions options) {
    absl::StatusOr<std::unique_ptr<RedisClient>> client = RedisClient::start(std::move(options));
    EXPECT_TRUE(client.ok()) << client.status();
    if (!client.ok()) return nullptr;
    EXPECT_TRUE((*client)->wait_until_connected(10s)) << "no connection to Redis within 10 s";
    return std::move(*client);
  }

  qt::testing::ScratchDir scratch_{"redis_client"};
  std::unique_ptr<RedisServerProcess> server_;
};

TEST_F(RedisClientTest, EveryReplyTypeArrivesAsAnOwningValue) {
  std::unique_ptr<RedisClient> client = connect(options_for());
  ASSERT_NE(client, nullptr);

  EXPECT_EQ(*client->call({"SET", "key", "value"}), RedisReply::simple_string("OK"));
  EXPECT_EQ(*client->call({"GET", "key"}), RedisReply::bulk_string("value"));
  EXPECT_EQ(*client->call({"GET", "missing"}), RedisReply::nil());
  EXPECT_EQ(*client->call({"INCR", "n"}), RedisReply::integer(1));
  EXPECT_EQ(*client->call({"INCRBY", "n", "-5"}), RedisReply::integer(-4));
  EXPECT_EQ(*client->call({"INCR", "key"}),
            RedisReply::error("ERR value is not an integer or out of range"));
  EXPECT_EQ(*client->call({"RPUSH", "list", "a", "b"}), RedisReply::integer(2));
  EXPECT_EQ(*client->call({"LRANGE", "list", "0", "-1"}),
            RedisReply::array({RedisReply::bulk_string("a"), RedisReply::bulk_string("b")}));
  EXPECT_EQ(*client->call({"LRANGE", "no-list", "0", "-1"}), RedisReply::array({}));
  // Nested arrays with a status and an error inside, as a Lua script returns them.
  EXPECT_EQ(
      *client->call({"EVAL",
                     "return {1, {2, 'x'}, redis.status_reply('FINE'), "
                     "redis.error_reply('ERR mine')}",
                     "0"}),
      RedisReply::array({RedisReply::integer(1),
                         RedisReply::array({RedisReply::integer(2), RedisReply::bulk_string("x")}),
                         RedisReply::simple_string("FINE"), RedisReply::error("ERR mine")}));
  // Arguments and replies are binary-safe.
  const std::string binary("a\r\nb\0c", 6);
  EXPECT_EQ(*client->call({"SET", binary, binary}), RedisReply::simple_string("OK"));
  EXPECT_EQ(*client->call({"GET", binary}), RedisReply::bulk_string(binary));
}

TEST_F(RedisClientTest, CallbacksRunOnTheClientThreadAndMaySubmitAgain) {
  std::unique_ptr<RedisClient> client = connect(options_for());
  ASSERT_NE(client, nullptr);
  auto second = Outcome::make();
  auto first = Outcome::make();
  RedisClient* raw = client.get();
  ASSERT_TRUE(client
                  ->submit({"INCR", "chain"},
                           [raw, second, first_done = first->callback()](
                               absl::StatusOr<RedisReply> reply) mutable {
                             std::move(first_done)(std::move(reply));
                             EXPECT_TRUE(raw->submit({"INCR", "chain"}, second->callback()).ok());
                           })
                  .ok());
  EXPECT_EQ(*first->wait(), RedisReply::integer(1));
  EXPECT_EQ(*second->wait(), RedisReply::integer(2));
  EXPECT_NE(first->thread(), std::this_thread::get_id());
  EXPECT_EQ(first->thread(), second->thread());
}

// 4 threads x 2,500 INCRs of one key, all in flight together: Redis counts exactly 10,000, every
// callback runs exactly once, and each thread's callbacks run in its submission order (so each
// thread sees its INCR results strictly increasing).
TEST_F(RedisClientTest, PipelinedIncrsFromFourThreadsCountExactlyInFifoOrderPerThread) {
  constexpr int kThreads = 4;
  constexpr int kPerThread = 2'500;
  struct ThreadLog {  // appended only on the client's thread
    std::vector<int> submission_index;
    std::vector<int64_t> counter_value;
  };
  std::vector<ThreadLog> logs(kThreads);
  std::atomic<int> completed{0};

  RedisClientOptions options = options_for();
  options.command_timeout = 20s;  // not what this test is about; a TSan build is slow
  options.unresponsive_timeout = 30s;
  std::unique_ptr<RedisClient> client = connect(options);
  ASSERT_NE(client, nullptr);

  std::vector<std::thread> submitters;
  std::atomic<int> refused{0};
  for (int t = 0; t < kThreads; ++t) {
    submitters.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        absl::Status accepted = client->submit(
            {"INCR", "counter"}, [&logs, &completed, t, i](absl::StatusOr<RedisReply> reply) {
              logs[t].submission_index.push_back(i);
              logs[t].counter_value.push_back(
                  reply.ok() && reply->is_integer() ? reply->integer_value() : -1);
              completed.fetch_add(1, std::memory_order_release);
            });
        if (!accepted.ok()) refused.fetch_add(1);
      }
    });
  }
  for (std::thread& submitter : submitters) submitter.join();
  ASSERT_EQ(refused.load(), 0);
  ASSERT_TRUE(eventually([&] { return completed.load(std::memory_order_acquire) == 10'000; }, 60s))
      << completed.load() << " of 10000 callbacks ran";

  std::vector<int64_t> every_value;
  std::vector<int> expected_order(kPerThread);
  std::iota(expected_order.begin(), expected_order.end(), 0);
  for (int t = 0; t < kThreads; ++t) {
    EXPECT_EQ(logs[t].submission_index, expected_order) << "thread " << t << " out of FIFO order";
    EXPECT_TRUE(std::is_sorted(logs[t].counter_value.begin(), logs[t].counter_value.end(),
                               std::less_equal<int64_t>()))
        << "thread " << t << " saw its INCR results out of order";
    every_value.insert(every_value.end(), logs[t].counter_value.begin(),
                       logs[t].counter_value.end());
  }
  std::sort(every_value.begin(), every_value.end());
  std::vector<int64_t> one_to_ten_thousand(10'000);
  std::iota(one_to_ten_thousand.begin(), one_to_ten_thousand.end(), 1);
  EXPECT_EQ(every_value, one_to_ten_thousand) << "each INCR result exactly once";
  EXPECT_EQ(*client->call({"GET", "counter"}), RedisReply::bulk_string("10000"));

  const RedisClientStats stats = client->stats();
  EXPECT_GE(stats.commands_sent, 10'000u);
  EXPECT_GE(stats.replies, 10'000u);
  EXPECT_EQ(stats.outstanding, 0u);
  // Pipelined: commands share writes (here typically hundreds per write).
  EXPECT_LT(stats.writes * 4, stats.commands_sent)
      << stats.writes << " writes for " << stats.commands_sent << " commands";
}

TEST_F(RedisClientTest, EvalShaLoadsTheScriptOnNoscriptAlsoAfterScriptFlush) {
  std::unique_ptr<RedisClient> client = connect(options_for());
  ASSERT_NE(client, nullptr);
  const RedisScript add("return redis.call('INCRBY', KEYS[1], ARGV[1])");
  auto eval = [&](const RedisScript& script, std::string_view key, std::string_view arg) {
    auto outcome = Outcome::make();
    const std::string_view keys[] = {key};
    const std::string_view args[] = {arg};
    absl::Status accepted = client->eval_script(script, keys, args, outcome->callback());
    EXPECT_TRUE(accepted.ok()) << accepted;
    return outcome->wait();
  };

  EXPECT_EQ(*eval(add, "total", "5"), RedisReply::integer(5));  // NOSCRIPT, loaded, run
  EXPECT_EQ(client->stats().script_loads, 1u);
  // Our SHA-1 is the one Redis computed.
  EXPECT_EQ(*client->call({"SCRIPT", "EXISTS", add.sha1()}),
            RedisReply::array({RedisReply::integer(1)}));
  EXPECT_EQ(*eval(add, "total", "5"), RedisReply::integer(10));  // EVALSHA hits
  EXPECT_EQ(client->stats().script_loads, 1u);

  EXPECT_EQ(*client->call({"SCRIPT", "FLUSH"}), RedisReply::simple_string("OK"));
  EXPECT_EQ(*eval(add, "total", "5"), RedisReply::integer(15));
  EXPECT_EQ(client->stats().script_loads, 2u);

  // A script that does not compile: the SCRIPT LOAD error, not NOSCRIPT.
  absl::StatusOr<RedisReply> broken = eval(RedisScript("return +"), "total", "1");
  ASSERT_TRUE(broken.ok()) << broken.status();
  EXPECT_TRUE(broken->is_error_code("ERR")) << broken->debug_string();
  EXPECT_EQ(broken->text().find("NOSCRIPT"), std::string::npos) << broken->debug_string();
}

// SIGKILL with commands in flight (Redis paused first, so none is answered): each completes
// Unavailable at once — long before its 10 s deadline — new commands are refused at once, and
// once Redis is back on its port the client reconnects by itself, with its db SELECTed again.
TEST_F(RedisClientTest, KilledRedisFailsInFlightCommandsThenTheClientReconnectsByItself) {
  RedisClientOptions options = options_for(5);
  options.command_timeout = 10s;
  options.unresponsive_timeout = 20s;
  std::unique_ptr<RedisClient> client = connect(options);
  ASSERT_NE(client, nullptr);

  server_->pause();
  std::vector<std::shared_ptr<Outcome>> in_flight;
  for (int i = 0; i < 100; ++i) {
    in_flight.push_back(Outcome::make());
    ASSERT_TRUE(client->submit({"INCR", "k"}, in_flight.back()->callback()).ok());
  }
  ASSERT_TRUE(eventually([&] { return client->stats().commands_sent >= 101; }));  // + SELECT
  const auto killed_at = Clock::now();
  server_->kill_now();
  const bool all_completed = eventually([&] {
    return std::all_of(
        in_flight.begin(), in_flight.end(),
        [](const std::shared_ptr<Outcome>& outcome) { return outcome->calls() > 0; });
  });
  EXPECT_LT(Clock::now() - killed_at, 3s) << "failed by the deadline, not by the lost connection";
  ASSERT_TRUE(all_completed) << "in-flight commands were not completed when Redis died";
  for (const std::shared_ptr<Outcome>& outcome : in_flight) {
    EXPECT_EQ(outcome->calls(), 1u);
    EXPECT_EQ(outcome->wait(0ms).status().code(), absl::StatusCode::kUnavailable)
        << outcome->wait(0ms).status();
  }

  ASSERT_TRUE(eventually([&] { return !client->connected(); }));
  auto never = Outcome::make();
  const auto submitted_at = Clock::now();
  absl::Status refused = client->submit({"PING"}, never->callback());
  EXPECT_EQ(refused.code(), absl::StatusCode::kUnavailable) << refused;
  EXPECT_LT(Clock::now() - submitted_at, 100ms) << "a refusal must not wait";

  ASSERT_TRUE(server_->restart().ok());
  ASSERT_TRUE(client->wait_until_connected(10s)) << "the client did not reconnect by itself";
  EXPECT_EQ(*client->call({"PING"}), RedisReply::simple_string("PONG"));
  absl::StatusOr<RedisReply> info = client->call({"CLIENT", "INFO"});
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_NE(info->text().find(" db=5 "), std::string::npos) << info->text();
  EXPECT_EQ(never->calls(), 0u) << "a refused command's callback is never called";

  const RedisClientStats stats = client->stats();
  EXPECT_EQ(stats.connection_losses, 1u);
  EXPECT_EQ(stats.reconnects, 1u);
  EXPECT_EQ(stats.connects, 2u);
  EXPECT_GE(stats.failed_unavailable, 100u);
  EXPECT_GE(stats.refused_disconnected, 1u);
  EXPECT_TRUE(stats.connected);
}

// A stopped Redis answers nothing: the command completes DeadlineExceeded at its 50 ms deadline,
// and its late reply, once Redis runs again, is discarded — the next command gets its own.
TEST_F(RedisClientTest, CommandToAStoppedRedisHitsItsDeadline) {
  RedisClientOptions options = options_for();
  options.command_timeout = 50ms;
  options.unresponsive_timeout = 30s;
  std::unique_ptr<RedisClient> client = connect(options);
  ASSERT_NE(client, nullptr);
  ASSERT_EQ(*client->call({"SET", "late", "late reply"}), RedisReply::simple_string("OK"));

  server_->pause();
  auto outcome = Outcome::make();
  const auto submitted_at = Clock::now();
  ASSERT_TRUE(client->submit({"GET", "late"}, outcome->callback()).ok());
  absl::StatusOr<RedisReply> result = outcome->wait();
  const auto waited = Clock::now() - submitted_at;
  EXPECT_EQ(result.status().code(), absl::StatusCode::kDeadlineExceeded) << result.status();
  EXPECT_GE(waited, 50ms);
  EXPECT_LT(waited, 1s);
  EXPECT_EQ(client->stats().deadline_exceeded, 1u);
  EXPECT_TRUE(client->connected());

  server_->resume();
  EXPECT_EQ(*client->call({"PING"}), RedisReply::simple_string("PONG"));
  EXPECT_EQ(outcome->calls(), 1u);
}

// Stopped for longer than unresponsive_timeout: the connection is dropped (commands then fail
// fast instead of each waiting out its deadline) and reopened when Redis runs again.
TEST_F(RedisClientTest, UnresponsiveRedisIsDroppedAndReconnectedWhenItRunsAgain) {
  RedisClientOptions options = options_for();
  options.command_timeout = 50ms;
  options.unresponsive_timeout = 300ms;
  options.connect_timeout = 200ms;
  std::unique_ptr<RedisClient> client = connect(options);
  ASSERT_NE(client, nullptr);

  server_->pause();
  auto outcome = Outcome::make();
  ASSERT_TRUE(client->submit({"PING"}, outcome->callback()).ok());
  EXPECT_EQ(outcome->wait().status().code(), absl::StatusCode::kDeadlineExceeded);
  ASSERT_TRUE(eventually([&] { return !client->connected(); }, 5s));
  EXPECT_EQ(client->stats().connection_losses, 1u);
  EXPECT_EQ(client->submit({"PING"}, Outcome::make()->callback()).code(),
            absl::StatusCode::kUnavailable);

  server_->resume();
  ASSERT_TRUE(client->wait_until_connected(10s));
  EXPECT_EQ(*client->call({"PING"}), RedisReply::simple_string("PONG"));
}

// max_outstanding = 8: the 9th unanswered command is refused at once. A command past its
// deadline still holds its place until Redis answers it.
TEST_F(RedisClientTest, UnansweredCommandsAreBoundedAndTheNextIsRefusedAtOnce) {
  RedisClientOptions options = options_for();
  options.max_outstanding = 8;
  options.command_timeout = 50ms;
  options.unresponsive_timeout = 30s;
  std::unique_ptr<RedisClient> client = connect(options);
  ASSERT_NE(client, nullptr);

  server_->pause();
  std::vector<std::shared_ptr<Outcome>> accepted;
  for (int i = 0; i < 8; ++i) {
    accepted.push_back(Outcome::make());
    ASSERT_TRUE(client->submit({"INCR", "bounded"}, accepted.back()->callback()).ok()) << i;
  }
  auto ninth = Outcome::make();
  EXPECT_EQ(client->submit({"INCR", "bounded"}, ninth->callback()).code(),
            absl::StatusCode::kResourceExhausted);
  for (const std::shared_ptr<Outcome>& outcome : accepted) {
    EXPECT_EQ(outcome->wait().status().code(), absl::StatusCode::kDeadlineExceeded);
  }
  EXPECT_EQ(client->submit({"INCR", "bounded"}, ninth->callback()).code(),
            absl::StatusCode::kResourceExhausted)
      << "timed-out commands are still owed replies";
  EXPECT_EQ(client->stats().outstanding, 8u);
  EXPECT_EQ(client->stats().refused_full, 2u);

  server_->resume();
  ASSERT_TRUE(eventually([&] { return client->stats().outstanding == 0; }));
  EXPECT_EQ(*client->call({"GET", "bounded"}), RedisReply::bulk_string("8"));
  EXPECT_EQ(ninth->calls(), 0u);
}

TEST_F(RedisClientTest, SelectDbIsHonoured) {
  std::unique_ptr<RedisClient> db3 = connect(options_for(3));
  std::unique_ptr<RedisClient> db0 = connect(options_for(0));
  ASSERT_NE(db3, nullptr);
  ASSERT_NE(db0, nullptr);
  EXPECT_EQ(*db3->call({"SET", "shared", "three"}), RedisReply::simple_string("OK"));
  EXPECT_EQ(*db0->call({"GET", "shared"}), RedisReply::nil());
  EXPECT_EQ(*db0->call({"SET", "shared", "zero"}), RedisReply::simple_string("OK"));
  EXPECT_EQ(*db3->call({"GET", "shared"}), RedisReply::bulk_string("three"));
  absl::StatusOr<RedisReply> info = db3->call({"CLIENT", "INFO"});
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_NE(info->text().find(" db=3 "), std::string::npos) << info->text();
}

TEST_F(RedisClientTest, PasswordIsSentWithAuthOnConnect) {
  absl::StatusOr<std::unique_ptr<RedisServerProcess>> guarded = RedisServerProcess::start(
      scratch_.path() / "redis-auth", 0, {"--requirepass", "correct horse"});
  ASSERT_TRUE(guarded.ok()) << guarded.status();
  RedisClientOptions options;
  options.endpoint = *parse_redis_url((*guarded)->url(2));
  options.password = "correct horse";
  std::unique_ptr<RedisClient> client = connect(options);
  ASSERT_NE(client, nullptr);
  EXPECT_EQ(*client->call({"PING"}), RedisReply::simple_string("PONG"));

  options.password = "wrong";
  absl::StatusOr<std::unique_ptr<RedisClient>> refused = RedisClient::start(options);
  ASSERT_TRUE(refused.ok());
  ASSERT_TRUE(eventually([&] { return (*refused)->stats().connect_failures >= 1; }));
  EXPECT_FALSE((*refused)->connected());
}

TEST(RedisClientStartup, NothingListeningFailsFastThenConnectsWhenRedisComesUp) {
  qt::testing::ScratchDir scratch("redis_client_startup");
  const int port = test::free_loopback_port();
  ASSERT_GT(port, 0);
  RedisClientOptions options;
  options.endpoint = *parse_redis_url("redis://127.0.0.1:" + std::to_string(port) + "/0");
  options.reconnect_backoff_max = 100ms;
  absl::StatusOr<std::unique_ptr<RedisClient>> client = RedisClient::start(options);
  ASSERT_TRUE(client.ok()) << client.status();
  ASSERT_TRUE(eventually([&] { return (*client)->stats().connect_failures >= 2; }));
  EXPECT_EQ((*client)->submit({"PING"}, Outcome::make()->callback()).code(),
            absl::StatusCode::kUnavailable);

  absl::StatusOr<std::unique_ptr<RedisServerProcess>> server =
      RedisServerProcess::start(scratch.path() / "redis", port);
  ASSERT_TRUE(server.ok()) << server.status();
  ASSERT_TRUE((*client)->wait_until_connected(10s));
  EXPECT_EQ(*(*client)->call({"PING"}), RedisReply::simple_string("PONG"));
  EXPECT_EQ((*client)->stats().connects, 1u);
  EXPECT_EQ((*client)->stats().reconnects, 0u);
}

TEST_F(RedisClientTest, DestroyingTheClientCompletesEveryAcceptedCommandOnce) {
  RedisClientOptions options = options_for();
  options.command_timeout = 10s;
  options.unresponsive_timeout = 20s;
  std::unique_ptr<RedisClient> client = connect(options);
  ASSERT_NE(client, nullptr);
  server_->pause();
  std::vector<std::shared_ptr<Outcome>> accepted;
  for (int i = 0; i < 3; ++i) {
    accepted.push_back(Outcome::make());
    ASSERT_TRUE(client->submit({"PING"}, accepted.back()->callback()).ok());
  }
  client.reset();
  for (const std::shared_ptr<Outcome>& outcome : accepted) {
    EXPECT_EQ(outcome->calls(), 1u);
    EXPECT_EQ(outcome->wait(0ms).status().code(), absl::StatusCode::kUnavailable);
  }
  server_->resume();
}

TEST(RedisClientOptionsCheck, InconsistentOptionsAreRefused) {
  RedisClientOptions options;
  options.endpoint.host = "127.0.0.1";
  options.max_outstanding = 0;
  EXPECT_EQ(RedisClient::start(options).status().code(), absl::StatusCode::kInvalidArgument);
  options.max_outstanding = 1;
  options.unresponsive_timeout = 10ms;
  options.command_timeout = 50ms;
  EXPECT_EQ(RedisClient::start(options).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace qt::redis
