// Everything below runs on the stream thread except the members marked "any thread". Each
// connection attempt is a Connection object kept alive by the handlers of its pending
// operations; ending one closes its socket, so its handlers complete (with an error) and are
// ignored, and the next attempt builds a fresh Connection.
#include "feeds/capital/stream_client.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <deque>
#include <map>
#include <random>
#include <thread>
#include <variant>

#include "engine/clock.hpp"
#include "fmt/format.h"
#include "gateway/capital/client_tls.hpp"
#include "gateway/capital/protocol.hpp"
#include "spdlog/spdlog.h"

namespace qt::capital {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

namespace {

constexpr std::string_view kUserAgent = "quanttrading/0.1";
constexpr int64_t kNsPerMs = 1'000'000;
constexpr std::chrono::milliseconds kCloseTimeout{1000};

using PlainWs = websocket::stream<beast::tcp_stream>;
using TlsWs = websocket::stream<beast::ssl_stream<beast::tcp_stream>>;

// Counters have one writer (the stream thread): a load and a store, no locked RMW.
void bump(std::atomic<uint64_t>& counter, uint64_t n = 1) noexcept {
  counter.store(counter.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
}

int64_t to_ns(std::chrono::milliseconds d) {
  return static_cast<int64_t>(d.count()) * kNsPerMs;
}

std::string join_epics(const std::vector<std::string>& epics) {
  std::string out;
  for (const std::string& e : epics) {
    if (!out.empty()) out += ',';
    out += e;
  }
  return out;
}

// One connection attempt and, once upgraded, the connection.
struct Connection {
  Connection(uint64_t id_, std::size_t frame_capacity_)
      : id(id_),
        frame_capacity(frame_capacity_),
        buffer(std::make_unique<char[]>(frame_capacity_ + QuoteParser::kPadding)) {}

  beast::tcp_stream& tcp() {
    return tls ? beast::get_lowest_layer(*tls) : beast::get_lowest_layer(*plain);
  }
  template <typename F>
  decltype(auto) with_ws(F&& f) {
    if (tls) return f(*tls);
    return f(*plain);
  }
  void close_transport() {
    beast::error_code ignored;
    tcp().socket().shutdown(tcp::socket::shutdown_both, ignored);
    tcp().close();
  }

  const uint64_t id;
  std::optional<PlainWs> plain;
  std::optional<TlsWs> tls;

  // Receive buffer: frames land at buffer[0, used); the kPadding bytes past frame_capacity make
  // every frame parseable in place.
  const std::size_t frame_capacity;
  std::unique_ptr<char[]> buffer;
  std::size_t used = 0;
  bool skipping = false;  // inside a message longer than frame_capacity

  std::deque<std::string> outbox;  // envelopes waiting for the single outstanding write
  bool writing = false;

  const char* stage = "resolve";
  bool open = false;   // WebSocket upgraded
  bool ended = false;  // closed by us or failed; handlers ignore it from then on
  bool delivered_quote = false;
  int64_t opened_ns = 0;
};

}  // namespace

struct CapitalStreamClient::Impl {
  Impl(StreamConfig c, StreamEndpoint e, QuoteParser p, std::vector<EpicInstrument> subs,
       QuoteRing& r, Doorbell* d, StreamCallbacks cb, ssl::context* context)
      : config(std::move(c)),
        endpoint(std::move(e)),
        ring(r),
        doorbell(d),
        parser(std::move(p)),
        callbacks(std::move(cb)),
        ssl_context(context),
        tls_verify(config.tls ? config.tls->verify() : true),
        backoff(config.reconnect_min_delay, config.reconnect_max_delay,
                config.backoff_seed != 0 ? config.backoff_seed : std::random_device{}()) {
    for (const EpicInstrument& s : subs) epics.push_back(s.epic);
    stale_after_ns = to_ns(config.stale_after);
    epic_stale_after_ns = to_ns(config.epic_stale_after);
    if (epic_stale_after_ns > 0) {
      InstrumentId max_id = 0;
      for (const EpicInstrument& s : subs) max_id = std::max(max_id, s.spec.id);
      index_by_id.assign(static_cast<std::size_t>(max_id) + 1, kNoIndex);
      for (std::size_t i = 0; i < subs.size(); ++i) {
        index_by_id[subs[i].spec.id] = static_cast<uint32_t>(i);
      }
      epic_last_ns.assign(subs.size(), 0);
      epic_stale.assign(subs.size(), false);
    }
    std::chrono::milliseconds tick = config.stale_after;
    if (epic_stale_after_ns > 0) tick = std::min(tick, config.epic_stale_after);
    tick = std::min(tick, config.subscribe_timeout) / 4;
    housekeeping_interval =
        std::clamp(tick, std::chrono::milliseconds(5), std::chrono::milliseconds(1000));
  }

