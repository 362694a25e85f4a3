// Specification of the hot-path quote parser (feeds/capital/quote_parser.hpp): the venue's
// example quote in fixed point, exact decimal conversion with half-away-from-zero rounding, the
// kinds of non-quote frames, unknown epics, malformed and truncated frames, and 10k random
// mutations (run under ASan by the asan preset). Checked against the protocol layer's DOM
// parser as the slow reference.
#include "feeds/capital/quote_parser.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstring>
#include <memory>
#include <random>

#include "gateway/capital/protocol.hpp"
#include "tests/capital_protocol/example_files.hpp"

namespace qt::capital {
namespace {

using testing::read_example;

constexpr InstrumentId kOil = 0;
constexpr InstrumentId kGold = 1;
constexpr InstrumentId kEurUsd = 2;
constexpr InstrumentId kSilver = 3;

std::vector<InstrumentSpec> instruments() {
  // id, epic, price decimals, size decimals, tick, min size, increment, max size
  return {make_instrument(kOil, "OIL_CRUDE", 2, 2, 0.01, 0.01, 0.01, 0),
          make_instrument(kGold, "GOLD", 2, 2, 0.01, 0.01, 0.01, 0),
          make_instrument(kEurUsd, "EURUSD", 5, 0, 0.00001, 1, 1, 0),
          make_instrument(kSilver, "SILVER", 3, 1, 0.001, 0.1, 0.1, 0)};
}

QuoteParser make_parser(QuoteParserOptions options = {}) {
  auto parser = QuoteParser::create(instruments(), options);
  EXPECT_TRUE(parser.ok()) << parser.status();
  return std::move(*parser);
}

std::string quote_frame(std::string_view epic, std::string_view bid, std::string_view ofr,
                        std::string_view qty = "100.0", std::string_view ts = "1714557600123") {
  return std::string(R"({"status":"OK","destination":"quote","payload":{"epic":")") +
         std::string(epic) + R"(","product":"CFD","bid":)" + std::string(bid) + R"(,"bidQty":)" +
         std::string(qty) + R"(,"ofr":)" + std::string(ofr) + R"(,"ofrQty":)" + std::string(qty) +
         R"(,"timestamp":)" + std::string(ts) + "}}";
}

TEST(QuoteParser, VenueExampleQuoteBecomesAFixedPointQuote) {
  QuoteParser parser = make_parser();
  Quote quote;
  quote.received_ns = 55;
  quote.sequence = 9;
  ASSERT_EQ(parser.parse(read_example("ws_quote.json"), quote), ParseResult::kQuote)
      << parser.last_error();
  EXPECT_EQ(quote.instrument, kOil);
  EXPECT_EQ(quote.bid, 9387);         // 93.87 at 2 decimals
  EXPECT_EQ(quote.ask, 9390);         // ofr 93.9
  EXPECT_EQ(quote.bid_size, 497600);  // 4976.0 at 2 decimals
  EXPECT_EQ(quote.ask_size, 500000);  // 5000.0
  EXPECT_EQ(quote.venue_epoch_ms, 1660297190627);
  EXPECT_EQ(quote.received_ns, 55);  // the feed stage's fields are left alone
  EXPECT_EQ(quote.sequence, 9u);
}

TEST(QuoteParser, PricesConvertExactlyAtEachInstrumentsDecimals) {
  QuoteParser parser = make_parser();
  Quote q;
  ASSERT_EQ(parser.parse(quote_frame("GOLD", "2300.1", "2300.4"), q), ParseResult::kQuote);
  EXPECT_EQ(q.instrument, kGold);
  EXPECT_EQ(q.bid, 230010);
  EXPECT_EQ(q.ask, 230040);
  EXPECT_EQ(q.bid_size, 10000);
  ASSERT_EQ(parser.parse(quote_frame("EURUSD", "1.08543", "1.08551", "1000000"), q),
            ParseResult::kQuote);
  EXPECT_EQ(q.instrument, kEurUsd);
  EXPECT_EQ(q.bid, 108543);
  EXPECT_EQ(q.ask, 108551);
  EXPECT_EQ(q.bid_size, 1000000);  // size decimals 0
  ASSERT_EQ(parser.parse(quote_frame("SILVER", "24.203", "24.223", "50.5"), q),
            ParseResult::kQuote);
  EXPECT_EQ(q.bid, 24203);
  EXPECT_EQ(q.bid_size, 505);
  ASSERT_EQ(parser.parse(quote_frame("OIL_CRUDE", "-37.63", "-37.1"), q), ParseResult::kQuote);
  EXPECT_EQ(q.bid, -3763);
  EXPECT_EQ(q.ask, -3710);
}

TEST(QuoteParser, ExtraDecimalsRoundHalfAwayFromZero) {
  QuoteParser parser = make_parser();
  Quote q;
  ASSERT_EQ(parser.parse(quote_frame("EURUSD", "1.085435", "1.0854349"), q), ParseResult::kQuote);
  EXPECT_EQ(q.bid, 108544);  // ...5 → up
  EXPECT_EQ(q.ask, 108543);  // ...49 → down
  ASSERT_EQ(parser.parse(quote_frame("GOLD", "1.005", "-1.005"), q), ParseResult::kQuote);
  EXPECT_EQ(q.bid, 101);   // where llround(1.005 * 100) would give 100
  EXPECT_EQ(q.ask, -101);  // away from zero
}

TEST(QuoteParser, ExponentNumbersAreAccepted) {
  QuoteParser parser = make_parser();
  Quote q;
  ASSERT_EQ(
      parser.parse(quote_frame("GOLD", "2.3001e3", "2.3004E+3", "1e2", "1.714557600123e12"), q),
      ParseResult::kQuote);
  EXPECT_EQ(q.bid, 230010);
  EXPECT_EQ(q.ask, 230040);
  EXPECT_EQ(q.bid_size, 10000);
  EXPECT_EQ(q.venue_epoch_ms, 1714557600123);
}

TEST(QuoteParser, UnknownEpicIsReportedAndLeavesTheQuoteUntouched) {
  QuoteParser parser = make_parser();
  Quote q;
  q.bid = 777;
  EXPECT_EQ(parser.parse(quote_frame("NATURALGAS", "2.759", "2.764"), q),
            ParseResult::kUnknownEpic);
  EXPECT_EQ(parser.last_epic(), "NATURALGAS");
  EXPECT_EQ(q.bid, 777);
}

TEST(QuoteParser, NonQuoteFramesReturnTheirKind) {
  QuoteParser parser = make_parser();
  Quote q;
  EXPECT_EQ(parser.parse(read_example("ws_marketdata_subscribe_response.json"), q),
            ParseResult::kSubscriptionReply);
  EXPECT_EQ(parser.parse(R"({"status":"OK","destination":"marketData.unsubscribe",)"
                         R"("correlationId":"2","payload":{"subscriptions":{"GOLD":"PROCESSED"}}})",
                         q),
            ParseResult::kSubscriptionReply);
  EXPECT_EQ(parser.parse(R"({"status":"OK","destination":"OHLCMarketData.subscribe",)"
                         R"("correlationId":"3","payload":{"subscriptions":)"
                         R"({"GOLD:MINUTE_5:classic":"PROCESSED"}}})",
                         q),
            ParseResult::kOhlcSubscriptionReply);
  EXPECT_EQ(parser.parse(R"({"status":"OK","destination":"ohlc.event","payload":{"resolution":)"
                         R"("MINUTE","epic":"GOLD","type":"classic","priceType":"bid",)"
                         R"("t":1714557600000,"o":2300.1,"h":2301,"l":2299.5,"c":2300.4}})",
                         q),
            ParseResult::kOhlcBar);
  EXPECT_EQ(
      parser.parse(R"({"status":"OK","destination":"ping","correlationId":"4","payload":{}})", q),
      ParseResult::kPingReply);
  EXPECT_EQ(parser.parse(R"({"status":"ERROR","destination":"marketData.subscribe",)"
                         R"("payload":{"errorCode":"error.invalid.session.token"}})",
                         q),
            ParseResult::kErrorReply);
  EXPECT_EQ(parser.parse(R"({"status":"ERROR","destination":"quote","payload":{"x":1}})", q),
            ParseResult::kErrorReply);
  EXPECT_EQ(parser.parse(R"({"status":"OK","destination":"news.flash","payload":{}})", q),
            ParseResult::kUnknownDestination);
}

TEST(QuoteParser, FieldOrderDoesNotMatter) {
  QuoteParser parser = make_parser();
  Quote q;
  ASSERT_EQ(parser.parse(R"({"payload":{"timestamp":5,"ofrQty":2,"ofr":2300.4,"bidQty":1,)"
                         R"("bid":2300.1,"epic":"GOLD"},"destination":"quote","status":"OK"})",
                         q),
            ParseResult::kQuote)
      << parser.last_error();
  EXPECT_EQ(q.instrument, kGold);
  EXPECT_EQ(q.bid, 230010);
  EXPECT_EQ(q.ask, 230040);
  EXPECT_EQ(q.bid_size, 100);
  EXPECT_EQ(q.ask_size, 200);
  EXPECT_EQ(q.venue_epoch_ms, 5);
}

TEST(QuoteParser, MissingQuantitiesAreZeroButMissingPricesAreMalformed) {
  QuoteParser parser = make_parser();
  Quote q;
  ASSERT_EQ(parser.parse(R"({"status":"OK","destination":"quote","payload":{"epic":"GOLD",)"
                         R"("bid":1,"ofr":2,"timestamp":3}})",
                         q),
            ParseResult::kQuote);
  EXPECT_EQ(q.bid_size, 0);
  EXPECT_EQ(q.ask_size, 0);
  EXPECT_EQ(parser.parse(R"({"status":"OK","destination":"quote","payload":{"epic":"GOLD",)"
                         R"("ofr":2,"timestamp":3}})",
                         q),
            ParseResult::kMalformed);
  EXPECT_EQ(parser.last_error(), "quote without bid");
  EXPECT_EQ(parser.parse(R"({"status":"OK","destination":"quote","payload":{"bid":1,"ofr":2,)"
                         R"("timestamp":3}})",
                         q),
            ParseResult::kMalformed);
  EXPECT_EQ(parser.last_error(), "quote without epic");
  EXPECT_EQ(parser.parse(R"({"status":"OK","destination":"quote"})", q), ParseResult::kMalformed);
  EXPECT_EQ(parser.parse(R"({"status":"OK","payload":{}})", q), ParseResult::kMalformed);
  EXPECT_EQ(parser.last_error(), "no destination");
}

TEST(QuoteParser, NonNumericOrOverflowingValuesAreMalformed) {
  QuoteParser parser = make_parser();
  Quote q;
  for (const auto& [bid, why] : std::vector<std::pair<std::string, std::string>>{
           {"\"2300.1\"", "bid is not a number within the fixed-point range"},
           {"null", "bid is not a number within the fixed-point range"},
           {"true", "bid is not a number within the fixed-point range"},
           {"{}", "bid is not a number within the fixed-point range"},
           {"[1]", "bid is not a number within the fixed-point range"},
           {"99999999999999999999", "bid is not a number within the fixed-point range"},
           {"1e300", "bid is not a number within the fixed-point range"}}) {
    EXPECT_EQ(parser.parse(quote_frame("GOLD", bid, "1"), q), ParseResult::kMalformed) << bid;
    EXPECT_EQ(parser.last_error(), why) << bid;
  }
  EXPECT_EQ(parser.parse(quote_frame("GOLD", "1", "2", "1", "1.5e0x"), q), ParseResult::kMalformed);
  EXPECT_EQ(parser.parse(R"({"status":"OK","destination":"quote","payload":{"epic":7,"bid":1,)"
                         R"("ofr":2,"timestamp":3}})",
                         q),
            ParseResult::kMalformed);
}

TEST(QuoteParser, MalformedJsonIsMalformed) {
  QuoteParser parser = make_parser();
  Quote q;
  for (const char* bad : {"", " ", "{", "}", "[]", "null", "\"quote\"", "{\"destination\":}",
                          "{\"destination\":\"quote\",}", "{\"destination\":quote}", "\xff\xfe",
                          "{\"destination\":\"\xff\"}"}) {
    EXPECT_EQ(parser.parse(bad, q), ParseResult::kMalformed) << "'" << bad << "'";
  }
}

TEST(QuoteParser, EveryTruncationOfTheExampleQuoteIsRefused) {
  QuoteParser parser = make_parser();
  const std::string frame = read_example("ws_quote.json");
  const std::size_t last_brace = frame.rfind('}');
  for (std::size_t length = 0; length < last_brace; ++length) {
    Quote q;
    const ParseResult r = parser.parse(std::string_view(frame.data(), length), q);
    EXPECT_NE(r, ParseResult::kQuote) << "prefix of " << length << " bytes";
  }
  Quote q;
  EXPECT_EQ(parser.parse(std::string_view(frame.data(), last_brace + 1), q), ParseResult::kQuote);
}

TEST(QuoteParser, FramesLongerThanTheLimitAreRefusedWithoutParsing) {
  QuoteParser parser = make_parser({.max_frame_bytes = 128});
  Quote q;
  const std::string frame = quote_frame("GOLD", "2300.1", "2300.4");
  ASSERT_GT(frame.size(), 128u);
  EXPECT_EQ(parser.parse(frame, q), ParseResult::kTooLarge);
  EXPECT_EQ(parser.parse_padded(frame, frame.size() + QuoteParser::kPadding, q),
            ParseResult::kTooLarge);
}

TEST(QuoteParser, ZeroCopyParseOfAPaddedReceiveBufferGivesTheSameQuote) {
  QuoteParser parser = make_parser();
  const std::string frame = quote_frame("SILVER", "24.203", "24.223", "7.5");
  std::vector<char> receive_buffer(frame.size() + QuoteParser::kPadding, '\0');
  std::copy(frame.begin(), frame.end(), receive_buffer.begin());
  Quote zero_copy;
  Quote copied;
  ASSERT_EQ(
      parser.parse_padded({receive_buffer.data(), frame.size()}, receive_buffer.size(), zero_copy),
      ParseResult::kQuote);
  ASSERT_EQ(parser.parse(frame, copied), ParseResult::kQuote);
  EXPECT_EQ(zero_copy.bid, copied.bid);
  EXPECT_EQ(zero_copy.ask_size, copied.ask_size);
  // Not enough slack after the frame: falls back to the copy, same answer.
  Quote fallback;
  ASSERT_EQ(parser.parse_padded(frame, frame.size(), fallback), ParseResult::kQuote);
  EXPECT_EQ(fallback.bid, copied.bid);
}

TEST(QuoteParser, CreateRejectsBadTables) {
  std::vector<EpicInstrument> duplicate = {{"GOLD", instruments()[0]}, {"GOLD", instruments()[1]}};
  EXPECT_FALSE(QuoteParser::create(duplicate).ok());
  std::vector<EpicInstrument> too_long = {{std::string(32, 'X'), instruments()[0]}};
  EXPECT_FALSE(QuoteParser::create(too_long).ok());
  std::vector<EpicInstrument> empty_epic = {{"", instruments()[0]}};
  EXPECT_FALSE(QuoteParser::create(empty_epic).ok());
  EXPECT_FALSE(QuoteParser::create(instruments(), {.max_frame_bytes = 0}).ok());
}

TEST(QuoteParser, ManyEpicsAreAllFound) {
  std::vector<EpicInstrument> table;
  for (int i = 0; i < 256; ++i) {
    const std::string epic = "EPIC" + std::to_string(i);
    table.push_back(
        {epic, make_instrument(static_cast<InstrumentId>(i), epic, 2, 2, 0.01, 1, 1, 0)});
  }
  auto parser = QuoteParser::create(table);
  ASSERT_TRUE(parser.ok());
  for (int i = 0; i < 256; ++i) {
    Quote q;
    ASSERT_EQ(parser->parse(quote_frame("EPIC" + std::to_string(i), "1", "2"), q),
              ParseResult::kQuote);
    EXPECT_EQ(q.instrument, i);
  }
}

// The slow reference: the protocol layer's DOM parser, then the exact double → fixed point.
TEST(QuoteParser, AgreesWithTheProtocolParserOnRandomQuotes) {
  QuoteParser parser = make_parser();
  const std::vector<InstrumentSpec> specs = instruments();
  std::mt19937_64 rng(42);
  for (int i = 0; i < 20'000; ++i) {
    const InstrumentSpec& spec = specs[rng() % specs.size()];
    const double scale = static_cast<double>(spec.price_scale());
    const double bid = static_cast<double>(static_cast<int64_t>(rng() % 100'000'000)) / scale;
    const double ofr = bid + static_cast<double>(rng() % 50) / scale;
    const double qty =
        static_cast<double>(rng() % 10'000'000) / static_cast<double>(spec.size_scale());
    const std::string frame = to_json(WsQuote{std::string(spec.name()), "CFD", bid, qty, ofr, qty,
                                              1714557600000 + static_cast<int64_t>(i)});
    Quote fast;
    ASSERT_EQ(parser.parse(frame, fast), ParseResult::kQuote) << frame;
    auto slow = parse_ws_server_message(frame);
    ASSERT_TRUE(slow.ok());
    const WsQuote& reference = std::get<WsQuote>(*slow);
    int64_t expected = 0;
    ASSERT_EQ(fixed_point_from_double(reference.bid, spec.price_decimals, expected),
              DecimalStatus::kOk);
    ASSERT_EQ(fast.bid, expected) << frame;
    ASSERT_EQ(fixed_point_from_double(reference.ofr, spec.price_decimals, expected),
              DecimalStatus::kOk);
    ASSERT_EQ(fast.ask, expected) << frame;
    ASSERT_EQ(fixed_point_from_double(reference.bid_qty, spec.size_decimals, expected),
              DecimalStatus::kOk);
    ASSERT_EQ(fast.bid_size, expected) << frame;
    ASSERT_EQ(fast.venue_epoch_ms, reference.timestamp);
    ASSERT_EQ(fast.instrument, spec.id);
  }
}

// 10k mutated copies of valid frames: every call returns a result; none reads out of bounds
// (each mutated frame sits in an exactly-sized heap buffer for parse_padded, so ASan sees any
// read past the promised padding).
TEST(QuoteParser, TenThousandRandomMutationsNeverCrash) {
  QuoteParser parser = make_parser();
  const std::vector<std::string> seeds = {
      read_example("ws_quote.json"),
      read_example("ws_marketdata_subscribe_response.json"),
      quote_frame("GOLD", "2300.1", "2300.4"),
      quote_frame("EURUSD", "1.08543", "1.08551", "1000000"),
      R"({"status":"OK","destination":"ping","correlationId":"4","payload":{}})",
      R"({"status":"ERROR","destination":"marketData.subscribe","payload":{"errorCode":"x"}})",
      R"({"payload":{"epic":"SILVER","bid":24.2,"ofr":24.3,"timestamp":1},"destination":"quote"})",
  };
  const char alphabet[] = "{}[]\":,.-+eE0123456789 \\nultrfase\x01\x7f\xc3\xa9\xff";
  std::mt19937_64 rng(1234);
  std::array<int, 10> counts{};
  for (int i = 0; i < 10'000; ++i) {
    std::string frame = seeds[rng() % seeds.size()];
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits && !frame.empty(); ++e) {
      const std::size_t at = rng() % frame.size();
      switch (rng() % 4) {
        case 0: frame[at] = alphabet[rng() % (sizeof alphabet - 1)]; break;
        case 1: frame.erase(at, 1 + rng() % 8); break;
        case 2: frame.insert(at, 1, alphabet[rng() % (sizeof alphabet - 1)]); break;
        default: frame.resize(at); break;  // truncation
      }
    }
    Quote q;
    const ParseResult copied = parser.parse(frame, q);
    auto exact = std::make_unique<char[]>(frame.size() + QuoteParser::kPadding);
    std::memcpy(exact.get(), frame.data(), frame.size());
    std::memset(exact.get() + frame.size(), 0, QuoteParser::kPadding);
    const ParseResult zero_copy =
        parser.parse_padded({exact.get(), frame.size()}, frame.size() + QuoteParser::kPadding, q);
    ASSERT_EQ(copied, zero_copy) << frame;
    ++counts[static_cast<std::size_t>(copied)];
  }
  // The mix really exercised both the accepting and the refusing paths.
  EXPECT_GT(counts[static_cast<std::size_t>(ParseResult::kQuote)], 100);
  EXPECT_GT(counts[static_cast<std::size_t>(ParseResult::kMalformed)], 1000);
}

}  // namespace
}  // namespace qt::capital
