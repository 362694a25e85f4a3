// The /workingorders resource: list, create (LIMIT/STOP, good-till-date), amend, delete;
// see broker_state.hpp. broker_matching.cpp fills and expires them.
#include <cmath>

#include "sim/broker_state.hpp"
#include "sim/json_body.hpp"

namespace qt::sim {

BrokerState::WorkingOrder* BrokerState::find_order(const Account& account,
                                                   const std::string& deal_id) {
  for (WorkingOrder& o : working_orders) {
    if (o.account_id == account.id && o.deal_id == deal_id) return &o;
  }
  return nullptr;
}

std::optional<BrokerResponse> BrokerState::parse_good_till(const JsonBody& body,
                                                           std::optional<int64_t>& good_till) {
  const std::optional<std::string> text = body.str("goodTillDate");
  if (!text) {
    good_till.reset();
    return std::nullopt;
  }
  const std::optional<int64_t> t = parse_time(*text);
  if (!t) return error(400, "error.invalid.goodTillDate");
  if (*t <= epoch_ms_now()) return error(400, "error.not-in-future.goodTillDate");
  good_till = *t;
  return std::nullopt;
}

BrokerResponse BrokerState::working_orders_list(const Account& account) {
  JsonWriter w;
  w.begin_object().key("workingOrders").begin_array();
  for (const WorkingOrder& o : working_orders) {
    if (o.account_id != account.id) continue;
    const std::size_t m = o.market;
    w.begin_object().key("workingOrderData").begin_object();
    w.member("dealId", o.deal_id).member("direction", to_string(o.direction));
    w.member("epic", spec(m).epic);
    write_size(w, "orderSize", m, o.size);
    write_price(w, "orderLevel", m, o.level);
    w.member("timeInForce", o.good_till_ms ? "GOOD_TILL_DATE" : "GOOD_TILL_CANCELLED");
    if (o.good_till_ms) {
      w.member("goodTillDate", format_time(*o.good_till_ms, options.timezone_offset_hours));
      w.member("goodTillDateUTC", format_time(*o.good_till_ms));
    }
    w.member("createdDate", format_time(o.created_ms, options.timezone_offset_hours));
    w.member("createdDateUTC", format_time(o.created_ms));
    w.member("guaranteedStop", o.guaranteed_stop).member("trailingStop", o.trailing_stop);
    w.member("orderType", o.limit ? "LIMIT" : "STOP");
    if (o.stop_distance) w.member("stopDistance", *o.stop_distance);
    if (o.profit_distance) w.member("profitDistance", *o.profit_distance);
    w.member("currencyCode", spec(m).currency).end_object();
    w.key("marketData");
    write_summary(w, m);
    w.end_object();
  }
  w.end_array().end_object();
  return json_ok(w.take());
}

BrokerResponse BrokerState::create_working_order(const BrokerRequest& r, Account& account) {
  JsonBody body;
  std::size_t m = 0;
  Direction d = Direction::kBuy;
  double size = 0;
  if (auto bad = read_new_order(r, body, m, d, size)) return *bad;
  const std::optional<double> level = body.num("level");
  if (!level) return error(400, "error.null.level");
  if (*level <= 0) return error(400, "error.invalid.level");
  const std::optional<std::string> type = body.str("type");
  if (!type) return error(400, "error.null.type");
  if (*type != "LIMIT" && *type != "STOP") return error(400, "error.invalid.type");
  std::optional<int64_t> good_till;
  if (auto bad = parse_good_till(body, good_till)) return *bad;
  StopProfit sp;
  if (auto bad = parse_stop_profit(body, m, d, size, *level, account.hedging_mode, sp)) return *bad;

  WorkingOrder o;
  o.account_id = account.id;
  o.deal_id = new_deal_id();
  o.market = m;
  o.direction = d;
  o.size = round_size(m, size);
  o.level = units(m, *level);
  o.limit = *type == "LIMIT";
  o.good_till_ms = good_till;
  o.created_ms = epoch_ms_now();
  if (sp.stop_level) o.stop_distance = std::abs(*level - *sp.stop_level);
  if (sp.profit_level) o.profit_distance = std::abs(*sp.profit_level - *level);
  o.guaranteed_stop = sp.guaranteed_stop;
  o.trailing_stop = sp.trailing_stop;

  ConfirmFields c = new_order_confirm(m, d, size, o.level, sp, "o_" + new_uuid(), o.deal_id);
  if (const auto rejection = size_rejection(m, size)) {
    reject(c, *rejection, "WORKING_ORDER");
  } else {
    c.status = "OPEN";
    c.affected = {{o.deal_id, "OPENED"}};
    record(m, o.deal_id, "USER", "WORKING_ORDER", "CREATED", c.reference, o.size, d, o.level,
           o.guaranteed_stop);
    working_orders.push_back(std::move(o));
  }
  store_confirm(c);
  return deal_reference(c.reference, true);
}

BrokerResponse BrokerState::amend_working_order(const BrokerRequest& r, Account& account,
                                                const std::string& deal_id) {
  WorkingOrder* o = find_order(account, deal_id);
  if (o == nullptr) return error(404, "error.not-found.dealId");
  JsonBody body;
  if (!body.parse(r.body)) return error(400, "error.invalid.json");
  const double level = body.num("level").value_or(price(o->market, o->level));
  if (level <= 0) return error(400, "error.invalid.level");
  std::optional<int64_t> good_till = o->good_till_ms;
  if (body.has("goodTillDate")) {
    if (auto bad = parse_good_till(body, good_till)) return *bad;
  }
  StopProfit sp;
  if (auto bad = parse_stop_profit(body, o->market, o->direction, o->size, level,
                                   account.hedging_mode, sp)) {
    return *bad;
  }
  o->level = units(o->market, level);
  o->good_till_ms = good_till;
  if (sp.stop_level) o->stop_distance = std::abs(level - *sp.stop_level);
  if (sp.profit_level) o->profit_distance = std::abs(*sp.profit_level - level);
  // Omitted guaranteedStop / trailingStop reset to false; other omitted fields persist.
  o->guaranteed_stop = sp.guaranteed_stop;
  o->trailing_stop = sp.trailing_stop;
  return confirm_change(confirm_of(*o, "o_" + new_uuid()), "AMENDED", "WORKING_ORDER", "MODIFIED");
}

BrokerResponse BrokerState::delete_working_order(Account& account, const std::string& deal_id) {
  WorkingOrder* o = find_order(account, deal_id);
  if (o == nullptr) return error(404, "error.not-found.dealId");
  BrokerResponse response =
      confirm_change(confirm_of(*o, "o_" + new_uuid()), "DELETED", "WORKING_ORDER", "CANCELLED");
  working_orders.erase(working_orders.begin() + (o - working_orders.data()));
  return response;
}

}  // namespace qt::sim
