// The registry, its families' child tables and the text exposition; see metrics_registry.hpp.
#include "gateway/http/metrics_registry.hpp"

#include <algorithm>
#include <atomic>
#include <bit>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <utility>

#include "absl/strings/str_cat.h"

namespace qt::http::metrics {
namespace detail {
namespace {

struct ChildNode {
  virtual ~ChildNode() = default;
  uint64_t hash = 0;
  std::vector<std::string> label_values;
  std::string label_text;  // name="escaped value",... without braces
  void* instrument = nullptr;
};

template <typename Instrument>
struct InstrumentNode final : ChildNode {
  template <typename... Args>
  explicit InstrumentNode(Args&&... args) : value(std::forward<Args>(args)...) {
    instrument = &value;
  }
  Instrument value;
};

// FNV-1a over the values, each followed by a byte that UTF-8 never contains.
uint64_t hash_label_values(std::span<const std::string_view> values) {
  uint64_t hash = 14695981039346656037ull;
  auto mix = [&hash](unsigned char byte) {
    hash ^= byte;
    hash *= 1099511628211ull;
  };
  for (std::string_view value : values) {
    for (char c : value) mix(static_cast<unsigned char>(c));
    mix(0xff);
  }
  return hash;
}

bool same_values(const ChildNode& node, std::span<const std::string_view> values) {
  if (node.label_values.size() != values.size()) return false;
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (node.label_values[i] != values[i]) return false;
  }
  return true;
}

void append_label_text(std::string& out, const std::vector<std::string>& names,
                       std::span<const std::string_view> values) {
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (i != 0) out += ',';
    out += names[i];
    out += "=\"";
    append_escaped_label_value(out, values[i]);
    out += '"';
  }
}

// name + suffix + {labels[,extra_name="extra_value"]} + ' '
void begin_sample(std::string& out, std::string_view name, std::string_view suffix,
                  std::string_view labels, std::string_view extra_name = {},
                  std::string_view extra_value = {}) {
  out += name;
  out += suffix;
  if (!labels.empty() || !extra_name.empty()) {
    out += '{';
    out += labels;
    if (!extra_name.empty()) {
      if (!labels.empty()) out += ',';
      out += extra_name;
      out += "=\"";
      out += extra_value;
      out += '"';
    }
    out += '}';
  }
  out += ' ';
}

template <typename Number>
void end_sample(std::string& out, Number value) {
  append_number(out, value);
  out += '\n';
}

std::string number_text(double value) {
  std::string text;
  append_number(text, value);
  return text;
}

}  // namespace

class FamilyCore {
 public:
  FamilyCore(MetricSpec spec, MetricType type, std::vector<double> upper_bounds,
             SummaryOptions summary_options, Collector collect)
      : spec_(std::move(spec)),
        type_(type),
        upper_bounds_(std::move(upper_bounds)),
        summary_options_(std::move(summary_options)),
        collect_(std::move(collect)),
        table_(collect_ ? 1 : std::bit_ceil(2 * spec_.max_children)),
        mask_(table_.size() - 1) {
    for (double bound : upper_bounds_) le_texts_.push_back(number_text(bound));
    le_texts_.push_back("+Inf");
    for (double q : summary_options_.quantiles) quantile_texts_.push_back(number_text(q));
    quantile_values_.resize(summary_options_.quantiles.size());
    if (!collect_ && spec_.label_names.empty()) unlabeled_ = *child({});
  }

  absl::StatusOr<void*> child(std::span<const std::string_view> label_values) {
    if (label_values.size() != spec_.label_names.size()) {
      return absl::InvalidArgumentError(absl::StrCat(spec_.name, " takes ",
                                                     spec_.label_names.size(),
                                                     " label values, not ", label_values.size()));
    }
    const uint64_t hash = hash_label_values(label_values);
    if (ChildNode* node = find(hash, label_values)) return node->instrument;
    return add_child(hash, label_values);
  }

  void* unlabeled() const {
    if (unlabeled_ == nullptr) {
      std::fprintf(stderr, "metrics: unlabeled() on %s, a family with labels\n",
                   spec_.name.c_str());
      std::abort();
    }
    return unlabeled_;
  }

