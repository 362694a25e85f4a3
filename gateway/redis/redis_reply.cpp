#include "gateway/redis/redis_reply.hpp"

#include <hiredis/hiredis.h>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace qt::redis {

RedisReply RedisReply::integer(int64_t value) {
  RedisReply reply;
  reply.type_ = Type::kInteger;
  reply.integer_ = value;
  return reply;
}

RedisReply RedisReply::simple_string(std::string text) {
  RedisReply reply;
  reply.type_ = Type::kSimpleString;
  reply.text_ = std::move(text);
  return reply;
}

RedisReply RedisReply::bulk_string(std::string text) {
  RedisReply reply;
  reply.type_ = Type::kBulkString;
  reply.text_ = std::move(text);
  return reply;
}

RedisReply RedisReply::error(std::string text) {
  RedisReply reply;
  reply.type_ = Type::kError;
  reply.text_ = std::move(text);
  return reply;
}

RedisReply RedisReply::array(std::vector<RedisReply> elements) {
  RedisReply reply;
  reply.type_ = Type::kArray;
  reply.elements_ = std::move(elements);
  return reply;
}

bool RedisReply::is_error_code(std::string_view code) const {
  if (type_ != Type::kError || !std::string_view(text_).starts_with(code)) return false;
  return text_.size() == code.size() || text_[code.size()] == ' ';
}

std::string RedisReply::debug_string() const {
  switch (type_) {
    case Type::kNil: return "(nil)";
    case Type::kInteger: return absl::StrCat("(integer) ", integer_);
    case Type::kSimpleString: return absl::CHexEscape(text_);
    case Type::kBulkString: return absl::StrCat("\"", absl::CHexEscape(text_), "\"");
    case Type::kError: return absl::StrCat("(error) ", absl::CHexEscape(text_));
    case Type::kArray: {
      std::string out = "[";
      for (std::size_t i = 0; i < elements_.size(); ++i) {
        if (i != 0) out += ", ";
        out += elements_[i].debug_string();
      }
      return out + "]";
    }
  }
  return "(unknown)";
}

bool operator==(const RedisReply& a, const RedisReply& b) {
  return a.type_ == b.type_ && a.integer_ == b.integer_ && a.text_ == b.text_ &&
         a.elements_ == b.elements_;
}

std::string_view to_string(RedisReply::Type type) {
  switch (type) {
    case RedisReply::Type::kNil: return "nil";
    case RedisReply::Type::kInteger: return "integer";
    case RedisReply::Type::kSimpleString: return "simple string";
    case RedisReply::Type::kBulkString: return "bulk string";
    case RedisReply::Type::kError: return "error";
    case RedisReply::Type::kArray: return "array";
  }
  return "unknown";
}

// hiredis's reply object functions. Each places its value where the reply tree wants it: a
// top-level reply into the reader's root (the task's privdata), an element into the slot of its
// parent array, whose elements were created (all nil) when the array header was read. Returned
// pointers stay valid while hiredis builds: no vector is resized after its creation.
struct RedisReplyBuilder {
  static RedisReply* slot(const redisReadTask* task) {
    if (task->parent != nullptr) {
      auto* parent = static_cast<RedisReply*>(task->parent->obj);
      return &parent->elements_[static_cast<std::size_t>(task->idx)];
    }
    auto* root = static_cast<RedisReply*>(task->privdata);
    *root = RedisReply();
    return root;
  }

  static void* create_string(const redisReadTask* task, char* text, size_t length) {
    RedisReply* reply = slot(task);
    switch (task->type) {
      case REDIS_REPLY_STATUS: reply->type_ = RedisReply::Type::kSimpleString; break;
      case REDIS_REPLY_ERROR: reply->type_ = RedisReply::Type::kError; break;
      default: reply->type_ = RedisReply::Type::kBulkString; break;
    }
    reply->text_.assign(text, length);
    return reply;
  }

  static void* create_array(const redisReadTask* task, int elements) {
    RedisReply* reply = slot(task);
    reply->type_ = RedisReply::Type::kArray;
    reply->elements_.resize(static_cast<std::size_t>(elements < 0 ? 0 : elements));
    return reply;
  }

  static void* create_integer(const redisReadTask* task, long long value) {
    RedisReply* reply = slot(task);
    reply->type_ = RedisReply::Type::kInteger;
    reply->integer_ = value;
    return reply;
  }

  static void* create_nil(const redisReadTask* task) { return slot(task); }

  // hiredis frees only the top-level reply it is building (on a protocol error or when the
  // reader is freed); the tree is owned by value, so clearing it in place frees it.
  static void free_object(void* object) { *static_cast<RedisReply*>(object) = RedisReply(); }

  // redisReaderCreateWithFunctions keeps the pointer: static storage.
  static redisReplyObjectFunctions functions;
};

redisReplyObjectFunctions RedisReplyBuilder::functions = {
    &RedisReplyBuilder::create_string, &RedisReplyBuilder::create_array,
    &RedisReplyBuilder::create_integer, &RedisReplyBuilder::create_nil,
    &RedisReplyBuilder::free_object};

RedisReplyReader::RedisReplyReader()
    : reader_(redisReaderCreateWithFunctions(&RedisReplyBuilder::functions)) {
  if (reader_ != nullptr) reader_->privdata = &root_;
}

RedisReplyReader::~RedisReplyReader() {
  if (reader_ != nullptr) redisReaderFree(reader_);
}

absl::Status RedisReplyReader::feed(std::string_view bytes) {
  if (reader_ == nullptr) return absl::ResourceExhaustedError("redis reply reader: out of memory");
  if (bytes.empty()) return absl::OkStatus();
  if (redisReaderFeed(reader_, bytes.data(), bytes.size()) != REDIS_OK) {
    return absl::DataLossError(absl::StrCat("redis reply reader: ", reader_->errstr));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::optional<RedisReply>> RedisReplyReader::next() {
  if (reader_ == nullptr) return absl::ResourceExhaustedError("redis reply reader: out of memory");
  void* object = nullptr;
  if (redisReaderGetReply(reader_, &object) != REDIS_OK) {
    return absl::DataLossError(absl::StrCat("not the Redis protocol: ", reader_->errstr));
  }
  if (object == nullptr) return std::nullopt;
  return std::optional<RedisReply>(std::exchange(root_, RedisReply()));
}

}  // namespace qt::redis
