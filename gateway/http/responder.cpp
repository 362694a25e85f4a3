// Responder and AdmissionReply; see responder.hpp.
#include "gateway/http/responder.hpp"

namespace qt::http {
namespace {

Response unanswered(std::string_view what) {
  return error_response(500, "internal", what);
}

}  // namespace

Responder& Responder::operator=(Responder&& other) noexcept {
  if (this != &other) {
    Responder discarded(std::move(*this));  // answers 500 if it still owed an answer
    handle_ = std::move(other.handle_);
    other.handle_ = {};
  }
  return *this;
}

Responder::~Responder() {
  if (pending()) send(unanswered("the request's handler ended without an answer"));
}

bool Responder::send(Response response) {
  if (!pending()) return false;
  detail::ExchangeHandle handle = std::move(handle_);
  handle_ = {};
  handle.sink->post_response(handle.exchange, std::move(response));
  return true;
}

AdmissionReply& AdmissionReply::operator=(AdmissionReply&& other) noexcept {
  if (this != &other) {
    AdmissionReply discarded(std::move(*this));
    handle_ = std::move(other.handle_);
    other.handle_ = {};
  }
  return *this;
}

AdmissionReply::~AdmissionReply() {
  if (pending()) reject(unanswered("the admission step ended without a decision"));
}

bool AdmissionReply::allow(HeaderList headers) {
  return decide(AdmissionResult{std::nullopt, std::move(headers)});
}

bool AdmissionReply::reject(Response response) {
  return decide(AdmissionResult{std::move(response), {}});
}

bool AdmissionReply::decide(AdmissionResult result) {
  if (!pending()) return false;
  detail::ExchangeHandle handle = std::move(handle_);
  handle_ = {};
  handle.sink->post_admission(handle.exchange, std::move(result));
  return true;
}

}  // namespace qt::http
