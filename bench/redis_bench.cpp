// redis_bench: INCR through qt::redis::RedisClient (gateway/redis) against a redis-server this
// program starts on 127.0.0.1 (Debian redis-server, no persistence), compared in the same run
// with hiredis's own blocking client on one connection:
//
//   hiredis sync, depth 1     redisCommand per INCR: one round trip each (the naive client)
//   hiredis sync, batch N     N redisAppendCommand, then N redisGetReply: one thread, no hand-off
//                             (the ceiling of one connection driven by one thread)
//   client, depth 1           submit, wait for the callback (std::atomic::wait), repeat
//   client, window N          one thread keeps N commands unanswered (closed loop)
//   client, 4 threads x N     four submitting threads (the HTTP server's I/O threads), N each
//   client, paced R/s         one thread submits on a fixed schedule, open loop (never waits for
//                             replies, so a slow reply cannot slow the offered load)
//
// Latency is submit → callback (hiredis batches: batch start → reply), steady_clock,
// nearest-rank percentiles; commands/s over the measured commands (a 5% warm-up runs first,
// unmeasured). Closed-loop windows hide queueing behind the window (their latency is the
// window's); the paced rows are the ones that say what a caller at that rate sees. With
// redis-benchmark on PATH, its INCR at one connection (-P 1 and -P 16) is printed too, as the
// server's own figure.
//
// No pinning: on a 2-vCPU host the submitting thread, the client's I/O thread and redis-server
// share both CPUs, as they would in production. Benchmark code: allocates freely.
#include <hiredis/hiredis.h>
#include <spdlog/spdlog.h>
#include <stdlib.h>
#include <sys/prctl.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "bench/bench_cli.hpp"
#include "bench/bench_support.hpp"
#include "gateway/redis/redis_client.hpp"
#include "tests/redis/redis_server_process.hpp"

namespace {

using Clock = std::chrono::steady_clock;
using qt::redis::RedisClient;
using qt::redis::RedisReply;

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
      .count();
}

