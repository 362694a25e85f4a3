#include "gateway/http/rate_limit.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <utility>

#include "absl/container/inlined_vector.h"
#include "absl/status/status.h"
#include "fmt/format.h"

namespace qt::http {
namespace {

struct GranularityName {
  std::string_view name;
  Granularity granularity;
  std::chrono::seconds length;
};

// limits' TIME_TYPES.
constexpr std::array<GranularityName, 6> kGranularities = {{
    {"second", Granularity::kSecond, std::chrono::seconds(1)},
    {"minute", Granularity::kMinute, std::chrono::seconds(60)},
    {"hour", Granularity::kHour, std::chrono::seconds(3'600)},
    {"day", Granularity::kDay, std::chrono::seconds(86'400)},
    {"month", Granularity::kMonth, std::chrono::seconds(30 * 86'400)},
    {"year", Granularity::kYear, std::chrono::seconds(12 * 30 * 86'400)},
}};

constexpr std::string_view kSeparators = ";,|";

// Python's `\s` on ASCII text.
bool is_blank(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}
bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// A cursor over one limit, following limits' SINGLE_EXPR:
//   \s*([0-9]+)\s*(?:/|\s*per\s*)\s*([0-9]+)*\s*(hour|minute|second|day|month|year)s?\s*
class LimitScanner {
 public:
  explicit LimitScanner(std::string_view text) : text_(text) {}

  void skip_blanks() {
    while (pos_ < text_.size() && is_blank(text_[pos_])) ++pos_;
  }
  bool at_end() const { return pos_ == text_.size(); }
  bool at_digit() const { return pos_ < text_.size() && is_digit(text_[pos_]); }

  // Digits as a number, saturating at `cap` + 1 so that any longer run reads as too large.
  uint64_t number(uint64_t cap) {
    uint64_t value = 0;
    while (at_digit()) {
      value = std::min<uint64_t>(value * 10 + static_cast<uint64_t>(text_[pos_] - '0'), cap + 1);
      ++pos_;
    }
    return value;
  }

  bool consume(char c) {
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }

  bool consume_word(std::string_view word) {
    if (text_.size() - pos_ < word.size()) return false;
    for (std::size_t i = 0; i < word.size(); ++i) {
      const char c = text_[pos_ + i];
      if ((c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c) != word[i]) return false;
    }
    pos_ += word.size();
    return true;
  }

  const GranularityName* granularity() {
    for (const GranularityName& candidate : kGranularities) {
      if (consume_word(candidate.name)) return &candidate;
    }
    return nullptr;
  }

 private:
  std::string_view text_;
  std::size_t pos_ = 0;
};

std::string_view trimmed(std::string_view text) {
  while (!text.empty() && is_blank(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_blank(text.back())) text.remove_suffix(1);
  return text;
}

absl::Status bad_limit(std::string_view part, std::string_view text, std::string_view why) {
  if (trimmed(part) == trimmed(text)) {
    return absl::InvalidArgumentError(fmt::format("rate limit \"{}\": {}", trimmed(part), why));
  }
  return absl::InvalidArgumentError(
      fmt::format("rate limit \"{}\" in \"{}\": {}", trimmed(part), text, why));
}

constexpr std::string_view kExpected =
    "expected \"N per [M] second|minute|hour|day|month|year\" or \"N/[M] granularity\"";

absl::StatusOr<RateLimitItem> parse_one(std::string_view part, std::string_view text) {
  LimitScanner scan(part);
  scan.skip_blanks();
  if (!scan.at_digit()) return bad_limit(part, text, fmt::format("no amount; {}", kExpected));
  const uint64_t amount = scan.number(kMaxRateLimitAmount);
  if (amount > kMaxRateLimitAmount) {
    return bad_limit(part, text, "the amount is above 1000000000");
  }
  scan.skip_blanks();
  if (!scan.consume('/') && !scan.consume_word("per")) {
    return bad_limit(part, text, fmt::format("no \"per\" or \"/\"; {}", kExpected));
  }
  scan.skip_blanks();
  uint64_t multiples = 1;
  if (scan.at_digit()) {
    multiples = scan.number(static_cast<uint64_t>(kMaxRateLimitWindow.count()));
    if (multiples == 0) return bad_limit(part, text, "a window of 0 granularities");
  }
  scan.skip_blanks();
  const GranularityName* granularity = scan.granularity();
  if (granularity == nullptr) {
    return bad_limit(part, text,
                     "unknown granularity; expected second, minute, hour, day, month or year");
  }
  if (!scan.consume('s')) scan.consume('S');
  scan.skip_blanks();
  if (!scan.at_end()) {
    return bad_limit(part, text, fmt::format("text after the limit; {}", kExpected));
  }
  // Compared in seconds, before any product can overflow: multiples is at most the maximum
  // window in seconds here.
  if (multiples > static_cast<uint64_t>(kMaxRateLimitWindow / granularity->length)) {
    return bad_limit(part, text, "a window longer than 100 years of 360 days");
  }
  return RateLimitItem{amount, static_cast<uint32_t>(multiples), granularity->granularity};
}

}  // namespace

std::string_view to_string(Granularity granularity) {
  return kGranularities[static_cast<std::size_t>(granularity)].name;
}

std::chrono::seconds granularity_length(Granularity granularity) {
  return kGranularities[static_cast<std::size_t>(granularity)].length;
}

std::string RateLimitItem::to_string() const {
  return fmt::format("{} per {} {}", amount, multiples, http::to_string(granularity));
}

absl::StatusOr<std::vector<RateLimitItem>> parse_rate_limits(std::string_view text) {
  if (trimmed(text).empty()) {
    return absl::InvalidArgumentError(
        fmt::format("empty rate limit string \"{}\"; {}", text, kExpected));
  }
  std::vector<RateLimitItem> items;
  std::size_t start = 0;
  while (true) {
    const std::size_t separator = text.find_first_of(kSeparators, start);
    const std::string_view part =
        text.substr(start, separator == std::string_view::npos ? text.npos : separator - start);
    if (trimmed(part).empty()) {
      return absl::InvalidArgumentError(fmt::format(
          "rate limit string \"{}\" has an empty limit at offset {} (separators ; , | stand "
          "between limits)",
          text, start));
    }
    absl::StatusOr<RateLimitItem> item = parse_one(part, text);
    if (!item.ok()) return item.status();
    items.push_back(*item);
    if (separator == std::string_view::npos) break;
    start = separator + 1;
  }
  return items;
}

std::string_view to_string(RateLimitStrategy strategy) {
  switch (strategy) {
    case RateLimitStrategy::kFixedWindow: return "fixed-window";
    case RateLimitStrategy::kMovingWindow: return "moving-window";
  }
  return "unknown";
}

absl::StatusOr<RateLimitStrategy> parse_rate_limit_strategy(std::string_view name) {
  if (name == "fixed-window") return RateLimitStrategy::kFixedWindow;
  if (name == "moving-window") return RateLimitStrategy::kMovingWindow;
  return absl::InvalidArgumentError(
      fmt::format("rate limit strategy \"{}\": expected fixed-window or moving-window", name));
}

absl::StatusOr<RouteLimits> RouteLimits::create(std::string scope, std::string_view limits) {
  if (scope.empty()) {
    return absl::InvalidArgumentError(
        fmt::format("rate limits \"{}\": the route's scope is empty", limits));
  }
  absl::StatusOr<std::vector<RateLimitItem>> items = parse_rate_limits(limits);
  if (!items.ok()) return items.status();
  if (items->size() > kMaxLimitsPerRoute) {
    return absl::InvalidArgumentError(
        fmt::format("rate limits \"{}\" of route {}: {} limits, at most {}", limits, scope,
                    items->size(), kMaxLimitsPerRoute));
  }
  for (std::size_t i = 0; i < items->size(); ++i) {
    for (std::size_t j = 0; j < i; ++j) {
      if ((*items)[i] == (*items)[j]) {
        return absl::InvalidArgumentError(
            fmt::format("rate limits \"{}\" of route {}: {} appears twice", limits, scope,
                        (*items)[i].to_string()));
      }
    }
  }
  // flask-limiter: sorted(limits, key=lambda x: x.limit), RateLimitItem.__lt__ comparing the
  // granularities only; Python's sort is stable.
  std::stable_sort(items->begin(), items->end(),
                   [](const RateLimitItem& a, const RateLimitItem& b) {
                     return granularity_length(a.granularity) < granularity_length(b.granularity);
                   });
  RouteLimits route;
  route.scope_ = std::move(scope);
  route.text_ = std::string(limits);
  route.limits_ = std::move(*items);
  for (const RateLimitItem& item : route.limits_) {
    route.key_suffixes_.push_back(
        fmt::format("/{}/{}/{}", item.amount, item.multiples, to_string(item.granularity)));
  }
  return route;
}

RateLimitClock& RateLimitClock::system() {
  class SystemClock final : public RateLimitClock {
   public:
    RateLimitTime now() override {
      return std::chrono::time_point_cast<std::chrono::microseconds>(
          std::chrono::system_clock::now());
    }
  };
  static SystemClock clock;
  return clock;
}

RateLimiter::RateLimiter(RateLimitStorage& storage, RateLimiterOptions options,
                         RateLimitClock& clock)
    : storage_(storage), options_(std::move(options)), clock_(clock) {}

void RateLimiter::check(std::string_view client, const RouteLimits& route,
                        RateLimitCompletion done) {
  if (client.empty()) {
    done(absl::InvalidArgumentError(
        fmt::format("rate limit of route {}: empty client key", route.scope())));
    return;
  }
  constexpr std::string_view kNamespace = "LIMITER/";
  const std::size_t subject_size =
      kNamespace.size() + (options_.key_prefix.empty() ? 0 : options_.key_prefix.size() + 1) +
      client.size() + 1 + route.scope().size();
  const std::span<const RateLimitItem> limits = route.limits();
  std::size_t text_size = subject_size;
  for (std::size_t i = 0; i < limits.size(); ++i)
    text_size += subject_size + route.key_suffix(i).size();

  // The subject, then each window's key; views into this buffer live until evaluate() returns.
  absl::InlinedVector<char, 512> text(text_size);
  char* out = text.data();
  auto append = [&out](std::string_view piece) {
    std::memcpy(out, piece.data(), piece.size());
    out += piece.size();
  };
  append(kNamespace);
  if (!options_.key_prefix.empty()) {
    append(options_.key_prefix);
    append("/");
  }
  append(client);
  append("/");
  append(route.scope());
  const std::string_view subject(text.data(), subject_size);

  std::array<RateLimitWindow, kMaxLimitsPerRoute> windows;
  for (std::size_t i = 0; i < limits.size(); ++i) {
    const char* key = out;
    append(subject);
    append(route.key_suffix(i));
    windows[i] = RateLimitWindow{std::string_view(key, static_cast<std::size_t>(out - key)),
                                 limits[i].amount, limits[i].window()};
  }

  const RateLimitTime now = clock_.now();
  const RateLimitRequest request{options_.strategy, subject,
                                 std::span<const RateLimitWindow>(windows.data(), limits.size()),
                                 now};
  if (std::optional<absl::StatusOr<RateLimitOutcome>> outcome = storage_.evaluate_inline(request)) {
    if (!outcome->ok()) {
      done(outcome->status());
    } else {
      done(decide(route, **outcome, now));
    }
    return;
  }
  storage_.evaluate(request, [&route, now, done = std::move(done)](
                                 absl::StatusOr<RateLimitOutcome> outcome) mutable {
    if (!outcome.ok()) {
      done(outcome.status());
      return;
    }
    done(decide(route, *outcome, now));
  });
}

RateLimitDecision RateLimiter::decide(const RouteLimits& route, const RateLimitOutcome& outcome,
                                      RateLimitTime now) {
  constexpr int64_t kMicrosPerSecond = 1'000'000;
  const RateLimitItem& reported = route.limits()[outcome.reported()];
  RateLimitDecision decision;
  decision.allowed = !outcome.refused.has_value();
  decision.reported_limit = reported;
  decision.limit = reported.amount;
  decision.remaining = outcome.remaining;
  // flask-limiter's RequestLimit.reset_at: int(reset + 1), epoch times being positive.
  const int64_t reset = outcome.reset.time_since_epoch().count();
  decision.reset_epoch_seconds = (reset + kMicrosPerSecond) / kMicrosPerSecond;
  const int64_t until_reset =
      decision.reset_epoch_seconds * kMicrosPerSecond - now.time_since_epoch().count();
  decision.retry_after_seconds =
      until_reset <= 0 ? 0 : (until_reset + kMicrosPerSecond - 1) / kMicrosPerSecond;
  return decision;
}

}  // namespace qt::http
