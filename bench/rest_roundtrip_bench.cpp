// rest_roundtrip_bench: one Capital.com REST request to the in-process simulator
// (sim/capital_simulator.hpp), over the production client's keep-alive connection pool against
// a new TLS connection per request, measured in the same run.
//
// Variants, each sending the same authenticated GET (default GET /api/v1/ping; --market EPIC
// for GET /api/v1/markets/EPIC) with the same session headers:
//   A  TLS, pooled              CapitalRestClient::execute: session headers, client-side rate
//                               limiter, ConnectionPool checkout, HttpsConnection exchange,
//                               retry policy. The connection is kept alive between requests.
//   B  TLS, new conn/request    the same client code; only CapitalClientConfig::
//                               connection_max_idle is 0, so the pool drops the idle connection
//                               at every checkout and the request pays TCP connect + full TLS
//                               handshake + request, and the previous connection's close. The
//                               only difference to A is the reuse.
//   C  plain, pooled            as A against a second simulator without TLS (http://): the
//   D  plain, new conn/request  cost of the TLS records (A - C) and of the TCP connect (D - C).
//   E  TLS, kept HttpsConnection   the transport alone, without client, pool or limiter.
//   F  TLS, new HttpsConnection    per request: constructed, exchange() (connect + handshake +
//                               request), destroyed (close) — the literal "new connection" case.
// Certificate verification stays on in every TLS variant (the simulator's certificate,
// generated at start, is the client's only CA), as in production.
//
// Slices of --requests requests run A, B, C, D, E, F, then B, C, D, E, F, A, ... (rotated by one
// each round, so no variant always follows the probe) for --rounds rounds, so machine noise
// hits every variant alike; warm-up requests per variant come first, unmeasured. Per
// variant: p50/p99/p99.9/max per request (bench_support's TickClock around each call),
// requests/s over its slices, TCP connections it opened (the pool's counters;
// HttpsConnection::connects for E and F), client-side allocations per request (qt_alloc_counter,
// malloc and operator new, on the client threads only: the simulator's allocations are not
// counted; Asio's resolver thread is not either) and CPU time per request (client threads / whole
// process). With --concurrency 1,4 the whole comparison runs again with 4 client threads.
//
// rest_roundtrip_bench runs on the binary's allocator (mimalloc in the release build),
// rest_roundtrip_bench_glibc on glibc's malloc; each prints which.
//
// Allocations per pooled request after warm-up (A, C, E): none on the client's own path (the
// request is written into the connection's buffer, the answer parsed without a header map, Asio's
// operations take memory the connection keeps); with TLS, OpenSSL 3.0's record layer allocates
// its packet bookkeeping per record (4 per request: 3 writing, 1 reading), and an answer body
// over 15 bytes adds one (GET /ping's 15 bytes stay inline). Printed with every run.
//
// Benchmark code: allocates freely outside the timed calls; every object lives in main().
//
// Limits: the simulator's broker rate limits are disabled (SimOptions::limits.enabled), and
// the client-side general limit (the broker's 10 requests/s) is raised to 1,000,000/s through
// CapitalClientConfig::rate_limits.requests_per_second in this program only — the limiter still
// runs on every request (same code path); the production default stays 10/s.
//
// Threads on a 2-vCPU host: client threads on the first CPU, the simulators' io threads on the
// second (they inherit the main thread's affinity at start); --no-pin leaves both to the
// scheduler. A cache-line ping-pong probe of the two CPUs (bench_support.hpp) is taken before
// the run and before each round (every request crosses between them twice), and the CPU time
// other processes used during each concurrency level is printed ("other load").
//
//   rest_roundtrip_bench [--requests N] [--rounds R] [--warmup N] [--concurrency 1,4]
//                        [--market EPIC] [--only ABCDEF] [--no-plain] [--no-bare] [--no-pin]
#include <openssl/crypto.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "bench/bench_cli.hpp"
#include "bench/bench_support.hpp"
#include "fmt/format.h"
#include "gateway/capital/rest_client.hpp"
#include "sim/capital_simulator.hpp"
#include "spdlog/spdlog.h"
#include "tests/support/allocation_counter.hpp"
#include "tests/support/process_allocator.hpp"

