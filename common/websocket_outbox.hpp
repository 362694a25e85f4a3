// WebSocketOutbox: text frames out of one Boost.Beast WebSocket in the order given, one write in
// flight at a time (a Beast stream allows only one). Used by the simulator's stream and the test
// servers. Not thread-safe: every call on the stream's executor. No bound of its own: the caller
// decides what to refuse before push(). A failed write stops the outbox.
#pragma once

#include <boost/asio/buffer.hpp>
#include <boost/beast/core/error.hpp>
#include <cstddef>
#include <deque>
#include <iterator>
#include <memory>
#include <string>
#include <utility>

namespace qt {

template <class WebSocket>
class WebSocketOutbox {
 public:
  explicit WebSocketOutbox(WebSocket& ws) : ws_(ws) {}
  WebSocketOutbox(const WebSocketOutbox&) = delete;
  WebSocketOutbox& operator=(const WebSocketOutbox&) = delete;

  // Queues `frame` and starts writing it unless a write is in flight. `owner` keeps the stream
  // and this outbox alive until the writes complete.
  void push(std::string frame, std::shared_ptr<void> owner) {
    if (stopped_) return;
    frames_.push_back(std::move(frame));
    if (!writing_) write_front(std::move(owner));
  }

  // Refuses every later frame and drops the queued ones (the one being written, if any, stays
  // until its write completes).
  void stop() {
    stopped_ = true;
    frames_.erase(writing_ ? std::next(frames_.begin()) : frames_.begin(), frames_.end());
  }

  std::size_t size() const { return frames_.size(); }

 private:
  void write_front(std::shared_ptr<void> owner) {
    writing_ = true;
    ws_.text(true);
    ws_.async_write(
        boost::asio::buffer(frames_.front()),
        [this, owner = std::move(owner)](boost::beast::error_code ec, std::size_t) mutable {
          frames_.pop_front();
          writing_ = false;
          if (ec) stop();
          if (!stopped_ && !frames_.empty()) write_front(std::move(owner));
        });
  }

  WebSocket& ws_;
  std::deque<std::string> frames_;
  bool writing_ = false;
  bool stopped_ = false;
};

}  // namespace qt
