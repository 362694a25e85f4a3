// `quanttrading orders resolve`; see orders_command.hpp.
#include "app/orders_command.hpp"

#include <fmt/format.h>
#include <pwd.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstring>
#include <memory>
#include <optional>
#include <ostream>

#include "app/config_flags.hpp"
#include "app/offline_engine.hpp"
#include "engine/clock.hpp"
#include "gateway/capital/protocol/decimal.hpp"
#include "persist/data_dir.hpp"
#include "persist/engine_journal.hpp"
#include "persist/journal.hpp"
#include "persist/journal_reader.hpp"

namespace qt {
namespace {

std::string environment_value(const std::vector<std::string>& environment, std::string_view name) {
  for (const std::string& entry : environment) {
    if (entry.size() > name.size() && entry.compare(0, name.size(), name) == 0 &&
        entry[name.size()] == '=') {
      return entry.substr(name.size() + 1);
    }
  }
  return {};
}

// The person behind the command: through sudo the one who ran sudo, not root.
std::string operator_name(const std::vector<std::string>& environment) {
  for (const char* name : {"SUDO_USER", "USER"}) {
    std::string value = environment_value(environment, name);
    if (!value.empty()) return value;
  }
  passwd entry{};
  passwd* found = nullptr;
  char buffer[1024];
  if (::getpwuid_r(::getuid(), &entry, buffer, sizeof buffer, &found) == 0 && found != nullptr) {
    return found->pw_name;
  }
  return "uid " + std::to_string(::getuid());
}

// PRICE in the instrument's price units, exactly: a price with more decimals than the instrument
// has would be rounded into one the operator did not type.
absl::StatusOr<PriceUnits> price_units(const std::string& text, const InstrumentSpec& spec) {
  capital::Decimal value;
  if (capital::parse_decimal(text, value) != capital::DecimalStatus::kOk) {
    return absl::InvalidArgumentError("--filled " + text + ": not a number");
  }
  int64_t units = 0;
  if (value.to_fixed_point(spec.price_decimals, units) != capital::DecimalStatus::kOk ||
      !(capital::Decimal::from_fixed_point(units, spec.price_decimals) == value)) {
    return absl::InvalidArgumentError(fmt::format("--filled {}: {} prices have {} decimals", text,
                                                  spec.name(), spec.price_decimals));
  }
  if (units <= 0) return absl::InvalidArgumentError("--filled " + text + ": must be above 0");
  return units;
}

const Order* find_order(const EngineState& state, OrderId id) {
  auto it = std::find_if(state.orders.begin(), state.orders.end(),
                         [id](const Order& order) { return order.id == id; });
  return it == state.orders.end() ? nullptr : &*it;
}

std::string position_text(const EngineState& state, const InstrumentSpec& spec,
                          InstrumentId instrument) {
  const Position& p = state.positions[instrument];
  return fmt::format("{} net {:.{}f} avg price {:.{}f}", spec.name(),
                     spec.size_to_double(p.net_size()), spec.size_decimals,
                     spec.price_to_double(p.average_price()), spec.price_decimals);
}

// The one record: the order reconciled by hand, as the engine journals its own settlements.
EngineEvent resolution_event(const Order& order, uint64_t sequence, SizeUnits fill_size,
                             PriceUnits fill_price, std::string_view note) {
  EngineEvent event;
  event.kind = EngineEventKind::kVenueEvent;
  event.sequence = sequence;
  event.timestamp_ns = wall_now_ns();
  event.order_id = order.id;
  event.venue = VenueEvent{};
  event.venue.kind = VenueEventKind::kReconciled;
  event.venue.order_id = order.id;
  event.venue.instrument = order.instrument;
  event.venue.fill_size = fill_size;
  event.venue.fill_price = fill_price;
  event.venue.created_ns = now_ns();
  std::memcpy(event.venue.venue_order_id.data(), note.data(),
              std::min(note.size(), event.venue.venue_order_id.size()));
  return event;
}

absl::Status append_durably(const AppConfig& config, const std::filesystem::path& data_dir,
                            const EngineEvent& event) {
  persist::JournalOptions journal;
  journal.dir = persist::journal_dir(data_dir);
  journal.segment_size = static_cast<uint64_t>(config.segment_size_mib) << 20;
  journal.durability = persist::Durability::kSync;
  absl::StatusOr<std::unique_ptr<persist::JournalWriter>> writer =
      persist::JournalWriter::open(journal, event.sequence);
  if (!writer.ok()) return writer.status();
  if (absl::Status s = (*writer)->append(persist::encode_event(event)); !s.ok()) return s;
  if (absl::Status s = (*writer)->commit(); !s.ok()) return s;
  return (*writer)->close();
}

}  // namespace

CLI::App* add_orders_subcommand(CLI::App& app, OrdersResolveOptions& options) {
  CLI::App* orders = app.add_subcommand("orders", "act on the engine's orders by hand");
  orders->require_subcommand(1);
  CLI::App* resolve = orders->add_subcommand(
      "resolve",
      "settle a live order (e.g. one in doubt) by hand, with the engine stopped: one journaled "
      "reconciled record saying who and how; exit 0 done, 1 refused, 2 journal, 3 unreadable, "
      "4 an engine is running");
  add_config_flags(*resolve, options.config_file, options.sets, options.data_dir);
  resolve->add_option("id", options.order_id, "the engine's order id")->required();
  CLI::Option* filled = resolve->add_option(
      "--filled", options.filled_price,
      "it executed: its remaining size at this price (the instrument's decimals)");
  CLI::Option* not_executed =
      resolve->add_flag("--not-executed", options.not_executed, "it did not execute");
  filled->excludes(not_executed);
  resolve->add_option("--reason", options.reason, "why, for the output and the log");
  resolve->callback([&options] { options.requested = true; });
  return orders;
}

int run_orders_resolve_command(const OrdersResolveOptions& options,
                               const std::vector<std::string>& environment, std::ostream& out,
                               std::ostream& err) {
  if (options.filled_price.empty() == !options.not_executed) {
    err << "orders resolve: say what happened: --filled PRICE or --not-executed\n";
    return kResolveExitUnreadable;
  }
  std::optional<OfflineCommand> opened = open_offline_command(
      options.config_file, options.sets, options.data_dir, environment, "orders resolve", err);
  if (!opened) return kResolveExitUnreadable;
  const AppConfig& config = opened->config;
  OfflineEngine& offline = *opened->offline;
  const std::filesystem::path data_dir = offline.data_dir();
  const std::vector<InstrumentSpec> instruments = offline.instruments();

  // Held to the end: no engine may start, and append behind us, while we write.
  absl::StatusOr<persist::DataDirLock> lock = persist::DataDirLock::acquire(data_dir);
  if (!lock.ok()) {
    absl::StatusOr<std::optional<pid_t>> holder = persist::DataDirLock::holder(data_dir);
    if (absl::IsFailedPrecondition(lock.status()) && holder.ok() && holder->has_value()) {
      err << fmt::format(
          "orders resolve: an engine is running on {} (pid {}): stop it first; a running engine "
          "settles orders itself from the broker's positions\n",
          data_dir.string(), **holder);
      return kResolveExitEngineRunning;
    }
    err << "orders resolve: " << lock.status().message() << '\n';
    return absl::IsFailedPrecondition(lock.status()) ? kResolveExitEngineRunning
                                                     : kResolveExitUnreadable;
  }
  absl::StatusOr<persist::RecoveryResult> repaired =
      persist::recover_journal(persist::journal_dir(data_dir));
  if (!repaired.ok()) {
    err << "orders resolve: the journal cannot be recovered: " << repaired.status().message()
        << '\n';
    return kResolveExitJournalFailed;
  }
  if (repaired->truncated) {
    out << fmt::format("journal: torn tail removed in {} at offset {} ({}), as start-up would\n",
                       repaired->torn_tail.segment.filename().string(), repaired->torn_tail.offset,
                       repaired->torn_tail.reason);
  }
  absl::StatusOr<persist::RecoveredState> recovered = offline.recover({});
  if (!recovered.ok()) {
    err << "orders resolve: the journal cannot be replayed: " << recovered.status().message()
        << '\n';
    return kResolveExitJournalFailed;
  }
  Engine& engine = offline.engine();
  if (engine.journal_sequence() != repaired->last_sequence) {
    err << fmt::format(
        "orders resolve: the replay ended at sequence {} but the journal holds records up to {}\n",
        engine.journal_sequence(), repaired->last_sequence);
    return kResolveExitJournalFailed;
  }
  const EngineState before = engine.capture_state();
  const Order* order = find_order(before, options.order_id);
  if (order == nullptr) {
    err << fmt::format(
        "orders resolve: no order {} in the journal's order store (last order id {})\n",
        options.order_id, before.last_order_id);
    return kResolveExitRefused;
  }
  const InstrumentSpec& spec = instruments[order->instrument];
  if (!order->is_live()) {
    err << fmt::format("orders resolve: {} is {}, not live: nothing to resolve\n",
                       order_text(*order, spec), to_string(order->state));
    return kResolveExitRefused;
  }

  SizeUnits fill_size = 0;
  PriceUnits fill_price = 0;
  if (!options.not_executed) {
    absl::StatusOr<PriceUnits> price = price_units(options.filled_price, spec);
    if (!price.ok()) {
      err << "orders resolve: " << price.status().message() << '\n';
      return kResolveExitUnreadable;
    }
    fill_size = order->leaves();
    fill_price = *price;
  }
  const std::string who = operator_name(environment);
  const std::string how = options.not_executed
                              ? std::string("not executed")
                              : fmt::format("filled {:.{}f} at {}", spec.size_to_double(fill_size),
                                            spec.size_decimals, options.filled_price);
  const std::string note =
      fmt::format("operator {}: {}", who, options.not_executed ? "not executed" : "filled");
  const EngineEvent event =
      resolution_event(*order, before.journal_sequence + 1, fill_size, fill_price, note);
  out << fmt::format("{} was {}; position {}\n", order_text(*order, spec), to_string(order->state),
                     position_text(before, spec, order->instrument));

  // Applied to this replay first: a record the engine would refuse is never written.
  if (absl::Status applied = engine.replay(event); !applied.ok()) {
    err << "orders resolve: the engine refuses the resolution: " << applied.message() << '\n';
    return kResolveExitRefused;
  }
  const Order* applied = find_order(engine.capture_state(), order->id);
  if (applied == nullptr || applied->state != OrderState::kReconciled) {
    err << "orders resolve: the engine does not take the resolution for order " << order->id
        << '\n';
    return kResolveExitRefused;
  }

  if (absl::Status written = append_durably(config, data_dir, event); !written.ok()) {
    err << "orders resolve: writing the journal failed: " << written.message()
        << " (run `quanttrading journal verify`)\n";
    return kResolveExitJournalFailed;
  }
  spdlog::warn("orders resolve: order {} ({}) settled by hand by {}: {}{} (journal sequence {})",
               order->id, spec.name(), who, how,
               options.reason.empty() ? std::string() : "; reason: " + options.reason,
               event.sequence);

  // What the next start-up will see: a fresh replay of what is now on disk.
  absl::StatusOr<std::unique_ptr<OfflineEngine>> check =
      OfflineEngine::create(config, options.data_dir);
  absl::StatusOr<persist::RecoveredState> replayed =
      check.ok() ? (*check)->recover({}) : absl::StatusOr<persist::RecoveredState>(check.status());
  if (!replayed.ok()) {
    err << "orders resolve: the journal does not replay after the write: "
        << replayed.status().message() << " (run `quanttrading journal verify`)\n";
    return kResolveExitJournalFailed;
  }
  const EngineState after = (*check)->engine().capture_state();
  const Order* resolved = find_order(after, order->id);
  if (resolved == nullptr || resolved->state != OrderState::kReconciled ||
      resolved->filled_size != order->filled_size + fill_size) {
    err << "orders resolve: after the write the replayed order is not Reconciled with that fill "
           "(run `quanttrading journal verify`)\n";
    return kResolveExitJournalFailed;
  }
  out << fmt::format("resolved by {}: {}{}\n", who, how,
                     options.reason.empty() ? std::string() : " (reason: " + options.reason + ")");
  out << fmt::format("journal: sequence {} venue_event reconciled, note \"{}\"\n", event.sequence,
                     fixed_text(event.venue.venue_order_id));
  out << fmt::format("{} is now {}; position {}\n", order_text(*resolved, spec),
                     to_string(resolved->state), position_text(after, spec, order->instrument));
  return kResolveExitResolved;
}

}  // namespace qt