  // ---------------------------------------------------------------- hot path

  void start_read(const std::shared_ptr<Connection>& c) {
    char* at = c->buffer.get() + c->used;
    const std::size_t room = c->frame_capacity - c->used;
    c->with_ws([&](auto& ws) {
      ws.async_read_some(asio::buffer(at, room),
                         [this, c](beast::error_code ec, std::size_t n) { on_read(c, ec, n); });
    });
  }

  void on_read(const std::shared_ptr<Connection>& c, beast::error_code ec, std::size_t n) {
    if (c->ended) return;
    if (ec) {
      end_connection(c, ec == websocket::error::closed
                            ? std::string("closed by the server")
                            : fmt::format("read failed: {}", ec.message()));
      return;
    }
    bump(bytes, n);
    c->used += n;
    const bool done = c->with_ws([](auto& ws) { return ws.is_message_done(); });
    if (!done) [[unlikely]] {
      if (c->used == c->frame_capacity) {  // too long: keep reading, into the same space
        c->skipping = true;
        c->used = 0;
      }
      start_read(c);
      return;
    }
    bump(frames);
    const std::size_t size = c->used;
    c->used = 0;
    if (c->skipping) [[unlikely]] {
      c->skipping = false;
      bump(parse_errors);
      warn_bad_frame("a frame longer than max_frame_bytes was skipped");
    } else {
      on_frame(*c, std::string_view(c->buffer.get(), size));
    }
    if (!c->ended) start_read(c);
  }

  void on_frame(Connection& c, std::string_view frame) {
    const int64_t received = now_ns();
    Quote quote;
    const ParseResult result =
        parser.parse_padded(frame, c.frame_capacity + QuoteParser::kPadding, quote);
    if (result == ParseResult::kQuote) [[likely]] {
      publish(c, quote, received);
    } else {
      on_control_frame(c, result, frame);
    }
  }

  void publish(Connection& c, Quote& quote, int64_t received) {
    quote.received_ns = received;
    quote.sequence = ++sequence;
    if (ring.try_push(quote)) [[likely]] {
      bump(quotes);
      if (doorbell != nullptr) doorbell->ring();
    } else {
      bump(drops);  // a newer quote for the epic will supersede it
    }
    last_quote_ns.store(received, std::memory_order_relaxed);
    c.delivered_quote = true;
    if (epic_stale_after_ns > 0) {
      const uint32_t index =
          quote.instrument < index_by_id.size() ? index_by_id[quote.instrument] : kNoIndex;
      if (index != kNoIndex) {
        const int64_t previous = epic_last_ns[index];
        epic_last_ns[index] = received;
        if (epic_stale[index]) [[unlikely]] {
          epic_fresh_again(index, received - std::max(previous, started_ns));
        }
      }
    }
    if (!fresh) [[unlikely]]
      become_fresh(received);
  }

  // ---------------------------------------------------------------- freshness

  void become_fresh(int64_t now) {
    fresh = true;
    ready_flag.store(true, std::memory_order_release);
    if (stale) {
      stale = false;
      spdlog::info("Capital.com stream: quotes resumed after {} ms without any; ready",
                   (now - stale_since_ns) / kNsPerMs);
    }
  }

  void epic_fresh_again(uint32_t index, int64_t gap_ns) {
    epic_stale[index] = false;
    stale_epic_count.store(stale_epic_count.load(std::memory_order_relaxed) - 1,
                           std::memory_order_relaxed);
    spdlog::info("Capital.com stream: quotes for {} resumed after {} ms", epics[index],
                 gap_ns / kNsPerMs);
  }

