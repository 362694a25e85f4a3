// stream_e2e_bench: Capital.com quote on the wire → qt::Quote popped from the engine's
// QuoteRing, through the real CapitalStreamClient (feeds/capital/stream_client.hpp).
//
// An in-process loopback WebSocket server (plain TCP, then TLS with a certificate generated at
// start) accepts the client, answers its marketData.subscribe, then writes venue-format quote
// frames at a paced rate. Frame i carries i in its "timestamp" field, so the consumer thread —
// spinning on the ring, as the engine does in spin mode — finds the frame's times in side
// tables:
//   wire → pop      from just before the server's write of frame i (the frame goes on the wire:
//                   TLS encryption, loopback TCP, the client's wake-up, decryption, WebSocket
//                   decoding, simdjson parse to fixed point, ring push, the consumer's pop)
//   wire → stamp    the part until the client stamped Quote::received_ns (before parsing)
//   stamp → pop     the rest: parse, push, the hop to the consumer's core, the pop
//   schedule → pop  from the time frame i was due (start + i / rate): free of coordinated
//                   omission — a client that falls behind and pushes back through TCP makes
//                   the generator late, and that lateness counts here
// and, unpaced, the maximum rate: every frame written back to back, quotes/s at the consumer.
//
// Threads on a 2-vCPU host: the consumer spins alone on the second CPU; the server and the
// client's io thread share the first. The server paces by sleeping (timer slack 1 µs), never
// spinning, so the client runs whenever a frame is on the wire. With --busy-poll the client
// spins too and the server only gets the CPU when the scheduler takes it from the client: that
// mode is meant for a host with a core to spare, and its schedule → pop shows the cost here.
//
//   stream_e2e_bench [--seconds S] [--rates 1000,10000,50000] [--max-frames N] [--busy-poll]
//                    [--plain-only | --tls-only]
#include <pthread.h>
#include <sys/prctl.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "bench/bench_cli.hpp"
#include "bench/bench_support.hpp"
#include "engine/clock.hpp"
#include "engine/idle_strategy.hpp"
#include "feeds/capital/stream_client.hpp"
#include "fmt/format.h"
#include "sim/crypto.hpp"
#include "spdlog/spdlog.h"

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using namespace qt;
using namespace qt::capital;

struct Options {
  double seconds = 3;
  std::vector<int> rates = {1000, 10000, 50000};
  int max_frames = 200000;
  bool busy_poll = false;
  bool plain = true;
  bool tls = true;
};

// Side tables of one run, indexed by frame number. Written by the server before the frame is
// written, read by the consumer after the quote is popped (the socket orders them; relaxed
// atomics keep the program data-race free).
struct Run {
  explicit Run(std::size_t frames) : sent_ns(frames), due_ns(frames) {}
  std::vector<std::atomic<int64_t>> sent_ns;
  std::vector<std::atomic<int64_t>> due_ns;
};

std::string frame_for(uint64_t index) {
  // A realistic GOLD quote; the price walks so no two consecutive frames are equal.
  const uint64_t cents = 230000 + index % 997;
  return fmt::format(
      R"({{"status":"OK","destination":"quote","payload":{{"epic":"GOLD","product":"CFD",)"
      R"("bid":{}.{:02},"bidQty":100.0,"ofr":{}.{:02},"ofrQty":250.5,"timestamp":{}}}}})",
      cents / 100, cents % 100, (cents + 30) / 100, (cents + 30) % 100, index);
}

// Loopback WebSocket server for one client connection, synchronous on its own thread.
class QuoteServer {
 public:
  QuoteServer(bool use_tls, const sim::PemCertificate* cert)
      : acceptor_(ioc_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    if (use_tls) {
      tls_.emplace(ssl::context::tls_server);
      tls_->use_certificate_chain(asio::buffer(cert->cert_pem));
      tls_->use_private_key(asio::buffer(cert->key_pem), ssl::context::pem);
    }
  }
  uint16_t port() const { return acceptor_.local_endpoint().port(); }

  // Accepts the client, answers its subscription, then runs `script` with a frame writer.
  template <typename Script>
  void serve(Script&& script) {
    tcp::socket socket = acceptor_.accept();
    socket.set_option(tcp::no_delay(true));
    if (tls_) {
      websocket::stream<beast::ssl_stream<tcp::socket>> ws(std::move(socket), *tls_);
      ws.next_layer().handshake(ssl::stream_base::server);
      run(ws, script);
    } else {
      websocket::stream<tcp::socket> ws(std::move(socket));
      run(ws, script);
    }
  }

 private:
  template <typename Ws, typename Script>
  void run(Ws& ws, Script& script) {
    ws.accept();
    beast::flat_buffer buffer;
    ws.read(buffer);  // the one marketData.subscribe (one epic)
    ws.text(true);
    ws.write(asio::buffer(
        std::string(R"({"status":"OK","destination":"marketData.subscribe","correlationId":"1",)"
                    R"("payload":{"subscriptions":{"GOLD":"PROCESSED"}}})")));
    script([&](const std::string& frame) { ws.write(asio::buffer(frame)); });
    beast::error_code ignored;
    ws.close(websocket::close_code::normal, ignored);
  }

