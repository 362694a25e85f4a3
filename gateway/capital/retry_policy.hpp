// When a failed request attempt may be sent again, and how long to wait first.
//
// The rule (no duplicate orders, ever):
//   * NotSent (resolve, connect, TLS handshake, or a write that never completed): the broker
//     cannot have acted, so any request may be sent again, orders included. Not retried: a
//     certificate that fails verification (permanent), and the client's own refusals (rate
//     limit, no free connection), which have already waited as long as allowed.
//   * OutcomeUnknown (timeout or reset after the request was written, or a 5xx answer): only
//     GET is sent again. Anything else — above all POST /positions and POST /workingorders —
//     returns OutcomeUnknown to the caller: the order goes to Unknown and is resolved by
//     confirms, positions and working orders; only an explicit answer resolves it. DELETE and
//     PUT are not retried either (conservative: a repeated close or amend races fills and
//     other amends; the caller re-reads state and decides).
//   * 429: the broker refused without acting. GET is retried once the rate limiter's backoff
//     window allows; anything else returns the 429 (an explicit refusal) to the caller, which
//     decides whether the intent still holds.
//   * Every other answer (2xx, 4xx) is final. A 401 is handled by the session (one re-login,
//     then one replay), not here.
// At most max_retries retries follow the first attempt.
//
// Backoff before retry n (n = 1, 2, ...): "full jitter", uniform in
// [0, min(max_delay, base_delay * 2^(n-1))]. A broken pooled connection found when writing a
// request is replaced at once without backoff; that replacement is not counted as a retry.
//
// Pure functions of their arguments (the random draw is a parameter); thread-safe.
#pragma once

#include <chrono>
#include <random>
#include <string_view>

#include "gateway/capital/https_connection.hpp"

namespace qt::capital {

class RetryPolicy {
 public:
  using duration = std::chrono::nanoseconds;

  RetryPolicy(int max_retries, duration base_delay, duration max_delay)
      : max_retries_(max_retries), base_delay_(base_delay), max_delay_(max_delay) {}

  int max_retries() const { return max_retries_; }

  // `retries_done` counts the retries already made (0 after the first attempt).
  bool should_retry(HttpMethod method, const ExchangeResult& result, int retries_done) const;

  // True when the request may be repeated after this result, ignoring the retry budget.
  static bool is_repeatable(HttpMethod method, const ExchangeResult& result);

  // The cap of the backoff before retry `retry_number` (1-based): min(max, base * 2^(n-1)).
  duration backoff_cap(int retry_number) const;
  // The backoff for `retry_number` given a uniform draw `u` in [0, 1): u * backoff_cap(n).
  duration backoff(int retry_number, double u) const;
  // The same with a draw from a thread-local generator.
  duration backoff(int retry_number) const;

 private:
  int max_retries_;
  duration base_delay_;
  duration max_delay_;
};

}  // namespace qt::capital
