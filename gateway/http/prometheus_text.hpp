// The pieces of Prometheus's text exposition format 0.0.4 that every metric shares: the content
// type, names, escaping and numbers. metrics_registry.hpp writes whole expositions with them.
//
// Guarantees: the append_* functions write into the caller's string and allocate only when it
// must grow; numbers are written so that Prometheus's parser (Go's strconv.ParseFloat) reads back
// the same double: "+Inf", "-Inf", "NaN", integral values below 2^53 as integers, the rest in
// the shortest form that round-trips. Thread-safe (no state).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace qt::http::metrics {

// The Content-Type of a GET /metrics answer.
inline constexpr std::string_view kPrometheusTextContentType =
    "text/plain; version=0.0.4; charset=utf-8";

// [a-zA-Z_:][a-zA-Z0-9_:]*
bool is_valid_metric_name(std::string_view name);
// [a-zA-Z_][a-zA-Z0-9_]*, not starting with "__" (reserved for Prometheus itself).
bool is_valid_label_name(std::string_view name);

// A label value between its quotes: backslash, double quote and line feed escaped.
void append_escaped_label_value(std::string& out, std::string_view value);
// HELP text: backslash and line feed escaped (quotes stay as they are).
void append_escaped_help(std::string& out, std::string_view help);

void append_number(std::string& out, double value);
void append_number(std::string& out, uint64_t value);

}  // namespace qt::http::metrics
