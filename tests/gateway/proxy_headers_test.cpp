// Proxy headers: who is trusted, which hop is the client, and that forged
// headers from an untrusted peer change nothing, in both middleware forms.
#include "gateway/proxy_headers.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

#include "tests/gateway/stubs.hpp"

namespace csgi {
namespace {

struct Resolved {
  std::optional<Endpoint> client;
  std::string scheme;
};

Resolved resolve(std::string_view allow, const Headers& headers,
                 Endpoint peer = {"127.0.0.1", 5000}) {
  Resolved request{peer, "http"};
  apply_proxy_headers(ForwardedAllow::parse(allow), headers, request.client, request.scheme);
  return request;
}

TEST(ForwardedAllow, TrustsAddressesNetworksUnixAndEveryone) {
  auto allow = ForwardedAllow::parse("127.0.0.1, 10.0.0.0/8,fd00::/8");
  EXPECT_TRUE(allow.trusts(Endpoint{"127.0.0.1", 1}));
  EXPECT_TRUE(allow.trusts(Endpoint{"::ffff:127.0.0.1", 1}));
  EXPECT_TRUE(allow.trusts(Endpoint{"10.9.8.7", 1}));
  EXPECT_TRUE(allow.trusts(Endpoint{"fd12::1", 1}));
  EXPECT_FALSE(allow.trusts(Endpoint{"127.0.0.2", 1}));
  EXPECT_FALSE(allow.trusts(std::nullopt));  // a Unix-socket peer
  EXPECT_TRUE(ForwardedAllow::parse("unix").trusts(std::nullopt));
  EXPECT_FALSE(ForwardedAllow::parse("unix").trusts(Endpoint{"127.0.0.1", 1}));
  EXPECT_TRUE(ForwardedAllow::parse("*").trusts(Endpoint{"203.0.113.5", 1}));
  EXPECT_TRUE(ForwardedAllow::parse("*").trusts(std::nullopt));
  EXPECT_FALSE(ForwardedAllow().trusts(Endpoint{"127.0.0.1", 1}));
}

TEST(ForwardedAllow, RejectsWhatIsNotAnAddressOrNetwork) {
  for (const char* list : {"localhost", "10.0.0.0/33", "::/129", "10.0.0.0/x", "127.0.0.1,nope"})
    EXPECT_THROW(ForwardedAllow::parse(list), std::invalid_argument) << list;
}

TEST(ProxyHeaders, XForwardedForNamesTheRightmostUntrustedHop) {
  auto request = resolve("127.0.0.1, 10.0.0.0/8",
                         {{"x-forwarded-for", "198.51.100.1, 203.0.113.7"},
                          {"x-forwarded-for", "10.0.0.2"}});
  EXPECT_EQ(request.client, (Endpoint{"203.0.113.7", 0}));
}

TEST(ProxyHeaders, AllHopsTrustedNamesTheLeftmost) {
  auto request = resolve("10.0.0.0/8", {{"x-forwarded-for", "10.0.0.5, 10.0.0.6"}});
  EXPECT_EQ(request.client, (Endpoint{"10.0.0.5", 0}));
}

TEST(ProxyHeaders, EveryoneTrustedNamesTheLeftmost) {
  auto request = resolve("*", {{"x-forwarded-for", "198.51.100.1, 203.0.113.7"}});
  EXPECT_EQ(request.client, (Endpoint{"198.51.100.1", 0}));
}

TEST(ProxyHeaders, XForwardedProtoSetsTheScheme) {
  auto request = resolve("127.0.0.1", {{"x-forwarded-for", "203.0.113.7"},
                                       {"x-forwarded-proto", "HTTPS"}});
  EXPECT_EQ(request.scheme, "https");
  EXPECT_EQ(resolve("127.0.0.1", {{"x-forwarded-proto", "https"}}).scheme, "https");
  EXPECT_EQ(resolve("127.0.0.1", {{"x-forwarded-proto", "gopher"}}).scheme, "http");
}

TEST(ProxyHeaders, ProtoEntriesPairWithTheirHops) {
  auto request = resolve("127.0.0.1, 10.0.0.0/8",
                         {{"x-forwarded-for", "203.0.113.7, 10.0.0.2"},
                          {"x-forwarded-proto", "https, http"}});
  EXPECT_EQ(request.client, (Endpoint{"203.0.113.7", 0}));
  EXPECT_EQ(request.scheme, "https");
}

TEST(ProxyHeaders, ForwardedWinsOverXForwarded) {
  auto request = resolve("127.0.0.1",
                         {{"x-forwarded-for", "198.51.100.1"},
                          {"forwarded", R"(for="[2001:db8:cafe::17]:4711";proto=https;by=_lb)"}});
  EXPECT_EQ(request.client, (Endpoint{"2001:db8:cafe::17", 4711}));
  EXPECT_EQ(request.scheme, "https");
}

TEST(ProxyHeaders, ForwardedElementsAreHops) {
  auto request = resolve("127.0.0.1, 10.0.0.0/8",
                         {{"forwarded", R"(for=192.0.2.60;proto=http, For="10.0.0.3:80")"},
                          {"forwarded", "for=10.0.0.4"}});
  EXPECT_EQ(request.client, (Endpoint{"192.0.2.60", 0}));
  EXPECT_EQ(request.scheme, "http");
}

TEST(ProxyHeaders, HopThatIsNotAnAddressLeavesNoClient) {
  EXPECT_EQ(resolve("127.0.0.1", {{"forwarded", "for=unknown"}}).client, std::nullopt);
  EXPECT_EQ(resolve("127.0.0.1", {{"forwarded", "for=_hidden;proto=https"}}).client, std::nullopt);
  EXPECT_EQ(resolve("127.0.0.1", {{"x-forwarded-for", "not-an-ip"}}).client, std::nullopt);
}

TEST(ProxyHeaders, ForwardedWithoutForSetsOnlyTheScheme) {
  auto request = resolve("127.0.0.1", {{"forwarded", "proto=https"}});
  EXPECT_EQ(request.client, (Endpoint{"127.0.0.1", 5000}));
  EXPECT_EQ(request.scheme, "https");
}

TEST(ProxyHeaders, NoHeadersChangeNothing) {
  auto request = resolve("127.0.0.1", {{"host", "example.com"}});
  EXPECT_EQ(request.client, (Endpoint{"127.0.0.1", 5000}));
  EXPECT_EQ(request.scheme, "http");
}

// What an app saw of the request.
struct Seen {
  std::optional<Endpoint> client;
  std::string scheme;
};

const Headers forged{{"x-forwarded-for", "203.0.113.66"}, {"x-forwarded-proto", "https"}};

Seen through_async(std::string_view allow, Endpoint peer) {
  Seen seen;
  asgi::App app = [&seen](asgi::Scope scope, asgi::Receive, asgi::Send send) -> asgi::awaitable<void> {
    seen = {scope.client, scope.scheme};
    co_await send(asgi::HttpResponseStart{200, {}, false});
    co_await send(asgi::HttpResponseBody{"", false});
  };
  asgi::Scope scope;
  scope.client = peer;
  scope.headers = forged;
  test::AsyncServerStub server;
  test::run_async_app(middleware::proxy_headers(app, ForwardedAllow::parse(allow)), server,
                      std::move(scope));
  return seen;
}

Seen through_sync(std::string_view allow, Endpoint peer) {
  Seen seen;
  wsgi::App app = [&seen](wsgi::Environ& environ, wsgi::StartResponse& start_response) {
    seen = {environ.remote, environ.url_scheme};
    start_response(200, {});
    return wsgi::Body("");
  };
  wsgi::Environ environ;
  environ.remote = peer;
  environ.headers = forged;
  wsgi::StartResponse start_response([](int, Headers, std::exception_ptr) { return wsgi::Write(); });
  middleware::proxy_headers(app, ForwardedAllow::parse(allow))(environ, start_response);
  return seen;
}

TEST(ProxyHeadersMiddleware, TrustedPeerSetsClientAndScheme) {
  for (const Seen& seen : {through_async("127.0.0.1", {"127.0.0.1", 4000}),
                           through_sync("127.0.0.1", {"127.0.0.1", 4000})}) {
    EXPECT_EQ(seen.client, (Endpoint{"203.0.113.66", 0}));
    EXPECT_EQ(seen.scheme, "https");
  }
}

TEST(ProxyHeadersMiddleware, ForgedHeadersFromAnUntrustedPeerChangeNothing) {
  for (const Seen& seen : {through_async("127.0.0.1", {"198.51.100.9", 4000}),
                           through_sync("127.0.0.1", {"198.51.100.9", 4000})}) {
    EXPECT_EQ(seen.client, (Endpoint{"198.51.100.9", 4000}));
    EXPECT_EQ(seen.scheme, "http");
  }
}

}  // namespace
}  // namespace csgi
