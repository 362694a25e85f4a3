#include "sim/broker.hpp"

#include <fmt/format.h>
#include <simdjson.h>

#include <algorithm>
#include <cmath>
#include <ctime>
#include <deque>
#include <random>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "common/base64.hpp"
#include "common/json_writer.hpp"
#include "sim/crypto.hpp"
#include "sim/price_walk.hpp"

namespace qt::sim {

// ---------------------------------------------------------------------------------------------
// SimStats

int64_t SimStats::orders(const std::string& epic) const {
  const auto it = orders_by_epic.find(epic);
  return it == orders_by_epic.end() ? 0 : it->second;
}
int64_t SimStats::deals(const std::string& epic) const {
  const auto it = deals_by_epic.find(epic);
  return it == deals_by_epic.end() ? 0 : it->second;
}
int64_t SimStats::total_orders() const {
  int64_t total = 0;
  for (const auto& [epic, n] : orders_by_epic) total += n;
  return total;
}
int64_t SimStats::requests(const std::string& method_and_path) const {
  const auto it = requests_by_path.find(method_and_path);
  return it == requests_by_path.end() ? 0 : it->second;
}

namespace {

using SteadyClock = std::chrono::steady_clock;
using SystemClock = std::chrono::system_clock;
namespace dom = simdjson::dom;

constexpr double kEps = 1e-9;
constexpr const char* kAccountCurrency = "USD";

int64_t epoch_ms_now() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             SystemClock::now().time_since_epoch())
      .count();
}

// "YYYY-MM-DDTHH:MM:SS.mmm" (with_ms) or "YYYY-MM-DDTHH:MM:SS".
std::string format_time(int64_t epoch_ms, int offset_hours = 0, bool with_ms = true) {
  const int64_t shifted = epoch_ms + static_cast<int64_t>(offset_hours) * 3'600'000;
  const std::time_t seconds = static_cast<std::time_t>(shifted / 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  if (!with_ms) {
    return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}", tm.tm_year + 1900, tm.tm_mon + 1,
                       tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
  }
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, shifted % 1000);
}

// Parses UTC "YYYY-MM-DDTHH:MM:SS" (optionally ".mmm").
std::optional<int64_t> parse_time(const std::string& text) {
  std::tm tm{};
  int ms = 0;
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  const int n = std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d.%3d", &year, &month, &day, &hour,
                            &minute, &second, &ms);
  if (n < 6 || month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 ||
      second > 60) {
    return std::nullopt;
  }
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  return static_cast<int64_t>(timegm(&tm)) * 1000 + (n == 7 ? ms : 0);
}

int decimals_of(double increment) {
  int d = 0;
  while (d < 8 &&
         std::abs(increment * std::pow(10.0, d) - std::round(increment * std::pow(10.0, d))) > 1e-9)
    ++d;
  return d;
}

// ----- JSON request bodies -------------------------------------------------------------------

class JsonBody {
 public:
  bool parse(const std::string& text) {
    if (text.empty()) {
      empty_ = true;
      return true;
    }
    if (parser_.parse(text).get(root_) != simdjson::SUCCESS) return false;
    return root_.is_object();
  }
  bool empty() const { return empty_; }
  bool has(const char* key) const {
    if (empty_) return false;
    dom::element e;
    return root_[key].get(e) == simdjson::SUCCESS && !e.is_null();
  }
  std::optional<std::string> str(const char* key) const {
    std::string_view v;
    if (empty_ || root_[key].get_string().get(v) != simdjson::SUCCESS) return std::nullopt;
    return std::string(v);
  }
  std::optional<double> num(const char* key) const {
    if (empty_) return std::nullopt;
    dom::element e;
    if (root_[key].get(e) != simdjson::SUCCESS) return std::nullopt;
    return number(e);
  }
  std::optional<bool> boolean(const char* key) const {
    bool v = false;
    if (empty_ || root_[key].get_bool().get(v) != simdjson::SUCCESS) return std::nullopt;
    return v;
  }
  std::optional<dom::object> object(const char* key) const {
    dom::object o;
    if (empty_ || root_[key].get_object().get(o) != simdjson::SUCCESS) return std::nullopt;
    return o;
  }
  static std::optional<double> number(const dom::element& e) {
    double d = 0;
    int64_t i = 0;
    uint64_t u = 0;
    if (e.get_int64().get(i) == simdjson::SUCCESS) return static_cast<double>(i);
    if (e.get_uint64().get(u) == simdjson::SUCCESS) return static_cast<double>(u);
    if (e.get_double().get(d) == simdjson::SUCCESS) return d;
    return std::nullopt;
  }

 private:
  dom::parser parser_;
  dom::element root_;
  bool empty_ = false;
};

}  // namespace

std::string error_body(std::string_view code) {
  JsonWriter w;
  w.begin_object().member("errorCode", code).end_object();
  return w.take();
}

namespace {

BrokerResponse error(int status, std::string_view code) {
  BrokerResponse r;
  r.status = status;
  r.body = error_body(code);
  return r;
}

BrokerResponse json_ok(std::string body) {
  BrokerResponse r;
  r.body = std::move(body);
  return r;
}

enum class Direction : uint8_t { kBuy, kSell };
std::string_view to_string(Direction d) {
  return d == Direction::kBuy ? "BUY" : "SELL";
}
Direction opposite(Direction d) {
  return d == Direction::kBuy ? Direction::kSell : Direction::kBuy;
}

struct Leverage {
  InstrumentType group;
  int current;
  std::vector<int> available;
};

}  // namespace

// ---------------------------------------------------------------------------------------------
// State

struct SimulatedBroker::State {
  struct Session {
    std::string cst;
    std::string security_token;
    std::string account_id;
    std::string api_key;
    SteadyClock::time_point last_used;
    uint64_t epoch = 1;
  };
  struct Account {
    std::string id;
    std::string name;
    bool preferred = false;
    double cash = 0;  // "deposit": realised money
    bool hedging_mode = false;
    std::vector<Leverage> leverages;
  };
  struct Position {
    std::string account_id;
    std::string deal_id;
    std::string working_order_id;
    std::size_t market = 0;
    Direction direction = Direction::kBuy;
    double size = 0;
    int64_t level = 0;  // price units
    int64_t created_ms = 0;
    std::optional<double> stop_level;
    std::optional<double> profit_level;
    bool guaranteed_stop = false;
    bool trailing_stop = false;
    std::optional<double> trailing_distance;
  };
  struct WorkingOrder {
    std::string account_id;
    std::string deal_id;
    std::size_t market = 0;
    Direction direction = Direction::kBuy;
    double size = 0;
    int64_t level = 0;
    bool limit = true;  // LIMIT or STOP
    std::optional<int64_t> good_till_ms;
    int64_t created_ms = 0;
    std::optional<double> stop_distance;
    std::optional<double> profit_distance;
    bool guaranteed_stop = false;
    bool trailing_stop = false;
  };
  struct Activity {
    int64_t epoch_ms;
    std::string epic;
    std::string deal_id;
    std::string source;  // USER, SYSTEM, SL, TP
    std::string type;    // POSITION, WORKING_ORDER, EDIT_STOP_AND_LIMIT
    std::string status;  // ACCEPTED, EXECUTED, ...
    std::string deal_reference;
    std::string market_name;
    std::string currency;
    double size;
    Direction direction;
    std::string level;  // formatted price
    bool guaranteed_stop;
  };
  struct Transaction {
    int64_t epoch_ms;
    std::string instrument_name;
    std::string type;  // TRADE, DEPOSIT
    std::string note;
    std::string reference;
    double amount;
  };
  struct LiveBar {
    int64_t start_ms = -1;
    int64_t o = 0, h = 0, l = 0, c = 0;
  };
  struct MarketState {
    PriceWalk walk;
    std::array<LiveBar, 8> bars{};
    std::array<LiveBar, 8> previous_bars{};
    int size_decimals = 0;
  };

