// Specification of pre-trade risk (engine/risk.hpp): each check with an order just inside the
// limit that passes and one just outside that fails with the exact RejectReason, then the order
// in which the checks are applied.
//
// Instrument: GOLD, 2 price decimals, 2 size decimals, tick 0.05, min size 0.10, size
// increment 0.05, venue max size 50.00. So 2000.00 = 200000 price units, 1.00 = 100 size units.
// Money is in MoneyUnits (10^-6): 2000.00 money = 2'000'000'000.
#include "engine/risk.hpp"

#include <gtest/gtest.h>

#include <memory>

#include "engine/instrument.hpp"

namespace qt {
namespace {

constexpr InstrumentId kGold = 0;
constexpr SourceId kSource = 1;
constexpr SourceId kOtherSource = 2;
constexpr int64_t kSecond = 1'000'000'000;

const InstrumentSpec& gold() {
  static const InstrumentSpec spec =
      make_instrument(kGold, "GOLD", 2, 2, /*tick=*/0.05, /*min_size=*/0.10,
                      /*size_increment=*/0.05, /*max_size=*/50.00);
  return spec;
}

// Bid 1999.95, ask 2000.05: mid 2000.00.
Quote gold_quote() {
  Quote quote;
  quote.instrument = kGold;
  quote.bid = 199995;
  quote.ask = 200005;
  quote.bid_size = 1000;
  quote.ask_size = 1000;
  return quote;
}

NewOrder market(Side side, SizeUnits size) {
  NewOrder order;
  order.client_order_id = ClientOrderId::from("C1");
  order.source = kSource;
  order.instrument = kGold;
  order.side = side;
  order.type = OrderType::kMarket;
  order.size = size;
  return order;
}

NewOrder limit(Side side, SizeUnits size, PriceUnits price) {
  NewOrder order = market(side, size);
  order.type = OrderType::kLimit;
  order.limit_price = price;
  return order;
}

NewOrder buy_limit(SizeUnits size, PriceUnits price) {
  return limit(Side::kBuy, size, price);
}
NewOrder sell_limit(SizeUnits size, PriceUnits price) {
  return limit(Side::kSell, size, price);
}

// Each test owns its quote and context; `context.last_quote` points at `quote`.
class RiskTest : public ::testing::Test {
 protected:
  RiskTest() {
    context.spec = &gold();
    context.last_quote = &quote;
  }

  // RiskCheck carries ~20 kB of token buckets: keep it off the stack.
  RiskCheck& risk_with(const RiskLimits& limits) {
    risk = std::make_unique<RiskCheck>(limits);
    return *risk;
  }
  RejectReason check(const NewOrder& order) { return risk->check_new_order(order, context); }

