// Specification of dealing rules → InstrumentSpec (protocol/instrument_spec.hpp), with the
// worked numbers: price decimals from decimalPlacesFactor, size scale from the size rules.
#include <gtest/gtest.h>

#include "gateway/capital/protocol.hpp"

namespace qt::capital {
namespace {

using namespace decimal_literals;

// GOLD with every size rule present, as the current API documents it.
MarketDetails gold() {
  MarketDetails d;
  d.instrument.epic = "GOLD";
  d.dealing_rules.min_deal_size = DealingRule{RuleUnit::kPoints, 0.01_dec};
  d.dealing_rules.min_size_increment = DealingRule{RuleUnit::kPoints, 0.01_dec};
  d.dealing_rules.max_deal_size = DealingRule{RuleUnit::kPoints, 1000_dec};
  d.dealing_rules.min_step_distance = DealingRule{RuleUnit::kPoints, 0.1_dec};
  d.snapshot.market_status = MarketStatus::kTradeable;
  d.snapshot.decimal_places_factor = 2;
  return d;
}

std::string message_of(const absl::Status& s) {
  return std::string(s.message());
}

TEST(InstrumentSpecFrom, GoldWithAllSizeRules) {
  auto spec = instrument_spec_from(gold(), 3);
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->id, 3);
  EXPECT_EQ(spec->name(), "GOLD");
  EXPECT_EQ(spec->price_decimals, 2);  // 2300.10 = 230010
  EXPECT_EQ(spec->tick, 1);            // 0.01, not minStepDistance 0.1
  EXPECT_EQ(spec->size_decimals, 2);   // 0.01
  EXPECT_EQ(spec->min_size, 1);        // 0.01
  EXPECT_EQ(spec->size_increment, 1);  // 0.01
  EXPECT_EQ(spec->max_size, 100000);   // 1000.00
}

TEST(InstrumentSpecFrom, IncrementCoarserThanTheMinimumKeepsTheMinimumsScale) {
  MarketDetails d = gold();
  d.dealing_rules.min_deal_size = DealingRule{RuleUnit::kPoints, 0.5_dec};
  d.dealing_rules.min_size_increment = DealingRule{RuleUnit::kPoints, 0.25_dec};
  auto spec = instrument_spec_from(d, 0);
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->size_decimals, 2);
  EXPECT_EQ(spec->min_size, 50);
  EXPECT_EQ(spec->size_increment, 25);
}

TEST(InstrumentSpecFrom, WholeShareSizesHaveNoSizeDecimals) {
  MarketDetails d = gold();
  d.instrument.epic = "AAPL";
  d.dealing_rules.min_deal_size = DealingRule{RuleUnit::kPoints, 1_dec};
  d.dealing_rules.min_size_increment.reset();
  d.dealing_rules.max_deal_size = DealingRule{RuleUnit::kPoints, 5000_dec};
  auto spec = instrument_spec_from(d, 1);
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->size_decimals, 0);
  EXPECT_EQ(spec->min_size, 1);
  EXPECT_EQ(spec->size_increment, 1);
  EXPECT_EQ(spec->max_size, 5000);
}

TEST(InstrumentSpecFrom, MissingDecimalPlacesFactorIsNamed) {
  MarketDetails d = gold();
  d.snapshot.decimal_places_factor.reset();
  auto spec = instrument_spec_from(d, 0);
  EXPECT_EQ(spec.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(message_of(spec.status()),
            "Capital.com market details for GOLD: missing snapshot.decimalPlacesFactor (price "
            "decimals)");
}

TEST(InstrumentSpecFrom, MissingMinDealSizeIsNamed) {
  MarketDetails d = gold();
  d.dealing_rules.min_deal_size.reset();
  EXPECT_EQ(message_of(instrument_spec_from(d, 0).status()),
            "Capital.com market details for GOLD: missing dealingRules.minDealSize");
}

TEST(InstrumentSpecFrom, RejectsPercentageSizesZeroMinimumAndMaxBelowMin) {
  MarketDetails percentage = gold();
  percentage.dealing_rules.min_deal_size = DealingRule{RuleUnit::kPercentage, 1_dec};
  EXPECT_FALSE(instrument_spec_from(percentage, 0).ok());
  MarketDetails zero = gold();
  zero.dealing_rules.min_deal_size = DealingRule{RuleUnit::kPoints, 0_dec};
  EXPECT_FALSE(instrument_spec_from(zero, 0).ok());
  MarketDetails inverted = gold();
  inverted.dealing_rules.max_deal_size = DealingRule{RuleUnit::kPoints, 0.001_dec};
  EXPECT_FALSE(instrument_spec_from(inverted, 0).ok());
}

TEST(InstrumentSpecFrom, RejectsEpicsThatDoNotFitTheSymbolField) {
  MarketDetails d = gold();
  d.instrument.epic = std::string(InstrumentSpec::kSymbolCapacity, 'X');
  EXPECT_FALSE(instrument_spec_from(d, 0).ok());
  d.instrument.epic = std::string(InstrumentSpec::kSymbolCapacity - 1, 'X');
  EXPECT_TRUE(instrument_spec_from(d, 0).ok());
}

TEST(InstrumentSpecFrom, MarketStatusStaysOnTheDetailsNotTheSpec) {
  MarketDetails d = gold();
  d.snapshot.market_status = MarketStatus::kClosed;
  EXPECT_TRUE(instrument_spec_from(d, 0).ok());
  EXPECT_FALSE(is_tradeable(d.snapshot.market_status));
}

}  // namespace
}  // namespace qt::capital
