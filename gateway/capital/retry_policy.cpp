#include "gateway/capital/retry_policy.hpp"

#include <algorithm>
#include <cmath>

namespace qt::capital {

bool RetryPolicy::is_repeatable(HttpMethod method, const ExchangeResult& result) {
  switch (result.outcome) {
    case RequestOutcome::kNotSent:
      // Network failures before the request was complete. Not a certificate that failed
      // verification (permanent), nor the client's own refusals (rate limit, pool), which
      // already waited as long as allowed.
      return result.error == TransportError::kResolve || result.error == TransportError::kConnect ||
             result.error == TransportError::kTlsHandshake ||
             result.error == TransportError::kWrite;
    case RequestOutcome::kOutcomeUnknown: return method == HttpMethod::kGet;
    case RequestOutcome::kAnswered:
      return result.response.status == 429 && method == HttpMethod::kGet;
  }
  return false;
}

bool RetryPolicy::should_retry(HttpMethod method, const ExchangeResult& result,
                               int retries_done) const {
  return retries_done < max_retries_ && is_repeatable(method, result);
}

RetryPolicy::duration RetryPolicy::backoff_cap(int retry_number) const {
  duration cap = base_delay_;
  for (int i = 1; i < retry_number && cap < max_delay_; ++i) cap *= 2;
  return std::min(cap, max_delay_);
}

RetryPolicy::duration RetryPolicy::backoff(int retry_number, double u) const {
  u = std::clamp(u, 0.0, 1.0);
  const auto cap = static_cast<double>(backoff_cap(retry_number).count());
  return duration(static_cast<duration::rep>(std::floor(u * cap)));
}

RetryPolicy::duration RetryPolicy::backoff(int retry_number) const {
  thread_local std::mt19937_64 generator{std::random_device{}()};
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  return backoff(retry_number, uniform(generator));
}

}  // namespace qt::capital
