#include "gateway/capital/retry_policy.hpp"

#include <gtest/gtest.h>

namespace qt::capital {
namespace {

using std::chrono::milliseconds;

ExchangeResult not_sent(TransportError error) {
  ExchangeResult r;
  r.outcome = RequestOutcome::kNotSent;
  r.error = error;
  return r;
}

ExchangeResult unknown(TransportError error, int status = 0) {
  ExchangeResult r;
  r.outcome = RequestOutcome::kOutcomeUnknown;
  r.error = error;
  r.response.status = status;
  return r;
}

ExchangeResult answered(int status) {
  ExchangeResult r;
  r.outcome = RequestOutcome::kAnswered;
  r.response.status = status;
  return r;
}

const RetryPolicy kPolicy(3, milliseconds(200), milliseconds(5000));

TEST(RetryPolicy, NotSentIsRetriedForEveryMethodOrdersIncluded) {
  for (HttpMethod m :
       {HttpMethod::kGet, HttpMethod::kPost, HttpMethod::kPut, HttpMethod::kDelete}) {
    for (TransportError e : {TransportError::kResolve, TransportError::kConnect,
                             TransportError::kTlsHandshake, TransportError::kWrite}) {
      EXPECT_TRUE(kPolicy.should_retry(m, not_sent(e), 0)) << to_string(m) << " " << to_string(e);
    }
  }
}

TEST(RetryPolicy, ACertificateFailureIsNeverRetried) {
  EXPECT_FALSE(kPolicy.should_retry(HttpMethod::kGet, not_sent(TransportError::kCertificate), 0));
}

TEST(RetryPolicy, ClientSideRefusalsAreNotRetried) {
  EXPECT_FALSE(kPolicy.should_retry(HttpMethod::kGet, not_sent(TransportError::kRateLimited), 0));
  EXPECT_FALSE(kPolicy.should_retry(HttpMethod::kGet, not_sent(TransportError::kPoolExhausted), 0));
}

TEST(RetryPolicy, UnknownOutcomeIsRetriedForGetOnly) {
  for (const ExchangeResult& r :
       {unknown(TransportError::kTimeout), unknown(TransportError::kBroken),
        unknown(TransportError::kServerError, 503)}) {
    EXPECT_TRUE(kPolicy.should_retry(HttpMethod::kGet, r, 0)) << to_string(r.error);
    EXPECT_FALSE(kPolicy.should_retry(HttpMethod::kPost, r, 0)) << to_string(r.error);
    EXPECT_FALSE(kPolicy.should_retry(HttpMethod::kPut, r, 0)) << to_string(r.error);
    EXPECT_FALSE(kPolicy.should_retry(HttpMethod::kDelete, r, 0)) << to_string(r.error);
  }
}

TEST(RetryPolicy, TooManyRequestsIsRetriedForGetOnly) {
  EXPECT_TRUE(kPolicy.should_retry(HttpMethod::kGet, answered(429), 0));
  EXPECT_FALSE(kPolicy.should_retry(HttpMethod::kPost, answered(429), 0));
}

TEST(RetryPolicy, OtherAnswersAreFinal) {
  for (int status : {200, 400, 401, 403, 404}) {
    EXPECT_FALSE(kPolicy.should_retry(HttpMethod::kGet, answered(status), 0)) << status;
  }
}

TEST(RetryPolicy, TheBudgetIsMaxRetriesAfterTheFirstAttempt) {
  const ExchangeResult r = unknown(TransportError::kTimeout);
  EXPECT_TRUE(kPolicy.should_retry(HttpMethod::kGet, r, 2));
  EXPECT_FALSE(kPolicy.should_retry(HttpMethod::kGet, r, 3));
  const RetryPolicy none(0, milliseconds(200), milliseconds(5000));
  EXPECT_FALSE(none.should_retry(HttpMethod::kGet, r, 0));
}

TEST(RetryPolicy, BackoffCapDoublesFromTheBaseUpToTheMaximum) {
  EXPECT_EQ(kPolicy.backoff_cap(1), milliseconds(200));
  EXPECT_EQ(kPolicy.backoff_cap(2), milliseconds(400));
  EXPECT_EQ(kPolicy.backoff_cap(3), milliseconds(800));
  EXPECT_EQ(kPolicy.backoff_cap(6), milliseconds(5000));  // 6400 capped
  EXPECT_EQ(kPolicy.backoff_cap(60), milliseconds(5000));
}

TEST(RetryPolicy, FullJitterSpansZeroToTheCap) {
  EXPECT_EQ(kPolicy.backoff(3, 0.0), milliseconds(0));
  EXPECT_EQ(kPolicy.backoff(3, 0.5), milliseconds(400));
  EXPECT_EQ(kPolicy.backoff(3, 0.75), milliseconds(600));
  EXPECT_LT(kPolicy.backoff(3, 0.999999), milliseconds(800));
}

TEST(RetryPolicy, RandomBackoffStaysWithinTheCapAndVaries) {
  std::chrono::nanoseconds low = milliseconds(5000);
  std::chrono::nanoseconds high{0};
  for (int i = 0; i < 2000; ++i) {
    const auto d = kPolicy.backoff(2);
    ASSERT_GE(d.count(), 0);
    ASSERT_LE(d, milliseconds(400));
    low = std::min(low, d);
    high = std::max(high, d);
  }
  EXPECT_LT(low, milliseconds(40));  // the draws cover the range, not one point of it
  EXPECT_GT(high, milliseconds(360));
}

}  // namespace
}  // namespace qt::capital