  asio::io_context ioc_;
  tcp::acceptor acceptor_;
  std::optional<ssl::context> tls_;
};

void sleep_until_ns(int64_t target) {
  const int64_t now = now_ns();
  if (target <= now) return;
  timespec ts{static_cast<time_t>(target / 1'000'000'000),
              static_cast<long>(target % 1'000'000'000)};
  clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr);
}

void print_row(const char* what, const bench::Percentiles& p) {
  std::printf("    %-16s p50 %8.1f µs   p99 %8.1f µs   p99.9 %8.1f µs   max %8.1f µs\n", what,
              p.p50 / 1000.0, p.p99 / 1000.0, p.p999 / 1000.0, p.max / 1000.0);
}

struct Variant {
  const char* name;
  bool tls;
};

void run_variant(const Variant& variant, const Options& options, const sim::PemCertificate& cert,
                 const bench::CpuPair& cpus) {
  QuoteServer server(variant.tls, &cert);
  // Phase 0 warms up (caches, the handler allocators' free lists, TLS session) unmeasured;
  // then one phase per paced rate; then the unpaced maximum-rate phase (rate 0).
  std::vector<int> rates = {10000};
  rates.insert(rates.end(), options.rates.begin(), options.rates.end());
  rates.push_back(0);

  std::size_t total = 0;
  std::vector<std::size_t> counts;
  for (std::size_t r = 0; r < rates.size(); ++r) {
    const std::size_t n = r == 0         ? 5000
                          : rates[r] > 0 ? static_cast<std::size_t>(rates[r] * options.seconds)
                                         : static_cast<std::size_t>(options.max_frames);
    counts.push_back(n);
    total += n;
  }
  Run run(total);

  auto ring = std::make_unique<QuoteRing>();
  StreamConfig config;
  config.url = variant.tls ? fmt::format("wss://localhost:{}/connect", server.port())
                           : fmt::format("ws://127.0.0.1:{}/connect", server.port());
  if (variant.tls) config.tls = *TlsContext::create(true, "", cert.cert_pem);
  config.busy_poll = options.busy_poll;
  config.stale_after = std::chrono::seconds(60);
  config.transport_idle_timeout = std::chrono::milliseconds(0);
  StreamCallbacks callbacks;
  callbacks.tokens = [] {
    return std::optional<StreamTokens>(StreamTokens{Secret("cst"), Secret("token"), 1});
  };
  callbacks.on_thread_start = [&cpus] { bench::pin_current_thread(cpus.producer); };
  auto client = CapitalStreamClient::create(
      config, {{"GOLD", make_instrument(0, "GOLD", 2, 2, 0.01, 0.01, 0.01, 0)}}, *ring, callbacks);
  if (!client.ok()) {
    std::fprintf(stderr, "cannot create the client: %s\n", client.status().ToString().c_str());
    std::exit(1);
  }

  // Consumer: spins on the ring; records wire→pop, wire→stamp and schedule→pop per quote.
  std::atomic<bool> consumer_done{false};
  std::vector<int64_t> wire_pop(total), wire_stamp(total), stamp_pop(total), due_pop(total),
      pop_at(total);
  std::atomic<std::size_t> popped{0};
  std::thread consumer([&] {
    bench::pin_current_thread(cpus.consumer);
    std::size_t k = 0;
    Quote q;
    while (!consumer_done.load(std::memory_order_relaxed)) {
      if (!ring->try_pop(q)) {
        IdleStrategy::cpu_relax();
        continue;
      }
      const int64_t now = now_ns();
      const auto i = static_cast<std::size_t>(q.venue_epoch_ms);
      if (i >= total) continue;
      const int64_t sent = run.sent_ns[i].load(std::memory_order_relaxed);
      wire_pop[i] = now - sent;
      wire_stamp[i] = q.received_ns - sent;
      stamp_pop[i] = now - q.received_ns;
      due_pop[i] = now - run.due_ns[i].load(std::memory_order_relaxed);
      pop_at[i] = now;
      popped.store(++k, std::memory_order_release);
    }
  });

  (*client)->start();
  std::vector<std::pair<std::size_t, std::size_t>> ranges;  // [first, last) per phase
  std::vector<int64_t> phase_span_ns;
  server.serve([&](auto&& write) {
    prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0);
    // The server shares the client's CPU, which sleeps in epoll between frames; the consumer
    // keeps the other CPU to itself (a spinning thread would starve a neighbour for a tick).
    bench::pin_current_thread(cpus.producer);
    std::size_t first = 0;
    auto delivered = [&] {
      return popped.load(std::memory_order_acquire) + (*client)->stats().drops;
    };
    for (std::size_t r = 0; r < rates.size(); ++r) {
      const int rate = rates[r];
      const std::size_t n = counts[r];
      // Wait until the previous phase has drained so phases do not overlap.
      while (delivered() < first) std::this_thread::sleep_for(std::chrono::milliseconds(1));
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      const int64_t start = now_ns() + 1'000'000;
      const int64_t interval = rate > 0 ? 1'000'000'000 / rate : 0;
      for (std::size_t j = 0; j < n; ++j) {
        const std::size_t i = first + j;
        const int64_t due = start + static_cast<int64_t>(j) * interval;
        if (rate > 0) sleep_until_ns(due);
        const std::string frame = frame_for(i);
        run.due_ns[i].store(rate > 0 ? due : now_ns(), std::memory_order_relaxed);
        run.sent_ns[i].store(now_ns(), std::memory_order_relaxed);
        write(frame);
      }
      ranges.emplace_back(first, first + n);
      first += n;
    }
    while (delivered() < total) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  });
  consumer_done = true;
  consumer.join();
  const StreamStats stats = (*client)->stats();
  (*client)->stop();

  std::printf("\n%s (%s client io thread)\n", variant.name,
              options.busy_poll ? "busy-polling" : "epoll-sleeping");
  for (std::size_t r = 1; r < rates.size(); ++r) {
    const auto [first, last] = ranges[r];
    auto slice = [&](const std::vector<int64_t>& all) {
      return std::vector<int64_t>(all.begin() + static_cast<std::ptrdiff_t>(first),
                                  all.begin() + static_cast<std::ptrdiff_t>(last));
    };
    if (rates[r] > 0) {
      std::printf("  paced at %d quotes/s, %zu quotes:\n", rates[r], last - first);
      std::vector<int64_t> a = slice(wire_pop), b = slice(wire_stamp), c = slice(stamp_pop),
                           d = slice(due_pop);
      print_row("wire -> pop", bench::percentiles(a));
      print_row("wire -> stamp", bench::percentiles(b));
      print_row("stamp -> pop", bench::percentiles(c));
      print_row("schedule -> pop", bench::percentiles(d));
    } else {
      const int64_t begin = run.sent_ns[first].load();
      const int64_t end = *std::max_element(pop_at.begin() + static_cast<std::ptrdiff_t>(first),
                                            pop_at.begin() + static_cast<std::ptrdiff_t>(last));
      const double secs = static_cast<double>(end - begin) / 1e9;
      std::printf("  unpaced, %zu quotes back to back: %.0f quotes/s at the consumer\n",
                  last - first, static_cast<double>(last - first) / secs);
      std::vector<int64_t> a = slice(wire_pop);
      print_row("wire -> pop", bench::percentiles(a));
    }
  }
  std::printf(
      "  client: %llu quotes, %llu dropped (ring full), %llu parse errors, %llu reconnects\n",
      static_cast<unsigned long long>(stats.quotes), static_cast<unsigned long long>(stats.drops),
      static_cast<unsigned long long>(stats.parse_errors),
      static_cast<unsigned long long>(stats.reconnects));
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  bool plain_only = false;
  bool tls_only = false;
  CLI::App app(
      "stream_e2e_bench: venue quote frame on a loopback WebSocket -> CapitalStreamClient -> "
      "QuoteRing -> consumer, plain TCP then TLS");
  bench::add_positive_option(app, "--seconds", options.seconds, "length of each paced phase");
  app.add_option("--rates", options.rates, "paced rates, quotes/s")
      ->delimiter(',')
      ->default_str("1000,10000,50000")
      ->check(bench::kPositive);
  bench::add_positive_option(app, "--max-frames", options.max_frames,
                             "frames of the unpaced phase");
  app.add_flag("--busy-poll", options.busy_poll, "the client's io thread spins instead of epoll");
  app.add_flag("--plain-only", plain_only, "only ws:// (plain TCP)");
  app.add_flag("--tls-only", tls_only, "only wss:// (TLS 1.3)")->excludes("--plain-only");
  if (const auto exit = bench::parse_command_line(app, argc, argv)) return *exit;
  options.plain = !tls_only;
  options.tls = !plain_only;
  spdlog::set_level(spdlog::level::err);  // the server's final close is logged as a warning
  const bench::CpuPair cpus = bench::default_cpus();
  const sim::PemCertificate cert = sim::generate_self_signed_certificate();
  double load[3] = {0, 0, 0};
  getloadavg(load, 3);
  std::printf(
      "stream_e2e_bench: venue quote frame written by a loopback WebSocket server ->\n"
      "CapitalStreamClient (TLS, WebSocket, QuoteParser) -> QuoteRing -> consumer spinning "
      "on the ring.\nClock: CLOCK_MONOTONIC (qt::now_ns). Client io thread and server on CPU %d, "
      "consumer on CPU %d.\nLoad average before the run: %.2f (anything near the core count "
      "means someone else is using the host: the tails are theirs).\n",
      cpus.producer, cpus.consumer, load[0]);
  if (options.plain) run_variant({"ws:// (plain TCP)", false}, options, cert, cpus);
  if (options.tls) run_variant({"wss:// (TLS 1.3)", true}, options, cert, cpus);
  return 0;
}