namespace {

using namespace qt;
using namespace qt::capital;
using std::chrono::milliseconds;

constexpr int kClientRequestsPerSecond = 1'000'000;  // the broker's limit is 10/s
// What a pooled request (A, C, E) still allocates after warm-up, and why.
constexpr const char* kPooledAllocations =
    "a pooled request allocates nothing on the client's own path; with TLS, OpenSSL 3.0's "
    "record layer allocates its packet bookkeeping per record: 3 for the request written, 1 for "
    "the answer read; an answer body over 15 bytes adds 1, reserved at its Content-Length";
constexpr auto kRequestTimeout = std::chrono::seconds(10);

struct Options {
  int requests = 200;  // per slice
  int rounds = 10;
  int warmup = 50;  // per variant, before the first round
  std::vector<int> concurrency = {1, 4};
  std::string market_epic;  // empty: GET /ping
  std::string only;         // labels of the variants to run (e.g. "AB"); empty: all
  bool plain = true;
  bool bare = true;
  bool pin = true;
};

// One way of sending the request, and what it measured.
struct Variant {
  std::string label;  // "A", "B", ...
  std::string name;
  bool tls = true;
  bool reuse = true;
  bool bare = false;

  std::unique_ptr<CapitalRestClient> client;     // !bare
  RestEndpoint endpoint;                         // bare
  std::shared_ptr<TlsContext> tls_context;       // bare, tls
  HttpRequest bare_request;                      // bare: the target and session headers
  CapitalSession::Credentials bare_credentials;  // bare: what bare_headers view
  std::vector<HttpHeader> bare_headers;
  std::vector<std::unique_ptr<HttpsConnection>> kept;  // bare && reuse: one per worker
  std::atomic<uint64_t> bare_connects{0};              // bare && !reuse

  // Results of the current concurrency level.
  std::vector<int64_t> samples;  // TickClock ticks per request
  std::vector<double> round_p50_ns;
  bench::Percentiles latency;  // of `samples`, in ns, once the level's rounds are done
  uint64_t wall_ticks = 0;     // sum of the slices' wall times
  uint64_t requests = 0;
  uint64_t connects = 0;
  uint64_t allocations = 0;
  int64_t client_cpu_ns = 0;   // CPU time of the client threads
  int64_t process_cpu_ns = 0;  // CPU time of the whole process: client, simulator, helpers
  uint64_t failures = 0;
  std::string first_failure;

  void reset_results() {
    samples.clear();
    round_p50_ns.clear();
    wall_ticks = 0;
    client_cpu_ns = process_cpu_ns = 0;
    requests = connects = allocations = failures = 0;
    first_failure.clear();
  }

