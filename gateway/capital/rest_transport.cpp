#include "gateway/capital/rest_transport.hpp"

#include <charconv>

#include "spdlog/spdlog.h"

namespace qt::capital {
namespace {

std::optional<std::chrono::nanoseconds> retry_after(const HttpResponse& response) {
  const std::string_view value = response.header("Retry-After");
  if (value.empty()) return std::nullopt;
  int64_t seconds = 0;
  const auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
  if (ec != std::errc() || seconds < 0 || seconds > 3600) return std::nullopt;
  return std::chrono::seconds(seconds);
}

// A reused keep-alive connection that failed before the server could have read the request
// (write failed), or, for a GET, broke before any answer: the server had closed it while it sat
// in the pool. Replaced once at once, not counted as a retry.
bool stale_connection(HttpMethod method, const ExchangeResult& r) {
  if (!r.reused_connection) return false;
  if (r.outcome == RequestOutcome::kNotSent && r.error == TransportError::kWrite) return true;
  return method == HttpMethod::kGet && r.outcome == RequestOutcome::kOutcomeUnknown &&
         r.error == TransportError::kBroken;
}

}  // namespace

absl::StatusOr<std::unique_ptr<RestTransport>> RestTransport::create(
    const CapitalClientConfig& config, ClientClock& clock) {
  absl::StatusOr<RestEndpoint> endpoint = parse_rest_url(config.rest_url());
  if (!endpoint.ok()) {
    return absl::InvalidArgumentError(fmt::format("{} URL: {}", to_string(config.environment),
                                                  std::string(endpoint.status().message())));
  }
  std::shared_ptr<TlsContext> tls;
  if (endpoint->tls) {
    absl::StatusOr<std::shared_ptr<TlsContext>> created =
        TlsContext::create(config.tls_verify, config.ca_file, config.ca_pem);
    if (!created.ok()) return created.status();
    tls = *std::move(created);
    if (!config.tls_verify) {
      spdlog::warn(
          "!!! INSECURE: TLS certificate verification is DISABLED for {} "
          "(CAPITAL_TLS_INSECURE_SKIP_VERIFY). Anyone on the network path can impersonate the "
          "broker and read the credentials. Use only against a local simulator. !!!",
          endpoint->to_string());
    }
  } else {
    spdlog::warn(
        "!!! INSECURE: plain http:// to {} — no TLS; requests and credentials travel in clear "
        "text. Use only against a local simulator. !!!",
        endpoint->to_string());
  }
  return std::unique_ptr<RestTransport>(
      new RestTransport(config, *std::move(endpoint), std::move(tls), clock));
}

RestTransport::RestTransport(const CapitalClientConfig& config, RestEndpoint endpoint,
                             std::shared_ptr<TlsContext> tls, ClientClock& clock)
    : endpoint_(std::move(endpoint)),
      timeout_(config.api_timeout),
      clock_(clock),
      pool_(std::make_unique<ConnectionPool>(endpoint_, std::move(tls), config.connection_pool_size,
                                             config.connection_max_idle)),
      limiter_(config.rate_limits, clock),
      retry_(config.max_retries, config.retry_base_delay, config.retry_max_delay) {}

void RestTransport::stop() {
  stopped_.store(true, std::memory_order_release);
  pool_->abort_all();
}

SendResult RestTransport::send(const HttpRequest& request, RequestClass request_class) {
  const std::string_view method = to_string(request.method);

  SendResult out;
  int retries_done = 0;
  bool replaced_stale = false;
  while (true) {
    if (stopped_.load(std::memory_order_acquire)) {
      if (out.attempts > 0) return out;  // the last attempt's own result says more
      out.result = ExchangeResult{};
      out.result.outcome = RequestOutcome::kNotSent;
      out.result.error = TransportError::kStopped;
      out.result.detail =
          fmt::format("{} {} not sent: the client is stopping", method, request.target);
      return out;
    }
    std::optional<ConnectionPool::Lease> lease = pool_->checkout(timeout_);
    if (!lease) {
      out.result = ExchangeResult{};
      out.result.outcome = RequestOutcome::kNotSent;
      out.result.error = TransportError::kPoolExhausted;
      out.result.detail = fmt::format("no free connection among {} within {}", pool_->size(),
                                      describe_duration(timeout_));
      return out;
    }
    ++out.attempts;
    // Connect first, then take the rate-limit slot, so that the request leaves at its slot: a
    // TLS handshake between slot and send would let two requests reach the broker closer
    // together than their slots were.
    if (std::optional<ExchangeResult> failed = (*lease)->ensure_open(timeout_)) {
      out.result = *std::move(failed);
    } else {
      absl::StatusOr<ClientClock::duration> waited = limiter_.acquire(request_class);
      if (!waited.ok()) {
        --out.attempts;
        out.result = ExchangeResult{};
        out.result.outcome = RequestOutcome::kNotSent;
        out.result.error = TransportError::kRateLimited;
        out.result.detail = std::string(waited.status().message());
        return out;
      }
      out.rate_wait += *waited;
      out.result = (*lease)->exchange(request, timeout_);
    }
    lease.reset();

    const ExchangeResult& r = out.result;
    if (r.response.status == 429) {
      limiter_.on_rate_limited(request_class, retry_after(r.response));
      spdlog::warn("capital: {} {} answered 429 (too many requests); {} requests back off", method,
                   request.target, to_string(request_class));
    } else if (r.response.status != 0) {
      limiter_.on_answer(request_class);
    }

    if (!replaced_stale && stale_connection(request.method, r)) {
      replaced_stale = true;
      spdlog::debug("capital: {} {}: pooled connection was stale ({}); replacing it", method,
                    request.target, r.detail);
      continue;
    }
    if (stopped_.load(std::memory_order_acquire) ||
        !retry_.should_retry(request.method, r, retries_done)) {
      if (r.outcome != RequestOutcome::kAnswered) {
        spdlog::warn("capital: {} {} failed after {} attempt(s): {} ({})", method, request.target,
                     out.attempts, to_string(r.outcome), r.detail);
      }
      return out;
    }
    ++retries_done;
    retries_.fetch_add(1, std::memory_order_relaxed);
    const std::chrono::nanoseconds backoff = retry_.backoff(retries_done);
    spdlog::info("capital: {} {}: {} ({}); retry {}/{} in {}", method, request.target,
                 to_string(r.outcome), r.detail.empty() ? "HTTP 429" : r.detail, retries_done,
                 retry_.max_retries(), describe_duration(backoff));
    clock_.sleep_for(std::chrono::duration_cast<ClientClock::duration>(backoff));
  }
}

}  // namespace qt::capital
