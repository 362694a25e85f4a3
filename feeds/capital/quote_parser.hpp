// QuoteParser: the hot path of the Capital.com market-data stream. Turns one WebSocket text
// frame into a fixed-point qt::Quote, or says what else the frame is.
//
//   {"status":"OK","destination":"quote","payload":{"epic":"OIL_CRUDE","product":"CFD",
//    "bid":93.87,"bidQty":4976.0,"ofr":93.9,"ofrQty":5000.0,"timestamp":1660297190627}}
//   → Quote{instrument, bid=9387, ask=9390, bid_size, ask_size, venue_epoch_ms=1660297190627}
//
// Guarantees:
// - Exact: prices and sizes go from the number's JSON text straight to fixed point
//   (parse_fixed_point, gateway/capital/protocol/decimal.hpp) — no floating point. Digits
//   beyond the instrument's decimals are rounded half away from zero (1.085435 at 5 → 108544).
// - Zero allocation per frame: the simdjson on-demand parser, the copy buffer and the epic
//   table are allocated by create(); frames longer than Options::max_frame_bytes are refused
//   (kTooLarge) rather than grown into.
// - Total: any byte sequence gives a ParseResult; malformed or truncated JSON is kMalformed
//   (never UB, never throws); last_error() says why.
// - Order-independent: fields may come in any order (payload before destination included).
//   Keys and the destination/status values are compared as raw bytes, as the venue sends them
//   (a key spelled with \u escapes is not recognised; an escaped epic is unescaped).
// - One thread: a QuoteParser is used by the feed thread only (not thread-safe); movable.
//
// Padding: simdjson reads up to SIMDJSON_PADDING (64) bytes past the end of the JSON. parse()
// copies the frame into the parser's own padded buffer (a memcpy of ~200 bytes). parse_padded()
// is zero-copy when the caller's receive buffer has at least kPadding readable bytes after the
// frame (pass how many bytes are readable from frame.data()); with less it falls back to the copy.
//
// What it does not do: fill Quote::received_ns and Quote::sequence (the feed stage stamps
// those), or decode non-quote frames — for those it returns their kind, and the stream client
// decodes them with parse_ws_server_message() (gateway/capital/protocol/parse.hpp).
#pragma once

#include <simdjson.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/instrument.hpp"
#include "engine/messages.hpp"

namespace qt::capital {

enum class ParseResult : uint8_t {
  kQuote = 0,              // `out` holds the quote
  kUnknownEpic,            // a well-formed quote for an epic not in the table (last_epic())
  kSubscriptionReply,      // marketData.subscribe / marketData.unsubscribe, status OK
  kOhlcSubscriptionReply,  // OHLCMarketData.subscribe / OHLCMarketData.unsubscribe, status OK
  kOhlcBar,                // destination "ohlc.event"
  kPingReply,              // destination "ping", status OK
  kErrorReply,             // status other than "OK" (e.g. "ERROR"), any destination
  kUnknownDestination,     // well-formed envelope, destination not listed above
  kMalformed,              // not JSON, truncated, missing/mistyped field, bad number (last_error())
  kTooLarge,               // frame longer than Options::max_frame_bytes; nothing parsed
};
std::string_view to_string(ParseResult r);

// One row of the epic table: the venue's epic and the engine's instrument (spec.id is the
// InstrumentId written into Quote::instrument; its decimals scale prices and sizes).
struct EpicInstrument {
  std::string epic;
  InstrumentSpec spec;
};

struct QuoteParserOptions {
  std::size_t max_frame_bytes = 64 * 1024;  // larger frames → kTooLarge
};

class QuoteParser {
 public:
  static constexpr std::size_t kPadding = simdjson::SIMDJSON_PADDING;
  static constexpr std::size_t kMaxEpicLength = InstrumentSpec::kSymbolCapacity - 1;

  // Fails (InvalidArgument) on an empty, too long (> kMaxEpicLength) or duplicate epic, or
  // decimals outside 0..18; ResourceExhausted if the buffers cannot be allocated.
  static absl::StatusOr<QuoteParser> create(std::span<const EpicInstrument> table,
                                            QuoteParserOptions options = {});
  // Epic = spec.name() (InstrumentSpec::symbol holds the venue's epic).
  static absl::StatusOr<QuoteParser> create(std::span<const InstrumentSpec> instruments,
                                            QuoteParserOptions options = {});

  QuoteParser(QuoteParser&&) noexcept = default;
  QuoteParser& operator=(QuoteParser&&) noexcept = default;
  QuoteParser(const QuoteParser&) = delete;
  QuoteParser& operator=(const QuoteParser&) = delete;
  ~QuoteParser() = default;

  // Copies `frame` into the internal padded buffer, then parses it.
  ParseResult parse(std::string_view frame, Quote& out) noexcept;

  // Zero-copy: `readable_bytes` bytes are readable starting at frame.data() (the receive
  // buffer's capacity from there); needs readable_bytes >= frame.size() + kPadding, else it
  // falls back to parse(). The frame bytes are not modified.
  ParseResult parse_padded(std::string_view frame, std::size_t readable_bytes, Quote& out) noexcept;

  // Why the last kMalformed (a static string; "" after a success).
  std::string_view last_error() const noexcept { return last_error_; }
  // The epic of the last kUnknownEpic (truncated to kMaxEpicLength; valid until the next parse).
  std::string_view last_epic() const noexcept { return {last_epic_.data(), last_epic_length_}; }

  std::size_t instrument_count() const noexcept { return instrument_count_; }
  std::size_t max_frame_bytes() const noexcept { return max_frame_bytes_; }

 private:
  struct Slot {
    uint64_t hash = 0;
    std::array<char, InstrumentSpec::kSymbolCapacity> epic{};
    uint8_t length = 0;
    bool used = false;
    InstrumentId id = 0;
    int8_t price_decimals = 0;
    int8_t size_decimals = 0;
  };

  QuoteParser() = default;
  const Slot* find(std::string_view epic) const noexcept;
  ParseResult parse_document(const char* data, std::size_t size, std::size_t capacity,
                             Quote& out) noexcept;
  ParseResult read_quote_payload(simdjson::ondemand::value payload, Quote& out) noexcept;
  ParseResult malformed(const char* why) noexcept {
    last_error_ = why;
    return ParseResult::kMalformed;
  }

  simdjson::ondemand::parser parser_;
  std::unique_ptr<char[]> buffer_;  // max_frame_bytes_ + kPadding
  std::size_t max_frame_bytes_ = 0;
  std::vector<Slot> slots_;  // open addressing, power-of-two size, load ≤ 1/2
  std::size_t mask_ = 0;
  std::size_t instrument_count_ = 0;
  const char* last_error_ = "";
  std::array<char, InstrumentSpec::kSymbolCapacity> last_epic_{};
  std::size_t last_epic_length_ = 0;
};

}  // namespace qt::capital
