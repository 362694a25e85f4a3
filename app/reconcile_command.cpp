// `quanttrading reconcile`; see reconcile_command.hpp.
#include "app/reconcile_command.hpp"

#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <set>

#include "app/config_flags.hpp"
#include "app/offline_engine.hpp"
#include "app/trading_app.hpp"
#include "gateway/capital/rest_client.hpp"
#include "persist/data_dir.hpp"
#include "persist/engine_journal.hpp"
#include "persist/journal_reader.hpp"

namespace qt {
namespace {

// The journal's reconciliation records: what the engine (or an operator) settled so far.
struct ReconciliationRecords {
  uint64_t reconciled = 0;
  uint64_t adjusted = 0;
  std::optional<EngineEvent> last;
  absl::Status status;  // the reader's, when it stopped on damage
};

ReconciliationRecords scan_reconciliation_records(const std::filesystem::path& data_dir) {
  ReconciliationRecords found;
  absl::StatusOr<std::unique_ptr<persist::JournalReader>> reader =
      persist::JournalReader::open(persist::journal_dir(data_dir));
  if (!reader.ok()) {
    found.status = reader.status();
    return found;
  }
  persist::RecordView view;
  while ((*reader)->next(view)) {
    if (view.record_type() != persist::RecordType::kVenueEvent) continue;
    absl::StatusOr<EngineEvent> event =
        persist::decode_event(view.sequence, view.timestamp_ns, view.type, view.payload);
    if (!event.ok()) continue;
    const bool reconciled = event->venue.kind == VenueEventKind::kReconciled;
    const bool adjusted = event->venue.kind == VenueEventKind::kPositionAdjusted;
    if (!reconciled && !adjusted) continue;
    found.reconciled += reconciled ? 1 : 0;
    found.adjusted += adjusted ? 1 : 0;
    found.last = *event;
  }
  found.status = (*reader)->status();
  return found;
}

// The broker's books, read once.
struct BrokerBooks {
  capital::PositionsResponse positions;
  capital::WorkingOrdersResponse working;
  std::string description;
};

absl::StatusOr<BrokerBooks> read_broker(const capital::CapitalClientConfig& config) {
  absl::StatusOr<std::unique_ptr<capital::CapitalRestClient>> client =
      capital::CapitalRestClient::create(config);
  if (!client.ok()) return client.status();
  BrokerBooks books;
  absl::StatusOr<capital::SessionCreateResponse> session = (*client)->login();
  if (!session.ok()) {
    return absl::Status(session.status().code(),
                        "login: " + std::string(session.status().message()));
  }
  books.description = fmt::format("{} account {}", config.rest_url(), session->current_account_id);
  absl::StatusOr<capital::PositionsResponse> positions = (*client)->positions();
  if (!positions.ok()) {
    return absl::Status(positions.status().code(),
                        "GET /positions: " + std::string(positions.status().message()));
  }
  books.positions = *std::move(positions);
  absl::StatusOr<capital::WorkingOrdersResponse> working = (*client)->working_orders();
  if (!working.ok()) {
    return absl::Status(working.status().code(),
                        "GET /workingorders: " + std::string(working.status().message()));
  }
  books.working = *std::move(working);
  return books;
}

std::string size_text(const InstrumentSpec& spec, SizeUnits size) {
  return fmt::format("{:.{}f}", spec.size_to_double(size), spec.size_decimals);
}

std::optional<std::size_t> instrument_of(const std::vector<InstrumentSpec>& instruments,
                                         std::string_view epic) {
  for (std::size_t i = 0; i < instruments.size(); ++i) {
    if (instruments[i].name() == epic) return i;
  }
  return std::nullopt;
}

// Names every difference it finds, for the verdict.
class Differences {
 public:
  void add(std::string what) { items_.push_back(std::move(what)); }
  bool any() const { return !items_.empty(); }
  std::string text() const {
    std::string joined;
    for (const std::string& item : items_) joined += (joined.empty() ? "" : "; ") + item;
    return joined;
  }

