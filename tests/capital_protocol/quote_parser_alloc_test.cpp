// Proof that QuoteParser allocates nothing per frame: allocations are counted on every thread
// (tests/support/allocation_counter.hpp). After create(), thousands of quote, non-quote,
// unknown-epic and malformed frames go through parse() and parse_padded(), and the count must
// stay zero. Skipped under sanitizers (they own malloc).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "feeds/capital/quote_parser.hpp"
#include "tests/support/allocation_counter.hpp"

namespace qt::capital {
namespace {

using qt::testing::allocation_counting_available;
using qt::testing::kAllocationCountingUnavailable;

TEST(QuoteParserAllocation, CounterSeesAnAllocationWhenThereIsOne) {
  if (!allocation_counting_available()) GTEST_SKIP() << kAllocationCountingUnavailable;
  EXPECT_GE(qt::testing::allocations_counted_for_one_new(), 1u);
}

TEST(QuoteParserAllocation, ParsingAnyFrameAllocatesNothing) {
  if (!allocation_counting_available()) GTEST_SKIP() << kAllocationCountingUnavailable;
  const std::vector<InstrumentSpec> specs = {make_instrument(0, "GOLD", 2, 2, 0.01, 0.01, 0.01, 0),
                                             make_instrument(1, "EURUSD", 5, 0, 0.00001, 1, 1, 0)};
  auto parser = QuoteParser::create(specs);
  ASSERT_TRUE(parser.ok());
  std::vector<std::string> frames = {
      R"({"status":"OK","destination":"quote","payload":{"epic":"GOLD","product":"CFD",)"
      R"("bid":2300.1,"bidQty":100.0,"ofr":2300.4,"ofrQty":100.0,"timestamp":1714557600123}})",
      R"({"status":"OK","destination":"quote","payload":{"epic":"EURUSD","product":"CFD",)"
      R"("bid":1.08543,"bidQty":1000000,"ofr":1.08551,"ofrQty":1000000,"timestamp":1}})",
      R"({"payload":{"epic":"GOLD","bid":1,"ofr":2,"timestamp":3},"destination":"quote"})",
      R"({"status":"OK","destination":"quote","payload":{"epic":"NOPE","bid":1,"ofr":2,)"
      R"("timestamp":3}})",
      R"({"status":"OK","destination":"ping","correlationId":"4","payload":{}})",
      R"({"status":"ERROR","destination":"marketData.subscribe","payload":{"errorCode":"x"}})",
      R"({"status":"OK","destination":"quote","payload":{"epic":"GOLD","bid":)",
      "not json at all",
  };
  std::vector<std::string> padded;
  for (const std::string& f : frames) padded.push_back(f + std::string(QuoteParser::kPadding, ' '));

  Quote q;
  uint64_t quotes = 0;
  for (const std::string& f : frames) (void)parser->parse(f, q);  // warm-up
  qt::testing::AllocationWindow window(qt::testing::CountedThreads::kAll);
  for (int i = 0; i < 20'000; ++i) {
    const std::size_t k = static_cast<std::size_t>(i) % frames.size();
    quotes += parser->parse(frames[k], q) == ParseResult::kQuote;
    quotes += parser->parse_padded({padded[k].data(), frames[k].size()}, padded[k].size(), q) ==
              ParseResult::kQuote;
  }
  window.close();
  EXPECT_EQ(window.allocations(), 0u);
  EXPECT_EQ(quotes, 15'000u);  // 3 of 8 frames are quotes, each parsed twice
}

}  // namespace
}  // namespace qt::capital
