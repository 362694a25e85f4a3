// CapitalSimulator: a Capital.com-compatible server in-process — the broker's REST API under
// /api/v1 (HTTP/1.1 keep-alive) and its WebSocket stream (upgrade on GET /connect, also on /)
// on one port, plain or TLS, with deterministic prices and fault injection (see SimOptions).
//
// What it owns: one io thread running a Boost.Asio io_context (accept, HTTP, WebSocket, the
// quote tick timer, fault timers). The broker state (SimulatedBroker) is behind a mutex, so
// the inspection and test-hook members may be called from any thread while it runs.
//
// Lifetime: construct, start() (binds and starts the thread; throws std::runtime_error when it
// cannot), stop() or the destructor (closes every connection and joins). Not restartable.
//
//   qt::sim::CapitalSimulator sim(qt::sim::SimOptions::embedded());
//   sim.start();
//   client.base_url = sim.rest_url();      // https://127.0.0.1:PORT
//   client.stream_url = sim.stream_url();  // wss://127.0.0.1:PORT/connect
//   client.ca_pem = sim.certificate_pem();
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sim/broker.hpp"
#include "sim/sim_options.hpp"

namespace qt::sim {

class CapitalSimulator {
 public:
  explicit CapitalSimulator(SimOptions options);
  ~CapitalSimulator();
  CapitalSimulator(const CapitalSimulator&) = delete;
  CapitalSimulator& operator=(const CapitalSimulator&) = delete;

  void start();
  void stop();
  bool running() const;

  uint16_t port() const;  // the bound port (after start)
  bool tls() const;
  std::string host() const;                    // "127.0.0.1"
  std::string rest_url() const;                // "https://127.0.0.1:PORT" (paths: + "/api/v1/...")
  std::string stream_url() const;              // "wss://127.0.0.1:PORT/connect"
  const std::string& certificate_pem() const;  // the served certificate (trust it as a CA)

  const SimOptions& options() const;
  SimulatedBroker& broker();

  // Inspection and test hooks (any thread).
  SimStats stats();
  std::vector<PositionInfo> positions();
  std::vector<WorkingOrderInfo> working_orders();
  bool set_mid_price(const std::string& epic, double mid);
  std::optional<std::pair<double, double>> quote(const std::string& epic);  // bid, ask
  void expire_sessions();  // every session's next use answers 401
  void drop_websockets();  // closes every WebSocket connection abruptly

  struct Impl;  // opaque: the network side, in capital_simulator.cpp

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace qt::sim
