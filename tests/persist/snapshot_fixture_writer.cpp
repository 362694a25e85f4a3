// Test fixture for tests/cli/snapshot_cli_test.sh: writes snapshots of the state a data
// directory's journal reaches at given sequences, for an engine built from the default
// configuration with the paper venue (the instrument table `journal replay` uses for it).
//
// Usage: snapshot_fixture_writer DATA_DIR SEQUENCE...
// Each SEQUENCE: a fresh engine replays the journal from sequence 1 up to it (no snapshot) and
// its state is written as <DATA_DIR>/snapshots/snapshot-<SEQUENCE>.qts. Exit 0, or 1 with the
// reason on stderr.
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "app/config.hpp"
#include "app/trading_app.hpp"
#include "engine/engine.hpp"
#include "persist/engine_recovery.hpp"
#include "persist/snapshot.hpp"

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s DATA_DIR SEQUENCE...\n", argv[0]);
    return 1;
  }
  qt::ConfigSources sources;
  sources.set_overrides = {"venue.kind=paper"};
  absl::StatusOr<qt::AppConfig> config = qt::load_config(sources);
  if (!config.ok()) {
    std::fprintf(stderr, "%s\n", std::string(config.status().message()).c_str());
    return 1;
  }
  for (int i = 2; i < argc; ++i) {
    const uint64_t sequence = std::strtoull(argv[i], nullptr, 10);
    qt::EngineOptions options;
    options.instruments = qt::instruments_from_config(*config);
    options.risk = qt::risk_limits_from_config(*config, options.instruments);
    auto quotes = std::make_unique<qt::QuoteRing>();
    auto requests = std::make_unique<qt::VenueRequestRing>();
    auto events = std::make_unique<qt::VenueEventRing>();
    const std::vector<qt::InstrumentSpec> instruments = options.instruments;
    qt::Engine engine(std::move(options), *quotes, *requests, *events);
    qt::persist::RecoveryOptions recovery;
    recovery.use_snapshots = false;
    recovery.up_to_sequence = sequence;
    absl::StatusOr<qt::persist::RecoveredState> recovered =
        qt::persist::recover_engine_state(engine, argv[1], instruments, recovery);
    if (!recovered.ok() || recovered->last_sequence != sequence) {
      std::fprintf(
          stderr, "replay to %llu: %s\n", static_cast<unsigned long long>(sequence),
          recovered.ok() ? "journal too short" : std::string(recovered.status().message()).c_str());
      return 1;
    }
    if (absl::Status written =
            qt::persist::write_snapshot(argv[1], engine.capture_state(), instruments);
        !written.ok()) {
      std::fprintf(stderr, "%s\n", std::string(written.message()).c_str());
      return 1;
    }
  }
  return 0;
}
