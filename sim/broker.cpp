// SimulatedBroker: the lock around BrokerState and the public entry points; the state's
// construction and ids. Each resource of the broker lives in its own broker_<resource>.cpp.
#include "sim/broker.hpp"

#include <fmt/format.h>

#include <cmath>

#include "sim/broker_state.hpp"

namespace qt::sim {

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

int decimals_of(double increment) {
  int d = 0;
  while (d < 8 &&
         std::abs(increment * std::pow(10.0, d) - std::round(increment * std::pow(10.0, d))) > 1e-9)
    ++d;
  return d;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// BrokerState

BrokerState::BrokerState(const SimOptions& o, std::vector<MarketSpec> m)
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

std::string BrokerState::new_deal_id() {
  const uint32_t prefix = static_cast<uint32_t>(ids());
  return fmt::format("{:08x}-0001-54c4-0000-{:012x}", prefix, deal_counter++);
}

std::string BrokerState::new_uuid() {
  const uint64_t a = ids();
  const uint64_t b = ids();
  return fmt::format("{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}", a >> 32, (a >> 16) & 0xffff, a & 0xfff,
                     0x8000 | (b >> 48 & 0x3fff), b & 0xffffffffffffULL);
}

std::string BrokerState::new_token(std::size_t length) {
  static constexpr char kAlphabet[] =
      "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  std::string token;
  for (std::size_t i = 0; i < length; ++i) token += kAlphabet[ids() % 62];
  return token;
}

// ---------------------------------------------------------------------------------------------
// SimulatedBroker

SimulatedBroker::SimulatedBroker(SimOptions options, std::vector<MarketSpec> markets)
    : options_(std::move(options)),
      state_(std::make_unique<BrokerState>(options_, std::move(markets))) {}

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
  for (const BrokerState::Position& p : state_->positions) {
    out.push_back({p.account_id, p.deal_id, state_->spec(p.market).epic,
                   std::string(to_string(p.direction)), p.size, state_->price(p.market, p.level),
                   p.working_order_id, p.stop_level, p.profit_level});
  }
  return out;
}

std::vector<WorkingOrderInfo> SimulatedBroker::working_orders() {
  std::lock_guard lock(mutex_);
  std::vector<WorkingOrderInfo> out;
  for (const BrokerState::WorkingOrder& o : state_->working_orders) {
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
