// StrategyContext: the strategy API, over the engine it belongs to (engine thread only).
#include "engine/engine.hpp"
#include "engine/strategy.hpp"

namespace qt {

SubmitResult StrategyContext::submit(const OrderRequest& request) {
  if (engine_.strategies_stopped()) return {0, RejectReason::kTradingHalted};
  NewOrder order;
  // "S<source>-<start>-<sequence>": unique per strategy, across restarts too, for the engine's
  // duplicate check and the journal.
  char text[ClientOrderId::kCapacity];
  int length = 0;
  text[length++] = 'S';
  auto append_number = [&](uint64_t value, uint64_t base) {
    char digits[20];
    int n = 0;
    do {
      digits[n++] = "0123456789abcdefghijklmnopqrstuvwxyz"[value % base];
      value /= base;
    } while (value != 0 && n < 20);
    while (n > 0 && length < static_cast<int>(sizeof text)) text[length++] = digits[--n];
  };
  append_number(source_, 10);
  text[length++] = '-';
  append_number(start_epoch_seconds_, 36);
  text[length++] = '-';
  append_number(next_client_sequence_++, 10);
  order.client_order_id = ClientOrderId::from(std::string_view(text, static_cast<size_t>(length)));
  order.source = source_;
  order.instrument = request.instrument;
  order.side = request.side;
  order.type = request.type;
  order.time_in_force = request.time_in_force;
  order.limit_price = request.limit_price;
  order.size = request.size;
  order.created_ns = qt::now_ns();
  return engine_.submit(order);
}

RejectReason StrategyContext::cancel(OrderId order_id) {
  return engine_.cancel(source_, order_id);
}
void StrategyContext::cancel_all() {
  engine_.cancel_all(source_, /*all_sources=*/false);
}
void StrategyContext::set_timer(int64_t interval_ns) {
  timer_interval_ns_ = interval_ns;
  next_timer_ns = interval_ns > 0 ? qt::now_ns() + interval_ns : 0;
}
const InstrumentSpec* StrategyContext::instrument(std::string_view symbol) const {
  return engine_.find_instrument(symbol);
}
const InstrumentSpec& StrategyContext::instrument(InstrumentId id) const {
  return engine_.instruments()[id];
}
const Position& StrategyContext::position(InstrumentId instrument) const {
  return engine_.position(instrument);
}
const Quote* StrategyContext::last_quote(InstrumentId instrument) const {
  return engine_.last_quote(instrument);
}
const Order* StrategyContext::order(OrderId order_id) const {
  return engine_.find_order(order_id);
}
int64_t StrategyContext::now_ns() const {
  return qt::now_ns();
}

}  // namespace qt
