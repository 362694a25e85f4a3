// A fixed set of CONNECTION_POOL_SIZE keep-alive connections to one endpoint, shared by the
// venue's worker threads.
//
// Checkout is lock-free on the fast path: idle connections wait in moodycamel ConcurrentQueues
// ("warm" ones that are connected, "cold" slots not yet or no longer connected), counted by a
// lightweight semaphore that a caller blocks on, with a deadline, only when all are in use.
// Warm connections are preferred, so sequential requests reuse one connection.
//
// A connection found broken at checkout — the peer closed it, it holds unasked bytes, or it
// sat idle longer than `max_idle` (servers drop idle keep-alive connections; sending an order
// on one that is being dropped would make its outcome unknown) — is closed and reopened by its
// next exchange: callers never see it.
//
// Thread-safe. The pool must outlive its leases. Allocates only at construction.
#pragma once

#include <concurrentqueue/concurrentqueue.h>
#include <concurrentqueue/lightweightsemaphore.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <vector>

#include "gateway/capital/https_connection.hpp"

namespace qt::capital {

class ConnectionPool {
 public:
  // A checked-out connection; returns to the pool when destroyed.
  class Lease {
   public:
    Lease() = default;
    Lease(Lease&& other) noexcept : pool_(other.pool_), connection_(other.connection_) {
      other.pool_ = nullptr;
      other.connection_ = nullptr;
    }
    Lease& operator=(Lease&& other) noexcept;
    ~Lease() { release(); }

    HttpsConnection* operator->() const { return connection_; }
    HttpsConnection& operator*() const { return *connection_; }
    explicit operator bool() const { return connection_ != nullptr; }

   private:
    friend class ConnectionPool;
    Lease(ConnectionPool* pool, HttpsConnection* connection)
        : pool_(pool), connection_(connection) {}
    void release();

    ConnectionPool* pool_ = nullptr;
    HttpsConnection* connection_ = nullptr;
  };

  // `tls` is required for an https endpoint.
  ConnectionPool(const RestEndpoint& endpoint, std::shared_ptr<TlsContext> tls, int size,
                 std::chrono::nanoseconds max_idle);
  ~ConnectionPool();
  ConnectionPool(const ConnectionPool&) = delete;
  ConnectionPool& operator=(const ConnectionPool&) = delete;

  // A connection, waiting up to `max_wait` for one to become free; nullopt if none did.
  std::optional<Lease> checkout(std::chrono::nanoseconds max_wait);

  // Any thread, for shutdown: HttpsConnection::abort() on every connection.
  void abort_all();

  int size() const { return static_cast<int>(connections_.size()); }
  // Connections opened (or attempted) over the pool's life, and stale ones dropped at checkout.
  uint64_t connects() const;
  uint64_t stale_dropped() const { return stale_dropped_.load(std::memory_order_relaxed); }
  // Connections idle in the pool right now (approximate under concurrency).
  int idle() const;

 private:
  void give_back(HttpsConnection* connection);

  std::vector<std::unique_ptr<HttpsConnection>> connections_;
  moodycamel::ConcurrentQueue<HttpsConnection*> warm_;
  moodycamel::ConcurrentQueue<HttpsConnection*> cold_;
  moodycamel::LightweightSemaphore available_;
  std::chrono::nanoseconds max_idle_;
  std::atomic<uint64_t> stale_dropped_{0};
};

}  // namespace qt::capital
