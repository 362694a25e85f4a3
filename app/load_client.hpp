// LoadClient: an order-flow client on a ClientPort of its own, standing in for the external
// clients (FIX sessions, HTTP callers) in load and crash tests. It sends alternating buy and
// sell market orders of the instrument's minimum size at a fixed rate and writes every order
// update it receives — the engine's acknowledgements, fills, rejections — to an append-only
// log, one line each, with write(2), so that what a client saw survives a SIGKILL of the whole
// process (the lines are in the page cache the moment write returns).
//
// Log line: "<client order id> <state> <filled size units> <order id>\n".
// Client order ids are "L<start epoch ms>-<n>": unique across restarts of the program.
//
// Threads: one of its own (started by start(), joined by stop()); it is the only producer of
// the command ring and the only consumer of the update ring it hands to the engine. It
// allocates only at construction.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "engine/engine.hpp"

namespace qt {

struct LoadClientOptions {
  double orders_per_second = 0;
  std::string ack_log;  // path; empty = updates are counted, not logged
  InstrumentId instrument = 0;
  SizeUnits size = 0;  // 0 = the instrument's minimum size
};

class LoadClient {
 public:
  // Adds its port to `engine` (call before recovery so the port's source id is the same on
  // every start with the same configuration).
  static absl::StatusOr<std::unique_ptr<LoadClient>> create(LoadClientOptions options,
                                                            Engine& engine);
  ~LoadClient();

  // The doorbell of the engine's thread, rung after each order (set before start()).
  void set_engine_doorbell(Doorbell* doorbell) { engine_doorbell_ = doorbell; }
  void start();
  void stop();
  uint64_t sent() const { return sent_.load(std::memory_order_relaxed); }
  uint64_t updates() const { return updates_.load(std::memory_order_relaxed); }

 private:
  LoadClient(LoadClientOptions options, int log_fd);
  void loop();

  LoadClientOptions options_;
  int log_fd_ = -1;
  std::unique_ptr<CommandRing> commands_ = std::make_unique<CommandRing>();
  std::unique_ptr<OrderUpdateRing> updates_ring_ = std::make_unique<OrderUpdateRing>();
  Doorbell* engine_doorbell_ = nullptr;
  std::thread thread_;
  std::atomic<bool> running_{false};
  std::atomic<uint64_t> sent_{0};
  std::atomic<uint64_t> updates_{0};
  int64_t id_prefix_ms_ = 0;
};

}  // namespace qt