  explicit State(const SimOptions& o, std::vector<MarketSpec> m)
      : options(o), markets(std::move(m)), ids(o.seed ^ 0x51de5eedULL) {
    for (const MarketSpec& spec : markets) {
      market_index[spec.epic] = market_state.size();
      market_state.push_back({PriceWalk(spec, o.seed, o.quotes_per_second, o.volatility_scale),
                              {},
                              {},
                              decimals_of(spec.min_size_increment)});
    }
    const std::vector<Leverage> leverages = {
        {InstrumentType::kShares, 5, {1, 2, 3, 4, 5}},
        {InstrumentType::kCurrencies, 30, {1, 2, 3, 5, 10, 20, 30}},
        {InstrumentType::kIndices, 20, {1, 2, 3, 5, 10, 20}},
        {InstrumentType::kCryptocurrencies, 2, {1, 2}},
        {InstrumentType::kCommodities, 10, {1, 2, 3, 5, 10, 20}},
    };
    accounts.push_back(
        {"12345678901234567", "USD", true, o.initial_balance, o.hedging_mode, leverages});
    accounts.push_back(
        {"12345678907654321", "Second account", false, 0.0, o.hedging_mode, leverages});
  }

  SimOptions options;
  std::vector<MarketSpec> markets;
  std::map<std::string, std::size_t> market_index;
  std::vector<MarketState> market_state;
  std::string streaming_host = "wss://127.0.0.1/";

  std::map<std::string, Session> sessions;  // by CST
  std::vector<Account> accounts;
  std::vector<Position> positions;  // in opening order (netting closes FIFO)
  std::vector<WorkingOrder> working_orders;
  std::map<std::string, std::string> confirms;  // dealReference -> body
  std::vector<Activity> activities;
  std::vector<Transaction> transactions;

  std::mt19937_64 ids;
  uint64_t deal_counter = 0x80560000ULL;
  std::optional<RsaKeyPair> encryption_key;

  // Rate limits: one user (the configured identifier); POST /session per API key.
  std::deque<SteadyClock::time_point> request_times;
  std::deque<SteadyClock::time_point> order_times;
  std::optional<SteadyClock::time_point> last_order;
  std::map<std::string, std::deque<SteadyClock::time_point>> session_posts;

  SimStats stats;

  // ----- ids ----------------------------------------------------------------------------------

  std::string new_deal_id() {
    const uint32_t prefix = static_cast<uint32_t>(ids());
    return fmt::format("{:08x}-0001-54c4-0000-{:012x}", prefix, deal_counter++);
  }
  std::string new_uuid() {
    const uint64_t a = ids();
    const uint64_t b = ids();
    return fmt::format("{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}", a >> 32, (a >> 16) & 0xffff,
                       a & 0xfff, 0x8000 | (b >> 48 & 0x3fff), b & 0xffffffffffffULL);
  }
  std::string new_token(std::size_t length) {
    static constexpr char kAlphabet[] =
        "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    std::string token;
    for (std::size_t i = 0; i < length; ++i) token += kAlphabet[ids() % 62];
    return token;
  }

  // ----- markets ------------------------------------------------------------------------------

  const MarketSpec& spec(std::size_t m) const { return markets[m]; }
  const SimQuote& quote(std::size_t m) const { return market_state[m].walk.current(); }
  double price(std::size_t m, int64_t units) const {
    return static_cast<double>(units) / static_cast<double>(markets[m].price_scale());
  }
  int64_t units(std::size_t m, double price_value) const {
    return std::llround(price_value * static_cast<double>(markets[m].price_scale()));
  }
  bool is_open(std::size_t m) const {
    return options.always_open || markets[m].hours.is_open(SystemClock::now());
  }
  std::optional<std::size_t> find_market(const std::string& epic) const {
    const auto it = market_index.find(epic);
    if (it == market_index.end()) return std::nullopt;
    return it->second;
  }
  int64_t quote_time(std::size_t m) const {
    const int64_t t = quote(m).epoch_ms;
    return t > 0 ? t : epoch_ms_now();
  }

  void write_price(JsonWriter& w, std::string_view name, std::size_t m, int64_t units_value) {
    w.key(name).decimal(units_value, markets[m].decimals);
  }
  void write_size(JsonWriter& w, std::string_view name, std::size_t m, double size) {
    const int d = market_state[m].size_decimals;
    w.key(name).decimal(std::llround(size * std::pow(10.0, d)), d);
  }
  static void write_money(JsonWriter& w, std::string_view name, double money) {
    w.key(name).decimal(std::llround(money * 100), 2);
  }

  void write_summary(JsonWriter& w, std::size_t m) {
    const MarketSpec& s = spec(m);
    const SimQuote& q = quote(m);
    const PriceWalk& walk = market_state[m].walk;
    const int64_t t = quote_time(m);
    const int64_t change = q.bid - walk.day_open_bid();
    w.begin_object();
    w.member("epic", s.epic).member("symbol", s.symbol).member("instrumentName", s.name);
    w.member("instrumentType", to_string(s.type)).member("expiry", "-");
    w.member("lotSize", s.lot_size);
    w.member("marketStatus", is_open(m) ? "TRADEABLE" : "CLOSED");
    write_price(w, "bid", m, q.bid);
    write_price(w, "offer", m, q.ask);
    write_price(w, "high", m, walk.high_bid());
    write_price(w, "low", m, walk.low_bid());
    write_price(w, "netChange", m, change);
    w.key("percentageChange")
        .decimal(std::llround(static_cast<double>(change) * 1e6 /
                              static_cast<double>(walk.day_open_bid())),
                 4);
    w.member("updateTime", format_time(t, options.timezone_offset_hours));
    w.member("updateTimeUTC", format_time(t));
    w.member("delayTime", 0).member("streamingPricesAvailable", true).member("scalingFactor", 1);
    w.key("marketModes").begin_array().string("REGULAR").end_array();
    w.end_object();
  }

  void write_details(JsonWriter& w, std::size_t m) {
    const MarketSpec& s = spec(m);
    const SimQuote& q = quote(m);
    const PriceWalk& walk = market_state[m].walk;
    const int64_t change = q.bid - walk.day_open_bid();
    auto rule = [&](std::string_view name, std::string_view unit, double value) {
      w.key(name).begin_object().member("unit", unit).member("value", value).end_object();
    };
    w.begin_object();
    w.key("instrument").begin_object();
    w.member("epic", s.epic).member("symbol", s.symbol).member("expiry", "-");
    w.member("name", s.name).member("lotSize", s.lot_size).member("type", to_string(s.type));
    w.member("guaranteedStopAllowed", s.guaranteed_stop_allowed);
    w.member("streamingPricesAvailable", true).member("currency", s.currency);
    w.member("marginFactor", s.margin_factor_pct).member("marginFactorUnit", "PERCENTAGE");
    w.key("openingHours").begin_object();
    for (std::size_t d = 0; d < 7; ++d) {
      w.key(OpeningHours::kDayNames[d]).begin_array();
      for (const std::string& window : s.hours.days[d]) w.string(window);
      w.end_array();
    }
    w.member("zone", "UTC").end_object();
    w.key("overnightFee").begin_object();
    w.member("longRate", s.overnight_long_rate).member("shortRate", s.overnight_short_rate);
    w.member("swapChargeTimestamp", bar_start_ms(Resolution::kDay, epoch_ms_now()) + 79'200'000);
    w.member("swapChargeInterval", 1440).end_object();
    w.member("country", "").end_object();

    w.key("dealingRules").begin_object();
    rule("minStepDistance", "POINTS", s.min_step_distance);
    rule("minDealSize", "POINTS", s.min_deal_size);
    rule("maxDealSize", "POINTS", s.max_deal_size);
    rule("minSizeIncrement", "POINTS", s.min_size_increment);
    rule("minGuaranteedStopDistance", "PERCENTAGE", s.min_guaranteed_stop_pct);
    rule("minStopOrProfitDistance", "PERCENTAGE", s.min_stop_distance_pct);
    rule("maxStopOrProfitDistance", "PERCENTAGE", s.max_stop_distance_pct);
    w.member("marketOrderPreference", "AVAILABLE_DEFAULT_ON");
    w.member("trailingStopsPreference", s.trailing_stops_available ? "AVAILABLE" : "NOT_AVAILABLE");
    w.end_object();

    w.key("snapshot").begin_object();
    w.member("marketStatus", is_open(m) ? "TRADEABLE" : "CLOSED");
    write_price(w, "netChange", m, change);
    w.key("percentageChange")
        .decimal(std::llround(static_cast<double>(change) * 1e6 /
                              static_cast<double>(walk.day_open_bid())),
                 4);
    w.member("updateTime", format_time(quote_time(m), options.timezone_offset_hours));
    w.member("delayTime", 0);
    write_price(w, "bid", m, q.bid);
    write_price(w, "offer", m, q.ask);
    write_price(w, "high", m, walk.high_bid());
    write_price(w, "low", m, walk.low_bid());
    w.member("decimalPlacesFactor", s.decimals).member("scalingFactor", 1);
    w.key("marketModes").begin_array().string("REGULAR").end_array();
    w.end_object();
    w.end_object();
  }

