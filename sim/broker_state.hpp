// BrokerState: everything the simulated broker knows, shared by the files that implement its
// resources, one file per part of the broker's API (sim/broker_<resource>.cpp). Internal to sim/.
//
// Lock: SimulatedBroker::mutex_ guards all of it. Every member function runs with that mutex held
// (SimulatedBroker's public methods take it and call in); none locks, blocks or does I/O.
//
// Who writes what (any file may read):
//   options, markets, market_index        set at construction, then read-only
//   market_state (walks, live bars)       broker_matching.cpp; broker.cpp (set_mid_price)
//   streaming_host                        broker.cpp (set_streaming_host)
//   sessions, encryption_key              broker_session.cpp; broker_routing.cpp (logout),
//                                         broker.cpp (expire_all_sessions)
//   accounts                              broker_accounts.cpp; cash also broker_dealing.cpp
//   positions                             broker_dealing.cpp (opens, nets), broker_positions.cpp,
//                                         broker_matching.cpp (stops, take-profits)
//   working_orders                        broker_working_orders.cpp, broker_matching.cpp (fills)
//   confirms                              broker_confirms.cpp
//   activities                            broker_history.cpp (record)
//   transactions                          broker_dealing.cpp (realised P&L), broker_accounts.cpp
//   request_times, order_times,           broker_limits.cpp
//   last_order, session_posts             (session_posts through broker_session.cpp's login)
//   ids, deal_counter                     broker.cpp (new_deal_id, new_uuid, new_token)
//   stats                                 each file counts its own events
#pragma once

#include <array>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/json_writer.hpp"
#include "sim/broker.hpp"
#include "sim/broker_wire.hpp"
#include "sim/crypto.hpp"
#include "sim/market_catalogue.hpp"
#include "sim/price_walk.hpp"
#include "sim/sim_options.hpp"

namespace qt::sim {

class JsonBody;

using SteadyClock = std::chrono::steady_clock;
using SystemClock = std::chrono::system_clock;

inline constexpr double kEps = 1e-9;
inline constexpr const char* kAccountCurrency = "USD";

enum class Direction : uint8_t { kBuy, kSell };
inline std::string_view to_string(Direction d) {
  return d == Direction::kBuy ? "BUY" : "SELL";
}
inline Direction opposite(Direction d) {
  return d == Direction::kBuy ? Direction::kSell : Direction::kBuy;
}

struct Leverage {
  InstrumentType group;
  int current;
  std::vector<int> available;
};

struct BrokerState {
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
  struct Funds {
    double deposit, profit_loss, balance, available;
  };
  struct StopProfit {
    std::optional<double> stop_level;
    std::optional<double> profit_level;
    std::optional<double> stop_distance;  // kept for working orders and trailing stops
    std::optional<double> profit_distance;
    bool guaranteed_stop = false;
    bool trailing_stop = false;
  };
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

  BrokerState(const SimOptions& o, std::vector<MarketSpec> m);  // broker.cpp

  SimOptions options;
  std::vector<MarketSpec> markets;
  std::map<std::string, std::size_t> market_index;
  std::vector<MarketState> market_state;
  std::string streaming_host = "wss://127.0.0.1/";

  std::map<std::string, Session> sessions;  // by CST
  std::vector<Account> accounts;
  std::vector<Position> positions;  // in opening order (netting closes FIFO)
  std::vector<WorkingOrder> working_orders;
  struct StoredConfirm {
    std::string body;
    int64_t stored_ms = 0;  // a confirm is not served before stored_ms + faults.confirm_delay_ms
  };
  std::map<std::string, StoredConfirm> confirms;  // dealReference -> confirm
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

  // ----- ids (broker.cpp) -----------------------------------------------------------------------
  std::string new_deal_id();
  std::string new_uuid();
  std::string new_token(std::size_t length);

  // ----- market data accessors ------------------------------------------------------------------
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
  int64_t exit_level(std::size_t m, Direction d) const {
    return d == Direction::kBuy ? quote(m).bid : quote(m).ask;
  }
  int64_t entry_level(std::size_t m, Direction d) const {
    return d == Direction::kBuy ? quote(m).ask : quote(m).bid;
  }

