#include "app/load_client.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "engine/clock.hpp"

namespace qt {

absl::StatusOr<std::unique_ptr<LoadClient>> LoadClient::create(LoadClientOptions options,
                                                               Engine& engine) {
  if (options.instrument >= engine.instruments().size()) {
    return absl::InvalidArgumentError("load: instrument index out of range");
  }
  if (options.size <= 0) options.size = engine.instruments()[options.instrument].min_size;
  int fd = -1;
  if (!options.ack_log.empty()) {
    fd = ::open(options.ack_log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) {
      return absl::InvalidArgumentError(
          fmt::format("load.ack_log: cannot open {}: {}", options.ack_log, std::strerror(errno)));
    }
  }
  std::unique_ptr<LoadClient> client(new LoadClient(std::move(options), fd));
  engine.add_client_port({client->commands_.get(), client->updates_ring_.get(), nullptr, 0});
  return client;
}

LoadClient::LoadClient(LoadClientOptions options, int log_fd)
    : options_(std::move(options)), log_fd_(log_fd), id_prefix_ms_(wall_epoch_ms()) {}

LoadClient::~LoadClient() {
  stop();
  if (log_fd_ >= 0) ::close(log_fd_);
}

void LoadClient::start() {
  if (options_.orders_per_second <= 0 || running_.exchange(true)) return;
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "qt-load");
    loop();
  });
}

void LoadClient::stop() {
  running_.store(false);
  if (thread_.joinable()) thread_.join();
}

void LoadClient::loop() {
  const int64_t interval = static_cast<int64_t>(1e9 / options_.orders_per_second);
  int64_t next_order = now_ns();
  uint64_t n = 0;
  char line[128];
  while (running_.load(std::memory_order_relaxed)) {
    const int64_t now = now_ns();
    if (now >= next_order) {
      ClientCommand command;
      command.kind = CommandKind::kNewOrder;
      const std::string id = fmt::format("L{}-{}", id_prefix_ms_, n);
      command.new_order.client_order_id = ClientOrderId::from(id);
      command.new_order.instrument = options_.instrument;
      command.new_order.side = n % 2 == 0 ? Side::kBuy : Side::kSell;
      command.new_order.type = OrderType::kMarket;
      command.new_order.size = options_.size;
      command.new_order.created_ns = now;
      if (commands_->try_push(command)) {
        if (engine_doorbell_ != nullptr) engine_doorbell_->ring();
        ++n;
        sent_.fetch_add(1, std::memory_order_relaxed);
      }
      next_order += interval;
      if (next_order < now - interval * 10) next_order = now;  // do not burst after a stall
    }
    OrderUpdate update;
    while (updates_ring_->try_pop(update)) {
      updates_.fetch_add(1, std::memory_order_relaxed);
      if (log_fd_ < 0) continue;
      const auto text =
          fmt::format_to_n(line, sizeof line - 1, "{} {} {} {}\n", update.client_order_id.view(),
                           to_string(update.state), update.filled_size, update.order_id);
      // One write per line: whole lines reach the file even if the process dies right after.
      if (::write(log_fd_, line, text.size) < 0) break;
    }
    ::usleep(200);
  }
}

}  // namespace qt
