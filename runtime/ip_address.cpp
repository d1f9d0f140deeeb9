#include "runtime/ip_address.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>

namespace csgi {

namespace {

constexpr std::array<std::uint8_t, 12> v4_mapped_prefix{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF};

}  // namespace

std::optional<IpAddress> IpAddress::parse(std::string_view text) {
  if (text.empty() || text.size() >= INET6_ADDRSTRLEN) return std::nullopt;
  char buffer[INET6_ADDRSTRLEN] = {};
  std::memcpy(buffer, text.data(), text.size());
  std::uint8_t bytes[16] = {};
  if (::inet_pton(AF_INET, buffer, bytes) == 1) return from_v4(bytes);
  if (::inet_pton(AF_INET6, buffer, bytes) == 1) return from_v6(bytes);
  return std::nullopt;
}

IpAddress IpAddress::from_v4(const std::uint8_t* bytes) {
  IpAddress address;
  std::copy(v4_mapped_prefix.begin(), v4_mapped_prefix.end(), address.bytes_.begin());
  std::copy(bytes, bytes + 4, address.bytes_.begin() + 12);
  return address;
}

IpAddress IpAddress::from_v6(const std::uint8_t* bytes) {
  IpAddress address;
  std::copy(bytes, bytes + 16, address.bytes_.begin());
  return address;
}

bool IpAddress::is_v4() const {
  return std::equal(v4_mapped_prefix.begin(), v4_mapped_prefix.end(), bytes_.begin());
}

std::string IpAddress::to_string() const {
  char text[INET6_ADDRSTRLEN] = {};
  if (is_v4())
    ::inet_ntop(AF_INET, bytes_.data() + 12, text, sizeof text);
  else
    ::inet_ntop(AF_INET6, bytes_.data(), text, sizeof text);
  return text;
}

bool IpAddress::in(const IpAddress& network, unsigned prefix) const {
  if (network.is_v4()) {
    if (!is_v4()) return false;
    prefix += 96;
  }
  prefix = std::min(prefix, 128u);
  unsigned whole = prefix / 8, rest = prefix % 8;
  if (!std::equal(bytes_.begin(), bytes_.begin() + whole, network.bytes_.begin())) return false;
  if (rest == 0) return true;
  auto mask = static_cast<std::uint8_t>(0xFF << (8 - rest));
  return (bytes_[whole] & mask) == (network.bytes_[whole] & mask);
}

}  // namespace csgi
