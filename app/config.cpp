// Configuration loading: the embedded default document is the schema. A config file may only
// overlay keys that exist there (arrays of tables take their element schema from the C++ struct
// defaults), environment variables and --set flags may only change existing values, and each
// value keeps the type the default gives it. Every problem is collected, then reported at once.
#include "app/config.hpp"

#include <toml++/toml.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <limits>
#include <map>
#include <optional>
#include <sstream>
#include <system_error>
#include <utility>
#include <variant>

#include "absl/status/status.h"

extern char** environ;

namespace qt {
namespace {

constexpr std::string_view kDefaultConfigToml =
#include "app/default_config_toml.inc"
    ;

constexpr std::string_view kMask = "********";
constexpr std::size_t kMaxSymbolLength = 31;  // InstrumentSpec::kSymbolCapacity - 1
constexpr int kMaxDecimals = 9;

using Errors = std::vector<std::string>;

// ---------------------------------------------------------------------------------------------
// Small string helpers.

std::string to_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string to_upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

std::string join(const std::vector<std::string>& parts, std::string_view separator) {
  std::string out;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (i != 0) out += separator;
    out += parts[i];
  }
  return out;
}

std::vector<std::string> split(std::string_view s, char separator) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (true) {
    const std::size_t end = s.find(separator, start);
    parts.emplace_back(s.substr(start, end == std::string_view::npos ? s.npos : end - start));
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  return parts;
}

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
  const std::string lower = to_lower(name);
  for (std::string_view word : {"password", "api_key", "secret", "token"}) {
    if (lower.find(word) != std::string::npos) return true;
  }
  return false;
}

// A dotted path is secret if any component is (so a whole [secrets] table is masked too).
bool is_secret_path(std::string_view path) {
  for (const std::string& part : split(path, '.')) {
    if (is_secret_name(part)) return true;
  }
  return false;
}

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
      std::string_view t = trim(text);
      if (!t.empty() && t.front() == '+') t.remove_prefix(1);
      int64_t value = 0;
      const auto result = std::from_chars(t.data(), t.data() + t.size(), value);
      if (t.empty() || result.ec != std::errc() || result.ptr != t.data() + t.size()) break;
      return Scalar{value};
    }
    case toml::node_type::floating_point: {
      std::string_view t = trim(text);
      if (!t.empty() && t.front() == '+') t.remove_prefix(1);
      double value = 0;
      const auto result = std::from_chars(t.data(), t.data() + t.size(), value);
      if (t.empty() || result.ec != std::errc() || result.ptr != t.data() + t.size()) break;
      return Scalar{value};
    }
    case toml::node_type::boolean: {
      const std::string t = to_lower(trim(text));
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
  const std::string path = join(parts, ".");
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
  std::string name = "QT_" + to_upper(path);
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
      if (to_upper(key.str()) == section) ours = true;
    }
    if (!ours) continue;
    const auto it = paths_by_name.find(name);
    if (it == paths_by_name.end()) {
      errors.push_back(std::string(name) +
                       ": unknown configuration environment variable (no config key maps to it)");
      continue;
    }
    apply_override(doc, split(it->second, '.'), value, " (from " + std::string(name) + ")", errors);
  }
}

void apply_set_overrides(toml::table& doc, const std::vector<std::string>& overrides,
                         Errors& errors) {
  for (const std::string& entry : overrides) {
    const std::size_t eq = entry.find('=');
    const std::string_view key = trim(std::string_view(entry).substr(0, eq));
    bool well_formed = eq != std::string::npos && !key.empty();
    const std::vector<std::string> parts = split(key, '.');
    for (const std::string& part : parts) {
      if (part.empty()) well_formed = false;
    }
    if (!well_formed) {
      errors.push_back("--set " + in_quotes(is_secret_path(key) ? kMask : entry) +
                       ": expected section.key=value");
      continue;
    }
    apply_override(doc, parts, std::string_view(entry).substr(eq + 1), " (from --set)", errors);
  }
}

// ---------------------------------------------------------------------------------------------
// Reading the merged document into AppConfig, validating as we go.

// One table of the document, with the dotted path used in messages.
class Section {
 public:
  Section(const toml::table* table, std::string path, Errors& errors)
      : table_(table), path_(std::move(path)), errors_(&errors) {}

  const std::string& path() const { return path_; }
  std::string key_path(std::string_view key) const { return join_path(path_, key); }
  Errors& errors() const { return *errors_; }

