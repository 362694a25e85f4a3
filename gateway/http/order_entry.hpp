// OrderEntry: the HTTP API's client port of the engine — one SPSC command ring in, one order
// update ring out, like every client-side stage (engine/engine.hpp, ClientPort) — and the
// bridge between it and the HTTP I/O threads.
//
// Threads: HTTP handlers on any I/O thread call submit(), cancel(), control(), find(),
// open_orders(); each hands a small job to the bridge thread over a bounded lock-free queue
// (moodycamel ConcurrentQueue) and rings its doorbell. The bridge thread is the only producer
// of the command ring and the only consumer of the update ring; the engine rings the same
// doorbell after pushing updates. It answers each request through its Responder (which hands
// the response to the connection's own thread), so the engine thread never touches a socket,
// a lock or an allocation for HTTP's sake, and a slow client never slows the engine.
//
// Answers: POST /api/trade is answered with the order's first update — the engine publishes
// it only once the order's journal record is durable (persist.durability), or at once for a
// refusal. client_order_id is the idempotency key: a repeat returns the original answer and
// never reaches the engine; one that arrives while the first is in flight waits for the same
// answer. After a restart the index is seeded from the recovered orders of this port's source,
// so a repeat still never creates a second order (the engine's own duplicate check is the
// second line: its refusal of a repeat is answered with the original order).
//
// Bounds, never an unbounded queue: at most max_pending jobs between the I/O threads and the
// bridge and at most the command ring's capacity towards the engine; beyond either the request
// is answered 503 with Retry-After. The index keeps the last max_index orders of this source.
#pragma once

#include <concurrentqueue/concurrentqueue.h>

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "engine/engine.hpp"
#include "engine/idle_strategy.hpp"
#include "engine/rings.hpp"
#include "gateway/http/responder.hpp"

namespace qt::http {

struct OrderEntryOptions {
  std::size_t max_pending = 8192;   // jobs queued for the bridge thread
  std::size_t max_index = 100'000;  // orders of this source kept for idempotency and queries
};

struct OrderEntryStats {
  std::atomic<uint64_t> orders_submitted{0};  // sent to the engine
  std::atomic<uint64_t> idempotent_replays{0};
  std::atomic<uint64_t> busy_refusals{0};  // 503: a queue or the ring was full
  std::atomic<uint64_t> updates{0};
};

// A validated order from POST /api/trade (the route parses and checks the JSON).
struct TradeRequest {
  NewOrder order;  // source set by OrderEntry
};

class OrderEntry {
 public:
  OrderEntry(std::vector<InstrumentSpec> instruments, OrderEntryOptions options = {});
  ~OrderEntry();
  OrderEntry(const OrderEntry&) = delete;
  OrderEntry& operator=(const OrderEntry&) = delete;

  // Set-up, before the engine starts: the port to add to the engine, then its source id.
  ClientPort port();
  void set_source(SourceId source) { source_ = source; }
  SourceId source() const { return source_; }
  void set_engine_doorbell(Doorbell* doorbell) { engine_doorbell_ = doorbell; }
  // Before start(): the recovered orders (EngineState::orders); those of this source seed the
  // idempotency index.
  void seed(const std::vector<Order>& orders);
  void start();
  void stop();  // answers what is still queued with 503

  // Any thread.
  void submit(TradeRequest request, Responder responder);
  void cancel(std::string_view client_order_id, OrderId order_id, Responder responder);
  void control(ControlCommand command, Responder responder);
  // GET /api/orders/{id} (an order id, or the client order id) and ?status=open|all.
  void find(std::string key, Responder responder);
  void list(bool open_only, Responder responder);

  const OrderEntryStats& stats() const { return stats_; }
  // JSON of one order as the API shows it (also for the WebSocket stream).
  std::string order_json(const OrderUpdate& update) const;

 private:
  enum class JobKind : uint8_t { kSubmit, kCancel, kControl, kFind, kList };
  struct Job {
    JobKind kind = JobKind::kSubmit;
    ClientCommand command;
    std::string key;
    bool open_only = false;
    Responder responder;
  };
  struct Entry {
    OrderUpdate last;                // the order as the engine last described it
    int answer_status = 0;           // 0: not answered yet
    std::string answer;              // the original answer's body
    std::vector<Responder> waiting;  // submits of this id waiting for the first answer
    bool cancel_waiting_ack = false;
    std::vector<Responder> cancel_waiters;
  };

  void enqueue(Job job);
  void loop();
  int run_jobs();
  int drain_updates();
  void handle(Job& job);
  void on_update(const OrderUpdate& update);
  Entry* entry_of(std::string_view client_order_id);
  Entry& new_entry(std::string_view client_order_id);
  bool push_command(const ClientCommand& command);
  std::pair<int, std::string> answer_of(const OrderUpdate& update) const;

  std::vector<InstrumentSpec> instruments_;
  OrderEntryOptions options_;
  SourceId source_ = 0;
  std::unique_ptr<CommandRing> commands_ = std::make_unique<CommandRing>();
  std::unique_ptr<OrderUpdateRing> updates_ = std::make_unique<OrderUpdateRing>();
  Doorbell doorbell_;  // rung by the I/O threads and the engine
  Doorbell* engine_doorbell_ = nullptr;
  moodycamel::ConcurrentQueue<Job> jobs_;
  std::atomic<std::size_t> queued_{0};
  std::thread thread_;
  std::atomic<bool> running_{false};
  OrderEntryStats stats_;

  // Bridge thread only.
  std::unordered_map<std::string, Entry> index_;  // by client order id
  std::unordered_map<OrderId, std::string> by_order_id_;
  std::deque<std::string> age_;  // client order ids, oldest first (index eviction)
};

}  // namespace qt::http
