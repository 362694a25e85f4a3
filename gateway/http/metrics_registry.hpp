// metrics::Registry: the Prometheus metric families of the process (name, HELP, TYPE, label
// names) and their text exposition, format 0.0.4, for GET /metrics. The instruments are in
// metrics_instruments.hpp, the format's details in prometheus_text.hpp, the process's own
// figures in process_metrics.hpp.
//
// Guarantees:
//  - families are added at start-up; a bad name, label, bucket list or quantile list, or a name
//    already taken, is an error Status and registers nothing. Names follow Prometheus's rules
//    as promtool lints them: counters end in _total, nothing else does, and no family name ends
//    in _bucket, _sum or _count (so a histogram and a summary cannot share a name).
//  - Family::child(label values) finds an existing child without a lock or an allocation; the
//    first use of a label set creates the child under the family's mutex, up to
//    MetricSpec::max_children (then ResourceExhausted). Hot paths look a child up once and keep
//    the pointer; children live as long as the registry.
//  - collectors (add_collector) run at scrape time on the scraping thread, under the registry's
//    mutex, and read values that others own (the engine's single-writer atomics, ring depths,
//    /proc) without writing them. A collector must not call into the registry.
//  - render() writes families sorted by name and children sorted by label values, leaves out
//    families with no sample, and reuses the caller's buffer: a scrape allocates only while
//    that buffer grows. Concurrent render() calls are serialised.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gateway/http/metrics_instruments.hpp"
#include "gateway/http/prometheus_text.hpp"

namespace qt::http::metrics {

enum class MetricType : uint8_t { kCounter, kGauge, kHistogram, kSummary };
std::string_view to_string(MetricType type);  // the TYPE line's word: "counter", ...

struct MetricSpec {
  std::string name;  // e.g. "quanttrading_orders_total": base units, counters end in _total
  std::string help;  // required; one line (a line feed is escaped)
  std::vector<std::string> label_names{};
  std::size_t max_children = 256;  // distinct label sets: a bound against label explosions
};

// client_golang's DefBuckets, in seconds.
inline constexpr double kDefaultLatencyBuckets[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                                    0.5,   1,    2.5,   5,    10};
// count bounds: start, start*factor, start*factor^2, ...
std::vector<double> exponential_buckets(double start, double factor, int count);

namespace detail {
class FamilyCore;
}  // namespace detail

// A handle to a registered family; copyable, valid while its registry lives.
template <typename Instrument>
class Family {
 public:
  // The child with these label values (one per label name, in order), created on first use.
  absl::StatusOr<Instrument*> child(std::span<const std::string_view> label_values) const;
  absl::StatusOr<Instrument*> child(std::initializer_list<std::string_view> label_values) const {
    return child(std::span<const std::string_view>(label_values.begin(), label_values.size()));
  }
  // The only child of a family without labels (created at registration). Calling it on a
  // family with labels is a bug: the process stops with a message.
  Instrument& unlabeled() const;

 private:
  friend class Registry;
  explicit Family(detail::FamilyCore* core) : core_(core) {}
  detail::FamilyCore* core_;
};

// What a collector writes its samples into, at scrape time.
class SampleWriter {
 public:
  // One sample of a counter or gauge family; one label value per label name, in order.
  void sample(std::span<const std::string_view> label_values, double value);
  void sample(std::initializer_list<std::string_view> label_values, double value) {
    sample(std::span<const std::string_view>(label_values.begin(), label_values.size()), value);
  }
  // One child of a histogram family: per-bucket counts (not cumulative: one per upper bound,
  // then the +Inf bucket) and the sum of the observations.
  void histogram(std::span<const std::string_view> label_values,
                 std::span<const uint64_t> bucket_counts, double sum);
  void histogram(std::initializer_list<std::string_view> label_values,
                 std::span<const uint64_t> bucket_counts, double sum) {
    histogram(std::span<const std::string_view>(label_values.begin(), label_values.size()),
              bucket_counts, sum);
  }

 private:
  friend class detail::FamilyCore;
  SampleWriter(const detail::FamilyCore& family, std::string& out, uint64_t& dropped)
      : family_(family), out_(out), dropped_(dropped) {}
  // The family's label text for these values, or nullptr (and one more drop) if they do not fit.
  const std::string* label_text(std::span<const std::string_view> label_values);

  const detail::FamilyCore& family_;
  std::string& out_;
  uint64_t& dropped_;
};

using Collector = std::function<void(SampleWriter&)>;

class Registry {
 public:
  Registry();
  ~Registry();
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  absl::StatusOr<Family<Counter>> add_counter(MetricSpec spec);
  absl::StatusOr<Family<Gauge>> add_gauge(MetricSpec spec);
  // upper_bounds: finite and strictly increasing; a trailing +Inf is dropped (it is implicit).
  absl::StatusOr<Family<Histogram>> add_histogram(MetricSpec spec,
                                                  std::vector<double> upper_bounds);
  absl::StatusOr<Family<Summary>> add_summary(MetricSpec spec, SummaryOptions options = {});
  // A family whose samples `collect` writes at each scrape: kCounter, kGauge or kHistogram
  // (with its upper bounds). Samples that do not fit the family (label or bucket count) are
  // left out and counted in dropped_collector_samples().
  absl::Status add_collector(MetricSpec spec, MetricType type, Collector collect,
                             std::vector<double> upper_bounds = {});

  // The exposition of every family into `out` (cleared first; its capacity is kept).
  void render(std::string& out) const;
  uint64_t dropped_collector_samples() const;

 private:
  absl::StatusOr<detail::FamilyCore*> add_family(MetricSpec spec, MetricType type,
                                                 std::vector<double> upper_bounds,
                                                 SummaryOptions summary_options, Collector collect);

  mutable std::mutex mutex_;
  std::map<std::string, std::unique_ptr<detail::FamilyCore>, std::less<>> families_;
  mutable Summary::Scratch summary_scratch_;
  mutable std::vector<uint64_t> bucket_scratch_;
  mutable uint64_t dropped_collector_samples_ = 0;
};

namespace detail {

// Type-erased family: the lock-free child table and the rendering, in metrics_registry.cpp.
absl::StatusOr<void*> find_or_add_child(FamilyCore& family,
                                        std::span<const std::string_view> label_values);
void* unlabeled_child(FamilyCore& family);

}  // namespace detail

template <typename Instrument>
absl::StatusOr<Instrument*> Family<Instrument>::child(
    std::span<const std::string_view> label_values) const {
  absl::StatusOr<void*> found = detail::find_or_add_child(*core_, label_values);
  if (!found.ok()) return found.status();
  return static_cast<Instrument*>(*found);
}

template <typename Instrument>
Instrument& Family<Instrument>::unlabeled() const {
  return *static_cast<Instrument*>(detail::unlabeled_child(*core_));
}

}  // namespace qt::http::metrics
