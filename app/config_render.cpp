// The configuration document as TOML for show-config and backups, secrets masked.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "app/config_document.hpp"

namespace qt::config_document {
namespace {

void mask_secrets(toml::node& node, bool secret) {
  if (toml::table* table = node.as_table()) {
    for (auto&& [key, child] : *table) {
      const bool child_secret = secret || is_secret_name(key.str());
      if (child_secret && !child.is_table() && !child.is_array()) {
        table->insert_or_assign(key.str(), kMask);
      } else {
        mask_secrets(child, child_secret);
      }
    }
  } else if (toml::array* array = node.as_array()) {
    for (std::size_t i = 0; i < array->size(); ++i) {
      toml::node& child = *array->get(i);
      if (secret && !child.is_table() && !child.is_array()) {
        array->replace(array->cbegin() + static_cast<std::ptrdiff_t>(i), kMask);
      } else {
        mask_secrets(child, secret);
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Rendering as TOML. toml++'s formatter prints floats with 17 significant digits (0.1 becomes
// 0.10000000000000001), so values are written here with the shortest exact form instead.

std::string render_string(std::string_view s);

std::string render_key(std::string_view key) {
  const bool bare = !key.empty() && std::all_of(key.begin(), key.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
  });
  if (bare) return std::string(key);
  return render_string(key);
}

std::string render_string(std::string_view s) {
  std::string out = "\"";
  for (const char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
          char buffer[8];
          std::snprintf(buffer, sizeof(buffer), "\\u%04x", static_cast<unsigned char>(c));
          out += buffer;
        } else {
          out += c;
        }
    }
  }
  out += '"';
  return out;
}

std::string render_value(const toml::node& node) {
  if (const auto* s = node.as_string()) return render_string(s->get());
  if (const auto* i = node.as_integer()) return std::to_string(i->get());
  if (const auto* b = node.as_boolean()) return b->get() ? "true" : "false";
  if (const auto* f = node.as_floating_point()) {
    const double value = f->get();
    if (std::isnan(value)) return "nan";
    if (std::isinf(value)) return value < 0 ? "-inf" : "inf";
    std::string out = format_double(value);
    if (out.find_first_of(".eE") == std::string::npos) out += ".0";
    return out;
  }
  if (const auto* array = node.as_array()) {
    std::string out = "[";
    for (std::size_t i = 0; i < array->size(); ++i) {
      if (i != 0) out += ", ";
      out += render_value(*array->get(i));
    }
    return out + "]";
  }
  if (const auto* table = node.as_table()) {  // inline table (only inside arrays of scalars)
    std::string out = "{";
    bool first = true;
    for (auto&& [key, child] : *table) {
      out += first ? " " : ", ";
      out += render_key(key.str()) + " = " + render_value(child);
      first = false;
    }
    return out + (first ? "}" : " }");
  }
  std::ostringstream os;  // dates and times
  node.visit([&](const auto& n) { os << n; });
  return os.str();
}

bool is_table_array(const toml::node& node) {
  const toml::array* array = node.as_array();
  return array != nullptr && !array->empty() && array->is_array_of_tables();
}

// The keys of `table`, the root's sections in the embedded default's order.
std::vector<std::string> ordered_keys(const toml::table& table, bool root) {
  std::vector<std::string> keys;
  if (root) {
    for (std::string_view key : {"engine", "threads", "risk", "venue", "feed", "run", "log",
                                 "capital", "instruments", "strategies"}) {
      if (table.contains(key)) keys.emplace_back(key);
    }
  }
  for (auto&& [key, unused] : table) {
    if (std::find(keys.begin(), keys.end(), key.str()) == keys.end()) keys.emplace_back(key.str());
  }
  return keys;
}

void render_table(std::ostringstream& os, const toml::table& table, const std::string& path) {
  const std::vector<std::string> keys = ordered_keys(table, path.empty());
  for (const std::string& key : keys) {
    const toml::node& child = *table.get(key);
    if (child.is_table() || is_table_array(child)) continue;
    os << render_key(key) << " = " << render_value(child) << '\n';
  }
  for (const std::string& key : keys) {
    const toml::node& child = *table.get(key);
    const std::string child_path = path.empty() ? render_key(key) : path + "." + render_key(key);
    if (const toml::table* sub = child.as_table()) {
      // A table holding only tables needs no header of its own ([threads] before
      // [threads.engine]).
      const bool only_tables =
          !sub->empty() &&
          std::all_of(sub->begin(), sub->end(), [](auto&& kv) { return kv.second.is_table(); });
      if (!only_tables) os << "\n[" << child_path << "]\n";
      render_table(os, *sub, child_path);
    } else if (is_table_array(child)) {
      for (const toml::node& element : *child.as_array()) {
        os << "\n[[" << child_path << "]]\n";
        render_table(os, *element.as_table(), child_path);
      }
    }
  }
}

}  // namespace

std::string render_masked(toml::table doc) {
  mask_secrets(doc, false);
  std::ostringstream os;
  os << "# Effective configuration (secrets masked)\n";
  render_table(os, doc, "");
  return os.str();
}

}  // namespace qt::config_document