  uint64_t connections_opened() const {
    if (!bare) return client->transport().pool().connects();
    uint64_t total = bare_connects.load();
    for (const auto& c : kept) total += c->connects();
    return total;
  }
};

// Sends one request; returns an empty string on HTTP 200, else what went wrong.
std::string send_one(Variant& v, const std::string& relative_target, int worker) {
  if (!v.bare) {
    absl::StatusOr<SendResult> sent =
        v.client->execute(HttpMethod::kGet, relative_target, std::string(), RequestClass::kGeneral);
    if (!sent.ok()) return sent.status().ToString();
    if (sent->result.response.status != 200) {
      return fmt::format("HTTP {} ({})", sent->result.response.status, sent->result.detail);
    }
    return {};
  }
  ExchangeResult result;
  if (v.reuse) {
    result = v.kept[static_cast<std::size_t>(worker)]->exchange(v.bare_request, kRequestTimeout);
  } else {
    HttpsConnection connection(v.endpoint, v.tls_context);
    result = connection.exchange(v.bare_request, kRequestTimeout);
    v.bare_connects.fetch_add(connection.connects(), std::memory_order_relaxed);
  }  // the connection closes here, inside the timed call
  if (result.response.status != 200) {
    return fmt::format("{} {} (HTTP {})", to_string(result.outcome), result.detail,
                       result.response.status);
  }
  return {};
}

struct WorkerResult {
  std::vector<int64_t> samples;  // ticks
  int64_t cpu_ns = 0;
  uint64_t failures = 0;
  std::string first_failure;
};

void run_requests(Variant& v, const std::string& target, int worker, int n, WorkerResult& out) {
  out.samples.reserve(static_cast<std::size_t>(n));
  const int64_t cpu_before = bench::cpu_time_ns(CLOCK_THREAD_CPUTIME_ID);
  const testing::CountedThread counted;  // this thread's allocations count until the return
  for (int i = 0; i < n; ++i) {
    const uint64_t start = bench::TickClock::now();
    std::string failure = send_one(v, target, worker);
    out.samples.push_back(static_cast<int64_t>(bench::TickClock::now() - start));
    if (!failure.empty()) {
      ++out.failures;
      if (out.first_failure.empty()) out.first_failure = std::move(failure);
    }
  }
  out.cpu_ns = bench::cpu_time_ns(CLOCK_THREAD_CPUTIME_ID) - cpu_before;
}

// One slice: `n` requests of `v` from `concurrency` client threads. `record` false: warm-up.
void run_slice(Variant& v, const std::string& target, int n, int concurrency, int client_cpu,
               const bench::TickClock& clock, bool record) {
  const uint64_t connects_before = v.connections_opened();
  // Counts the client threads' calls only (marked in run_requests), not the simulator's.
  testing::AllocationWindow allocations(testing::CountedThreads::kMarked);
  const int64_t process_cpu_before = bench::cpu_time_ns(CLOCK_PROCESS_CPUTIME_ID);
  std::vector<WorkerResult> results(static_cast<std::size_t>(concurrency));
  uint64_t wall_ticks = 0;
  if (concurrency == 1) {
    const uint64_t start = bench::TickClock::now();
    run_requests(v, target, 0, n, results[0]);
    wall_ticks = bench::TickClock::now() - start;
  } else {
    std::atomic<int> ready{0};
    std::atomic<bool> go{false};
    std::vector<std::thread> workers;
    for (int w = 0; w < concurrency; ++w) {
      const int share = n / concurrency + (w < n % concurrency ? 1 : 0);
      workers.emplace_back([&, w, share] {
        bench::pin_current_thread(client_cpu);
        ready.fetch_add(1);
        while (!go.load(std::memory_order_acquire)) std::this_thread::yield();
        run_requests(v, target, w, share, results[static_cast<std::size_t>(w)]);
      });
    }
    while (ready.load() < concurrency) std::this_thread::yield();
    const uint64_t start = bench::TickClock::now();
    go.store(true, std::memory_order_release);
    for (std::thread& t : workers) t.join();
    wall_ticks = bench::TickClock::now() - start;
  }
  const int64_t process_cpu_ns = bench::cpu_time_ns(CLOCK_PROCESS_CPUTIME_ID) - process_cpu_before;
  allocations.close();
  if (!record) return;
  std::vector<int64_t> slice;
  for (WorkerResult& r : results) {
    slice.insert(slice.end(), r.samples.begin(), r.samples.end());
    v.failures += r.failures;
    v.client_cpu_ns += r.cpu_ns;
    if (v.first_failure.empty()) v.first_failure = r.first_failure;
  }
  v.samples.insert(v.samples.end(), slice.begin(), slice.end());
  v.round_p50_ns.push_back(bench::percentiles(slice, clock.to_ns(1.0)).p50);
  v.wall_ticks += wall_ticks;
  v.requests += static_cast<uint64_t>(n);
  v.connects += v.connections_opened() - connects_before;
  v.allocations += allocations.allocations();
  v.process_cpu_ns += process_cpu_ns;
}

double requests_per_second(const Variant& v, const bench::TickClock& clock) {
  const double wall_ns = clock.to_ns(static_cast<double>(v.wall_ticks));
  return wall_ns > 0 ? static_cast<double>(v.requests) * 1e9 / wall_ns : 0;
}

// Per round: the probe taken before it and the CPU other processes used during it.
struct RoundConditions {
  std::vector<double> probe_ns;
  std::vector<double> other_cpus;
};

void print_results(std::vector<std::unique_ptr<Variant>>& variants, const bench::TickClock& clock,
                   const RoundConditions& rounds) {
  std::printf(
      "  variant                                   p50 µs   p99 µs p99.9 µs   max µs"
      "     req/s  TCP conns  allocs/req  CPU µs/req client/all  failed\n");
  for (auto& v : variants) {
    const double n = v->requests > 0 ? static_cast<double>(v->requests) : 1.0;
    std::printf("  %-2s %-37s %8.1f %8.1f %8.1f %8.1f %9.0f %10" PRIu64
                " %11.1f %11.1f /%7.1f %7" PRIu64 "\n",
                v->label.c_str(), v->name.c_str(), v->latency.p50 / 1e3, v->latency.p99 / 1e3,
                v->latency.p999 / 1e3, v->latency.max / 1e3, requests_per_second(*v, clock),
                v->connects, static_cast<double>(v->allocations) / n,
                static_cast<double>(v->client_cpu_ns) / n / 1e3,
                static_cast<double>(v->process_cpu_ns) / n / 1e3, v->failures);
  }
  for (auto& v : variants) {
    if (v->failures > 0) {
      std::printf("  %s first failure: %s\n", v->label.c_str(), v->first_failure.c_str());
    }
  }
  std::printf(
      "  per round (round 1 first): p50 µs per variant, the probe before it, other load:\n");
  for (auto& v : variants) {
    std::printf("    %-2s", v->label.c_str());
    for (double p : v->round_p50_ns) std::printf(" %7.1f", p / 1e3);
    std::printf("\n");
  }
  std::printf("    ns");
  for (double p : rounds.probe_ns) std::printf(" %7.0f", p);
  std::printf("  (probe)\n    CPU");
  for (double c : rounds.other_cpus) std::printf("%7.2f ", c);
  std::printf(" (other load)\n");
}

Variant* find(std::vector<std::unique_ptr<Variant>>& variants, const char* label) {
  for (auto& v : variants) {
    if (v->label == label) return v.get();
  }
  return nullptr;
}

// "B vs A": the ratio of p50s over the whole run, its range over rounds, and req/s.
void print_ratio(std::vector<std::unique_ptr<Variant>>& variants, const bench::TickClock& clock,
                 const char* slow, const char* fast, const char* what) {
  const Variant* s = find(variants, slow);
  const Variant* f = find(variants, fast);
  if (s == nullptr || f == nullptr || s->requests == 0 || f->requests == 0) return;
  std::vector<double> per_round;
  for (std::size_t r = 0; r < std::min(s->round_p50_ns.size(), f->round_p50_ns.size()); ++r) {
    per_round.push_back(s->round_p50_ns[r] / f->round_p50_ns[r]);
  }
  const auto [lo, hi] = std::minmax_element(per_round.begin(), per_round.end());
  std::printf(
      "  %s/%s  p50 %.2fx (per round %.2f-%.2fx), p99 %.2fx, req/s %s/%s %.2fx, p50 difference "
      "%.1f µs  [%s]\n",
      slow, fast, s->latency.p50 / f->latency.p50, *lo, *hi, s->latency.p99 / f->latency.p99, fast,
      slow, requests_per_second(*f, clock) / requests_per_second(*s, clock),
      (s->latency.p50 - f->latency.p50) / 1e3, what);
}

CapitalClientConfig client_config(const sim::CapitalSimulator& simulator, bool reuse) {
  const sim::SimCredentials credentials;
  CapitalClientConfig config;
  config.demo_url = simulator.rest_url();
  if (simulator.tls()) config.ca_pem = simulator.certificate_pem();
  config.api_key = Secret(credentials.api_key);
  config.identifier = Secret(credentials.identifier);
  config.password = Secret(credentials.password);
  config.api_timeout = std::chrono::duration_cast<milliseconds>(kRequestTimeout);
  config.rate_limits.requests_per_second = kClientRequestsPerSecond;
  if (!reuse) config.connection_max_idle = std::chrono::seconds(0);
  return config;
}

[[noreturn]] void die(const std::string& message) {
  std::fprintf(stderr, "rest_roundtrip_bench: %s\n", message.c_str());
  std::exit(1);
}

std::unique_ptr<CapitalRestClient> logged_in_client(const sim::CapitalSimulator& simulator,
                                                    bool reuse) {
  absl::StatusOr<std::unique_ptr<CapitalRestClient>> client =
      CapitalRestClient::create(client_config(simulator, reuse));
  if (!client.ok()) die("cannot create the client: " + client.status().ToString());
  absl::StatusOr<SessionCreateResponse> session = (*client)->login();
  if (!session.ok()) die("login to the simulator failed: " + session.status().ToString());
  return *std::move(client);
}

// Fills `options` from the command line; the exit code when the program must stop.
std::optional<int> parse(int argc, char** argv, Options& options) {
  CLI::App app(
      "rest_roundtrip_bench: a Capital.com REST request to the in-process simulator, "
      "pooled against a new connection per request (variants A-F, see the source)");
  bench::add_positive_option(app, "--requests", options.requests, "requests per slice");
  bench::add_positive_option(app, "--rounds", options.rounds, "rounds of slices");
  app.add_option("--warmup", options.warmup, "unmeasured requests per variant before the rounds")
      ->default_val(options.warmup)
      ->check(CLI::NonNegativeNumber);
  app.add_option("--concurrency", options.concurrency, "client thread counts to run, e.g. 1,4")
      ->delimiter(',')
      ->default_str("1,4")
      ->check(CLI::Range(1, 64));
  app.add_option("--market", options.market_epic, "GET /markets/EPIC instead of GET /ping");
  app.add_option("--only", options.only, "labels of the variants to run, e.g. AC");
  app.add_flag("!--no-plain", options.plain, "skip the plain-HTTP variants C and D");
  app.add_flag("!--no-bare", options.bare, "skip the bare-transport variants E and F");
  app.add_flag("!--no-pin", options.pin, "leave client and simulator threads unpinned");
  return bench::parse_command_line(app, argc, argv);
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  if (const std::optional<int> exit = parse(argc, argv, options)) return *exit;
  // Under mimalloc, operator new must still reach the counter (it replaces both).
  const bool counting = testing::allocation_counting_available();
  if (counting && testing::allocations_counted_for_one_new() == 0) {
    die("the allocation counter does not see operator new");
  }
  // The client warns loudly about plain http:// (variants C and D); nothing else is logged.
  spdlog::set_level(spdlog::level::err);

  const bench::CpuPair cpus = options.pin ? bench::default_cpus() : bench::CpuPair{};
  const int client_cpu = cpus.producer;
  const int sim_cpu = cpus.consumer;
  const bench::TickClock clock = bench::TickClock::calibrate();
  const bool can_probe = cpus.producer >= 0 && cpus.consumer >= 0;
  const double probe_before = can_probe ? bench::probe_hop_ns(cpus, clock, 2000, 3) : 0;
  double load[3] = {0, 0, 0};
  getloadavg(load, 3);

  // The simulators' io threads inherit the affinity of the thread that starts them.
  bench::pin_current_thread(sim_cpu);
  sim::SimOptions sim_options = sim::SimOptions::embedded();  // TLS, generated certificate
  sim_options.limits.enabled = false;
  sim_options.quotes_per_second = 1;  // no stream clients here; keep the tick timer quiet
  sim::CapitalSimulator tls_sim(sim_options);
  tls_sim.start();
  std::unique_ptr<sim::CapitalSimulator> plain_sim;
  if (options.plain) {
    sim::SimOptions plain_options = sim_options;
    plain_options.tls = sim::SimOptions::TlsMode::kOff;
    plain_sim = std::make_unique<sim::CapitalSimulator>(plain_options);
    plain_sim->start();
  }
  bench::pin_current_thread(client_cpu);

  const std::string relative_target =
      options.market_epic.empty() ? "/ping" : "/markets/" + options.market_epic;
  const std::string full_target = std::string(kApiBasePath) + relative_target;

  std::vector<std::unique_ptr<Variant>> variants;
  auto add_client_variant = [&](const char* label, const char* name, sim::CapitalSimulator& sim,
                                bool reuse) {
    auto v = std::make_unique<Variant>();
    v->label = label;
    v->name = name;
    v->tls = sim.tls();
    v->reuse = reuse;
    v->client = logged_in_client(sim, reuse);
    variants.push_back(std::move(v));
  };
  add_client_variant("A", "TLS, pooled (client)", tls_sim, true);
  add_client_variant("B", "TLS, new conn/request (client)", tls_sim, false);
  if (plain_sim) {
    add_client_variant("C", "plain, pooled (client)", *plain_sim, true);
    add_client_variant("D", "plain, new conn/request (client)", *plain_sim, false);
  }
  if (options.bare) {
    // The transport alone, with the session of A's client.
    const CapitalRestClient& a = *variants[0]->client;
    const CapitalSession::Credentials credentials = variants[0]->client->session().credentials();
    const int max_concurrency =
        *std::max_element(options.concurrency.begin(), options.concurrency.end());
    for (const bool reuse : {true, false}) {
      auto v = std::make_unique<Variant>();
      v->label = reuse ? "E" : "F";
      v->name = reuse ? "TLS, kept HttpsConnection (bare)" : "TLS, new HttpsConnection (bare)";
      v->bare = true;
      v->reuse = reuse;
      v->endpoint = *parse_rest_url(a.config().demo_url);
      v->tls_context = *TlsContext::create(true, "", tls_sim.certificate_pem());
      v->bare_credentials = credentials;
      v->bare_headers = {
          {kHeaderApiKey, a.config().api_key.reveal()},
          {kHeaderCst, credentials.tokens->cst.reveal()},
          {kHeaderSecurityToken, credentials.tokens->security_token.reveal()},
      };
      v->bare_request = HttpRequest(HttpMethod::kGet, relative_target);
      v->bare_request.headers = v->bare_headers;
      if (reuse) {
        for (int w = 0; w < max_concurrency; ++w) {
          v->kept.push_back(std::make_unique<HttpsConnection>(v->endpoint, v->tls_context));
        }
      }
      variants.push_back(std::move(v));
    }
  }

  // The answer's size, for the reader (and a first check that the request works).
  std::size_t answer_bytes = 0;
  {
    absl::StatusOr<SendResult> probe = variants[0]->client->execute(
        HttpMethod::kGet, relative_target, std::string(), RequestClass::kGeneral);
    if (!probe.ok() || probe->result.response.status != 200) {
      die("GET " + full_target + " failed: " +
          (probe.ok() ? fmt::format("HTTP {}", probe->result.response.status)
                      : probe.status().ToString()));
    }
    answer_bytes = probe->result.response.body.size();
  }
  if (!options.only.empty()) {
    std::erase_if(variants, [&](const std::unique_ptr<Variant>& v) {
      return options.only.find(v->label) == std::string::npos;
    });
    if (variants.empty()) die("--only " + options.only + " selects no variant");
  }
  std::string order;
  for (const auto& v : variants) order += v->label + " ";
  std::printf(
      "rest_roundtrip_bench: GET %s (answer: %zu bytes of JSON) to the in-process Capital.com "
      "simulator,\nkeep-alive pool vs a new connection per request\n"
      "simulator: %s (%s, EC P-256 certificate generated at start, verified by the client)%s%s\n"
      "rate limits: simulator's broker limits DISABLED (SimOptions::limits.enabled = false); "
      "client-side general limit RAISED from the broker's 10/s to %d/s\n"
      "  (CapitalClientConfig::rate_limits.requests_per_second, this program only; the limiter "
      "still runs on every request)\n"
      "threads: client on CPU %d, simulator io threads on CPU %d (-1 = unpinned); "
      "load average before the run %.2f\n"
      "core-distance probe before the run: %.0f ns one-way cache-line hop (median of 3 x 2000 "
      "round trips)\n"
      "per slice %d requests; %d rounds of slices %s(rotated by one each round); %d warm-up "
      "requests per variant; clock %s at %.2f GHz around each call\n"
      "TCP conns = connections the variant opened in its measured slices (pool / "
      "HttpsConnection counters); allocs/req = client threads only (%s);\n"
      "allocator: %s%s\n"
      "CPU µs/req: client threads / whole process (client + simulator + Asio resolver "
      "threads)\n",
      full_target.c_str(), answer_bytes, tls_sim.rest_url().c_str(),
      OpenSSL_version(OPENSSL_VERSION), plain_sim ? ", plain: " : "",
      plain_sim ? plain_sim->rest_url().c_str() : "", kClientRequestsPerSecond, client_cpu, sim_cpu,
      load[0], probe_before, options.requests, options.rounds, order.c_str(), options.warmup,
      bench::TickClock::source(), clock.ghz(), kPooledAllocations,
      testing::process_allocator_name().c_str(),
      counting ? "" : " (allocations NOT counted: sanitizer build)");

  for (const int concurrency : options.concurrency) {
    for (auto& v : variants) {
      v->reset_results();
      if (options.warmup > 0) {
        run_slice(*v, relative_target, options.warmup, concurrency, client_cpu, clock, false);
      }
    }
    RoundConditions conditions;
    const bench::OtherLoadMeter other_load;
    for (int round = 0; round < options.rounds; ++round) {
      if (can_probe) conditions.probe_ns.push_back(bench::probe_hop_ns(cpus, clock, 2000, 3));
      const bench::OtherLoadMeter round_load;
      // Rotated by one each round, so no variant always runs first after the probe.
      for (std::size_t k = 0; k < variants.size(); ++k) {
        Variant& v = *variants[(k + static_cast<std::size_t>(round)) % variants.size()];
        run_slice(v, relative_target, options.requests, concurrency, client_cpu, clock, true);
      }
      conditions.other_cpus.push_back(round_load.other_cpus());
    }
    const std::vector<double>& probes = conditions.probe_ns;
    std::printf("\nconcurrency %d (%d client thread%s)", concurrency, concurrency,
                concurrency == 1 ? "" : "s");
    if (!probes.empty()) {
      const auto [lo, hi] = std::minmax_element(probes.begin(), probes.end());
      std::printf("; probe per round: median %.0f ns (range %.0f-%.0f)", bench::median(probes), *lo,
                  *hi);
    }
    const double others = other_load.other_cpus();
    std::printf("; other load %.2f CPU%s\n", others,
                others > 0.1 ? " (CONTENDED: another process ran)" : "");
    for (auto& v : variants) v->latency = bench::percentiles(v->samples, clock.to_ns(1.0));
    print_results(variants, clock, conditions);
    print_ratio(variants, clock, "B", "A",
                "new TLS connection per request vs pooled: the headline");
    print_ratio(variants, clock, "D", "C", "new plain TCP connection vs pooled, no TLS");
    print_ratio(variants, clock, "A", "C", "TLS records vs plain, both pooled");
    print_ratio(variants, clock, "F", "E", "same comparison on the bare transport");
    print_ratio(variants, clock, "A", "E", "client + pool + limiter over the bare transport");
    for (auto& v : variants) {
      if (!v->bare && v->client->transport().retries() > 0) {
        std::printf("  note: %s retried %" PRIu64 " requests\n", v->label.c_str(),
                    v->client->transport().retries());
      }
    }
  }

  std::printf("\nTCP connections opened over the whole run (warm-up included):");
  for (const auto& v : variants) {
    std::printf(" %s %" PRIu64, v->label.c_str(), v->connections_opened());
  }
  std::printf("\n");
  const std::string counted = "GET " + full_target;
  int64_t sent = 1;  // the size probe before the rounds
  for (const auto& v : variants) {
    if (v->tls) {
      sent += static_cast<int64_t>(options.concurrency.size()) *
              (static_cast<int64_t>(options.rounds) * options.requests + options.warmup);
    }
  }
  std::printf("check: the TLS simulator counted %" PRId64 " %s, the TLS variants sent %" PRId64
              "\n",
              tls_sim.stats().requests(counted), counted.c_str(), sent);
  if (can_probe) {
    std::printf("core-distance probe after the run: %.0f ns\n",
                bench::probe_hop_ns(cpus, clock, 2000, 3));
  }
  variants.clear();
  if (plain_sim) plain_sim->stop();
  tls_sim.stop();
  return 0;
}
