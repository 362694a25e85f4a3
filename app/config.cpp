// Configuration loading: the embedded default document is the schema. A config file may only
// overlay keys that exist there (arrays of tables take their element schema from the C++ struct
// defaults), environment variables and --set flags may only change existing values, and each
// value keeps the type the default gives it. Every problem is collected, then reported at once.
// Validation into AppConfig is config_read.cpp; the show-config rendering, config_render.cpp.
#include "app/config.hpp"

#include <toml++/toml.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <map>
#include <optional>
#include <sstream>
#include <system_error>
#include <utility>
#include <variant>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "app/config_document.hpp"

extern char** environ;

namespace qt {
namespace config_document {

std::string join_path(std::string_view parent, std::string_view key) {
  if (parent.empty()) return std::string(key);
  std::string out(parent);
  out += '.';
  out += key;
  return out;
}

// Shortest text that reads back as the same double; plain decimals for everyday magnitudes.
std::string format_double(double value) {
  char buffer[128];
  const double magnitude = std::fabs(value);
  const bool fixed = magnitude == 0 || (magnitude >= 1e-9 && magnitude < 1e15);
  const auto result =
      fixed ? std::to_chars(buffer, buffer + sizeof(buffer), value, std::chars_format::fixed)
            : std::to_chars(buffer, buffer + sizeof(buffer), value);
  return std::string(buffer, result.ptr);
}

std::string in_quotes(std::string_view s) {
  std::string out = "\"";
  out += s;
  out += '"';
  return out;
}

// ---------------------------------------------------------------------------------------------
// Secrets.

bool is_secret_name(std::string_view name) {
  const std::string lower = absl::AsciiStrToLower(to_absl(name));
  for (std::string_view word : {"password", "api_key", "secret", "token"}) {
    if (lower.find(word) != std::string::npos) return true;
  }
  return false;
}

// A dotted path is secret if any component is (so a whole [secrets] table is masked too).
bool is_secret_path(std::string_view path) {
  for (absl::string_view part : absl::StrSplit(to_absl(path), '.')) {
    if (is_secret_name(from_absl(part))) return true;
  }
  return false;
}

}  // namespace config_document

namespace {

using namespace config_document;

constexpr std::string_view kDefaultConfigToml =
#include "app/default_config_toml.inc"
    ;

// ---------------------------------------------------------------------------------------------
// Describing TOML values in messages.

std::string_view type_name(toml::node_type type) {
  switch (type) {
    case toml::node_type::table: return "table";
    case toml::node_type::array: return "array";
    case toml::node_type::string: return "string";
    case toml::node_type::integer: return "integer";
    case toml::node_type::floating_point: return "float";
    case toml::node_type::boolean: return "boolean";
    case toml::node_type::date: return "date";
    case toml::node_type::time: return "time";
    case toml::node_type::date_time: return "date-time";
    case toml::node_type::none: break;
  }
  return "nothing";
}

// "string \"abc\"", "integer 5", "table", ... with the value masked for secret keys.
std::string describe(const toml::node& node, bool secret) {
  std::string out(type_name(node.type()));
  if (node.is_table() || node.is_array()) return out;
  out += ' ';
  if (secret) {
    out += kMask;
  } else if (const auto* s = node.as_string()) {
    out += in_quotes(s->get());
  } else if (const auto* i = node.as_integer()) {
    out += std::to_string(i->get());
  } else if (const auto* f = node.as_floating_point()) {
    out += format_double(f->get());
  } else if (const auto* b = node.as_boolean()) {
    out += b->get() ? "true" : "false";
  } else {
    std::ostringstream os;
    node.visit([&](const auto& n) { os << n; });
    out += os.str();
  }
  return out;
}

std::string type_mismatch(const std::string& path, const toml::node& expected,
                          const toml::node& given) {
  return path + ": expected " + std::string(type_name(expected.type())) + ", got " +
         describe(given, is_secret_path(path));
}

// ---------------------------------------------------------------------------------------------
// Element schemas of the arrays of tables: the C++ struct defaults, with the same key names.

toml::table instrument_template() {
  const InstrumentConfig d{};
  return toml::table{
      {"symbol", d.symbol},
      {"price_decimals", d.price_decimals},
      {"size_decimals", d.size_decimals},
      {"tick", d.tick},
      {"min_size", d.min_size},
      {"size_increment", d.size_increment},
      {"max_size", d.max_size},
      {"contract_multiplier", d.contract_multiplier},
      {"max_order_size", d.max_order_size},
      {"max_position", d.max_position},
      {"initial_price", d.initial_price},
      {"spread", d.spread},
      {"volatility_bps", d.volatility_bps},
  };
}

toml::table strategy_template() {
  const StrategyConfig d{};
  return toml::table{
      {"type", d.type},
      {"instrument", d.instrument},
      {"size", d.size},
      {"fast_window", d.fast_window},
      {"slow_window", d.slow_window},
      {"quote_offset_bps", d.quote_offset_bps},
      {"max_position", d.max_position},
      {"timer_ms", d.timer_ms},
  };
}

// The element schema for the array of tables at `path`, or nullptr if `path` is not one.
const toml::table* element_template(std::string_view path) {
  static const toml::table instruments = instrument_template();
  static const toml::table strategies = strategy_template();
  if (path == "instruments") return &instruments;
  if (path == "strategies") return &strategies;
  return nullptr;
}

// ---------------------------------------------------------------------------------------------
// Parsing.

// The text of 1-based line `line` of `text` (empty if there is no such line).
std::string_view line_of(std::string_view text, std::size_t line) {
  std::size_t start = 0;
  for (std::size_t i = 1; i < line; ++i) {
    const std::size_t nl = text.find('\n', start);
    if (nl == std::string_view::npos) return {};
    start = nl + 1;
  }
  const std::size_t end = text.find('\n', start);
  return text.substr(start, end == std::string_view::npos ? text.npos : end - start);
}

void report_parse_error(std::string_view text, std::string_view label, std::string_view description,
                        const toml::source_region& where, Errors& errors) {
  std::string message(label);
  message += ": TOML syntax error at line " + std::to_string(where.begin.line) + ", column " +
             std::to_string(where.begin.column) + ": ";
  // The parser's description can quote the offending text; never let that be a secret.
  const std::string_view line = line_of(text, where.begin.line);
  if (is_secret_name(line.substr(0, line.find('=')))) {
    message += "(details hidden: the line holds a secret)";
  } else {
    message += description;
  }
  errors.push_back(std::move(message));
}

std::optional<toml::table> parse_toml(std::string_view text, std::string_view label,
                                      Errors& errors) {
#if TOML_EXCEPTIONS
  try {
    return toml::parse(text, label);
  } catch (const toml::parse_error& e) {
    report_parse_error(text, label, e.description(), e.source(), errors);
    return std::nullopt;
  }
#else
  toml::parse_result result = toml::parse(text, label);
  if (!result) {
    report_parse_error(text, label, result.error().description(), result.error().source(), errors);
    return std::nullopt;
  }
  return std::move(result).table();
#endif
}

std::optional<std::string> read_file(const std::string& path, Errors& errors) {
  const std::string label = "config file " + in_quotes(path);
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    errors.push_back(label + ": is a directory, not a file");
    return std::nullopt;
  }
  errno = 0;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    const int error = errno;
    errors.push_back(label +
                     ": cannot open: " + (error != 0 ? std::strerror(error) : "unknown error"));
    return std::nullopt;
  }
  std::ostringstream content;
  content << in.rdbuf();
  if (in.bad()) {
    errors.push_back(label + ": cannot read");
    return std::nullopt;
  }
  return std::move(content).str();
}