  std::string quote_frame(std::size_t m) {
    const SimQuote& q = quote(m);
    JsonWriter w;
    w.begin_object().member("status", "OK").member("destination", "quote");
    w.key("payload").begin_object();
    w.member("epic", spec(m).epic).member("product", "CFD");
    write_price(w, "bid", m, q.bid);
    w.member("bidQty", spec(m).quote_qty);
    write_price(w, "ofr", m, q.ask);
    w.member("ofrQty", spec(m).quote_qty);
    w.member("timestamp", quote_time(m));
    w.end_object().end_object();
    return w.take();
  }

  // ----- accounts -----------------------------------------------------------------------------

  Account* find_account(const std::string& id) {
    for (Account& a : accounts) {
      if (a.id == id) return &a;
    }
    return nullptr;
  }
  int leverage_of(const Account& a, InstrumentType type) const {
    for (const Leverage& l : a.leverages) {
      if (l.group == type) return l.current;
    }
    return 1;
  }
  // Profit of `size` moved from `from` to `to` (price units) in the account currency.
  double money(std::size_t m, Direction d, double size, int64_t from, int64_t to) const {
    const double move = price(m, to) - price(m, from);
    return (d == Direction::kBuy ? move : -move) * size * spec(m).lot_size *
           spec(m).usd_per_currency_unit;
  }
  int64_t exit_level(std::size_t m, Direction d) const {
    return d == Direction::kBuy ? quote(m).bid : quote(m).ask;
  }
  int64_t entry_level(std::size_t m, Direction d) const {
    return d == Direction::kBuy ? quote(m).ask : quote(m).bid;
  }
  double upl(const Position& p) const {
    return money(p.market, p.direction, p.size, p.level, exit_level(p.market, p.direction));
  }
  double margin(const Account& a, std::size_t m, double size, int64_t level) const {
    return price(m, level) * size * spec(m).lot_size * spec(m).usd_per_currency_unit /
           leverage_of(a, spec(m).type);
  }
  struct Funds {
    double deposit, profit_loss, balance, available;
  };
  Funds funds(const Account& a) const {
    double pl = 0, used = 0;
    for (const Position& p : positions) {
      if (p.account_id != a.id) continue;
      pl += upl(p);
      used += margin(a, p.market, p.size, p.level);
    }
    return {a.cash, pl, a.cash + pl, a.cash + pl - used};
  }
  void write_funds(JsonWriter& w, const Account& a) {
    const Funds f = funds(a);
    w.begin_object();
    write_money(w, "balance", f.balance);
    write_money(w, "deposit", f.deposit);
    write_money(w, "profitLoss", f.profit_loss);
    write_money(w, "available", f.available);
    w.end_object();
  }

  // ----- sessions and limits ------------------------------------------------------------------

  Session* authenticate(const BrokerRequest& r, BrokerResponse& failure) {
    failure = error(401, "error.invalid.session.token");
    if (!r.cst || !r.security_token) return nullptr;
    const auto it = sessions.find(*r.cst);
    if (it == sessions.end() || it->second.security_token != *r.security_token) return nullptr;
    const auto now = SteadyClock::now();
    if (now - it->second.last_used > options.session_idle_timeout) {
      sessions.erase(it);
      ++stats.sessions_expired;
      return nullptr;
    }
    it->second.last_used = now;
    return &it->second;
  }

  static bool within_limit(std::deque<SteadyClock::time_point>& times, SteadyClock::duration window,
                           int limit, SteadyClock::time_point now) {
    while (!times.empty() && now - times.front() >= window) times.pop_front();
    if (static_cast<int>(times.size()) >= limit) return false;
    times.push_back(now);
    return true;
  }

  bool allow_request() {
    if (!options.limits.enabled) return true;
    return within_limit(request_times, std::chrono::seconds(1), options.limits.requests_per_second,
                        SteadyClock::now());
  }

  bool allow_order() {
    if (!options.limits.enabled) return true;
    const auto now = SteadyClock::now();
    if (last_order &&
        now - *last_order < std::chrono::milliseconds(options.limits.order_min_interval_ms)) {
      return false;
    }
    if (!within_limit(order_times, std::chrono::hours(1), options.limits.orders_per_hour, now)) {
      return false;
    }
    last_order = now;
    return true;
  }

  BrokerResponse too_many() {
    ++stats.rate_limited;
    return error(429, "error.too-many.requests");
  }

  // ----- requests -----------------------------------------------------------------------------

  BrokerResponse handle(const BrokerRequest& r) {
    static constexpr std::string_view kPrefix = "/api/v1/";
    if (r.path.compare(0, kPrefix.size(), kPrefix) != 0) return error(404, "error.not-found.path");
    const std::vector<std::string> seg =
        absl::StrSplit(r.path.substr(kPrefix.size()), '/', absl::SkipEmpty());
    if (seg.empty()) return error(404, "error.not-found.path");
    const std::string& root = seg[0];
    const std::string& method = r.method;

    // Unauthenticated endpoints.
    if (root == "time" && seg.size() == 1 && method == "GET") {
      JsonWriter w;
      w.begin_object().member("serverTime", epoch_ms_now()).end_object();
      return json_ok(w.take());
    }
    if (root == "session" && seg.size() == 1 && method == "POST") return login(r);
    if (root == "session" && seg.size() == 2 && seg[1] == "encryptionKey" && method == "GET") {
      return encryption_key_response(r);
    }

    BrokerResponse failure;
    Session* session = authenticate(r, failure);
    if (session == nullptr) return failure;
    if (!allow_request()) return too_many();
    BrokerResponse response = route(r, seg, *session);
    // A session deleted by the request (logout) is not echoed.
    if (const auto it = sessions.find(*r.cst); it != sessions.end()) {
      response.cst = it->second.cst;
      response.security_token = it->second.security_token;
    }
    return response;
  }

  BrokerResponse route(const BrokerRequest& r, const std::vector<std::string>& seg,
                       Session& session) {
    const std::string& root = seg[0];
    const std::string& method = r.method;
    const std::size_t n = seg.size();
    Account& account = *find_account(session.account_id);
    if (root == "ping" && n == 1 && method == "GET") return json_ok(R"({"status":"OK"})");
    if (root == "session" && n == 1) {
      if (method == "GET") return session_details(session);
      if (method == "PUT") return switch_account(r, session);
      if (method == "DELETE") {
        sessions.erase(session.cst);
        return json_ok(R"({"status":"SUCCESS"})");
      }
    }
    if (root == "accounts") {
      if (n == 1 && method == "GET") return accounts_list();
      if (n == 2 && seg[1] == "preferences" && method == "GET") return preferences(account);
      if (n == 2 && seg[1] == "preferences" && method == "PUT") {
        return update_preferences(r, account);
      }
      if (n == 2 && seg[1] == "topUp" && method == "POST") return top_up(r, account);
    }
    if (root == "history" && n == 2 && method == "GET") {
      if (seg[1] == "activity") return activity_history(r, account);
      if (seg[1] == "transactions") return transaction_history(r);
    }
    if (root == "marketnavigation" && method == "GET") {
      return n == 1 ? navigation_root() : navigation_node(r, seg[1]);
    }
    if (root == "markets" && method == "GET") {
      return n == 1 ? markets_query(r) : market_details(seg[1]);
    }
    if (root == "prices" && n == 2 && method == "GET") return prices(r, seg[1]);
    if (root == "clientsentiment" && method == "GET") {
      return client_sentiment(r, n == 2 ? seg[1] : "");
    }
    if (root == "positions") {
      if (n == 1 && method == "GET") return positions_list(account);
      if (n == 1 && method == "POST") return open_position(r, account);
      if (n == 2 && method == "GET") return position_one(account, seg[1]);
      if (n == 2 && method == "PUT") return amend_position(r, account, seg[1]);
      if (n == 2 && method == "DELETE") return close_position(account, seg[1]);
    }
    if (root == "workingorders") {
      if (n == 1 && method == "GET") return working_orders_list(account);
      if (n == 1 && method == "POST") return create_working_order(r, account);
      if (n == 2 && method == "PUT") return amend_working_order(r, account, seg[1]);
      if (n == 2 && method == "DELETE") return delete_working_order(account, seg[1]);
    }
    if (root == "confirms" && n == 2 && method == "GET") {
      const auto it = confirms.find(seg[1]);
      if (it == confirms.end()) return error(404, "error.not-found.dealReference");
      return json_ok(it->second);
    }
    return error(404, "error.not-found.path");
  }