  Quote quote = gold_quote();
  RiskContext context;
  RiskLimits limits;  // all zero: every optional check disabled
  std::unique_ptr<RiskCheck> risk = std::make_unique<RiskCheck>(limits);
};

// ---------------------------------------------------------------------------------------------
// Baseline.
// ---------------------------------------------------------------------------------------------

TEST_F(RiskTest, PlainOrderWithNoLimitsConfiguredPasses) {
  EXPECT_EQ(check(market(Side::kBuy, 100)), RejectReason::kNone);
  EXPECT_EQ(check(buy_limit(100, 200000)), RejectReason::kNone);
}

// ---------------------------------------------------------------------------------------------
// Kill switch and trading state.
// ---------------------------------------------------------------------------------------------

TEST_F(RiskTest, KillSwitchRejectsEveryOrder) {
  risk->engage_kill_switch();
  EXPECT_TRUE(risk->kill_switch_engaged());
  EXPECT_EQ(check(market(Side::kBuy, 100)), RejectReason::kKillSwitch);
  EXPECT_EQ(check(market(Side::kSell, 100)), RejectReason::kKillSwitch);
}

TEST_F(RiskTest, ResettingTheKillSwitchLetsOrdersThroughAgain) {
  risk->engage_kill_switch();
  risk->reset_kill_switch();
  EXPECT_EQ(check(market(Side::kBuy, 100)), RejectReason::kNone);
}

TEST_F(RiskTest, HaltedRejectsEveryOrder) {
  risk->set_trading_state(TradingState::kHalted);
  EXPECT_EQ(check(market(Side::kBuy, 100)), RejectReason::kTradingHalted);
  context.net_position = 300;  // even one that would reduce a position
  EXPECT_EQ(check(market(Side::kSell, 100)), RejectReason::kTradingHalted);
}

TEST_F(RiskTest, ActiveAfterHaltedLetsOrdersThroughAgain) {
  risk->set_trading_state(TradingState::kHalted);
  risk->set_trading_state(TradingState::kActive);
  EXPECT_EQ(check(market(Side::kBuy, 100)), RejectReason::kNone);
}

// ---------------------------------------------------------------------------------------------
// Instrument, size and price validity.
// ---------------------------------------------------------------------------------------------

TEST_F(RiskTest, UnknownInstrumentIsRejected) {
  context.spec = nullptr;
  EXPECT_EQ(check(market(Side::kBuy, 100)), RejectReason::kUnknownInstrument);
}

TEST_F(RiskTest, ZeroSizeIsInvalid) {
  EXPECT_EQ(check(market(Side::kBuy, 0)), RejectReason::kInvalidSize);
}

TEST_F(RiskTest, NegativeSizeIsInvalid) {
  EXPECT_EQ(check(market(Side::kBuy, -100)), RejectReason::kInvalidSize);
}

TEST_F(RiskTest, SizeAtTheMinimumPassesAndOneIncrementBelowFails) {
  // Min 0.10 = 10 units; 0.05 = 5 units is on the increment but below the minimum.
  EXPECT_EQ(check(market(Side::kBuy, 10)), RejectReason::kNone);
  EXPECT_EQ(check(market(Side::kBuy, 5)), RejectReason::kInvalidSize);
}

TEST_F(RiskTest, SizeOffTheIncrementIsInvalid) {
  // Increment 0.05: 0.15 passes, 0.16 and 0.14 do not.
  EXPECT_EQ(check(market(Side::kBuy, 15)), RejectReason::kNone);
  EXPECT_EQ(check(market(Side::kBuy, 16)), RejectReason::kInvalidSize);
  EXPECT_EQ(check(market(Side::kBuy, 14)), RejectReason::kInvalidSize);
}

TEST_F(RiskTest, SizeAtTheVenueMaximumPassesAndOneIncrementAboveFails) {
  // Venue max 50.00 = 5000 units.
  EXPECT_EQ(check(market(Side::kBuy, 5000)), RejectReason::kNone);
  EXPECT_EQ(check(market(Side::kBuy, 5005)), RejectReason::kInvalidSize);
}

TEST_F(RiskTest, LimitPriceOfZeroIsInvalid) {
  EXPECT_EQ(check(buy_limit(100, 0)), RejectReason::kInvalidPrice);
}

TEST_F(RiskTest, NegativeLimitPriceIsInvalid) {
  EXPECT_EQ(check(buy_limit(100, -200000)), RejectReason::kInvalidPrice);
}

TEST_F(RiskTest, LimitPriceOnTheTickPassesAndOffTheTickFails) {
  // Tick 0.05: 2000.05 passes, 2000.03 does not.
  EXPECT_EQ(check(buy_limit(100, 200005)), RejectReason::kNone);
  EXPECT_EQ(check(buy_limit(100, 200003)), RejectReason::kInvalidPrice);
}

TEST_F(RiskTest, MarketOrderPriceIsIgnored) {
  NewOrder order = market(Side::kBuy, 100);
  order.limit_price = 3;  // off the tick, but a market order has no price
  EXPECT_EQ(check(order), RejectReason::kNone);
}

TEST_F(RiskTest, DuplicateClientOrderIdIsRejected) {
  context.duplicate_client_order_id = true;
  EXPECT_EQ(check(market(Side::kBuy, 100)), RejectReason::kDuplicateClientOrderId);
}

// ---------------------------------------------------------------------------------------------
// Rate throttle: a token bucket of max_orders_per_second per source, starting full.
// ---------------------------------------------------------------------------------------------

TEST_F(RiskTest, RateThrottleAllowsNOrdersInASecondAndRejectsTheNextOne) {
  limits.max_orders_per_second = 5;
  risk_with(limits);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(check(market(Side::kBuy, 100)), RejectReason::kNone) << "order " << i + 1;
  }
  EXPECT_EQ(check(market(Side::kBuy, 100)), RejectReason::kRateThrottle);
}

TEST_F(RiskTest, RateThrottleIsPerSource) {
  limits.max_orders_per_second = 5;
  risk_with(limits);
  for (int i = 0; i < 5; ++i) ASSERT_EQ(check(market(Side::kBuy, 100)), RejectReason::kNone);
  ASSERT_EQ(check(market(Side::kBuy, 100)), RejectReason::kRateThrottle);

  NewOrder other = market(Side::kBuy, 100);
  other.source = kOtherSource;
  for (int i = 0; i < 5; ++i) EXPECT_EQ(check(other), RejectReason::kNone) << "order " << i + 1;
  EXPECT_EQ(check(other), RejectReason::kRateThrottle);
}

TEST_F(RiskTest, RateThrottleRefillsOneTokenPerOneNthOfASecond) {
  limits.max_orders_per_second = 5;  // one token every 200 ms
  risk_with(limits);
  context.now_ns = 0;
  for (int i = 0; i < 5; ++i) ASSERT_EQ(check(market(Side::kBuy, 100)), RejectReason::kNone);

  context.now_ns = 199'999'999;  // 1 ns short of a whole token
  EXPECT_EQ(check(market(Side::kBuy, 100)), RejectReason::kRateThrottle);
  context.now_ns = 200'000'000;
  EXPECT_EQ(check(market(Side::kBuy, 100)), RejectReason::kNone);
  EXPECT_EQ(check(market(Side::kBuy, 100)), RejectReason::kRateThrottle);
}

TEST_F(RiskTest, RateThrottleBucketNeverHoldsMoreThanNTokens) {
  limits.max_orders_per_second = 5;
  risk_with(limits);
  for (int i = 0; i < 2; ++i) ASSERT_EQ(check(market(Side::kBuy, 100)), RejectReason::kNone);

  // 3 tokens left, then a 10 s pause: the bucket refills to 5, not to 3 + 50.
  context.now_ns = 10 * kSecond;
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(check(market(Side::kBuy, 100)), RejectReason::kNone) << "order " << i + 1;
  }
  EXPECT_EQ(check(market(Side::kBuy, 100)), RejectReason::kRateThrottle);
}