  Section sub(std::string_view key) const {
    const toml::table* child = nullptr;
    if (table_ != nullptr) {
      child = table_->get_as<toml::table>(key);
      if (child == nullptr) internal_missing(key, "table");
    }
    return Section(child, key_path(key), *errors_);
  }

  std::string str(std::string_view key) const {
    if (const auto* v = get(key, "string")) {
      if (const auto* s = v->as_string()) return s->get();
      internal_missing(key, "string");
    }
    return {};
  }

  bool boolean(std::string_view key) const {
    if (const auto* v = get(key, "boolean")) {
      if (const auto* b = v->as_boolean()) return b->get();
      internal_missing(key, "boolean");
    }
    return false;
  }

  // Floats accept integers; non-finite values are rejected here for every key.
  double number(std::string_view key) const {
    if (const auto* v = get(key, "float")) {
      double value = 0;
      if (const auto* f = v->as_floating_point()) {
        value = f->get();
      } else if (const auto* i = v->as_integer()) {
        value = static_cast<double>(i->get());
      } else {
        internal_missing(key, "float");
        return 0;
      }
      if (!std::isfinite(value)) {
        errors_->push_back(key_path(key) + ": must be a finite number; got " +
                           format_double(value));
        return 0;
      }
      return value;
    }
    return 0;
  }

  int64_t integer(std::string_view key) const {
    if (const auto* v = get(key, "integer")) {
      if (const auto* i = v->as_integer()) return i->get();
      internal_missing(key, "integer");
    }
    return 0;
  }

  // An integer that must lie in [lo, hi] (and fit an int).
  int int_in(std::string_view key, int64_t lo, int64_t hi) const {
    const int64_t value = integer(key);
    if (value < lo || value > hi) {
      std::string message = key_path(key) + ": must be ";
      if (hi == std::numeric_limits<int>::max()) {
        message += lo == 1 ? "> 0" : ">= " + std::to_string(lo);
      } else {
        message += "between " + std::to_string(lo) + " and " + std::to_string(hi);
      }
      errors_->push_back(message + "; got " + std::to_string(value));
      return static_cast<int>(std::clamp<int64_t>(value, lo, hi));
    }
    return static_cast<int>(value);
  }

  double positive(std::string_view key) const {
    const double value = number(key);
    if (!(value > 0)) {
      errors_->push_back(key_path(key) + ": must be > 0; got " + format_double(value));
    }
    return value;
  }

  double non_negative(std::string_view key) const {
    const double value = number(key);
    if (!(value >= 0)) {
      errors_->push_back(key_path(key) + ": must be >= 0; got " + format_double(value));
    }
    return value;
  }

  // A string that must be one of `choices`.
  std::string choice(std::string_view key, std::initializer_list<std::string_view> choices) const {
    std::string value = str(key);
    if (table_ == nullptr) return value;
    for (std::string_view c : choices) {
      if (value == c) return value;
    }
    std::string message = key_path(key) + ": must be one of ";
    bool first = true;
    for (std::string_view c : choices) {
      if (!first) message += ", ";
      message += c;
      first = false;
    }
    message += "; got " + (is_secret_path(key_path(key)) ? std::string(kMask) : in_quotes(value));
    errors_->push_back(std::move(message));
    return value;
  }

 private:
  const toml::node* get(std::string_view key, std::string_view expected) const {
    if (table_ == nullptr) return nullptr;  // the missing table was already reported
    const toml::node* node = table_->get(key);
    if (node == nullptr) internal_missing(key, expected);
    return node;
  }

  void internal_missing(std::string_view key, std::string_view expected) const {
    errors_->push_back(key_path(key) + ": missing or not a " + std::string(expected) +
                       " (internal: the embedded default lacks it)");
  }

  const toml::table* table_;
  std::string path_;
  Errors* errors_;
};

ThreadingModeKind threading_from(std::string_view s) {
  if (s == "shared") return ThreadingModeKind::kShared;
  if (s == "dedicated") return ThreadingModeKind::kDedicated;
  return ThreadingModeKind::kAuto;
}

WaitMode wait_from(std::string_view s) {
  if (s == "spin") return WaitMode::kSpin;
  if (s == "yield") return WaitMode::kYield;
  return WaitMode::kPark;
}

ThreadConfig read_thread(const Section& threads, std::string_view name) {
  const Section s = threads.sub(name);
  ThreadConfig t;
  t.cpu = s.int_in("cpu", -1, std::numeric_limits<int>::max());
  t.wait = wait_from(s.choice("wait", {"spin", "yield", "park"}));
  return t;
}

