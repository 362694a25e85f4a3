// engine_components_bench (Google Benchmark): single-thread cost of each step of the order
// path, so a regression in the order-path figure can be traced to its component.
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "bench/bench_cli.hpp"
#include "bench/registered_benchmarks.hpp"
#include "engine/instrument.hpp"
#include "engine/latency_histogram.hpp"
#include "engine/order.hpp"
#include "engine/order_store.hpp"
#include "engine/position.hpp"
#include "engine/risk.hpp"

namespace qt {
namespace {

const InstrumentSpec kGold = make_instrument(0, "GOLD", 2, 2, 0.01, 0.1, 0.1, 500);

void BM_RiskCheckPassingLimitOrder(benchmark::State& state) {
  RiskLimits limits;
  limits.max_order_notional = 1'000'000 * kMoneyScale;
  limits.price_collar_bps = 200;
  limits.max_orders_per_second = 1'000'000'000;
  limits.instruments[0] = {5'000, 100'000};
  RiskCheck risk(limits);
  Quote quote;
  quote.bid = 230000;
  quote.ask = 230030;
  NewOrder order;
  order.type = OrderType::kLimit;
  order.limit_price = 229900;
  order.size = 100;
  RiskContext context;
  context.spec = &kGold;
  context.last_quote = &quote;
  int64_t now = 0;
  for (auto _ : state) {
    context.now_ns = (now += 1000);
    benchmark::DoNotOptimize(risk.check_new_order(order, context));
  }
}
BENCHMARK(BM_RiskCheckPassingLimitOrder);

void BM_OrderLifecycleNewAcceptFill(benchmark::State& state) {
  for (auto _ : state) {
    Order order;
    order.size = 100;
    apply_order_event(order, OrderEvent::kVenueAccepted);
    apply_order_event(order, OrderEvent::kFill, 40, 230000);
    apply_order_event(order, OrderEvent::kFill, 60, 230010);
    benchmark::DoNotOptimize(order);
  }
}
BENCHMARK(BM_OrderLifecycleNewAcceptFill);

void BM_PositionApplyFillAndMark(benchmark::State& state) {
  Position position;
  Side side = Side::kBuy;
  for (auto _ : state) {
    position.apply_fill(kGold, side, 230000, 100);
    side = opposite(side);
    position.mark(229990, 230010);
    benchmark::DoNotOptimize(position.unrealized_pnl(kGold));
  }
}
BENCHMARK(BM_PositionApplyFillAndMark);

void BM_OrderStoreCreateIndexLookup(benchmark::State& state) {
  OrderStore store(1 << 16);
  std::vector<ClientOrderId> ids;
  for (int i = 0; i < (1 << 17); ++i) ids.push_back(ClientOrderId::from("C" + std::to_string(i)));
  std::size_t next = 0;
  for (auto _ : state) {
    Order* order = store.create();
    order->client_order_id = ids[next];
    order->source = 1;
    store.index_client_id(*order);
    benchmark::DoNotOptimize(store.find_by_client_id(1, ids[next]));
    order->state = OrderState::kFilled;  // terminal, so the slot can be reused
    next = (next + 1) % ids.size();
  }
}
BENCHMARK(BM_OrderStoreCreateIndexLookup);

void BM_LatencyHistogramRecord(benchmark::State& state) {
  LatencyHistogram histogram;
  int64_t value = 1;
  for (auto _ : state) {
    histogram.record(value);
    value = (value * 7 + 13) & ((1 << 20) - 1);
  }
}
BENCHMARK(BM_LatencyHistogramRecord);

}  // namespace
}  // namespace qt

int main(int argc, char** argv) {
  CLI::App app("engine_components_bench: single-thread cost of each step of the order path");
  app.footer("Every --benchmark_* flag is passed to Google Benchmark.");
  std::vector<std::string> benchmark_args;
  if (const auto exit = qt::bench::parse_command_line(app, argc, argv, &benchmark_args)) {
    return *exit;
  }
  return qt::bench::run_registered_benchmarks(benchmark_args);
}
