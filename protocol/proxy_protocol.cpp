#include "protocol/proxy_protocol.hpp"

#include <array>
#include <cstdint>
#include <string>

#include "runtime/ascii.hpp"
#include "runtime/ip_address.hpp"

namespace csgi::protocol {

namespace {

using namespace std::string_view_literals;

// Version 1: "PROXY TCP4 192.0.2.1 198.51.100.1 56324 443\r\n", at most 107 bytes.
constexpr std::string_view v1_prefix = "PROXY "sv;
constexpr std::size_t v1_limit = 107;
// Version 2: a binary signature that no HTTP request begins with.
constexpr std::string_view v2_signature = "\r\n\r\n\0\r\nQUIT\n"sv;
constexpr std::size_t v2_fixed = 16;  // signature, version and command, family, length

constexpr std::uint8_t v2_local = 0x20;
constexpr std::uint8_t v2_proxy = 0x21;
constexpr std::uint8_t family_unspec = 0x00;
constexpr std::uint8_t family_tcp4 = 0x11;
constexpr std::uint8_t family_tcp6 = 0x21;
constexpr std::uint8_t family_unix = 0x31;
constexpr std::size_t tcp4_size = 12, tcp6_size = 36, unix_size = 216;
constexpr std::uint8_t tlv_ssl = 0x20;
constexpr std::uint8_t ssl_client = 0x01;

ProxyParseResult invalid() { return {ProxyParse::invalid, {}}; }

bool is_prefix(std::string_view bytes, std::string_view of) {
  return of.substr(0, bytes.size()) == bytes.substr(0, of.size());
}

std::uint16_t be16(std::string_view bytes, std::size_t at) {
  return static_cast<std::uint16_t>((static_cast<unsigned char>(bytes[at]) << 8) |
                                    static_cast<unsigned char>(bytes[at + 1]));
}

std::optional<std::uint16_t> port_number(std::string_view text) {
  // A v1 port is 0 to 65535 in decimal, without a sign or a leading zero.
  if (text.size() > 1 && text[0] == '0') return std::nullopt;
  return ascii::parse_decimal<std::uint16_t>(text);
}

// An address of a TCP4 line (`v6` false) or a TCP6 line, and its port.
std::optional<Endpoint> v1_endpoint(bool v6, std::string_view host, std::string_view port) {
  auto number = port_number(port);
  auto address = IpAddress::parse(host);
  // IPv6 text always has a colon; IPv4 text never has one.
  if (!number || !address || (host.find(':') != std::string_view::npos) != v6) return std::nullopt;
  return Endpoint{address->to_string(), *number};
}

// The space-separated words of a v1 line, without its "PROXY " and CRLF.
std::array<std::string_view, 5> split_words(std::string_view line, std::size_t& count) {
  std::array<std::string_view, 5> words{};
  count = 0;
  while (!line.empty()) {
    auto space = line.find(' ');
    if (count == words.size()) {
      ++count;
      break;
    }
    words[count++] = line.substr(0, space);
    if (space == std::string_view::npos) break;
    line.remove_prefix(space + 1);
  }
  return words;
}

ProxyParseResult parse_v1(std::string_view bytes) {
  auto end = bytes.find("\r\n");
  if (end == std::string_view::npos)
    return bytes.size() < v1_limit ? ProxyParseResult{} : invalid();
  if (end + 2 > v1_limit) return invalid();
  std::string_view line = bytes.substr(v1_prefix.size(), end - v1_prefix.size());
  ProxyParseResult result{ProxyParse::complete, {}};
  result.header.length = end + 2;
  // "UNKNOWN" may be followed by anything: the receiver ignores the rest.
  if (line.starts_with("UNKNOWN")) {
    result.header.local = true;
    return result;
  }
  std::size_t count = 0;
  auto words = split_words(line, count);
  if (count != 5) return invalid();
  if (words[0] != "TCP4" && words[0] != "TCP6") return invalid();
  bool v6 = words[0] == "TCP6";
  result.header.source = v1_endpoint(v6, words[1], words[3]);
  result.header.destination = v1_endpoint(v6, words[2], words[4]);
  if (!result.header.source || !result.header.destination) return invalid();
  return result;
}

// Reads the TLVs after the addresses; false when one overruns the header.
bool read_tlvs(std::string_view tlvs, ProxyHeader& header) {
  while (!tlvs.empty()) {
    if (tlvs.size() < 3) return false;
    auto type = static_cast<std::uint8_t>(tlvs[0]);
    std::size_t length = be16(tlvs, 1);
    if (tlvs.size() < 3 + length) return false;
    std::string_view value = tlvs.substr(3, length);
    if (type == tlv_ssl && !value.empty())
      header.ssl = (static_cast<std::uint8_t>(value[0]) & ssl_client) != 0;
    tlvs.remove_prefix(3 + length);
  }
  return true;
}

ProxyParseResult parse_v2(std::string_view bytes) {
  if (bytes.size() < v2_fixed) return {};
  auto command = static_cast<std::uint8_t>(bytes[12]);
  auto family = static_cast<std::uint8_t>(bytes[13]);
  std::size_t total = v2_fixed + be16(bytes, 14);
  if (command != v2_local && command != v2_proxy) return invalid();
  if (total > proxy_header_limit) return invalid();
  if (bytes.size() < total) return {};
  std::string_view body = bytes.substr(v2_fixed, total - v2_fixed);
  ProxyParseResult result{ProxyParse::complete, {}};
  result.header.length = total;
  std::size_t addresses = family == family_tcp4   ? tcp4_size
                          : family == family_tcp6 ? tcp6_size
                          : family == family_unix ? unix_size
                                                  : 0;
  if (family != family_unspec && addresses == 0) return invalid();
  if (body.size() < addresses) return invalid();
  if (!read_tlvs(body.substr(addresses), result.header)) return invalid();
  // LOCAL: the proxy speaks for itself; the address block, if any, is ignored.
  if (command == v2_local || family == family_unspec) {
    result.header.local = true;
    return result;
  }
  if (family == family_unix) return result;  // a Unix-socket client has no name
  bool v4 = family == family_tcp4;
  std::size_t size = v4 ? 4 : 16;
  auto address_at = [&](std::size_t offset) {
    const auto* bytes = reinterpret_cast<const std::uint8_t*>(body.data() + offset);
    return (v4 ? IpAddress::from_v4(bytes) : IpAddress::from_v6(bytes)).to_string();
  };
  result.header.source = Endpoint{address_at(0), be16(body, 2 * size)};
  result.header.destination = Endpoint{address_at(size), be16(body, 2 * size + 2)};
  return result;
}

}  // namespace

ProxyParseResult parse_proxy_header(std::string_view bytes) {
  if (bytes.empty()) return {};
  if (bytes[0] == 'P') {
    if (!is_prefix(bytes, v1_prefix)) return invalid();
    return bytes.size() <= v1_prefix.size() ? ProxyParseResult{} : parse_v1(bytes);
  }
  if (!is_prefix(bytes, v2_signature)) return invalid();
  if (bytes.size() < v2_signature.size() + 1) return {};
  // The high nibble of the 13th byte is the version: 2.
  if ((static_cast<std::uint8_t>(bytes[12]) & 0xF0) != 0x20) return invalid();
  return parse_v2(bytes);
}

}  // namespace csgi::protocol