// `value` (> 0) must be a whole number of 10^-decimals units.
void check_on_grid(const Section& s, std::string_view key, double value, int decimals,
                   std::string_view decimals_key) {
  if (!(value > 0) || decimals < 0 || decimals > kMaxDecimals) return;
  const double scaled = value * std::pow(10.0, decimals);
  const double rounded = std::round(scaled);
  if (rounded < 1 || std::fabs(scaled - rounded) > 1e-6 * std::max(1.0, std::fabs(scaled))) {
    s.errors().push_back(s.key_path(key) + ": " + format_double(value) +
                         " is not a whole multiple of " +
                         (decimals == 0 ? std::string("1") : "1e-" + std::to_string(decimals)) +
                         " (" + std::string(decimals_key) + " = " + std::to_string(decimals) + ")");
  }
}

InstrumentConfig read_instrument(const Section& s) {
  InstrumentConfig c;
  c.symbol = s.str("symbol");
  if (c.symbol.empty()) {
    s.errors().push_back(s.key_path("symbol") + ": must not be empty");
  } else if (c.symbol.size() > kMaxSymbolLength) {
    s.errors().push_back(s.key_path("symbol") + ": must be at most " +
                         std::to_string(kMaxSymbolLength) + " characters; got " +
                         in_quotes(c.symbol));
  }
  c.price_decimals = s.int_in("price_decimals", 0, kMaxDecimals);
  c.size_decimals = s.int_in("size_decimals", 0, kMaxDecimals);
  c.tick = s.positive("tick");
  c.min_size = s.positive("min_size");
  c.size_increment = s.positive("size_increment");
  c.max_size = s.non_negative("max_size");
  c.contract_multiplier = s.positive("contract_multiplier");
  c.max_order_size = s.positive("max_order_size");
  c.max_position = s.positive("max_position");
  c.initial_price = s.positive("initial_price");
  c.spread = s.non_negative("spread");
  c.volatility_bps = s.non_negative("volatility_bps");

  check_on_grid(s, "tick", c.tick, c.price_decimals, "price_decimals");
  check_on_grid(s, "min_size", c.min_size, c.size_decimals, "size_decimals");
  check_on_grid(s, "size_increment", c.size_increment, c.size_decimals, "size_decimals");
  check_on_grid(s, "max_size", c.max_size, c.size_decimals, "size_decimals");
  if (c.max_size > 0 && c.min_size > c.max_size) {
    s.errors().push_back(s.key_path("min_size") + ": must not exceed max_size (" +
                         format_double(c.min_size) + " > " + format_double(c.max_size) + ")");
  }
  return c;
}

StrategyConfig read_strategy(const Section& s) {
  StrategyConfig c;
  c.type = s.choice("type", {"ma_crossover", "quoter"});
  c.instrument = s.str("instrument");
  c.size = s.positive("size");
  const int max_int = std::numeric_limits<int>::max();
  c.fast_window = s.int_in("fast_window", 1, max_int);
  c.slow_window = s.int_in("slow_window", 1, max_int);
  if (c.fast_window >= c.slow_window) {
    s.errors().push_back(s.key_path("fast_window") + ": must be < slow_window; got " +
                         std::to_string(c.fast_window) + " >= " + std::to_string(c.slow_window));
  }
  c.quote_offset_bps = s.positive("quote_offset_bps");
  c.max_position = s.positive("max_position");
  c.timer_ms = s.int_in("timer_ms", 1, max_int);
  return c;
}

