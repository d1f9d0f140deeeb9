#include "protocol/proxy_protocol.hpp"

#include <arpa/inet.h>

#include <array>
#include <charconv>
#include <cstdint>
#include <string>

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

// The canonical text of an address in `family` (AF_INET, AF_INET6) given as
// its bytes; nullopt when `text` does not parse (v1) or cannot print.
std::optional<std::string> address_text(int family, const void* address) {
  std::array<char, INET6_ADDRSTRLEN> text{};
  if (!::inet_ntop(family, address, text.data(), text.size())) return std::nullopt;
  return std::string(text.data());
}

std::optional<std::uint16_t> port_number(std::string_view text) {
  std::uint16_t port = 0;
  // A v1 port is 0 to 65535 in decimal, without a sign or a leading zero.
  if (text.empty() || text.size() > 5 || (text.size() > 1 && text[0] == '0')) return std::nullopt;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), port);
  if (error != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  return port;
}

std::optional<Endpoint> v1_endpoint(int family, std::string_view host, std::string_view port) {
  std::array<unsigned char, 16> address{};
  std::string host_text(host);
  auto number = port_number(port);
  if (!number || ::inet_pton(family, host_text.c_str(), address.data()) != 1) return std::nullopt;
  auto canonical = address_text(family, address.data());
  if (!canonical) return std::nullopt;
  return Endpoint{*canonical, *number};
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
  int family = words[0] == "TCP4" ? AF_INET : words[0] == "TCP6" ? AF_INET6 : -1;
  if (family < 0) return invalid();
  result.header.source = v1_endpoint(family, words[1], words[3]);
  result.header.destination = v1_endpoint(family, words[2], words[4]);
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
  int af = family == family_tcp4 ? AF_INET : AF_INET6;
  std::size_t size = family == family_tcp4 ? 4 : 16;
  auto source = address_text(af, body.data());
  auto destination = address_text(af, body.data() + size);
  if (!source || !destination) return invalid();
  result.header.source = Endpoint{*source, be16(body, 2 * size)};
  result.header.destination = Endpoint{*destination, be16(body, 2 * size + 2)};
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