// ---------------------------------------------------------------------------------------------
// Overlaying a parsed file onto the document.

void overlay_table(toml::table& dst, const toml::table& src, const std::string& path,
                   Errors& errors);

// Stores `node` under `key` of `table` (any node kind).
void store(toml::table& table, std::string_view key, const toml::node& node) {
  node.visit([&](const auto& n) { table.insert_or_assign(key, n); });
}

// Builds the replacement for an array of tables: each element is the element schema overlaid
// with the given entry, so missing fields take the C++ struct default.
std::optional<toml::array> build_table_array(const toml::node& given, const toml::table& schema,
                                             const std::string& path, Errors& errors) {
  const toml::array* source = given.as_array();
  if (source == nullptr) {
    errors.push_back(path + ": expected array of tables, got " +
                     describe(given, is_secret_path(path)));
    return std::nullopt;
  }
  toml::array result;
  bool ok = true;
  for (std::size_t i = 0; i < source->size(); ++i) {
    const std::string element_path = join_path(path, std::to_string(i));
    const toml::node& element = *source->get(i);
    const toml::table* element_table = element.as_table();
    if (element_table == nullptr) {
      errors.push_back(element_path + ": expected table, got " +
                       describe(element, is_secret_path(element_path)));
      ok = false;
      continue;
    }
    toml::table entry = schema;
    overlay_table(entry, *element_table, element_path, errors);
    result.push_back(std::move(entry));
  }
  if (!ok) return std::nullopt;
  return result;
}

