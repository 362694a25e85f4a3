#include "feeds/capital/quote_parser.hpp"

#include <cstring>
#include <new>
#include <utility>

#include "gateway/capital/protocol/decimal.hpp"

namespace qt::capital {
namespace {

namespace od = simdjson::ondemand;
using simdjson::SUCCESS;
using namespace std::string_view_literals;

// Deep enough for every Capital.com frame; deeper input is kMalformed, not a stack risk.
constexpr std::size_t kMaxDepth = 64;
constexpr int kMaxDecimals = 18;

// Cheap and good enough for ≤ 256 short epics: length, first, middle and last bytes mixed by
// one multiply. Collisions only cost a probe; the bytes are always compared.
constexpr uint64_t epic_hash(std::string_view epic) {
  const auto byte = [&](std::size_t i) {
    return static_cast<uint64_t>(static_cast<uint8_t>(epic[i]));
  };
  const std::size_t n = epic.size();
  const uint64_t key = (n << 24) | (byte(0) << 16) | (byte(n / 2) << 8) | byte(n - 1);
  return (key * 0x9E3779B97F4A7C15ULL) >> 32;
}

// raw_json_token() runs up to the next structural character: drop the trailing whitespace.
std::string_view token_of(od::value& value) noexcept {
  std::string_view token = value.raw_json_token();
  while (!token.empty() && (token.back() == ' ' || token.back() == '\n' || token.back() == '\r' ||
                            token.back() == '\t')) {
    token.remove_suffix(1);
  }
  return token;
}

enum class Destination : uint8_t {
  kNone,
  kQuote,
  kPing,
  kMarketDataReply,  // marketData.subscribe / unsubscribe
  kOhlcReply,        // OHLCMarketData.subscribe / unsubscribe
  kOhlcEvent,
  kOther,
};

// Raw bytes of a destination string (an escaped destination is kOther). unsafe_is_equal reads
// at most the target's length + 1 bytes: within the document plus its padding.
Destination classify_destination(const od::raw_json_string& text) noexcept {
  switch (text.raw()[0]) {
    case 'q':
      if (text.unsafe_is_equal("quote"sv)) return Destination::kQuote;
      break;
    case 'p':
      if (text.unsafe_is_equal("ping"sv)) return Destination::kPing;
      break;
    case 'm':
      if (text.unsafe_is_equal("marketData.subscribe"sv) ||
          text.unsafe_is_equal("marketData.unsubscribe"sv)) {
        return Destination::kMarketDataReply;
      }
      break;
    case 'O':
      if (text.unsafe_is_equal("OHLCMarketData.subscribe"sv) ||
          text.unsafe_is_equal("OHLCMarketData.unsubscribe"sv)) {
        return Destination::kOhlcReply;
      }
      break;
    case 'o':
      if (text.unsafe_is_equal("ohlc.event"sv)) return Destination::kOhlcEvent;
      break;
    default: break;
  }
  return Destination::kOther;
}

}  // namespace

std::string_view to_string(ParseResult r) {
  switch (r) {
    case ParseResult::kQuote: return "quote";
    case ParseResult::kUnknownEpic: return "unknown_epic";
    case ParseResult::kSubscriptionReply: return "subscription_reply";
    case ParseResult::kOhlcSubscriptionReply: return "ohlc_subscription_reply";
    case ParseResult::kOhlcBar: return "ohlc_bar";
    case ParseResult::kPingReply: return "ping_reply";
    case ParseResult::kErrorReply: return "error_reply";
    case ParseResult::kUnknownDestination: return "unknown_destination";
    case ParseResult::kMalformed: return "malformed";
    case ParseResult::kTooLarge: return "too_large";
  }
  return "?";
}

absl::StatusOr<QuoteParser> QuoteParser::create(std::span<const InstrumentSpec> instruments,
                                                QuoteParserOptions options) {
  std::vector<EpicInstrument> table;
  table.reserve(instruments.size());
  for (const InstrumentSpec& spec : instruments) table.push_back({std::string(spec.name()), spec});
  return create(table, options);
}

absl::StatusOr<QuoteParser> QuoteParser::create(std::span<const EpicInstrument> table,
                                                QuoteParserOptions options) {
  if (options.max_frame_bytes == 0) {
    return absl::InvalidArgumentError("QuoteParser: max_frame_bytes must be positive");
  }
  QuoteParser parser;
  parser.max_frame_bytes_ = options.max_frame_bytes;
  // Zeroed once so the bytes simdjson may read past a copied frame are always defined.
  parser.buffer_.reset(new (std::nothrow) char[options.max_frame_bytes + kPadding]());
  if (!parser.buffer_ || parser.parser_.allocate(options.max_frame_bytes, kMaxDepth) != SUCCESS) {
    return absl::ResourceExhaustedError("QuoteParser: cannot allocate the parse buffers");
  }

  std::size_t slots = 16;
  while (slots < 2 * table.size()) slots <<= 1;
  parser.slots_.assign(slots, Slot{});
  parser.mask_ = slots - 1;
  for (const EpicInstrument& row : table) {
    const std::string& epic = row.epic;
    if (epic.empty() || epic.size() > kMaxEpicLength) {
      return absl::InvalidArgumentError("QuoteParser: epic \"" + epic.substr(0, 64) +
                                        "\" must be 1 to " + std::to_string(kMaxEpicLength) +
                                        " characters");
    }
    if (row.spec.price_decimals < 0 || row.spec.price_decimals > kMaxDecimals ||
        row.spec.size_decimals < 0 || row.spec.size_decimals > kMaxDecimals) {
      return absl::InvalidArgumentError("QuoteParser: decimals of " + epic +
                                        " must be within 0..18");
    }
    if (parser.find(epic) != nullptr) {
      return absl::InvalidArgumentError("QuoteParser: epic " + epic + " is listed twice");
    }
    const uint64_t hash = epic_hash(epic);
    std::size_t index = hash & parser.mask_;
    while (parser.slots_[index].used) index = (index + 1) & parser.mask_;
    Slot& slot = parser.slots_[index];
    slot.hash = hash;
    std::memcpy(slot.epic.data(), epic.data(), epic.size());
    slot.length = static_cast<uint8_t>(epic.size());
    slot.used = true;
    slot.id = row.spec.id;
    slot.price_decimals = row.spec.price_decimals;
    slot.size_decimals = row.spec.size_decimals;
    ++parser.instrument_count_;
  }
  return parser;
}

const QuoteParser::Slot* QuoteParser::find(std::string_view epic) const noexcept {
  if (epic.empty() || epic.size() > kMaxEpicLength || slots_.empty()) return nullptr;
  const uint64_t hash = epic_hash(epic);
  for (std::size_t index = hash & mask_;; index = (index + 1) & mask_) {
    const Slot& slot = slots_[index];
    if (!slot.used) return nullptr;
    if (slot.hash == hash && slot.length == epic.size()) {
      std::size_t i = 0;  // epics are a few bytes: a plain loop beats a memcmp call
      while (i < epic.size() && slot.epic[i] == epic[i]) ++i;
      if (i == epic.size()) return &slot;
    }
  }
}

ParseResult QuoteParser::parse(std::string_view frame, Quote& out) noexcept {
  if (frame.size() > max_frame_bytes_) {
    last_error_ = "frame longer than max_frame_bytes";
    return ParseResult::kTooLarge;
  }
  char* buffer = buffer_.get();
  std::memcpy(buffer, frame.data(), frame.size());
  std::memset(buffer + frame.size(), 0, kPadding);  // no stale bytes from a longer frame
  return parse_document(buffer, frame.size(), frame.size() + kPadding, out);
}

ParseResult QuoteParser::parse_padded(std::string_view frame, std::size_t readable_bytes,
                                      Quote& out) noexcept {
  if (frame.size() > max_frame_bytes_) {
    last_error_ = "frame longer than max_frame_bytes";
    return ParseResult::kTooLarge;
  }
  if (readable_bytes < frame.size() + kPadding) return parse(frame, out);
  return parse_document(frame.data(), frame.size(), readable_bytes, out);
}

ParseResult QuoteParser::parse_document(const char* data, std::size_t size, std::size_t capacity,
                                        Quote& out) noexcept {
  last_error_ = "";
  od::document doc;
  if (parser_.iterate(data, size, capacity).get(doc) != SUCCESS) {
    return malformed("not JSON (rejected by simdjson stage 1)");
  }
  od::object root;
  if (doc.get_object().get(root) != SUCCESS) return malformed("frame is not a JSON object");

  Destination destination = Destination::kNone;
  bool has_status = false;
  bool status_ok = true;
  bool quote_read = false;
  bool payload_before_destination = false;
  ParseResult quote_result = ParseResult::kMalformed;

  for (auto member : root) {
    od::field field;
    if (std::move(member).get(field) != SUCCESS) return malformed("broken JSON object");
    const od::raw_json_string key = field.key();
    const char first = key.raw()[0];
    if (first == 'd' && key.unsafe_is_equal("destination"sv)) {
      od::raw_json_string text;
      if (field.value().get_raw_json_string().get(text) != SUCCESS) {
        return malformed("destination is not a string");
      }
      destination = classify_destination(text);
    } else if (first == 's' && key.unsafe_is_equal("status"sv)) {
      od::raw_json_string text;
      if (field.value().get_raw_json_string().get(text) != SUCCESS) {
        return malformed("status is not a string");
      }
      has_status = true;
      status_ok = text.unsafe_is_equal("OK"sv);
    } else if (first == 'p' && key.unsafe_is_equal("payload"sv)) {
      if (destination == Destination::kQuote && status_ok) {
        quote_result = read_quote_payload(field.value(), out);
        if (quote_result == ParseResult::kMalformed) return quote_result;
        quote_read = true;
      } else if (destination == Destination::kNone) {
        payload_before_destination = true;
      }
    }
  }

  if (has_status && !status_ok) return ParseResult::kErrorReply;
  switch (destination) {
    case Destination::kNone: return malformed("no destination");
    case Destination::kQuote: break;
    case Destination::kPing: return ParseResult::kPingReply;
    case Destination::kMarketDataReply: return ParseResult::kSubscriptionReply;
    case Destination::kOhlcReply: return ParseResult::kOhlcSubscriptionReply;
    case Destination::kOhlcEvent: return ParseResult::kOhlcBar;
    case Destination::kOther: return ParseResult::kUnknownDestination;
  }
  if (quote_read) return quote_result;
  if (!payload_before_destination) return malformed("quote without payload");
  // Rare field order: payload came before destination. Walk the document again for it.
  doc.rewind();
  od::value payload;
  if (doc.find_field_unordered("payload").get(payload) != SUCCESS) {
    return malformed("quote payload unreadable");
  }
  return read_quote_payload(payload, out);
}

ParseResult QuoteParser::read_quote_payload(od::value payload, Quote& out) noexcept {
  od::object object;
  if (payload.get_object().get(object) != SUCCESS) {
    return malformed("quote payload is not an object");
  }
  std::string_view epic;
  std::string_view bid;
  std::string_view ofr;
  std::string_view bid_qty;
  std::string_view ofr_qty;
  std::string_view timestamp;
  bool has_epic = false;

  // Keys are compared as raw bytes (the venue never escapes them): no unescaping copy.
  for (auto member : object) {
    od::field field;
    if (std::move(member).get(field) != SUCCESS) return malformed("broken quote payload");
    const od::raw_json_string key = field.key();
    switch (key.raw()[0]) {
      case 'b':
        if (key.unsafe_is_equal("bid"sv)) {
          bid = token_of(field.value());
        } else if (key.unsafe_is_equal("bidQty"sv)) {
          bid_qty = token_of(field.value());
        }
        break;
      case 'o':
        if (key.unsafe_is_equal("ofr"sv)) {
          ofr = token_of(field.value());
        } else if (key.unsafe_is_equal("ofrQty"sv)) {
          ofr_qty = token_of(field.value());
        }
        break;
      case 't':
        if (key.unsafe_is_equal("timestamp"sv)) timestamp = token_of(field.value());
        break;
      case 'e':
        if (key.unsafe_is_equal("epic"sv)) {
          // The raw token "GOLD" without its quotes; unescape only if it has a backslash.
          const std::string_view token = token_of(field.value());
          if (token.size() < 2 || token.front() != '"' || token.back() != '"') {
            return malformed("epic is not a string");
          }
          epic = token.substr(1, token.size() - 2);
          bool escaped = false;
          for (const char c : epic) escaped |= c == '\\';
          if (escaped && field.value().get_string().get(epic) != SUCCESS) {
            return malformed("epic is not a valid string");
          }
          has_epic = true;
        }
        break;
      default: break;
    }
  }
  if (!has_epic) return malformed("quote without epic");
  if (bid.empty()) return malformed("quote without bid");
  if (ofr.empty()) return malformed("quote without ofr");
  if (timestamp.empty()) return malformed("quote without timestamp");

  const Slot* slot = find(epic);
  if (slot == nullptr) {
    last_epic_length_ = epic.size() < kMaxEpicLength ? epic.size() : kMaxEpicLength;
    std::memcpy(last_epic_.data(), epic.data(), last_epic_length_);
    return ParseResult::kUnknownEpic;
  }

  PriceUnits bid_units = 0;
  PriceUnits ask_units = 0;
  SizeUnits bid_size = 0;
  SizeUnits ask_size = 0;
  int64_t venue_ms = 0;
  if (parse_fixed_point(bid, slot->price_decimals, bid_units) != DecimalStatus::kOk) {
    return malformed("bid is not a number within the fixed-point range");
  }
  if (parse_fixed_point(ofr, slot->price_decimals, ask_units) != DecimalStatus::kOk) {
    return malformed("ofr is not a number within the fixed-point range");
  }
  if (!bid_qty.empty() &&
      parse_fixed_point(bid_qty, slot->size_decimals, bid_size) != DecimalStatus::kOk) {
    return malformed("bidQty is not a number within the fixed-point range");
  }
  if (!ofr_qty.empty() &&
      parse_fixed_point(ofr_qty, slot->size_decimals, ask_size) != DecimalStatus::kOk) {
    return malformed("ofrQty is not a number within the fixed-point range");
  }
  if (parse_fixed_point(timestamp, 0, venue_ms) != DecimalStatus::kOk) {
    return malformed("timestamp is not an integer");
  }

  out.instrument = slot->id;
  out.bid = bid_units;
  out.ask = ask_units;
  out.bid_size = bid_size;
  out.ask_size = ask_size;
  out.venue_epoch_ms = venue_ms;
  return ParseResult::kQuote;
}

}  // namespace qt::capital