  // ----- routing (broker_routing.cpp) -----------------------------------------------------------
  BrokerResponse handle(const BrokerRequest& r);
  BrokerResponse route(const BrokerRequest& r, const std::vector<std::string>& seg,
                       Session& session);

  // ----- rate limits (broker_limits.cpp) --------------------------------------------------------
  static bool within_limit(std::deque<SteadyClock::time_point>& times, SteadyClock::duration window,
                           int limit, SteadyClock::time_point now);
  bool allow_request();
  bool allow_order();
  BrokerResponse too_many();

  // ----- session (broker_session.cpp) -----------------------------------------------------------
  // The session of the request's tokens, touched; nullptr (and the 401 in `failure`) if none.
  Session* authenticate(const BrokerRequest& r, BrokerResponse& failure);
  BrokerResponse login(const BrokerRequest& r);
  std::optional<std::string> decrypt_password(const std::string& encrypted);
  BrokerResponse encryption_key_response(const BrokerRequest& r);
  BrokerResponse session_details(const Session& session);
  BrokerResponse switch_account(const BrokerRequest& r, Session& session);

  // ----- accounts, funds and P&L (broker_accounts.cpp) ------------------------------------------
  Account* find_account(const std::string& id);
  int leverage_of(const Account& a, InstrumentType type) const;
  // Profit of `size` moved from `from` to `to` (price units) in the account currency.
  double money(std::size_t m, Direction d, double size, int64_t from, int64_t to) const;
  double upl(const Position& p) const;
  double margin(const Account& a, std::size_t m, double size, int64_t level) const;
  Funds funds(const Account& a) const;
  void write_funds(JsonWriter& w, const Account& a);
  BrokerResponse accounts_list();
  BrokerResponse preferences(const Account& a);
  BrokerResponse update_preferences(const BrokerRequest& r, Account& a);
  BrokerResponse top_up(const BrokerRequest& r, Account& a);

  // ----- markets and prices (broker_markets.cpp) ------------------------------------------------
  void write_price(JsonWriter& w, std::string_view name, std::size_t m, int64_t units_value);
  void write_size(JsonWriter& w, std::string_view name, std::size_t m, double size);
  static void write_money(JsonWriter& w, std::string_view name, double money);
  void write_summary(JsonWriter& w, std::size_t m);
  void write_details(JsonWriter& w, std::size_t m);
  std::string quote_frame(std::size_t m);
  BrokerResponse navigation_root();
  BrokerResponse navigation_node(const BrokerRequest& r, const std::string& id);
  BrokerResponse markets_query(const BrokerRequest& r);
  BrokerResponse market_details(const std::string& epic);
  BrokerResponse prices(const BrokerRequest& r, const std::string& epic);
  BrokerResponse client_sentiment(const BrokerRequest& r, const std::string& one);

  // ----- dealing rules and netting (broker_dealing.cpp) -----------------------------------------
  // The start of POST /positions and /workingorders: the order rate limit, then `body` parsed
  // from the request (a JSON object) and its epic, direction and size. An error response or
  // nullopt.
  std::optional<BrokerResponse> read_new_order(const BrokerRequest& r, JsonBody& body,
                                               std::size_t& m, Direction& d, double& size);
  // Reads and checks the optional stop/profit fields against reference price `ref` (price).
  // Returns an error response or nullopt.
  std::optional<BrokerResponse> parse_stop_profit(const JsonBody& body, std::size_t m, Direction d,
                                                  double size, double ref, bool hedging,
                                                  StopProfit& out);
  // Size rules of the market: nullopt when fine, else the rejection reason.
  std::optional<std::string> size_rejection(std::size_t m, double size) const;
  double round_size(std::size_t m, double size) const;
  // A market deal of `size` in direction `d` at the current price: nets against opposite
  // positions first (FIFO) unless hedging, then opens a position with the rest.
  std::vector<Affected> execute_deal(Account& account, std::size_t m, Direction d, double size,
                                     const StopProfit& sp, const std::string& order_id,
                                     std::string& opened_id, double& realised);
  // Closes `size` of position `index` at the market; returns the realised money.
  // Counts a deal unless it is part of a larger one (netting).
  double realise(std::size_t index, double size, const std::string& source, bool count_deal = true);

