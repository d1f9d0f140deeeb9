// The Scope and the Environ built from a parsed request head.
#include "servers/request_head.hpp"

#include <gtest/gtest.h>

#include <string>

namespace csgi::servers {
namespace {

// The head of `request`, as the protocol hands it to a server.
struct ParsedHead {
  explicit ParsedHead(std::string_view request) : parser(protocol::ParserMode::request) {
    EXPECT_EQ(parser.feed(request).status, protocol::ParseStatus::head_complete);
  }
  protocol::MessageHead& head() { return parser.head(); }
  protocol::Parser parser;
};

ConnectionScope test_connection() {
  ConnectionScope connection;
  connection.client = Endpoint{"127.0.0.1", 54321};
  connection.server = Endpoint{"127.0.0.1", 8000};
  connection.extensions.http_response_trailers = true;
  return connection;
}

constexpr std::string_view escaped_get =
    "GET /caf%C3%A9/x%2Fy?q=a%20b&r HTTP/1.1\r\nHost: example\r\nX-Up: 1\r\n\r\n";

TEST(RequestHead, GetGivesTheScope) {
  ParsedHead parsed(escaped_get);
  asgi::Scope scope;
  fill_scope(scope, parsed.head(), test_connection());
  EXPECT_EQ(scope.type, asgi::ScopeType::http);
  EXPECT_EQ(scope.method, "GET");
  EXPECT_EQ(scope.http_version, "1.1");
  EXPECT_EQ(scope.scheme, "http");
  EXPECT_EQ(scope.path, "/caf\xC3\xA9/x/y");
  EXPECT_EQ(scope.raw_path, "/caf%C3%A9/x%2Fy");
  EXPECT_EQ(scope.query_string, "q=a%20b&r");
  EXPECT_EQ(scope.headers, (Headers{{"host", "example"}, {"x-up", "1"}}));
  EXPECT_EQ(scope.client, (Endpoint{"127.0.0.1", 54321}));
  EXPECT_EQ(scope.server, (Endpoint{"127.0.0.1", 8000}));
  EXPECT_TRUE(scope.extensions.http_response_trailers);
}

TEST(RequestHead, GetGivesTheEnvironOfTheSameRequest) {
  ParsedHead parsed(escaped_get);
  wsgi::Environ environ;
  fill_environ(environ, parsed.head(), test_connection());
  EXPECT_EQ(environ.request_method, "GET");
  EXPECT_EQ(environ.server_protocol, "HTTP/1.1");
  EXPECT_EQ(environ.url_scheme, "http");
  EXPECT_EQ(environ.path_info, "/caf\xC3\xA9/x/y");
  EXPECT_EQ(environ.raw_path, "/caf%C3%A9/x%2Fy");
  EXPECT_EQ(environ.query_string, "q=a%20b&r");
  EXPECT_EQ(environ.headers, (Headers{{"host", "example"}, {"x-up", "1"}}));
  EXPECT_EQ(environ.remote, (Endpoint{"127.0.0.1", 54321}));
  EXPECT_EQ(environ.server, (Endpoint{"127.0.0.1", 8000}));
  EXPECT_EQ(environ.input, nullptr);
  EXPECT_FALSE(environ.extensions.http_response_trailers) << "a sync body cannot carry trailers";
}

TEST(RequestHead, RootPathAndSchemeComeFromTheConnection) {
  ParsedHead parsed("GET /mount/x%20y?q HTTP/1.0\r\n\r\n");
  auto connection = test_connection();
  connection.root_path = "/mount";
  connection.scheme = "https";
  asgi::Scope scope;
  fill_scope(scope, parsed.head(), connection);
  EXPECT_EQ(scope.root_path, "/mount");
  EXPECT_EQ(scope.path, "/x y");
  EXPECT_EQ(scope.raw_path, "/mount/x%20y");
  EXPECT_EQ(scope.scheme, "https");
  EXPECT_EQ(scope.http_version, "1.0");
}

TEST(RequestHead, ConnectionScopeComesFromConfig) {
  Config config;
  config.root_path = "/app";
  auto connection = connection_scope(config, Endpoint{"10.0.0.1", 1}, std::nullopt, nullptr);
  EXPECT_EQ(connection.root_path, "/app");
  EXPECT_EQ(connection.client, (Endpoint{"10.0.0.1", 1}));
  EXPECT_FALSE(connection.server);
  EXPECT_TRUE(connection.extensions.http_response_trailers);
}

TEST(StripRootPath, RemovesOnlyAWholeLeadingSegmentAndLeavesAtLeastSlash) {
  auto stripped = [](std::string path) {
    strip_root_path(path, "/mount");
    return path;
  };
  EXPECT_EQ(stripped("/mount"), "/");
  EXPECT_EQ(stripped("/mount/"), "/");
  EXPECT_EQ(stripped("/mount/a/b"), "/a/b");
  EXPECT_EQ(stripped("/mountain"), "/mountain");  // not the same segment
  EXPECT_EQ(stripped("/a"), "/a");                // a proxy already removed it
  std::string path = "/mount/a";
  strip_root_path(path, "");
  EXPECT_EQ(path, "/mount/a");
}

}  // namespace
}  // namespace csgi::servers