  void check_staleness(int64_t now) {
    const int64_t last = std::max(last_quote_ns.load(std::memory_order_relaxed), started_ns);
    if (!stale && now - last > stale_after_ns) {
      stale = true;
      stale_since_ns = last;
      fresh = false;
      ready_flag.store(false, std::memory_order_release);
      bump(stale_events);
      spdlog::warn("Capital.com stream: no quote for {} ms (stale after {} ms, {}); not ready",
                   (now - last) / kNsPerMs, config.stale_after.count(),
                   current && current->open ? "connected" : "not connected");
    }
    if (epic_stale_after_ns <= 0) return;
    for (std::size_t i = 0; i < epic_last_ns.size(); ++i) {
      const int64_t epic_last = std::max(epic_last_ns[i], started_ns);
      if (!epic_stale[i] && now - epic_last > epic_stale_after_ns) {
        epic_stale[i] = true;
        bump(epic_stale_events);
        stale_epic_count.store(stale_epic_count.load(std::memory_order_relaxed) + 1,
                               std::memory_order_relaxed);
        spdlog::warn("Capital.com stream: no quote for {} in {} ms", epics[i],
                     (now - epic_last) / kNsPerMs);
      }
    }
  }

  void schedule_housekeeping() {
    housekeeping_timer.expires_after(housekeeping_interval);
    housekeeping_timer.async_wait([this](beast::error_code ec) {
      if (ec || stopping) return;
      const int64_t now = now_ns();
      check_staleness(now);
      if (!pending_batches.empty() && now > subscribe_deadline_ns) {
        std::size_t unanswered = 0;
        for (const auto& [id, batch] : pending_batches) unanswered += batch.size();
        spdlog::warn(
            "Capital.com stream: {} subscribe request(s) for {} epics unanswered after {} ms; "
            "carrying on",
            pending_batches.size(), unanswered, config.subscribe_timeout.count());
        pending_batches.clear();
        subscriptions_settled();
      }
      schedule_housekeeping();
    });
  }

  // ---------------------------------------------------------------- control frames

  void on_control_frame(Connection& c, ParseResult result, std::string_view frame) {
    switch (result) {
      case ParseResult::kQuote: return;
      case ParseResult::kUnknownEpic:
        bump(unknown_epics);
        spdlog::debug("Capital.com stream: quote for unsubscribed epic {}", parser.last_epic());
        return;
      case ParseResult::kPingReply: bump(pings_answered); return;
      case ParseResult::kMalformed:
        bump(parse_errors);
        warn_bad_frame(parser.last_error());
        return;
      case ParseResult::kTooLarge:
        bump(parse_errors);
        warn_bad_frame("frame too large");
        return;
      case ParseResult::kOhlcSubscriptionReply:
      case ParseResult::kOhlcBar:
      case ParseResult::kUnknownDestination:
        spdlog::debug("Capital.com stream: ignored a {} frame", to_string(result));
        return;
      case ParseResult::kSubscriptionReply:
      case ParseResult::kErrorReply: break;
    }
    absl::StatusOr<WsServerMessage> message = parse_ws_server_message(frame);
    if (!message.ok()) {
      bump(parse_errors);
      warn_bad_frame(std::string(message.status().message()));
      return;
    }
    if (const auto* reply = std::get_if<WsSubscriptionReply>(&*message)) {
      on_subscription_reply(*reply);
    } else if (const auto* error = std::get_if<WsErrorReply>(&*message)) {
      on_error_reply(c, *error);
    }
  }

  void on_subscription_reply(const WsSubscriptionReply& reply) {
    for (const auto& [epic, status] : reply.subscriptions) {
      if (status != "PROCESSED") {
        bump(subscribe_failures);
        spdlog::warn("Capital.com stream: subscription to {} not processed: {}", epic, status);
      }
    }
    if (pending_batches.erase(reply.correlation_id) != 0 && pending_batches.empty()) {
      subscriptions_settled();
    }
  }