  // ----- confirms (broker_confirms.cpp) ---------------------------------------------------------
  // The confirm of a new order (POST /positions, /workingorders) on the terms requested; counts
  // the order against its market.
  ConfirmFields new_order_confirm(std::size_t m, Direction d, double size, int64_t level,
                                  const StopProfit& sp, std::string reference, std::string deal_id);
  // Marks `c` rejected for `reason` and records the rejection as an activity of `type`.
  void reject(ConfirmFields& c, std::string reason, std::string_view type);
  // The confirm of an existing position or working order as it now stands.
  ConfirmFields confirm_of(const Position& p, std::string reference);
  ConfirmFields confirm_of(const WorkingOrder& o, std::string reference);
  // An amendment or deletion of an existing deal: stores `c` with status and affected-deal status
  // `change` ("AMENDED", "DELETED"), records the activity, and answers with the reference.
  BrokerResponse confirm_change(ConfirmFields c, std::string_view change,
                                std::string_view activity_type, std::string_view activity_status);
  void store_confirm(const ConfirmFields& c);
  BrokerResponse confirm(const std::string& reference) const;  // GET /confirms/{reference}
  static BrokerResponse deal_reference(const std::string& reference, bool executed);

  // ----- positions (broker_positions.cpp) -------------------------------------------------------
  Position* find_position(const Account& account, const std::string& deal_id);
  void write_position(JsonWriter& w, const Position& p);
  BrokerResponse positions_list(const Account& account);
  BrokerResponse position_one(const Account& account, const std::string& deal_id);
  BrokerResponse open_position(const BrokerRequest& r, Account& account);
  BrokerResponse amend_position(const BrokerRequest& r, Account& account,
                                const std::string& deal_id);
  BrokerResponse close_position(Account& account, const std::string& deal_id);

  // ----- working orders (broker_working_orders.cpp) ---------------------------------------------
  WorkingOrder* find_order(const Account& account, const std::string& deal_id);
  // goodTillDate: absent = GOOD_TILL_CANCELLED; an error response when bad or past.
  std::optional<BrokerResponse> parse_good_till(const JsonBody& body,
                                                std::optional<int64_t>& good_till);
  BrokerResponse working_orders_list(const Account& account);
  BrokerResponse create_working_order(const BrokerRequest& r, Account& account);
  BrokerResponse amend_working_order(const BrokerRequest& r, Account& account,
                                     const std::string& deal_id);
  BrokerResponse delete_working_order(Account& account, const std::string& deal_id);

  // ----- history (broker_history.cpp) -----------------------------------------------------------
  void record(std::size_t m, const std::string& deal_id, std::string_view source,
              std::string_view type, std::string_view status, const std::string& reference,
              double size, Direction d, int64_t level, bool guaranteed);
  // Parses from/to/lastPeriod into [from, to]; an error response when invalid.
  std::optional<BrokerResponse> period(const BrokerRequest& r, int64_t& from, int64_t& to);
  BrokerResponse activity_history(const BrokerRequest& r, const Account&);
  BrokerResponse transaction_history(const BrokerRequest& r);

  // ----- matching and live bars (broker_matching.cpp) -------------------------------------------
  std::vector<StreamTick> tick(const std::set<std::string>& ohlc_keys);
  // Fills working orders the market has crossed, expires GOOD_TILL_DATE ones, and triggers
  // stops, take-profits and trailing stops of market `m`.
  void match(std::size_t m);
  void update_bars(std::size_t m);
  std::string ohlc_frame(std::size_t m, std::size_t r, bool heikin_ashi);

  // ----- WebSocket messages (broker_stream.cpp) -------------------------------------------------
  std::vector<std::string> stream_message(std::string_view text, StreamSubscriptions& subs);
};

}  // namespace qt::sim
