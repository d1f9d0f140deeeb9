// ServerConnection's request side and cycle: head, body, limits, keep-alive,
// pipelining, backpressure, 100-continue. Strings only, no sockets.
#include "protocol/server_connection.hpp"

#include <gtest/gtest.h>

#include "harness.hpp"
#include "protocol/request_target.hpp"

namespace csgi::protocol {
namespace {

using testing::Harness;
using testing::is;

TEST(ServerConnection, GetGivesTheHead) {
  Harness h;
  const auto head = h.start("GET /caf%C3%A9/x%2Fy?q=a%20b&r HTTP/1.1\r\nHost: example\r\nX-Up: 1\r\n\r\n");
  EXPECT_EQ(head.method, "GET");
  EXPECT_EQ(head.version_minor, 1);
  EXPECT_EQ(head.target, "/caf%C3%A9/x%2Fy?q=a%20b&r");
  EXPECT_EQ(head.headers, (Headers{{"host", "example"}, {"x-up", "1"}}));
  EXPECT_TRUE(head.keep_alive);
  EXPECT_EQ(h.conn.method(), "GET");
  EXPECT_EQ(h.conn.raw_target(), "/caf%C3%A9/x%2Fy?q=a%20b&r");
}

TEST(ServerConnection, PartialHeadAsksForMoreData) {
  Harness h;
  EXPECT_TRUE(is<NeedData>(h.feed("GET / HTTP/1.1\r\nHo")));
  EXPECT_TRUE(is<RequestStarted>(h.feed("st: a\r\n\r\n")));
}

TEST(ServerConnection, HeadInProgressOnlyWhileAHeadIsArriving) {
  Harness h;
  EXPECT_FALSE(h.conn.head_in_progress()) << "idle";
  EXPECT_TRUE(is<NeedData>(h.feed("GET / HT")));
  EXPECT_TRUE(h.conn.head_in_progress());
  EXPECT_TRUE(is<RequestStarted>(h.feed("TP/1.1\r\nHost: a\r\n\r\n")));
  EXPECT_FALSE(h.conn.head_in_progress()) << "a request is being served";
  h.respond(200, "ok");
  EXPECT_FALSE(h.conn.head_in_progress()) << "idle keep-alive";
}

TEST(ServerConnection, ContentLengthBodyReachesTheApp) {
  Harness h;
  h.start("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\nhello");
  bool complete = false;
  EXPECT_EQ(h.read_body(&complete), "hello");
  EXPECT_FALSE(complete);
  h.conn.receive_data(" world");
  EXPECT_EQ(h.read_body(&complete), " world");
  EXPECT_TRUE(complete);
}

TEST(ServerConnection, ChunkedRequestBodyReachesTheApp) {
  Harness h;
  h.start("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n");
  bool complete = false;
  EXPECT_EQ(h.read_body(&complete), "hello world");
  EXPECT_TRUE(complete);
}

TEST(ServerConnection, EmptyBodyIsOneFinalEvent) {
  Harness h;
  h.start("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
  auto event = h.conn.receive_body();
  ASSERT_TRUE(std::holds_alternative<BodyChunk>(event));
  EXPECT_FALSE(std::get<BodyChunk>(event).more_body);
  // Then receive waits until the response is complete, and reports disconnect.
  EXPECT_TRUE(std::holds_alternative<BodyPending>(h.conn.receive_body()));
  h.conn.send_response_start({204, {}, false});
  h.conn.send_response_body("", false);
  EXPECT_TRUE(std::holds_alternative<BodyGone>(h.conn.receive_body()));
}

// ---- keep-alive -------------------------------------------------------------

TEST(ServerConnection, Http11KeepsAliveByDefault) {
  Harness h;
  h.start("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
  const auto out = h.respond(200, "ok");
  EXPECT_EQ(out.find("connection:"), std::string::npos);
  EXPECT_TRUE(is<NeedData>(h.conn.next_event()));
}

TEST(ServerConnection, Http11ConnectionCloseClosesAfterTheResponse) {
  Harness h;
  h.start("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\nGET /next HTTP/1.1\r\nHost: a\r\n\r\n");
  EXPECT_NE(h.respond(200, "ok").find("connection: close\r\n"), std::string::npos);
  EXPECT_TRUE(is<Closed>(h.conn.next_event()));
}

TEST(ServerConnection, Http10ClosesUnlessKeepAliveAsked) {
  Harness plain;
  plain.start("GET / HTTP/1.0\r\n\r\n");
  EXPECT_NE(plain.respond(200, "ok").find("connection: close\r\n"), std::string::npos);
  EXPECT_TRUE(is<Closed>(plain.conn.next_event()));

  Harness keep;
  keep.start("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
  EXPECT_NE(keep.respond(200, "ok").find("connection: keep-alive\r\n"), std::string::npos);
  EXPECT_TRUE(is<NeedData>(keep.conn.next_event()));
}

TEST(ServerConnection, AppConnectionCloseClosesAfterTheResponse) {
  Harness h;
  h.start("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
  const auto out = h.respond(200, "ok", {{"Connection", "close"}});
  EXPECT_NE(out.find("connection: close\r\n"), std::string::npos);
  EXPECT_EQ(out.find("Connection: close"), std::string::npos) << "the app's header is replaced";
  EXPECT_TRUE(is<Closed>(h.conn.next_event()));
}

TEST(ServerConnection, EofBetweenRequestsCloses) {
  Harness h;
  h.start("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
  h.respond(200, "ok");
  h.conn.receive_eof();
  EXPECT_TRUE(is<Closed>(h.conn.next_event()));
}

TEST(ServerConnection, EofDuringTheBodyDisconnectsTheApp) {
  Harness h;
  h.start("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nab");
  h.conn.receive_eof();
  EXPECT_TRUE(is<Closed>(h.conn.next_event()));
  EXPECT_TRUE(std::holds_alternative<BodyGone>(h.conn.receive_body()));
  EXPECT_THROW(h.conn.send_response_start({200, {}, false}), ClientDisconnected);
}

// ---- pipelining ---------------------------------------------------------------

TEST(ServerConnection, PipelinedRequestsAnsweredInOrder) {
  Harness h;
  const auto first = h.start(
      "GET /1 HTTP/1.1\r\nHost: a\r\n\r\nPOST /2 HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabcGET /3 HTTP/1.1\r\nHost: a\r\n\r\n");
  EXPECT_EQ(first.target, "/1");
  // The next request is not handed out before this one is answered.
  EXPECT_TRUE(is<NeedData>(h.conn.next_event()));
  EXPECT_NE(h.respond(200, "one").find("\r\n\r\none"), std::string::npos);

  auto event = h.conn.next_event();
  ASSERT_TRUE(is<RequestStarted>(event));
  EXPECT_EQ(std::get<RequestStarted>(event).head->target, "/2");
  EXPECT_EQ(h.read_body(), "abc");
  EXPECT_NE(h.respond(200, "two").find("\r\n\r\ntwo"), std::string::npos);

  event = h.conn.next_event();
  ASSERT_TRUE(is<RequestStarted>(event));
  EXPECT_EQ(std::get<RequestStarted>(event).head->target, "/3");
  EXPECT_NE(h.respond(200, "three").find("\r\n\r\nthree"), std::string::npos);
}

TEST(ServerConnection, PipelinedInputAboveTheBoundPausesReading) {
  Limits limits;
  limits.input_high_water = 64;
  Harness h(limits);
  std::string pipelined;
  for (int i = 0; i < 5; ++i) pipelined += "GET /n HTTP/1.1\r\nHost: a\r\n\r\n";
  h.start("GET /first HTTP/1.1\r\nHost: a\r\n\r\n" + pipelined);
  EXPECT_TRUE(h.conn.reading_paused());
  EXPECT_TRUE(is<Paused>(h.conn.next_event()));
  h.respond(200, "ok");
  // Answering one request lets the next be parsed; the rest stays buffered.
  EXPECT_TRUE(is<RequestStarted>(h.conn.next_event()));
  for (int i = 0; i < 4; ++i) {
    h.respond(200, "ok");
    EXPECT_TRUE(is<RequestStarted>(h.conn.next_event()));
  }
  h.respond(200, "ok");
  EXPECT_FALSE(h.conn.reading_paused());
  EXPECT_TRUE(is<NeedData>(h.conn.next_event()));
}

TEST(ServerConnection, UnreadBufferedBodyIsSkipped) {
  Harness h;
  h.start("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nabcdeGET /next HTTP/1.1\r\nHost: a\r\n\r\n");
  h.respond(200, "ignored the body");
  auto event = h.conn.next_event();
  ASSERT_TRUE(is<RequestStarted>(event));
  EXPECT_EQ(std::get<RequestStarted>(event).head->target, "/next");
}

TEST(ServerConnection, UnreadBodyNotYetReceivedClosesTheConnection) {
  Harness h;
  h.start("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 500\r\n\r\nabc");
  h.respond(200, "ignored the body");
  EXPECT_TRUE(is<Closed>(h.conn.next_event()));
}

// ---- backpressure -------------------------------------------------------------

TEST(ServerConnection, BodyAboveHighWaterPausesUntilTheAppTakesIt) {
  Limits limits;
  limits.body_high_water = 8;
  limits.input_high_water = 16;
  Harness h(limits);
  h.start("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 40\r\n\r\n" + std::string(20, 'x'));
  EXPECT_TRUE(is<Paused>(h.conn.next_event()));
  EXPECT_TRUE(h.conn.reading_paused());
  auto event = h.conn.receive_body();
  ASSERT_TRUE(std::holds_alternative<BodyChunk>(event));
  EXPECT_EQ(std::get<BodyChunk>(event).body.size(), 8u);
  EXPECT_TRUE(std::get<BodyChunk>(event).more_body);
  // Taking it makes room: the next 8 are parsed, 4 remain unparsed.
  EXPECT_EQ(std::get<BodyChunk>(h.conn.receive_body()).body.size(), 8u);
  EXPECT_FALSE(h.conn.reading_paused());
  EXPECT_TRUE(is<NeedData>(h.conn.next_event()));
  h.conn.receive_data(std::string(20, 'y'));
  bool complete = false;
  EXPECT_EQ(h.read_body(&complete).size(), 24u);
  EXPECT_TRUE(complete);
}

// ---- 100-continue ---------------------------------------------------------------

TEST(ServerConnection, ContinueSentOnlyWhenTheAppFirstReceives) {
  Harness h;
  h.start("POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n");
  EXPECT_EQ(h.output(), "") << "not before the app asks";
  EXPECT_TRUE(std::holds_alternative<BodyPending>(h.conn.receive_body()));
  EXPECT_EQ(h.output(), "HTTP/1.1 100 Continue\r\n\r\n");
  EXPECT_TRUE(std::holds_alternative<BodyPending>(h.conn.receive_body()));
  EXPECT_EQ(h.output(), "") << "only once";
  h.conn.receive_data("body");
  EXPECT_EQ(h.read_body(), "body");
  EXPECT_EQ(h.respond(200, "ok").find("100 Continue"), std::string::npos);
  EXPECT_TRUE(is<NeedData>(h.conn.next_event()));
}

TEST(ServerConnection, ResponseWithoutReadingAnExpectedBodyCloses) {
  Harness h;
  h.start("POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n");
  const auto out = h.respond(413, "no");
  EXPECT_EQ(out.find("100 Continue"), std::string::npos);
  EXPECT_NE(out.find("connection: close\r\n"), std::string::npos);
  EXPECT_TRUE(is<Closed>(h.conn.next_event()));
}

// ---- limits and malformed requests ----------------------------------------------

// Feeds `request`; expects RequestError with `status`, the error response in the
// output with Connection: close, and then Closed.
void expect_rejected(std::string_view request, int status, Limits limits = {}) {
  Harness h(limits);
  auto event = h.feed(request);
  ASSERT_TRUE(is<RequestError>(event)) << "event " << event.index() << " for " << request;
  EXPECT_EQ(std::get<RequestError>(event).status, status);
  const auto out = h.output();
  EXPECT_EQ(out.substr(0, 13), "HTTP/1.1 " + std::to_string(status) + " ");
  EXPECT_NE(out.find("connection: close\r\n"), std::string::npos);
  EXPECT_FALSE(h.conn.keep_alive());
  EXPECT_TRUE(is<Closed>(h.conn.next_event()));
}

TEST(ServerConnectionLimits, RequestLineTooLongIs414) {
  Limits limits;
  limits.request_line = 100;
  expect_rejected("GET /" + std::string(200, 'a') + " HTTP/1.1\r\nHost: a\r\n\r\n", 414, limits);
}

TEST(ServerConnectionLimits, HeadTooLargeIs431) {
  Limits limits;
  limits.request_head = 1024;
  expect_rejected("GET / HTTP/1.1\r\nHost: a\r\nX: " + std::string(2000, 'v') + "\r\n\r\n", 431, limits);
}

TEST(ServerConnectionLimits, TooManyHeadersIs431) {
  Limits limits;
  limits.request_fields = 2;
  expect_rejected("GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", 431, limits);
}

TEST(ServerConnectionLimits, AnnouncedBodyTooLargeIs413) {
  Limits limits;
  limits.request_body = 10;
  expect_rejected("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\n", 413, limits);
}

TEST(ServerConnectionLimits, ChunkedBodyGrowingTooLargeIs413) {
  Limits limits;
  limits.request_body = 10;
  Harness h(limits);
  h.start("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n8\r\n12345678\r\n");
  EXPECT_EQ(h.read_body(), "12345678");
  auto event = h.feed("8\r\n12345678\r\n");
  ASSERT_TRUE(is<RequestError>(event));
  EXPECT_EQ(std::get<RequestError>(event).status, 413);
  EXPECT_EQ(h.output().substr(0, 12), "HTTP/1.1 413");
  EXPECT_TRUE(std::holds_alternative<BodyGone>(h.conn.receive_body()));
}

TEST(ServerConnectionLimits, MalformedRequestsAre400) {
  expect_rejected("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n", 400);
  expect_rejected("GET / HTTP/1.1\r\nHost: a\r\nX: a\rb\r\n\r\n", 400);
  expect_rejected("GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n folded\r\n\r\n", 400);
  expect_rejected("NOT A REQUEST\r\n\r\n", 400);
}

TEST(ServerConnection, CloseAfterResponseClosesTheResponseNotYetStarted) {
  Harness h;
  h.start("GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\n");
  h.conn.send_response_start({200, {}, false});
  h.conn.close_after_response();
  h.conn.send_response_body("one", false);
  EXPECT_NE(h.output().find("connection: close\r\n"), std::string::npos);
  EXPECT_FALSE(h.conn.keep_alive());
  h.conn.start_next_request();
  EXPECT_TRUE(is<Closed>(h.conn.next_event())) << "the pipelined request is not served";
}

TEST(ServerConnection, CloseAfterResponseLeavesAWrittenHeadAlone) {
  Harness h;
  h.start("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
  h.conn.send_response_start({200, {}, false});
  h.conn.send_response_body("part", true);
  h.conn.close_after_response();
  h.conn.send_response_body("", false);
  EXPECT_EQ(h.output().find("connection: close"), std::string::npos);
  EXPECT_FALSE(h.conn.keep_alive());
  h.conn.start_next_request();
  EXPECT_TRUE(is<Closed>(h.conn.next_event()));
}

TEST(ServerConnection, CloseAfterResponseBetweenRequestsClosesTheNextResponse) {
  Harness h;
  h.start("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
  h.respond(200, "one");
  h.conn.close_after_response();
  ASSERT_TRUE(is<NeedData>(h.conn.next_event()));
  h.start("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
  EXPECT_NE(h.respond(200, "two").find("connection: close\r\n"), std::string::npos);
  EXPECT_TRUE(is<Closed>(h.conn.next_event()));
}

TEST(ServerConnection, HeadTimeoutAnswers408WhenAHeadHadStarted) {
  Harness h;
  ASSERT_TRUE(is<NeedData>(h.feed("GET / HTTP/1.1\r\nHo")));
  EXPECT_TRUE(h.conn.head_timed_out());
  const auto out = h.output();
  EXPECT_EQ(out.substr(0, 30), "HTTP/1.1 408 Request Timeout\r\n");
  EXPECT_NE(out.find("connection: close\r\n"), std::string::npos);
  EXPECT_TRUE(is<Closed>(h.conn.next_event()));
}

TEST(ServerConnection, HeadTimeoutOfASilentConnectionJustCloses) {
  Harness h;
  EXPECT_FALSE(h.conn.head_timed_out());
  EXPECT_EQ(h.output(), "");
  EXPECT_TRUE(is<Closed>(h.conn.next_event()));
}

TEST(ServerConnection, HeadTimeoutBetweenRequestsJustCloses) {
  Harness h;
  h.start("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
  h.respond(200, "ok");
  EXPECT_FALSE(h.conn.head_timed_out());
  EXPECT_EQ(h.output(), "");
}

TEST(ServerConnectionLimits, Http11WithoutExactlyOneHostIs400) {
  expect_rejected("GET / HTTP/1.1\r\n\r\n", 400);
  expect_rejected("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400);
}

TEST(ServerConnectionLimits, Http10WithoutHostIsServed) {
  Harness h;
  h.start("GET / HTTP/1.0\r\n\r\n");
}

TEST(ServerConnectionLimits, UnsupportedTransferCodingIs501) {
  expect_rejected("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501);
}

TEST(ServerConnectionLimits, UnsupportedVersionIs505) {
  expect_rejected("GET / HTTP/2.0\r\n\r\n", 505);
  expect_rejected("GET / HTTP/1.7\r\n\r\n", 505);
}

TEST(ServerConnectionLimits, DefaultLimitsAreTheParsersDefaults) {
  const Limits limits;
  const ParserLimits parser;
  EXPECT_EQ(limits.request_line, parser.request_line);
  EXPECT_EQ(limits.request_head, parser.head);
  EXPECT_EQ(limits.request_fields, parser.fields);
  EXPECT_FALSE(limits.request_body);
  EXPECT_FALSE(parser.body);
}

}  // namespace
}  // namespace csgi::protocol

namespace csgi::protocol {
namespace {

TEST(RequestTarget, FormsSplitIntoPathAndQuery) {
  auto parts = split_target("/a/b?x=1&y");
  EXPECT_EQ(parts.raw_path, "/a/b");
  EXPECT_EQ(parts.query_string, "x=1&y");
  parts = split_target("http://example.com:8080/p?q");
  EXPECT_EQ(parts.raw_path, "/p");
  EXPECT_EQ(parts.query_string, "q");
  parts = split_target("http://example.com?q");
  EXPECT_EQ(parts.raw_path, "/");
  EXPECT_EQ(parts.query_string, "q");
  EXPECT_EQ(split_target("*").raw_path, "*");
  EXPECT_EQ(split_target("example.com:443").raw_path, "example.com:443");
  EXPECT_EQ(split_target("/p#frag").raw_path, "/p");
}

}  // namespace
}  // namespace csgi::protocol

namespace csgi::protocol::testing {
namespace {

TEST(ServerConnectionUpgrade, WebSocketHeadReportsUpgradeAndHandsOverTheBytesAfterIt) {
  Harness h;
  auto head = h.start(
      "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
      "\x81\x85" "frame");
  EXPECT_TRUE(head.upgrade);
  EXPECT_EQ(h.conn.take_input(), "\x81\x85" "frame");
  EXPECT_TRUE(std::holds_alternative<Closed>(h.conn.next_event()));
}

}  // namespace
}  // namespace csgi::protocol::testing