  void render(std::string& out, Summary::Scratch& summary_scratch,
              std::vector<uint64_t>& bucket_scratch, uint64_t& dropped) const {
    const std::size_t start = out.size();
    out += "# HELP ";
    out += spec_.name;
    out += ' ';
    append_escaped_help(out, spec_.help);
    out += "\n# TYPE ";
    out += spec_.name;
    out += ' ';
    out += to_string(type_);
    out += '\n';
    const std::size_t header_end = out.size();
    if (collect_) {
      SampleWriter writer(*this, out, dropped);
      collect_(writer);
    } else {
      std::lock_guard lock(mutex_);
      for (const std::unique_ptr<ChildNode>& node : children_) {
        render_child(out, *node, summary_scratch, bucket_scratch);
      }
    }
    if (out.size() == header_end) out.resize(start);  // no sample: no family, as client_golang
  }

  void write_histogram(std::string& out, std::string_view labels,
                       std::span<const uint64_t> bucket_counts, double sum) const {
    uint64_t cumulative = 0;
    for (std::size_t i = 0; i < le_texts_.size(); ++i) {
      cumulative += bucket_counts[i];
      begin_sample(out, spec_.name, "_bucket", labels, "le", le_texts_[i]);
      end_sample(out, cumulative);
    }
    begin_sample(out, spec_.name, "_sum", labels);
    end_sample(out, sum);
    begin_sample(out, spec_.name, "_count", labels);
    end_sample(out, cumulative);
  }

  const MetricSpec& spec() const { return spec_; }
  MetricType type() const { return type_; }
  std::size_t bucket_count() const { return le_texts_.size(); }
  std::string& collector_labels() const { return collector_labels_; }

 private:
  ChildNode* find(uint64_t hash, std::span<const std::string_view> label_values) const {
    for (std::size_t i = hash & mask_, probes = 0; probes <= mask_; ++probes, i = (i + 1) & mask_) {
      ChildNode* node = table_[i].load(std::memory_order_acquire);
      if (node == nullptr) return nullptr;
      if (node->hash == hash && same_values(*node, label_values)) return node;
    }
    return nullptr;
  }

  absl::StatusOr<void*> add_child(uint64_t hash, std::span<const std::string_view> label_values) {
    std::lock_guard lock(mutex_);
    if (ChildNode* node = find(hash, label_values)) return node->instrument;  // another thread's
    if (children_.size() >= spec_.max_children) {
      return absl::ResourceExhaustedError(
          absl::StrCat(spec_.name, " has its maximum of ", spec_.max_children, " label sets"));
    }
    std::unique_ptr<ChildNode> node = make_node();
    node->hash = hash;
    node->label_values.assign(label_values.begin(), label_values.end());
    append_label_text(node->label_text, spec_.label_names, label_values);
    ChildNode* added = node.get();
    const auto position = std::lower_bound(
        children_.begin(), children_.end(), added->label_values,
        [](const std::unique_ptr<ChildNode>& child, const std::vector<std::string>& values) {
          return child->label_values < values;
        });
    children_.insert(position, std::move(node));
    // The table is at least twice max_children, so a free slot exists.
    std::size_t i = hash & mask_;
    while (table_[i].load(std::memory_order_relaxed) != nullptr) i = (i + 1) & mask_;
    table_[i].store(added, std::memory_order_release);
    return added->instrument;
  }

  std::unique_ptr<ChildNode> make_node() const {
    switch (type_) {
      case MetricType::kCounter: return std::make_unique<InstrumentNode<Counter>>();
      case MetricType::kGauge: return std::make_unique<InstrumentNode<Gauge>>();
      case MetricType::kHistogram:
        return std::make_unique<InstrumentNode<Histogram>>(std::span<const double>(upper_bounds_));
      case MetricType::kSummary: return std::make_unique<InstrumentNode<Summary>>(summary_options_);
    }
    return nullptr;
  }

