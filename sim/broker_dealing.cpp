// Dealing rules and netting: order fields, size and stop/limit distance rules, and the deal
// itself — netting against opposite positions (FIFO) or opening one; see broker_state.hpp.
#include <cmath>

#include "sim/broker_state.hpp"
#include "sim/json_body.hpp"

namespace qt::sim {

std::optional<BrokerResponse> BrokerState::read_new_order(const BrokerRequest& r, JsonBody& body,
                                                          std::size_t& m, Direction& d,
                                                          double& size) {
  if (!allow_order()) return too_many();
  if (!body.parse(r.body) || body.empty()) return error(400, "error.invalid.json");
  const std::optional<std::string> epic = body.str("epic");
  if (!epic || epic->empty()) return error(400, "error.null.epic");
  const auto found = find_market(*epic);
  if (!found) return error(404, "error.not-found.epic");
  m = *found;
  const std::optional<std::string> direction = body.str("direction");
  if (!direction) return error(400, "error.null.direction");
  if (*direction != "BUY" && *direction != "SELL") return error(400, "error.invalid.direction");
  d = *direction == "BUY" ? Direction::kBuy : Direction::kSell;
  const std::optional<double> s = body.num("size");
  if (!s) return error(400, "error.null.size");
  if (*s <= 0) return error(400, "error.invalid.size");
  size = *s;
  return std::nullopt;
}

std::optional<BrokerResponse> BrokerState::parse_stop_profit(const JsonBody& body, std::size_t m,
                                                             Direction d, double size, double ref,
                                                             bool hedging, StopProfit& out) {
  const MarketSpec& s = spec(m);
  const double sign = d == Direction::kBuy ? 1 : -1;
  const double per_point = size * s.lot_size * s.usd_per_currency_unit;
  out.guaranteed_stop = body.boolean("guaranteedStop").value_or(false);
  out.trailing_stop = body.boolean("trailingStop").value_or(false);
  if (const auto v = body.num("stopLevel")) {
    out.stop_level = *v;
  } else if (const auto dist = body.num("stopDistance")) {
    out.stop_distance = std::abs(*dist);
    out.stop_level = ref - sign * std::abs(*dist);
  } else if (const auto amount = body.num("stopAmount")) {
    out.stop_level = ref - sign * std::abs(*amount) / per_point;
  }
  if (const auto v = body.num("profitLevel")) {
    out.profit_level = *v;
  } else if (const auto dist = body.num("profitDistance")) {
    out.profit_distance = std::abs(*dist);
    out.profit_level = ref + sign * std::abs(*dist);
  } else if (const auto amount = body.num("profitAmount")) {
    out.profit_level = ref + sign * std::abs(*amount) / per_point;
  }
  if (out.guaranteed_stop) {
    if (!s.guaranteed_stop_allowed || !out.stop_level || out.trailing_stop || hedging) {
      return error(400, "error.invalid.guaranteedstop");
    }
  }
  if (out.trailing_stop) {
    if (!s.trailing_stops_available || !body.num("stopDistance")) {
      return error(400, "error.invalid.trailingstop");
    }
  }
  const double scale = static_cast<double>(s.price_scale());
  auto fmt_price = [&](double p) { return format_decimal(std::llround(p * scale), s.decimals); };
  const double min_pct = out.guaranteed_stop ? s.min_guaranteed_stop_pct : s.min_stop_distance_pct;
  const double min_dist = ref * min_pct / 100;
  const double max_dist = ref * s.max_stop_distance_pct / 100;
  if (out.stop_level) {
    // BUY: stop below the price, between ref - max and ref - min; SELL mirrored.
    const double lo = d == Direction::kBuy ? ref - max_dist : ref + min_dist;
    const double hi = d == Direction::kBuy ? ref - min_dist : ref + max_dist;
    if (*out.stop_level < lo - kEps) {
      return error(400, "error.invalid.stoploss.minvalue: " + fmt_price(lo));
    }
    if (*out.stop_level > hi + kEps) {
      return error(400, "error.invalid.stoploss.maxvalue: " + fmt_price(hi));
    }
  }
  if (out.profit_level) {
    const double lo = d == Direction::kBuy ? ref + min_dist : ref - max_dist;
    const double hi = d == Direction::kBuy ? ref + max_dist : ref - min_dist;
    if (*out.profit_level < lo - kEps) {
      return error(400, "error.invalid.takeprofit.minvalue: " + fmt_price(lo));
    }
    if (*out.profit_level > hi + kEps) {
      return error(400, "error.invalid.takeprofit.maxvalue: " + fmt_price(hi));
    }
  }
  return std::nullopt;
}

std::optional<std::string> BrokerState::size_rejection(std::size_t m, double size) const {
  const MarketSpec& s = spec(m);
  const double steps = size / s.min_size_increment;
  if (size < s.min_deal_size - kEps || std::abs(steps - std::round(steps)) > 1e-6) {
    return "MINIMUM_ORDER_SIZE_ERROR";
  }
  if (size > s.max_deal_size + kEps) return "MAXIMUM_ORDER_SIZE_ERROR";
  return std::nullopt;
}

double BrokerState::round_size(std::size_t m, double size) const {
  const double scale = std::pow(10.0, market_state[m].size_decimals);
  return std::round(size * scale) / scale;
}

std::vector<BrokerState::Affected> BrokerState::execute_deal(
    Account& account, std::size_t m, Direction d, double size, const StopProfit& sp,
    const std::string& order_id, std::string& opened_id, double& realised) {
  std::vector<Affected> affected;
  double remaining = size;
  realised = 0;
  if (!account.hedging_mode) {
    for (std::size_t i = 0; i < positions.size() && remaining > kEps;) {
      Position& p = positions[i];
      if (p.account_id != account.id || p.market != m || p.direction == d) {
        ++i;
        continue;
      }
      if (p.size <= remaining + kEps) {
        remaining = round_size(m, remaining - p.size);
        realised += realise(i, p.size, "USER", false);
        affected.push_back({p.deal_id, "FULLY_CLOSED"});
        positions.erase(positions.begin() + static_cast<std::ptrdiff_t>(i));
      } else {
        realised += realise(i, remaining, "USER", false);
        p.size = round_size(m, p.size - remaining);
        remaining = 0;
        affected.push_back({p.deal_id, "PARTIALLY_CLOSED"});
      }
    }
  }
  if (remaining > kEps) {
    Position p;
    p.account_id = account.id;
    p.deal_id = new_deal_id();
    p.working_order_id = order_id;
    p.market = m;
    p.direction = d;
    p.size = round_size(m, remaining);
    p.level = entry_level(m, d);
    p.created_ms = epoch_ms_now();
    p.stop_level = sp.stop_level;
    p.profit_level = sp.profit_level;
    p.guaranteed_stop = sp.guaranteed_stop;
    p.trailing_stop = sp.trailing_stop;
    p.trailing_distance = sp.trailing_stop ? sp.stop_distance : std::nullopt;
    opened_id = p.deal_id;
    record(m, p.deal_id, "USER", "POSITION", "ACCEPTED", "p_" + p.deal_id, p.size, d, p.level,
           p.guaranteed_stop);
    positions.push_back(std::move(p));
    affected.push_back({opened_id, "OPENED"});
  }
  ++stats.deals_by_epic[spec(m).epic];
  return affected;
}

double BrokerState::realise(std::size_t index, double size, const std::string& source,
                            bool count_deal) {
  Position& p = positions[index];
  const int64_t exit = exit_level(p.market, p.direction);
  const double pnl = money(p.market, p.direction, size, p.level, exit);
  Account* account = find_account(p.account_id);
  if (account != nullptr) account->cash += pnl;
  transactions.push_back({epoch_ms_now(), spec(p.market).name, "TRADE",
                          source == "USER" ? "Trade closed" : "Closed by " + source,
                          "p_" + p.deal_id, pnl});
  record(p.market, p.deal_id, source, "POSITION", "EXECUTED", "p_" + p.deal_id, size,
         opposite(p.direction), exit, p.guaranteed_stop);
  if (count_deal) ++stats.deals_by_epic[spec(p.market).epic];
  return pnl;
}

}  // namespace qt::sim
