// The text of `quanttrading show-config`: the effective configuration as TOML (secrets masked by
// render_effective_config) followed by the Capital.com client settings read from the CAPITAL_*
// environment, as comments, masked by describe_masked. Shared by show-config and by backups,
// which store exactly this text so that a backup never holds a secret the screen would not show.
//
// Start-up / command use only; allocates.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "app/config.hpp"

namespace qt {

struct ShownConfig {
  std::string text;
  bool capital_settings_valid = true;  // false: the CAPITAL_* block lists errors instead
};

// Fails (with every configuration error) only when the configuration itself does not load.
absl::StatusOr<ShownConfig> render_show_config(const ConfigSources& sources);

}  // namespace qt
