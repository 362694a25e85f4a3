#include "engine/order_store.hpp"

#include <bit>
#include <cstring>
#include <string>

namespace qt {

OrderStore::OrderStore(std::size_t capacity)
    : slots_(std::bit_ceil(capacity < 2 ? std::size_t{2} : capacity)),
      mask_(slots_.size() - 1),
      index_(slots_.size() * 2),
      index_mask_(index_.size() - 1) {}

Order* OrderStore::create() {
  Order& slot = slots_[(next_id_ - 1) & mask_];
  if (slot.id != 0 && slot.is_live()) return nullptr;
  if (slot.id != 0) erase_client_id(slot);
  slot = Order{};
  slot.id = next_id_++;
  return &slot;
}

absl::Status OrderStore::restore(const std::vector<Order>& orders, OrderId last_id) {
  if (next_id_ != 1) return absl::FailedPreconditionError("order store is not empty");
  OrderId previous = 0;
  for (const Order& order : orders) {
    if (order.id <= previous || order.id > last_id || last_id - order.id >= slots_.size()) {
      return absl::DataLossError(
          "snapshot order " + std::to_string(order.id) + " is out of order or outside the newest " +
          std::to_string(slots_.size()) + " before " + std::to_string(last_id));
    }
    previous = order.id;
  }
  next_id_ = last_id + 1;
  for (const Order& order : orders) {
    slots_[(order.id - 1) & mask_] = order;
    if (!order.client_order_id.empty()) index_client_id(order);
  }
  return absl::OkStatus();
}

Order* OrderStore::find(OrderId id) {
  if (id == 0 || id >= next_id_) return nullptr;
  Order& order = slots_[(id - 1) & mask_];
  return order.id == id ? &order : nullptr;
}

const Order* OrderStore::find(OrderId id) const {
  return const_cast<OrderStore*>(this)->find(id);
}

uint64_t OrderStore::hash_of(SourceId source, const ClientOrderId& id) {
  // The id is a fixed 24 bytes: mix it as three words (multiply-xorshift), not byte by byte.
  static_assert(ClientOrderId::kCapacity == 24);
  uint64_t words[3];
  std::memcpy(words, id.chars, sizeof words);
  auto mix = [](uint64_t h, uint64_t w) {
    h ^= w;
    h *= 0x9E3779B97F4A7C15ull;
    return h ^ (h >> 29);
  };
  uint64_t h = mix(0xD6E8FEB86659FD93ull, source);
  h = mix(h, words[0]);
  h = mix(h, words[1]);
  h = mix(h, words[2]);
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  return h;
}

bool OrderStore::matches(const IndexEntry& entry, SourceId source, const ClientOrderId& id) const {
  const Order& order = slots_[(entry.order_id - 1) & mask_];
  return order.source == source && order.client_order_id == id;
}

OrderId OrderStore::find_by_client_id(SourceId source, const ClientOrderId& id) const {
  const uint64_t h = hash_of(source, id);
  // Bounded: the load stays ≤ 0.5 by construction, but a broken invariant must not hang us.
  uint64_t i = h & index_mask_;
  for (std::size_t probes = 0; probes < index_.size(); ++probes, i = (i + 1) & index_mask_) {
    const IndexEntry& entry = index_[i];
    if (entry.order_id == 0) return 0;
    if (entry.hash == h && matches(entry, source, id)) return entry.order_id;
  }
  return 0;
}

void OrderStore::index_client_id(const Order& order) {
  const uint64_t h = hash_of(order.source, order.client_order_id);
  uint64_t i = h & index_mask_;
  while (index_[i].order_id != 0) i = (i + 1) & index_mask_;
  index_[i] = IndexEntry{order.id, h};
}

void OrderStore::erase_client_id(const Order& order) {
  const uint64_t h = hash_of(order.source, order.client_order_id);
  uint64_t i = h & index_mask_;
  while (index_[i].order_id != order.id) {
    if (index_[i].order_id == 0) return;  // never indexed (e.g. rejected before indexing)
    i = (i + 1) & index_mask_;
  }
  // Backward-shift deletion keeps every probe chain unbroken without tombstones.
  uint64_t hole = i;
  for (uint64_t j = (hole + 1) & index_mask_; index_[j].order_id != 0; j = (j + 1) & index_mask_) {
    const uint64_t home = index_[j].hash & index_mask_;
    const bool movable = hole <= j ? (home <= hole || home > j) : (home <= hole && home > j);
    if (movable) {
      index_[hole] = index_[j];
      hole = j;
    }
  }
  index_[hole] = IndexEntry{};
}

}  // namespace qt
