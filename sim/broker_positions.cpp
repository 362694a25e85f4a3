// The /positions resource: list, one, open (a market deal), amend stops and limits, close;
// see broker_state.hpp.
#include <algorithm>

#include "sim/broker_state.hpp"
#include "sim/json_body.hpp"

namespace qt::sim {
namespace {

std::string confirm_status(const std::vector<BrokerState::Affected>& affected) {
  bool opened = false, partial = false;
  for (const BrokerState::Affected& a : affected) {
    opened |= a.status == "OPENED";
    partial |= a.status == "PARTIALLY_CLOSED";
  }
  return opened ? "OPEN" : partial ? "PARTIALLY_CLOSED" : "CLOSED";
}

}  // namespace

BrokerState::Position* BrokerState::find_position(const Account& account,
                                                  const std::string& deal_id) {
  for (Position& p : positions) {
    if (p.account_id == account.id && p.deal_id == deal_id) return &p;
  }
  return nullptr;
}

void BrokerState::write_position(JsonWriter& w, const Position& p) {
  const std::size_t m = p.market;
  const Account* account = find_account(p.account_id);
  w.begin_object().key("position").begin_object();
  w.member("contractSize", spec(m).lot_size);
  w.member("createdDate", format_time(p.created_ms, options.timezone_offset_hours));
  w.member("createdDateUTC", format_time(p.created_ms));
  w.member("dealId", p.deal_id).member("dealReference", "p_" + p.deal_id);
  w.member("workingOrderId", p.working_order_id);
  write_size(w, "size", m, p.size);
  w.member("leverage", account ? leverage_of(*account, spec(m).type) : 1);
  write_money(w, "upl", upl(p));
  w.member("direction", to_string(p.direction));
  write_price(w, "level", m, p.level);
  w.member("currency", spec(m).currency).member("guaranteedStop", p.guaranteed_stop);
  w.member("trailingStop", p.trailing_stop);
  if (p.stop_level) write_price(w, "stopLevel", m, units(m, *p.stop_level));
  if (p.profit_level) write_price(w, "profitLevel", m, units(m, *p.profit_level));
  if (p.trailing_distance) w.member("trailingStopDistance", *p.trailing_distance);
  w.end_object().key("market");
  write_summary(w, m);
  w.end_object();
}

BrokerResponse BrokerState::positions_list(const Account& account) {
  JsonWriter w;
  w.begin_object().key("positions").begin_array();
  for (const Position& p : positions) {
    if (p.account_id == account.id) write_position(w, p);
  }
  w.end_array().end_object();
  return json_ok(w.take());
}

BrokerResponse BrokerState::position_one(const Account& account, const std::string& deal_id) {
  const Position* p = find_position(account, deal_id);
  if (p == nullptr) return error(404, "error.not-found.dealId");
  JsonWriter w;
  write_position(w, *p);
  return json_ok(w.take());
}

BrokerResponse BrokerState::open_position(const BrokerRequest& r, Account& account) {
  JsonBody body;
  std::size_t m = 0;
  Direction d = Direction::kBuy;
  double size = 0;
  if (auto bad = read_new_order(r, body, m, d, size)) return *bad;
  StopProfit sp;
  const double ref = price(m, entry_level(m, d));
  if (auto bad = parse_stop_profit(body, m, d, size, ref, account.hedging_mode, sp)) return *bad;

  std::string reference = "o_" + new_uuid();
  ConfirmFields c =
      new_order_confirm(m, d, size, entry_level(m, d), sp, std::move(reference), new_deal_id());

  std::optional<std::string> rejection;
  if (!is_open(m)) rejection = "MARKET_CLOSED";
  if (!rejection) rejection = size_rejection(m, size);
  if (!rejection) {
    // Margin needed for the part that would open (netting reduces it).
    double opposite_size = 0;
    for (const Position& p : positions) {
      if (p.account_id == account.id && p.market == m && p.direction != d) {
        opposite_size += p.size;
      }
    }
    const double opening = account.hedging_mode ? size : std::max(0.0, size - opposite_size);
    if (opening > kEps && margin(account, m, opening, c.level) > funds(account).available) {
      rejection = "INSUFFICIENT_FUNDS";
    }
  }
  if (rejection) {
    reject(c, *rejection, "POSITION");
  } else {
    std::string opened;
    double realised = 0;
    c.affected = execute_deal(account, m, d, round_size(m, size), sp, c.deal_id, opened, realised);
    c.status = confirm_status(c.affected);
    if (opened.empty()) c.profit = realised;
  }
  store_confirm(c);
  return deal_reference(c.reference, true);
}

BrokerResponse BrokerState::amend_position(const BrokerRequest& r, Account& account,
                                           const std::string& deal_id) {
  Position* p = find_position(account, deal_id);
  if (p == nullptr) return error(404, "error.not-found.dealId");
  JsonBody body;
  if (!body.parse(r.body)) return error(400, "error.invalid.json");
  StopProfit sp;
  const double ref = price(p->market, exit_level(p->market, p->direction));
  if (auto bad =
          parse_stop_profit(body, p->market, p->direction, p->size, ref, account.hedging_mode, sp))
    return *bad;
  p->stop_level = sp.stop_level;
  p->profit_level = sp.profit_level;
  p->guaranteed_stop = sp.guaranteed_stop;
  p->trailing_stop = sp.trailing_stop;
  p->trailing_distance = sp.trailing_stop ? sp.stop_distance : std::nullopt;
  return confirm_change(confirm_of(*p, "p_" + p->deal_id), "AMENDED", "EDIT_STOP_AND_LIMIT",
                        "ACCEPTED");
}

BrokerResponse BrokerState::close_position(Account& account, const std::string& deal_id) {
  Position* p = find_position(account, deal_id);
  if (p == nullptr) return error(404, "error.not-found.dealId");
  ConfirmFields c;
  c.reference = "p_" + p->deal_id;
  c.deal_id = p->deal_id;
  c.market = p->market;
  c.level = exit_level(p->market, p->direction);
  c.size = p->size;
  c.direction = opposite(p->direction);
  c.guaranteed_stop = p->guaranteed_stop;
  if (!is_open(p->market)) {
    c.accepted = false;
    c.reason = "MARKET_CLOSED";
    store_confirm(c);
    return deal_reference(c.reference, true);
  }
  const std::size_t index = static_cast<std::size_t>(p - positions.data());
  c.profit = realise(index, p->size, "USER");
  c.status = "CLOSED";
  c.affected = {{p->deal_id, "FULLY_CLOSED"}};
  positions.erase(positions.begin() + static_cast<std::ptrdiff_t>(index));
  store_confirm(c);
  return deal_reference(c.reference, true);
}

}  // namespace qt::sim
