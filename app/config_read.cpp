// Reading the merged configuration document into AppConfig, validating every value as it goes.
#include <algorithm>
#include <cmath>
#include <initializer_list>
#include <limits>
#include <map>

#include "absl/strings/str_join.h"
#include "app/config_document.hpp"

namespace qt::config_document {
namespace {

constexpr std::size_t kMaxSymbolLength = 31;  // InstrumentSpec::kSymbolCapacity - 1
constexpr int kMaxDecimals = 9;

// One table of the document, with the dotted path used in messages.
class Section {
 public:
  Section(const toml::table* table, std::string path, Errors& errors)
      : table_(table), path_(std::move(path)), errors_(&errors) {}

  const std::string& path() const { return path_; }
  std::string key_path(std::string_view key) const { return join_path(path_, key); }
  Errors& errors() const { return *errors_; }

  Section sub(std::string_view key) const {
    const toml::table* child = nullptr;
    if (table_ != nullptr) {
      child = table_->get_as<toml::table>(key);
      if (child == nullptr) internal_missing(key, "table");
    }
    return Section(child, key_path(key), *errors_);
  }

  std::string str(std::string_view key) const {
    if (const auto* v = get(key, "string")) {
      if (const auto* s = v->as_string()) return s->get();
      internal_missing(key, "string");
    }
    return {};
  }

  bool boolean(std::string_view key) const {
    if (const auto* v = get(key, "boolean")) {
      if (const auto* b = v->as_boolean()) return b->get();
      internal_missing(key, "boolean");
    }
    return false;
  }

  // Floats accept integers; non-finite values are rejected here for every key.
  double number(std::string_view key) const {
    if (const auto* v = get(key, "float")) {
      double value = 0;
      if (const auto* f = v->as_floating_point()) {
        value = f->get();
      } else if (const auto* i = v->as_integer()) {
        value = static_cast<double>(i->get());
      } else {
        internal_missing(key, "float");
        return 0;
      }
      if (!std::isfinite(value)) {
        errors_->push_back(key_path(key) + ": must be a finite number; got " +
                           format_double(value));
        return 0;
      }
      return value;
    }
    return 0;
  }

  int64_t integer(std::string_view key) const {
    if (const auto* v = get(key, "integer")) {
      if (const auto* i = v->as_integer()) return i->get();
      internal_missing(key, "integer");
    }
    return 0;
  }

  // An integer that must lie in [lo, hi] (and fit an int).
  int int_in(std::string_view key, int64_t lo, int64_t hi) const {
    const int64_t value = integer(key);
    if (value < lo || value > hi) {
      std::string message = key_path(key) + ": must be ";
      if (hi == std::numeric_limits<int>::max()) {
        message += lo == 1 ? "> 0" : ">= " + std::to_string(lo);
      } else {
        message += "between " + std::to_string(lo) + " and " + std::to_string(hi);
      }
      errors_->push_back(message + "; got " + std::to_string(value));
      return static_cast<int>(std::clamp<int64_t>(value, lo, hi));
    }
    return static_cast<int>(value);
  }

  double positive(std::string_view key) const {
    const double value = number(key);
    if (!(value > 0)) {
      errors_->push_back(key_path(key) + ": must be > 0; got " + format_double(value));
    }
    return value;
  }

  double non_negative(std::string_view key) const {
    const double value = number(key);
    if (!(value >= 0)) {
      errors_->push_back(key_path(key) + ": must be >= 0; got " + format_double(value));
    }
    return value;
  }

  // A string that must be one of `choices`.
  std::string choice(std::string_view key, std::initializer_list<std::string_view> choices) const {
    std::string value = str(key);
    if (table_ == nullptr) return value;
    for (std::string_view c : choices) {
      if (value == c) return value;
    }
    std::string message = key_path(key) + ": must be one of ";
    bool first = true;
    for (std::string_view c : choices) {
      if (!first) message += ", ";
      message += c;
      first = false;
    }
    message += "; got " + (is_secret_path(key_path(key)) ? std::string(kMask) : in_quotes(value));
    errors_->push_back(std::move(message));
    return value;
  }

 private:
  const toml::node* get(std::string_view key, std::string_view expected) const {
    if (table_ == nullptr) return nullptr;  // the missing table was already reported
    const toml::node* node = table_->get(key);
    if (node == nullptr) internal_missing(key, expected);
    return node;
  }

  void internal_missing(std::string_view key, std::string_view expected) const {
    errors_->push_back(key_path(key) + ": missing or not a " + std::string(expected) +
                       " (internal: the embedded default lacks it)");
  }

