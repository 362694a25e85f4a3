#include "sim/sim_options.hpp"

#include <fmt/format.h>

#include <cstdlib>
#include <vector>

#include "absl/strings/str_split.h"

namespace qt::sim {

namespace {

std::optional<double> number(const std::string& text) {
  if (text.empty()) return std::nullopt;
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (*end != '\0' || v < 0) return std::nullopt;
  return v;
}

}  // namespace

std::optional<LatencyDistribution> LatencyDistribution::parse(const std::string& text) {
  const std::vector<std::string> parts = absl::StrSplit(text, ':');
  LatencyDistribution d;
  if (parts.size() == 1 || (parts.size() == 2 && parts[0] == "fixed")) {
    const std::optional<double> ms = number(parts.back());
    if (!ms) return std::nullopt;
    d.kind = *ms > 0 ? Kind::kFixed : Kind::kNone;
    d.a_ms = *ms;
    return d;
  }
  if (parts.size() != 3) return std::nullopt;
  const std::optional<double> a = number(parts[1]);
  const std::optional<double> b = number(parts[2]);
  if (!a || !b) return std::nullopt;
  d.a_ms = *a;
  d.b_ms = *b;
  if (parts[0] == "uniform" && *a <= *b) {
    d.kind = Kind::kUniform;
  } else if (parts[0] == "lognormal" && *a > 0) {
    d.kind = Kind::kLognormal;
  } else {
    return std::nullopt;
  }
  return d;
}

std::string LatencyDistribution::to_string() const {
  switch (kind) {
    case Kind::kNone: return "none";
    case Kind::kFixed: return fmt::format("fixed:{}", a_ms);
    case Kind::kUniform: return fmt::format("uniform:{}:{}", a_ms, b_ms);
    case Kind::kLognormal: return fmt::format("lognormal:{}:{}", a_ms, b_ms);
  }
  return "none";
}

SimOptions SimOptions::embedded() {
  SimOptions o;
  o.bind_address = "127.0.0.1";
  o.port = 0;
  o.tls = TlsMode::kGenerated;
  o.always_open = true;
  return o;
}

}  // namespace qt::sim
