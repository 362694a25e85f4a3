#include "gateway/paper/paper_venue.hpp"

#include <cstdio>

#include "engine/clock.hpp"

namespace qt {

PaperVenue::PaperVenue(VenueRequestRing& requests, VenueEventRing& events, QuoteRing* quotes)
    : requests_(requests), events_(events), quotes_(quotes) {
  resting_.reserve(kMaxResting);
}

bool PaperVenue::crosses(Side side, PriceUnits limit, const Quote& quote) {
  if (quote.bid <= 0 || quote.ask <= 0) return false;
  return side == Side::kBuy ? quote.ask <= limit : quote.bid >= limit;
}

void PaperVenue::emit(VenueEventKind kind, OrderId id, PriceUnits price, SizeUnits size,
                      RejectReason reason) {
  VenueEvent event;
  event.kind = kind;
  event.reason = reason;
  event.order_id = id;
  event.fill_price = price;
  event.fill_size = size;
  event.created_ns = now_ns();
  std::snprintf(event.venue_order_id.data(), event.venue_order_id.size(), "PAPER-%llu",
                static_cast<unsigned long long>(id));
  // The engine drains this ring on every duty cycle; a full ring means the engine has stopped,
  // and the loss is counted so the run summary shows it.
  if (!events_.try_push(event)) {
    dropped_.store(dropped_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    return;
  }
  if (engine_doorbell_ != nullptr) engine_doorbell_->ring();
}

void PaperVenue::on_request(const VenueRequest& request) {
  if (request.kind == VenueRequestKind::kReconcile) {
    // The paper book does not outlive the process: an order recovered from the journal is gone.
    emit(VenueEventKind::kCanceled, request.order_id, 0, 0);
    return;
  }
  if (request.kind == VenueRequestKind::kStartupReconcile) {
    // Nothing to read back: every recovered order was answered above, ahead of this on the ring.
    emit(VenueEventKind::kStartupReconciled, 0, 0, 0);
    return;
  }
  if (request.kind == VenueRequestKind::kCancel) {
    for (std::size_t i = 0; i < resting_.size(); ++i) {
      if (resting_[i].order_id == request.order_id) {
        resting_[i] = resting_.back();
        resting_.pop_back();
        emit(VenueEventKind::kCanceled, request.order_id, 0, 0);
        return;
      }
    }
    emit(VenueEventKind::kCancelRejected, request.order_id, 0, 0);
    return;
  }
  placed_.store(placed_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  const Quote& quote = last_quotes_[request.instrument];
  if (request.type == OrderType::kMarket) {
    if (quote.bid <= 0 || quote.ask <= 0) {
      emit(VenueEventKind::kRejected, request.order_id, 0, 0, RejectReason::kNoMarketData);
      return;
    }
    emit(VenueEventKind::kAccepted, request.order_id, 0, 0);
    emit(VenueEventKind::kFill, request.order_id,
         request.side == Side::kBuy ? quote.ask : quote.bid, request.size);
    return;
  }
  if (crosses(request.side, request.limit_price, quote)) {
    emit(VenueEventKind::kAccepted, request.order_id, 0, 0);
    emit(VenueEventKind::kFill, request.order_id,
         request.side == Side::kBuy ? quote.ask : quote.bid, request.size);
    return;
  }
  if (resting_.size() >= kMaxResting) {
    emit(VenueEventKind::kRejected, request.order_id, 0, 0, RejectReason::kVenueRejected);
    return;
  }
  resting_.push_back(
      {request.order_id, request.instrument, request.side, request.limit_price, request.size});
  emit(VenueEventKind::kAccepted, request.order_id, 0, 0);
}

void PaperVenue::on_quote(const Quote& quote) {
  if (quote.instrument >= kMaxInstruments) return;
  last_quotes_[quote.instrument] = quote;
  for (std::size_t i = 0; i < resting_.size();) {
    const Resting& order = resting_[i];
    if (order.instrument == quote.instrument && crosses(order.side, order.limit_price, quote)) {
      emit(VenueEventKind::kFill, order.order_id, order.limit_price, order.size);
      resting_[i] = resting_.back();
      resting_.pop_back();
    } else {
      ++i;
    }
  }
}

int PaperVenue::do_work() {
  std::size_t work = 0;
  if (quotes_ != nullptr) work += quotes_->drain([this](const Quote& q) { on_quote(q); }, 256);
  work += requests_.drain([this](const VenueRequest& r) { on_request(r); }, 256);
  return static_cast<int>(work);
}

}  // namespace qt