AppConfig read_config(const toml::table& doc, Errors& errors) {
  AppConfig c;
  const Section root(&doc, "", errors);
  const int max_int = std::numeric_limits<int>::max();

  c.threading =
      threading_from(root.sub("engine").choice("threading", {"auto", "shared", "dedicated"}));

  const Section threads = root.sub("threads");
  c.engine_thread = read_thread(threads, "engine");
  c.feed_thread = read_thread(threads, "feed");
  c.venue_thread = read_thread(threads, "venue");

  const Section risk = root.sub("risk");
  c.max_order_notional = risk.positive("max_order_notional");
  c.price_collar_bps = risk.positive("price_collar_bps");
  c.max_orders_per_second = risk.int_in("max_orders_per_second", 1, max_int);
  c.trading_state = risk.choice("trading_state", {"active", "reducing", "halted"});

  const Section venue = root.sub("venue");
  c.venue_kind = venue.choice("kind", {"capital", "paper"});
  c.unknown_resolution_ms = venue.int_in("unknown_resolution_ms", 100, 3'600'000);

  const Section feed = root.sub("feed");
  const int64_t seed = feed.integer("seed");
  if (seed < 0)
    errors.push_back(feed.key_path("seed") + ": must be >= 0; got " + std::to_string(seed));
  c.feed_seed = static_cast<uint64_t>(std::max<int64_t>(seed, 0));
  c.quotes_per_second = feed.int_in("quotes_per_second", 1, max_int);

  const Section run = root.sub("run");
  c.status_interval_seconds = run.positive("status_interval_seconds");
  c.cancel_on_shutdown = run.boolean("cancel_on_shutdown");

  const Section persist = root.sub("persist");
  c.data_dir = persist.str("data_dir");
  if (c.data_dir.empty()) errors.push_back(persist.key_path("data_dir") + ": must not be empty");
  c.segment_size_mib = persist.int_in("segment_size_mib", 1, 4096);
  c.durability = persist.choice("durability", {"async", "group", "sync"});
  c.group_commit_us = persist.int_in("group_commit_us", 0, 1'000'000);
  c.group_commit_records = persist.int_in("group_commit_records", 1, 16384);
  c.snapshot_interval_seconds = persist.positive("snapshot_interval_seconds");
  c.snapshot_keep = persist.int_in("snapshot_keep", 1, 1000);
  c.segment_retention_hours = persist.non_negative("segment_retention_hours");
  c.archive_segments = persist.boolean("archive_segments");

  const Section load = root.sub("load");
  c.load_orders_per_second = load.non_negative("orders_per_second");
  c.load_ack_log = load.str("ack_log");

  const Section log = root.sub("log");
  c.log_level = log.choice("level", {"trace", "debug", "info", "warn", "error"});
  c.log_format = log.choice("format", {"text", "json"});

  const Section capital = root.sub("capital");
  c.capital_api_key = capital.str("api_key");
  c.capital_identifier = capital.str("identifier");
  c.capital_password = capital.str("password");

  std::map<std::string, std::size_t, std::less<>> instrument_index;
  if (const toml::array* instruments = doc.get_as<toml::array>("instruments")) {
    for (std::size_t i = 0; i < instruments->size(); ++i) {
      const Section s(instruments->get_as<toml::table>(i),
                      join_path("instruments", std::to_string(i)), errors);
      InstrumentConfig instrument = read_instrument(s);
      if (!instrument.symbol.empty()) {
        const auto [it, inserted] = instrument_index.emplace(instrument.symbol, i);
        if (!inserted) {
          errors.push_back(s.key_path("symbol") + ": duplicate symbol " +
                           in_quotes(instrument.symbol) + " (also instruments." +
                           std::to_string(it->second) + ")");
        }
      }
      c.instruments.push_back(std::move(instrument));
    }
  }
  if (c.instruments.empty()) errors.push_back("instruments: at least one instrument is required");

  if (const toml::array* strategies = doc.get_as<toml::array>("strategies")) {
    for (std::size_t i = 0; i < strategies->size(); ++i) {
      const Section s(strategies->get_as<toml::table>(i),
                      join_path("strategies", std::to_string(i)), errors);
      StrategyConfig strategy = read_strategy(s);
      const auto it = instrument_index.find(strategy.instrument);
      if (it == instrument_index.end()) {
        std::vector<std::string> known;
        for (const InstrumentConfig& instrument : c.instruments) known.push_back(instrument.symbol);
        errors.push_back(s.key_path("instrument") + ": unknown instrument " +
                         in_quotes(strategy.instrument) + " (configured: " + join(known, ", ") +
                         ")");
      } else if (const InstrumentConfig& instrument = c.instruments[it->second];
                 strategy.size > 0 && strategy.size < instrument.min_size) {
        errors.push_back(s.key_path("size") + ": " + format_double(strategy.size) + " is below " +
                         instrument.symbol + "'s min_size " + format_double(instrument.min_size));
      }
      c.strategies.push_back(std::move(strategy));
    }
  }
  return c;
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
  return absl::InvalidArgumentError(join(errors, "\n"));
}

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
    mask_secrets(loaded.doc, false);
    std::ostringstream os;
    os << "# Effective configuration (secrets masked)\n";
    render_table(os, loaded.doc, "");
    return os.str();
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