  void on_error_reply(Connection& c, const WsErrorReply& error) {
    bump(error_replies);
    const CapitalErrorInfo* info = find_capital_error(error.error.code);
    if (info != nullptr && info->id == CapitalErrorCode::kInvalidSessionToken) {
      spdlog::warn(
          "Capital.com stream: the venue refused the session tokens ({}); asking for a new "
          "login and reconnecting",
          error.error.code);
      const uint64_t refused_epoch = tokens.epoch;
      if (current && current->id == c.id) {
        const std::shared_ptr<Connection> refused = current;  // end_connection resets current
        end_connection(refused, "session tokens refused");
      }
      bump(session_refreshes);
      if (callbacks.on_session_invalid) callbacks.on_session_invalid(refused_epoch);
      return;
    }
    const auto batch = pending_batches.find(error.correlation_id);
    if (batch != pending_batches.end()) {
      bump(subscribe_failures, batch->second.size());
      spdlog::warn("Capital.com stream: subscription of {} epics ({}) refused: {}",
                   batch->second.size(), join_epics(batch->second), error.error.wire_text());
      pending_batches.erase(batch);
      if (pending_batches.empty()) subscriptions_settled();
      return;
    }
    spdlog::warn("Capital.com stream: error reply to {} (correlationId {}): {}", error.destination,
                 error.correlation_id, error.error.wire_text());
  }

  void warn_bad_frame(std::string_view why) {
    const int64_t now = now_ns();
    if (now - last_bad_frame_warning_ns < 1'000'000'000) {
      ++suppressed_bad_frames;
      return;
    }
    if (suppressed_bad_frames == 0) {
      spdlog::warn("Capital.com stream: unreadable frame: {}", why);
    } else {
      spdlog::warn("Capital.com stream: unreadable frame: {} (and {} more since the last warning)",
                   why, suppressed_bad_frames);
    }
    suppressed_bad_frames = 0;
    last_bad_frame_warning_ns = now;
  }

  // ---------------------------------------------------------------- connecting

  void connect() {
    if (stopping) return;
    std::optional<StreamTokens> fresh_tokens = callbacks.tokens ? callbacks.tokens() : std::nullopt;
    if (!fresh_tokens || fresh_tokens->cst.empty() || fresh_tokens->security_token.empty()) {
      bump(connect_failures);
      spdlog::warn("Capital.com stream: no session tokens yet; trying again");
      schedule_reconnect();
      return;
    }
    tokens = std::move(*fresh_tokens);
    auto c = std::make_shared<Connection>(++connection_ids, config.max_frame_bytes);
    if (endpoint.tls) {
      c->tls.emplace(ioc, *ssl_context);
    } else {
      c->plain.emplace(ioc);
    }
    current = c;
    attempt_timer.expires_after(config.connect_timeout);
    attempt_timer.async_wait([this, c](beast::error_code ec) {
      if (ec || c->ended || c->open) return;
      end_connection(
          c, fmt::format("{} timed out after {} ms", c->stage, config.connect_timeout.count()));
    });
    c->stage = "resolve";
    resolver.async_resolve(
        endpoint.host, std::to_string(endpoint.port),
        [this, c](beast::error_code ec, tcp::resolver::results_type results) {
          if (c->ended) return;
          if (ec) {
            end_connection(c, fmt::format("cannot resolve {}: {}", endpoint.host, ec.message()));
            return;
          }
          on_resolved(c, results);
        });
  }

  void on_resolved(const std::shared_ptr<Connection>& c, const tcp::resolver::results_type& to) {
    c->stage = "TCP connect";
    c->tcp().async_connect(to, [this, c](beast::error_code ec, const tcp::endpoint&) {
      if (c->ended) return;
      if (ec) {
        end_connection(c, fmt::format("TCP connect failed: {}", ec.message()));
        return;
      }
      beast::error_code ignored;
      c->tcp().socket().set_option(tcp::no_delay(true), ignored);
      if (c->tls) {
        start_tls(c);
      } else {
        upgrade(c);
      }
    });
  }

