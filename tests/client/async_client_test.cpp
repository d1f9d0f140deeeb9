// AsyncClient against small scripted servers: framing, keep-alive, redirects.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include "client/async_client.hpp"
#include "client/gather.hpp"
#include "tests/client/harness.hpp"

namespace csgi::client {
namespace {

using namespace std::chrono_literals;
using testing::answer_all;
using testing::read_request;
using testing::run;
using testing::ScriptedServer;
using testing::send_all;

const std::string ok_hello =
    "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 5\r\n\r\nhello";

class AsyncClientTest : public ::testing::Test {
 protected:
  ClientOptions options() {
    ClientOptions options;
    options.timeouts = Timeouts::all(1000ms);
    return options;
  }
  boost::asio::io_context io;
};

TEST_F(AsyncClientTest, GetReturnsStatusHeadersAndBody) {
  ScriptedServer server(answer_all(ok_hello));
  AsyncClient client(io.get_executor(), options());
  auto response = run(io, client.get(server.url("/api/?x=1")));
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.reason, "OK");
  EXPECT_EQ(response.http_version, "1.1");
  EXPECT_EQ(response.header("Content-Type"), "text/plain");
  EXPECT_EQ(response.body, "hello");
  EXPECT_EQ(response.url, server.url("/api/?x=1"));
}

TEST_F(AsyncClientTest, HostNameIsResolvedAndEachAddressTried) {
  // "localhost" may resolve to ::1 first, where nothing listens: the next
  // address is tried within the same connect timeout.
  ScriptedServer server(answer_all(ok_hello));
  AsyncClient client(io.get_executor(), options());
  auto response = run(io, client.get("http://localhost:" + std::to_string(server.port()) + "/"));
  EXPECT_EQ(response.body, "hello");
  client.close_idle();
}

TEST_F(AsyncClientTest, RequestCarriesMethodTargetHostAndBody) {
  std::string seen;
  ScriptedServer server([&](int fd, int) {
    seen = read_request(fd);
    send_all(fd, ok_hello);
    return true;
  });
  AsyncClient client(io.get_executor(), options());
  RequestOptions request_options;
  request_options.headers = {{"x-trace", "42"}};
  run(io, client.post(server.url("/items?a=b"), "payload", request_options));
  EXPECT_TRUE(seen.starts_with("POST /items?a=b HTTP/1.1\r\n")) << seen;
  EXPECT_NE(seen.find("host: 127.0.0.1:" + std::to_string(server.port()) + "\r\n"), std::string::npos);
  EXPECT_NE(seen.find("x-trace: 42\r\n"), std::string::npos);
  EXPECT_NE(seen.find("content-length: 7\r\n"), std::string::npos);
  EXPECT_TRUE(seen.ends_with("\r\n\r\npayload"));
}

TEST_F(AsyncClientTest, ChunkedBodyIsDecoded) {
  ScriptedServer server(answer_all(
      "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n4\r\ndefg\r\n0\r\n\r\n"));
  AsyncClient client(io.get_executor(), options());
  EXPECT_EQ(run(io, client.get(server.url())).body, "abcdefg");
}

TEST_F(AsyncClientTest, HeadResponseHasNoBodyDespiteContentLength) {
  ScriptedServer server(answer_all("HTTP/1.1 200 OK\r\ncontent-length: 1000\r\n\r\n"));
  AsyncClient client(io.get_executor(), options());
  auto response = run(io, client.head(server.url()));
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, "");
  // The connection stays usable: the next request is answered on it.
  EXPECT_EQ(run(io, client.head(server.url())).status, 200);
  EXPECT_EQ(server.accepted(), 1);
}

TEST_F(AsyncClientTest, EmptyBodyWithNoContent) {
  ScriptedServer server(answer_all("HTTP/1.1 204 No Content\r\n\r\n"));
  AsyncClient client(io.get_executor(), options());
  EXPECT_EQ(run(io, client.get(server.url())).status, 204);
  EXPECT_EQ(run(io, client.get(server.url())).status, 204);
  EXPECT_EQ(server.accepted(), 1);
}

TEST_F(AsyncClientTest, KeepAliveConnectionIsReused) {
  ScriptedServer server(answer_all(ok_hello));
  AsyncClient client(io.get_executor(), options());
  for (int i = 0; i < 5; ++i) EXPECT_EQ(run(io, client.get(server.url())).body, "hello");
  EXPECT_EQ(server.accepted(), 1);
  EXPECT_EQ(client.pool_stats(server.origin()).idle, 1u);
}

TEST_F(AsyncClientTest, ConnectionCloseResponseIsNotReused) {
  ScriptedServer server([](int fd, int) {
    read_request(fd);
    send_all(fd, "HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 2\r\n\r\nok");
    return true;
  });
  AsyncClient client(io.get_executor(), options());
  EXPECT_EQ(run(io, client.get(server.url())).body, "ok");
  EXPECT_EQ(client.pool_stats(server.origin()).idle, 0u);
  EXPECT_EQ(run(io, client.get(server.url())).body, "ok");
  EXPECT_EQ(server.accepted(), 2);
}

