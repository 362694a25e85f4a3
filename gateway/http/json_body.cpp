// JsonBody over simdjson: the DOM parser validates the whole body and answers every field
// except number_text(), which re-reads the field with the on-demand parser because only that
// keeps a number's own text. Error-code API only; no exception leaves this file.
#include "gateway/http/json_body.hpp"

#include <fmt/format.h>
#include <simdjson.h>

#include <algorithm>
#include <cmath>

namespace qt::http {

namespace dom = simdjson::dom;
namespace od = simdjson::ondemand;
using simdjson::SUCCESS;

struct JsonBody::Impl {
  simdjson::padded_string text;
  dom::parser parser;
  dom::object root;
  od::parser reader;  // for number_text()
};

namespace {

// Field names come from the handler's code, but are cut anyway so a message stays short.
std::string shown(std::string_view field) {
  return std::string(field.substr(0, 64));
}

}  // namespace

JsonBody::JsonBody(std::string_view text) : impl_(std::make_unique<Impl>()) {
  impl_->text = simdjson::padded_string(text);
  dom::element root;
  if (const auto error = impl_->parser.parse(impl_->text).get(root); error != SUCCESS) {
    fail("malformed_json", "",
         fmt::format("the body is not valid JSON ({})", simdjson::error_message(error)));
    return;
  }
  if (root.get_object().get(impl_->root) != SUCCESS) {
    fail("invalid_body", "", "the body must be a JSON object");
  }
}

JsonBody::~JsonBody() = default;
JsonBody::JsonBody(JsonBody&&) noexcept = default;
JsonBody& JsonBody::operator=(JsonBody&&) noexcept = default;

void JsonBody::fail(std::string_view code, std::string_view field, std::string message) {
  if (!ok()) return;
  error_code_ = std::string(code);
  error_field_ = std::string(field);
  error_message_ = std::move(message);
}

Response JsonBody::error() const {
  if (error_field_.empty()) return error_response(400, error_code_, error_message_);
  return field_error_response(error_code_, error_field_, error_message_);
}

namespace {

// The member `field` of `root`; nullopt when absent or null.
std::optional<dom::element> member(const dom::object& root, std::string_view field) {
  dom::element element;
  if (root.at_key(field).get(element) != SUCCESS || element.is_null()) return std::nullopt;
  return element;
}

}  // namespace

namespace {

std::optional<std::string_view> read_string(const dom::element& element) {
  std::string_view value;
  if (element.get_string().get(value) != SUCCESS) return std::nullopt;
  return value;
}

std::optional<int64_t> read_integer(const dom::element& element) {
  int64_t value = 0;
  if (element.get_int64().get(value) == SUCCESS) return value;
  double real = 0;
  // 20.0 is an integer written as a decimal: accepted when exact.
  if (element.get_double().get(real) == SUCCESS && std::trunc(real) == real &&
      std::fabs(real) < 9.0e15) {
    return static_cast<int64_t>(real);
  }
  return std::nullopt;
}

std::optional<double> read_number(const dom::element& element) {
  double value = 0;
  if (element.get_double().get(value) != SUCCESS) return std::nullopt;
  return value;
}

std::optional<bool> read_boolean(const dom::element& element) {
  bool value = false;
  if (element.get_bool().get(value) != SUCCESS) return std::nullopt;
  return value;
}

}  // namespace

// Absent or null: nullopt. Present with the wrong type: "invalid_field" naming `expected`.
template <class T, class Read>
std::optional<T> JsonBody::optional_field(std::string_view field, Read read,
                                          std::string_view expected) {
  if (!ok()) return std::nullopt;
  const std::optional<dom::element> element = member(impl_->root, field);
  if (!element) return std::nullopt;
  std::optional<T> value = read(*element);
  if (!value) {
    fail("invalid_field", field, fmt::format("field '{}' must be {}", shown(field), expected));
  }
  return value;
}

// `value`, or "missing_field" when it is absent and nothing failed before.
template <class T>
T JsonBody::required(std::string_view field, bool was_ok, std::optional<T> value, T fallback) {
  if (value) return *value;
  if (was_ok && ok()) {
    fail("missing_field", field, fmt::format("field '{}' is required", shown(field)));
  }
  return fallback;
}

std::optional<std::string_view> JsonBody::optional_string(std::string_view field) {
  return optional_field<std::string_view>(field, read_string, "a string");
}
std::string_view JsonBody::string(std::string_view field) {
  const bool was_ok = ok();
  return required<std::string_view>(field, was_ok, optional_string(field), {});
}
std::optional<int64_t> JsonBody::optional_integer(std::string_view field) {
  return optional_field<int64_t>(field, read_integer, "an integer");
}
int64_t JsonBody::integer(std::string_view field) {
  const bool was_ok = ok();
  return required<int64_t>(field, was_ok, optional_integer(field), 0);
}
std::optional<double> JsonBody::optional_number(std::string_view field) {
  return optional_field<double>(field, read_number, "a number");
}
double JsonBody::number(std::string_view field) {
  const bool was_ok = ok();
  return required<double>(field, was_ok, optional_number(field), 0);
}
std::optional<bool> JsonBody::optional_boolean(std::string_view field) {
  return optional_field<bool>(field, read_boolean, "true or false");
}
bool JsonBody::boolean(std::string_view field) {
  const bool was_ok = ok();
  return required<bool>(field, was_ok, optional_boolean(field), false);
}

std::optional<std::string_view> JsonBody::optional_number_text(std::string_view field) {
  if (!ok()) return std::nullopt;
  const std::optional<dom::element> element = member(impl_->root, field);
  if (!element) return std::nullopt;
  const auto invalid = [&] {
    fail("invalid_field", field, fmt::format("field '{}' must be a number", shown(field)));
    return std::nullopt;
  };
  if (!element->is_number()) return invalid();
  od::document document;
  od::object object;
  od::value value;
  if (impl_->reader.iterate(impl_->text).get(document) != SUCCESS ||
      document.get_object().get(object) != SUCCESS ||
      object.find_field_unordered(field).get(value) != SUCCESS) {
    return invalid();
  }
  std::string_view token = value.raw_json_token();
  // The token runs up to the next structural character: cut the whitespace before it.
  token = token.substr(0, token.find_last_not_of(" \t\n\r") + 1);
  return token;
}

std::string_view JsonBody::number_text(std::string_view field) {
  const bool was_ok = ok();
  return required<std::string_view>(field, was_ok, optional_number_text(field), {});
}

std::optional<std::size_t> JsonBody::optional_one_of(
    std::string_view field, std::initializer_list<std::string_view> allowed) {
  const std::optional<std::string_view> text = optional_string(field);
  if (!text) return std::nullopt;
  std::size_t index = 0;
  for (const std::string_view candidate : allowed) {
    if (*text == candidate) return index;
    ++index;
  }
  std::string names;
  for (const std::string_view candidate : allowed) {
    if (!names.empty()) names += ", ";
    names += candidate;
  }
  fail("invalid_field", field, fmt::format("field '{}' must be one of {}", shown(field), names));
  return std::nullopt;
}

std::size_t JsonBody::one_of(std::string_view field,
                             std::initializer_list<std::string_view> allowed) {
  const bool was_ok = ok();
  return required<std::size_t>(field, was_ok, optional_one_of(field, allowed), allowed.size());
}

void JsonBody::reject_unknown_fields(std::initializer_list<std::string_view> known) {
  if (!ok()) return;
  for (const auto [key, value] : impl_->root) {
    if (std::find(known.begin(), known.end(), key) != known.end()) continue;
    // The name comes from the client: escaped by the JSON writer, and cut.
    fail("unknown_field", std::string(key.substr(0, 64)),
         fmt::format("field '{}' is not accepted here", key.substr(0, 64)));
    return;
  }
}

}  // namespace qt::http