  void start_tls(const std::shared_ptr<Connection>& c) {
    c->stage = "TLS handshake";
    SSL* native = c->tls->next_layer().native_handle();
    if (absl::Status prepared = prepare_client_tls(native, endpoint.host, tls_verify);
        !prepared.ok()) {
      end_connection(c, std::string(prepared.message()));
      return;
    }
    c->tls->next_layer().async_handshake(ssl::stream_base::client, [this, c](beast::error_code ec) {
      if (c->ended) return;
      if (ec) {
        const std::string certificate = certificate_failure(c->tls->next_layer().native_handle());
        end_connection(c, certificate.empty()
                              ? fmt::format("TLS handshake failed: {}", ec.message())
                              : fmt::format("the certificate of {} failed verification: {}",
                                            endpoint.host, certificate));
        return;
      }
      upgrade(c);
    });
  }

  void upgrade(const std::shared_ptr<Connection>& c) {
    c->stage = "WebSocket upgrade";
    c->with_ws([&](auto& ws) {
      websocket::stream_base::timeout timeout{};
      timeout.handshake_timeout = config.connect_timeout;  // also bounds the closing handshake
      if (config.transport_idle_timeout.count() > 0) {
        timeout.idle_timeout = config.transport_idle_timeout;
        timeout.keep_alive_pings = true;
      } else {
        timeout.idle_timeout = websocket::stream_base::none();
        timeout.keep_alive_pings = false;
      }
      ws.set_option(timeout);
      ws.set_option(websocket::stream_base::decorator([](websocket::request_type& request) {
        request.set(beast::http::field::user_agent, kUserAgent);
      }));
      ws.async_handshake(endpoint.host_header(), endpoint.target, [this, c](beast::error_code ec) {
        if (c->ended) return;
        if (ec) {
          end_connection(
              c, fmt::format("WebSocket upgrade on {} failed: {}", endpoint.target, ec.message()));
          return;
        }
        on_open(c);
      });
    });
  }

  void on_open(const std::shared_ptr<Connection>& c) {
    attempt_timer.cancel();
    c->open = true;
    c->opened_ns = now_ns();
    bump(connects);
    if (ever_connected) {
      bump(reconnects);
      reconnect_pending = true;
      spdlog::info("Capital.com stream: reconnected to {}", endpoint.to_string());
    } else {
      spdlog::info("Capital.com stream: connected to {}", endpoint.to_string());
    }
    ever_connected = true;
    connected_flag.store(true, std::memory_order_release);
    subscribe_all(c);
    start_read(c);
    schedule_ping(c);
  }

  void subscribe_all(const std::shared_ptr<Connection>& c) {
    pending_batches.clear();
    const std::size_t batch_size = config.max_epics_per_subscribe;
    for (std::size_t first = 0; first < epics.size(); first += batch_size) {
      WsRequest request;
      request.destination = WsDestination::kMarketDataSubscribe;
      request.correlation_id = std::to_string(++correlation_id);
      request.cst = tokens.cst.reveal();
      request.security_token = tokens.security_token.reveal();
      const std::size_t last = std::min(epics.size(), first + batch_size);
      request.epics.assign(epics.begin() + static_cast<std::ptrdiff_t>(first),
                           epics.begin() + static_cast<std::ptrdiff_t>(last));
      send(c, to_json(request));
      pending_batches.emplace(request.correlation_id, std::move(request.epics));
    }
    subscribe_deadline_ns = now_ns() + to_ns(config.subscribe_timeout);
    if (pending_batches.empty()) subscriptions_settled();
  }

  // Every subscribe batch of this connection answered (or given up on).
  void subscriptions_settled() {
    spdlog::info("Capital.com stream: subscribed to {} epics", epics.size());
    if (!reconnect_pending) return;
    reconnect_pending = false;
    if (callbacks.on_reconnected) callbacks.on_reconnected();
  }

  void schedule_ping(const std::shared_ptr<Connection>& c) {
    ping_timer.expires_after(config.ping_interval);
    ping_timer.async_wait([this, c](beast::error_code ec) {
      if (ec || c->ended || stopping) return;
      if (callbacks.tokens) {
        if (std::optional<StreamTokens> fresh_tokens = callbacks.tokens()) {
          tokens = std::move(*fresh_tokens);
        }
      }
      WsRequest ping;
      ping.destination = WsDestination::kPing;
      ping.correlation_id = std::to_string(++correlation_id);
      ping.cst = tokens.cst.reveal();
      ping.security_token = tokens.security_token.reveal();
      send(c, to_json(ping));
      bump(pings_sent);
      schedule_ping(c);
    });
  }

