// Which address a request comes from, for rate limits and access logs, when some connections
// arrive through a reverse proxy (nginx, HAProxy) that names the real client in a header.
//
// The rule (a client cannot spoof its way out of a limit):
//  1. The socket's peer is not a trusted proxy: the client is the peer. X-Forwarded-For and
//     X-Real-IP are ignored whatever they say.
//  2. The peer is trusted and X-Forwarded-For is present (several such headers are joined in
//     order, as one comma-separated list): walk the list from the right, skipping entries that
//     are themselves trusted proxies; the first untrusted entry is the client. Entries to its
//     left were written by the client and are never believed. When every entry is trusted, the
//     left-most one is the client. An entry that is not an address stops the walk: the entry to
//     its right (or the peer, when it is the right-most) is the client.
//  3. The peer is trusted, no X-Forwarded-For, X-Real-IP holds an address: that address.
//  4. Otherwise the peer.
// Entries may carry a port ("203.0.113.9:5123", "[2001:db8::1]:443"); it is dropped. IPv4-mapped
// IPv6 addresses (::ffff:a.b.c.d) are treated as the IPv4 address everywhere.
//
// Immutable after parse(): any thread may call client_address() concurrently; no allocation
// beyond the result.
#pragma once

#include <boost/asio/ip/address.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace qt::http {

// One trusted network: an address with a prefix length (a single address is /32 or /128).
struct Network {
  boost::asio::ip::address address;
  unsigned prefix_length = 0;

  bool contains(const boost::asio::ip::address& candidate) const;
  std::string to_string() const;  // "10.0.0.0/8", "::1/128"
};

class TrustedProxies {
 public:
  TrustedProxies() = default;  // trusts no one: the client is always the socket's peer

  // Entries like "127.0.0.1", "10.0.0.0/8", "::1", "fd00::/8". InvalidArgument naming the
  // entry when it is not an address, the prefix is out of range, or bits are set below the
  // prefix ("10.0.0.1/8": probably a typo for a single address or for 10.0.0.0/8).
  static absl::StatusOr<TrustedProxies> parse(const std::vector<std::string>& entries);

  bool empty() const { return networks_.empty(); }
  bool trusts(const boost::asio::ip::address& peer) const;
  const std::vector<Network>& networks() const { return networks_; }

  // The rule above. `forwarded_for` is the (joined) X-Forwarded-For value, `real_ip` the
  // X-Real-IP value; empty when absent.
  boost::asio::ip::address client_address(const boost::asio::ip::address& peer,
                                          std::string_view forwarded_for,
                                          std::string_view real_ip) const;

 private:
  std::vector<Network> networks_;
};

// Parses one address as it appears in a forwarding header or a config entry: optional
// surrounding spaces, an optional port (IPv4 "a.b.c.d:port", IPv6 "[addr]:port" or "[addr]"),
// IPv4-mapped IPv6 turned into IPv4. nullopt when it is not an address (a hostname, "unknown",
// an obfuscated identifier of RFC 7239).
std::optional<boost::asio::ip::address> parse_forwarded_address(std::string_view text);

}  // namespace qt::http
