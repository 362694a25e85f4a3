// Process-wide logging set-up (spdlog): human-readable text, or JSON lines with the message
// escaped, on stderr. Called once by main before any thread starts.
#pragma once

#include <string_view>

#include "absl/status/status.h"

namespace qt {

absl::Status setup_logging(std::string_view level, std::string_view format);

}  // namespace qt