  void send(const std::shared_ptr<Connection>& c, std::string frame) {
    c->outbox.push_back(std::move(frame));
    if (!c->writing) write_next(c);
  }

  void write_next(const std::shared_ptr<Connection>& c) {
    c->writing = true;
    c->with_ws([&](auto& ws) {
      ws.text(true);
      ws.async_write(asio::buffer(c->outbox.front()), [this, c](beast::error_code ec, std::size_t) {
        if (c->ended) return;
        if (ec) {
          end_connection(c, fmt::format("write failed: {}", ec.message()));
          return;
        }
        c->outbox.pop_front();
        if (c->outbox.empty()) {
          c->writing = false;
        } else {
          write_next(c);
        }
      });
    });
  }

  // ---------------------------------------------------------------- losing a connection

  void end_connection(const std::shared_ptr<Connection>& c, std::string_view reason) {
    if (c->ended) return;
    c->ended = true;
    c->close_transport();
    if (c != current) return;
    current.reset();
    attempt_timer.cancel();
    ping_timer.cancel();
    pending_batches.clear();
    fresh = false;
    ready_flag.store(false, std::memory_order_release);
    connected_flag.store(false, std::memory_order_release);
    const int64_t now = now_ns();
    if (c->open) {
      bump(disconnects);
      spdlog::warn("Capital.com stream: connection lost after {} ms: {}",
                   (now - c->opened_ns) / kNsPerMs, reason);
    } else {
      bump(connect_failures);
      spdlog::warn("Capital.com stream: cannot connect to {}: {}", endpoint.to_string(), reason);
    }
    if (stopping) return;
    const bool worth_keeping =
        c->delivered_quote || (c->open && now - c->opened_ns >= to_ns(config.reconnect_max_delay));
    if (worth_keeping) backoff.reset();
    schedule_reconnect();
  }

  void schedule_reconnect() {
    const auto delay = backoff.next();
    spdlog::info("Capital.com stream: connecting again in {} ms (attempt {})",
                 std::chrono::duration_cast<std::chrono::milliseconds>(delay).count(),
                 backoff.attempt());
    backoff_timer.expires_after(delay);
    backoff_timer.async_wait([this](beast::error_code ec) {
      if (!ec) connect();
    });
  }

  // ---------------------------------------------------------------- start and stop

  void begin() {
    started_ns = now_ns();
    schedule_housekeeping();
    connect();
  }

  void shut_down() {
    stopping = true;
    backoff_timer.cancel();
    ping_timer.cancel();
    housekeeping_timer.cancel();
    attempt_timer.cancel();
    resolver.cancel();
    ready_flag.store(false, std::memory_order_release);
    connected_flag.store(false, std::memory_order_release);
    std::shared_ptr<Connection> c = std::move(current);
    if (!c || c->ended) return;
    c->ended = true;
    if (!c->open) {
      c->close_transport();
      return;
    }
    // A close frame, then the socket; the timer bounds a peer that does not answer.
    close_timer.expires_after(kCloseTimeout);
    close_timer.async_wait([c](beast::error_code ec) {
      if (!ec) c->close_transport();
    });
    c->with_ws([&](auto& ws) {
      ws.async_close(websocket::close_code::normal, [this, c](beast::error_code) {
        close_timer.cancel();
        c->close_transport();
      });
    });
  }

  void run() {
    if (callbacks.on_thread_start) callbacks.on_thread_start();
    if (config.busy_poll) {
      while (!ioc.stopped()) ioc.poll();
    } else {
      ioc.run();
    }
  }

  // ---------------------------------------------------------------- state

  static constexpr uint32_t kNoIndex = UINT32_MAX;

  // I/O: declared first, so that the context outlives everything bound to it.
  asio::io_context ioc{1};
  tcp::resolver resolver{ioc};
  asio::steady_timer attempt_timer{ioc};
  asio::steady_timer backoff_timer{ioc};
  asio::steady_timer ping_timer{ioc};
  asio::steady_timer housekeeping_timer{ioc};
  asio::steady_timer close_timer{ioc};
  std::thread thread;
  std::atomic<bool> started{false};

  const StreamConfig config;
  const StreamEndpoint endpoint;