  // ----- session ------------------------------------------------------------------------------

  BrokerResponse login(const BrokerRequest& r) {
    auto fail = [&](int status, std::string_view code) {
      ++stats.failed_logins;
      return error(status, code);
    };
    if (!r.api_key || r.api_key->empty()) return fail(400, "error.null.api.key");
    if (options.limits.enabled &&
        !within_limit(session_posts[*r.api_key], std::chrono::seconds(1),
                      options.limits.session_posts_per_second, SteadyClock::now())) {
      ++stats.failed_logins;
      return too_many();
    }
    if (*r.api_key != options.credentials.api_key) return fail(401, "error.invalid.details");
    JsonBody body;
    if (!body.parse(r.body)) return fail(400, "error.invalid.json");
    const std::optional<std::string> identifier = body.str("identifier");
    std::optional<std::string> password = body.str("password");
    if (!identifier) return fail(400, "error.null.identifier");
    if (!password) return fail(400, "error.null.password");
    if (body.boolean("encryptedPassword").value_or(false)) {
      password = decrypt_password(*password);
      if (!password) return fail(401, "error.invalid.details");
    }
    if (!absl::EqualsIgnoreCase(*identifier, options.credentials.identifier) ||
        *password != options.credentials.password) {
      return fail(401, "error.invalid.details");
    }

    Session session;
    session.cst = new_token(24);
    session.security_token = new_token(30);
    session.api_key = *r.api_key;
    session.last_used = SteadyClock::now();
    for (const Account& a : accounts) {
      if (a.preferred) session.account_id = a.id;
    }
    ++stats.logins;
    const Account& current = *find_account(session.account_id);

    JsonWriter w;
    w.begin_object();
    w.member("accountType", "CFD");
    w.key("accountInfo");
    write_funds(w, current);
    w.member("currencyIsoCode", kAccountCurrency).member("currencySymbol", "$");
    w.member("currentAccountId", current.id).member("streamingHost", streaming_host);
    w.key("accounts").begin_array();
    for (const Account& a : accounts) {
      w.begin_object().member("accountId", a.id).member("accountName", a.name);
      w.member("preferred", a.preferred).member("accountType", "CFD");
      w.member("currency", kAccountCurrency).member("symbol", "$");
      w.key("balance");
      write_funds(w, a);
      w.end_object();
    }
    w.end_array();
    w.member("clientId", "12345678").member("timezoneOffset", options.timezone_offset_hours);
    w.member("hasActiveDemoAccounts", true).member("hasActiveLiveAccounts", false);
    w.member("trailingStopsEnabled", false);
    w.end_object();

    BrokerResponse response = json_ok(w.take());
    response.cst = session.cst;
    response.security_token = session.security_token;
    sessions[session.cst] = std::move(session);
    return response;
  }

  std::optional<std::string> decrypt_password(const std::string& encrypted) {
    if (!encryption_key) return std::nullopt;
    const std::optional<std::string> inner = encryption_key->decrypt_base64(encrypted);
    if (!inner) return std::nullopt;
    const std::optional<std::string> plain = base64_decode(*inner);
    if (!plain) return std::nullopt;
    const std::size_t bar = plain->rfind('|');
    if (bar == std::string::npos) return std::nullopt;
    // The timestamp must be one of the last hour's (the broker rejects stale ones).
    const std::string stamp = plain->substr(bar + 1);
    char* end = nullptr;
    const long long ts = std::strtoll(stamp.c_str(), &end, 10);
    if (end == stamp.c_str() || std::llabs(epoch_ms_now() - ts) > 3'600'000) return std::nullopt;
    return plain->substr(0, bar);
  }

  BrokerResponse encryption_key_response(const BrokerRequest& r) {
    if (!r.api_key || r.api_key->empty()) return error(400, "error.null.api.key");
    if (*r.api_key != options.credentials.api_key) return error(401, "error.invalid.details");
    if (!encryption_key) encryption_key = RsaKeyPair::generate(2048);
    JsonWriter w;
    w.begin_object().member("encryptionKey", encryption_key->public_key_base64());
    w.member("timeStamp", epoch_ms_now()).end_object();
    return json_ok(w.take());
  }

  BrokerResponse session_details(const Session& session) {
    JsonWriter w;
    w.begin_object().member("clientId", "12345678").member("accountId", session.account_id);
    w.member("timezoneOffset", options.timezone_offset_hours).member("locale", "en");
    w.member("currency", kAccountCurrency).member("streamEndpoint", streaming_host);
    w.end_object();
    return json_ok(w.take());
  }

  BrokerResponse switch_account(const BrokerRequest& r, Session& session) {
    JsonBody body;
    if (!body.parse(r.body)) return error(400, "error.invalid.json");
    const std::optional<std::string> id = body.str("accountId");
    if (!id) return error(400, "error.null.accountId");
    if (find_account(*id) == nullptr) return error(400, "error.invalid.accountId");
    if (*id != session.account_id) {
      session.account_id = *id;
      ++session.epoch;  // drops the session's WebSocket streams
    }
    JsonWriter w;
    w.begin_object().member("trailingStopsEnabled", false).member("dealingEnabled", true);
    w.member("hasActiveDemoAccounts", true).member("hasActiveLiveAccounts", false).end_object();
    return json_ok(w.take());
  }

  // ----- accounts -----------------------------------------------------------------------------

