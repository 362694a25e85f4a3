// RedisReply: one reply of the Redis protocol (RESP2) as an owning value — nil, integer, simple
// string (+OK), bulk string, error (-ERR ...) or array of replies — detached from any buffer, so
// it may be moved to another thread and kept. RedisReplyReader turns the bytes of a connection
// into such replies with hiredis's reply parser (redisReader), building RedisReply directly.
//
// An error reply is a value like any other (Redis answered; the command failed): transport
// failures are absl::Status of the client, never replies. Not thread-safe; a reader belongs to
// one connection. Allocation: an integer, nil or short string reply allocates nothing of its
// own; longer strings and arrays allocate their storage.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

struct redisReader;

namespace qt::redis {

class RedisReply {
 public:
  enum class Type : uint8_t { kNil, kInteger, kSimpleString, kBulkString, kError, kArray };

  RedisReply() = default;  // nil
  static RedisReply nil() { return RedisReply(); }
  static RedisReply integer(int64_t value);
  static RedisReply simple_string(std::string text);
  static RedisReply bulk_string(std::string text);
  static RedisReply error(std::string text);
  static RedisReply array(std::vector<RedisReply> elements);

  Type type() const { return type_; }
  bool is_nil() const { return type_ == Type::kNil; }
  bool is_integer() const { return type_ == Type::kInteger; }
  bool is_error() const { return type_ == Type::kError; }
  bool is_array() const { return type_ == Type::kArray; }
  // A simple or a bulk string.
  bool is_string() const { return type_ == Type::kSimpleString || type_ == Type::kBulkString; }

  // The value of an integer reply; 0 for every other type.
  int64_t integer_value() const { return integer_; }
  // The text of a simple string, bulk string or error ("NOSCRIPT No matching script..."); empty
  // for other types.
  const std::string& text() const { return text_; }
  // The elements of an array; empty for other types (and for an empty array).
  const std::vector<RedisReply>& elements() const { return elements_; }

  // An error reply whose first word is `code` ("NOSCRIPT", "WRONGTYPE", "ERR").
  bool is_error_code(std::string_view code) const;

  // The reply as redis-cli shows it, one line: (nil), (integer) 3, "text", (error) ERR x, [a, b].
  std::string debug_string() const;

  friend bool operator==(const RedisReply& a, const RedisReply& b);

 private:
  friend struct RedisReplyBuilder;  // hiredis's object functions (redis_reply.cpp)

  Type type_ = Type::kNil;
  int64_t integer_ = 0;
  std::string text_;
  std::vector<RedisReply> elements_;
};

std::string_view to_string(RedisReply::Type type);

// Incremental parser of one connection's reply stream, on hiredis's redisReader. Feed bytes as
// they arrive, in any fragmentation; next() yields each complete reply in order.
class RedisReplyReader {
 public:
  RedisReplyReader();
  ~RedisReplyReader();
  RedisReplyReader(const RedisReplyReader&) = delete;
  RedisReplyReader& operator=(const RedisReplyReader&) = delete;

  // Appends received bytes. Fails only when out of memory.
  absl::Status feed(std::string_view bytes);
  // The next complete reply; nullopt when more bytes are needed; an error when the stream is
  // not the Redis protocol (the connection must then be dropped: the reader stays failed).
  absl::StatusOr<std::optional<RedisReply>> next();

 private:
  redisReader* reader_;
  // The top-level reply under construction: hiredis's object functions build into it (children
  // go into their parent's elements, sized in advance), so a parse allocates no reply nodes.
  RedisReply root_;
};

}  // namespace qt::redis
