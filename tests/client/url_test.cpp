// URL parsing, redirect resolution and error messages.
#include <gtest/gtest.h>

#include "client/errors.hpp"
#include "client/url.hpp"

namespace csgi::client {
namespace {

TEST(Url, ParsesHostPortAndTarget) {
  auto url = parse_url("http://Example.COM:8080/api/?x=1#frag");
  EXPECT_EQ(url.host, "example.com");
  EXPECT_EQ(url.port, 8080);
  EXPECT_EQ(url.target, "/api/?x=1");
  EXPECT_EQ(url.origin(), "http://example.com:8080");
  EXPECT_EQ(url.host_header(), "example.com:8080");
}

TEST(Url, DefaultPortAndPathShareTheOrigin) {
  EXPECT_EQ(parse_url("http://a").origin(), parse_url("http://a:80/x").origin());
  EXPECT_EQ(parse_url("http://a").target, "/");
  EXPECT_EQ(parse_url("http://a?q=1").target, "/?q=1");
  EXPECT_EQ(parse_url("http://a/").host_header(), "a");
}

TEST(Url, Ipv6LiteralKeepsBracketsInHeaders) {
  auto url = parse_url("http://[::1]:9000/");
  EXPECT_EQ(url.host, "::1");
  EXPECT_EQ(url.origin(), "http://[::1]:9000");
}

TEST(Url, RejectsWhatTheClientCannotRequest) {
  EXPECT_THROW(parse_url("https://a/"), InvalidUrl);
  EXPECT_THROW(parse_url("ftp://a/"), InvalidUrl);
  EXPECT_THROW(parse_url("/relative"), InvalidUrl);
  EXPECT_THROW(parse_url("http://user@a/"), InvalidUrl);
  EXPECT_THROW(parse_url("http://a:99999/"), InvalidUrl);
  EXPECT_THROW(parse_url("http://a/b c"), InvalidUrl);
  EXPECT_THROW(parse_url("http://:80/"), InvalidUrl);
}

TEST(Url, RedirectLocationsResolveAgainstTheRequest) {
  auto base = parse_url("http://h:81/a/b/c?q=1");
  EXPECT_EQ(resolve_url(base, "/x").to_string(), "http://h:81/x");
  EXPECT_EQ(resolve_url(base, "d").to_string(), "http://h:81/a/b/d");
  EXPECT_EQ(resolve_url(base, "../d?z").to_string(), "http://h:81/a/d?z");
  EXPECT_EQ(resolve_url(base, "?r=2").to_string(), "http://h:81/a/b/c?r=2");
  EXPECT_EQ(resolve_url(base, "//other/p").to_string(), "http://other/p");
  EXPECT_EQ(resolve_url(base, "http://x:1/y").to_string(), "http://x:1/y");
}

TEST(Errors, MessagesNameTheUrlAndTheLimit) {
  using std::chrono::milliseconds;
  EXPECT_STREQ(ReadTimeout("http://127.0.0.1:8000/api/", milliseconds(5000), false).what(),
               "ReadTimeout: no response from http://127.0.0.1:8000/api/ within 5.0 s");
  EXPECT_STREQ(PoolTimeout("http://a/", milliseconds(150)).what(),
               "PoolTimeout: no free pooled connection for http://a/ within 0.15 s");
  ConnectTimeout timeout("http://a/", milliseconds(250));
  const HttpError& base = timeout;
  EXPECT_EQ(base.kind(), "ConnectTimeout");
  EXPECT_EQ(base.url(), "http://a/");
  EXPECT_EQ(timeout.limit(), milliseconds(250));
}

}  // namespace
}  // namespace csgi::client
