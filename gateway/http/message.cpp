// Request accessors, the request builder and the JSON error bodies; see message.hpp.
#include "gateway/http/message.hpp"

#include <strings.h>

#include <limits>

#include "common/json_writer.hpp"
#include "gateway/http/request_builder.hpp"

namespace qt::http {
namespace {

bool same_name(std::string_view a, std::string_view b) {
  return a.size() == b.size() && ::strncasecmp(a.data(), b.data(), a.size()) == 0;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string_view to_string(Method method) {
  switch (method) {
    case Method::kGet: return "GET";
    case Method::kHead: return "HEAD";
    case Method::kPost: return "POST";
    case Method::kPut: return "PUT";
    case Method::kDelete: return "DELETE";
    case Method::kPatch: return "PATCH";
    case Method::kOptions: return "OPTIONS";
    case Method::kOther: return "OTHER";
  }
  return "OTHER";
}

Method parse_method(std::string_view text) {
  // Methods are case-sensitive (RFC 9110 section 9.1).
  if (text == "GET") return Method::kGet;
  if (text == "HEAD") return Method::kHead;
  if (text == "POST") return Method::kPost;
  if (text == "PUT") return Method::kPut;
  if (text == "DELETE") return Method::kDelete;
  if (text == "PATCH") return Method::kPatch;
  if (text == "OPTIONS") return Method::kOptions;
  return Method::kOther;
}

void percent_decode(std::string_view text, bool plus_is_space, std::string& out) {
  out.clear();
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '%' && i + 2 < text.size() && hex_value(text[i + 1]) >= 0 &&
        hex_value(text[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hex_value(text[i + 1]) << 4 | hex_value(text[i + 2])));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
}

std::optional<std::string> Request::query_param(std::string_view name) const {
  std::string_view rest = query_string();
  std::string decoded_name;
  while (!rest.empty()) {
    const std::size_t amp = rest.find('&');
    const std::string_view pair = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
    const std::size_t equals = pair.find('=');
    percent_decode(pair.substr(0, equals), true, decoded_name);
    if (decoded_name != name) continue;
    std::string value;
    if (equals != std::string_view::npos) percent_decode(pair.substr(equals + 1), true, value);
    return value;
  }
  return std::nullopt;
}

std::string_view Request::path_param(std::string_view name) const {
  for (const auto& [param, value] : path_params_) {
    if (param == name) return value;
  }
  return {};
}

std::optional<std::string_view> Request::header(std::string_view name) const {
  for (const Field& field : fields_) {
    if (same_name(view(field.name), name)) return view(field.value);
  }
  return std::nullopt;
}

std::string Request::joined_header(std::string_view name) const {
  std::string joined;
  for (const Field& field : fields_) {
    if (!same_name(view(field.name), name)) continue;
    if (!joined.empty()) joined += ", ";
    joined += view(field.value);
  }
  return joined;
}

std::pair<std::string_view, std::string_view> Request::header_at(std::size_t i) const {
  return {view(fields_[i].name), view(fields_[i].value)};
}

Request Request::for_test(Method method, std::string_view target, std::string_view body,
                          const HeaderList& headers) {
  Request request;
  RequestBuilder builder(request);
  builder.set_request_line(to_string(method), target, 11);
  for (const Header& header : headers) builder.add_header(header.name, header.value);
  builder.body().assign(body);
  builder.set_addresses("127.0.0.1", "127.0.0.1");
  return request;
}

void RequestBuilder::clear() {
  request_.method_ = Method::kGet;
  request_.version_ = 11;
  request_.text_.clear();
  request_.method_text_ = request_.target_ = request_.path_ = request_.query_ = {};
  request_.fields_.clear();
  request_.body_.clear();
  request_.path_params_.clear();
  request_.principal_.reset();
  request_.route_ = nullptr;
}

Request::Span RequestBuilder::append(std::string_view text) {
  Request::Span span{static_cast<uint32_t>(request_.text_.size()),
                     static_cast<uint32_t>(text.size())};
  request_.text_.append(text);
  return span;
}

bool RequestBuilder::set_request_line(std::string_view method, std::string_view target,
                                      unsigned version) {
  constexpr std::size_t kMaxText = std::numeric_limits<uint32_t>::max() / 2;
  if (method.size() + target.size() > kMaxText) return false;
  request_.method_ = parse_method(method);
  request_.version_ = version;
  request_.method_text_ = append(method);
  request_.target_ = append(target);
  if (target.empty() || target.front() != '/') return false;
  const std::size_t question = target.find('?');
  request_.path_ = request_.target_;
  if (question != std::string_view::npos) {
    request_.path_.size = static_cast<uint32_t>(question);
    request_.query_ = Request::Span{request_.target_.offset + static_cast<uint32_t>(question) + 1,
                                    static_cast<uint32_t>(target.size() - question - 1)};
  }
  return true;
}

void RequestBuilder::add_header(std::string_view name, std::string_view value) {
  const Request::Span name_span = append(name);
  const Request::Span value_span = append(value);
  request_.fields_.push_back(Request::Field{name_span, value_span});
}

Response error_response(int status, std::string_view code, std::string_view message) {
  JsonWriter json;
  json.begin_object().member("error", code).member("message", message).end_object();
  return Response::json(status, json.take());
}

Response field_error_response(std::string_view code, std::string_view field,
                              std::string_view message) {
  JsonWriter json;
  json.begin_object()
      .member("error", code)
      .member("message", message)
      .member("field", field)
      .end_object();
  return Response::json(400, json.take());
}

std::string_view reason_phrase(int status) {
  switch (status) {
    case 100: return "Continue";
    case 101: return "Switching Protocols";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 301: return "Moved Permanently";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 411: return "Length Required";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Content";
    case 426: return "Upgrade Required";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "Unknown";
  }
}

bool is_json_content_type(std::string_view content_type) {
  constexpr std::string_view kJson = "application/json";
  while (!content_type.empty() && content_type.front() == ' ') content_type.remove_prefix(1);
  if (content_type.size() < kJson.size() ||
      ::strncasecmp(content_type.data(), kJson.data(), kJson.size()) != 0) {
    return false;
  }
  const std::string_view rest = content_type.substr(kJson.size());
  const std::size_t end = rest.find_first_not_of(" \t");
  return end == std::string_view::npos || rest[end] == ';';
}

}  // namespace qt::http