  void render_child(std::string& out, const ChildNode& node, Summary::Scratch& summary_scratch,
                    std::vector<uint64_t>& bucket_scratch) const {
    switch (type_) {
      case MetricType::kCounter:
        begin_sample(out, spec_.name, "", node.label_text);
        end_sample(out, static_cast<const Counter*>(node.instrument)->value());
        return;
      case MetricType::kGauge:
        begin_sample(out, spec_.name, "", node.label_text);
        end_sample(out, static_cast<const Gauge*>(node.instrument)->value());
        return;
      case MetricType::kHistogram: {
        const double sum = static_cast<const Histogram*>(node.instrument)->read(bucket_scratch);
        write_histogram(out, node.label_text, bucket_scratch, sum);
        return;
      }
      case MetricType::kSummary: {
        const auto& summary = *static_cast<const Summary*>(node.instrument);
        summary.quantiles(quantile_values_, summary_scratch);
        for (std::size_t i = 0; i < quantile_values_.size(); ++i) {
          begin_sample(out, spec_.name, "", node.label_text, "quantile", quantile_texts_[i]);
          end_sample(out, quantile_values_[i]);
        }
        begin_sample(out, spec_.name, "_sum", node.label_text);
        end_sample(out, summary.sum());
        begin_sample(out, spec_.name, "_count", node.label_text);
        end_sample(out, summary.count());
        return;
      }
    }
  }

  const MetricSpec spec_;
  const MetricType type_;
  const std::vector<double> upper_bounds_;
  const SummaryOptions summary_options_;
  const Collector collect_;
  std::vector<std::string> le_texts_;        // one per bucket, "+Inf" last
  std::vector<std::string> quantile_texts_;  // one per quantile
  std::vector<std::atomic<ChildNode*>> table_;
  const std::size_t mask_;
  void* unlabeled_ = nullptr;

  mutable std::mutex mutex_;                          // children_ and insertion into table_
  std::vector<std::unique_ptr<ChildNode>> children_;  // sorted by label values
  // Scrape-time memory; scrapes are serialised by the registry's mutex.
  mutable std::vector<double> quantile_values_;
  mutable std::string collector_labels_;
};

absl::StatusOr<void*> find_or_add_child(FamilyCore& family,
                                        std::span<const std::string_view> label_values) {
  return family.child(label_values);
}

void* unlabeled_child(FamilyCore& family) {
  return family.unlabeled();
}

}  // namespace detail

std::string_view to_string(MetricType type) {
  switch (type) {
    case MetricType::kCounter: return "counter";
    case MetricType::kGauge: return "gauge";
    case MetricType::kHistogram: return "histogram";
    case MetricType::kSummary: return "summary";
  }
  return "untyped";
}

std::vector<double> exponential_buckets(double start, double factor, int count) {
  std::vector<double> bounds;
  if (!(start > 0) || !(factor > 1) || count < 1) return bounds;
  bounds.reserve(static_cast<std::size_t>(count));
  for (double bound = start; count-- > 0; bound *= factor) bounds.push_back(bound);
  return bounds;
}

// SampleWriter ---------------------------------------------------------------------------------

const std::string* SampleWriter::label_text(std::span<const std::string_view> label_values) {
  const std::vector<std::string>& names = family_.spec().label_names;
  if (label_values.size() != names.size()) {
    ++dropped_;
    return nullptr;
  }
  std::string& text = family_.collector_labels();
  text.clear();
  detail::append_label_text(text, names, label_values);
  return &text;
}

void SampleWriter::sample(std::span<const std::string_view> label_values, double value) {
  if (family_.type() == MetricType::kHistogram) {
    ++dropped_;
    return;
  }
  const std::string* labels = label_text(label_values);
  if (labels == nullptr) return;
  detail::begin_sample(out_, family_.spec().name, "", *labels);
  detail::end_sample(out_, value);
}

void SampleWriter::histogram(std::span<const std::string_view> label_values,
                             std::span<const uint64_t> bucket_counts, double sum) {
  if (family_.type() != MetricType::kHistogram || bucket_counts.size() != family_.bucket_count()) {
    ++dropped_;
    return;
  }
  const std::string* labels = label_text(label_values);
  if (labels == nullptr) return;
  family_.write_histogram(out_, *labels, bucket_counts, sum);
}

