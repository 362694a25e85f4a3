// OwnedDeals: the broker's deals the journal accounts for — every position an order of this
// engine opened or closed there, by the broker's deal id, as the venue reported it (kDealOwned).
// After a crash the venue subtracts them from the broker's activity history, so that what is
// left identifies the one order per lane whose outcome was never learned
// (gateway/capital/capital_venue.hpp). The newest kCapacity are kept; complete_since_epoch_ms()
// says from when on the log holds every one (an evicted deal moves it past that deal's time).
//
// Engine thread only (the snapshotter's shadow engine has its own). Fixed storage, no
// allocation after construction; the snapshot carries it (persist/FORMAT.md).
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "engine/messages.hpp"

namespace qt {

struct OwnedDeal {
  // Empty: deals of that order whose ids the venue could not learn (a working order that
  // filled by netting) — the lane's history around epoch_ms cannot be attributed by id.
  std::array<char, VenueEvent::kVenueIdCapacity> deal_id{};
  int64_t epoch_ms = 0;  // when the venue learned it
  OrderId order_id = 0;  // the order that made it
  InstrumentId instrument = 0;
  Side side = Side::kBuy;  // the order's side: the history entry's direction
  bool opened = false;     // opened a position (history: ACCEPTED), else closed one (EXECUTED)
  friend bool operator==(const OwnedDeal&, const OwnedDeal&) = default;
};

class OwnedDeals {
 public:
  static constexpr std::size_t kCapacity = 1024;

  void record(const OwnedDeal& deal) {
    if (count_ == kCapacity) {
      complete_since_epoch_ms_ = std::max(complete_since_epoch_ms_, deals_[first_].epoch_ms + 1);
      first_ = (first_ + 1) % kCapacity;
      --count_;
    }
    deals_[(first_ + count_) % kCapacity] = deal;
    ++count_;
  }

  std::size_t size() const { return count_; }
  const OwnedDeal& operator[](std::size_t i) const { return deals_[(first_ + i) % kCapacity]; }
  int64_t complete_since_epoch_ms() const { return complete_since_epoch_ms_; }

  // Snapshots: oldest first.
  std::vector<OwnedDeal> list() const {
    std::vector<OwnedDeal> out;
    out.reserve(count_);
    for (std::size_t i = 0; i < count_; ++i) out.push_back((*this)[i]);
    return out;
  }
  void restore(const std::vector<OwnedDeal>& deals, int64_t complete_since_epoch_ms) {
    first_ = count_ = 0;
    complete_since_epoch_ms_ = complete_since_epoch_ms;
    for (const OwnedDeal& deal : deals) record(deal);
  }

 private:
  std::array<OwnedDeal, kCapacity> deals_{};
  std::size_t first_ = 0;
  std::size_t count_ = 0;
  int64_t complete_since_epoch_ms_ = 0;
};

}  // namespace qt