TEST_F(AsyncClientTest, CloseDelimitedBodyIsReadToEof) {
  ScriptedServer server([](int fd, int) {
    read_request(fd);
    send_all(fd, "HTTP/1.1 200 OK\r\n\r\nuntil the end");
    return true;
  });
  AsyncClient client(io.get_executor(), options());
  EXPECT_EQ(run(io, client.get(server.url())).body, "until the end");
  EXPECT_EQ(client.pool_stats(server.origin()).idle, 0u);
}

TEST_F(AsyncClientTest, InformationalResponsesAreSkipped) {
  ScriptedServer server(answer_all("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\n"
                                   "link: </a.css>\r\n\r\n" + ok_hello));
  AsyncClient client(io.get_executor(), options());
  auto response = run(io, client.get(server.url()));
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, "hello");
  EXPECT_FALSE(response.header("link"));
}

TEST_F(AsyncClientTest, JsonParsesTheBody) {
  ScriptedServer server(answer_all(
      "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 17\r\n\r\n"
      "{\"a\":[1,2],\"b\":3}"));
  AsyncClient client(io.get_executor(), options());
  auto value = run(io, client.get(server.url())).json();
  EXPECT_EQ(value.at("b").as_int64(), 3);
  EXPECT_EQ(value.at("a").as_array().size(), 2u);
}

TEST_F(AsyncClientTest, RedirectIsReturnedUnlessFollowed) {
  ScriptedServer server([](int fd, int) {
    for (;;) {
      auto request = read_request(fd);
      if (request.empty()) return true;
      if (request.starts_with("GET /old"))
        send_all(fd, "HTTP/1.1 302 Found\r\nlocation: /new\r\ncontent-length: 0\r\n\r\n");
      else
        send_all(fd, ok_hello);
    }
  });
  AsyncClient client(io.get_executor(), options());
  auto response = run(io, client.get(server.url("/old")));
  EXPECT_EQ(response.status, 302);
  EXPECT_EQ(response.header("location"), "/new");

  RequestOptions follow;
  follow.follow_redirects = true;
  auto followed = run(io, client.get(server.url("/old"), follow));
  EXPECT_EQ(followed.status, 200);
  EXPECT_EQ(followed.url, server.url("/new"));
}

TEST_F(AsyncClientTest, RedirectLoopRaisesTooManyRedirects) {
  ScriptedServer server(
      answer_all("HTTP/1.1 307 Temporary Redirect\r\nlocation: /again\r\ncontent-length: 0\r\n\r\n"));
  AsyncClient client(io.get_executor(), options());
  RequestOptions follow;
  follow.follow_redirects = true;
  follow.max_redirects = 3;
  EXPECT_THROW(run(io, client.get(server.url(), follow)), TooManyRedirects);
}

TEST_F(AsyncClientTest, StreamedBodyArrivesInPieces) {
  ScriptedServer server([](int fd, int) {
    read_request(fd);
    send_all(fd, "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nfirst\r\n");
    std::this_thread::sleep_for(20ms);  // the client must hand over "first" before this
    send_all(fd, "6\r\nsecond\r\n0\r\n\r\n");
    testing::wait_for_close(fd);
    return true;
  });
  AsyncClient client(io.get_executor(), options());
  auto pieces = run(io, [&]() -> awaitable<std::vector<std::string>> {
    auto stream = co_await client.stream("GET", server.url());
    std::vector<std::string> pieces{std::to_string(stream.status())};
    while (auto piece = co_await stream.read_chunk()) pieces.push_back(*piece);
    co_return pieces;
  }());
  EXPECT_EQ(pieces, (std::vector<std::string>{"200", "first", "second"}));
  EXPECT_EQ(client.pool_stats(server.origin()).idle, 1u);  // read to the end: kept alive
}

TEST_F(AsyncClientTest, ConcurrentRequestsShareThePoolUpToItsBound) {
  ScriptedServer server(answer_all(ok_hello));
  auto bounded = options();
  bounded.limits.max_connections = 2;
  AsyncClient client(io.get_executor(), bounded);
  int done = 0;
  for (int i = 0; i < 10; ++i)
    boost::asio::co_spawn(io, client.get(server.url()), [&](std::exception_ptr e, Response r) {
      EXPECT_FALSE(e);
      EXPECT_EQ(r.body, "hello");
      ++done;
    });
  io.run_for(5s);
  EXPECT_EQ(done, 10);
  EXPECT_LE(server.accepted(), 2);
}

TEST_F(AsyncClientTest, GatheredRequestsRunConcurrently) {
  // Each answer takes 50 ms; ten of them in sequence would take 500 ms.
  ScriptedServer server([](int fd, int) {
    while (!read_request(fd).empty()) {
      std::this_thread::sleep_for(50ms);
      send_all(fd, ok_hello);
    }
    return true;
  });
  AsyncClient client(io.get_executor(), options());
  std::vector<awaitable<Response>> calls;
  for (int i = 0; i < 10; ++i) calls.push_back(client.get(server.url("/api/")));
  auto started = std::chrono::steady_clock::now();
  auto responses = run(io, gather(std::move(calls)));
  EXPECT_LT(std::chrono::steady_clock::now() - started, 300ms);
  ASSERT_EQ(responses.size(), 10u);
  for (auto& response : responses) EXPECT_EQ(response.body, "hello");
  client.close_idle();
}

}  // namespace
}  // namespace csgi::client
