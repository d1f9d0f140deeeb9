#include "runtime/ip_address.hpp"

#include <gtest/gtest.h>

namespace csgi {
namespace {

TEST(IpAddress, ParsesBothFamiliesAndPrintsThemCanonically) {
  EXPECT_EQ(IpAddress::parse("192.0.2.1")->to_string(), "192.0.2.1");
  EXPECT_EQ(IpAddress::parse("2001:DB8:0:0::1")->to_string(), "2001:db8::1");
  EXPECT_TRUE(IpAddress::parse("10.1.2.3")->is_v4());
  EXPECT_FALSE(IpAddress::parse("::1")->is_v4());
}

TEST(IpAddress, MappedIpv4IsTheSameAddressAsIpv4) {
  EXPECT_EQ(IpAddress::parse("::ffff:127.0.0.1"), IpAddress::parse("127.0.0.1"));
  EXPECT_EQ(IpAddress::parse("::ffff:127.0.0.1")->to_string(), "127.0.0.1");
}

TEST(IpAddress, RejectsWhatIsNotAnAddress) {
  for (const char* text : {"", "localhost", "192.0.2.1:80", "[::1]", "1.2.3", "unknown",
                           "::1%lo"})
    EXPECT_FALSE(IpAddress::parse(text)) << text;
}

TEST(IpAddress, MatchesNetworksByPrefix) {
  auto ten = *IpAddress::parse("10.0.0.0");
  EXPECT_TRUE(IpAddress::parse("10.200.3.4")->in(ten, 8));
  EXPECT_FALSE(IpAddress::parse("11.0.0.1")->in(ten, 8));
  EXPECT_TRUE(IpAddress::parse("172.16.5.4")->in(*IpAddress::parse("172.16.0.0"), 12));
  EXPECT_FALSE(IpAddress::parse("172.32.0.1")->in(*IpAddress::parse("172.16.0.0"), 12));
  EXPECT_TRUE(IpAddress::parse("fd00::5")->in(*IpAddress::parse("fd00::"), 8));
  EXPECT_FALSE(IpAddress::parse("fe00::5")->in(*IpAddress::parse("fd00::"), 8));
  // An IPv6 address is never inside an IPv4 network, whatever the prefix.
  EXPECT_FALSE(IpAddress::parse("::1")->in(ten, 0));
  EXPECT_TRUE(IpAddress::parse("203.0.113.9")->in(ten, 0));
}

}  // namespace
}  // namespace csgi