TEST_F(RiskTest, OrdersRejectedBeforeTheThrottleDoNotConsumeTokens) {
  limits.max_orders_per_second = 1;
  risk_with(limits);
  EXPECT_EQ(check(market(Side::kBuy, 0)), RejectReason::kInvalidSize);  // invalid, no token used
  EXPECT_EQ(check(market(Side::kBuy, 100)), RejectReason::kNone);
  EXPECT_EQ(check(market(Side::kBuy, 100)), RejectReason::kRateThrottle);
}

// ---------------------------------------------------------------------------------------------
// Max order size (per instrument).
// ---------------------------------------------------------------------------------------------

TEST_F(RiskTest, OrderAtMaxOrderSizePassesAndOneIncrementAboveFails) {
  limits.instruments[kGold].max_order_size = 100;  // 1.00
  risk_with(limits);
  EXPECT_EQ(check(market(Side::kBuy, 100)), RejectReason::kNone);
  EXPECT_EQ(check(market(Side::kBuy, 105)), RejectReason::kMaxOrderSize);
}

// ---------------------------------------------------------------------------------------------
// Max order notional: limit price for limit orders, the touch for market orders.
// ---------------------------------------------------------------------------------------------

TEST_F(RiskTest, MarketBuyNotionalUsesTheAsk) {
  // 1.00 @ ask 2000.05 = 2000.05 money.
  limits.max_order_notional = 2'000'050'000;
  risk_with(limits);
  EXPECT_EQ(check(market(Side::kBuy, 100)), RejectReason::kNone);

  limits.max_order_notional = 2'000'049'999;
  risk_with(limits);
  EXPECT_EQ(check(market(Side::kBuy, 100)), RejectReason::kMaxOrderNotional);
}