void overlay_value(toml::table& dst, std::string_view key, const toml::node& existing,
                   const toml::node& given, const std::string& path, Errors& errors) {
  if (const toml::table* schema = element_template(path)) {
    if (auto replacement = build_table_array(given, *schema, path, errors)) {
      dst.insert_or_assign(key, std::move(*replacement));
    }
    return;
  }
  if (existing.is_table()) {
    if (!given.is_table()) {
      errors.push_back(type_mismatch(path, existing, given));
      return;
    }
    overlay_table(*dst.get_as<toml::table>(key), *given.as_table(), path, errors);
    return;
  }
  if (existing.type() == given.type()) {
    store(dst, key, given);
  } else if (existing.is_floating_point() && given.is_integer()) {
    dst.insert_or_assign(key, static_cast<double>(given.as_integer()->get()));
  } else {
    errors.push_back(type_mismatch(path, existing, given));
  }
}

void overlay_table(toml::table& dst, const toml::table& src, const std::string& path,
                   Errors& errors) {
  for (auto&& [key, given] : src) {
    const std::string key_path = join_path(path, key.str());
    const toml::node* existing = dst.get(key.str());
    if (existing == nullptr) {
      errors.push_back(key_path + ": unknown key");
      continue;
    }
    overlay_value(dst, key.str(), *existing, given, key_path, errors);
  }
}

