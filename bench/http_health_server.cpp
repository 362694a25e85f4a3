// http_health_server: the HTTP server core (gateway/http) answering GET /health with
// {"status":"ok"} and nothing else — the "server only" line for wrk, beside nginx's `return 200`.
// It measures the server (accept, parse, route, serialize, write) with no engine behind it.
//
//   http_health_server --listen 127.0.0.1:8081 --threads 2 &
//   wrk -t2 -c50 -d10s http://127.0.0.1:8081/health
//
// Runs until SIGINT or SIGTERM; prints the server's counters when it stops.
#include <csignal>
#include <cstdio>

#include "bench/bench_cli.hpp"
#include "gateway/http/server.hpp"

int main(int argc, char** argv) {
  std::string listen = "127.0.0.1:8081";
  unsigned threads = 2;
  std::size_t max_connections = 10'000;
  CLI::App app("GET /health on the gateway/http server core, for wrk");
  app.add_option("--listen", listen, "ADDRESS:PORT")->default_val(listen);
  qt::bench::add_positive_option(app, "--threads", threads, "I/O threads");
  qt::bench::add_positive_option(app, "--max-connections", max_connections, "connection cap");
  if (const std::optional<int> exit_code = qt::bench::parse_command_line(app, argc, argv)) {
    return *exit_code;
  }

  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);  // before the I/O threads exist

  qt::http::Router router;
  const absl::Status added =
      router.add(qt::http::Method::kGet, "/health", {},
                 [](const qt::http::Request&, qt::http::Responder responder) {
                   responder.send(qt::http::Response::json(200, R"({"status":"ok"})"));
                 });
  qt::http::HttpServerOptions options;
  options.listen = listen;
  options.threads = threads;
  options.max_connections = max_connections;
  qt::http::HttpServer server(std::move(options), std::move(router));
  if (const absl::Status started = server.start(); !added.ok() || !started.ok()) {
    std::fprintf(stderr, "http_health_server: %s\n", started.ToString().c_str());
    return 1;
  }
  std::printf("http_health_server: listening on port %u with %u I/O thread(s)\n", server.port(),
              threads);
  std::fflush(stdout);
  int signal = 0;
  sigwait(&stop_signals, &signal);
  server.stop();
  const qt::http::HttpServerStats stats = server.stats();
  std::printf("http_health_server: %llu connections, %llu requests\n",
              static_cast<unsigned long long>(stats.connections_accepted),
              static_cast<unsigned long long>(stats.requests));
  return 0;
}
