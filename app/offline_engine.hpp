// OfflineEngine: the engine state of a data directory rebuilt away from any running engine — a
// fresh Engine built from the configuration as start-up builds it, then the newest valid
// snapshot and the journal after it replayed into it (persist/engine_recovery.hpp). Shared by
// the operator commands that need the engine's view without running it: `journal replay`,
// `reconcile` and `orders resolve`.
//
// Instruments: the configuration's; with the Capital.com venue, whose dealing rules come from
// the broker at start-up, the table recorded in the newest intact snapshot when there is one of
// the configured length (risk limits come per instrument from the configuration).
//
// Command use only: allocates, blocks on file I/O; single-threaded.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "app/config.hpp"
#include "engine/engine.hpp"
#include "persist/engine_recovery.hpp"

namespace qt {

// The configuration as the operator commands load it: the file, the --set flags, QT_* variables.
absl::StatusOr<AppConfig> load_command_config(const std::string& file,
                                              const std::vector<std::string>& sets,
                                              const std::vector<std::string>& environment);

class OfflineEngine {
 public:
  // A fresh engine for `data_dir` (the --data-dir flag, or persist.data_dir when empty).
  // NotFound when the data directory has no journal directory; InvalidArgument when the
  // configuration's instrument table cannot be built. Nothing is read beyond the snapshots'
  // instrument tables.
  static absl::StatusOr<std::unique_ptr<OfflineEngine>> create(const AppConfig& config,
                                                               const std::string& data_dir);
  ~OfflineEngine();

  // recover_engine_state() into the fresh engine; once per OfflineEngine.
  absl::StatusOr<persist::RecoveredState> recover(const persist::RecoveryOptions& options);

  Engine& engine() { return *engine_; }
  const std::vector<InstrumentSpec>& instruments() const { return instruments_; }
  const std::filesystem::path& data_dir() const { return data_dir_; }
  // Where the instrument table came from, for the output ("the configuration", "the newest
  // snapshot (...)").
  const std::string& table_source() const { return table_source_; }

 private:
  OfflineEngine() = default;

  std::filesystem::path data_dir_;
  std::vector<InstrumentSpec> instruments_;
  std::string table_source_;
  std::unique_ptr<QuoteRing> quotes_;
  std::unique_ptr<VenueRequestRing> requests_;
  std::unique_ptr<VenueEventRing> events_;
  std::unique_ptr<Engine> engine_;
};

// What an offline command starts from: its configuration and the fresh engine for its data
// directory.
struct OfflineCommand {
  AppConfig config;
  std::unique_ptr<OfflineEngine> offline;
};
// Loads the configuration (-c, --set, QT_*) and creates the engine for `data_dir`; on failure
// says why on `err` ("configuration errors:" or "<command>: <reason>") and returns nullopt —
// the caller's "cannot read" exit.
std::optional<OfflineCommand> open_offline_command(const std::string& config_file,
                                                   const std::vector<std::string>& sets,
                                                   const std::string& data_dir,
                                                   const std::vector<std::string>& environment,
                                                   std::string_view command, std::ostream& err);

// "2026-11-25T21:45:24.123Z" for wall-clock nanoseconds (milliseconds shown).
std::string utc_millis_text(int64_t epoch_ns);

// "order 7 EURUSD BUY 1000 limit 1.08000 (filled 0)": one order for the operator's eye.
std::string order_text(const Order& order, const InstrumentSpec& spec);
// The text of a fixed, NUL-padded id or note (venue_order_id).
std::string fixed_text(const std::array<char, VenueEvent::kVenueIdCapacity>& field);

// The orders by state, and each instrument's position, as `journal replay` prints them.
void print_engine_state(const EngineState& state, const std::vector<InstrumentSpec>& instruments,
                        std::ostream& out);

}  // namespace qt
