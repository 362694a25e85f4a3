// CapitalConnection: the broker link `quanttrading run` and `check-capital` use — the REST
// client configured from the seed's CAPITAL_* environment and, when no credentials are
// configured, the built-in Capital.com simulator started on loopback with TLS (certificate
// generated at start and trusted through a private CA file), so the same client code runs in
// both cases. Owns the simulator (if any) and the REST client; used by the main thread.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/idle_strategy.hpp"
#include "engine/instrument.hpp"
#include "engine/rings.hpp"
#include "feeds/capital/stream_client.hpp"
#include "gateway/capital/client_config.hpp"
#include "gateway/capital/rest_client.hpp"

namespace qt {

namespace sim {
class CapitalSimulator;
}

struct StreamSample {
  uint64_t quotes = 0;
  PriceUnits last_bid = 0;
  PriceUnits last_ask = 0;
};

class CapitalConnection {
 public:
  // `sim_seed` and `sim_quotes_per_second` set the built-in simulator's prices when it is used.
  static absl::StatusOr<std::unique_ptr<CapitalConnection>> open(
      const std::vector<std::string>& environment, bool live, uint64_t sim_seed = 42,
      double sim_quotes_per_second = 20);
  ~CapitalConnection();

  const capital::CapitalClientConfig& config() const { return config_; }
  capital::CapitalRestClient& rest() { return *rest_; }
  sim::CapitalSimulator* simulator() { return simulator_.get(); }
  bool simulated() const { return simulator_ != nullptr; }
  // "the built-in Capital.com simulator at https://127.0.0.1:PORT" or "https://demo-api-…".
  std::string description() const;

  // A market-data stream for `subscriptions` onto `ring`, on the REST session's tokens
  // (a refused token makes the session log in again). `on_reconnected` (stream thread) runs
  // after each reconnect-and-resubscribe; the venue takes a REST snapshot there. Not started.
  absl::StatusOr<std::unique_ptr<capital::CapitalStreamClient>> make_stream(
      std::vector<capital::EpicInstrument> subscriptions, QuoteRing& ring, Doorbell* doorbell,
      std::function<void()> on_reconnected = {});

  // Streams `epic` for `seconds` on a private ring and reports what arrived (check-capital).
  absl::StatusOr<StreamSample> sample_quotes(const InstrumentSpec& spec, const std::string& epic,
                                             double seconds);

 private:
  CapitalConnection() = default;

  capital::CapitalClientConfig config_;
  std::unique_ptr<sim::CapitalSimulator> simulator_;
  std::string ca_file_to_remove_;
  std::unique_ptr<capital::CapitalRestClient> rest_;
};

}  // namespace qt
