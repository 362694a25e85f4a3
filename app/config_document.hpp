// The configuration as a TOML document between parsing and AppConfig, shared by the three parts
// of app/config: config.cpp (parsing; the file, environment and --set overlays), config_read.cpp
// (validation into AppConfig) and config_render.cpp (show-config's TOML). Internal to those;
// start-up only, allocates freely.
#pragma once

#include <toml++/toml.h>

#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/string_view.h"
#include "app/config.hpp"

namespace qt::config_document {

using Errors = std::vector<std::string>;  // every problem found, each naming its key

inline constexpr std::string_view kMask = "********";

bool is_secret_name(std::string_view name);
bool is_secret_path(std::string_view path);  // true if any dotted component is a secret name
std::string join_path(std::string_view parent, std::string_view key);
std::string format_double(double value);  // the shortest text that reads back the same
std::string in_quotes(std::string_view s);

// Debian's Abseil keeps its own string_view type (ABSL_OPTION_USE_STD_STRING_VIEW is 0).
inline absl::string_view to_absl(std::string_view s) {
  return {s.data(), s.size()};
}
inline std::string_view from_absl(absl::string_view s) {
  return {s.data(), s.size()};
}

// config_read.cpp: the merged document as AppConfig; every invalid value is an error.
AppConfig read_config(const toml::table& doc, Errors& errors);
// config_render.cpp: the document as TOML, secrets masked.
std::string render_masked(toml::table doc);

}  // namespace qt::config_document
