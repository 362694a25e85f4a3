// OrderStore: every order the engine knows, in a pool sized at start-up, plus an index from
// (source, client order id) to order id for duplicate detection.
//
// Order ids increase from 1. The pool is a ring of slots: order N lives in slot (N-1) % capacity
// and a slot is reused only once its previous order is terminal, so the newest `capacity`
// orders are always addressable and a live order is never evicted (create() refuses instead).
// The client-id index is open-addressed with linear probing and backward-shift deletion at
// load ≤ 0.5; an evicted order's entry leaves with it.
// Owned by the engine thread; allocates only in the constructor.
#pragma once

#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "engine/order.hpp"

namespace qt {

class OrderStore {
 public:
  explicit OrderStore(std::size_t capacity);  // rounded up to a power of two

  // Null when the slot the next id needs still holds a live order.
  Order* create();
  // Recovery: an empty store takes `orders` (ascending ids, each ≤ last_id, at most capacity()
  // newest) with their client-id index, and continues numbering after last_id.
  absl::Status restore(const std::vector<Order>& orders, OrderId last_id);
  Order* find(OrderId id);
  const Order* find(OrderId id) const;
  OrderId find_by_client_id(SourceId source, const ClientOrderId& client_order_id) const;
  void index_client_id(const Order& order);

  std::size_t capacity() const { return slots_.size(); }
  OrderId last_id() const { return next_id_ - 1; }
  // The live orders among the newest `capacity`, oldest first, via a callback.
  template <typename F>
  void for_each_live(F&& f) {
    const OrderId first = next_id_ > slots_.size() ? next_id_ - slots_.size() : 1;
    for (OrderId id = first; id < next_id_; ++id) {
      Order& order = slots_[(id - 1) & mask_];
      if (order.id == id && order.is_live()) f(order);
    }
  }

 private:
  struct IndexEntry {
    OrderId order_id = 0;  // 0 = empty
    uint64_t hash = 0;
  };
  static uint64_t hash_of(SourceId source, const ClientOrderId& id);
  void erase_client_id(const Order& order);
  bool matches(const IndexEntry& entry, SourceId source, const ClientOrderId& id) const;

  std::vector<Order> slots_;
  uint64_t mask_;
  std::vector<IndexEntry> index_;
  uint64_t index_mask_;
  OrderId next_id_ = 1;
};

}  // namespace qt
