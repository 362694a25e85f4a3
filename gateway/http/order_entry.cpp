#include "gateway/http/order_entry.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdlib>

#include "common/json_writer.hpp"
#include "engine/clock.hpp"

namespace qt::http {

namespace {

constexpr int64_t kParkNs = 1'000'000;  // a missed ring costs at most this

// "PartiallyFilled" → "partially_filled": the API's spelling of engine names.
std::string snake(std::string_view name) {
  std::string out;
  for (const char c : name) {
    if (c >= 'A' && c <= 'Z') {
      if (!out.empty()) out += '_';
      out += static_cast<char>(c - 'A' + 'a');
    } else {
      out += c;
    }
  }
  return out;
}

bool is_live(OrderState state) {
  return state == OrderState::kPendingNew || state == OrderState::kNew ||
         state == OrderState::kPartiallyFilled || state == OrderState::kPendingCancel ||
         state == OrderState::kUnknown;
}

Response error(int status, std::string_view code, std::string_view message) {
  JsonWriter w;
  w.begin_object().member("error", code).member("message", message).end_object();
  return Response::json(status, w.take());
}

Response busy(std::string_view what) {
  Response response = error(503, "busy", what);
  response.headers.push_back({"Retry-After", "1"});
  return response;
}

// The HTTP status a refusal is answered with: the client's mistake (409 repeat), the engine's
// risk rules (422, with the reason), or "not now" (503 with Retry-After).
int status_of(RejectReason reason) {
  switch (reason) {
    case RejectReason::kDuplicateClientOrderId: return 409;
    case RejectReason::kRateThrottle:
    case RejectReason::kVenueBusy:
    case RejectReason::kJournalBusy:
    case RejectReason::kNotReady:
    case RejectReason::kJournalFailed:
    case RejectReason::kOrderPoolExhausted: return 503;
    default: return 422;
  }
}

}  // namespace

OrderEntry::OrderEntry(std::vector<InstrumentSpec> instruments, OrderEntryOptions options)
    : instruments_(std::move(instruments)), options_(options) {}

OrderEntry::~OrderEntry() {
  stop();
}

ClientPort OrderEntry::port() {
  ClientPort port;
  port.commands = commands_.get();
  port.updates = updates_.get();
  port.updates_doorbell = &doorbell_;
  return port;
}

void OrderEntry::seed(const std::vector<Order>& orders) {
  for (const Order& order : orders) {
    if (order.source != source_ || order.client_order_id.view().empty()) continue;
    OrderUpdate update;
    update.client_order_id = order.client_order_id;
    update.order_id = order.id;
    update.source = order.source;
    update.instrument = order.instrument;
    update.side = order.side;
    update.state = order.state;
    update.order_size = order.size;
    update.filled_size = order.filled_size;
    update.average_fill_price = order.average_fill_price;
    Entry& entry = new_entry(order.client_order_id.view());
    entry.last = update;
    // The original answer was "accepted" (the order exists); it is answered as it is now.
    const auto [status, body] = answer_of(update);
    entry.answer_status = 201;
    entry.answer = body;
    (void)status;
    by_order_id_[order.id] = std::string(order.client_order_id.view());
  }
}

void OrderEntry::start() {
  if (running_.exchange(true)) return;
  thread_ = std::thread([this] { loop(); });
}

void OrderEntry::stop() {
  if (!running_.exchange(false)) return;
  doorbell_.ring();
  if (thread_.joinable()) thread_.join();
  Job job;
  while (jobs_.try_dequeue(job)) job.responder.send(busy("the HTTP API is stopping"));
  for (auto& [id, entry] : index_) {
    for (Responder& waiting : entry.waiting) waiting.send(busy("the HTTP API is stopping"));
    entry.waiting.clear();
  }
}

void OrderEntry::enqueue(Job job) {
  if (!running_.load(std::memory_order_acquire) ||
      queued_.fetch_add(1, std::memory_order_acq_rel) >= options_.max_pending) {
    if (running_.load(std::memory_order_acquire)) queued_.fetch_sub(1, std::memory_order_acq_rel);
    EngineStats::bump(stats_.busy_refusals);
    job.responder.send(busy("too many requests are waiting for the engine; retry shortly"));
    return;
  }
  Responder& responder = job.responder;
  if (!jobs_.enqueue(std::move(job))) {  // allocation failed: the queue could not grow
    queued_.fetch_sub(1, std::memory_order_acq_rel);
    responder.send(busy("out of memory for queued requests"));
    return;
  }
  doorbell_.ring();
}

void OrderEntry::submit(TradeRequest request, Responder responder) {
  Job job;
  job.kind = JobKind::kSubmit;
  job.command.kind = CommandKind::kNewOrder;
  job.command.new_order = request.order;
  job.responder = std::move(responder);
  enqueue(std::move(job));
}

void OrderEntry::cancel(std::string_view client_order_id, OrderId order_id, Responder responder) {
  Job job;
  job.kind = JobKind::kCancel;
  job.command.kind = CommandKind::kCancelOrder;
  job.command.cancel = CancelOrder{};
  job.command.cancel.client_order_id = ClientOrderId::from(client_order_id);
  job.command.cancel.order_id = order_id;
  job.responder = std::move(responder);
  enqueue(std::move(job));
}

void OrderEntry::control(ControlCommand command, Responder responder) {
  Job job;
  job.kind = JobKind::kControl;
  job.command.kind = CommandKind::kControl;
  job.command.control = command;
  job.responder = std::move(responder);
  enqueue(std::move(job));
}

void OrderEntry::find(std::string key, Responder responder) {
  Job job;
  job.kind = JobKind::kFind;
  job.key = std::move(key);
  job.responder = std::move(responder);
  enqueue(std::move(job));
}

void OrderEntry::list(bool open_only, Responder responder) {
  Job job;
  job.kind = JobKind::kList;
  job.open_only = open_only;
  job.responder = std::move(responder);
  enqueue(std::move(job));
}

void OrderEntry::loop() {
  while (running_.load(std::memory_order_acquire)) {
    const int work = run_jobs() + drain_updates();
    if (work > 0) continue;
    const uint32_t epoch = doorbell_.prepare_wait();
    if (jobs_.size_approx() == 0 && updates_->empty_approx() &&
        running_.load(std::memory_order_acquire)) {
      doorbell_.wait(epoch, kParkNs);
    }
    doorbell_.cancel_wait();
  }
}

int OrderEntry::run_jobs() {
  int work = 0;
  Job job;
  while (work < 256 && jobs_.try_dequeue(job)) {
    queued_.fetch_sub(1, std::memory_order_acq_rel);
    handle(job);
    ++work;
  }
  return work;
}

int OrderEntry::drain_updates() {
  return static_cast<int>(
      updates_->drain([this](const OrderUpdate& update) { on_update(update); }));
}

bool OrderEntry::push_command(const ClientCommand& command) {
  if (!commands_->try_push(command)) return false;
  if (engine_doorbell_ != nullptr) engine_doorbell_->ring();
  return true;
}

void OrderEntry::handle(Job& job) {
  switch (job.kind) {
    case JobKind::kSubmit: {
      NewOrder& order = job.command.new_order;
      order.source = source_;
      const std::string client_id(order.client_order_id.view());
      if (Entry* entry = entry_of(client_id)) {
        // The idempotency key was seen: the original answer, never a second order.
        EngineStats::bump(stats_.idempotent_replays);
        if (entry->answer_status == 0) {
          entry->waiting.push_back(std::move(job.responder));
        } else {
          Response response = Response::json(entry->answer_status, entry->answer);
          response.headers.push_back({"Idempotent-Replayed", "true"});
          job.responder.send(std::move(response));
        }
        return;
      }
      order.created_ns = now_ns();
      if (!push_command(job.command)) {
        EngineStats::bump(stats_.busy_refusals);
        job.responder.send(busy("the engine's command ring is full; retry shortly"));
        return;
      }
      EngineStats::bump(stats_.orders_submitted);
      Entry& entry = new_entry(client_id);
      entry.last.client_order_id = order.client_order_id;
      entry.last.instrument = order.instrument;
      entry.last.side = order.side;
      entry.last.order_size = order.size;
      entry.waiting.push_back(std::move(job.responder));
      return;
    }
    case JobKind::kCancel: {
      std::string client_id(job.command.cancel.client_order_id.view());
      if (job.command.cancel.order_id != 0) {
        auto it = by_order_id_.find(job.command.cancel.order_id);
        client_id = it == by_order_id_.end() ? std::string() : it->second;
      }
      Entry* entry = client_id.empty() ? nullptr : entry_of(client_id);
      if (entry == nullptr || entry->last.order_id == 0) {
        job.responder.send(error(404, "not_found", "no such order of this API"));
        return;
      }
      const OrderState state = entry->last.state;
      if (!is_live(state) || state == OrderState::kPendingCancel) {
        job.responder.send(
            error(409, "not_cancelable", "the order is " + std::string(to_string(state))));
        return;
      }
      job.command.cancel.order_id = entry->last.order_id;
      job.command.cancel.source = source_;
      job.command.cancel.created_ns = now_ns();
      if (!push_command(job.command)) {
        EngineStats::bump(stats_.busy_refusals);
        job.responder.send(busy("the engine's command ring is full; retry shortly"));
        return;
      }
      job.responder.send(Response::json(202, order_json(entry->last)));
      return;
    }
    case JobKind::kControl: {
      job.command.control.source = source_;
      job.command.control.created_ns = now_ns();
      if (!push_command(job.command)) {
        EngineStats::bump(stats_.busy_refusals);
        job.responder.send(busy("the engine's command ring is full; retry shortly"));
        return;
      }
      job.responder.send(Response::json(202, R"({"accepted":true})"));
      return;
    }
    case JobKind::kFind: {
      std::string client_id = job.key;
      if (!job.key.empty() && std::all_of(job.key.begin(), job.key.end(),
                                          [](char c) { return c >= '0' && c <= '9'; })) {
        const OrderId id = std::strtoull(job.key.c_str(), nullptr, 10);
        auto it = by_order_id_.find(id);
        if (it != by_order_id_.end()) client_id = it->second;
      }
      const Entry* entry = entry_of(client_id);
      if (entry == nullptr || entry->last.order_id == 0) {
        job.responder.send(error(404, "not_found", "no such order of this API"));
        return;
      }
      job.responder.send(Response::json(200, order_json(entry->last)));
      return;
    }
    case JobKind::kList: {
      std::string body = "{\"orders\":[";
      bool first = true;
      for (const std::string& id : age_) {
        const Entry* entry = entry_of(id);
        if (entry == nullptr || entry->last.order_id == 0) continue;
        if (job.open_only && !is_live(entry->last.state)) continue;
        if (!first) body += ',';
        first = false;
        body += order_json(entry->last);
      }
      body += "]}";
      job.responder.send(Response::json(200, std::move(body)));
      return;
    }
  }
}

void OrderEntry::on_update(const OrderUpdate& update) {
  EngineStats::bump(stats_.updates);
  const std::string client_id(update.client_order_id.view());
  Entry* entry = entry_of(client_id);
  if (update.order_id == 0) {
    // Refused before an order existed: the duplicate check's refusal of a repeat is answered
    // with the original order (when this index still has it), anything else as what it is.
    if (entry == nullptr) return;
    if (update.reason == RejectReason::kDuplicateClientOrderId && entry->last.order_id != 0) {
      return;
    }
    const auto [status, body] = answer_of(update);
    for (Responder& waiting : entry->waiting) waiting.send(Response::json(status, body));
    entry->waiting.clear();
    // A refusal creates no order: the id may be used again (a retry after 503 must work).
    index_.erase(client_id);
    return;
  }
  if (entry == nullptr) entry = &new_entry(client_id);
  entry->last = update;
  by_order_id_[update.order_id] = client_id;
  if (entry->answer_status == 0) {
    const auto [status, body] = answer_of(update);
    entry->answer_status = status;
    entry->answer = body;
    for (Responder& waiting : entry->waiting) waiting.send(Response::json(status, body));
    entry->waiting.clear();
  }
}

OrderEntry::Entry* OrderEntry::entry_of(std::string_view client_order_id) {
  auto it = index_.find(std::string(client_order_id));
  return it == index_.end() ? nullptr : &it->second;
}

OrderEntry::Entry& OrderEntry::new_entry(std::string_view client_order_id) {
  while (age_.size() >= options_.max_index) {
    auto it = index_.find(age_.front());
    if (it != index_.end()) {
      if (!it->second.waiting.empty()) break;  // never drop one a client waits on
      by_order_id_.erase(it->second.last.order_id);
      index_.erase(it);
    }
    age_.pop_front();
  }
  age_.emplace_back(client_order_id);
  return index_[std::string(client_order_id)];
}

std::pair<int, std::string> OrderEntry::answer_of(const OrderUpdate& update) const {
  if (update.state == OrderState::kRejected && update.order_id == 0) {
    const int status = status_of(update.reason);
    JsonWriter w;
    w.begin_object()
        .member("error", status == 409   ? std::string_view("duplicate_client_order_id")
                         : status == 503 ? std::string_view("unavailable")
                                         : std::string_view("rejected"))
        .member("reason", to_string(update.reason))
        .member("message", "the engine refused the order: " + std::string(to_string(update.reason)))
        .member("client_order_id", update.client_order_id.view())
        .end_object();
    return {status, w.take()};
  }
  return {201, order_json(update)};
}

std::string OrderEntry::order_json(const OrderUpdate& update) const {
  const InstrumentSpec* spec =
      update.instrument < instruments_.size() ? &instruments_[update.instrument] : nullptr;
  const int price_decimals = spec != nullptr ? spec->price_decimals : 0;
  const int size_decimals = spec != nullptr ? spec->size_decimals : 0;
  JsonWriter w;
  w.begin_object()
      .member("order_id", static_cast<int64_t>(update.order_id))
      .member("client_order_id", update.client_order_id.view())
      .member("epic", spec != nullptr ? spec->name() : std::string_view())
      .member("direction", update.side == Side::kBuy ? "BUY" : "SELL")
      .member("state", snake(to_string(update.state)));
  w.key("size").decimal(update.order_size, size_decimals);
  w.key("filled_size").decimal(update.filled_size, size_decimals);
  if (update.filled_size > 0) {
    w.key("average_price").decimal(update.average_fill_price, price_decimals);
  }
  if (update.reason != RejectReason::kNone) w.member("reason", to_string(update.reason));
  w.end_object();
  return w.take();
}

}  // namespace qt::http
