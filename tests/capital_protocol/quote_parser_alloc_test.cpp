// Proof that QuoteParser allocates nothing per frame: this binary interposes the C allocator
// (operator new ends in malloc too) and counts calls while armed. After create(), thousands of
// quote, non-quote, unknown-epic and malformed frames go through parse() and parse_padded(),
// and the count must stay zero. Skipped under sanitizers (they own malloc).
#include <gtest/gtest.h>
#include <malloc.h>

#include <atomic>
#include <string>
#include <vector>

#include "feeds/capital/quote_parser.hpp"

#ifndef QT_SANITIZER_BUILD
extern "C" {
void* __libc_malloc(size_t);
void* __libc_calloc(size_t, size_t);
void* __libc_realloc(void*, size_t);
void* __libc_memalign(size_t, size_t);
}

namespace {
std::atomic<bool> g_armed{false};
std::atomic<uint64_t> g_allocations{0};
void count() {
  if (g_armed.load(std::memory_order_relaxed)) g_allocations.fetch_add(1);
}
}  // namespace

extern "C" {
void* malloc(size_t size) {
  count();
  return __libc_malloc(size);
}
void* calloc(size_t n, size_t size) {
  count();
  return __libc_calloc(n, size);
}
void* realloc(void* p, size_t size) {
  count();
  return __libc_realloc(p, size);
}
void* aligned_alloc(size_t alignment, size_t size) {
  count();
  return __libc_memalign(alignment, size);
}
void* memalign(size_t alignment, size_t size) {
  count();
  return __libc_memalign(alignment, size);
}
int posix_memalign(void** out, size_t alignment, size_t size) {
  count();
  *out = __libc_memalign(alignment, size);
  return *out != nullptr ? 0 : ENOMEM;
}
}
#endif

namespace qt::capital {
namespace {

TEST(QuoteParserAllocation, CounterSeesAnAllocationWhenThereIsOne) {
#ifdef QT_SANITIZER_BUILD
  GTEST_SKIP() << "allocation counting needs the plain C allocator";
#else
  g_allocations = 0;
  g_armed = true;
  auto* text = new std::string(100, 'x');
  g_armed = false;
  delete text;
  EXPECT_GE(g_allocations.load(), 1u);
#endif
}

TEST(QuoteParserAllocation, ParsingAnyFrameAllocatesNothing) {
#ifdef QT_SANITIZER_BUILD
  GTEST_SKIP() << "allocation counting needs the plain C allocator";
#else
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
  g_allocations = 0;
  g_armed = true;
  for (int i = 0; i < 20'000; ++i) {
    const std::size_t k = static_cast<std::size_t>(i) % frames.size();
    quotes += parser->parse(frames[k], q) == ParseResult::kQuote;
    quotes += parser->parse_padded({padded[k].data(), frames[k].size()}, padded[k].size(), q) ==
              ParseResult::kQuote;
  }
  g_armed = false;
  EXPECT_EQ(g_allocations.load(), 0u);
  EXPECT_EQ(quotes, 15'000u);  // 3 of 8 frames are quotes, each parsed twice
#endif
}

}  // namespace
}  // namespace qt::capital