TEST_F(RiskTest, MarketSellNotionalUsesTheBid) {
  // 1.00 @ bid 1999.95 = 1999.95 money: passes a 1999.95 limit that a buy (at the ask) fails.
  limits.max_order_notional = 1'999'950'000;
  risk_with(limits);
  EXPECT_EQ(check(market(Side::kSell, 100)), RejectReason::kNone);
  EXPECT_EQ(check(market(Side::kBuy, 100)), RejectReason::kMaxOrderNotional);

  limits.max_order_notional = 1'999'949'999;
  risk_with(limits);
  EXPECT_EQ(check(market(Side::kSell, 100)), RejectReason::kMaxOrderNotional);
}

TEST_F(RiskTest, LimitOrderNotionalUsesTheLimitPrice) {
  // 2.00 @ 1000.00 = 2000.00 money, whatever the quote.
  limits.max_order_notional = 2'000'000'000;
  risk_with(limits);
  EXPECT_EQ(check(buy_limit(200, 100000)), RejectReason::kNone);
  EXPECT_EQ(check(sell_limit(200, 100000)), RejectReason::kNone);
  // 2.00 @ 1000.05 = 2000.10 money.
  EXPECT_EQ(check(buy_limit(200, 100005)), RejectReason::kMaxOrderNotional);
  EXPECT_EQ(check(sell_limit(200, 100005)), RejectReason::kMaxOrderNotional);
}

TEST_F(RiskTest, LimitOrderNotionalNeedsNoQuote) {
  limits.max_order_notional = 2'000'000'000;
  risk_with(limits);
  context.last_quote = nullptr;
  EXPECT_EQ(check(buy_limit(100, 200000)), RejectReason::kNone);
}

TEST_F(RiskTest, MarketOrderNotionalWithoutAQuoteIsNoMarketData) {
  limits.max_order_notional = 2'000'000'000;
  risk_with(limits);
  context.last_quote = nullptr;
  EXPECT_EQ(check(market(Side::kBuy, 100)), RejectReason::kNoMarketData);
  EXPECT_EQ(check(market(Side::kSell, 100)), RejectReason::kNoMarketData);
}

TEST_F(RiskTest, MarketBuyNotionalWithAnEmptyAskIsNoMarketData) {
  limits.max_order_notional = 2'000'000'000;
  risk_with(limits);
  quote.ask = 0;
  EXPECT_EQ(check(market(Side::kBuy, 100)), RejectReason::kNoMarketData);
  EXPECT_EQ(check(market(Side::kSell, 100)), RejectReason::kNone);  // the bid is still there
}

TEST_F(RiskTest, NotionalIncludesTheContractMultiplier) {
  InstrumentSpec spec = gold();
  spec.contract_multiplier = 100;  // 1.00 @ 2000.00 is worth 200'000.00 money
  context.spec = &spec;
  limits.max_order_notional = 200'000'000'000;
  risk_with(limits);
  EXPECT_EQ(check(buy_limit(100, 200000)), RejectReason::kNone);
  EXPECT_EQ(check(buy_limit(100, 200005)), RejectReason::kMaxOrderNotional);
}

// ---------------------------------------------------------------------------------------------
// Price collar: |limit - mid| / mid <= collar_bps / 10'000, limit orders only.
// Mid 2000.00, collar 50 bps = 0.5 % = 10.00: the band is [1990.00, 2010.00].
// ---------------------------------------------------------------------------------------------

class PriceCollarTest : public RiskTest {
 protected:
  PriceCollarTest() {
    limits.price_collar_bps = 50;
    risk_with(limits);
  }
};

TEST_F(PriceCollarTest, BuyAtTheUpperEdgePassesAndOneTickAboveFails) {
  EXPECT_EQ(check(buy_limit(100, 201000)), RejectReason::kNone);
  EXPECT_EQ(check(buy_limit(100, 201005)), RejectReason::kPriceCollar);
}

