// ServerConnection's response side: framing, trailers, HEAD, Date and Server
// headers, and the app's ordering mistakes.
#include "protocol/server_connection.hpp"

#include <gtest/gtest.h>

#include "harness.hpp"

namespace csgi::protocol {
namespace {

using testing::fixed_date;
using testing::Harness;
using testing::is;

TEST(Response, SmallJsonResponseIsOneBufferWithContentLength) {
  Harness h;
  h.start("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
  h.conn.send_response_start({200, {{"content-type", "application/json"}}, false});
  EXPECT_EQ(h.conn.pending_output(), "") << "the head is held until the body";
  EXPECT_TRUE(h.conn.response_started());
  EXPECT_FALSE(h.conn.response_head_sent());
  h.conn.send_response_body(R"({"message":"Hello World!"})", false);
  EXPECT_EQ(h.output(),
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 26\r\n"
            "date: " + std::string(fixed_date) + "\r\nserver: csgi\r\n\r\n"
            R"({"message":"Hello World!"})");
  EXPECT_TRUE(h.conn.response_complete());
  EXPECT_EQ(h.conn.status(), 200);
}

TEST(Response, SeveralChunksWithoutLengthAreChunkedOnHttp11) {
  Harness h;
  h.start("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
  h.conn.send_response_start({200, {}, false});
  h.conn.send_response_body("hello", true);
  h.conn.send_response_body("", true);
  h.conn.send_response_body(" world", false);
  const auto out = h.output();
  EXPECT_NE(out.find("transfer-encoding: chunked\r\n"), std::string::npos);
  EXPECT_NE(out.find("\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"), std::string::npos) << out;
  EXPECT_EQ(out.find("content-length"), std::string::npos);
}

TEST(Response, SeveralChunksWithoutLengthAreCloseDelimitedOnHttp10) {
  Harness h;
  h.start("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
  h.conn.send_response_start({200, {}, false});
  h.conn.send_response_body("hello", true);
  h.conn.send_response_body(" world", false);
  const auto out = h.output();
  EXPECT_NE(out.find("connection: close\r\n\r\nhello world"), std::string::npos) << out;
  EXPECT_EQ(out.find("chunked"), std::string::npos);
  EXPECT_FALSE(h.conn.keep_alive());
}

TEST(Response, AppContentLengthIsKeptAndEnforced) {
  Harness h;
  h.start("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
  h.conn.send_response_start({200, {{"Content-Length", "10"}}, false});
  h.conn.send_response_body("12345", true);
  EXPECT_THROW(h.conn.send_response_body("123456", true), ProtocolViolation);
  EXPECT_FALSE(h.conn.keep_alive());
  const auto out = h.output();
  EXPECT_NE(out.find("Content-Length: 10\r\n"), std::string::npos);
  EXPECT_EQ(out.find("chunked"), std::string::npos);
}

TEST(Response, BodyShorterThanContentLengthIsAViolation) {
  Harness h;
  h.start("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
  h.conn.send_response_start({200, {{"content-length", "10"}}, false});
  EXPECT_THROW(h.conn.send_response_body("short", false), ProtocolViolation);
  EXPECT_FALSE(h.conn.keep_alive());
}

TEST(Response, TrailersSentWhenAnnouncedAndAccepted) {
  Harness h;
  h.start("GET / HTTP/1.1\r\nHost: a\r\nTE: trailers\r\n\r\n");
  h.conn.send_response_start({200, {{"trailer", "x-sum"}}, true});
  h.conn.send_response_body("abc", false);
  EXPECT_FALSE(h.conn.response_complete()) << "waits for the trailers";
  h.conn.send_response_trailers({{"x-sum", "42"}}, false);
  EXPECT_TRUE(h.conn.response_complete());
  const auto out = h.output();
  EXPECT_NE(out.find("transfer-encoding: chunked\r\n"), std::string::npos);
  EXPECT_NE(out.find("\r\n\r\n3\r\nabc\r\n0\r\nx-sum: 42\r\n\r\n"), std::string::npos) << out;
}

TEST(Response, TrailersDroppedWhenTheRequestDoesNotAcceptThem) {
  Harness h;
  h.start("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
  h.conn.send_response_start({200, {}, true});
  h.conn.send_response_body("abc", false);
  h.conn.send_response_trailers({{"x-sum", "42"}}, false);
  const auto out = h.output();
  EXPECT_EQ(out.find("x-sum"), std::string::npos);
  EXPECT_NE(out.find("content-length: 3\r\n"), std::string::npos) << out;
  EXPECT_EQ(out.substr(out.size() - 7), "\r\n\r\nabc");
  EXPECT_TRUE(h.conn.response_complete());
}

TEST(Response, HeadGetsTheHeadersButNoBody) {
  Harness h;
  h.start("HEAD / HTTP/1.1\r\nHost: a\r\n\r\n");
  h.conn.send_response_start({200, {{"content-type", "text/plain"}}, false});
  h.conn.send_response_body("twelve bytes", false);
  const auto out = h.output();
  EXPECT_NE(out.find("content-length: 12\r\n"), std::string::npos);
  EXPECT_EQ(out.substr(out.size() - 4), "\r\n\r\n") << "no body";
  h.conn.start_next_request();
  EXPECT_TRUE(is<NeedData>(h.conn.next_event()));
}

TEST(Response, HeadKeepsTheAppsContentLength) {
  Harness h;
  h.start("HEAD / HTTP/1.1\r\nHost: a\r\n\r\n");
  h.conn.send_response_start({200, {{"content-length", "1000"}}, false});
  h.conn.send_response_body("", false);
  const auto out = h.output();
  EXPECT_NE(out.find("content-length: 1000\r\n"), std::string::npos);
  EXPECT_EQ(out.substr(out.size() - 4), "\r\n\r\n");
}

TEST(Response, NoContentHasNoBodyAndNoLength) {
  Harness h;
  h.start("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
  h.conn.send_response_start({204, {}, false});
  h.conn.send_response_body("", false);
  const auto out = h.output();
  EXPECT_EQ(out.find("content-length"), std::string::npos);
  EXPECT_EQ(out.substr(0, 25), "HTTP/1.1 204 No Content\r\n");
}

TEST(Response, AppDateAndServerWinAndAnEmptyServerHeaderIsOmitted) {
  auto info = testing::test_info();
  info.server_header = "";
  Harness h({}, info);
  h.start("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
  const auto out = h.respond(200, "", {{"date", "yesterday"}});
  EXPECT_NE(out.find("date: yesterday\r\n"), std::string::npos);
  EXPECT_EQ(out.find(fixed_date), std::string::npos);
  EXPECT_EQ(out.find("server:"), std::string::npos);
}

TEST(Response, OrderingMistakesAreProtocolViolations) {
  Harness h;
  h.start("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
  EXPECT_THROW(h.conn.send_response_body("x", false), ProtocolViolation);
  EXPECT_THROW(h.conn.send_response_trailers({}, false), ProtocolViolation);
  h.conn.send_response_start({200, {}, false});
  EXPECT_THROW(h.conn.send_response_start({200, {}, false}), ProtocolViolation);
  EXPECT_THROW(h.conn.send_response_trailers({}, false), ProtocolViolation);
  h.conn.send_response_body("x", false);
  EXPECT_THROW(h.conn.send_response_body("x", false), ProtocolViolation);
}

TEST(Response, HeaderInjectionIsAViolation) {
  Harness h;
  h.start("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
  EXPECT_THROW(h.conn.send_response_start({200, {{"x", "a\r\nset-cookie: evil"}}, false}),
               ProtocolViolation);
  EXPECT_THROW(h.conn.send_response_start({200, {{"bad name", "v"}}, false}), ProtocolViolation);
  EXPECT_THROW(h.conn.send_response_start({99, {}, false}), ProtocolViolation);
}

TEST(Response, RejectedStartLeavesNoContentLengthBehind) {
  Harness h;
  h.start("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
  EXPECT_THROW(h.conn.send_response_start({200, {{"content-length", "10"}, {"bad name", "v"}}, false}),
               ProtocolViolation);
  EXPECT_THROW(h.conn.send_response_start({200, {{"connection", "close"}, {"x", "a\nb"}}, false}),
               ProtocolViolation);
  h.conn.send_response_start({200, {}, false});
  h.conn.send_response_body("hello", false);
  const auto out = h.output();
  EXPECT_NE(out.find("content-length: 5\r\n"), std::string::npos) << out;
  EXPECT_EQ(out.find("connection: close"), std::string::npos) << out;
  EXPECT_TRUE(h.conn.keep_alive());
}

TEST(Response, AppFailureAfterStartStillGets500) {
  Harness h;
  h.start("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
  h.conn.send_response_start({200, {{"content-type", "text/html"}}, false});
  ASSERT_FALSE(h.conn.response_head_sent());
  h.conn.send_error_response(500);
  const auto out = h.output();
  EXPECT_EQ(out.substr(0, 36), "HTTP/1.1 500 Internal Server Error\r\n");
  EXPECT_NE(out.find("connection: close\r\n"), std::string::npos);
  EXPECT_EQ(out.find("text/html"), std::string::npos);
  EXPECT_TRUE(h.conn.response_complete());
  h.conn.start_next_request();
  EXPECT_TRUE(is<Closed>(h.conn.next_event()));
}

TEST(Response, ErrorResponseAfterTheHeadWasSentIsRefused) {
  Harness h;
  h.start("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
  h.conn.send_response_start({200, {}, false});
  h.conn.send_response_body("part", true);
  EXPECT_THROW(h.conn.send_error_response(500), ProtocolViolation);
}

TEST(Response, StandaloneErrorResponse) {
  const testing::FixedClock clock;
  SharedDate date(clock);
  EXPECT_EQ(error_response(503, "csgi", date),
            "HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/plain; charset=utf-8\r\n"
            "content-length: 19\r\ndate: " + std::string(fixed_date) +
                "\r\nserver: csgi\r\nconnection: close\r\n\r\nService Unavailable");
}


}  // namespace
}  // namespace csgi::protocol