  const toml::table* table_;
  std::string path_;
  Errors* errors_;
};

ThreadingMode threading_from(std::string_view s) {
  if (s == "shared") return ThreadingMode::kShared;
  if (s == "dedicated") return ThreadingMode::kDedicated;
  return ThreadingMode::kAuto;
}

WaitMode wait_from(std::string_view s) {
  if (s == "spin") return WaitMode::kSpin;
  if (s == "yield") return WaitMode::kYield;
  return WaitMode::kPark;
}

ThreadConfig read_thread(const Section& threads, std::string_view name) {
  const Section s = threads.sub(name);
  ThreadConfig t;
  t.cpu = s.int_in("cpu", -1, std::numeric_limits<int>::max());
  t.wait = wait_from(s.choice("wait", {"spin", "yield", "park"}));
  const double spin_us = s.non_negative("spin_us");
  if (spin_us > 1e6) {
    s.errors().push_back(s.key_path("spin_us") + ": at most 1000000 (1 s); got " +
                         format_double(spin_us));
  }
  t.spin_ns = static_cast<int64_t>(std::llround(std::min(spin_us, 1e6) * 1e3));
  return t;
}

// `value` (> 0) must be a whole number of 10^-decimals units.
void check_on_grid(const Section& s, std::string_view key, double value, int decimals,
                   std::string_view decimals_key) {
  if (!(value > 0) || decimals < 0 || decimals > kMaxDecimals) return;
  const double scaled = value * std::pow(10.0, decimals);
  const double rounded = std::round(scaled);
  if (rounded < 1 || std::fabs(scaled - rounded) > 1e-6 * std::max(1.0, std::fabs(scaled))) {
    s.errors().push_back(s.key_path(key) + ": " + format_double(value) +
                         " is not a whole multiple of " +
                         (decimals == 0 ? std::string("1") : "1e-" + std::to_string(decimals)) +
                         " (" + std::string(decimals_key) + " = " + std::to_string(decimals) + ")");
  }
}

InstrumentConfig read_instrument(const Section& s) {
  InstrumentConfig c;
  c.symbol = s.str("symbol");
  if (c.symbol.empty()) {
    s.errors().push_back(s.key_path("symbol") + ": must not be empty");
  } else if (c.symbol.size() > kMaxSymbolLength) {
    s.errors().push_back(s.key_path("symbol") + ": must be at most " +
                         std::to_string(kMaxSymbolLength) + " characters; got " +
                         in_quotes(c.symbol));
  }
  c.price_decimals = s.int_in("price_decimals", 0, kMaxDecimals);
  c.size_decimals = s.int_in("size_decimals", 0, kMaxDecimals);
  c.tick = s.positive("tick");
  c.min_size = s.positive("min_size");
  c.size_increment = s.positive("size_increment");
  c.max_size = s.non_negative("max_size");
  c.contract_multiplier = s.positive("contract_multiplier");
  c.max_order_size = s.positive("max_order_size");
  c.max_position = s.positive("max_position");
  c.initial_price = s.positive("initial_price");
  c.spread = s.non_negative("spread");
  c.volatility_bps = s.non_negative("volatility_bps");

  check_on_grid(s, "tick", c.tick, c.price_decimals, "price_decimals");
  check_on_grid(s, "min_size", c.min_size, c.size_decimals, "size_decimals");
  check_on_grid(s, "size_increment", c.size_increment, c.size_decimals, "size_decimals");
  check_on_grid(s, "max_size", c.max_size, c.size_decimals, "size_decimals");
  if (c.max_size > 0 && c.min_size > c.max_size) {
    s.errors().push_back(s.key_path("min_size") + ": must not exceed max_size (" +
                         format_double(c.min_size) + " > " + format_double(c.max_size) + ")");
  }
  return c;
}

StrategyConfig read_strategy(const Section& s) {
  StrategyConfig c;
  c.type = s.choice("type", {"ma_crossover", "quoter"});
  c.instrument = s.str("instrument");
  c.size = s.positive("size");
  const int max_int = std::numeric_limits<int>::max();
  c.fast_window = s.int_in("fast_window", 1, max_int);
  c.slow_window = s.int_in("slow_window", 1, max_int);
  if (c.fast_window >= c.slow_window) {
    s.errors().push_back(s.key_path("fast_window") + ": must be < slow_window; got " +
                         std::to_string(c.fast_window) + " >= " + std::to_string(c.slow_window));
  }
  c.quote_offset_bps = s.positive("quote_offset_bps");
  c.max_position = s.positive("max_position");
  c.timer_ms = s.int_in("timer_ms", 1, max_int);
  return c;
}

}  // namespace

AppConfig read_config(const toml::table& doc, Errors& errors) {
  AppConfig c;
  const Section root(&doc, "", errors);
  const int max_int = std::numeric_limits<int>::max();

  c.threading =
      threading_from(root.sub("engine").choice("threading", {"auto", "shared", "dedicated"}));

  const Section threads = root.sub("threads");
  c.engine_thread = read_thread(threads, "engine");
  c.feed_thread = read_thread(threads, "feed");
  c.venue_thread = read_thread(threads, "venue");

  const Section risk = root.sub("risk");
  c.max_order_notional = risk.positive("max_order_notional");
  c.price_collar_bps = risk.positive("price_collar_bps");
  c.max_orders_per_second = risk.int_in("max_orders_per_second", 1, max_int);
  c.trading_state = risk.choice("trading_state", {"active", "reducing", "halted"});

  const Section venue = root.sub("venue");
  c.venue_kind = venue.choice("kind", {"capital", "paper"});
  // Not less than 5 s: the broker's activity history can lag a deal by seconds, and a shorter
  // wait would read that lag as "never executed".
  c.unknown_resolution_ms = venue.int_in("unknown_resolution_ms", 5'000, 3'600'000);
  // At least one poll apart, at most a minute: a drift found later than that is found too late.
  c.reconcile_interval_ms = venue.int_in("reconcile_interval_ms", 500, 60'000);
  c.reconcile_grace_ms = venue.int_in("reconcile_grace_ms", 1'000, 600'000);
  c.orphan_working_orders = venue.choice("orphan_working_orders", {"adopt", "cancel", "leave"});

  const Section feed = root.sub("feed");
  const int64_t seed = feed.integer("seed");
  if (seed < 0)
    errors.push_back(feed.key_path("seed") + ": must be >= 0; got " + std::to_string(seed));
  c.feed_seed = static_cast<uint64_t>(std::max<int64_t>(seed, 0));
  c.quotes_per_second = feed.int_in("quotes_per_second", 1, max_int);

  const Section run = root.sub("run");
  c.status_interval_seconds = run.positive("status_interval_seconds");
  c.cancel_on_shutdown = run.boolean("cancel_on_shutdown");

  const Section persist = root.sub("persist");
  c.data_dir = persist.str("data_dir");
  if (c.data_dir.empty()) errors.push_back(persist.key_path("data_dir") + ": must not be empty");
  c.segment_size_mib = persist.int_in("segment_size_mib", 1, 4096);
  c.durability = persist.choice("durability", {"async", "group", "sync"});
  c.group_commit_us = persist.int_in("group_commit_us", 0, 1'000'000);
  c.group_commit_records = persist.int_in("group_commit_records", 1, 16384);
  c.snapshot_interval_seconds = persist.positive("snapshot_interval_seconds");
  c.snapshot_keep = persist.int_in("snapshot_keep", 1, 1000);
  c.segment_retention_hours = persist.non_negative("segment_retention_hours");
  c.archive_segments = persist.boolean("archive_segments");

  const Section load = root.sub("load");
  c.load_orders_per_second = load.non_negative("orders_per_second");
  c.load_ack_log = load.str("ack_log");

  const Section log = root.sub("log");
  c.log_level = log.choice("level", {"trace", "debug", "info", "warn", "error"});
  c.log_format = log.choice("format", {"text", "json"});

  const Section capital = root.sub("capital");
  c.capital_api_key = capital.str("api_key");
  c.capital_identifier = capital.str("identifier");
  c.capital_password = capital.str("password");

  std::map<std::string, std::size_t, std::less<>> instrument_index;
  if (const toml::array* instruments = doc.get_as<toml::array>("instruments")) {
    for (std::size_t i = 0; i < instruments->size(); ++i) {
      const Section s(instruments->get_as<toml::table>(i),
                      join_path("instruments", std::to_string(i)), errors);
      InstrumentConfig instrument = read_instrument(s);
      if (!instrument.symbol.empty()) {
        const auto [it, inserted] = instrument_index.emplace(instrument.symbol, i);
        if (!inserted) {
          errors.push_back(s.key_path("symbol") + ": duplicate symbol " +
                           in_quotes(instrument.symbol) + " (also instruments." +
                           std::to_string(it->second) + ")");
        }
      }
      c.instruments.push_back(std::move(instrument));
    }
  }
  if (c.instruments.empty()) errors.push_back("instruments: at least one instrument is required");

  if (const toml::array* strategies = doc.get_as<toml::array>("strategies")) {
    for (std::size_t i = 0; i < strategies->size(); ++i) {
      const Section s(strategies->get_as<toml::table>(i),
                      join_path("strategies", std::to_string(i)), errors);
      StrategyConfig strategy = read_strategy(s);
      const auto it = instrument_index.find(strategy.instrument);
      if (it == instrument_index.end()) {
        std::vector<std::string> known;
        for (const InstrumentConfig& instrument : c.instruments) known.push_back(instrument.symbol);
        errors.push_back(s.key_path("instrument") + ": unknown instrument " +
                         in_quotes(strategy.instrument) +
                         " (configured: " + absl::StrJoin(known, ", ") + ")");
      } else if (const InstrumentConfig& instrument = c.instruments[it->second];
                 strategy.size > 0 && strategy.size < instrument.min_size) {
        errors.push_back(s.key_path("size") + ": " + format_double(strategy.size) + " is below " +
                         instrument.symbol + "'s min_size " + format_double(instrument.min_size));
      }
      c.strategies.push_back(std::move(strategy));
    }
  }
  return c;
}

}  // namespace qt::config_document
