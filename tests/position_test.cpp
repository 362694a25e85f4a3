// Specification of position keeping (engine/position.hpp), as worked examples.
//
// GOLD: 2 price decimals, 2 size decimals. 2000.00 = 200000 price units, 1.00 = 100 size units.
// Money is in MoneyUnits (10^-6): 1.00 money = 1'000'000.
#include "engine/position.hpp"

#include <gtest/gtest.h>

#include "engine/instrument.hpp"

namespace qt {
namespace {

constexpr MoneyUnits kOneMoney = 1'000'000;

InstrumentSpec gold() {
  return make_instrument(0, "GOLD", 2, 2, 0.01, 0.01, 0.01, 0.0);
}

// EURUSD: 5 price decimals, sizes in whole units of EUR. 1.08500 = 108500 price units.
InstrumentSpec eurusd() {
  return make_instrument(1, "EURUSD", 5, 0, 0.00001, 1, 1, 0.0);
}

TEST(Position, StartsFlatWithNoPnl) {
  const InstrumentSpec spec = gold();
  Position position;
  EXPECT_EQ(position.net_size(), 0);
  EXPECT_EQ(position.average_price(), 0);
  EXPECT_EQ(position.realized_pnl(), 0);
  EXPECT_EQ(position.unrealized_pnl(spec), 0);
  EXPECT_FALSE(position.has_mark());
}

TEST(Position, OpenLong) {
  const InstrumentSpec spec = gold();
  Position position;
  position.apply_fill(spec, Side::kBuy, 200000, 200);  // buy 2.00 @ 2000.00
  EXPECT_EQ(position.net_size(), 200);
  EXPECT_EQ(position.average_price(), 200000);
  EXPECT_EQ(position.realized_pnl(), 0);
  EXPECT_EQ(position.bought_size(), 200);
  EXPECT_EQ(position.sold_size(), 0);
}

TEST(Position, AddingAtAnotherPriceGivesTheSizeWeightedAverage) {
  const InstrumentSpec spec = gold();
  Position position;
  position.apply_fill(spec, Side::kBuy, 200000, 200);  // buy 2.00 @ 2000.00
  position.apply_fill(spec, Side::kBuy, 200300, 100);  // buy 1.00 @ 2003.00
  // (2 * 2000.00 + 1 * 2003.00) / 3 = 2001.00
  EXPECT_EQ(position.net_size(), 300);
  EXPECT_EQ(position.average_price(), 200100);
  EXPECT_EQ(position.realized_pnl(), 0);
}

TEST(Position, AverageRoundsToTheNearestPriceUnit) {
  const InstrumentSpec spec = gold();
  Position position;
  position.apply_fill(spec, Side::kBuy, 200000, 200);  // 2.00 @ 2000.00
  position.apply_fill(spec, Side::kBuy, 200001, 100);  // 1.00 @ 2000.01
  // 6000.01 / 3 = 2000.00333 -> 2000.00
  EXPECT_EQ(position.average_price(), 200000);
  position.apply_fill(spec, Side::kBuy, 200002, 100);  // 1.00 @ 2000.02
  // 8000.03 / 4 = 2000.0075 -> 2000.01
  EXPECT_EQ(position.average_price(), 200001);
}

TEST(Position, PartialReduceRealizesOnTheClosedPartAndKeepsTheAverage) {
  const InstrumentSpec spec = gold();
  Position position;
  position.apply_fill(spec, Side::kBuy, 200000, 200);  // long 3.00 @ avg 2001.00
  position.apply_fill(spec, Side::kBuy, 200300, 100);
  position.apply_fill(spec, Side::kSell, 201000, 100);  // sell 1.00 @ 2010.00
  // Realized: (2010.00 - 2001.00) * 1.00 = 9.00
  EXPECT_EQ(position.realized_pnl(), 9 * kOneMoney);
  EXPECT_EQ(position.net_size(), 200);
  EXPECT_EQ(position.average_price(), 200100);
  EXPECT_EQ(position.sold_size(), 100);
}

TEST(Position, FullCloseRealizesExactlyAndLeavesAverageZero) {
  const InstrumentSpec spec = gold();
  Position position;
  position.apply_fill(spec, Side::kBuy, 200000, 200);  // long 3.00 @ avg 2001.00
  position.apply_fill(spec, Side::kBuy, 200300, 100);
  position.apply_fill(spec, Side::kSell, 201000, 100);  // +9.00 on 1.00
  position.apply_fill(spec, Side::kSell, 199500, 200);  // sell 2.00 @ 1995.00
  // (1995.00 - 2001.00) * 2.00 = -12.00; total 9.00 - 12.00 = -3.00
  EXPECT_EQ(position.realized_pnl(), -3 * kOneMoney);
  EXPECT_EQ(position.net_size(), 0);
  EXPECT_EQ(position.average_price(), 0);
}

TEST(Position, ShortOpenedAndCoveredAtAProfit) {
  const InstrumentSpec spec = gold();
  Position position;
  position.apply_fill(spec, Side::kSell, 200000, 150);  // short 1.50 @ 2000.00
  EXPECT_EQ(position.net_size(), -150);
  EXPECT_EQ(position.average_price(), 200000);
  position.apply_fill(spec, Side::kBuy, 199000, 150);  // cover 1.50 @ 1990.00
  // (2000.00 - 1990.00) * 1.50 = +15.00
  EXPECT_EQ(position.realized_pnl(), 15 * kOneMoney);
  EXPECT_EQ(position.net_size(), 0);
  EXPECT_EQ(position.average_price(), 0);
}

TEST(Position, ShortOpenedAndCoveredAtALoss) {
  const InstrumentSpec spec = gold();
  Position position;
  position.apply_fill(spec, Side::kSell, 200000, 150);  // short 1.50 @ 2000.00
  position.apply_fill(spec, Side::kBuy, 200400, 150);   // cover 1.50 @ 2004.00
  // (2000.00 - 2004.00) * 1.50 = -6.00
  EXPECT_EQ(position.realized_pnl(), -6 * kOneMoney);
  EXPECT_EQ(position.net_size(), 0);
}

TEST(Position, PartialCoverOfAShortRealizesOnTheCoveredPart) {
  const InstrumentSpec spec = gold();
  Position position;
  position.apply_fill(spec, Side::kSell, 200000, 100);  // short 1.00 @ 2000.00
  position.apply_fill(spec, Side::kSell, 201000, 100);  // short 1.00 @ 2010.00 -> avg 2005.00
  EXPECT_EQ(position.average_price(), 200500);
  position.apply_fill(spec, Side::kBuy, 200000, 50);  // cover 0.50 @ 2000.00
  // (2005.00 - 2000.00) * 0.50 = +2.50
  EXPECT_EQ(position.realized_pnl(), 2'500'000);
  EXPECT_EQ(position.net_size(), -150);
  EXPECT_EQ(position.average_price(), 200500);
}

TEST(Position, FlipLongToShortRealizesTheClosedPartAndOpensAtTheFillPrice) {
  const InstrumentSpec spec = gold();
  Position position;
  position.apply_fill(spec, Side::kBuy, 200000, 100);   // long 1.00 @ 2000.00
  position.apply_fill(spec, Side::kSell, 201000, 300);  // sell 3.00 @ 2010.00
  // Closed 1.00: (2010.00 - 2000.00) * 1.00 = +10.00. Opened short 2.00 @ 2010.00.
  EXPECT_EQ(position.realized_pnl(), 10 * kOneMoney);
  EXPECT_EQ(position.net_size(), -200);
  EXPECT_EQ(position.average_price(), 201000);
  // Covering the new short at 2008.00 realizes (2010.00 - 2008.00) * 2.00 = +4.00 more.
  position.apply_fill(spec, Side::kBuy, 200800, 200);
  EXPECT_EQ(position.realized_pnl(), 14 * kOneMoney);
  EXPECT_EQ(position.net_size(), 0);
}

TEST(Position, FlipShortToLongRealizesTheClosedPartAndOpensAtTheFillPrice) {
  const InstrumentSpec spec = gold();
  Position position;
  position.apply_fill(spec, Side::kSell, 200000, 100);  // short 1.00 @ 2000.00
  position.apply_fill(spec, Side::kBuy, 200500, 250);   // buy 2.50 @ 2005.00
  // Closed 1.00: (2000.00 - 2005.00) * 1.00 = -5.00. Opened long 1.50 @ 2005.00.
  EXPECT_EQ(position.realized_pnl(), -5 * kOneMoney);
  EXPECT_EQ(position.net_size(), 150);
  EXPECT_EQ(position.average_price(), 200500);
}

TEST(Position, UnrealizedMarksALongAtTheBid) {
  const InstrumentSpec spec = gold();
  Position position;
  position.apply_fill(spec, Side::kBuy, 200000, 200);  // long 2.00 @ 2000.00
  position.mark(200500, 200600);                       // bid 2005.00, ask 2006.00
  // (2005.00 - 2000.00) * 2.00 = +10.00 (not +12.00 at the ask)
  EXPECT_EQ(position.unrealized_pnl(spec), 10 * kOneMoney);
  EXPECT_EQ(position.total_pnl(spec), 10 * kOneMoney);
}

TEST(Position, UnrealizedMarksAShortAtTheAsk) {
  const InstrumentSpec spec = gold();
  Position position;
  position.apply_fill(spec, Side::kSell, 200000, 200);  // short 2.00 @ 2000.00
  position.mark(199000, 199100);                        // bid 1990.00, ask 1991.00
  // (2000.00 - 1991.00) * 2.00 = +18.00 (not +20.00 at the bid)
  EXPECT_EQ(position.unrealized_pnl(spec), 18 * kOneMoney);
}

TEST(Position, UnrealizedIsZeroWithoutAMark) {
  const InstrumentSpec spec = gold();
  Position position;
  position.apply_fill(spec, Side::kBuy, 200000, 200);
  EXPECT_EQ(position.unrealized_pnl(spec), 0);
}

TEST(Position, UnrealizedIsZeroWhenFlat) {
  const InstrumentSpec spec = gold();
  Position position;
  position.apply_fill(spec, Side::kBuy, 200000, 200);
  position.apply_fill(spec, Side::kSell, 200100, 200);  // +2.00 realized
  position.mark(210000, 210100);
  EXPECT_EQ(position.unrealized_pnl(spec), 0);
  EXPECT_EQ(position.total_pnl(spec), 2 * kOneMoney);
}

TEST(Position, TotalPnlIsRealizedPlusUnrealized) {
  const InstrumentSpec spec = gold();
  Position position;
  position.apply_fill(spec, Side::kBuy, 200000, 300);   // long 3.00 @ 2000.00
  position.apply_fill(spec, Side::kSell, 201000, 100);  // +10.00 realized on 1.00
  position.mark(199000, 199100);                        // long 2.00 marked at bid 1990.00
  // Unrealized (1990.00 - 2000.00) * 2.00 = -20.00; total 10.00 - 20.00 = -10.00
  EXPECT_EQ(position.realized_pnl(), 10 * kOneMoney);
  EXPECT_EQ(position.unrealized_pnl(spec), -20 * kOneMoney);
  EXPECT_EQ(position.total_pnl(spec), -10 * kOneMoney);
}

TEST(Position, ContractMultiplierScalesRealizedAndUnrealized) {
  InstrumentSpec spec = gold();
  spec.contract_multiplier = 100;  // one lot is 100 ounces
  Position position;
  position.apply_fill(spec, Side::kBuy, 200000, 200);   // long 2.00 @ 2000.00
  position.apply_fill(spec, Side::kSell, 200150, 100);  // sell 1.00 @ 2001.50
  // 1.50 * 1.00 * 100 = +150.00
  EXPECT_EQ(position.realized_pnl(), 150 * kOneMoney);
  position.mark(199900, 200000);  // bid 1999.00
  // (1999.00 - 2000.00) * 1.00 * 100 = -100.00
  EXPECT_EQ(position.unrealized_pnl(spec), -100 * kOneMoney);
}

TEST(Position, FivePriceDecimalsEurUsd) {
  const InstrumentSpec spec = eurusd();
  Position position;
  position.apply_fill(spec, Side::kBuy, 108500, 100'000);  // buy 100'000 @ 1.08500
  position.apply_fill(spec, Side::kBuy, 108530, 50'000);   // buy 50'000 @ 1.08530
  // (100'000 * 1.08500 + 50'000 * 1.08530) / 150'000 = 1.08510
  EXPECT_EQ(position.average_price(), 108510);
  position.mark(108600, 108602);  // bid 1.08600
  // (1.08600 - 1.08510) * 150'000 = +135.00
  EXPECT_EQ(position.unrealized_pnl(spec), 135 * kOneMoney);
  position.apply_fill(spec, Side::kSell, 108623, 150'000);  // sell all @ 1.08623
  // (1.08623 - 1.08510) * 150'000 = +169.50
  EXPECT_EQ(position.realized_pnl(), 169'500'000);
  EXPECT_EQ(position.net_size(), 0);
}

TEST(Position, FullCloseAfterThreeAddsRealizesExactlyNotFromTheRoundedAverage) {
  const InstrumentSpec spec = gold();
  Position position;
  position.apply_fill(spec, Side::kBuy, 200001, 100);  // 1.00 @ 2000.01
  position.apply_fill(spec, Side::kBuy, 200002, 100);  // 1.00 @ 2000.02
  position.apply_fill(spec, Side::kBuy, 200002, 100);  // 1.00 @ 2000.02
  // Cost 6000.05; average 2000.01667, shown rounded as 2000.02.
  EXPECT_EQ(position.average_price(), 200002);
  position.apply_fill(spec, Side::kSell, 200100, 300);  // sell 3.00 @ 2001.00
  // Exact: 6003.00 - 6000.05 = +2.95. From the rounded average it would be
  // (2001.00 - 2000.02) * 3 = +2.94.
  EXPECT_EQ(position.realized_pnl(), 2'950'000);
  EXPECT_EQ(position.net_size(), 0);
  EXPECT_EQ(position.average_price(), 0);
}

TEST(Position, PartialClosesAfterThreeAddsSumToTheExactRealized) {
  const InstrumentSpec spec = gold();
  Position position;
  position.apply_fill(spec, Side::kBuy, 200001, 100);  // cost 6000.05 for 3.00, as above
  position.apply_fill(spec, Side::kBuy, 200002, 100);
  position.apply_fill(spec, Side::kBuy, 200002, 100);
  position.apply_fill(spec, Side::kSell, 200100, 100);  // sell 1.00 @ 2001.00
  position.apply_fill(spec, Side::kSell, 200100, 200);  // sell 2.00 @ 2001.00
  // Same total as closing 3.00 at once: +2.95, not a micro-unit lost to the 1/3 split.
  EXPECT_EQ(position.realized_pnl(), 2'950'000);
}

TEST(Position, NonPositiveFillSizeIsIgnored) {
  const InstrumentSpec spec = gold();
  Position position;
  position.apply_fill(spec, Side::kBuy, 200000, 100);
  position.apply_fill(spec, Side::kSell, 210000, 0);
  position.apply_fill(spec, Side::kSell, 210000, -100);
  EXPECT_EQ(position.net_size(), 100);
  EXPECT_EQ(position.realized_pnl(), 0);
  EXPECT_EQ(position.sold_size(), 0);
}

}  // namespace
}  // namespace qt