  // Hot path (stream thread).
  QuoteRing& ring;
  Doorbell* const doorbell;
  QuoteParser parser;
  uint64_t sequence = 0;
  bool fresh = false;  // a quote since the last stale/disconnect event
  int64_t stale_after_ns = 0;
  int64_t epic_stale_after_ns = 0;
  std::vector<uint32_t> index_by_id;  // InstrumentId → index into epics (kNoIndex: none)
  std::vector<int64_t> epic_last_ns;
  std::vector<bool> epic_stale;

  // Counters (written by the stream thread, read anywhere).
  alignas(kCacheLine) std::atomic<uint64_t> quotes{0};
  std::atomic<uint64_t> drops{0};
  std::atomic<uint64_t> frames{0};
  std::atomic<uint64_t> bytes{0};
  std::atomic<int64_t> last_quote_ns{0};
  std::atomic<bool> ready_flag{false};
  std::atomic<bool> connected_flag{false};
  alignas(kCacheLine) std::atomic<uint64_t> unknown_epics{0};
  std::atomic<uint64_t> parse_errors{0};
  std::atomic<uint64_t> connects{0};
  std::atomic<uint64_t> reconnects{0};
  std::atomic<uint64_t> connect_failures{0};
  std::atomic<uint64_t> disconnects{0};
  std::atomic<uint64_t> stale_events{0};
  std::atomic<uint64_t> epic_stale_events{0};
  std::atomic<uint32_t> stale_epic_count{0};
  std::atomic<uint64_t> subscribe_failures{0};
  std::atomic<uint64_t> pings_sent{0};
  std::atomic<uint64_t> pings_answered{0};
  std::atomic<uint64_t> error_replies{0};
  std::atomic<uint64_t> session_refreshes{0};

