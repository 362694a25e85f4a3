// JournalEntry: what the engine thread pushes onto the journal ring — one record's header and up
// to 104 bytes of payload in a fixed 128-byte (two cache line) slot.
//
// Guarantees: trivially copyable, exactly 128 bytes (static_asserted), built with make_entry()
// without allocation; make_entry() zeroes the payload's padding bytes, so the journal never holds
// stray stack bytes and equal records are byte-identical. Thread ownership: the engine thread is
// the ring's only producer (through persist/engine_journal.hpp) and assigns sequence numbers
// densely from 1 (continuing after recovery from the last recovered sequence + 1); the journal
// thread (JournalAgent) is the only consumer.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <type_traits>

#include "engine/spsc_ring.hpp"
#include "persist/records.hpp"

namespace qt::persist {

struct JournalEntry {
  static constexpr std::size_t kPayloadCapacity = kMaxPayloadSize;

  uint64_t sequence = 0;
  int64_t timestamp_ns = 0;  // wall clock (CLOCK_REALTIME) ns, comparable across restarts
  uint16_t type = 0;         // a RecordType
  uint16_t size = 0;         // payload bytes used
  uint32_t reserved = 0;
  std::array<std::byte, kPayloadCapacity> payload{};

  RecordType record_type() const { return static_cast<RecordType>(type); }
};
static_assert(sizeof(JournalEntry) == 128);
static_assert(std::is_trivially_copyable_v<JournalEntry>);

template <typename T>
JournalEntry make_entry(RecordType type, uint64_t sequence, int64_t timestamp_ns,
                        const T& payload) noexcept {
  static_assert(std::is_trivially_copyable_v<T>, "journal payloads are copied as raw bytes");
  static_assert(sizeof(T) <= JournalEntry::kPayloadCapacity, "payload does not fit an entry");
  JournalEntry entry;
  entry.sequence = sequence;
  entry.timestamp_ns = timestamp_ns;
  entry.type = static_cast<uint16_t>(type);
  entry.size = static_cast<uint16_t>(sizeof(T));
  // Padding bytes inside T (the engine messages have some) would otherwise carry whatever the
  // caller's stack held onto disk: clear them so every journaled byte is defined.
  T copy = payload;
#if defined(__has_builtin) && __has_builtin(__builtin_clear_padding)
  __builtin_clear_padding(&copy);
#endif
  std::memcpy(entry.payload.data(), &copy, sizeof(T));
  return entry;
}

// The payload read back as T. Bytes beyond `size` (shorter payload than T) read as zero, so a
// record written by an older format with a shorter struct still decodes.
template <typename T>
T payload_as(const std::byte* data, std::size_t size) noexcept {
  static_assert(std::is_trivially_copyable_v<T>);
  static_assert(std::is_default_constructible_v<T>);
  std::byte bytes[sizeof(T)]{};
  std::memcpy(bytes, data, size < sizeof(T) ? size : sizeof(T));
  T out;
  std::memcpy(&out, bytes, sizeof(T));
  return out;
}
template <typename T>
T payload_as(std::span<const std::byte> payload) noexcept {
  return payload_as<T>(payload.data(), payload.size());
}
template <typename T>
T payload_as(const JournalEntry& entry) noexcept {
  return payload_as<T>(entry.payload.data(), entry.size);
}

using JournalRing = SpscRing<JournalEntry, 16384>;

}  // namespace qt::persist
