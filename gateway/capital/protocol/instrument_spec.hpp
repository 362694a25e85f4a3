// Market details (GET /markets/{epic}) → the engine's InstrumentSpec.
//
//   price_decimals  = snapshot.decimalPlacesFactor (required; SILVER: 3)
//   tick            = 1 price unit (10^-decimalPlacesFactor): the grid the venue quotes on.
//                     dealingRules.minStepDistance is a stop/limit distance step, not a tick.
//   size_decimals   = the most decimals among minDealSize, minSizeIncrement and maxDealSize
//                     (SILVER minDealSize 0.1 → 1)
//   min_size        = minDealSize (required, unit POINTS)
//   size_increment  = minSizeIncrement when given, else one size unit (10^-size_decimals)
//   max_size        = maxDealSize, 0 (no venue limit) when absent
//   contract_multiplier = 1: Capital.com P&L is size × price move in the quote currency.
// All conversions are exact (the rules are Decimals). The market status is not part of an
// InstrumentSpec (static) — read details.snapshot.market_status / is_tradeable() for it.
#pragma once

#include "absl/status/statusor.h"
#include "engine/instrument.hpp"
#include "gateway/capital/protocol/messages.hpp"

namespace qt::capital {

absl::StatusOr<InstrumentSpec> instrument_spec_from(const MarketDetails& details, InstrumentId id);

}  // namespace qt::capital
