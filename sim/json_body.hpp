// JsonBody: the simulated broker's reader of JSON request bodies, a thin layer over simdjson's
// DOM. Only a reader: the simulator writes through common/json_writer.hpp. Internal to sim/.
// One parser per body; not thread-safe (each request reads its own).
#pragma once

#include <simdjson.h>

#include <optional>
#include <string>

namespace qt::sim {

// A request's JSON body: an object, or empty (no body at all). Accessors return nullopt for a
// missing member or one of another type; numbers may be integers or doubles.
class JsonBody {
 public:
  // False unless `text` is empty or a JSON object.
  bool parse(const std::string& text);
  bool empty() const { return empty_; }
  bool has(const char* key) const;  // present and not null
  std::optional<std::string> str(const char* key) const;
  std::optional<double> num(const char* key) const;
  std::optional<bool> boolean(const char* key) const;
  std::optional<simdjson::dom::object> object(const char* key) const;
  static std::optional<double> number(const simdjson::dom::element& e);

 private:
  simdjson::dom::parser parser_;
  simdjson::dom::element root_;
  bool empty_ = false;
};

}  // namespace qt::sim