// Fills the arrays of tables of the embedded default with their struct defaults, so every
// element has every key (which env/--set typing and the rendering rely on).
void normalize_default(toml::table& doc, Errors& errors) {
  for (std::string_view path : {"instruments", "strategies"}) {
    const toml::node* node = doc.get(path);
    if (node == nullptr) {
      errors.push_back(std::string(path) + ": missing from the embedded default (internal)");
      continue;
    }
    if (auto replacement =
            build_table_array(*node, *element_template(path), std::string(path), errors)) {
      doc.insert_or_assign(path, std::move(*replacement));
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Single-value overrides (environment and --set), typed by the value they replace.

using Scalar = std::variant<int64_t, double, bool, std::string>;

std::optional<Scalar> parse_as(std::string_view text, toml::node_type type) {
  switch (type) {
    case toml::node_type::string: return Scalar{std::string(text)};
    case toml::node_type::integer: {
      absl::string_view t = absl::StripAsciiWhitespace(to_absl(text));
      if (!t.empty() && t.front() == '+') t.remove_prefix(1);
      int64_t value = 0;
      const auto result = std::from_chars(t.data(), t.data() + t.size(), value);
      if (t.empty() || result.ec != std::errc() || result.ptr != t.data() + t.size()) break;
      return Scalar{value};
    }
    case toml::node_type::floating_point: {
      absl::string_view t = absl::StripAsciiWhitespace(to_absl(text));
      if (!t.empty() && t.front() == '+') t.remove_prefix(1);
      double value = 0;
      const auto result = std::from_chars(t.data(), t.data() + t.size(), value);
      if (t.empty() || result.ec != std::errc() || result.ptr != t.data() + t.size()) break;
      return Scalar{value};
    }
    case toml::node_type::boolean: {
      const std::string t = absl::AsciiStrToLower(absl::StripAsciiWhitespace(to_absl(text)));
      if (t == "true" || t == "1") return Scalar{true};
      if (t == "false" || t == "0") return Scalar{false};
      break;
    }
    default: break;
  }
  return std::nullopt;
}

// Sets the value at dotted `parts` of `doc` from `text`. `origin` says where it came from.
void apply_override(toml::table& doc, const std::vector<std::string>& parts, std::string_view text,
                    std::string_view origin, Errors& errors) {
  const std::string path = absl::StrJoin(parts, ".");
  auto fail = [&](std::string message) {
    errors.push_back(path + ": " + message + std::string(origin));
  };
  toml::node* node = &doc;
  toml::node* parent = nullptr;
  std::size_t index = 0;  // of `node` in `parent`, when that is an array
  std::string walked;
  for (const std::string& part : parts) {
    parent = node;
    if (toml::table* table = node->as_table()) {
      node = table->get(part);
      if (node == nullptr) return fail("unknown key");
    } else if (toml::array* array = node->as_array()) {
      const auto result = std::from_chars(part.data(), part.data() + part.size(), index);
      if (part.empty() || result.ec != std::errc() || result.ptr != part.data() + part.size()) {
        return fail("unknown key (select array elements by index, e.g. " + walked + ".0)");
      }
      if (index >= array->size()) {
        return fail("no such element (" + walked + " has " + std::to_string(array->size()) + ")");
      }
      node = array->get(index);
    } else {
      return fail("unknown key");
    }
    walked = join_path(walked, part);
  }
  if (node->is_table() || node->is_array()) {
    return fail("is a " + std::string(type_name(node->type())) + "; set one of its values");
  }
  const std::optional<Scalar> value = parse_as(text, node->type());
  if (!value) {
    return fail("expected " + std::string(type_name(node->type())) + ", got " +
                (is_secret_path(path) ? std::string(kMask) : in_quotes(text)));
  }
  std::visit(
      [&](const auto& v) {
        if (toml::table* table = parent->as_table()) {
          table->insert_or_assign(parts.back(), v);
        } else if (toml::array* array = parent->as_array()) {
          array->replace(array->cbegin() + static_cast<std::ptrdiff_t>(index), v);
        }
      },
      *value);
}

// Dotted paths of every scalar in `node` (array elements by index).
void collect_leaves(const toml::node& node, const std::string& path,
                    std::vector<std::string>& out) {
  if (const toml::table* table = node.as_table()) {
    for (auto&& [key, child] : *table) collect_leaves(child, join_path(path, key.str()), out);
  } else if (const toml::array* array = node.as_array()) {
    for (std::size_t i = 0; i < array->size(); ++i) {
      collect_leaves(*array->get(i), join_path(path, std::to_string(i)), out);
    }
  } else {
    out.push_back(path);
  }
}

std::string env_name_of(std::string_view path) {
  std::string name = "QT_" + absl::AsciiStrToUpper(to_absl(path));
  for (char& c : name) {
    if (c == '.') c = '_';
  }
  return name;
}

void apply_environment(toml::table& doc, const std::vector<std::string>& environment,
                       Errors& errors) {
  std::map<std::string, std::string, std::less<>> paths_by_name;
  std::vector<std::string> leaves;
  collect_leaves(doc, "", leaves);
  for (const std::string& leaf : leaves) paths_by_name.emplace(env_name_of(leaf), leaf);

  for (const std::string& entry : environment) {
    const std::size_t eq = entry.find('=');
    const std::string_view name = std::string_view(entry).substr(0, eq);
    const std::string_view value =
        eq == std::string::npos ? std::string_view() : std::string_view(entry).substr(eq + 1);
    if (name.substr(0, 3) != "QT_") continue;
    // Only QT_<SECTION>... for one of our sections is ours; other QT_ variables (Qt's
    // QT_QPA_PLATFORM, QT_SCALE_FACTOR, ...) are left alone.
    const std::string_view rest = name.substr(3);
    const std::string_view section = rest.substr(0, rest.find('_'));
    bool ours = false;
    for (auto&& [key, unused] : doc) {
      if (absl::AsciiStrToUpper(to_absl(key.str())) == section) ours = true;
    }
    if (!ours) continue;
    const auto it = paths_by_name.find(name);
    if (it == paths_by_name.end()) {
      errors.push_back(std::string(name) +
                       ": unknown configuration environment variable (no config key maps to it)");
      continue;
    }
    const std::vector<std::string> parts = absl::StrSplit(it->second, '.');
    apply_override(doc, parts, value, " (from " + std::string(name) + ")", errors);
  }
}

void apply_set_overrides(toml::table& doc, const std::vector<std::string>& overrides,
                         Errors& errors) {
  for (const std::string& entry : overrides) {
    const std::size_t eq = entry.find('=');
    const absl::string_view key =
        absl::StripAsciiWhitespace(to_absl(std::string_view(entry).substr(0, eq)));
    bool well_formed = eq != std::string::npos && !key.empty();
    const std::vector<std::string> parts = absl::StrSplit(key, '.');
    for (const std::string& part : parts) {
      if (part.empty()) well_formed = false;
    }
    if (!well_formed) {
      errors.push_back("--set " + in_quotes(is_secret_path(from_absl(key)) ? kMask : entry) +
                       ": expected section.key=value");
      continue;
    }
    if (is_secret_path(from_absl(key))) {
      // A command line is readable by every user of the machine (ps, /proc/<pid>/cmdline).
      errors.push_back("--set " + std::string(from_absl(key)) +
                       ": a secret is not accepted on the command line, where every user of the "
                       "machine can read it (ps); give it in the environment or in a file "
                       "(the *_FILE variables)");
      continue;
    }
    apply_override(doc, parts, std::string_view(entry).substr(eq + 1), " (from --set)", errors);
  }
}

// ---------------------------------------------------------------------------------------------
// The pipeline.

struct Loaded {
  toml::table doc;
  AppConfig config;
  Errors errors;
};

Loaded load(const ConfigSources& sources) {
  Loaded out;
  if (auto doc = parse_toml(kDefaultConfigToml, "embedded default config", out.errors)) {
    out.doc = std::move(*doc);
  }
  normalize_default(out.doc, out.errors);

  if (!sources.file_path.empty()) {
    if (auto text = read_file(sources.file_path, out.errors)) {
      if (auto file =
              parse_toml(*text, "config file " + in_quotes(sources.file_path), out.errors)) {
        overlay_table(out.doc, *file, "", out.errors);
      }
    }
  }
  apply_environment(out.doc, sources.environment, out.errors);
  apply_set_overrides(out.doc, sources.set_overrides, out.errors);
  out.config = read_config(out.doc, out.errors);
  return out;
}

absl::Status errors_to_status(const Errors& errors) {
  return absl::InvalidArgumentError(absl::StrJoin(errors, "\n"));
}

}  // namespace

std::string_view default_config_toml() {
  return kDefaultConfigToml;
}

absl::StatusOr<AppConfig> load_config(const ConfigSources& sources) {
  try {
    Loaded loaded = load(sources);
    if (!loaded.errors.empty()) return errors_to_status(loaded.errors);
    return std::move(loaded.config);
  } catch (const std::exception& e) {
    return absl::InternalError(std::string("loading the configuration failed: ") + e.what());
  }
}

absl::StatusOr<std::string> render_effective_config(const ConfigSources& sources) {
  try {
    Loaded loaded = load(sources);
    if (!loaded.errors.empty()) return errors_to_status(loaded.errors);
    return render_masked(std::move(loaded.doc));
  } catch (const std::exception& e) {
    return absl::InternalError(std::string("rendering the configuration failed: ") + e.what());
  }
}

std::vector<std::string> process_environment() {
  std::vector<std::string> out;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    out.emplace_back(*entry);
  }
  return out;
}

}  // namespace qt
