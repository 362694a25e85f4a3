// Trusted proxies and the client-address rule (client_address.hpp), with worked examples.
#include "gateway/http/client_address.hpp"

#include <gtest/gtest.h>

namespace qt::http {
namespace {

using boost::asio::ip::make_address;

TrustedProxies proxies(const std::vector<std::string>& entries) {
  absl::StatusOr<TrustedProxies> parsed = TrustedProxies::parse(entries);
  EXPECT_TRUE(parsed.ok()) << parsed.status();
  return *std::move(parsed);
}

std::string client(const TrustedProxies& trusted, const char* peer, std::string_view xff,
                   std::string_view real_ip = {}) {
  return trusted.client_address(make_address(peer), xff, real_ip).to_string();
}

TEST(TrustedProxies, ParsesAddressesAndNetworksOfBothFamilies) {
  const TrustedProxies trusted =
      proxies({"127.0.0.1", "10.0.0.0/8", " ::1 ", "fd00::/8", "0.0.0.0/0"});
  ASSERT_EQ(trusted.networks().size(), 5u);
  EXPECT_EQ(trusted.networks()[0].to_string(), "127.0.0.1/32");
  EXPECT_EQ(trusted.networks()[1].to_string(), "10.0.0.0/8");
  EXPECT_EQ(trusted.networks()[2].to_string(), "::1/128");
  EXPECT_EQ(trusted.networks()[3].to_string(), "fd00::/8");
}

TEST(TrustedProxies, RefusesBadEntriesNamingThem) {
  for (const char* entry : {"", "localhost", "10.0.0.0/", "10.0.0.0/33", "10.0.0.0/x", "::/129",
                            "10.0.0.1/8", "fd00::1/8", "1.2.3.4.5", "10.0.0.0/8/8"}) {
    const absl::StatusOr<TrustedProxies> parsed = TrustedProxies::parse({entry});
    EXPECT_TRUE(absl::IsInvalidArgument(parsed.status())) << entry;
    if (!parsed.ok()) {
      EXPECT_NE(parsed.status().message().find(std::string("'") + entry + "'"),
                absl::string_view::npos)
          << parsed.status();
    }
  }
}

TEST(TrustedProxies, NetworkMembership) {
  const TrustedProxies trusted = proxies({"10.1.0.0/16", "2001:db8::/32", "192.168.1.7"});
  EXPECT_TRUE(trusted.trusts(make_address("10.1.255.3")));
  EXPECT_FALSE(trusted.trusts(make_address("10.2.0.1")));
  EXPECT_TRUE(trusted.trusts(make_address("2001:db8:ffff::1")));
  EXPECT_FALSE(trusted.trusts(make_address("2001:db9::1")));
  EXPECT_TRUE(trusted.trusts(make_address("192.168.1.7")));
  EXPECT_FALSE(trusted.trusts(make_address("192.168.1.8")));
  EXPECT_TRUE(trusted.trusts(make_address("::ffff:10.1.0.9")));  // IPv4-mapped IPv6
}

TEST(ClientAddress, AnUntrustedPeerIsTheClientWhateverTheHeadersSay) {
  const TrustedProxies trusted = proxies({"10.0.0.0/8"});
  EXPECT_EQ(client(trusted, "203.0.113.9", "1.2.3.4", "5.6.7.8"), "203.0.113.9");
  EXPECT_EQ(client(TrustedProxies(), "127.0.0.1", "1.2.3.4", "5.6.7.8"), "127.0.0.1");
}

TEST(ClientAddress, BehindATrustedProxyTheRightMostUntrustedEntryIsTheClient) {
  const TrustedProxies trusted = proxies({"10.0.0.0/8"});
  // nginx appended the address it saw; whatever the client wrote to its left is ignored.
  EXPECT_EQ(client(trusted, "10.0.0.2", "198.51.100.1"), "198.51.100.1");
  EXPECT_EQ(client(trusted, "10.0.0.2", "6.6.6.6, 198.51.100.1"), "198.51.100.1");
  // Two trusted hops (HAProxy → nginx): both are skipped.
  EXPECT_EQ(client(trusted, "10.0.0.2", "6.6.6.6, 198.51.100.1, 10.0.0.3"), "198.51.100.1");
  // Every entry trusted: the left-most.
  EXPECT_EQ(client(trusted, "10.0.0.2", "10.9.9.9, 10.0.0.3"), "10.9.9.9");
  // Ports and brackets are dropped; spaces tolerated.
  EXPECT_EQ(client(trusted, "10.0.0.2", "  198.51.100.1:5123 "), "198.51.100.1");
  EXPECT_EQ(client(trusted, "10.0.0.2", "[2001:db8::7]:443"), "2001:db8::7");
  EXPECT_EQ(client(trusted, "10.0.0.2", "2001:db8::7"), "2001:db8::7");
  EXPECT_EQ(client(trusted, "10.0.0.2", "::ffff:198.51.100.1"), "198.51.100.1");
}

TEST(ClientAddress, AnEntryThatIsNotAnAddressStopsTheWalk) {
  const TrustedProxies trusted = proxies({"10.0.0.0/8"});
  EXPECT_EQ(client(trusted, "10.0.0.2", "unknown"), "10.0.0.2");
  EXPECT_EQ(client(trusted, "10.0.0.2", "1.2.3.4, garbage, 10.0.0.3"), "10.0.0.3");
  EXPECT_EQ(client(trusted, "10.0.0.2", "1.2.3.4,,10.0.0.3"), "10.0.0.3");
}

TEST(ClientAddress, XRealIpOnlyWithoutXForwardedFor) {
  const TrustedProxies trusted = proxies({"127.0.0.1"});
  EXPECT_EQ(client(trusted, "127.0.0.1", "", "198.51.100.4"), "198.51.100.4");
  EXPECT_EQ(client(trusted, "127.0.0.1", "198.51.100.1", "198.51.100.4"), "198.51.100.1");
  EXPECT_EQ(client(trusted, "127.0.0.1", "", "not-an-address"), "127.0.0.1");
}

TEST(ClientAddress, ParsesForwardedEntries) {
  EXPECT_EQ(parse_forwarded_address("1.2.3.4")->to_string(), "1.2.3.4");
  EXPECT_EQ(parse_forwarded_address("1.2.3.4:80")->to_string(), "1.2.3.4");
  EXPECT_EQ(parse_forwarded_address("[::1]")->to_string(), "::1");
  EXPECT_EQ(parse_forwarded_address("[::1]:8080")->to_string(), "::1");
  for (const char* bad : {"", "1.2.3.4:", "1.2.3.4:99999", "[1.2.3.4]", "[::1", "[::1]x",
                          "host.example", "1.2.3.4:80:80", "_hidden"}) {
    EXPECT_EQ(parse_forwarded_address(bad), std::nullopt) << bad;
  }
  // Longer than any address: refused, never copied past the stack buffer.
  EXPECT_EQ(parse_forwarded_address(std::string(1000, '1')), std::nullopt);
}

}  // namespace
}  // namespace qt::http
