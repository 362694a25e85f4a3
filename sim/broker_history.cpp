// Activity and transaction history: what every deal records and GET /history/activity and
// /history/transactions (periods, FIQL filter); see broker_state.hpp.
#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "sim/broker_state.hpp"

namespace qt::sim {
namespace {

// FIQL subset: clauses joined by ';', each field==a,b or field!=a,b.
bool matches_filter(const std::string& filter, const BrokerState::Activity& a) {
  for (const absl::string_view clause : absl::StrSplit(filter, ';', absl::SkipEmpty())) {
    const bool negated = absl::StrContains(clause, "!=");
    const std::size_t op = clause.find(negated ? "!=" : "==");
    if (op == absl::string_view::npos) continue;
    const absl::string_view field = clause.substr(0, op);
    const std::vector<std::string> values =
        absl::StrSplit(clause.substr(op + 2), ',', absl::SkipEmpty());
    const std::string& actual = field == "epic"     ? a.epic
                                : field == "source" ? a.source
                                : field == "status" ? a.status
                                : field == "type"   ? a.type
                                                    : a.deal_id;
    const bool any = std::find(values.begin(), values.end(), actual) != values.end();
    if (any == negated) return false;
  }
  return true;
}

}  // namespace

void BrokerState::record(std::size_t m, const std::string& deal_id, std::string_view source,
                         std::string_view type, std::string_view status,
                         const std::string& reference, double size, Direction d, int64_t level,
                         bool guaranteed) {
  activities.push_back({epoch_ms_now(), spec(m).epic, deal_id, std::string(source),
                        std::string(type), std::string(status), reference, spec(m).name,
                        spec(m).currency, size, d, format_decimal(level, spec(m).decimals),
                        guaranteed});
  if (activities.size() > 100'000) activities.erase(activities.begin());
}

std::optional<BrokerResponse> BrokerState::period(const BrokerRequest& r, int64_t& from,
                                                  int64_t& to) {
  to = epoch_ms_now();
  int64_t last_period = 600;
  if (const auto it = r.query.find("lastPeriod"); it != r.query.end()) {
    char* end = nullptr;
    last_period = std::strtoll(it->second.c_str(), &end, 10);
    if (*end != '\0' || last_period <= 0 || last_period > 86'400) {
      return error(400, "error.invalid.lastPeriod");
    }
  }
  from = to - last_period * 1000;
  if (const auto it = r.query.find("from"); it != r.query.end()) {
    const std::optional<int64_t> t = parse_time(it->second);
    if (!t) return error(400, "error.invalid.from");
    from = *t;
    to = from + 86'400'000;
  }
  if (const auto it = r.query.find("to"); it != r.query.end()) {
    const std::optional<int64_t> t = parse_time(it->second);
    if (!t) return error(400, "error.invalid.to");
    to = *t;
    if (r.query.count("from") == 0) from = to - 86'400'000;
  }
  if (to < from || to - from > 86'400'000) return error(400, "error.invalid.daterange");
  return std::nullopt;
}

BrokerResponse BrokerState::activity_history(const BrokerRequest& r, const Account&) {
  int64_t from = 0, to = 0;
  if (auto bad = period(r, from, to)) return *bad;
  const auto q = [&](const char* k) {
    const auto it = r.query.find(k);
    return it == r.query.end() ? std::string() : it->second;
  };
  const bool detailed = q("detailed") == "true";
  const std::string deal_id = q("dealId");
  const std::string filter = q("filter");
  JsonWriter w;
  w.begin_object().key("activities").begin_array();
  for (auto it = activities.rbegin(); it != activities.rend(); ++it) {
    const Activity& a = *it;
    if (a.epoch_ms < from || a.epoch_ms > to) continue;
    if (!deal_id.empty() && a.deal_id != deal_id) continue;
    if (!filter.empty() && !matches_filter(filter, a)) continue;
    w.begin_object();
    w.member("date", format_time(a.epoch_ms, options.timezone_offset_hours));
    w.member("dateUTC", format_time(a.epoch_ms)).member("epic", a.epic);
    w.member("dealId", a.deal_id).member("source", a.source).member("type", a.type);
    w.member("status", a.status);
    if (detailed) {
      w.key("details").begin_object().member("dealReference", a.deal_reference);
      w.member("marketName", a.market_name).member("currency", a.currency);
      w.member("size", a.size).member("direction", to_string(a.direction));
      w.key("level").raw(a.level).member("guaranteedStop", a.guaranteed_stop);
      w.end_object();
    }
    w.end_object();
  }
  w.end_array().end_object();
  return json_ok(w.take());
}

BrokerResponse BrokerState::transaction_history(const BrokerRequest& r) {
  int64_t from = 0, to = 0;
  if (auto bad = period(r, from, to)) return *bad;
  const auto type = r.query.find("type");
  JsonWriter w;
  w.begin_object().key("transactions").begin_array();
  for (auto it = transactions.rbegin(); it != transactions.rend(); ++it) {
    if (it->epoch_ms < from || it->epoch_ms > to) continue;
    if (type != r.query.end() && type->second != it->type) continue;
    w.begin_object();
    w.member("date", format_time(it->epoch_ms, options.timezone_offset_hours));
    w.member("dateUtc", format_time(it->epoch_ms));
    if (!it->instrument_name.empty()) w.member("instrumentName", it->instrument_name);
    w.member("transactionType", it->type).member("note", it->note);
    w.member("reference", it->reference);
    w.member("size", format_decimal(std::llround(it->amount * 100), 2));
    w.member("currency", kAccountCurrency).end_object();
  }
  w.end_array().end_object();
  return json_ok(w.take());
}

}  // namespace qt::sim
