// Deal confirms: how each order, amendment and deletion is confirmed (GET /confirms/{ref})
// and the dealReference answer; see broker_state.hpp.
#include "sim/broker_state.hpp"

namespace qt::sim {
namespace {

// What the confirm of a position and of a working order share: the deal as it stands.
template <typename Deal>
BrokerState::ConfirmFields standing_confirm(const Deal& deal, std::string reference) {
  BrokerState::ConfirmFields c;
  c.reference = std::move(reference);
  c.deal_id = deal.deal_id;
  c.market = deal.market;
  c.level = deal.level;
  c.size = deal.size;
  c.direction = deal.direction;
  c.guaranteed_stop = deal.guaranteed_stop;
  c.trailing_stop = deal.trailing_stop;
  return c;
}

}  // namespace

BrokerState::ConfirmFields BrokerState::new_order_confirm(std::size_t m, Direction d, double size,
                                                          int64_t level, const StopProfit& sp,
                                                          std::string reference,
                                                          std::string deal_id) {
  ConfirmFields c;
  c.reference = std::move(reference);
  c.deal_id = std::move(deal_id);
  c.market = m;
  c.level = level;
  c.size = size;
  c.direction = d;
  c.guaranteed_stop = sp.guaranteed_stop;
  c.trailing_stop = sp.trailing_stop;
  c.stop_level = sp.stop_level;
  c.profit_level = sp.profit_level;
  ++stats.orders_by_epic[spec(m).epic];
  return c;
}

void BrokerState::reject(ConfirmFields& c, std::string reason, std::string_view type) {
  c.accepted = false;
  c.reason = std::move(reason);
  record(c.market, c.deal_id, "USER", type, "REJECTED", c.reference, c.size, c.direction, c.level,
         c.guaranteed_stop);
}

BrokerState::ConfirmFields BrokerState::confirm_of(const Position& p, std::string reference) {
  ConfirmFields c = standing_confirm(p, std::move(reference));
  c.stop_level = p.stop_level;
  c.profit_level = p.profit_level;
  return c;
}

BrokerState::ConfirmFields BrokerState::confirm_of(const WorkingOrder& o, std::string reference) {
  return standing_confirm(o, std::move(reference));  // its stops are distances, not levels
}

BrokerResponse BrokerState::confirm_change(ConfirmFields c, std::string_view change,
                                           std::string_view activity_type,
                                           std::string_view activity_status) {
  c.status = std::string(change);
  c.affected = {{c.deal_id, std::string(change)}};
  store_confirm(c);
  record(c.market, c.deal_id, "USER", activity_type, activity_status, c.reference, c.size,
         c.direction, c.level, c.guaranteed_stop);
  return deal_reference(c.reference, false);
}

void BrokerState::store_confirm(const ConfirmFields& c) {
  const std::size_t m = c.market;
  JsonWriter w;
  w.begin_object();
  w.member("date", format_time(epoch_ms_now(), options.timezone_offset_hours));
  if (!c.status.empty()) w.member("status", c.status);
  w.member("reason", c.reason).member("dealStatus", c.accepted ? "ACCEPTED" : "REJECTED");
  w.member("epic", spec(m).epic).member("dealReference", c.reference);
  w.member("dealId", c.deal_id);
  w.key("affectedDeals").begin_array();
  for (const Affected& a : c.affected) {
    w.begin_object().member("dealId", a.deal_id).member("status", a.status).end_object();
  }
  w.end_array();
  write_price(w, "level", m, c.level);
  write_size(w, "size", m, c.size);
  w.member("direction", to_string(c.direction));
  w.member("guaranteedStop", c.guaranteed_stop).member("trailingStop", c.trailing_stop);
  if (c.stop_level) write_price(w, "stopLevel", m, units(m, *c.stop_level));
  if (c.profit_level) write_price(w, "profitLevel", m, units(m, *c.profit_level));
  if (c.profit) {
    write_money(w, "profit", *c.profit);
    w.member("profitCurrency", kAccountCurrency);
  }
  w.end_object();
  confirms[c.reference] = {w.take(), epoch_ms_now()};
}

BrokerResponse BrokerState::confirm(const std::string& reference) const {
  const auto it = confirms.find(reference);
  if (it == confirms.end() ||
      epoch_ms_now() - it->second.stored_ms < options.faults.confirm_delay_ms) {
    return error(404, "error.not-found.dealReference");
  }
  return json_ok(it->second.body);
}

BrokerResponse BrokerState::deal_reference(const std::string& reference, bool executed) {
  JsonWriter w;
  w.begin_object().member("dealReference", reference).end_object();
  BrokerResponse r = json_ok(w.take());
  r.order_executed = executed;
  return r;
}

}  // namespace qt::sim
