#include "gateway/capital/protocol/instrument_spec.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>

#include "gateway/capital/protocol/decimal.hpp"

namespace qt::capital {
namespace {

constexpr int kMaxDecimals = 12;

absl::Status rule_error(const MarketDetails& d, std::string_view what) {
  return absl::InvalidArgumentError(
      fmt::format("Capital.com market details for {}: {}", d.instrument.epic, what));
}

}  // namespace

absl::StatusOr<InstrumentSpec> instrument_spec_from(const MarketDetails& details, InstrumentId id) {
  const std::string& epic = details.instrument.epic;
  if (epic.empty() || epic.size() >= InstrumentSpec::kSymbolCapacity) {
    return rule_error(details, fmt::format("epic must be 1 to {} characters",
                                           InstrumentSpec::kSymbolCapacity - 1));
  }
  if (!details.snapshot.decimal_places_factor.has_value()) {
    return rule_error(details, "missing snapshot.decimalPlacesFactor (price decimals)");
  }
  const int price_decimals = *details.snapshot.decimal_places_factor;
  if (price_decimals < 0 || price_decimals > kMaxDecimals) {
    return rule_error(details, fmt::format("snapshot.decimalPlacesFactor {} is outside 0..{}",
                                           price_decimals, kMaxDecimals));
  }
  const DealingRules& rules = details.dealing_rules;
  if (!rules.min_deal_size.has_value()) {
    return rule_error(details, "missing dealingRules.minDealSize");
  }
  for (const auto* rule : {&rules.min_deal_size, &rules.min_size_increment, &rules.max_deal_size}) {
    if (rule->has_value() && (*rule)->unit != RuleUnit::kPoints) {
      return rule_error(details, "size rules must be in POINTS, not PERCENTAGE");
    }
  }

  int size_decimals = 0;
  for (const auto* rule : {&rules.min_deal_size, &rules.min_size_increment, &rules.max_deal_size}) {
    if (!rule->has_value()) continue;
    const int places = (*rule)->value.normalized().scale;
    if (places > kMaxDecimals) {
      return rule_error(details, "a size rule value has too many decimals");
    }
    size_decimals = std::max(size_decimals, places);
  }

  InstrumentSpec spec;
  spec.id = id;
  std::memcpy(spec.symbol.data(), epic.data(), epic.size());
  spec.price_decimals = static_cast<int8_t>(price_decimals);
  spec.size_decimals = static_cast<int8_t>(size_decimals);
  spec.tick = 1;
  spec.contract_multiplier = 1;

  auto to_size_units = [&](Decimal value, SizeUnits& out) {
    return value.to_fixed_point(size_decimals, out) == DecimalStatus::kOk;
  };
  if (!to_size_units(rules.min_deal_size->value, spec.min_size) || spec.min_size <= 0) {
    return rule_error(details, "dealingRules.minDealSize must be a positive number");
  }
  spec.size_increment = 1;
  if (rules.min_size_increment.has_value() &&
      (!to_size_units(rules.min_size_increment->value, spec.size_increment) ||
       spec.size_increment <= 0)) {
    return rule_error(details, "dealingRules.minSizeIncrement must be a positive number");
  }
  spec.max_size = 0;
  if (rules.max_deal_size.has_value() &&
      (!to_size_units(rules.max_deal_size->value, spec.max_size) ||
       spec.max_size < spec.min_size)) {
    return rule_error(details, "dealingRules.maxDealSize must be at least minDealSize");
  }
  return spec;
}

}  // namespace qt::capital
