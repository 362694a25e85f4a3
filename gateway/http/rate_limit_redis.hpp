// The Redis side of rate limiting (`rate_limit_storage = "redis://host:port/db"`): two Lua
// scripts with exactly the memory storage's semantics (rate_limit_memory.hpp), each evaluating
// all windows of one request atomically in ONE call, and the code that turns a RateLimitRequest
// into that call and its reply into a RateLimitOutcome. The connection (a pipelined hiredis
// client) is not here: a Redis RateLimitStorage sends redis_rate_limit_command(request) and
// hands the reply's integers to parse_redis_rate_limit_reply().
//
// Time comes from the caller, in ARGV, not from Redis's TIME: the caller's clock decides every
// window as it does for the memory storage, so both storages give the same numbers for the same
// hits (tests/http/rate_limit_redis_test.cpp checks it against a real redis-server), and limits'
// own Redis moving window does the same. Instances sharing a Redis must keep their clocks in step
// (NTP): a skew of d moves their window edges by d. Redis's clock only expires keys, one second
// after the caller's window ends, so that it never ends a window the caller still counts in.
//
// Keys: kRedisRateLimitKeyPrefix + the window's key ("LIMITS:LIMITER/10.0.0.7/trade/10/1/minute",
// as limits' RedisStorage names them). A fixed window is a hash {count, end}: its end is the
// caller's time, where limits keeps a bare counter with a TTL from Redis's clock. A moving
// window is a list of hit times, newest first, as in limits.
//
//   KEYS[i]       the i-th window's key, in evaluation order
//   ARGV[1]       now, µs since the Unix epoch
//   ARGV[3i-1]    the i-th window's amount
//   ARGV[3i]      its length in µs
//   ARGV[3i+1]    fixed window: now + length (the end of a window starting now);
//                 moving window: now - length (the oldest time still inside the window)
//   reply         {evaluated, refused (1-based, 0 when all accepted), remaining, reset (µs)}
//
// All arithmetic that is stored is done here in int64 and passed as text; the scripts only
// compare and add numbers below 2^53, which Lua's doubles hold exactly.
//
// A NOSCRIPT error (Redis restarted, SCRIPT FLUSH) means: SCRIPT LOAD the script, or send the
// RedisScriptForm::kEval form, and retry.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "gateway/http/rate_limit.hpp"

namespace qt::http {

inline constexpr std::string_view kRedisRateLimitKeyPrefix = "LIMITS:";

// The script of a strategy, and its SHA-1 in hex (the name EVALSHA takes, as SCRIPT LOAD answers).
std::string_view redis_rate_limit_script(RateLimitStrategy strategy);
const std::string& redis_rate_limit_script_sha1(RateLimitStrategy strategy);

enum class RedisScriptForm : uint8_t { kEvalSha, kEval };

// The command's arguments: {"EVALSHA", sha1 | "EVAL", script, numkeys, KEYS..., ARGV...}.
std::vector<std::string> redis_rate_limit_command(
    const RateLimitRequest& request, RedisScriptForm form = RedisScriptForm::kEvalSha,
    std::string_view key_prefix = kRedisRateLimitKeyPrefix);

// The script's reply (an array of four integers) for `request`; Internal when it is not one.
absl::StatusOr<RateLimitOutcome> parse_redis_rate_limit_reply(const RateLimitRequest& request,
                                                              std::span<const int64_t> reply);

}  // namespace qt::http
