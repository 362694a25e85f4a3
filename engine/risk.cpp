#include "engine/risk.hpp"

namespace qt {

namespace {

constexpr int64_t kNanosPerSecond = 1'000'000'000;

int64_t abs64(int64_t v) {
  return v < 0 ? -v : v;
}

// Price the order would trade at for notional purposes: the limit, or the touch it would take.
PriceUnits reference_price(const NewOrder& order, const Quote* quote) {
  if (order.type == OrderType::kLimit) return order.limit_price;
  if (quote == nullptr) return 0;
  return order.side == Side::kBuy ? quote->ask : quote->bid;
}

}  // namespace

bool RiskCheck::take_rate_token(SourceId source, int64_t now_ns) {
  if (limits_.max_orders_per_second <= 0) return true;
  TokenBucket& bucket = buckets_[source % kMaxSources];
  const int64_t capacity = limits_.max_orders_per_second * kNanosPerSecond;
  if (bucket.tokens_ns < 0) {
    bucket.tokens_ns = capacity;
  } else {
    const int64_t elapsed = now_ns > bucket.last_ns ? now_ns - bucket.last_ns : 0;
    // Refill at max_orders_per_second tokens per second; cap the product to avoid overflow.
    const int64_t refill =
        elapsed >= kNanosPerSecond ? capacity : elapsed * limits_.max_orders_per_second;
    bucket.tokens_ns = bucket.tokens_ns + refill > capacity ? capacity : bucket.tokens_ns + refill;
  }
  bucket.last_ns = now_ns;
  if (bucket.tokens_ns < kNanosPerSecond) return false;
  bucket.tokens_ns -= kNanosPerSecond;
  return true;
}

RejectReason RiskCheck::check_new_order(const NewOrder& order, const RiskContext& context) {
  if (kill_switch_) return RejectReason::kKillSwitch;
  if (trading_state_ == TradingState::kHalted) return RejectReason::kTradingHalted;

  const InstrumentSpec* spec = context.spec;
  if (spec == nullptr) return RejectReason::kUnknownInstrument;

  if (order.size <= 0 || order.size < spec->min_size || order.size % spec->size_increment != 0 ||
      (spec->max_size > 0 && order.size > spec->max_size)) {
    return RejectReason::kInvalidSize;
  }
  if (order.type == OrderType::kLimit &&
      (order.limit_price <= 0 || order.limit_price % spec->tick != 0)) {
    return RejectReason::kInvalidPrice;
  }
  if (context.duplicate_client_order_id) return RejectReason::kDuplicateClientOrderId;
  if (!take_rate_token(order.source, context.now_ns)) return RejectReason::kRateThrottle;

  const InstrumentRiskLimits& instrument_limits = limits_.instruments[order.instrument];
  if (instrument_limits.max_order_size > 0 && order.size > instrument_limits.max_order_size) {
    return RejectReason::kMaxOrderSize;
  }

  if (limits_.max_order_notional > 0) {
    const PriceUnits price = reference_price(order, context.last_quote);
    if (price <= 0) return RejectReason::kNoMarketData;
    if (spec->notional(price, order.size) > limits_.max_order_notional) {
      return RejectReason::kMaxOrderNotional;
    }
  }

  if (order.type == OrderType::kLimit && limits_.price_collar_bps > 0) {
    const Quote* quote = context.last_quote;
    if (quote == nullptr || quote->bid <= 0 || quote->ask <= 0) return RejectReason::kNoMarketData;
    // |limit - mid| / mid > collar_bps / 10^4, kept in integers: 2*|limit - mid2/2| * 10^4 >
    // collar * mid2, with mid2 = bid + ask.
    const __int128 mid2 = static_cast<__int128>(quote->bid) + quote->ask;
    const __int128 distance2 = static_cast<__int128>(order.limit_price) * 2 - mid2;
    const __int128 magnitude = distance2 < 0 ? -distance2 : distance2;
    if (magnitude * 10'000 > mid2 * limits_.price_collar_bps) return RejectReason::kPriceCollar;
  }

  const SizeUnits signed_size = side_sign(order.side) * order.size;
  if (trading_state_ == TradingState::kReducing || instrument_reducing_[order.instrument]) {
    // Must shrink |position| even if every open order on the same side fills first.
    const SizeUnits same_side_open =
        order.side == Side::kBuy ? context.open_buy_size : -context.open_sell_size;
    const SizeUnits worst = context.net_position + same_side_open + signed_size;
    const bool opposite_of_position =
        context.net_position != 0 && ((context.net_position > 0) != (signed_size > 0));
    if (!opposite_of_position || abs64(worst) > abs64(context.net_position) ||
        (worst != 0 && (worst > 0) != (context.net_position > 0))) {
      return RejectReason::kReducingOnly;
    }
  }
  if (instrument_limits.max_position > 0) {
    // Worst case if every open order on this side fills first. An order that leaves the worst
    // case closer to flat than it was passes even above the limit, so a position that is over
    // its limit (limit lowered, or reached by the other side) can always be reduced.
    const SizeUnits before = order.side == Side::kBuy
                                 ? context.net_position + context.open_buy_size
                                 : context.net_position - context.open_sell_size;
    const SizeUnits worst = before + signed_size;
    if (abs64(worst) > instrument_limits.max_position && abs64(worst) >= abs64(before)) {
      return RejectReason::kMaxPosition;
    }
  }
  return RejectReason::kNone;
}

}  // namespace qt
