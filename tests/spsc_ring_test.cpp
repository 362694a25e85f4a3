#include "engine/spsc_ring.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

namespace qt {
namespace {

struct Sequenced {
  uint64_t sequence;
  uint64_t checksum;  // derived from sequence so a torn copy is detected
  char padding[48];
};
static_assert(sizeof(Sequenced) == 64);

Sequenced make(uint64_t sequence) {
  Sequenced m{};
  m.sequence = sequence;
  m.checksum = sequence * 0x9E3779B97F4A7C15ull;
  return m;
}

TEST(SpscRing, StartsEmptyAndPopFails) {
  SpscRing<uint64_t, 8> ring;
  uint64_t out = 0;
  EXPECT_FALSE(ring.try_pop(out));
  EXPECT_EQ(ring.size_approx(), 0u);
}

TEST(SpscRing, FillsToCapacityThenRefuses) {
  SpscRing<uint64_t, 4> ring;
  for (uint64_t i = 0; i < 4; ++i) EXPECT_TRUE(ring.try_push(i));
  EXPECT_FALSE(ring.try_push(99));
  EXPECT_EQ(ring.size_approx(), 4u);
  uint64_t out = 0;
  ASSERT_TRUE(ring.try_pop(out));
  EXPECT_EQ(out, 0u);
  EXPECT_TRUE(ring.try_push(4));
}

TEST(SpscRing, PreservesFifoOrderAcrossWrapAround) {
  SpscRing<uint64_t, 4> ring;
  uint64_t next_out = 0;
  for (uint64_t i = 0; i < 1000; ++i) {
    ASSERT_TRUE(ring.try_push(i));
    if (i % 3 == 2) {
      uint64_t out = 0;
      while (ring.try_pop(out)) EXPECT_EQ(out, next_out++);
    }
  }
}

TEST(SpscRing, BatchPushStopsAtCapacity) {
  SpscRing<uint64_t, 8> ring;
  std::vector<uint64_t> input(12);
  for (uint64_t i = 0; i < input.size(); ++i) input[i] = i;
  EXPECT_EQ(ring.try_push_batch(input.data(), input.size()), 8u);
  EXPECT_EQ(ring.try_push_batch(input.data(), 1), 0u);
}

TEST(SpscRing, DrainRespectsLimitAndOrder) {
  SpscRing<uint64_t, 16> ring;
  for (uint64_t i = 0; i < 10; ++i) ASSERT_TRUE(ring.try_push(i));
  std::vector<uint64_t> seen;
  EXPECT_EQ(ring.drain([&](const uint64_t& v) { seen.push_back(v); }, 4), 4u);
  EXPECT_EQ(ring.drain([&](const uint64_t& v) { seen.push_back(v); }), 6u);
  EXPECT_EQ(ring.drain([&](const uint64_t& v) { seen.push_back(v); }), 0u);
  ASSERT_EQ(seen.size(), 10u);
  for (uint64_t i = 0; i < 10; ++i) EXPECT_EQ(seen[i], i);
}

// 10M sequenced messages across two threads, mixing single and batch operations on both sides:
// producer_room answers from the producer's cached view while that shows `wanted` free slots, and
// looks at the consumer's index only when it does not: never more room than there is, and never
// "no room" while the consumer has freed what was asked for.
TEST(SpscRing, ProducerRoomIsALowerBoundThatRefreshesWhenShort) {
  SpscRing<uint64_t, 8> ring;
  EXPECT_EQ(ring.producer_room(1), 8u);
  for (uint64_t i = 0; i < 8; ++i) ASSERT_TRUE(ring.try_push(i));
  EXPECT_EQ(ring.producer_room(1), 0u);
  uint64_t out = 0;
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(ring.try_pop(out));
  EXPECT_EQ(ring.producer_room(0), 0u);  // cached view: enough for 0, so the stale answer stands
  EXPECT_EQ(ring.producer_room(3), 3u);  // short of 3 in the cached view: reads the consumer's
  EXPECT_EQ(ring.producer_room(4), 3u);  // fresh, and no more than there is
  for (uint64_t i = 0; i < 3; ++i) ASSERT_TRUE(ring.try_push(i));
  EXPECT_EQ(ring.producer_room(1), 0u);
  EXPECT_FALSE(ring.try_push(99));
}

// nothing lost, duplicated, reordered or torn. Run under the tsan preset to prove the ordering.
TEST(SpscRing, TenMillionSequencedMessagesAcrossThreads) {
  constexpr uint64_t kMessages = 10'000'000;
  auto ring = std::make_unique<SpscRing<Sequenced, 1024>>();

  std::thread producer([&] {
    Sequenced batch[16];
    uint64_t next = 0;
    while (next < kMessages) {
      if ((next & 1023) < 512) {
        if (ring->try_push(make(next))) ++next;
      } else {
        const uint64_t n = std::min<uint64_t>(16, kMessages - next);
        for (uint64_t i = 0; i < n; ++i) batch[i] = make(next + i);
        next += ring->try_push_batch(batch, n);
      }
    }
  });

  uint64_t expected = 0;
  uint64_t errors = 0;
  while (expected < kMessages) {
    if ((expected & 2047) < 1024) {
      Sequenced m;
      if (ring->try_pop(m)) {
        errors += (m.sequence != expected || m.checksum != make(expected).checksum);
        ++expected;
      }
    } else {
      ring->drain(
          [&](const Sequenced& m) {
            errors += (m.sequence != expected || m.checksum != make(expected).checksum);
            ++expected;
          },
          64);
    }
  }
  producer.join();
  EXPECT_EQ(errors, 0u);
  EXPECT_EQ(expected, kMessages);
  Sequenced leftover;
  EXPECT_FALSE(ring->try_pop(leftover));
}

}  // namespace
}  // namespace qt