  BrokerResponse accounts_list() {
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

  BrokerResponse preferences(const Account& a) {
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

  BrokerResponse update_preferences(const BrokerRequest& r, Account& a) {
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
        if (index == a.leverages.size() || !value)
          return error(400, "error.invalid.leverage.value");
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

  BrokerResponse top_up(const BrokerRequest& r, Account& a) {
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

  // ----- history ------------------------------------------------------------------------------

  // Parses from/to/lastPeriod into [from, to]; an error response when invalid.
  std::optional<BrokerResponse> period(const BrokerRequest& r, int64_t& from, int64_t& to) {
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

  // FIQL subset: clauses joined by ';', each field==a,b or field!=a,b.
  static bool matches_filter(const std::string& filter, const Activity& a) {
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

  BrokerResponse activity_history(const BrokerRequest& r, const Account&) {
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

  BrokerResponse transaction_history(const BrokerRequest& r) {
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

  void record(std::size_t m, const std::string& deal_id, const std::string& source,
              const std::string& type, const std::string& status, const std::string& reference,
              double size, Direction d, int64_t level, bool guaranteed) {
    activities.push_back({epoch_ms_now(), spec(m).epic, deal_id, source, type, status, reference,
                          spec(m).name, spec(m).currency, size, d,
                          format_decimal(level, spec(m).decimals), guaranteed});
    if (activities.size() > 100'000) activities.erase(activities.begin());
  }

  // ----- markets ------------------------------------------------------------------------------

  static std::string node_id(InstrumentType t) {
    return "hierarchy_v1." + absl::AsciiStrToLower(std::string(to_string(t)));
  }

  BrokerResponse navigation_root() {
    JsonWriter w;
    w.begin_object().key("nodes").begin_array();
    for (const InstrumentType t :
         {InstrumentType::kCommodities, InstrumentType::kCurrencies, InstrumentType::kIndices,
          InstrumentType::kCryptocurrencies, InstrumentType::kShares}) {
      std::string name = absl::AsciiStrToLower(std::string(to_string(t)));
      name[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(name[0])));
      w.begin_object().member("id", node_id(t)).member("name", name).end_object();
    }
    w.end_array().end_object();
    return json_ok(w.take());
  }

  BrokerResponse navigation_node(const BrokerRequest& r, const std::string& id) {
    long limit = 500;
    if (const auto it = r.query.find("limit"); it != r.query.end()) {
      char* end = nullptr;
      limit = std::strtol(it->second.c_str(), &end, 10);
      if (*end != '\0' || limit <= 0 || limit > 500) return error(400, "error.invalid.limit");
    }
    bool known = false;
    JsonWriter w;
    w.begin_object().key("nodes").begin_array().end_array().key("markets").begin_array();
    long written = 0;
    for (std::size_t m = 0; m < markets.size(); ++m) {
      if (node_id(spec(m).type) != id) continue;
      known = true;
      if (written++ < limit) write_summary(w, m);
    }
    w.end_array().end_object();
    if (!known) return error(404, "error.not-found.nodeId");
    return json_ok(w.take());
  }

  BrokerResponse markets_query(const BrokerRequest& r) {
    JsonWriter w;
    w.begin_object();
    if (const auto it = r.query.find("searchTerm"); it != r.query.end()) {
      if (it->second.empty()) return error(400, "error.null.searchTerm");
      const std::string term = absl::AsciiStrToLower(it->second);
      w.key("markets").begin_array();
      for (std::size_t m = 0; m < markets.size(); ++m) {
        if (absl::StrContains(absl::AsciiStrToLower(spec(m).epic), term) ||
            absl::StrContains(absl::AsciiStrToLower(spec(m).name), term)) {
          write_summary(w, m);
        }
      }
      w.end_array();
    } else if (const auto e = r.query.find("epics"); e != r.query.end()) {
      const std::vector<std::string> epics = absl::StrSplit(e->second, ',', absl::SkipEmpty());
      if (epics.empty()) return error(400, "error.null.epics");
      if (epics.size() > 50) return error(400, "error.invalid.epics");
      w.key("marketDetails").begin_array();
      for (const std::string& epic : epics) {
        if (const auto m = find_market(epic)) write_details(w, *m);
      }
      w.end_array();
    } else {
      w.key("markets").begin_array();
      for (std::size_t m = 0; m < markets.size(); ++m) write_summary(w, m);
      w.end_array();
    }
    w.end_object();
    return json_ok(w.take());
  }

  BrokerResponse market_details(const std::string& epic) {
    const auto m = find_market(epic);
    if (!m) return error(404, "error.not-found.epic");
    JsonWriter w;
    write_details(w, *m);
    return json_ok(w.take());
  }

  BrokerResponse prices(const BrokerRequest& r, const std::string& epic) {
    const auto m = find_market(epic);
    if (!m) return error(404, "error.not-found.epic");
    Resolution resolution = Resolution::kMinute;
    if (const auto it = r.query.find("resolution"); it != r.query.end()) {
      const std::optional<Resolution> parsed = parse_resolution(it->second);
      if (!parsed) return error(400, "error.invalid.resolution");
      resolution = *parsed;
    }
    std::size_t max = 10;
    const bool has_max = r.query.count("max") != 0;
    if (has_max) {
      char* end = nullptr;
      const long v = std::strtol(r.query.at("max").c_str(), &end, 10);
      if (*end != '\0' || v <= 0 || v > 1000) return error(400, "error.invalid.max");
      max = static_cast<std::size_t>(v);
    }
    const int64_t now = epoch_ms_now();
    const int64_t period_ms = resolution_seconds(resolution) * 1000;
    int64_t from = 0, to = now;
    bool ranged = false;
    if (const auto it = r.query.find("from"); it != r.query.end()) {
      const std::optional<int64_t> t = parse_time(it->second);
      if (!t) return error(400, "error.invalid.from");
      from = *t;
      ranged = true;
    }
    if (const auto it = r.query.find("to"); it != r.query.end()) {
      const std::optional<int64_t> t = parse_time(it->second);
      if (!t) return error(400, "error.invalid.to");
      to = std::min(*t, now);
    }
    if (ranged && from > to) return error(400, "error.invalid.from");
    // Bars are generated from the current bar backwards far enough to cover the window.
    const int64_t current_start = bar_start_ms(resolution, now);
    std::size_t depth = max;
    if (ranged) {
      depth = static_cast<std::size_t>(std::min<int64_t>(
          (current_start - bar_start_ms(resolution, from)) / period_ms + 1, 100'000));
    }
    const std::vector<PriceBar> bars =
        price_history(spec(*m), options.seed, resolution, now, market_state[*m].walk.mid(), depth);
    std::vector<const PriceBar*> selected;
    for (const PriceBar& bar : bars) {
      if (ranged && (bar.start_ms < bar_start_ms(resolution, from) || bar.start_ms > to)) continue;
      selected.push_back(&bar);
    }
    if (selected.size() > max && (has_max || !ranged)) {
      selected.erase(selected.begin(), selected.end() - static_cast<std::ptrdiff_t>(max));
    }
    if (ranged && !has_max && selected.size() > 1000) selected.resize(1000);
    JsonWriter w;
    w.begin_object().key("prices").begin_array();
    auto pair = [&](std::string_view name, int64_t bid, int64_t spread) {
      w.key(name).begin_object();
      write_price(w, "bid", *m, bid);
      write_price(w, "ask", *m, bid + spread);
      w.end_object();
    };
    for (const PriceBar* bar : selected) {
      w.begin_object();
      w.member("snapshotTime", format_time(bar->start_ms, options.timezone_offset_hours, false));
      w.member("snapshotTimeUTC", format_time(bar->start_ms, 0, false));
      pair("openPrice", bar->open_bid, bar->spread_units);
      pair("closePrice", bar->close_bid, bar->spread_units);
      pair("highPrice", bar->high_bid, bar->spread_units);
      pair("lowPrice", bar->low_bid, bar->spread_units);
      w.member("lastTradedVolume", bar->volume).end_object();
    }
    w.end_array().member("instrumentType", to_string(spec(*m).type)).end_object();
    return json_ok(w.take());
  }

  BrokerResponse client_sentiment(const BrokerRequest& r, const std::string& one) {
    auto write_one = [&](JsonWriter& w, const std::string& id) {
      const int64_t long_pct = 35 + static_cast<int64_t>(market_seed(options.seed, id) % 40);
      w.begin_object().member("marketId", id).member("longPositionPercentage", long_pct);
      w.member("shortPositionPercentage", 100 - long_pct).end_object();
    };
    JsonWriter w;
    if (!one.empty()) {
      if (!find_market(one)) return error(404, "error.not-found.marketId");
      write_one(w, one);
      return json_ok(w.take());
    }
    const auto it = r.query.find("marketIds");
    if (it == r.query.end() || it->second.empty()) return error(400, "error.null.marketIds");
    w.begin_object().key("clientSentiments").begin_array();
    const std::vector<std::string> ids = absl::StrSplit(it->second, ',', absl::SkipEmpty());
    for (const std::string& id : ids) {
      if (find_market(id)) write_one(w, id);
    }
    w.end_array().end_object();
    return json_ok(w.take());
  }

  // ----- dealing ------------------------------------------------------------------------------

  struct StopProfit {
    std::optional<double> stop_level;
    std::optional<double> profit_level;
    std::optional<double> stop_distance;  // kept for working orders and trailing stops
    std::optional<double> profit_distance;
    bool guaranteed_stop = false;
    bool trailing_stop = false;
  };

  // Reads and checks the optional stop/profit fields against reference price `ref` (price).
  // Returns an error response or nullopt.
  std::optional<BrokerResponse> parse_stop_profit(const JsonBody& body, std::size_t m, Direction d,
                                                  double size, double ref, bool hedging,
                                                  StopProfit& out) {
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
    const double min_pct =
        out.guaranteed_stop ? s.min_guaranteed_stop_pct : s.min_stop_distance_pct;
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

  // Size rules of the market: nullopt when fine, else the rejection reason.
  std::optional<std::string> size_rejection(std::size_t m, double size) const {
    const MarketSpec& s = spec(m);
    const double steps = size / s.min_size_increment;
    if (size < s.min_deal_size - kEps || std::abs(steps - std::round(steps)) > 1e-6) {
      return "MINIMUM_ORDER_SIZE_ERROR";
    }
    if (size > s.max_deal_size + kEps) return "MAXIMUM_ORDER_SIZE_ERROR";
    return std::nullopt;
  }

  double round_size(std::size_t m, double size) const {
    const double scale = std::pow(10.0, market_state[m].size_decimals);
    return std::round(size * scale) / scale;
  }

  struct Affected {
    std::string deal_id;
    std::string status;
  };

  struct ConfirmFields {
    std::string reference;
    std::string deal_id;
    std::string status;  // empty: omitted (rejections)
    std::string reason = "SUCCESS";
    bool accepted = true;
    std::size_t market = 0;
    std::vector<Affected> affected;
    int64_t level = 0;
    double size = 0;
    Direction direction = Direction::kBuy;
    bool guaranteed_stop = false;
    bool trailing_stop = false;
    std::optional<double> stop_level;
    std::optional<double> profit_level;
    std::optional<double> profit;
  };

  void store_confirm(const ConfirmFields& c) {
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
    confirms[c.reference] = w.take();
  }

  // Closes `size` of position `index` at the market; returns the realised money.
  // Counts a deal unless it is part of a larger one (netting).
  double realise(std::size_t index, double size, const std::string& source,
                 bool count_deal = true) {
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

  // A market deal of `size` in direction `d` at the current price: nets against opposite
  // positions first (FIFO) unless hedging, then opens a position with the rest.
  std::vector<Affected> execute_deal(Account& account, std::size_t m, Direction d, double size,
                                     const StopProfit& sp, const std::string& order_id,
                                     std::string& opened_id, double& realised) {
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

  static std::string confirm_status(const std::vector<Affected>& affected) {
    bool opened = false, partial = false;
    for (const Affected& a : affected) {
      opened |= a.status == "OPENED";
      partial |= a.status == "PARTIALLY_CLOSED";
    }
    return opened ? "OPEN" : partial ? "PARTIALLY_CLOSED" : "CLOSED";
  }

  // Reads epic, direction and size; returns an error response or nullopt.
  std::optional<BrokerResponse> parse_order_basics(const JsonBody& body, std::size_t& m,
                                                   Direction& d, double& size) {
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

  static BrokerResponse deal_reference(const std::string& reference, bool executed) {
    JsonWriter w;
    w.begin_object().member("dealReference", reference).end_object();
    BrokerResponse r = json_ok(w.take());
    r.order_executed = executed;
    return r;
  }

  BrokerResponse open_position(const BrokerRequest& r, Account& account) {
    if (!allow_order()) return too_many();
    JsonBody body;
    if (!body.parse(r.body) || body.empty()) return error(400, "error.invalid.json");
    std::size_t m = 0;
    Direction d = Direction::kBuy;
    double size = 0;
    if (auto bad = parse_order_basics(body, m, d, size)) return *bad;
    StopProfit sp;
    const double ref = price(m, entry_level(m, d));
    if (auto bad = parse_stop_profit(body, m, d, size, ref, account.hedging_mode, sp)) return *bad;

    ConfirmFields c;
    c.reference = "o_" + new_uuid();
    c.deal_id = new_deal_id();
    c.market = m;
    c.level = entry_level(m, d);
    c.size = size;
    c.direction = d;
    c.guaranteed_stop = sp.guaranteed_stop;
    c.trailing_stop = sp.trailing_stop;
    c.stop_level = sp.stop_level;
    c.profit_level = sp.profit_level;
    ++stats.orders_by_epic[spec(m).epic];

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
      c.accepted = false;
      c.reason = *rejection;
      record(m, c.deal_id, "USER", "POSITION", "REJECTED", c.reference, size, d, c.level,
             sp.guaranteed_stop);
    } else {
      std::string opened;
      double realised = 0;
      c.affected =
          execute_deal(account, m, d, round_size(m, size), sp, c.deal_id, opened, realised);
      c.status = confirm_status(c.affected);
      if (opened.empty()) c.profit = realised;
    }
    store_confirm(c);
    return deal_reference(c.reference, true);
  }

  Position* find_position(const Account& account, const std::string& deal_id) {
    for (Position& p : positions) {
      if (p.account_id == account.id && p.deal_id == deal_id) return &p;
    }
    return nullptr;
  }

  void write_position(JsonWriter& w, const Position& p) {
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

  BrokerResponse positions_list(const Account& account) {
    JsonWriter w;
    w.begin_object().key("positions").begin_array();
    for (const Position& p : positions) {
      if (p.account_id == account.id) write_position(w, p);
    }
    w.end_array().end_object();
    return json_ok(w.take());
  }

  BrokerResponse position_one(const Account& account, const std::string& deal_id) {
    const Position* p = find_position(account, deal_id);
    if (p == nullptr) return error(404, "error.not-found.dealId");
    JsonWriter w;
    write_position(w, *p);
    return json_ok(w.take());
  }

  BrokerResponse amend_position(const BrokerRequest& r, Account& account,
                                const std::string& deal_id) {
    Position* p = find_position(account, deal_id);
    if (p == nullptr) return error(404, "error.not-found.dealId");
    JsonBody body;
    if (!body.parse(r.body)) return error(400, "error.invalid.json");
    StopProfit sp;
    const double ref = price(p->market, exit_level(p->market, p->direction));
    if (auto bad = parse_stop_profit(body, p->market, p->direction, p->size, ref,
                                     account.hedging_mode, sp))
      return *bad;
    p->stop_level = sp.stop_level;
    p->profit_level = sp.profit_level;
    p->guaranteed_stop = sp.guaranteed_stop;
    p->trailing_stop = sp.trailing_stop;
    p->trailing_distance = sp.trailing_stop ? sp.stop_distance : std::nullopt;
    ConfirmFields c;
    c.reference = "p_" + p->deal_id;
    c.deal_id = p->deal_id;
    c.status = "AMENDED";
    c.market = p->market;
    c.affected = {{p->deal_id, "AMENDED"}};
    c.level = p->level;
    c.size = p->size;
    c.direction = p->direction;
    c.guaranteed_stop = p->guaranteed_stop;
    c.trailing_stop = p->trailing_stop;
    c.stop_level = p->stop_level;
    c.profit_level = p->profit_level;
    store_confirm(c);
    record(p->market, p->deal_id, "USER", "EDIT_STOP_AND_LIMIT", "ACCEPTED", c.reference, p->size,
           p->direction, p->level, p->guaranteed_stop);
    return deal_reference(c.reference, false);
  }

  BrokerResponse close_position(Account& account, const std::string& deal_id) {
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

  // ----- working orders -----------------------------------------------------------------------

  WorkingOrder* find_order(const Account& account, const std::string& deal_id) {
    for (WorkingOrder& o : working_orders) {
      if (o.account_id == account.id && o.deal_id == deal_id) return &o;
    }
    return nullptr;
  }

  // goodTillDate: absent = GOOD_TILL_CANCELLED; an error response when bad or past.
  std::optional<BrokerResponse> parse_good_till(const JsonBody& body,
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

  BrokerResponse create_working_order(const BrokerRequest& r, Account& account) {
    if (!allow_order()) return too_many();
    JsonBody body;
    if (!body.parse(r.body) || body.empty()) return error(400, "error.invalid.json");
    std::size_t m = 0;
    Direction d = Direction::kBuy;
    double size = 0;
    if (auto bad = parse_order_basics(body, m, d, size)) return *bad;
    const std::optional<double> level = body.num("level");
    if (!level) return error(400, "error.null.level");
    if (*level <= 0) return error(400, "error.invalid.level");
    const std::optional<std::string> type = body.str("type");
    if (!type) return error(400, "error.null.type");
    if (*type != "LIMIT" && *type != "STOP") return error(400, "error.invalid.type");
    std::optional<int64_t> good_till;
    if (auto bad = parse_good_till(body, good_till)) return *bad;
    StopProfit sp;
    if (auto bad = parse_stop_profit(body, m, d, size, *level, account.hedging_mode, sp))
      return *bad;

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

    ConfirmFields c;
    c.reference = "o_" + new_uuid();
    c.deal_id = o.deal_id;
    c.market = m;
    c.level = o.level;
    c.size = size;
    c.direction = d;
    c.guaranteed_stop = sp.guaranteed_stop;
    c.trailing_stop = sp.trailing_stop;
    c.stop_level = sp.stop_level;
    c.profit_level = sp.profit_level;
    ++stats.orders_by_epic[spec(m).epic];
    if (const auto rejection = size_rejection(m, size)) {
      c.accepted = false;
      c.reason = *rejection;
      record(m, o.deal_id, "USER", "WORKING_ORDER", "REJECTED", c.reference, size, d, o.level,
             o.guaranteed_stop);
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

  BrokerResponse working_orders_list(const Account& account) {
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

  BrokerResponse amend_working_order(const BrokerRequest& r, Account& account,
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
    ConfirmFields c;
    c.reference = "o_" + new_uuid();
    c.deal_id = o->deal_id;
    c.status = "AMENDED";
    c.market = o->market;
    c.affected = {{o->deal_id, "AMENDED"}};
    c.level = o->level;
    c.size = o->size;
    c.direction = o->direction;
    c.guaranteed_stop = o->guaranteed_stop;
    c.trailing_stop = o->trailing_stop;
    store_confirm(c);
    record(o->market, o->deal_id, "USER", "WORKING_ORDER", "MODIFIED", c.reference, o->size,
           o->direction, o->level, o->guaranteed_stop);
    return deal_reference(c.reference, false);
  }

  BrokerResponse delete_working_order(Account& account, const std::string& deal_id) {
    WorkingOrder* o = find_order(account, deal_id);
    if (o == nullptr) return error(404, "error.not-found.dealId");
    ConfirmFields c;
    c.reference = "o_" + new_uuid();
    c.deal_id = o->deal_id;
    c.status = "DELETED";
    c.market = o->market;
    c.affected = {{o->deal_id, "DELETED"}};
    c.level = o->level;
    c.size = o->size;
    c.direction = o->direction;
    c.guaranteed_stop = o->guaranteed_stop;
    store_confirm(c);
    record(o->market, o->deal_id, "USER", "WORKING_ORDER", "CANCELLED", c.reference, o->size,
           o->direction, o->level, o->guaranteed_stop);
    working_orders.erase(working_orders.begin() + (o - working_orders.data()));
    return deal_reference(c.reference, false);
  }

  // ----- matching -----------------------------------------------------------------------------

  // Fills working orders the market has crossed, expires GOOD_TILL_DATE ones, and triggers
  // stops, take-profits and trailing stops of market `m`.
  void match(std::size_t m) {
    if (!is_open(m)) return;
    const SimQuote& q = quote(m);
    const int64_t now = epoch_ms_now();
    for (std::size_t i = 0; i < working_orders.size();) {
      WorkingOrder& o = working_orders[i];
      if (o.market != m) {
        ++i;
        continue;
      }
      if (o.good_till_ms && now >= *o.good_till_ms) {
        record(m, o.deal_id, "SYSTEM", "WORKING_ORDER", "EXPIRED", "", o.size, o.direction, o.level,
               o.guaranteed_stop);
        working_orders.erase(working_orders.begin() + static_cast<std::ptrdiff_t>(i));
        continue;
      }
      const int64_t market = o.direction == Direction::kBuy ? q.ask : q.bid;
      const bool buy = o.direction == Direction::kBuy;
      const bool crossed = o.limit ? (buy ? market <= o.level : market >= o.level)
                                   : (buy ? market >= o.level : market <= o.level);
      if (!crossed) {
        ++i;
        continue;
      }
      WorkingOrder filled = std::move(o);
      working_orders.erase(working_orders.begin() + static_cast<std::ptrdiff_t>(i));
      Account* account = find_account(filled.account_id);
      if (account == nullptr) continue;
      StopProfit sp;
      const double fill = price(m, market);
      const double sign = buy ? 1 : -1;
      if (filled.stop_distance) sp.stop_level = fill - sign * *filled.stop_distance;
      if (filled.profit_distance) sp.profit_level = fill + sign * *filled.profit_distance;
      sp.stop_distance = filled.stop_distance;
      sp.guaranteed_stop = filled.guaranteed_stop;
      sp.trailing_stop = filled.trailing_stop;
      record(m, filled.deal_id, "SYSTEM", "WORKING_ORDER", "EXECUTED", "", filled.size,
             filled.direction, market, filled.guaranteed_stop);
      std::string opened;
      double realised = 0;
      execute_deal(*account, m, filled.direction, filled.size, sp, filled.deal_id, opened,
                   realised);
    }
    for (std::size_t i = 0; i < positions.size();) {
      Position& p = positions[i];
      if (p.market != m) {
        ++i;
        continue;
      }
      const bool buy = p.direction == Direction::kBuy;
      const double exit = price(m, exit_level(m, p.direction));
      if (p.trailing_stop && p.trailing_distance && p.stop_level) {
        const double trail = buy ? exit - *p.trailing_distance : exit + *p.trailing_distance;
        p.stop_level = buy ? std::max(*p.stop_level, trail) : std::min(*p.stop_level, trail);
      }
      const bool stopped = p.stop_level && (buy ? exit <= *p.stop_level : exit >= *p.stop_level);
      const bool took = p.profit_level && (buy ? exit >= *p.profit_level : exit <= *p.profit_level);
      if (!stopped && !took) {
        ++i;
        continue;
      }
      realise(i, p.size, stopped ? "SL" : "TP");
      positions.erase(positions.begin() + static_cast<std::ptrdiff_t>(i));
    }
  }

  void update_bars(std::size_t m) {
    MarketState& ms = market_state[m];
    const SimQuote& q = ms.walk.current();
    for (std::size_t r = 0; r < 8; ++r) {
      const int64_t start = bar_start_ms(kAllResolutions[r], q.epoch_ms);
      LiveBar& bar = ms.bars[r];
      if (bar.start_ms != start) {
        if (bar.start_ms >= 0) ms.previous_bars[r] = bar;
        bar = {start, q.bid, q.bid, q.bid, q.bid};
      } else {
        bar.h = std::max(bar.h, q.bid);
        bar.l = std::min(bar.l, q.bid);
        bar.c = q.bid;
      }
    }
  }

  std::string ohlc_frame(std::size_t m, std::size_t r, bool heikin_ashi) {
    const MarketState& ms = market_state[m];
    LiveBar bar = ms.bars[r];
    if (heikin_ashi) {
      const LiveBar& prev = ms.previous_bars[r];
      const int64_t close = (bar.o + bar.h + bar.l + bar.c) / 4;
      const int64_t open = prev.start_ms >= 0 && prev.o > 0 ? (prev.o + prev.c) / 2 : bar.o;
      bar = {bar.start_ms, open, std::max({bar.h, open, close}), std::min({bar.l, open, close}),
             close};
    }
    JsonWriter w;
    w.begin_object().member("status", "OK").member("destination", "ohlc.event");
    w.key("payload").begin_object();
    w.member("resolution", to_string(kAllResolutions[r])).member("epic", spec(m).epic);
    w.member("type", heikin_ashi ? "heikin-ashi" : "classic").member("priceType", "bid");
    w.member("t", bar.start_ms);
    write_price(w, "o", m, bar.o);
    write_price(w, "h", m, bar.h);
    write_price(w, "l", m, bar.l);
    write_price(w, "c", m, bar.c);
    w.end_object().end_object();
    return w.take();
  }

  // ----- streaming ----------------------------------------------------------------------------

  std::vector<std::string> stream_message(std::string_view text, StreamSubscriptions& subs) {
    dom::parser parser;
    dom::element root;
    std::string correlation;
    std::string destination;
    auto reply = [&](std::string_view status, const std::string& payload) {
      JsonWriter w;
      w.begin_object().member("status", status).member("destination", destination);
      w.member("correlationId", correlation).key("payload").raw(payload).end_object();
      return w.take();
    };
    auto failure = [&](std::string_view code) {
      JsonWriter w;
      w.begin_object().member("errorCode", code).end_object();
      return std::vector<std::string>{reply("ERROR", w.take())};
    };
    if (parser.parse(text.data(), text.size()).get(root) != simdjson::SUCCESS ||
        !root.is_object()) {
      return failure("error.invalid.json");
    }
    std::string_view sv;
    if (root["destination"].get_string().get(sv) == simdjson::SUCCESS) destination = sv;
    dom::element corr;
    if (root["correlationId"].get(corr) == simdjson::SUCCESS) {
      if (corr.get_string().get(sv) == simdjson::SUCCESS) {
        correlation = sv;
      } else if (const auto n = JsonBody::number(corr)) {
        correlation = fmt::format("{}", static_cast<int64_t>(*n));
      }
    }
    std::string cst, token;
    if (root["cst"].get_string().get(sv) == simdjson::SUCCESS) cst = sv;
    if (root["securityToken"].get_string().get(sv) == simdjson::SUCCESS) token = sv;
    const auto session = sessions.find(cst);
    if (session == sessions.end() || session->second.security_token != token) {
      return failure("error.invalid.session.token");
    }
    if (subs.cst != cst) {
      subs.cst = cst;
      subs.session_epoch = session->second.epoch;
    }

    auto string_list = [&](const char* key, std::vector<std::string>& out) {
      dom::array array;
      if (root["payload"][key].get_array().get(array) != simdjson::SUCCESS) return false;
      for (const dom::element e : array) {
        if (e.get_string().get(sv) == simdjson::SUCCESS) out.emplace_back(sv);
      }
      return true;
    };

    if (destination == "ping") return {reply("OK", "{}")};
    if (destination == "marketData.subscribe" || destination == "marketData.unsubscribe") {
      std::vector<std::string> epics;
      if (!string_list("epics", epics)) return failure("error.null.epics");
      if (epics.size() > 40) return failure("error.invalid.epics.size");
      const bool subscribe = destination == "marketData.subscribe";
      JsonWriter w;
      w.begin_object().key("subscriptions").begin_object();
      std::vector<std::string> frames;
      for (const std::string& epic : epics) {
        const auto m = find_market(epic);
        if (!m) {
          w.member(epic, "ERROR");
          continue;
        }
        w.member(epic, "PROCESSED");
        if (subscribe) {
          subs.epics.insert(epic);
        } else {
          subs.epics.erase(epic);
        }
      }
      w.end_object().end_object();
      frames.insert(frames.begin(), reply("OK", w.take()));
      if (subscribe) {
        for (const std::string& epic : epics) {
          if (const auto m = find_market(epic); m && is_open(*m)) frames.push_back(quote_frame(*m));
        }
      }
      return frames;
    }
    if (destination == "OHLCMarketData.subscribe") {
      std::vector<std::string> epics, resolutions;
      if (!string_list("epics", epics)) return failure("error.null.epics");
      if (epics.size() > 40) return failure("error.invalid.epics.size");
      if (!string_list("resolutions", resolutions) || resolutions.empty()) {
        resolutions = {"MINUTE"};
      }
      std::string type = "classic";
      if (root["payload"]["type"].get_string().get(sv) == simdjson::SUCCESS) type = sv;
      if (type != "classic" && type != "heikin-ashi") return failure("error.invalid.type");
      for (const std::string& res : resolutions) {
        if (!parse_resolution(res)) return failure("error.invalid.resolution");
      }
      JsonWriter w;
      w.begin_object().key("subscriptions").begin_object();
      for (const std::string& epic : epics) {
        for (const std::string& res : resolutions) {
          const std::string key = epic + ":" + res + ":" + type;
          if (find_market(epic)) {
            subs.ohlc_keys.insert(key);
            w.member(key, "PROCESSED");
          } else {
            w.member(key, "ERROR");
          }
        }
      }
      w.end_object().end_object();
      return {reply("OK", w.take())};
    }
    if (destination == "OHLCMarketData.unsubscribe") {
      std::vector<std::string> epics, resolutions, types;
      if (!string_list("epics", epics)) return failure("error.null.epics");
      string_list("resolutions", resolutions);
      string_list("types", types);
      auto listed = [](const std::vector<std::string>& list, const std::string& v) {
        return list.empty() || std::find(list.begin(), list.end(), v) != list.end();
      };
      JsonWriter w;
      w.begin_object().key("subscriptions").begin_object();
      for (auto it = subs.ohlc_keys.begin(); it != subs.ohlc_keys.end();) {
        const std::vector<std::string> parts = absl::StrSplit(*it, ':', absl::SkipEmpty());
        if (parts.size() == 3 && listed(epics, parts[0]) && listed(resolutions, parts[1]) &&
            listed(types, parts[2]) && !epics.empty()) {
          w.member(*it, "PROCESSED");
          it = subs.ohlc_keys.erase(it);
        } else {
          ++it;
        }
      }
      w.end_object().end_object();
      return {reply("OK", w.take())};
    }
    return failure("error.invalid.destination");
  }

  std::vector<StreamTick> tick(const std::set<std::string>& ohlc_keys) {
    std::vector<StreamTick> ticks;
    const int64_t now = epoch_ms_now();
    for (std::size_t m = 0; m < markets.size(); ++m) {
      if (!is_open(m)) continue;
      market_state[m].walk.step(now);
      update_bars(m);
      match(m);
      StreamTick t;
      t.epic = spec(m).epic;
      t.quote_json = quote_frame(m);
      for (std::size_t r = 0; r < 8; ++r) {
        for (const bool ha : {false, true}) {
          const std::string key = spec(m).epic + ":" + std::string(to_string(kAllResolutions[r])) +
                                  ":" + (ha ? "heikin-ashi" : "classic");
          if (ohlc_keys.count(key) != 0) t.ohlc_json.emplace_back(key, ohlc_frame(m, r, ha));
        }
      }
      ticks.push_back(std::move(t));
    }
    return ticks;
  }
};

// ---------------------------------------------------------------------------------------------
// SimulatedBroker

SimulatedBroker::SimulatedBroker(SimOptions options, std::vector<MarketSpec> markets)
    : options_(std::move(options)), state_(std::make_unique<State>(options_, std::move(markets))) {}

SimulatedBroker::~SimulatedBroker() = default;

const std::vector<MarketSpec>& SimulatedBroker::markets() const {
  return state_->markets;
}

void SimulatedBroker::set_streaming_host(std::string host) {
  std::lock_guard lock(mutex_);
  state_->streaming_host = std::move(host);
}

BrokerResponse SimulatedBroker::handle(const BrokerRequest& request) {
  std::lock_guard lock(mutex_);
  return state_->handle(request);
}

std::vector<std::string> SimulatedBroker::handle_stream_message(
    std::string_view text, StreamSubscriptions& subscriptions) {
  std::lock_guard lock(mutex_);
  return state_->stream_message(text, subscriptions);
}

bool SimulatedBroker::stream_session_alive(const StreamSubscriptions& subscriptions) {
  if (subscriptions.cst.empty()) return true;  // not bound to a session yet
  std::lock_guard lock(mutex_);
  const auto it = state_->sessions.find(subscriptions.cst);
  return it != state_->sessions.end() && it->second.epoch == subscriptions.session_epoch;
}

std::vector<StreamTick> SimulatedBroker::tick(const std::set<std::string>& ohlc_keys) {
  std::lock_guard lock(mutex_);
  return state_->tick(ohlc_keys);
}

std::string SimulatedBroker::quote_frame(const std::string& epic) {
  std::lock_guard lock(mutex_);
  const auto m = state_->find_market(epic);
  return m ? state_->quote_frame(*m) : std::string();
}

void SimulatedBroker::expire_all_sessions() {
  std::lock_guard lock(mutex_);
  state_->stats.sessions_expired += static_cast<int64_t>(state_->sessions.size());
  state_->sessions.clear();
}

bool SimulatedBroker::set_mid_price(const std::string& epic, double mid) {
  std::lock_guard lock(mutex_);
  const auto m = state_->find_market(epic);
  if (!m) return false;
  state_->market_state[*m].walk.set_mid(mid, epoch_ms_now());
  state_->update_bars(*m);
  state_->match(*m);
  return true;
}

std::optional<std::pair<double, double>> SimulatedBroker::quote(const std::string& epic) {
  std::lock_guard lock(mutex_);
  const auto m = state_->find_market(epic);
  if (!m) return std::nullopt;
  const SimQuote& q = state_->quote(*m);
  return std::make_pair(state_->price(*m, q.bid), state_->price(*m, q.ask));
}

SimStats SimulatedBroker::stats() {
  std::lock_guard lock(mutex_);
  return state_->stats;
}

std::vector<PositionInfo> SimulatedBroker::positions() {
  std::lock_guard lock(mutex_);
  std::vector<PositionInfo> out;
  for (const State::Position& p : state_->positions) {
    out.push_back({p.account_id, p.deal_id, state_->spec(p.market).epic,
                   std::string(to_string(p.direction)), p.size, state_->price(p.market, p.level),
                   p.working_order_id, p.stop_level, p.profit_level});
  }
  return out;
}

std::vector<WorkingOrderInfo> SimulatedBroker::working_orders() {
  std::lock_guard lock(mutex_);
  std::vector<WorkingOrderInfo> out;
  for (const State::WorkingOrder& o : state_->working_orders) {
    out.push_back({o.account_id, o.deal_id, state_->spec(o.market).epic,
                   std::string(to_string(o.direction)), o.limit ? "LIMIT" : "STOP", o.size,
                   state_->price(o.market, o.level)});
  }
  return out;
}

void SimulatedBroker::count_request(const std::string& method, const std::string& path) {
  std::lock_guard lock(mutex_);
  ++state_->stats.requests_by_path[method + " " + path];
}

void SimulatedBroker::count_fault(FaultEvent event, int64_t n) {
  std::lock_guard lock(mutex_);
  SimStats& s = state_->stats;
  switch (event) {
    case FaultEvent::kError: s.injected_errors += n; break;
    case FaultEvent::k429: s.injected_429 += n; break;
    case FaultEvent::kStall: s.stalled += n; break;
    case FaultEvent::kDroppedResponse: s.dropped_responses += n; break;
    case FaultEvent::kWsConnect: s.ws_connections += n; break;
    case FaultEvent::kWsDrop: s.ws_drops += n; break;
    case FaultEvent::kQuote: s.quotes_pushed += n; break;
  }
}

}  // namespace qt::sim
