// Proof that the stream client's receive path allocates nothing per quote: allocations are
// counted (tests/support/allocation_counter.hpp) on the stream thread only, marked by
// on_thread_start. After a warm-up, thousands of quote frames go server → (TLS →) WebSocket →
// QuoteParser → QuoteRing.
//
// Over plain TCP the count must be zero. Over TLS 1.3, OpenSSL 3.0 itself allocates one 40-byte
// block per received record (tls13_enc builds the record's AAD with a WPACKET, whose
// WPACKET_init_static_len zallocs its sub-packet bookkeeping; freed before SSL_read returns).
// That one is out of our hands and is counted apart, by its size (malloc(40)); every other
// allocation must be zero — in particular OpenSSL's record buffers, which Asio would otherwise free
// and allocate again for every record (SSL_MODE_RELEASE_BUFFERS, cleared in
// gateway/capital/client_tls.cpp). The scripted server and the test's consumer allocate freely on
// their own threads.
//
// Sanitizer runtimes own malloc, so the test is skipped (with a message) in those builds.
#include <gtest/gtest.h>

#include <cstdio>

#include "feeds/capital/stream_client.hpp"
#include "tests/capital_stream/stream_test_server.hpp"
#include "tests/support/allocation_counter.hpp"

namespace qt::capital {
namespace {

using namespace std::chrono_literals;
using testing::quote_frame;
using testing::StreamTestServer;
using testing::TestPki;
using testing::wait_until;

struct Counts {
  uint64_t quotes = 0;
  uint64_t allocations = 0;
  uint64_t openssl_aad_packets = 0;
};

constexpr std::size_t kOpenSslAadPacketBytes = 40;  // WPACKET_SUB in tls13_enc

// Streams 2000 quotes to warm up, then counts allocations on the stream thread over 20000.
Counts stream_and_count(bool tls) {
  const TestPki pki = TestPki::create({"DNS:localhost"});
  StreamTestServer server({}, tls ? &pki : nullptr);
  auto ring = std::make_unique<QuoteRing>();

  StreamConfig config;
  config.url = server.url();
  if (tls) config.tls = *TlsContext::create(true, pki.ca_file);
  config.ping_interval = 1min;  // no ping inside the measured window
  config.stale_after = 30s;
  config.epic_stale_after = 30s;  // per-epic bookkeeping on, as in production
  StreamCallbacks callbacks;
  callbacks.tokens = [] {
    return std::optional<StreamTokens>(StreamTokens{Secret("cst-1"), Secret("token-1"), 1});
  };
  callbacks.on_thread_start = [] { qt::testing::mark_this_thread_counted(true); };
  std::vector<EpicInstrument> epics = {
      {"GOLD", make_instrument(1, "GOLD", 2, 2, 0.01, 0.01, 0.01, 0)},
      {"EURUSD", make_instrument(2, "EURUSD", 5, 0, 0.00001, 1, 1, 0)}};
  Doorbell doorbell;
  auto client = CapitalStreamClient::create(config, epics, *ring, callbacks, &doorbell);
  EXPECT_TRUE(client.ok()) << client.status();
  if (!client.ok()) return {};
  (*client)->start();
  EXPECT_TRUE(wait_until(
      [&] { return server.envelopes(WsDestination::kMarketDataSubscribe).size() == 1; }));

  auto send_and_take = [&](int count) {
    uint64_t taken = 0;
    for (int i = 0; i < count; ++i) {
      server.push(quote_frame(i % 2 == 0 ? "GOLD" : "EURUSD", i % 2 == 0 ? "2300.15" : "1.08543",
                              i % 2 == 0 ? "2300.45" : "1.08551", 1714557600000 + i));
      if (i % 256 == 255) std::this_thread::sleep_for(1ms);  // keep the ring from filling
      Quote q;
      while (ring->try_pop(q)) ++taken;
    }
    wait_until([&] {
      Quote q;
      while (ring->try_pop(q)) ++taken;
      return taken == static_cast<uint64_t>(count);
    });
    return taken;
  };

  EXPECT_EQ(send_and_take(2000), 2000u);  // warm-up: the handler allocators' caches fill
  qt::testing::AllocationWindow window(qt::testing::CountedThreads::kMarked,
                                       kOpenSslAadPacketBytes);
  Counts counts;
  counts.quotes = send_and_take(20000);
  window.close();
  counts.allocations = window.allocations();
  counts.openssl_aad_packets = window.set_apart();
  EXPECT_EQ((*client)->stats().drops, 0u);
  return counts;
}

TEST(StreamReceivePath, AllocatesNothingPerQuoteOverPlainTcp) {
  if (!qt::testing::allocation_counting_available()) {
    GTEST_SKIP() << qt::testing::kAllocationCountingUnavailable;
  }
  const Counts counts = stream_and_count(/*tls=*/false);
  EXPECT_EQ(counts.quotes, 20000u);
  EXPECT_EQ(counts.allocations + counts.openssl_aad_packets, 0u);
}

TEST(StreamReceivePath, AllocatesNothingPerQuoteOverTlsBesidesOpenSslsRecordAad) {
  if (!qt::testing::allocation_counting_available()) {
    GTEST_SKIP() << qt::testing::kAllocationCountingUnavailable;
  }
  const Counts counts = stream_and_count(/*tls=*/true);
  EXPECT_EQ(counts.quotes, 20000u);
  EXPECT_EQ(counts.allocations, 0u) << "allocations on the stream thread while receiving";
  EXPECT_LE(counts.openssl_aad_packets, counts.quotes) << "at most one per TLS record";
  std::printf("OpenSSL's 40-byte record AAD packets: %llu for %llu quotes\n",
              static_cast<unsigned long long>(counts.openssl_aad_packets),
              static_cast<unsigned long long>(counts.quotes));
}

}  // namespace
}  // namespace qt::capital