// Registry -------------------------------------------------------------------------------------

namespace {

bool ends_with_any(std::string_view name, std::initializer_list<std::string_view> suffixes) {
  return std::any_of(suffixes.begin(), suffixes.end(),
                     [name](std::string_view suffix) { return name.ends_with(suffix); });
}

absl::Status check_spec(const MetricSpec& spec, MetricType type) {
  if (!is_valid_metric_name(spec.name)) {
    return absl::InvalidArgumentError(absl::StrCat("invalid metric name \"", spec.name, "\""));
  }
  if (type == MetricType::kCounter) {
    if (!spec.name.ends_with("_total") || spec.name.size() == 6) {
      return absl::InvalidArgumentError(
          absl::StrCat("counter ", spec.name, ": a counter's name ends in _total"));
    }
  } else if (spec.name.ends_with("_total")) {
    return absl::InvalidArgumentError(
        absl::StrCat(spec.name, ": only a counter's name ends in _total"));
  }
  if (ends_with_any(spec.name, {"_bucket", "_sum", "_count"})) {
    return absl::InvalidArgumentError(absl::StrCat(
        spec.name, ": _bucket, _sum and _count are the suffixes of histogram and summary samples"));
  }
  if (spec.help.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(spec.name, ": HELP text is required"));
  }
  if (spec.max_children == 0 || spec.max_children > (std::size_t{1} << 20)) {
    return absl::InvalidArgumentError(
        absl::StrCat(spec.name, ": max_children must be between 1 and 2^20"));
  }
  for (std::size_t i = 0; i < spec.label_names.size(); ++i) {
    const std::string& label = spec.label_names[i];
    if (!is_valid_label_name(label)) {
      return absl::InvalidArgumentError(
          absl::StrCat(spec.name, ": invalid label name \"", label, "\""));
    }
    if ((type == MetricType::kHistogram && label == "le") ||
        (type == MetricType::kSummary && label == "quantile")) {
      return absl::InvalidArgumentError(
          absl::StrCat(spec.name, ": label \"", label, "\" is reserved for the ",
                       std::string(to_string(type)), "'s own samples"));
    }
    for (std::size_t j = 0; j < i; ++j) {
      if (spec.label_names[j] == label) {
        return absl::InvalidArgumentError(
            absl::StrCat(spec.name, ": label \"", label, "\" appears twice"));
      }
    }
  }
  return absl::OkStatus();
}

absl::Status check_upper_bounds(const MetricSpec& spec, std::vector<double>& upper_bounds) {
  if (!upper_bounds.empty() && std::isinf(upper_bounds.back()) && upper_bounds.back() > 0) {
    upper_bounds.pop_back();
  }
  if (upper_bounds.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(spec.name, ": a histogram needs at least one finite upper bound"));
  }
  for (std::size_t i = 0; i < upper_bounds.size(); ++i) {
    if (!std::isfinite(upper_bounds[i]) || (i > 0 && !(upper_bounds[i - 1] < upper_bounds[i]))) {
      return absl::InvalidArgumentError(absl::StrCat(
          spec.name, ": upper bounds must be finite and strictly increasing (bound ", i, ")"));
    }
  }
  return absl::OkStatus();
}

absl::Status check_summary_options(const MetricSpec& spec, const SummaryOptions& options) {
  if (options.quantiles.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(spec.name, ": a summary needs quantiles"));
  }
  for (std::size_t i = 0; i < options.quantiles.size(); ++i) {
    const double q = options.quantiles[i];
    if (!(q > 0 && q <= 1) || (i > 0 && !(options.quantiles[i - 1] < q))) {
      return absl::InvalidArgumentError(absl::StrCat(
          spec.name, ": quantiles must be strictly increasing, each in (0, 1] (quantile ", i, ")"));
    }
  }
  if (options.age_buckets < 1 || options.age_buckets > 1000 ||
      options.max_age.count() < options.age_buckets || options.now_ns == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat(spec.name,
                     ": a summary needs 1 to 1000 age buckets, a max_age of at least 1 ns per "
                     "bucket, and a clock"));
  }
  return absl::OkStatus();
}

}  // namespace

