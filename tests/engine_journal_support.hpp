// The journal thread, played by a test: an engine writes ahead through the real JournalRingLog
// onto a ring that the test drains into memory, publishing durability at every pass or by hand.
// Header-only; single-threaded like EngineRig.
#pragma once

#include <atomic>
#include <memory>
#include <vector>

#include "engine/engine.hpp"
#include "persist/engine_journal.hpp"
#include "persist/journal_entry.hpp"
#include "persist/records.hpp"

namespace qt::testing {

struct JournalTap {
  std::unique_ptr<persist::JournalRing> ring = std::make_unique<persist::JournalRing>();
  std::atomic<uint64_t> durable{0};
  persist::JournalRingLog log{*ring, durable};
  std::vector<persist::JournalEntry> records;
  bool auto_durable = true;  // every pass makes what it drained durable

  void attach_to(Engine& engine, uint64_t next_sequence) {
    engine.set_write_ahead_log(&log, next_sequence);
  }
  // One journal-thread pass: everything on the ring is "written"; durable if auto_durable.
  // Returns how many records it took.
  std::size_t journal_pass() {
    const std::size_t taken =
        ring->drain([&](const persist::JournalEntry& e) { records.push_back(e); });
    if (auto_durable && !records.empty()) durable.store(records.back().sequence);
    return taken;
  }
  std::size_t count(persist::RecordType type) const {
    std::size_t n = 0;
    for (const persist::JournalEntry& e : records) n += e.record_type() == type ? 1 : 0;
    return n;
  }
};

}  // namespace qt::testing
