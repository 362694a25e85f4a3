// How a handler, and the admission step before it, give their answer back to the connection —
// now or later, from any thread.
//
//   Responder       the handler's promise to answer one request. send() may be called once, on
//                   any thread (the engine's reply thread when the journal record is durable);
//                   the response is handed to the connection's I/O thread, never written from
//                   the caller's. A Responder destroyed without an answer sends 500, so a lost
//                   request cannot hang its client. Move-only.
//   AdmissionReply  the admission step's verdict (the rate limiter's): allow, with headers to
//                   add to the eventual response (X-RateLimit-*), or reject with a response of
//                   its own (429 + Retry-After). Once, any thread; destroyed undecided → 500.
//
// Both keep the connection and the server's I/O contexts alive until they are used or
// destroyed, so they may outlive HttpServer::stop() (the answer is then dropped). One object is
// used by one thread at a time; different ones on different threads freely.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>

#include "gateway/http/message.hpp"

namespace qt::http {

struct AdmissionResult {
  std::optional<Response> rejection;  // set: answered with it, the handler does not run
  HeaderList headers;                 // added to the response the request eventually gets
};

namespace detail {
// The connection side of a Responder / AdmissionReply. post_*() are called on any thread and
// hand the result to the connection's own thread; a result for an exchange the connection is
// no longer waiting for (closed, stopped) is dropped.
class ExchangeSink {
 public:
  virtual ~ExchangeSink() = default;
  virtual void post_response(uint64_t exchange, Response response) = 0;
  virtual void post_admission(uint64_t exchange, AdmissionResult result) = 0;
};

struct ExchangeHandle {
  std::shared_ptr<void> server;  // the I/O contexts; declared first, so released last
  std::shared_ptr<ExchangeSink> sink;
  uint64_t exchange = 0;
};
}  // namespace detail

class Responder {
 public:
  Responder() = default;  // owes nothing
  explicit Responder(detail::ExchangeHandle handle) : handle_(std::move(handle)) {}
  Responder(Responder&& other) noexcept = default;
  Responder& operator=(Responder&& other) noexcept;
  Responder(const Responder&) = delete;
  Responder& operator=(const Responder&) = delete;
  ~Responder();

  // Hands `response` to the connection. false (and nothing sent) when this Responder already
  // answered or was moved from.
  bool send(Response response);
  bool pending() const { return handle_.sink != nullptr; }

 private:
  detail::ExchangeHandle handle_;
};

class AdmissionReply {
 public:
  AdmissionReply() = default;
  explicit AdmissionReply(detail::ExchangeHandle handle) : handle_(std::move(handle)) {}
  AdmissionReply(AdmissionReply&& other) noexcept = default;
  AdmissionReply& operator=(AdmissionReply&& other) noexcept;
  AdmissionReply(const AdmissionReply&) = delete;
  AdmissionReply& operator=(const AdmissionReply&) = delete;
  ~AdmissionReply();

  // The request goes on to the handler; `headers` are added to its response.
  bool allow(HeaderList headers = {});
  // The request is answered with `response` (its own headers included); the handler never
  // runs.
  bool reject(Response response);
  bool pending() const { return handle_.sink != nullptr; }

 private:
  bool decide(AdmissionResult result);
  detail::ExchangeHandle handle_;
};

}  // namespace qt::http