Registry::Registry() = default;
Registry::~Registry() = default;

absl::StatusOr<detail::FamilyCore*> Registry::add_family(MetricSpec spec, MetricType type,
                                                         std::vector<double> upper_bounds,
                                                         SummaryOptions summary_options,
                                                         Collector collect) {
  if (absl::Status status = check_spec(spec, type); !status.ok()) return status;
  if (type == MetricType::kHistogram) {
    if (absl::Status status = check_upper_bounds(spec, upper_bounds); !status.ok()) return status;
  } else {
    upper_bounds.clear();
  }
  if (type == MetricType::kSummary) {
    if (absl::Status status = check_summary_options(spec, summary_options); !status.ok()) {
      return status;
    }
  } else {
    summary_options.quantiles.clear();
  }
  std::lock_guard lock(mutex_);
  if (families_.contains(spec.name)) {
    return absl::AlreadyExistsError(absl::StrCat("metric ", spec.name, " is already registered"));
  }
  // Scrape-time memory is sized here, so that render() does not allocate for it.
  if (bucket_scratch_.size() < upper_bounds.size() + 1) {
    bucket_scratch_.resize(upper_bounds.size() + 1);
  }
  std::string name = spec.name;
  auto family =
      std::make_unique<detail::FamilyCore>(std::move(spec), type, std::move(upper_bounds),
                                           std::move(summary_options), std::move(collect));
  detail::FamilyCore* added = family.get();
  families_.emplace(std::move(name), std::move(family));
  return added;
}

absl::StatusOr<Family<Counter>> Registry::add_counter(MetricSpec spec) {
  absl::StatusOr<detail::FamilyCore*> core =
      add_family(std::move(spec), MetricType::kCounter, {}, {}, nullptr);
  if (!core.ok()) return core.status();
  return Family<Counter>(*core);
}

absl::StatusOr<Family<Gauge>> Registry::add_gauge(MetricSpec spec) {
  absl::StatusOr<detail::FamilyCore*> core =
      add_family(std::move(spec), MetricType::kGauge, {}, {}, nullptr);
  if (!core.ok()) return core.status();
  return Family<Gauge>(*core);
}

absl::StatusOr<Family<Histogram>> Registry::add_histogram(MetricSpec spec,
                                                          std::vector<double> upper_bounds) {
  absl::StatusOr<detail::FamilyCore*> core =
      add_family(std::move(spec), MetricType::kHistogram, std::move(upper_bounds), {}, nullptr);
  if (!core.ok()) return core.status();
  return Family<Histogram>(*core);
}

absl::StatusOr<Family<Summary>> Registry::add_summary(MetricSpec spec, SummaryOptions options) {
  absl::StatusOr<detail::FamilyCore*> core =
      add_family(std::move(spec), MetricType::kSummary, {}, std::move(options), nullptr);
  if (!core.ok()) return core.status();
  return Family<Summary>(*core);
}

absl::Status Registry::add_collector(MetricSpec spec, MetricType type, Collector collect,
                                     std::vector<double> upper_bounds) {
  if (type == MetricType::kSummary) {
    return absl::InvalidArgumentError(
        absl::StrCat(spec.name, ": a collector writes counters, gauges or histograms"));
  }
  if (!collect) return absl::InvalidArgumentError(absl::StrCat(spec.name, ": no collector"));
  return add_family(std::move(spec), type, std::move(upper_bounds), {}, std::move(collect))
      .status();
}

void Registry::render(std::string& out) const {
  out.clear();
  std::lock_guard lock(mutex_);
  for (const auto& [name, family] : families_) {
    family->render(out, summary_scratch_, bucket_scratch_, dropped_collector_samples_);
  }
}

uint64_t Registry::dropped_collector_samples() const {
  std::lock_guard lock(mutex_);
  return dropped_collector_samples_;
}

}  // namespace qt::http::metrics
