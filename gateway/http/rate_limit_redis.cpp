#include "gateway/http/rate_limit_redis.hpp"

#include <openssl/evp.h>

#include <array>

#include "absl/status/status.h"
#include "fmt/format.h"
#include "fmt/ranges.h"

namespace qt::http {
namespace {

// limits' FixedWindowRateLimiter.hit over MemoryStorage.incr, for each window in turn until one
// refuses: the window starts at its first hit, refused hits count too. Stats are those of the
// first window, or of the refusing one.
constexpr std::string_view kFixedWindowScript = R"lua(
local now = tonumber(ARGV[1])
local evaluated, refused, remaining, reset = 0, 0, 0, 0
for i = 1, #KEYS do
  local key = KEYS[i]
  local amount = tonumber(ARGV[3 * i - 1])
  local length = tonumber(ARGV[3 * i])
  local window_end = redis.call('HGET', key, 'end')
  local count
  if window_end and tonumber(window_end) > now then
    count = redis.call('HINCRBY', key, 'count', 1)
    window_end = tonumber(window_end)
  else
    count = 1
    redis.call('HSET', key, 'count', '1', 'end', ARGV[3 * i + 1])
    redis.call('PEXPIRE', key, math.ceil(length / 1000) + 1000)
    window_end = tonumber(ARGV[3 * i + 1])
  end
  evaluated = i
  if i == 1 or count > amount then
    remaining = math.max(0, amount - count)
    reset = window_end
  end
  if count > amount then
    refused = i
    break
  end
end
return {evaluated, refused, remaining, reset}
)lua";

// limits' MovingWindowRateLimiter.hit over acquire_entry, for each window in turn until one
// refuses: refused while the window holds `amount` hits; refused hits are not kept. Times are
// kept newest first and never decreasing, so the ones that left the window go from the tail.
constexpr std::string_view kMovingWindowScript = R"lua(
local now = tonumber(ARGV[1])
local evaluated, refused, remaining, reset = 0, 0, 0, 0
for i = 1, #KEYS do
  local key = KEYS[i]
  local amount = tonumber(ARGV[3 * i - 1])
  local length = tonumber(ARGV[3 * i])
  local cutoff = tonumber(ARGV[3 * i + 1])
  local oldest = redis.call('LINDEX', key, -1)
  while oldest and tonumber(oldest) < cutoff do
    redis.call('RPOP', key)
    oldest = redis.call('LINDEX', key, -1)
  end
  local count = redis.call('LLEN', key)
  evaluated = i
  if count >= amount then
    refused = i
    remaining = 0
    if oldest then reset = tonumber(oldest) + length else reset = now + length end
    break
  end
  local stamp = ARGV[1]
  local newest = redis.call('LINDEX', key, 0)
  if newest and tonumber(newest) > now then stamp = newest end
  redis.call('LPUSH', key, stamp)
  redis.call('PEXPIRE', key, math.ceil(length / 1000) + 1000)
  if i == 1 then
    remaining = amount - count - 1
    if oldest then reset = tonumber(oldest) + length else reset = tonumber(stamp) + length end
  end
end
return {evaluated, refused, remaining, reset}
)lua";

std::string sha1_hex(std::string_view text) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int size = 0;
  if (EVP_Digest(text.data(), text.size(), digest.data(), &size, EVP_sha1(), nullptr) != 1) {
    return {};
  }
  std::string hex;
  for (unsigned int i = 0; i < size; ++i) hex += fmt::format("{:02x}", digest[i]);
  return hex;
}

absl::Status bad_reply(const RateLimitRequest& request, std::span<const int64_t> reply,
                       std::string_view why) {
  return absl::InternalError(fmt::format("rate limit script for {} answered {{{}}}: {}",
                                         request.subject, fmt::join(reply, ", "), why));
}

}  // namespace

std::string_view redis_rate_limit_script(RateLimitStrategy strategy) {
  return strategy == RateLimitStrategy::kFixedWindow ? kFixedWindowScript : kMovingWindowScript;
}

const std::string& redis_rate_limit_script_sha1(RateLimitStrategy strategy) {
  static const std::string fixed = sha1_hex(kFixedWindowScript);
  static const std::string moving = sha1_hex(kMovingWindowScript);
  return strategy == RateLimitStrategy::kFixedWindow ? fixed : moving;
}

std::vector<std::string> redis_rate_limit_command(const RateLimitRequest& request,
                                                  RedisScriptForm form,
                                                  std::string_view key_prefix) {
  std::vector<std::string> args;
  args.reserve(4 + request.windows.size() * 4);
  if (form == RedisScriptForm::kEvalSha) {
    args.emplace_back("EVALSHA");
    args.push_back(redis_rate_limit_script_sha1(request.strategy));
  } else {
    args.emplace_back("EVAL");
    args.emplace_back(redis_rate_limit_script(request.strategy));
  }
  args.push_back(std::to_string(request.windows.size()));
  for (const RateLimitWindow& window : request.windows) {
    args.push_back(fmt::format("{}{}", key_prefix, window.key));
  }
  const int64_t now = request.now.time_since_epoch().count();
  args.push_back(std::to_string(now));
  for (const RateLimitWindow& window : request.windows) {
    const int64_t length = window.length.count();
    args.push_back(std::to_string(window.amount));
    args.push_back(std::to_string(length));
    args.push_back(std::to_string(
        request.strategy == RateLimitStrategy::kFixedWindow ? now + length : now - length));
  }
  return args;
}

absl::StatusOr<RateLimitOutcome> parse_redis_rate_limit_reply(const RateLimitRequest& request,
                                                              std::span<const int64_t> reply) {
  if (reply.size() != 4) return bad_reply(request, reply, "expected 4 integers");
  const int64_t evaluated = reply[0];
  const int64_t refused = reply[1];
  const int64_t windows = static_cast<int64_t>(request.windows.size());
  if (evaluated < 1 || evaluated > windows) {
    return bad_reply(request, reply, fmt::format("evaluated outside 1..{}", windows));
  }
  if (refused == 0 ? evaluated != windows : refused != evaluated) {
    return bad_reply(request, reply, "the refused window is not the last one evaluated");
  }
  RateLimitOutcome outcome;
  outcome.evaluated = static_cast<std::size_t>(evaluated);
  if (refused != 0) outcome.refused = static_cast<std::size_t>(refused - 1);
  const RateLimitWindow& reported = request.windows[outcome.reported()];
  if (reply[2] < 0 || static_cast<uint64_t>(reply[2]) > reported.amount) {
    return bad_reply(request, reply, "remaining outside 0..amount");
  }
  if (reply[3] <= 0) return bad_reply(request, reply, "no reset time");
  outcome.remaining = static_cast<uint64_t>(reply[2]);
  outcome.reset = RateLimitTime(std::chrono::microseconds(reply[3]));
  return outcome;
}

}  // namespace qt::http
