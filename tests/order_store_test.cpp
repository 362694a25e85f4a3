// Specification of the order store (engine/order_store.hpp): id assignment, lookup by id and by
// (source, client order id), slot reuse, and a randomised comparison against a slow,
// obviously-correct reference model.
#include "engine/order_store.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace qt {
namespace {

// Creates an order for (source, client id) and indexes it, as the engine does on acceptance.
Order* create_indexed(OrderStore& store, SourceId source, const std::string& client_id) {
  Order* order = store.create();
  if (order == nullptr) return nullptr;
  order->source = source;
  order->client_order_id = ClientOrderId::from(client_id);
  store.index_client_id(*order);
  return order;
}

void finish(Order& order) {
  order.state = OrderState::kFilled;
}

TEST(OrderStore, CapacityIsRoundedUpToAPowerOfTwo) {
  EXPECT_EQ(OrderStore(5).capacity(), 8u);
  EXPECT_EQ(OrderStore(8).capacity(), 8u);
  EXPECT_EQ(OrderStore(1000).capacity(), 1024u);
}

TEST(OrderStore, IdsIncreaseFromOne) {
  OrderStore store(8);
  EXPECT_EQ(store.last_id(), 0u);
  for (OrderId expected = 1; expected <= 5; ++expected) {
    Order* order = store.create();
    ASSERT_NE(order, nullptr);
    EXPECT_EQ(order->id, expected);
    EXPECT_EQ(store.last_id(), expected);
  }
}

TEST(OrderStore, NewOrderStartsPendingNewWithNothingFilled) {
  OrderStore store(8);
  const Order* order = store.create();
  ASSERT_NE(order, nullptr);
  EXPECT_EQ(order->state, OrderState::kPendingNew);
  EXPECT_EQ(order->filled_size, 0);
  EXPECT_TRUE(order->client_order_id.empty());
}

TEST(OrderStore, FindsAnOrderById) {
  OrderStore store(8);
  Order* first = store.create();
  Order* second = store.create();
  EXPECT_EQ(store.find(1), first);
  EXPECT_EQ(store.find(2), second);
  const OrderStore& const_store = store;
  EXPECT_EQ(const_store.find(2), second);
}

TEST(OrderStore, FindOfIdZeroOrNotYetIssuedIsNull) {
  OrderStore store(8);
  store.create();
  EXPECT_EQ(store.find(0), nullptr);
  EXPECT_EQ(store.find(2), nullptr);
  EXPECT_EQ(store.find(1'000'000), nullptr);
}

TEST(OrderStore, FindsAnOrderByClientIdUnderItsSource) {
  OrderStore store(8);
  create_indexed(store, 1, "A");
  create_indexed(store, 1, "B");
  EXPECT_EQ(store.find_by_client_id(1, ClientOrderId::from("A")), 1u);
  EXPECT_EQ(store.find_by_client_id(1, ClientOrderId::from("B")), 2u);
  EXPECT_EQ(store.find_by_client_id(1, ClientOrderId::from("C")), 0u);
}

TEST(OrderStore, SameClientIdUnderTwoSourcesIsTwoDifferentOrders) {
  OrderStore store(8);
  create_indexed(store, 1, "X-1");  // id 1
  create_indexed(store, 2, "X-1");  // id 2
  EXPECT_EQ(store.find_by_client_id(1, ClientOrderId::from("X-1")), 1u);
  EXPECT_EQ(store.find_by_client_id(2, ClientOrderId::from("X-1")), 2u);
  EXPECT_EQ(store.find_by_client_id(3, ClientOrderId::from("X-1")), 0u);
}

TEST(OrderStore, UnindexedOrderIsNotFoundByClientId) {
  OrderStore store(8);
  Order* order = store.create();
  order->source = 1;
  order->client_order_id = ClientOrderId::from("A");
  EXPECT_EQ(store.find_by_client_id(1, ClientOrderId::from("A")), 0u);
}

TEST(OrderStore, CreateRefusesWhenTheSlotStillHoldsALiveOrder) {
  OrderStore store(4);
  for (int i = 0; i < 4; ++i) ASSERT_NE(store.create(), nullptr);  // ids 1..4, all live
  // Id 5 needs order 1's slot; order 1 is still PendingNew.
  EXPECT_EQ(store.create(), nullptr);
  EXPECT_EQ(store.last_id(), 4u);  // no id was consumed by the refusal
  EXPECT_NE(store.find(1), nullptr);
}

TEST(OrderStore, CreateReusesTheSlotOnceItsOrderIsTerminal) {
  OrderStore store(4);
  for (int i = 0; i < 4; ++i) ASSERT_NE(store.create(), nullptr);
  finish(*store.find(1));
  Order* fifth = store.create();
  ASSERT_NE(fifth, nullptr);
  EXPECT_EQ(fifth->id, 5u);
  EXPECT_EQ(store.find(5), fifth);
  EXPECT_EQ(store.find(1), nullptr);  // evicted
  // Order 2 is live, so id 6 is refused.
  EXPECT_EQ(store.create(), nullptr);
}

TEST(OrderStore, EveryTerminalStateFreesTheSlot) {
  for (OrderState terminal : {OrderState::kFilled, OrderState::kCanceled, OrderState::kRejected}) {
    OrderStore store(2);
    store.create()->state = terminal;
    store.create()->state = terminal;
    EXPECT_NE(store.create(), nullptr) << to_string(terminal);
  }
}

TEST(OrderStore, EveryLiveStateBlocksTheSlot) {
  for (OrderState live : {OrderState::kPendingNew, OrderState::kNew, OrderState::kPartiallyFilled,
                          OrderState::kPendingCancel, OrderState::kUnknown}) {
    OrderStore store(2);
    store.create()->state = live;
    store.create()->state = OrderState::kFilled;
    EXPECT_EQ(store.create(), nullptr) << to_string(live);
  }
}

TEST(OrderStore, ReusedSlotStartsFromAFreshOrder) {
  OrderStore store(2);
  Order* first = create_indexed(store, 7, "OLD");
  first->filled_size = 3;
  first->state = OrderState::kFilled;
  store.create()->state = OrderState::kFilled;
  Order* third = store.create();  // reuses order 1's slot
  ASSERT_EQ(third, first);
  EXPECT_EQ(third->id, 3u);
  EXPECT_EQ(third->source, 0);
  EXPECT_EQ(third->filled_size, 0);
  EXPECT_EQ(third->state, OrderState::kPendingNew);
  EXPECT_TRUE(third->client_order_id.empty());
}

TEST(OrderStore, EvictedOrdersClientIdIsNoLongerFound) {
  OrderStore store(2);
  create_indexed(store, 1, "A")->state = OrderState::kFilled;  // id 1
  create_indexed(store, 1, "B");                               // id 2
  ASSERT_EQ(store.find_by_client_id(1, ClientOrderId::from("A")), 1u);
  create_indexed(store, 1, "C");  // id 3 evicts order 1
  EXPECT_EQ(store.find_by_client_id(1, ClientOrderId::from("A")), 0u);
  EXPECT_EQ(store.find_by_client_id(1, ClientOrderId::from("B")), 2u);
  EXPECT_EQ(store.find_by_client_id(1, ClientOrderId::from("C")), 3u);
}

TEST(OrderStore, ClientIdCanBeReusedAfterItsOrderIsEvicted) {
  OrderStore store(2);
  create_indexed(store, 1, "A")->state = OrderState::kFilled;  // id 1
  create_indexed(store, 1, "B")->state = OrderState::kFilled;  // id 2
  create_indexed(store, 1, "A");                               // id 3 evicts 1, reuses "A"
  EXPECT_EQ(store.find_by_client_id(1, ClientOrderId::from("A")), 3u);
}

TEST(OrderStore, ForEachLiveVisitsLiveOrdersOldestFirst) {
  OrderStore store(4);
  for (int i = 0; i < 4; ++i) store.create();
  store.find(2)->state = OrderState::kCanceled;
  store.find(1)->state = OrderState::kFilled;
  store.create();  // id 5 evicts order 1
  std::vector<OrderId> visited;
  store.for_each_live([&](Order& order) { visited.push_back(order.id); });
  EXPECT_EQ(visited, (std::vector<OrderId>{3, 4, 5}));
}

// ---------------------------------------------------------------------------------------------
// Randomised: the store against a slow, obviously-correct reference implementation beside it.
// ---------------------------------------------------------------------------------------------

// The reference: every order ever created, and a hash map from (source, client id) to the
// newest indexed order that has not been evicted.
struct ReferenceStore {
  struct Entry {
    SourceId source;
    std::string client_id;
    bool live;
    bool evicted;
  };
  std::size_t capacity;
  std::map<OrderId, Entry> orders;
  std::unordered_map<std::string, OrderId> by_key;
  OrderId next_id = 1;