 private:
  std::vector<std::string> items_;
};

void compare(const EngineState& state, const std::vector<InstrumentSpec>& instruments,
             const BrokerBooks& broker, Differences& differences, std::ostream& out) {
  // The broker's net position per instrument, exact in the instrument's size units.
  std::vector<SizeUnits> broker_net(instruments.size(), 0);
  std::vector<bool> readable(instruments.size(), true);
  for (const capital::PositionItem& item : broker.positions.positions) {
    const std::optional<std::size_t> i = instrument_of(instruments, item.market.epic);
    if (!i) {
      out << fmt::format("{} broker position {} {} (not an instrument of this engine)\n",
                         item.market.epic, to_string(item.position.direction),
                         capital::to_string(item.position.size));
      continue;
    }
    int64_t size = 0;
    if (item.position.size.to_fixed_point(instruments[*i].size_decimals, size) !=
            capital::DecimalStatus::kOk ||
        !(capital::Decimal::from_fixed_point(size, instruments[*i].size_decimals) ==
          item.position.size)) {
      readable[*i] = false;  // more digits than the instrument has: no exact comparison
      continue;
    }
    broker_net[*i] += item.position.direction == Side::kBuy ? size : -size;
  }
  std::set<std::string> listed;
  for (const capital::WorkingOrderItem& item : broker.working.working_orders) {
    listed.insert(item.working_order_data.deal_id);
  }

  for (std::size_t i = 0; i < instruments.size(); ++i) {
    const InstrumentSpec& spec = instruments[i];
    const SizeUnits engine_net = i < state.positions.size() ? state.positions[i].net_size() : 0;
    if (!readable[i]) {
      out << fmt::format("{} engine {} broker UNREADABLE (a size with more decimals than {})\n",
                         spec.name(), size_text(spec, engine_net), spec.size_decimals);
      differences.add(fmt::format("{} broker position unreadable", spec.name()));
    } else if (engine_net == broker_net[i]) {
      out << fmt::format("{} engine {} broker {} equal\n", spec.name(), size_text(spec, engine_net),
                         size_text(spec, broker_net[i]));
    } else {
      out << fmt::format("{} engine {} broker {} DIFFERS by {} (broker - engine)\n", spec.name(),
                         size_text(spec, engine_net), size_text(spec, broker_net[i]),
                         size_text(spec, broker_net[i] - engine_net));
      differences.add(fmt::format("{} position differs by {}", spec.name(),
                                  size_text(spec, broker_net[i] - engine_net)));
    }
    for (const capital::WorkingOrderItem& item : broker.working.working_orders) {
      const capital::WorkingOrderData& w = item.working_order_data;
      if (w.epic != spec.name()) continue;
      const Order* known = nullptr;
      for (const Order& order : state.orders) {
        if (order.is_live() && !order.venue_id_is_reference &&
            fixed_text(order.venue_order_id) == w.deal_id) {
          known = &order;
        }
      }
      const std::string line =
          fmt::format("  working at the broker: {} {} {} at {}", w.deal_id, to_string(w.direction),
                      capital::to_string(w.order_size), capital::to_string(w.order_level));
      if (known != nullptr) {
        out << fmt::format("{}: {} ({})\n", line, order_text(*known, spec),
                           to_string(known->state));
      } else {
        out << line << ": ORPHAN (no live order of the engine has this id)\n";
        differences.add(fmt::format("{} orphan working order {}", spec.name(), w.deal_id));
      }
    }
    for (const Order& order : state.orders) {
      if (order.instrument != i || !order.is_live()) continue;
      const std::string venue_id = fixed_text(order.venue_order_id);
      if (order.type == OrderType::kLimit && !venue_id.empty() && !order.venue_id_is_reference &&
          !listed.contains(venue_id)) {
        out << fmt::format("  engine {} ({}) venue id {}: MISSING at the broker\n",
                           order_text(order, spec), to_string(order.state), venue_id);
        differences.add(fmt::format("{} order {} missing at the broker", spec.name(), order.id));
      }
      if (order.state == OrderState::kUnknown) {
        out << fmt::format("  engine {} UNKNOWN (in doubt), sent {}{}\n", order_text(order, spec),
                           utc_millis_text(order.created_epoch_ms * 1'000'000),
                           venue_id.empty()              ? std::string()
                           : order.venue_id_is_reference ? " as request " + venue_id
                                                         : " venue id " + venue_id);
        differences.add(fmt::format("{} order {} Unknown", spec.name(), order.id));
      }
    }
  }
  for (const capital::WorkingOrderItem& item : broker.working.working_orders) {
    const capital::WorkingOrderData& w = item.working_order_data;
    if (instrument_of(instruments, w.epic)) continue;
    out << fmt::format(
        "{} working at the broker: {} {} {} at {} (not an instrument of this "
        "engine)\n",
        w.epic, w.deal_id, to_string(w.direction), capital::to_string(w.order_size),
        capital::to_string(w.order_level));
  }
}

void print_records(const ReconciliationRecords& records,
                   const std::vector<InstrumentSpec>& instruments, std::ostream& out) {
  out << fmt::format("reconciliation records in the journal: {} reconciled, {} position_adjusted\n",
                     records.reconciled, records.adjusted);
  if (records.last.has_value()) {
    const EngineEvent& last = *records.last;
    const VenueEvent& venue = last.venue;
    const std::string_view symbol =
        venue.instrument < instruments.size() ? instruments[venue.instrument].name() : "?";
    out << fmt::format("  last: sequence {} at {}: {} {} \"{}\"\n", last.sequence,
                       utc_millis_text(last.timestamp_ns),
                       venue.kind == VenueEventKind::kReconciled
                           ? fmt::format("order {} reconciled", venue.order_id)
                           : std::string("position adjusted"),
                       symbol, fixed_text(venue.venue_order_id));
  }
  if (!records.status.ok()) {
    out << "  (the scan stopped early: " << records.status.message() << ")\n";
  }
}

}  // namespace

CLI::App* add_reconcile_subcommand(CLI::App& app, ReconcileOptions& options) {
  CLI::App* command = app.add_subcommand(
      "reconcile",
      "compare the engine's books (journal replayed offline) with the broker's positions and "
      "working orders; exit 0 equal, 1 a difference, 3 unreadable, 4 broker unreachable, 5 no "
      "broker");
  add_config_flags(*command, options.config_file, options.sets, options.data_dir);
  command->add_flag("--live", options.live, "the live environment (or CAPITAL_ENV=live)");
  command->callback([&options] { options.requested = true; });
  return command;
}

int run_reconcile_command(const ReconcileOptions& options,
                          const std::vector<std::string>& environment, std::ostream& out,
                          std::ostream& err) {
  std::optional<OfflineCommand> opened = open_offline_command(
      options.config_file, options.sets, options.data_dir, environment, "reconcile", err);
  if (!opened) return kReconcileExitUnreadable;
  const AppConfig& config = opened->config;
  OfflineEngine& offline = *opened->offline;
  // Read-only, beside a running engine: a torn tail is where that engine is writing.
  persist::RecoveryOptions recovery;
  recovery.stop_at_torn_tail = true;
  absl::StatusOr<persist::RecoveredState> recovered = offline.recover(recovery);
  if (!recovered.ok()) {
    err << "reconcile: the journal cannot be replayed: " << recovered.status().message() << '\n';
    return kReconcileExitUnreadable;
  }
  const std::filesystem::path& data_dir = offline.data_dir();
  const std::vector<InstrumentSpec>& instruments = offline.instruments();
  out << fmt::format(
      "engine: {} replayed through sequence {}{}\n", data_dir.string(), recovered->last_sequence,
      recovered->stopped_at.empty() ? std::string()
                                    : " (stopped at a " + recovered->stopped_at + ")");

  if (config.venue_kind != "capital") {
    err << "reconcile: venue.kind is \"" << config.venue_kind
        << "\": there is no broker to compare with\n";
    return kReconcileExitNoBroker;
  }
  absl::StatusOr<capital::CapitalClientConfig> broker_config =
      capital::capital_config_from_env(broker_environment(config, environment), options.live);
  if (!broker_config.ok()) {
    err << "reconcile: broker settings: " << broker_config.status().message() << '\n';
    return kReconcileExitUnreadable;
  }
  if (!broker_config->has_credentials()) {
    err << "reconcile: no Capital.com credentials (CAPITAL_API_KEY, CAPITAL_IDENTIFIER, "
           "CAPITAL_PASSWORD): there is no external broker to compare with. Without them "
           "`quanttrading run` trades against its built-in simulator, whose books live and end "
           "inside that process.\n";
    return kReconcileExitNoBroker;
  }
  absl::StatusOr<BrokerBooks> broker = read_broker(*broker_config);
  if (!broker.ok()) {
    err << "reconcile: cannot read the broker's books at " << broker_config->rest_url() << ": "
        << broker.status().message() << '\n';
    return kReconcileExitBrokerUnreachable;
  }
  out << "broker: " << broker->description << '\n';

  Differences differences;
  const EngineState state = offline.engine().capture_state();
  compare(state, instruments, *broker, differences, out);
  print_records(scan_reconciliation_records(data_dir), instruments, out);

  absl::StatusOr<std::optional<pid_t>> holder = persist::DataDirLock::holder(data_dir);
  const std::string running =
      holder.ok() && holder->has_value()
          ? fmt::format("an engine is running on {} (pid {})", data_dir.string(), **holder)
          : std::string("if an engine is running");
  out << fmt::format(
      "note: {}: orders in flight can show as a difference that passes once they are answered "
      "(the engine settles lasting ones itself); run this again\n",
      running);
  if (differences.any()) {
    out << "verdict: DIFFERENCE: " << differences.text() << '\n';
    return kReconcileExitDifference;
  }
  out << "verdict: books equal\n";
  return kReconcileExitEqual;
}

}  // namespace qt
