// Accounts: funds, margin and P&L, the account list, preferences (leverage, hedging) and
// demo top-ups; see broker_state.hpp.
#include <algorithm>

#include "sim/broker_state.hpp"
#include "sim/json_body.hpp"

namespace qt::sim {

namespace dom = simdjson::dom;

BrokerState::Account* BrokerState::find_account(const std::string& id) {
  for (Account& a : accounts) {
    if (a.id == id) return &a;
  }
  return nullptr;
}

int BrokerState::leverage_of(const Account& a, InstrumentType type) const {
  for (const Leverage& l : a.leverages) {
    if (l.group == type) return l.current;
  }
  return 1;
}

double BrokerState::money(std::size_t m, Direction d, double size, int64_t from, int64_t to) const {
  const double move = price(m, to) - price(m, from);
  return (d == Direction::kBuy ? move : -move) * size * spec(m).lot_size *
         spec(m).usd_per_currency_unit;
}

double BrokerState::upl(const Position& p) const {
  return money(p.market, p.direction, p.size, p.level, exit_level(p.market, p.direction));
}

double BrokerState::margin(const Account& a, std::size_t m, double size, int64_t level) const {
  return price(m, level) * size * spec(m).lot_size * spec(m).usd_per_currency_unit /
         leverage_of(a, spec(m).type);
}

BrokerState::Funds BrokerState::funds(const Account& a) const {
  double pl = 0, used = 0;
  for (const Position& p : positions) {
    if (p.account_id != a.id) continue;
    pl += upl(p);
    used += margin(a, p.market, p.size, p.level);
  }
  return {a.cash, pl, a.cash + pl, a.cash + pl - used};
}

void BrokerState::write_funds(JsonWriter& w, const Account& a) {
  const Funds f = funds(a);
  w.begin_object();
  write_money(w, "balance", f.balance);
  write_money(w, "deposit", f.deposit);
  write_money(w, "profitLoss", f.profit_loss);
  write_money(w, "available", f.available);
  w.end_object();
}

BrokerResponse BrokerState::accounts_list() {
  JsonWriter w;
  w.begin_object().key("accounts").begin_array();
  for (const Account& a : accounts) {
    w.begin_object().member("accountId", a.id).member("accountName", a.name);
    w.member("status", "ENABLED").member("accountType", "CFD").member("preferred", a.preferred);
    w.key("balance");
    write_funds(w, a);
    w.member("currency", kAccountCurrency).end_object();
  }
  w.end_array().end_object();
  return json_ok(w.take());
}

BrokerResponse BrokerState::preferences(const Account& a) {
  JsonWriter w;
  w.begin_object().member("hedgingMode", a.hedging_mode).key("leverages").begin_object();
  for (const Leverage& l : a.leverages) {
    w.key(to_string(l.group)).begin_object().member("current", l.current);
    w.key("available").begin_array();
    for (const int v : l.available) w.integer(v);
    w.end_array().end_object();
  }
  w.end_object().end_object();
  return json_ok(w.take());
}

BrokerResponse BrokerState::update_preferences(const BrokerRequest& r, Account& a) {
  JsonBody body;
  if (!body.parse(r.body)) return error(400, "error.invalid.json");
  std::vector<std::pair<std::size_t, int>> changes;
  if (const std::optional<dom::object> lev = body.object("leverages")) {
    for (const auto field : *lev) {
      std::size_t index = a.leverages.size();
      for (std::size_t i = 0; i < a.leverages.size(); ++i) {
        if (to_string(a.leverages[i].group) == field.key) index = i;
      }
      const std::optional<double> value = JsonBody::number(field.value);
      if (index == a.leverages.size() || !value) return error(400, "error.invalid.leverage.value");
      const int v = static_cast<int>(*value);
      const std::vector<int>& allowed = a.leverages[index].available;
      if (static_cast<double>(v) != *value ||
          std::find(allowed.begin(), allowed.end(), v) == allowed.end()) {
        return error(400, "error.invalid.leverage.value");
      }
      changes.emplace_back(index, v);
    }
  }
  for (const auto& [index, v] : changes) a.leverages[index].current = v;
  if (const std::optional<bool> hedging = body.boolean("hedgingMode")) a.hedging_mode = *hedging;
  return json_ok(R"({"status":"SUCCESS"})");
}

BrokerResponse BrokerState::top_up(const BrokerRequest& r, Account& a) {
  JsonBody body;
  if (!body.parse(r.body)) return error(400, "error.invalid.json");
  const std::optional<double> amount = body.num("amount");
  if (!amount) return error(400, "error.null.amount");
  if (std::abs(*amount) > 400'000 || a.cash + *amount > 100'000 || a.cash + *amount < 0) {
    return error(400, "error.invalid.amount");
  }
  a.cash += *amount;
  transactions.push_back({epoch_ms_now(), "", "DEPOSIT", "Account top up", new_uuid(), *amount});
  return json_ok(R"({"successful":true})");
}

}  // namespace qt::sim
