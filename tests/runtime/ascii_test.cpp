// runtime/ascii.hpp: the case-insensitive comparison and token checks every
// layer shares.
#include <gtest/gtest.h>

#include "runtime/ascii.hpp"

namespace csgi::ascii {
namespace {

TEST(Ascii, IequalsIgnoresAsciiCaseOnly) {
  EXPECT_TRUE(iequals("Content-Length", "content-LENGTH"));
  EXPECT_FALSE(iequals("content-length", "content-lengt"));
  EXPECT_FALSE(iequals("\xC3\x89", "\xC3\xA9"));  // "É" and "é": not ASCII, not folded
  EXPECT_TRUE(iequals_lower("ChUnKeD", "chunked"));
  EXPECT_FALSE(iequals_lower("chunked", "Chunked"));  // the second must be lower-case
}

TEST(Ascii, CaseConversionsLeaveOtherBytesAlone) {
  EXPECT_EQ(to_lower("X-Trace-ID: 9"), "x-trace-id: 9");
  EXPECT_EQ(to_upper("get\xC3\xA9"), "GET\xC3\xA9");
}

TEST(Ascii, TokensAndFieldValues) {
  EXPECT_TRUE(is_token("x-custom_header.1!"));
  EXPECT_FALSE(is_token(""));
  EXPECT_FALSE(is_token("bad name"));
  EXPECT_FALSE(is_token("colon:"));
  EXPECT_TRUE(has_cr_lf_nul(std::string_view("a\0b", 3)));
  EXPECT_TRUE(has_cr_lf_nul("a\r\nb"));
  EXPECT_FALSE(has_cr_lf_nul("plain value\t"));
}

}  // namespace
}  // namespace csgi::ascii