  static std::string key(SourceId source, const std::string& client_id) {
    return std::to_string(source) + "/" + client_id;
  }
  // The order whose slot id `id` would take, if any.
  const Entry* occupant_of_slot_for(OrderId id) const {
    if (id <= capacity) return nullptr;
    return &orders.at(id - capacity);
  }
};

TEST(OrderStore, RandomisedOperationsMatchAReferenceModel) {
  constexpr std::size_t kCapacity = 64;  // small, so the ring wraps many times
  constexpr int kOperations = 200'000;
  constexpr int kSources = 4;
  constexpr int kClientIds = 300;  // more keys than slots: keys come and go

  OrderStore store(kCapacity);
  ReferenceStore reference{kCapacity, {}, {}, 1};
  std::mt19937_64 rng(20240611);
  auto uniform = [&](int n) { return static_cast<int>(rng() % static_cast<uint64_t>(n)); };

  for (int op = 0; op < kOperations; ++op) {
    const int kind = uniform(10);
    if (kind < 5) {
      // New order: refused as a duplicate if its key is known, refused by the store if the slot
      // is live, otherwise created and indexed.
      const auto source = static_cast<SourceId>(1 + uniform(kSources));
      const std::string client_id = "CL-" + std::to_string(uniform(kClientIds));
      const std::string key = ReferenceStore::key(source, client_id);
      const auto known = reference.by_key.find(key);
      const OrderId expected_existing = known == reference.by_key.end() ? 0 : known->second;
      ASSERT_EQ(store.find_by_client_id(source, ClientOrderId::from(client_id)), expected_existing)
          << "op " << op << " key " << key;
      if (expected_existing != 0) continue;

      const ReferenceStore::Entry* occupant = reference.occupant_of_slot_for(reference.next_id);
      const bool slot_blocked = occupant != nullptr && occupant->live;
      Order* order = create_indexed(store, source, client_id);
      if (slot_blocked) {
        ASSERT_EQ(order, nullptr) << "op " << op;
        continue;
      }
      ASSERT_NE(order, nullptr) << "op " << op;
      ASSERT_EQ(order->id, reference.next_id);
      if (occupant != nullptr) {
        ReferenceStore::Entry& evicted = reference.orders.at(reference.next_id - kCapacity);
        evicted.evicted = true;
        reference.by_key.erase(ReferenceStore::key(evicted.source, evicted.client_id));
      }
      reference.orders[reference.next_id] = {source, client_id, true, false};
      reference.by_key[key] = reference.next_id;
      ++reference.next_id;
    } else if (kind < 9) {
      // Finish a random order: usually one of the newest `capacity` (if still live), sometimes
      // any order ever created, to check that evicted ones are gone.
      if (reference.next_id == 1) continue;
      const OrderId newest = reference.next_id - 1;
      const OrderId window = uniform(10) == 0 || newest < kCapacity ? newest : kCapacity;
      const OrderId id = newest - static_cast<OrderId>(rng() % window);
      ReferenceStore::Entry& entry = reference.orders.at(id);
      Order* order = store.find(id);
      ASSERT_EQ(order != nullptr, !entry.evicted) << "op " << op << " id " << id;
      if (order == nullptr || !entry.live) continue;
      order->state = uniform(2) == 0 ? OrderState::kFilled : OrderState::kCanceled;
      entry.live = false;
    } else {
      // Look up a random key that may or may not exist.
      const auto source = static_cast<SourceId>(1 + uniform(kSources));
      const std::string client_id = "CL-" + std::to_string(uniform(kClientIds));
      const auto known = reference.by_key.find(ReferenceStore::key(source, client_id));
      const OrderId expected = known == reference.by_key.end() ? 0 : known->second;
      ASSERT_EQ(store.find_by_client_id(source, ClientOrderId::from(client_id)), expected)
          << "op " << op;
    }
  }

  // Final sweep: every key the reference knows resolves, and every order id agrees.
  for (const auto& [id, entry] : reference.orders) {
    const Order* order = store.find(id);
    ASSERT_EQ(order != nullptr, !entry.evicted) << "id " << id;
    if (order == nullptr) continue;
    EXPECT_EQ(order->is_live(), entry.live) << "id " << id;
    EXPECT_EQ(store.find_by_client_id(entry.source, ClientOrderId::from(entry.client_id)), id);
  }
  EXPECT_GT(reference.next_id, 10 * kCapacity) << "the ring should have wrapped many times";
}

}  // namespace
}  // namespace qt
