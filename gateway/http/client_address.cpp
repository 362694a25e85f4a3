// Trusted proxies and the client-address rule; see client_address.hpp.
#include "gateway/http/client_address.hpp"

#include <fmt/format.h>

#include <charconv>
#include <cstring>
#include <optional>

namespace qt::http {
namespace {

namespace ip = boost::asio::ip;

constexpr std::size_t kMaxAddressText = 64;  // longer than any IPv6 text with a zone

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

ip::address unmapped(const ip::address& address) {
  if (address.is_v6() && address.to_v6().is_v4_mapped()) {
    return ip::make_address_v4(ip::v4_mapped, address.to_v6());
  }
  return address;
}

// An address in plain text (no port, no brackets), parsed without allocating.
std::optional<ip::address> parse_plain(std::string_view text) {
  if (text.empty() || text.size() >= kMaxAddressText) return std::nullopt;
  char buffer[kMaxAddressText];
  std::memcpy(buffer, text.data(), text.size());
  buffer[text.size()] = '\0';
  boost::system::error_code ec;
  const ip::address address = ip::make_address(static_cast<const char*>(buffer), ec);
  if (ec) return std::nullopt;
  return unmapped(address);
}

bool is_port(std::string_view text) {
  unsigned port = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), port);
  return ec == std::errc() && end == text.data() + text.size() && port <= 65535;
}

// The bytes of an address in network order, and their count (4 or 16).
std::size_t address_bytes(const ip::address& address, unsigned char (&out)[16]) {
  if (address.is_v4()) {
    const auto bytes = address.to_v4().to_bytes();
    std::memcpy(out, bytes.data(), bytes.size());
    return bytes.size();
  }
  const auto bytes = address.to_v6().to_bytes();
  std::memcpy(out, bytes.data(), bytes.size());
  return bytes.size();
}

}  // namespace

std::optional<ip::address> parse_forwarded_address(std::string_view text) {
  text = trim(text);
  if (text.empty()) return std::nullopt;
  if (text.front() == '[') {  // [v6] or [v6]:port
    const std::size_t close = text.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    const std::string_view rest = text.substr(close + 1);
    if (!rest.empty() && (rest.front() != ':' || !is_port(rest.substr(1)))) return std::nullopt;
    const std::string_view inner = text.substr(1, close - 1);
    if (inner.find(':') == std::string_view::npos) return std::nullopt;  // brackets hold IPv6
    return parse_plain(inner);
  }
  const std::size_t colon = text.find(':');
  if (colon != std::string_view::npos && text.find(':', colon + 1) == std::string_view::npos) {
    // Exactly one colon: IPv4 with a port.
    if (!is_port(text.substr(colon + 1))) return std::nullopt;
    const std::optional<ip::address> address = parse_plain(text.substr(0, colon));
    if (!address || !address->is_v4()) return std::nullopt;
    return address;
  }
  return parse_plain(text);
}

bool Network::contains(const ip::address& candidate_text) const {
  const ip::address candidate = unmapped(candidate_text);
  if (candidate.is_v4() != address.is_v4()) return false;
  unsigned char a[16];
  unsigned char b[16];
  const std::size_t size = address_bytes(address, a);
  address_bytes(candidate, b);
  unsigned bits = prefix_length;
  for (std::size_t i = 0; i < size && bits > 0; ++i) {
    const unsigned take = bits >= 8 ? 8 : bits;
    const auto mask = static_cast<unsigned char>(0xFF00u >> take);
    if ((a[i] & mask) != (b[i] & mask)) return false;
    bits -= take;
  }
  return true;
}

std::string Network::to_string() const {
  return fmt::format("{}/{}", address.to_string(), prefix_length);
}

absl::StatusOr<TrustedProxies> TrustedProxies::parse(const std::vector<std::string>& entries) {
  TrustedProxies proxies;
  for (const std::string& raw : entries) {
    const std::string_view entry = trim(raw);
    const std::size_t slash = entry.find('/');
    const std::optional<ip::address> address = parse_plain(entry.substr(0, slash));
    if (!address) {
      return absl::InvalidArgumentError(
          fmt::format("trusted_proxies: '{}' is not an IPv4/IPv6 address or CIDR network", raw));
    }
    const unsigned max_prefix = address->is_v4() ? 32 : 128;
    unsigned prefix = max_prefix;
    if (slash != std::string_view::npos) {
      const std::string_view digits = entry.substr(slash + 1);
      const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), prefix);
      if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size() ||
          prefix > max_prefix) {
        return absl::InvalidArgumentError(fmt::format(
            "trusted_proxies: '{}' has a prefix length outside 0..{}", raw, max_prefix));
      }
    }
    Network network{*address, prefix};
    unsigned char bytes[16];
    const std::size_t size = address_bytes(*address, bytes);
    for (std::size_t bit = prefix; bit < size * 8; ++bit) {
      if (bytes[bit / 8] & (0x80u >> (bit % 8))) {
        return absl::InvalidArgumentError(fmt::format(
            "trusted_proxies: '{}' has bits set below its /{} prefix (a network is written "
            "with its first address, e.g. 10.0.0.0/8)",
            raw, prefix));
      }
    }
    proxies.networks_.push_back(network);
  }
  return proxies;
}

bool TrustedProxies::trusts(const ip::address& peer) const {
  for (const Network& network : networks_) {
    if (network.contains(peer)) return true;
  }
  return false;
}

ip::address TrustedProxies::client_address(const ip::address& peer_text,
                                           std::string_view forwarded_for,
                                           std::string_view real_ip) const {
  const ip::address peer = unmapped(peer_text);
  if (!trusts(peer)) return peer;
  if (!trim(forwarded_for).empty()) {
    ip::address client = peer;  // the hop to the right of the entry being read
    std::string_view rest = forwarded_for;
    while (true) {
      const std::size_t comma = rest.rfind(',');
      const std::string_view entry =
          comma == std::string_view::npos ? rest : rest.substr(comma + 1);
      const std::optional<ip::address> address = parse_forwarded_address(entry);
      if (!address) return client;
      if (!trusts(*address)) return *address;
      client = *address;
      if (comma == std::string_view::npos) return client;  // every entry trusted: the left-most
      rest = rest.substr(0, comma);
    }
  }
  if (const std::optional<ip::address> address = parse_forwarded_address(real_ip)) {
    return *address;
  }
  return peer;
}

}  // namespace qt::http