TEST_F(PriceCollarTest, BuyAtTheLowerEdgePassesAndOneTickBelowFails) {
  EXPECT_EQ(check(buy_limit(100, 199000)), RejectReason::kNone);
  EXPECT_EQ(check(buy_limit(100, 198995)), RejectReason::kPriceCollar);
}

TEST_F(PriceCollarTest, SellAtTheUpperEdgePassesAndOneTickAboveFails) {
  EXPECT_EQ(check(sell_limit(100, 201000)), RejectReason::kNone);
  EXPECT_EQ(check(sell_limit(100, 201005)), RejectReason::kPriceCollar);
}

TEST_F(PriceCollarTest, SellAtTheLowerEdgePassesAndOneTickBelowFails) {
  EXPECT_EQ(check(sell_limit(100, 199000)), RejectReason::kNone);
  EXPECT_EQ(check(sell_limit(100, 198995)), RejectReason::kPriceCollar);
}

TEST_F(PriceCollarTest, MarketOrdersAreNotCollared) {
  context.last_quote = nullptr;
  EXPECT_EQ(check(market(Side::kBuy, 100)), RejectReason::kNone);
}

TEST_F(PriceCollarTest, LimitOrderWithoutAQuoteIsNoMarketData) {
  context.last_quote = nullptr;
  EXPECT_EQ(check(buy_limit(100, 200000)), RejectReason::kNoMarketData);
}

TEST_F(PriceCollarTest, LimitOrderWithAOneSidedQuoteIsNoMarketData) {
  quote.bid = 0;
  EXPECT_EQ(check(buy_limit(100, 200000)), RejectReason::kNoMarketData);
  quote = gold_quote();
  quote.ask = 0;
  EXPECT_EQ(check(sell_limit(100, 200000)), RejectReason::kNoMarketData);
}

// ---------------------------------------------------------------------------------------------
// Max position: |position + same-side open orders + this order| <= max_position.
// Max 5.00 = 500 units.
// ---------------------------------------------------------------------------------------------

class MaxPositionTest : public RiskTest {
 protected:
  MaxPositionTest() {
    limits.instruments[kGold].max_position = 500;
    risk_with(limits);
  }
};

TEST_F(MaxPositionTest, BuyCountsPositionAndOpenBuysAndPassesExactlyAtTheLimit) {
  context.net_position = 300;   // long 3.00
  context.open_buy_size = 100;  // 1.00 more may still fill
  // 3.00 + 1.00 + 1.00 = 5.00: at the limit.
  EXPECT_EQ(check(market(Side::kBuy, 100)), RejectReason::kNone);
  // 3.00 + 1.00 + 1.05 = 5.05: over.
  EXPECT_EQ(check(market(Side::kBuy, 105)), RejectReason::kMaxPosition);
}

TEST_F(MaxPositionTest, SellCountsPositionAndOpenSellsAndPassesExactlyAtTheLimit) {
  context.net_position = -300;  // short 3.00
  context.open_sell_size = 100;
  // -3.00 - 1.00 - 1.00 = -5.00: at the limit.
  EXPECT_EQ(check(market(Side::kSell, 100)), RejectReason::kNone);
  // -3.00 - 1.00 - 1.05 = -5.05: over.
  EXPECT_EQ(check(market(Side::kSell, 105)), RejectReason::kMaxPosition);
}

TEST_F(MaxPositionTest, OpenOrdersOnTheOtherSideDoNotCount) {
  context.net_position = 300;
  context.open_sell_size = 10'000;  // might never fill: no credit taken
  EXPECT_EQ(check(market(Side::kBuy, 200)), RejectReason::kNone);         // 3.00 + 2.00 = 5.00
  EXPECT_EQ(check(market(Side::kBuy, 205)), RejectReason::kMaxPosition);  // 5.05
}

TEST_F(MaxPositionTest, SellThatFlipsLongToShortIsMeasuredOnTheShortSide) {
  context.net_position = 300;
  // 3.00 - 8.00 = -5.00: at the limit; 3.00 - 8.05 = -5.05: over.
  EXPECT_EQ(check(market(Side::kSell, 800)), RejectReason::kNone);
  EXPECT_EQ(check(market(Side::kSell, 805)), RejectReason::kMaxPosition);
}