  // Control (stream thread).
  StreamCallbacks callbacks;
  ssl::context* const ssl_context;  // null for ws://
  const bool tls_verify;
  std::vector<std::string> epics;
  StreamTokens tokens;
  ReconnectBackoff backoff;
  std::chrono::milliseconds housekeeping_interval{250};
  std::shared_ptr<Connection> current;
  uint64_t connection_ids = 0;
  uint64_t correlation_id = 0;
  std::map<std::string, std::vector<std::string>> pending_batches;  // correlationId → epics
  int64_t subscribe_deadline_ns = 0;
  bool ever_connected = false;
  bool reconnect_pending = false;
  bool stale = false;
  int64_t stale_since_ns = 0;
  int64_t started_ns = 0;
  int64_t last_bad_frame_warning_ns = INT64_MIN / 2;
  uint64_t suppressed_bad_frames = 0;
  bool stopping = false;
};

// -------------------------------------------------------------------------------------------

absl::StatusOr<StreamConfig> stream_config_from(const CapitalClientConfig& config) {
  StreamConfig out;
  out.url = config.stream_url;
  absl::StatusOr<std::shared_ptr<TlsContext>> tls =
      TlsContext::create(config.tls_verify, config.ca_file, config.ca_pem);
  if (!tls.ok()) return tls.status();
  out.tls = *std::move(tls);
  return out;
}

absl::StatusOr<std::unique_ptr<CapitalStreamClient>> CapitalStreamClient::create(
    StreamConfig config, std::vector<EpicInstrument> subscriptions, QuoteRing& ring,
    StreamCallbacks callbacks, Doorbell* doorbell) {
  absl::StatusOr<StreamEndpoint> endpoint = parse_stream_url(config.url);
  if (!endpoint.ok()) return endpoint.status();
  if (!callbacks.tokens) {
    return absl::InvalidArgumentError("stream: a token provider (callbacks.tokens) is required");
  }
  if (config.max_epics_per_subscribe == 0 ||
      config.max_epics_per_subscribe > StreamConfig::kMaxEpicsPerSubscribe) {
    return absl::InvalidArgumentError("stream: max_epics_per_subscribe must be within [1, 40]");
  }
  if (config.ping_interval.count() <= 0 || config.ping_interval >= std::chrono::minutes(10)) {
    return absl::InvalidArgumentError(
        "stream: ping_interval must be > 0 and below the venue's 10-minute stream expiry");
  }
  if (config.stale_after.count() <= 0 || config.epic_stale_after.count() < 0 ||
      config.connect_timeout.count() <= 0 || config.subscribe_timeout.count() <= 0 ||
      config.transport_idle_timeout.count() < 0) {
    return absl::InvalidArgumentError(
        "stream: stale_after, connect_timeout and subscribe_timeout must be > 0");
  }
  if (config.reconnect_min_delay.count() <= 0 ||
      config.reconnect_max_delay < config.reconnect_min_delay) {
    return absl::InvalidArgumentError(
        "stream: reconnect delays must satisfy 0 < reconnect_min_delay <= reconnect_max_delay");
  }
  if (config.max_frame_bytes < 256) {
    return absl::InvalidArgumentError("stream: max_frame_bytes must be at least 256");
  }
  absl::StatusOr<QuoteParser> parser =
      QuoteParser::create(subscriptions, QuoteParserOptions{config.max_frame_bytes});
  if (!parser.ok()) return parser.status();

  ssl::context* context = nullptr;
  if (endpoint->tls) {
    if (!config.tls) {
      absl::StatusOr<std::shared_ptr<TlsContext>> tls = TlsContext::create(true, "");
      if (!tls.ok()) return tls.status();
      config.tls = *std::move(tls);
    }
    context = &config.tls->asio_context();
    if (!config.tls->verify()) {
      spdlog::warn(
          "Capital.com stream: TLS certificate verification is OFF for {} "
          "(CAPITAL_TLS_INSECURE_SKIP_VERIFY)",
          endpoint->to_string());
    }
  }
  auto impl = std::make_unique<Impl>(std::move(config), *std::move(endpoint), *std::move(parser),
                                     std::move(subscriptions), ring, doorbell, std::move(callbacks),
                                     context);
  return std::unique_ptr<CapitalStreamClient>(new CapitalStreamClient(std::move(impl)));
}

CapitalStreamClient::CapitalStreamClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

CapitalStreamClient::~CapitalStreamClient() {
  stop();
}

void CapitalStreamClient::start() {
  if (impl_->started.exchange(true)) return;
  asio::post(impl_->ioc, [impl = impl_.get()] { impl->begin(); });
  impl_->thread = std::thread([impl = impl_.get()] { impl->run(); });
}

void CapitalStreamClient::stop() {
  if (!impl_->thread.joinable()) return;
  asio::post(impl_->ioc, [impl = impl_.get()] { impl->shut_down(); });
  impl_->thread.join();
}

bool CapitalStreamClient::ready() const noexcept {
  return impl_->ready_flag.load(std::memory_order_acquire);
}

bool CapitalStreamClient::connected() const noexcept {
  return impl_->connected_flag.load(std::memory_order_acquire);
}

const StreamEndpoint& CapitalStreamClient::endpoint() const noexcept {
  return impl_->endpoint;
}

StreamStats CapitalStreamClient::stats() const noexcept {
  const Impl& i = *impl_;
  constexpr auto r = std::memory_order_relaxed;
  StreamStats s;
  s.quotes = i.quotes.load(r);
  s.drops = i.drops.load(r);
  s.unknown_epics = i.unknown_epics.load(r);
  s.parse_errors = i.parse_errors.load(r);
  s.frames = i.frames.load(r);
  s.bytes = i.bytes.load(r);
  s.connects = i.connects.load(r);
  s.reconnects = i.reconnects.load(r);
  s.connect_failures = i.connect_failures.load(r);
  s.disconnects = i.disconnects.load(r);
  s.stale_events = i.stale_events.load(r);
  s.epic_stale_events = i.epic_stale_events.load(r);
  s.subscribe_failures = i.subscribe_failures.load(r);
  s.pings_sent = i.pings_sent.load(r);
  s.pings_answered = i.pings_answered.load(r);
  s.error_replies = i.error_replies.load(r);
  s.session_refreshes = i.session_refreshes.load(r);
  s.last_quote_ns = i.last_quote_ns.load(r);
  s.stale_epics = i.stale_epic_count.load(r);
  s.connected = i.connected_flag.load(std::memory_order_acquire);
  s.ready = i.ready_flag.load(std::memory_order_acquire);
  return s;
}

}  // namespace qt::capital
