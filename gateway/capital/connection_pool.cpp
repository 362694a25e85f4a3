#include "gateway/capital/connection_pool.hpp"

#include <thread>

namespace qt::capital {

ConnectionPool::Lease& ConnectionPool::Lease::operator=(Lease&& other) noexcept {
  if (this != &other) {
    release();
    pool_ = other.pool_;
    connection_ = other.connection_;
    other.pool_ = nullptr;
    other.connection_ = nullptr;
  }
  return *this;
}

void ConnectionPool::Lease::release() {
  if (pool_ != nullptr && connection_ != nullptr) pool_->give_back(connection_);
  pool_ = nullptr;
  connection_ = nullptr;
}

ConnectionPool::ConnectionPool(const RestEndpoint& endpoint, std::shared_ptr<TlsContext> tls,
                               int size, std::chrono::nanoseconds max_idle)
    : warm_(static_cast<std::size_t>(size)),
      cold_(static_cast<std::size_t>(size)),
      max_idle_(max_idle) {
  const int n = size < 1 ? 1 : size;
  connections_.reserve(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) {
    connections_.push_back(std::make_unique<HttpsConnection>(endpoint, tls));
    cold_.enqueue(connections_.back().get());
  }
  available_.signal(n);
}

ConnectionPool::~ConnectionPool() = default;

std::optional<ConnectionPool::Lease> ConnectionPool::checkout(std::chrono::nanoseconds max_wait) {
  const auto usecs = std::chrono::duration_cast<std::chrono::microseconds>(max_wait).count();
  if (!available_.wait(usecs < 0 ? 0 : usecs)) return std::nullopt;
  // The semaphore guarantees that one of the queues holds a connection for us; a dequeue can
  // miss it only transiently while another thread is mid-enqueue.
  HttpsConnection* connection = nullptr;
  while (!warm_.try_dequeue(connection) && !cold_.try_dequeue(connection)) {
    std::this_thread::yield();
  }
  if (connection->is_open()) {
    const bool too_old = std::chrono::steady_clock::now() - connection->last_used() > max_idle_;
    if (too_old || !connection->peer_alive()) {
      connection->close();
      stale_dropped_.fetch_add(1, std::memory_order_relaxed);
    }
  }
  return Lease(this, connection);
}

void ConnectionPool::give_back(HttpsConnection* connection) {
  if (connection->is_open()) {
    warm_.enqueue(connection);
  } else {
    cold_.enqueue(connection);
  }
  available_.signal();
}

void ConnectionPool::abort_all() {
  for (const auto& c : connections_) c->abort();
}

uint64_t ConnectionPool::connects() const {
  uint64_t total = 0;
  for (const auto& c : connections_) total += c->connects();
  return total;
}

int ConnectionPool::idle() const {
  return static_cast<int>(warm_.size_approx() + cold_.size_approx());
}

}  // namespace qt::capital
