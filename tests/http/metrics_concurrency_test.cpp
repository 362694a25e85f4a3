// The instruments and the registry under concurrency (run under TSan and ASan by the bounded
// sanitizer pass): four threads update the same children while another scrapes, and nothing is
// lost; concurrent first use of a label set creates one child; the engine's single-writer
// counters are scraped while the engine thread writes them, through a collector.
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <string>
#include <thread>
#include <vector>

#include "engine/engine_stats.hpp"
#include "gateway/http/metrics_registry.hpp"

namespace qt::http::metrics {
namespace {

constexpr int kThreads = 4;
#ifdef QT_SANITIZER_BUILD
constexpr int kUpdatesPerThread = 50'000;
#else
constexpr int kUpdatesPerThread = 500'000;
#endif

// The value of the first sample line that starts with `series` + ' ', or -1.
double sample_value(const std::string& text, std::string_view series) {
  std::size_t at = 0;
  while ((at = text.find(series, at)) != std::string::npos) {
    const bool line_start = at == 0 || text[at - 1] == '\n';
    if (line_start && text.compare(at + series.size(), 1, " ") == 0) {
      return std::strtod(text.c_str() + at + series.size() + 1, nullptr);
    }
    at += series.size();
  }
  return -1;
}

std::atomic<int64_t> g_virtual_now_ns{0};
int64_t virtual_now_ns() noexcept {
  return g_virtual_now_ns.load(std::memory_order_relaxed);
}

// Values with exact binary sums (multiples of 1/4 well below 2^53), spread over the buckets.
constexpr double kValues[] = {0.25, 1, 2.5, 7.75, 40};

// `threads` threads update the same children while another scrapes, and no update is lost.
void expect_no_lost_update(int threads) {
  Registry registry;
  auto counter = registry.add_counter({"quanttrading_events_total", "Events."});
  auto histogram = registry.add_histogram({"quanttrading_event_seconds", "Events."}, {1, 5, 10});
  SummaryOptions options;
  options.now_ns = &virtual_now_ns;
  options.max_age = std::chrono::seconds(10);
  auto summary = registry.add_summary({"quanttrading_event_size", "Events."}, options);
  ASSERT_TRUE(counter.ok() && histogram.ok() && summary.ok());

  std::atomic<bool> writing{true};
  std::thread scraper([&] {
    std::string text;
    double last_count = 0;
    while (writing.load(std::memory_order_relaxed)) {
      registry.render(text);
      const double count = sample_value(text, "quanttrading_events_total");
      EXPECT_GE(count, last_count) << "a counter never goes back";
      last_count = count;
      // The +Inf bucket is _count, whatever the writers are doing.
      EXPECT_EQ(sample_value(text, "quanttrading_event_seconds_bucket{le=\"+Inf\"}"),
                sample_value(text, "quanttrading_event_seconds_count"));
    }
  });
  std::vector<std::thread> writers;
  for (int t = 0; t < threads; ++t) {
    writers.emplace_back([&, t] {
      for (int i = 0; i < kUpdatesPerThread; ++i) {
        const double value = kValues[(i + t) % std::size(kValues)];
        counter->unlabeled().inc();
        histogram->unlabeled().observe(value);
        summary->unlabeled().observe(value);
        // Virtual time moves on, so that age slices rotate while other threads observe.
        if (t == 0 && i % 1000 == 0) g_virtual_now_ns.fetch_add(100'000'000);
      }
    });
  }
  for (std::thread& writer : writers) writer.join();
  writing.store(false);
  scraper.join();

  const uint64_t total = static_cast<uint64_t>(threads) * kUpdatesPerThread;
  EXPECT_EQ(counter->unlabeled().value(), total);
  std::vector<uint64_t> buckets(4);
  const double histogram_sum = histogram->unlabeled().read(buckets);
  // Each thread cycles through the five values from a different start; kUpdatesPerThread is a
  // multiple of five, so each value is observed total / 5 times.
  const uint64_t each = total / 5;
  EXPECT_EQ(buckets, (std::vector<uint64_t>{2 * each, each, each, each}));
  const double expected_sum = static_cast<double>(each) * (0.25 + 1 + 2.5 + 7.75 + 40);
  EXPECT_EQ(histogram_sum, expected_sum);
  EXPECT_EQ(summary->unlabeled().count(), total);
  EXPECT_EQ(summary->unlabeled().sum(), expected_sum);
}

TEST(MetricsConcurrency, FourThreadsLoseNoUpdateWhileAScrapeRuns) {
  expect_no_lost_update(kThreads);
}

TEST(MetricsConcurrency, ThreadsSharingShardsLoseNoUpdate) {
  expect_no_lost_update(2 * static_cast<int>(kShards));
}

TEST(MetricsConcurrency, ConcurrentFirstUseCreatesOneChildPerLabelSet) {
  Registry registry;
  auto family = registry.add_counter({"http_requests_total", "Requests.", {"route", "code"}, 64});
  ASSERT_TRUE(family.ok());
  constexpr int kRoutes = 50;
  std::vector<std::string> routes;
  for (int r = 0; r < kRoutes; ++r) routes.push_back("/route/" + std::to_string(r));
  std::vector<std::vector<Counter*>> seen(kThreads, std::vector<Counter*>(kRoutes));
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kRoutes; ++i) {
        const int r = t % 2 == 0 ? i : kRoutes - 1 - i;  // half the threads go backwards
        absl::StatusOr<Counter*> counter = family->child({routes[r], "200"});
        ASSERT_TRUE(counter.ok()) << counter.status();
        (*counter)->inc();
        seen[t][r] = *counter;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  std::string text;
  registry.render(text);
  for (int r = 0; r < kRoutes; ++r) {
    for (int t = 1; t < kThreads; ++t) EXPECT_EQ(seen[t][r], seen[0][r]) << routes[r];
    EXPECT_EQ(seen[0][r]->value(), uint64_t{kThreads});
    EXPECT_EQ(sample_value(text, "http_requests_total{route=\"" + routes[r] + "\",code=\"200\"}"),
              kThreads);
  }
}

// The engine thread bumps its EngineStats (relaxed load + store, no read-modify-write, no
// lock); the metrics thread reads them through a collector at each scrape.
TEST(MetricsConcurrency, EngineCountersAreScrapedWhileTheEngineWritesThem) {
  EngineStats stats;
  Registry registry;
  ASSERT_TRUE(registry
                  .add_collector({"quanttrading_orders_received_total", "Orders received."},
                                 MetricType::kCounter,
                                 [&stats](SampleWriter& out) {
                                   out.sample({}, static_cast<double>(stats.orders_received.load(
                                                      std::memory_order_relaxed)));
                                 })
                  .ok());
  ASSERT_TRUE(
      registry
          .add_collector(
              {"quanttrading_orders_rejected_total", "Orders rejected.", {"reason"}},
              MetricType::kCounter,
              [&stats](SampleWriter& out) {
                for (std::size_t r = 1; r < kRejectReasonCount; ++r) {
                  out.sample({to_string(static_cast<RejectReason>(r))},
                             static_cast<double>(stats.rejects[r].load(std::memory_order_relaxed)));
                }
              })
          .ok());

  // The engine runs from before the first scrape until after the 200th, so that every scrape
  // overlaps its writes; it reports how many orders it counted.
  constexpr int kScrapes = 200;
  std::atomic<bool> scraping{true};
  uint64_t orders = 0;
  std::thread engine([&] {
    while (scraping.load(std::memory_order_relaxed)) {
      EngineStats::bump(stats.orders_received);
      if (orders % 10 == 0) {
        EngineStats::bump(stats.rejects[static_cast<std::size_t>(RejectReason::kPriceCollar)]);
      }
      ++orders;
    }
  });
  while (stats.orders_received.load(std::memory_order_relaxed) == 0) std::this_thread::yield();
  std::string text;
  double last_received = 0;
  for (int scrape = 0; scrape < kScrapes; ++scrape) {
    registry.render(text);
    const double received = sample_value(text, "quanttrading_orders_received_total");
    const double collared =
        sample_value(text, "quanttrading_orders_rejected_total{reason=\"price_collar\"}");
    EXPECT_GE(received, last_received) << "a counter never goes back";
    EXPECT_GE(collared, 0) << text;
    last_received = received;
  }
  scraping.store(false);
  engine.join();
  registry.render(text);
  EXPECT_EQ(sample_value(text, "quanttrading_orders_received_total"), static_cast<double>(orders));
  EXPECT_EQ(sample_value(text, "quanttrading_orders_rejected_total{reason=\"price_collar\"}"),
            static_cast<double>((orders + 9) / 10));
  EXPECT_GT(last_received, 0) << "the scrapes saw the engine's writes";
}

}  // namespace
}  // namespace qt::http::metrics
