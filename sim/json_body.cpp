// The request-body reader over simdjson's DOM; see json_body.hpp.
#include "sim/json_body.hpp"

namespace qt::sim {

namespace dom = simdjson::dom;

bool JsonBody::parse(const std::string& text) {
  if (text.empty()) {
    empty_ = true;
    return true;
  }
  if (parser_.parse(text).get(root_) != simdjson::SUCCESS) return false;
  return root_.is_object();
}

bool JsonBody::has(const char* key) const {
  if (empty_) return false;
  dom::element e;
  return root_[key].get(e) == simdjson::SUCCESS && !e.is_null();
}

std::optional<std::string> JsonBody::str(const char* key) const {
  std::string_view v;
  if (empty_ || root_[key].get_string().get(v) != simdjson::SUCCESS) return std::nullopt;
  return std::string(v);
}

std::optional<double> JsonBody::num(const char* key) const {
  if (empty_) return std::nullopt;
  dom::element e;
  if (root_[key].get(e) != simdjson::SUCCESS) return std::nullopt;
  return number(e);
}

std::optional<bool> JsonBody::boolean(const char* key) const {
  bool v = false;
  if (empty_ || root_[key].get_bool().get(v) != simdjson::SUCCESS) return std::nullopt;
  return v;
}

std::optional<dom::object> JsonBody::object(const char* key) const {
  dom::object o;
  if (empty_ || root_[key].get_object().get(o) != simdjson::SUCCESS) return std::nullopt;
  return o;
}

std::optional<double> JsonBody::number(const dom::element& e) {
  double d = 0;
  int64_t i = 0;
  uint64_t u = 0;
  if (e.get_int64().get(i) == simdjson::SUCCESS) return static_cast<double>(i);
  if (e.get_uint64().get(u) == simdjson::SUCCESS) return static_cast<double>(u);
  if (e.get_double().get(d) == simdjson::SUCCESS) return d;
  return std::nullopt;
}

}  // namespace qt::sim