// ---------------------------------------------------------------------------------------------
// REDUCING: only orders that shrink |position|, even if every same-side open order fills first.
// ---------------------------------------------------------------------------------------------

class ReducingTest : public RiskTest {
 protected:
  ReducingTest() { risk->set_trading_state(TradingState::kReducing); }
};

TEST_F(ReducingTest, SellThatReducesALongPasses) {
  context.net_position = 300;  // long 3.00; selling 1.00 leaves 2.00
  EXPECT_EQ(check(market(Side::kSell, 100)), RejectReason::kNone);
}

TEST_F(ReducingTest, SellThatClosesALongExactlyToFlatPasses) {
  context.net_position = 300;
  EXPECT_EQ(check(market(Side::kSell, 300)), RejectReason::kNone);
}

TEST_F(ReducingTest, BuyThatReducesAShortPasses) {
  context.net_position = -300;
  EXPECT_EQ(check(market(Side::kBuy, 300)), RejectReason::kNone);
}

TEST_F(ReducingTest, OrderThatGrowsALongFails) {
  context.net_position = 300;
  EXPECT_EQ(check(market(Side::kBuy, 10)), RejectReason::kReducingOnly);
}

TEST_F(ReducingTest, OrderThatGrowsAShortFails) {
  context.net_position = -300;
  EXPECT_EQ(check(market(Side::kSell, 10)), RejectReason::kReducingOnly);
}

TEST_F(ReducingTest, SellThatWouldFlipALongThroughZeroFails) {
  context.net_position = 300;  // 3.00 - 3.05 = -0.05
  EXPECT_EQ(check(market(Side::kSell, 305)), RejectReason::kReducingOnly);
}

TEST_F(ReducingTest, BuyThatWouldFlipAShortThroughZeroFails) {
  context.net_position = -300;  // -3.00 + 3.05 = +0.05
  EXPECT_EQ(check(market(Side::kBuy, 305)), RejectReason::kReducingOnly);
}

TEST_F(ReducingTest, AnyOrderWhenFlatFails) {
  context.net_position = 0;
  EXPECT_EQ(check(market(Side::kBuy, 100)), RejectReason::kReducingOnly);
  EXPECT_EQ(check(market(Side::kSell, 100)), RejectReason::kReducingOnly);
}

TEST_F(ReducingTest, SameSideOpenOrdersCountTowardsTheFlip) {
  context.net_position = 300;
  context.open_sell_size = 200;  // 2.00 already working
  // 3.00 - 2.00 - 1.00 = 0: passes; 3.00 - 2.00 - 1.05 = -0.05: would flip.
  EXPECT_EQ(check(market(Side::kSell, 100)), RejectReason::kNone);
  EXPECT_EQ(check(market(Side::kSell, 105)), RejectReason::kReducingOnly);
}

TEST_F(ReducingTest, ActiveAgainAllowsGrowingOrders) {
  context.net_position = 300;
  risk->set_trading_state(TradingState::kActive);
  EXPECT_EQ(check(market(Side::kBuy, 100)), RejectReason::kNone);
}

// ---------------------------------------------------------------------------------------------
// Check order: with every check failing, the reported reason is the first in the documented
// order; fixing that fault reveals the next one.
// ---------------------------------------------------------------------------------------------

TEST_F(RiskTest, KillSwitchWinsOverEveryOtherFault) {
  limits.max_orders_per_second = 1;
  limits.max_order_notional = 1;
  limits.price_collar_bps = 1;
  limits.instruments[kGold].max_order_size = 5;
  limits.instruments[kGold].max_position = 5;
  risk_with(limits);
  risk->engage_kill_switch();
  risk->set_trading_state(TradingState::kHalted);
  context.spec = nullptr;
  context.duplicate_client_order_id = true;
  EXPECT_EQ(check(buy_limit(-1, -1)), RejectReason::kKillSwitch);
}