struct Options {
  int depth1_commands = 20'000;
  int window_commands = 200'000;
  std::vector<int> windows = {16, 256, 1024};
  std::vector<int> rates = {5'000, 20'000, 50'000};
  double paced_seconds = 2.0;
};

void print_header() {
  std::printf("%-28s %12s %10s %10s %10s %10s %11s\n", "variant", "commands/s", "p50 us", "p99 us",
              "p99.9 us", "max us", "cmds/write");
}

void print_row(const std::string& name, std::size_t commands, double seconds,
               std::vector<int64_t>& latencies_ns, double commands_per_write) {
  const qt::bench::Percentiles p = qt::bench::percentiles(latencies_ns, 1e-3);
  char per_write[32] = "-";
  if (commands_per_write > 0)
    std::snprintf(per_write, sizeof(per_write), "%.1f", commands_per_write);
  std::printf("%-28s %12.0f %10.1f %10.1f %10.1f %10.1f %11s\n", name.c_str(),
              static_cast<double>(commands) / seconds, p.p50, p.p99, p.p999, p.max, per_write);
  std::fflush(stdout);
}

// ---- hiredis's blocking client ------------------------------------------------------------

void hiredis_sync(int port, int commands, int batch) {
  redisContext* context = redisConnect("127.0.0.1", port);
  if (context == nullptr || context->err) {
    std::printf("hiredis: cannot connect\n");
    return;
  }
  auto run = [&](int count, std::vector<int64_t>* latencies) {
    for (int done = 0; done < count; done += batch) {
      const int n = std::min(batch, count - done);
      const int64_t start = now_ns();
      for (int i = 0; i < n; ++i) redisAppendCommand(context, "INCR hiredis");
      for (int i = 0; i < n; ++i) {
        void* reply = nullptr;
        if (redisGetReply(context, &reply) != REDIS_OK) return;
        freeReplyObject(reply);
        if (latencies != nullptr) latencies->push_back(now_ns() - start);
      }
    }
  };
  run(commands / 20, nullptr);
  std::vector<int64_t> latencies;
  latencies.reserve(static_cast<std::size_t>(commands));
  const int64_t start = now_ns();
  run(commands, &latencies);
  const double seconds = static_cast<double>(now_ns() - start) * 1e-9;
  print_row(batch == 1 ? "hiredis sync, depth 1" : "hiredis sync, batch " + std::to_string(batch),
            latencies.size(), seconds, latencies, 0);
  redisFree(context);
}

// ---- RedisClient -------------------------------------------------------------------------

// Unanswered commands per submitting thread of client_closed_loop. Static: a callback's
// notify_one may still run after its submitter saw the count reach zero and returned.
std::atomic<int> unanswered_of_thread[4];

// `threads` (at most 4) submitters, each keeping up to `window` commands unanswered, `commands`
// in total.
void client_closed_loop(RedisClient& client, const std::string& name, int threads, int window,
                        int commands) {
  const int per_thread = commands / threads;
  std::vector<int64_t> latencies(static_cast<std::size_t>(per_thread * threads));
  auto run = [&](bool measure) {
    const qt::redis::RedisClientStats before = client.stats();
    const int64_t start = now_ns();
    std::vector<std::thread> submitters;
    for (int t = 0; t < threads; ++t) {
      submitters.emplace_back([&, t] {
        std::atomic<int>& unanswered = unanswered_of_thread[t];
        const int count = measure ? per_thread : std::max(1, per_thread / 20);
        for (int i = 0; i < count; ++i) {
          for (int seen = unanswered.load(std::memory_order_acquire); seen >= window;
               seen = unanswered.load(std::memory_order_acquire)) {
            unanswered.wait(seen, std::memory_order_acquire);
          }
          unanswered.fetch_add(1, std::memory_order_relaxed);
          int64_t* slot =
              measure ? &latencies[static_cast<std::size_t>(t * per_thread + i)] : nullptr;
          const int64_t submitted = now_ns();
          absl::Status accepted = client.submit(
              {"INCR", "client"}, [&unanswered, slot, submitted](absl::StatusOr<RedisReply> reply) {
                if (slot != nullptr) *slot = reply.ok() ? now_ns() - submitted : -1;
                unanswered.fetch_sub(1, std::memory_order_release);
                unanswered.notify_one();
              });
          if (!accepted.ok()) {
            std::fprintf(stderr, "refused: %s\n", accepted.ToString().c_str());
            unanswered.fetch_sub(1, std::memory_order_relaxed);
          }
        }
        for (int seen = unanswered.load(std::memory_order_acquire); seen > 0;
             seen = unanswered.load(std::memory_order_acquire)) {
          unanswered.wait(seen, std::memory_order_acquire);
        }
      });
    }
    for (std::thread& submitter : submitters) submitter.join();
    if (!measure) return;
    const double seconds = static_cast<double>(now_ns() - start) * 1e-9;
    const qt::redis::RedisClientStats after = client.stats();
    const double per_write =
        static_cast<double>(after.commands_sent - before.commands_sent) /
        static_cast<double>(std::max<uint64_t>(1, after.writes - before.writes));
    print_row(name, latencies.size(), seconds, latencies, per_write);
  };
  run(false);
  run(true);
}

// One thread submits at `rate`/s on a fixed schedule, open loop (it never waits for replies).
// It sleeps until each command is due (1 us timer slack) rather than spinning, as an event-driven
// caller would, so a late wake-up sends the commands that fell due together. Latency is from
// the actual submit; how far the submits lagged behind the schedule is printed beside it.
void client_paced(RedisClient& client, int rate, double seconds_to_run) {
  ::prctl(PR_SET_TIMERSLACK, 1000UL, 0UL, 0UL, 0UL);
  const std::size_t count = static_cast<std::size_t>(rate * seconds_to_run);
  std::vector<int64_t> latencies(count, -1);
  std::vector<int64_t> lags(count);
  std::atomic<std::size_t> completed{0};
  const qt::redis::RedisClientStats before = client.stats();
  const int64_t interval_ns = 1'000'000'000 / rate;
  const int64_t start = now_ns() + 1'000'000;
  std::size_t refused = 0;
  for (std::size_t i = 0; i < count; ++i) {
    const int64_t scheduled = start + static_cast<int64_t>(i) * interval_ns;
    if (const int64_t early = scheduled - now_ns(); early > 0) {
      std::this_thread::sleep_for(std::chrono::nanoseconds(early));
    }
    int64_t* slot = &latencies[i];
    const int64_t submitted = now_ns();
    lags[i] = submitted - scheduled;
    absl::Status accepted = client.submit(
        {"INCR", "paced"}, [slot, submitted, &completed](absl::StatusOr<RedisReply> reply) {
          *slot = reply.ok() ? now_ns() - submitted : -1;
          completed.fetch_add(1, std::memory_order_release);
        });
    if (!accepted.ok()) ++refused;
  }
  while (completed.load(std::memory_order_acquire) + refused < count) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  const double seconds = static_cast<double>(now_ns() - start) * 1e-9;
  const qt::redis::RedisClientStats after = client.stats();
  std::vector<int64_t> answered;
  for (int64_t latency : latencies) {
    if (latency >= 0) answered.push_back(latency);
  }
  const double per_write = static_cast<double>(after.commands_sent - before.commands_sent) /
                           static_cast<double>(std::max<uint64_t>(1, after.writes - before.writes));
  print_row("client, paced " + std::to_string(rate) + "/s", answered.size(), seconds, answered,
            per_write);
  const qt::bench::Percentiles lag = qt::bench::percentiles(lags, 1e-3);
  std::printf("  (submits behind schedule: p50 %.1f us, p99 %.1f us)\n", lag.p50, lag.p99);
  if (answered.size() != count) {
    std::printf("  (%zu of %zu commands refused or failed)\n", count - answered.size(), count);
  }
}

void redis_benchmark_reference(int port) {
  const std::string program = "redis-benchmark";
  for (int pipeline : {1, 16}) {
    const std::string command = program + " -h 127.0.0.1 -p " + std::to_string(port) +
                                " -c 1 -n 100000 -t incr -P " + std::to_string(pipeline) +
                                " -q 2>/dev/null";
    FILE* pipe = ::popen(command.c_str(), "r");
    if (pipe == nullptr) return;
    char line[512];
    std::string output;
    while (std::fgets(line, sizeof(line), pipe) != nullptr) output += line;
    if (::pclose(pipe) != 0 || output.empty()) {
      std::printf("(redis-benchmark not available: no server-side reference)\n");
      return;
    }
    // "INCR: 12345.68 requests per second, p50=0.071 msec" (after \r-separated progress lines)
    const std::size_t last = output.find_last_of('\r');
    std::string result = last == std::string::npos ? output : output.substr(last + 1);
    while (!result.empty() && (result.back() == '\n' || result.back() == ' ')) result.pop_back();
    std::printf("redis-benchmark -c 1 -P %-3d %s\n", pipeline, result.c_str());
  }
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  CLI::App app("redis_bench: INCR through qt::redis::RedisClient vs hiredis's blocking client");
  qt::bench::add_positive_option(app, "--depth1-commands", options.depth1_commands,
                                 "commands of each depth-1 variant");
  qt::bench::add_positive_option(app, "--window-commands", options.window_commands,
                                 "commands of each windowed variant");
  app.add_option("--windows", options.windows, "closed-loop windows (commands unanswered)")
      ->delimiter(',')
      ->default_str("16,256,1024")
      ->check(qt::bench::kPositive);
  app.add_option("--rates", options.rates, "paced rates, commands/s")
      ->delimiter(',')
      ->default_str("5000,20000,50000")
      ->check(qt::bench::kPositive);
  qt::bench::add_positive_option(app, "--paced-seconds", options.paced_seconds,
                                 "length of each paced run");
  if (const auto exit = qt::bench::parse_command_line(app, argc, argv)) return *exit;
  spdlog::set_level(spdlog::level::warn);

  char scratch_template[] = "/tmp/qt_redis_bench_XXXXXX";
  if (::mkdtemp(scratch_template) == nullptr) {
    std::perror("mkdtemp");
    return 1;
  }
  const std::filesystem::path scratch = scratch_template;
  int exit_code = 0;
  {
    absl::StatusOr<std::unique_ptr<qt::redis::test::RedisServerProcess>> server =
        qt::redis::test::RedisServerProcess::start(scratch / "redis");
    if (!server.ok()) {
      std::fprintf(stderr, "%s\n", server.status().ToString().c_str());
      std::filesystem::remove_all(scratch);
      return 1;
    }
    const int port = (*server)->port();
    double load[3] = {0, 0, 0};
    getloadavg(load, 3);
    std::printf(
        "redis_bench: INCR on one connection to redis-server on 127.0.0.1:%d (started here, no "
        "persistence).\n%u CPUs, load average before the run %.2f. Latency: submit -> "
        "callback.\n\n",
        port, std::thread::hardware_concurrency(), load[0]);
    redis_benchmark_reference(port);
    std::printf("\n");
    print_header();
    hiredis_sync(port, options.depth1_commands, 1);

    qt::redis::RedisClientOptions client_options;
    client_options.endpoint = *qt::redis::parse_redis_url((*server)->url());
    client_options.command_timeout = std::chrono::seconds(5);  // measuring, not timing out
    client_options.unresponsive_timeout = std::chrono::seconds(10);
    absl::StatusOr<std::unique_ptr<RedisClient>> client = RedisClient::start(client_options);
    if (!client.ok() || !(*client)->wait_until_connected(std::chrono::seconds(10))) {
      std::fprintf(stderr, "RedisClient did not connect\n");
      exit_code = 1;
    } else {
      client_closed_loop(**client, "client, depth 1", 1, 1, options.depth1_commands);
      client_closed_loop(**client, "client, 4 threads x depth 1", 4, 1, options.depth1_commands);
      for (int window : options.windows) {
        hiredis_sync(port, options.window_commands, window);
        client_closed_loop(**client, "client, window " + std::to_string(window), 1, window,
                           options.window_commands);
      }
      client_closed_loop(**client, "client, 4 threads x 64", 4, 64, options.window_commands);
      for (int rate : options.rates) client_paced(**client, rate, options.paced_seconds);
    }
  }
  std::filesystem::remove_all(scratch);
  return exit_code;
}
