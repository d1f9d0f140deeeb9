// The PROXY protocol header, v1 and v2, parsed from strings.
#include "protocol/proxy_protocol.hpp"

#include <gtest/gtest.h>

#include <string>

namespace csgi::protocol {
namespace {

using namespace std::string_literals;

const std::string v2_signature = "\r\n\r\n\0\r\nQUIT\n"s;

// A v2 header: command byte, family byte, then `body` (addresses and TLVs).
std::string v2(unsigned char command, unsigned char family, const std::string& body) {
  std::string header = v2_signature;
  header += static_cast<char>(command);
  header += static_cast<char>(family);
  header += static_cast<char>(body.size() >> 8);
  header += static_cast<char>(body.size() & 0xFF);
  return header + body;
}

// 192.0.2.1:56324 -> 198.51.100.7:443 in the binary form.
const std::string tcp4_addresses = "\xC0\x00\x02\x01\xC6\x33\x64\x07\xDC\x04\x01\xBB"s;

TEST(ProxyProtocolV1, Tcp4LineNamesClientAndDestination) {
  std::string bytes = "PROXY TCP4 192.0.2.1 198.51.100.7 56324 443\r\nGET / HTTP/1.1\r\n";
  auto result = parse_proxy_header(bytes);
  ASSERT_EQ(result.status, ProxyParse::complete);
  EXPECT_EQ(result.header.source, (Endpoint{"192.0.2.1", 56324}));
  EXPECT_EQ(result.header.destination, (Endpoint{"198.51.100.7", 443}));
  EXPECT_FALSE(result.header.local);
  EXPECT_EQ(bytes.substr(result.header.length), "GET / HTTP/1.1\r\n");
}

TEST(ProxyProtocolV1, Tcp6AddressesAreCanonical) {
  auto result = parse_proxy_header("PROXY TCP6 2001:DB8:0:0::1 ::1 1234 80\r\n");
  ASSERT_EQ(result.status, ProxyParse::complete);
  EXPECT_EQ(result.header.source, (Endpoint{"2001:db8::1", 1234}));
  EXPECT_EQ(result.header.destination, (Endpoint{"::1", 80}));
}

TEST(ProxyProtocolV1, UnknownKeepsTheConnectionsAddresses) {
  auto result = parse_proxy_header("PROXY UNKNOWN ffff::1 ffff::2 1 2\r\n");
  ASSERT_EQ(result.status, ProxyParse::complete);
  EXPECT_TRUE(result.header.local);
  EXPECT_FALSE(result.header.source);
}

TEST(ProxyProtocolV1, EveryPrefixIsIncomplete) {
  std::string line = "PROXY TCP4 192.0.2.1 198.51.100.7 56324 443\r\n";
  for (std::size_t n = 0; n < line.size(); ++n)
    EXPECT_EQ(parse_proxy_header(line.substr(0, n)).status, ProxyParse::incomplete) << n;
}

TEST(ProxyProtocolV1, MalformedLinesAreInvalid) {
  for (std::string line : {"PROXY TCP4 192.0.2.1 198.51.100.7 56324\r\n",
                           "PROXY TCP4 192.0.2.1 198.51.100.7 56324 443 9\r\n",
                           "PROXY TCP4 ::1 198.51.100.7 56324 443\r\n",
                           "PROXY TCP4 192.0.2.1 198.51.100.7 65536 443\r\n",
                           "PROXY TCP4 192.0.2.1 198.51.100.7 056 443\r\n",
                           "PROXY UDP4 192.0.2.1 198.51.100.7 1 2\r\n",
                           "PROXY TCP4  192.0.2.1 198.51.100.7 1 2\r\n"})
    EXPECT_EQ(parse_proxy_header(line).status, ProxyParse::invalid) << line;
}

TEST(ProxyProtocolV1, LineWithoutEndPastTheLimitIsInvalid) {
  EXPECT_EQ(parse_proxy_header("PROXY TCP4 " + std::string(200, '1')).status, ProxyParse::invalid);
}

TEST(ProxyProtocol, PlainHttpIsInvalid) {
  EXPECT_EQ(parse_proxy_header("GET / HTTP/1.1\r\n").status, ProxyParse::invalid);
  EXPECT_EQ(parse_proxy_header("PROXZ").status, ProxyParse::invalid);
  EXPECT_EQ(parse_proxy_header("\r\n\r\nX").status, ProxyParse::invalid);
}

TEST(ProxyProtocolV2, Tcp4NamesClientAndDestination) {
  std::string bytes = v2(0x21, 0x11, tcp4_addresses) + "GET /";
  auto result = parse_proxy_header(bytes);
  ASSERT_EQ(result.status, ProxyParse::complete);
  EXPECT_EQ(result.header.source, (Endpoint{"192.0.2.1", 56324}));
  EXPECT_EQ(result.header.destination, (Endpoint{"198.51.100.7", 443}));
  EXPECT_FALSE(result.header.ssl);
  EXPECT_EQ(bytes.substr(result.header.length), "GET /");
}

TEST(ProxyProtocolV2, Tcp6NamesClient) {
  std::string addresses(36, '\0');
  addresses[0] = '\x20';
  addresses[1] = '\x01';
  addresses[15] = '\x05';  // 2001::5
  addresses[31] = '\x01';  // ::1
  addresses[32] = '\x30';
  addresses[33] = '\x39';  // 12345
  addresses[35] = '\x50';  // 80
  auto result = parse_proxy_header(v2(0x21, 0x21, addresses));
  ASSERT_EQ(result.status, ProxyParse::complete);
  EXPECT_EQ(result.header.source, (Endpoint{"2001::5", 12345}));
  EXPECT_EQ(result.header.destination, (Endpoint{"::1", 80}));
}

TEST(ProxyProtocolV2, SslTlvWithClientBitMeansHttps) {
  std::string ssl_tlv = "\x20\x00\x05\x01\x00\x00\x00\x00"s;  // client: SSL, verify: 0
  std::string other_tlv = "\x04\x00\x02xy"s;                     // a NOOP of two bytes
  auto result = parse_proxy_header(v2(0x21, 0x11, tcp4_addresses + other_tlv + ssl_tlv));
  ASSERT_EQ(result.status, ProxyParse::complete);
  EXPECT_TRUE(result.header.ssl);
}

TEST(ProxyProtocolV2, LocalCommandKeepsTheConnectionsAddresses) {
  auto result = parse_proxy_header(v2(0x20, 0x00, ""));
  ASSERT_EQ(result.status, ProxyParse::complete);
  EXPECT_TRUE(result.header.local);
  EXPECT_EQ(result.header.length, 16u);
}

TEST(ProxyProtocolV2, UnixClientHasNoName) {
  auto result = parse_proxy_header(v2(0x21, 0x31, std::string(216, '\0')));
  ASSERT_EQ(result.status, ProxyParse::complete);
  EXPECT_FALSE(result.header.local);
  EXPECT_FALSE(result.header.source);
}

TEST(ProxyProtocolV2, EveryPrefixIsIncomplete) {
  std::string header = v2(0x21, 0x11, tcp4_addresses);
  for (std::size_t n = 0; n < header.size(); ++n)
    EXPECT_EQ(parse_proxy_header(header.substr(0, n)).status, ProxyParse::incomplete) << n;
}

TEST(ProxyProtocolV2, MalformedHeadersAreInvalid) {
  std::string wrong_version = v2(0x11, 0x11, tcp4_addresses);
  std::string wrong_command = v2(0x22, 0x11, tcp4_addresses);
  std::string short_addresses = v2(0x21, 0x11, tcp4_addresses.substr(0, 8));
  std::string unknown_family = v2(0x21, 0x41, tcp4_addresses);
  std::string overrunning_tlv = v2(0x21, 0x11, tcp4_addresses + "\x20\x00\x09\x01"s);
  for (const std::string& header :
       {wrong_version, wrong_command, short_addresses, unknown_family, overrunning_tlv})
    EXPECT_EQ(parse_proxy_header(header).status, ProxyParse::invalid);
}

TEST(ProxyProtocolV2, HeaderAboveTheLimitIsRefusedBeforeItArrives) {
  std::string head = v2_signature + "\x21\x11\xFF\xFF"s;
  EXPECT_EQ(parse_proxy_header(head).status, ProxyParse::invalid);
}

}  // namespace
}  // namespace csgi::protocol
