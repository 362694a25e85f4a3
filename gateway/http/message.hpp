// The request a route handler reads and the response it gives back, and the JSON error bodies
// every server-made error uses: {"error": code, "message": text}.
//
// A Request belongs to its connection and stays valid and unchanged until the request's
// Responder has answered or been destroyed; a handler that answers later, from another thread,
// may read it until then (read only). Its text lives in buffers the connection reuses from one
// request to the next; only query_param() and joined_header() allocate (their results).
// A Response is a plain value, built on any thread and moved into Responder::send().
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "gateway/http/api_keys.hpp"

namespace qt::http {

enum class Method : uint8_t { kGet, kHead, kPost, kPut, kDelete, kPatch, kOptions, kOther };
std::string_view to_string(Method method);   // "GET", ...; "OTHER" for kOther
Method parse_method(std::string_view text);  // kOther for anything not listed

struct Header {
  std::string name;
  std::string value;
};
using HeaderList = std::vector<Header>;

struct RouteInfo;  // router.hpp

class Request {
 public:
  Method method() const { return method_; }
  std::string_view method_text() const { return view(method_text_); }  // as received
  unsigned version() const { return version_; }                        // 10 or 11
  std::string_view target() const { return view(target_); }            // as received: path?query
  std::string_view path() const { return view(path_); }                // undecoded
  std::string_view query_string() const { return view(query_); }       // without '?'; may be empty

  // The first `name=value` of the query string, percent-decoded ('+' is a space); "" for
  // `name` or `name=`; nullopt when absent.
  std::optional<std::string> query_param(std::string_view name) const;
  // The value of `{name}` in the route's pattern, percent-decoded; "" when the route has no such
  // parameter.
  std::string_view path_param(std::string_view name) const;

  // The first header of that name (case-insensitive); nullopt when absent.
  std::optional<std::string_view> header(std::string_view name) const;
  // Every header of that name, joined with ", " as RFC 9110 section 5.3 allows.
  std::string joined_header(std::string_view name) const;
  std::size_t header_count() const { return fields_.size(); }
  std::pair<std::string_view, std::string_view> header_at(std::size_t i) const;

  std::string_view body() const { return body_; }

  // After the trusted-proxy rule (client_address.hpp), as text ("203.0.113.9", "2001:db8::1").
  std::string_view client_address() const { return client_address_; }
  std::string_view peer_address() const { return peer_address_; }  // the socket's peer
  // The key's name and role on routes that need a key (after authentication); nullptr on
  // public routes.
  const Principal* principal() const { return principal_ ? &*principal_ : nullptr; }
  // The matched route (set before the admission step and the handler run).
  const RouteInfo& route() const { return *route_; }
  uint64_t connection_id() const { return connection_id_; }

  // For tests and fuzzers that drive a handler or the router without a socket.
  static Request for_test(Method method, std::string_view target, std::string_view body = {},
                          const HeaderList& headers = {});

 private:
  friend class RequestBuilder;  // the connection's parser, in the .cpp files
  struct Span {
    uint32_t offset = 0;
    uint32_t size = 0;
  };
  struct Field {
    Span name;
    Span value;
  };
  std::string_view view(Span span) const {
    return std::string_view(text_).substr(span.offset, span.size);
  }

  Method method_ = Method::kGet;
  unsigned version_ = 11;
  std::string text_;  // method, target and header bytes; Spans point into it
  Span method_text_, target_, path_, query_;
  std::vector<Field> fields_;
  std::string body_;
  std::vector<std::pair<std::string_view, std::string>> path_params_;  // names: the Router's
  std::string client_address_;
  std::string peer_address_;
  std::optional<Principal> principal_;
  const RouteInfo* route_ = nullptr;
  uint64_t connection_id_ = 0;
};

struct Response {
  int status = 200;
  std::string content_type = "application/json";  // empty: no Content-Type header
  std::string body;
  HeaderList headers;  // besides Content-Type, Content-Length, Connection, Date, Server

  static Response json(int status, std::string body) {
    return Response{status, "application/json", std::move(body), {}};
  }
  static Response text(int status, std::string body) {
    return Response{status, "text/plain; charset=utf-8", std::move(body), {}};
  }
};

// {"error": code, "message": text} with `status`. `code` is a short snake_case name
// ("not_found", "invalid_field"), `message` a sentence for people; both are escaped.
Response error_response(int status, std::string_view code, std::string_view message);
// A 400 about one field of a JSON body: {"error": code, "message": text, "field": field}.
Response field_error_response(std::string_view code, std::string_view field,
                              std::string_view message);

// The reason phrase of a status ("Not Found"); "Unknown" for codes it does not list.
std::string_view reason_phrase(int status);

// Whether `content_type` is application/json (case-insensitive, parameters such as charset
// allowed).
bool is_json_content_type(std::string_view content_type);

}  // namespace qt::http
