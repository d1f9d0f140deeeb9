// IP addresses as the proxy settings and headers use them: parsed from text,
// printed canonically, and matched against networks (CIDR ranges). An IPv4
// address is held as its IPv4-mapped IPv6 form, so that one comparison serves
// both families and "::ffff:127.0.0.1" is the same peer as "127.0.0.1".
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace csgi {

class IpAddress {
 public:
  // "192.0.2.1", "2001:db8::1", "::ffff:192.0.2.1"; nullopt for anything else
  // (a host name, a port, brackets).
  static std::optional<IpAddress> parse(std::string_view text);
  // From the 4 or 16 bytes of an address in network order.
  static IpAddress from_v4(const std::uint8_t* bytes);
  static IpAddress from_v6(const std::uint8_t* bytes);

  bool is_v4() const;
  // "192.0.2.1", "2001:db8::1": the canonical text (RFC 5952 for IPv6).
  std::string to_string() const;
  // Whether the first `prefix` bits equal those of `network` (a prefix of an
  // IPv4 network counts IPv4 bits).
  bool in(const IpAddress& network, unsigned prefix) const;

  friend bool operator==(const IpAddress&, const IpAddress&) = default;

 private:
  std::array<std::uint8_t, 16> bytes_{};
};

}  // namespace csgi
