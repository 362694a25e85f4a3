// The reply reader (hiredis's parser building RedisReply) on golden RESP2 bytes — whole, split
// at every byte, several replies per chunk — and redis:// URLs. No server needed.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "gateway/redis/redis_client.hpp"
#include "gateway/redis/redis_reply.hpp"

namespace qt::redis {

// gtest prints replies as redis-cli would.
void PrintTo(const RedisReply& reply, std::ostream* out) {
  *out << reply.debug_string();
}

namespace {

using Type = RedisReply::Type;

// Every reply in `wire`, fed `chunk` bytes at a time.
std::vector<RedisReply> read_all(const std::string& wire, std::size_t chunk) {
  RedisReplyReader reader;
  std::vector<RedisReply> replies;
  for (std::size_t at = 0; at < wire.size(); at += chunk) {
    EXPECT_TRUE(reader.feed(std::string_view(wire).substr(at, chunk)).ok());
    for (;;) {
      absl::StatusOr<std::optional<RedisReply>> next = reader.next();
      EXPECT_TRUE(next.ok()) << next.status();
      if (!next.ok() || !next->has_value()) break;
      replies.push_back(std::move(**next));
    }
  }
  return replies;
}

struct Golden {
  std::string wire;
  RedisReply expected;
};

std::vector<Golden> golden_replies() {
  return {
      {"$-1\r\n", RedisReply::nil()},
      {"*-1\r\n", RedisReply::nil()},
      {":0\r\n", RedisReply::integer(0)},
      {":-9223372036854775808\r\n", RedisReply::integer(INT64_MIN)},
      {":9223372036854775807\r\n", RedisReply::integer(INT64_MAX)},
      {"+OK\r\n", RedisReply::simple_string("OK")},
      {"$0\r\n\r\n", RedisReply::bulk_string("")},
      {"$5\r\nhello\r\n", RedisReply::bulk_string("hello")},
      // Binary-safe: CR, LF and NUL inside a bulk string.
      {std::string("$6\r\na\r\nb\0c\r\n", 12),
       RedisReply::bulk_string(std::string("a\r\nb\0c", 6))},
      {"-NOSCRIPT No matching script. Please use EVAL.\r\n",
       RedisReply::error("NOSCRIPT No matching script. Please use EVAL.")},
      {"*0\r\n", RedisReply::array({})},
      {"*3\r\n:1\r\n$1\r\nx\r\n$-1\r\n",
       RedisReply::array(
           {RedisReply::integer(1), RedisReply::bulk_string("x"), RedisReply::nil()})},
      // Nested, with an error and an empty array inside.
      {"*3\r\n*2\r\n:7\r\n*1\r\n+deep\r\n-ERR inner\r\n*0\r\n",
       RedisReply::array(
           {RedisReply::array(
                {RedisReply::integer(7), RedisReply::array({RedisReply::simple_string("deep")})}),
            RedisReply::error("ERR inner"), RedisReply::array({})})},
  };
}

TEST(RedisReplyReader, EveryReplyTypeParsesWholeAndSplitAtEveryByte) {
  for (const Golden& golden : golden_replies()) {
    for (std::size_t chunk = 1; chunk <= golden.wire.size(); ++chunk) {
      std::vector<RedisReply> replies = read_all(golden.wire, chunk);
      ASSERT_EQ(replies.size(), 1u) << golden.expected.debug_string() << " chunk " << chunk;
      EXPECT_EQ(replies[0], golden.expected)
          << replies[0].debug_string() << " != " << golden.expected.debug_string();
    }
  }
}

TEST(RedisReplyReader, ManyRepliesInOneChunkComeOutInOrder) {
  std::string wire;
  std::vector<RedisReply> expected;
  for (int round = 0; round < 50; ++round) {
    for (const Golden& golden : golden_replies()) {
      wire += golden.wire;
      expected.push_back(golden.expected);
    }
  }
  for (std::size_t chunk : {wire.size(), std::size_t{7}, std::size_t{4096}}) {
    EXPECT_EQ(read_all(wire, chunk), expected) << "chunk " << chunk;
  }
}

TEST(RedisReplyReader, ReplyTypesAndAccessors) {
  const std::vector<RedisReply> replies =
      read_all(":42\r\n+PONG\r\n$3\r\nabc\r\n-WRONGTYPE bad\r\n*1\r\n:1\r\n$-1\r\n", 1000);
  ASSERT_EQ(replies.size(), 6u);
  EXPECT_EQ(replies[0].type(), Type::kInteger);
  EXPECT_EQ(replies[0].integer_value(), 42);
  EXPECT_EQ(replies[1].type(), Type::kSimpleString);
  EXPECT_EQ(replies[1].text(), "PONG");
  EXPECT_TRUE(replies[1].is_string());
  EXPECT_EQ(replies[2].type(), Type::kBulkString);
  EXPECT_EQ(replies[2].text(), "abc");
  EXPECT_TRUE(replies[3].is_error());
  EXPECT_TRUE(replies[3].is_error_code("WRONGTYPE"));
  EXPECT_FALSE(replies[3].is_error_code("WRONG"));
  EXPECT_EQ(replies[4].elements().size(), 1u);
  EXPECT_TRUE(replies[5].is_nil());
  EXPECT_EQ(replies[4].debug_string(), "[(integer) 1]");
}

TEST(RedisReplyReader, ProtocolGarbageIsAnErrorAndTheReaderStaysFailed) {
  RedisReplyReader reader;
  ASSERT_TRUE(reader.feed("?what\r\n").ok());
  absl::StatusOr<std::optional<RedisReply>> next = reader.next();
  EXPECT_FALSE(next.ok());
  EXPECT_FALSE(reader.feed(":1\r\n").ok() && reader.next().ok());
}

TEST(RedisReplyReader, AnIncompleteReplyWaitsForMoreBytes) {
  RedisReplyReader reader;
  ASSERT_TRUE(reader.feed("*2\r\n:1\r\n$3\r\nab").ok());
  absl::StatusOr<std::optional<RedisReply>> next = reader.next();
  ASSERT_TRUE(next.ok());
  EXPECT_FALSE(next->has_value());
  ASSERT_TRUE(reader.feed("c\r\n").ok());
  next = reader.next();
  ASSERT_TRUE(next.ok() && next->has_value());
  EXPECT_EQ(**next, RedisReply::array({RedisReply::integer(1), RedisReply::bulk_string("abc")}));
}

TEST(RedisUrl, HostPortAndDb) {
  absl::StatusOr<RedisEndpoint> endpoint = parse_redis_url("redis://10.0.0.5:6380/3");
  ASSERT_TRUE(endpoint.ok()) << endpoint.status();
  EXPECT_EQ(endpoint->host, "10.0.0.5");
  EXPECT_EQ(endpoint->port, 6380);
  EXPECT_EQ(endpoint->db, 3);
  EXPECT_EQ(to_string(*endpoint), "redis://10.0.0.5:6380/3");
}

TEST(RedisUrl, DefaultsArePort6379AndDb0) {
  for (const char* url : {"redis://cache", "redis://cache/", "redis://cache:6379/0"}) {
    absl::StatusOr<RedisEndpoint> endpoint = parse_redis_url(url);
    ASSERT_TRUE(endpoint.ok()) << url << ": " << endpoint.status();
    EXPECT_EQ(endpoint->host, "cache");
    EXPECT_EQ(endpoint->port, 6379);
    EXPECT_EQ(endpoint->db, 0);
  }
}

TEST(RedisUrl, Ipv6InBrackets) {
  absl::StatusOr<RedisEndpoint> endpoint = parse_redis_url("redis://[::1]:7000/2");
  ASSERT_TRUE(endpoint.ok()) << endpoint.status();
  EXPECT_EQ(endpoint->host, "::1");
  EXPECT_EQ(endpoint->port, 7000);
  EXPECT_EQ(endpoint->db, 2);
  EXPECT_EQ(to_string(*endpoint), "redis://[::1]:7000/2");
}

TEST(RedisUrl, MalformedUrlsAreRefusedWithTheReason) {
  for (const char* url :
       {"memory://", "http://x:1/0", "redis://", "redis://:6379/0", "redis://h:0/0",
        "redis://h:65536/0", "redis://h:12ab/0", "redis://h:/0", "redis://h:1/x", "redis://h:1/-1",
        "redis://::1:6379/0", "redis://[::1/0", "redis://h:1/0?x=1"}) {
    absl::StatusOr<RedisEndpoint> endpoint = parse_redis_url(url);
    EXPECT_EQ(endpoint.status().code(), absl::StatusCode::kInvalidArgument) << url;
  }
  absl::StatusOr<RedisEndpoint> with_password = parse_redis_url("redis://:secret@h:6379/0");
  ASSERT_FALSE(with_password.ok());
  EXPECT_NE(std::string(with_password.status().message()).find("credentials"), std::string::npos);
  EXPECT_EQ(std::string(with_password.status().message()).find("secret"), std::string::npos)
      << "the password must not be echoed: " << with_password.status();
}

}  // namespace
}  // namespace qt::redis