TEST_F(RiskTest, ChecksRunInTheDocumentedOrder) {
  limits.max_orders_per_second = 1;
  limits.max_order_notional = 1'000'000'000;       // 1000.00 money
  limits.price_collar_bps = 50;                    // [1990.00, 2010.00] around mid 2000.00
  limits.instruments[kGold].max_order_size = 100;  // 1.00
  limits.instruments[kGold].max_position = 50;     // 0.50
  risk_with(limits);

  // Short 1.00: buying 0.50 @ 2000.00 is the order that finally passes everything.
  context.net_position = -100;
  ASSERT_EQ(check(buy_limit(50, 200000)), RejectReason::kNone);  // takes this second's token

  // Now break everything at once.
  risk->engage_kill_switch();
  risk->set_trading_state(TradingState::kHalted);
  context.spec = nullptr;
  context.duplicate_client_order_id = true;
  context.net_position = 100;                // long: a buy grows it
  NewOrder order = buy_limit(5005, 210003);  // above venue max; off tick; far off mid

  EXPECT_EQ(check(order), RejectReason::kKillSwitch);
  risk->reset_kill_switch();
  EXPECT_EQ(check(order), RejectReason::kTradingHalted);
  risk->set_trading_state(TradingState::kReducing);
  EXPECT_EQ(check(order), RejectReason::kUnknownInstrument);
  context.spec = &gold();
  EXPECT_EQ(check(order), RejectReason::kInvalidSize);
  order.size = 200;  // 2.00: valid for the venue, above max order size
  EXPECT_EQ(check(order), RejectReason::kInvalidPrice);
  order.limit_price = 210000;  // 2100.00: on the tick
  EXPECT_EQ(check(order), RejectReason::kDuplicateClientOrderId);
  context.duplicate_client_order_id = false;
  EXPECT_EQ(check(order), RejectReason::kRateThrottle);
  context.now_ns += kSecond;
  EXPECT_EQ(check(order), RejectReason::kMaxOrderSize);
  order.size = 100;  // 1.00 @ 2100.00 = 2100.00 money
  context.now_ns += kSecond;
  EXPECT_EQ(check(order), RejectReason::kMaxOrderNotional);
  order.size = 40;  // 0.40 @ 2100.00 = 840.00 money
  context.now_ns += kSecond;
  EXPECT_EQ(check(order), RejectReason::kPriceCollar);  // 2100.00 is 500 bps above mid
  order.limit_price = 200000;
  context.now_ns += kSecond;
  EXPECT_EQ(check(order), RejectReason::kReducingOnly);  // long 1.00, buying
  risk->set_trading_state(TradingState::kActive);
  context.net_position = 20;  // long 0.20: buying 0.40 grows it to 0.60 ...
  context.now_ns += kSecond;
  EXPECT_EQ(check(order), RejectReason::kMaxPosition);  // ... which is over 0.50
  order.size = 30;                                      // 0.20 + 0.30 = 0.50
  context.now_ns += kSecond;
  EXPECT_EQ(check(order), RejectReason::kNone);
}

}  // namespace
}  // namespace qt

namespace qt {
namespace {

// A position already beyond its limit (the limit was lowered) can still be reduced step by
// step; only orders that leave the worst case as far from flat or further are refused.
TEST(RiskMaxPositionOverLimit, ReducingOrderPassesGrowingOrderFails) {
  const InstrumentSpec gold = make_instrument(0, "GOLD", 2, 2, 0.01, 0.1, 0.1, 500);
  RiskLimits limits;
  limits.instruments[0].max_position = 50;  // 0.50
  RiskCheck risk(limits);
  RiskContext context;
  context.spec = &gold;
  context.net_position = -100;  // short 1.00, twice the limit
  NewOrder buy;
  buy.side = Side::kBuy;
  buy.size = 10;  // 0.10: short 0.90 is still over the limit but closer to flat
  EXPECT_EQ(risk.check_new_order(buy, context), RejectReason::kNone);
  NewOrder sell = buy;
  sell.side = Side::kSell;  // short 1.10: further from flat
  EXPECT_EQ(risk.check_new_order(sell, context), RejectReason::kMaxPosition);
}

}  // namespace
}  // namespace qt
