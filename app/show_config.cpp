// show-config's text; see show_config.hpp.
#include "app/show_config.hpp"

#include <sstream>

#include "gateway/capital/client_config.hpp"

namespace qt {

absl::StatusOr<ShownConfig> render_show_config(const ConfigSources& sources) {
  absl::StatusOr<AppConfig> config = load_config(sources);
  if (!config.ok()) return config.status();
  absl::StatusOr<std::string> rendered = render_effective_config(sources);
  if (!rendered.ok()) return rendered.status();
  ShownConfig shown;
  std::ostringstream out;
  out << *rendered;
  // The broker connection comes from the seed's CAPITAL_* variables; show it, masked.
  absl::StatusOr<capital::CapitalClientConfig> capital =
      capital::capital_config_from_env(sources.environment, /*live_flag=*/false);
  out << "\n# Capital.com client, from the environment (CAPITAL_*, API_TIMEOUT, ...):\n";
  if (!capital.ok()) {
    // Every line commented, so the text stays a TOML document that loads.
    out << "# errors:\n";
    std::istringstream lines{std::string(capital.status().message())};
    for (std::string line; std::getline(lines, line);) out << "# " << line << "\n";
    shown.capital_settings_valid = false;
  } else {
    std::istringstream lines(capital::describe_masked(*capital));
    for (std::string line; std::getline(lines, line);) out << "# " << line << "\n";
    if (!capital->has_credentials()) {
      out << "# no credentials: `run` and `check-capital` use the built-in simulator\n";
    }
  }
  shown.text = out.str();
  return shown;
}

}  // namespace qt
