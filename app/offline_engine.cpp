// OfflineEngine; see offline_engine.hpp.
#include "app/offline_engine.hpp"

#include <fmt/format.h>
#include <string.h>
#include <time.h>

#include <array>
#include <optional>
#include <ostream>

#include "app/trading_app.hpp"
#include "persist/data_dir.hpp"
#include "persist/snapshot.hpp"

namespace qt {
namespace {

TradingState trading_state_of(const std::string& text) {
  if (text == "reducing") return TradingState::kReducing;
  if (text == "halted") return TradingState::kHalted;
  return TradingState::kActive;
}

// The instrument table of the newest snapshot that decodes, if any.
std::optional<std::vector<InstrumentSpec>> newest_snapshot_table(
    const std::filesystem::path& data_dir) {
  absl::StatusOr<std::vector<persist::SnapshotFile>> files = persist::list_snapshots(data_dir);
  if (!files.ok()) return std::nullopt;
  for (auto it = files->rbegin(); it != files->rend(); ++it) {
    absl::StatusOr<persist::DecodedSnapshot> decoded = persist::decode_snapshot_file(it->path);
    if (decoded.ok()) return decoded->info.instruments;
  }
  return std::nullopt;
}

}  // namespace

absl::StatusOr<AppConfig> load_command_config(const std::string& file,
                                              const std::vector<std::string>& sets,
                                              const std::vector<std::string>& environment) {
  ConfigSources sources;
  sources.file_path = file;
  sources.set_overrides = sets;
  sources.environment = environment;
  return load_config(sources);
}

absl::StatusOr<std::unique_ptr<OfflineEngine>> OfflineEngine::create(const AppConfig& config,
                                                                     const std::string& data_dir) {
  std::unique_ptr<OfflineEngine> offline(new OfflineEngine());
  offline->data_dir_ = std::filesystem::path(data_dir.empty() ? config.data_dir : data_dir);
  if (!std::filesystem::is_directory(persist::journal_dir(offline->data_dir_))) {
    return absl::NotFoundError("no journal directory " +
                               persist::journal_dir(offline->data_dir_).string());
  }
  EngineOptions engine_options;
  offline->table_source_ = "the configuration";
  engine_options.instruments = instruments_from_config(config);
  if (config.venue_kind == "capital") {
    std::optional<std::vector<InstrumentSpec>> table = newest_snapshot_table(offline->data_dir_);
    // Risk limits come per instrument from the configuration: only a table of the same length
    // (the broker's rules for the configured instruments) can stand in for it.
    if (table.has_value() && table->size() == config.instruments.size()) {
      engine_options.instruments = std::move(*table);
      offline->table_source_ = "the newest snapshot (the broker's dealing rules when it was taken)";
    } else {
      offline->table_source_ = "the configuration (no snapshot records the broker's dealing rules)";
    }
  }
  if (engine_options.instruments.size() > kMaxInstruments) {
    return absl::InvalidArgumentError("more than " + std::to_string(kMaxInstruments) +
                                      " instruments");
  }
  engine_options.risk = risk_limits_from_config(config, engine_options.instruments);
  engine_options.initial_trading_state = trading_state_of(config.trading_state);
  engine_options.cancel_on_shutdown = config.cancel_on_shutdown;
  offline->instruments_ = engine_options.instruments;
  offline->quotes_ = std::make_unique<QuoteRing>();
  offline->requests_ = std::make_unique<VenueRequestRing>();
  offline->events_ = std::make_unique<VenueEventRing>();
  offline->engine_ = std::make_unique<Engine>(std::move(engine_options), *offline->quotes_,
                                              *offline->requests_, *offline->events_);
  return offline;
}

OfflineEngine::~OfflineEngine() = default;

absl::StatusOr<persist::RecoveredState> OfflineEngine::recover(
    const persist::RecoveryOptions& options) {
  return persist::recover_engine_state(*engine_, data_dir_, instruments_, options);
}

std::optional<OfflineCommand> open_offline_command(const std::string& config_file,
                                                   const std::vector<std::string>& sets,
                                                   const std::string& data_dir,
                                                   const std::vector<std::string>& environment,
                                                   std::string_view command, std::ostream& err) {
  absl::StatusOr<AppConfig> config = load_command_config(config_file, sets, environment);
  if (!config.ok()) {
    err << "configuration errors:\n" << config.status().message() << '\n';
    return std::nullopt;
  }
  absl::StatusOr<std::unique_ptr<OfflineEngine>> offline = OfflineEngine::create(*config, data_dir);
  if (!offline.ok()) {
    err << command << ": " << offline.status().message() << '\n';
    return std::nullopt;
  }
  return OfflineCommand{*std::move(config), *std::move(offline)};
}

std::string utc_millis_text(int64_t epoch_ns) {
  const time_t seconds = static_cast<time_t>(epoch_ns / 1'000'000'000);
  tm parts{};
  ::gmtime_r(&seconds, &parts);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", parts.tm_year + 1900,
                     parts.tm_mon + 1, parts.tm_mday, parts.tm_hour, parts.tm_min, parts.tm_sec,
                     epoch_ns % 1'000'000'000 / 1'000'000);
}

std::string order_text(const Order& order, const InstrumentSpec& spec) {
  std::string text =
      fmt::format("order {} {} {} {:.{}f}", order.id, spec.name(), to_string(order.side),
                  spec.size_to_double(order.size), spec.size_decimals);
  text += order.type == OrderType::kLimit
              ? fmt::format(" limit {:.{}f}", spec.price_to_double(order.limit_price),
                            spec.price_decimals)
              : std::string(" market");
  text +=
      fmt::format(" (filled {:.{}f})", spec.size_to_double(order.filled_size), spec.size_decimals);
  return text;
}

std::string fixed_text(const std::array<char, VenueEvent::kVenueIdCapacity>& field) {
  return std::string(field.data(), ::strnlen(field.data(), field.size()));
}

void print_engine_state(const EngineState& state, const std::vector<InstrumentSpec>& instruments,
                        std::ostream& out) {
  std::array<uint64_t, kOrderStateCount> by_state{};
  uint64_t live = 0;
  for (const Order& order : state.orders) {
    ++by_state[static_cast<std::size_t>(order.state)];
    live += order.is_live() ? 1 : 0;
  }
  out << fmt::format("orders: {} in the store ({} live), last order id {}\n", state.orders.size(),
                     live, state.last_order_id);
  for (std::size_t s = 0; s < kOrderStateCount; ++s) {
    if (by_state[s] == 0) continue;
    out << fmt::format("  {:<16} {}\n", to_string(static_cast<OrderState>(s)), by_state[s]);
  }
  out << "positions:\n";
  for (std::size_t i = 0; i < instruments.size() && i < state.positions.size(); ++i) {
    const InstrumentSpec& spec = instruments[i];
    const Position& p = state.positions[i];
    out << fmt::format(
        "  {:<10} net {:.{}f}  avg price {:.{}f}  realized {:.2f}  bought {:.{}f}  sold {:.{}f}  "
        "open buy {:.{}f}  open sell {:.{}f}\n",
        spec.name(), spec.size_to_double(p.net_size()), spec.size_decimals,
        spec.price_to_double(p.average_price()), spec.price_decimals,
        spec.money_to_double(p.realized_pnl()), spec.size_to_double(p.bought_size()),
        spec.size_decimals, spec.size_to_double(p.sold_size()), spec.size_decimals,
        spec.size_to_double(state.open_buy_size[i]), spec.size_decimals,
        spec.size_to_double(state.open_sell_size[i]), spec.size_decimals);
  }
  out << fmt::format("trading state: {}, kill switch: {}\n", to_string(state.trading_state),
                     state.kill_switch ? "engaged" : "off");
}

}  // namespace qt
