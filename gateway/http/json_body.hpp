// JsonBody: the top-level fields of a JSON request body as typed values, and — when the body is
// not JSON, not an object, or a field is missing or of the wrong type — the 400 that names the
// field: {"error": "missing_field", "message": "field 'size' is required", "field": "size"}.
//
//   JsonBody body(request.body());
//   const std::string_view epic = body.string("epic");
//   const std::size_t side = body.one_of("direction", {"BUY", "SELL"});
//   const std::string_view size = body.number_text("size");   // exact text, for fixed point
//   const std::optional<std::string_view> tif = body.optional_string("time_in_force");
//   body.reject_unknown_fields({"epic", "direction", "size", "time_in_force"});
//   if (!body.ok()) return responder.send(body.error());
//
// The whole text is validated first (simdjson DOM), so malformed JSON anywhere is refused.
// The first problem is kept; every later getter returns an empty value, so a handler checks
// ok() once. null counts as absent. Error messages name fields and expected types, never the
// values sent. Not thread-safe; string_views point into the JsonBody and live as long as it.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "gateway/http/message.hpp"

namespace qt::http {

class JsonBody {
 public:
  explicit JsonBody(std::string_view text);
  ~JsonBody();
  JsonBody(JsonBody&&) noexcept;
  JsonBody& operator=(JsonBody&&) noexcept;

  bool ok() const { return error_code_.empty(); }
  // The first problem as a 400 response ("malformed_json", "invalid_body", "missing_field",
  // "invalid_field", "unknown_field"); meaningful only when !ok().
  Response error() const;
  std::string_view error_field() const { return error_field_; }
  std::string_view error_message() const { return error_message_; }

  std::string_view string(std::string_view field);
  std::optional<std::string_view> optional_string(std::string_view field);
  int64_t integer(std::string_view field);  // also 20.0; not 20.5, not "20"
  std::optional<int64_t> optional_integer(std::string_view field);
  double number(std::string_view field);
  std::optional<double> optional_number(std::string_view field);
  bool boolean(std::string_view field);
  std::optional<bool> optional_boolean(std::string_view field);
  // A JSON number's own text ("1.25", "-3", "1e-2"), for exact fixed-point parsing.
  std::string_view number_text(std::string_view field);
  std::optional<std::string_view> optional_number_text(std::string_view field);
  // A string that must equal one of `allowed`: returns its index (allowed.size() on failure).
  std::size_t one_of(std::string_view field, std::initializer_list<std::string_view> allowed);
  std::optional<std::size_t> optional_one_of(std::string_view field,
                                             std::initializer_list<std::string_view> allowed);

  // Fails, naming it, on the first member whose name is not in `known` (a misspelled optional
  // field would otherwise be silently ignored).
  void reject_unknown_fields(std::initializer_list<std::string_view> known);

  // Records a problem found by the handler itself (e.g. a negative size), unless one is kept.
  void fail(std::string_view code, std::string_view field, std::string message);

 private:
  template <class T, class Read>
  std::optional<T> optional_field(std::string_view field, Read read, std::string_view expected);
  template <class T>
  T required(std::string_view field, bool was_ok, std::optional<T> value, T fallback);

  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::string error_code_;
  std::string error_field_;
  std::string error_message_;
};

}  // namespace qt::http
