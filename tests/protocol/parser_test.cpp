// The llhttp wrapper in both modes, fed from strings.
#include "protocol/parser.hpp"

#include <gtest/gtest.h>

#include <string>

namespace csgi::protocol {
namespace {

// Feeds `input` whole (in pieces of `step` bytes) and collects what came out.
struct Outcome {
  std::vector<MessageHead> heads;
  std::vector<std::string> bodies;
  std::vector<Headers> trailers;
  std::error_code error;
  std::string rest;  // bytes left unparsed after the last complete message
};

Outcome parse_all(Parser& parser, std::string_view input, std::size_t step = 1 << 20,
                  std::size_t max_messages = 100) {
  Outcome out;
  std::string body;
  while (true) {
    const auto piece = input.substr(0, step);
    const auto [status, used] = parser.feed(piece);
    input.remove_prefix(used);
    if (status == ParseStatus::error) {
      out.error = parser.error();
      break;
    }
    if (status == ParseStatus::head_complete) out.heads.push_back(parser.head());
    if (status == ParseStatus::message_complete) {
      out.bodies.push_back(parser.body());
      out.trailers.push_back(parser.trailers());
      if (out.bodies.size() == max_messages) break;
      parser.next_message();
    }
    if (status == ParseStatus::need_data && input.empty()) break;
  }
  out.rest = std::string(input);
  return out;
}

Outcome parse_request(std::string_view input, ParserLimits limits = {}) {
  Parser parser(ParserMode::request, limits);
  return parse_all(parser, input);
}

TEST(Parser, SimpleGetHeadIsReported) {
  const auto out = parse_request("GET /a%20b?x=1 HTTP/1.1\r\nHost: example\r\nX-Thing:  v \r\n\r\n");
  ASSERT_FALSE(out.error) << out.error.message();
  ASSERT_EQ(out.heads.size(), 1u);
  const auto& head = out.heads[0];
  EXPECT_EQ(head.method, "GET");
  EXPECT_EQ(head.target, "/a%20b?x=1");
  EXPECT_EQ(head.version_major, 1);
  EXPECT_EQ(head.version_minor, 1);
  ASSERT_EQ(head.headers.size(), 2u);
  EXPECT_EQ(head.headers[0], (Header{"host", "example"}));
  EXPECT_EQ(head.headers[1].first, "x-thing");
  EXPECT_TRUE(head.keep_alive);
  EXPECT_EQ(out.bodies.size(), 1u);
}

TEST(Parser, HeaderNamesLowerCasedAcrossFeedBoundaries) {
  Parser parser(ParserMode::request);
  const auto out = parse_all(parser, "GET / HTTP/1.1\r\nCoNtEnT-TyPe: a\r\nEmpty:\r\nX-B: 2\r\nHOST: a\r\n\r\n", 3);
  ASSERT_FALSE(out.error);
  ASSERT_EQ(out.heads.size(), 1u);
  const auto& h = out.heads[0].headers;
  ASSERT_EQ(h.size(), 4u);
  EXPECT_EQ(h[0], (Header{"content-type", "a"}));
  EXPECT_EQ(h[1], (Header{"empty", ""}));
  EXPECT_EQ(h[2], (Header{"x-b", "2"}));
  EXPECT_EQ(h[3], (Header{"host", "a"}));
}

TEST(Parser, StopsAtMessageCompleteLeavingPipelinedBytes) {
  Parser parser(ParserMode::request);
  const std::string first = "GET /1 HTTP/1.1\r\nHost: a\r\n\r\n";
  const std::string second = "GET /2 HTTP/1.1\r\nHost: a\r\n\r\n";
  const std::string input = first + second;
  auto result = parser.feed(input);
  EXPECT_EQ(result.status, ParseStatus::head_complete);
  EXPECT_EQ(result.consumed, first.size());
  result = parser.feed(std::string_view(input).substr(first.size()));
  EXPECT_EQ(result.status, ParseStatus::message_complete);
  EXPECT_EQ(result.consumed, 0u);
  // Not parsed until next_message().
  EXPECT_EQ(parser.feed(second).status, ParseStatus::message_complete);
  parser.next_message();
  result = parser.feed(second);
  EXPECT_EQ(result.status, ParseStatus::head_complete);
  EXPECT_EQ(parser.head().target, "/2");
}

TEST(Parser, ContentLengthBodyAcrossFeeds) {
  Parser parser(ParserMode::request);
  const auto out = parse_all(parser, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\nhello world", 4);
  ASSERT_FALSE(out.error);
  ASSERT_EQ(out.bodies.size(), 1u);
  EXPECT_EQ(out.bodies[0], "hello world");
  EXPECT_EQ(out.heads[0].content_length, 11u);
}

TEST(Parser, ChunkedRequestBodyWithTrailers) {
  const auto out = parse_request(
      "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-Check: Sum\r\n\r\n");
  ASSERT_FALSE(out.error) << out.error.message();
  EXPECT_TRUE(out.heads[0].chunked);
  EXPECT_EQ(out.bodies[0], "hello world");
  ASSERT_EQ(out.trailers[0].size(), 1u);
  EXPECT_EQ(out.trailers[0][0], (Header{"x-check", "Sum"}));
}

TEST(Parser, ExpectContinueDetected) {
  const auto out = parse_request("POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-Continue\r\nContent-Length: 1\r\n\r\nx");
  ASSERT_FALSE(out.error);
  EXPECT_TRUE(out.heads[0].expect_continue);
}

TEST(Parser, KeepAliveRules) {
  EXPECT_FALSE(parse_request("GET / HTTP/1.0\r\n\r\n").heads[0].keep_alive);
  EXPECT_TRUE(parse_request("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").heads[0].keep_alive);
  EXPECT_TRUE(parse_request("GET / HTTP/1.1\r\nHost: a\r\n\r\n").heads[0].keep_alive);
  EXPECT_FALSE(parse_request("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n").heads[0].keep_alive);
}

// ---- limits and malformed input ---------------------------------------------

Error error_of(std::string_view input, ParserLimits limits = {}) {
  const auto out = parse_request(input, limits);
  EXPECT_TRUE(out.error) << "no error for: " << input;
  return out.error ? static_cast<Error>(out.error.value()) : Error{};
}

TEST(Parser, RequestLineAtLimitAcceptedAboveRejected) {
  ParserLimits limits;
  limits.request_line = 30;
  // "GET /" + target + " HTTP/1.1" is exactly 30 bytes.
  const std::string target = "/" + std::string(30 - 14, 'a');
  const std::string line = "GET " + target + " HTTP/1.1";
  ASSERT_EQ(line.size(), 30u);
  EXPECT_FALSE(parse_request(line + "\r\nHost: a\r\n\r\n", limits).error);
  EXPECT_EQ(error_of("GET " + target + "b HTTP/1.1\r\nHost: a\r\n\r\n", limits), Error::request_line_too_long);
}

TEST(Parser, EndlessRequestLineRejectedByHeadLimitAs414) {
  ParserLimits limits;
  limits.head = 100;
  limits.request_line = 1000;
  EXPECT_EQ(error_of("GET /" + std::string(500, 'a'), limits), Error::request_line_too_long);
}

TEST(Parser, HeadAboveLimitRejected) {
  ParserLimits limits;
  limits.head = 200;
  const std::string head = "GET / HTTP/1.1\r\nHost: a\r\nX: " + std::string(300, 'v') + "\r\n\r\n";
  EXPECT_EQ(error_of(head, limits), Error::head_too_large);
}

TEST(Parser, HeadExactlyAtLimitAccepted) {
  const std::string head = "GET / HTTP/1.1\r\nHost: a\r\nX: abc\r\n\r\n";
  ParserLimits limits;
  limits.head = head.size();
  EXPECT_FALSE(parse_request(head, limits).error);
  limits.head = head.size() - 1;
  EXPECT_EQ(error_of(head, limits), Error::head_too_large);
}

TEST(Parser, TooManyHeadersRejected) {
  ParserLimits limits;
  limits.fields = 3;
  EXPECT_FALSE(parse_request("GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\n\r\n", limits).error);
  EXPECT_EQ(error_of("GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", limits),
            Error::too_many_headers);
}

TEST(Parser, BodyLimitByContentLengthAndByChunks) {
  ParserLimits limits;
  limits.body = 4;
  EXPECT_FALSE(parse_request("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n\r\nabcd", limits).error);
  EXPECT_EQ(error_of("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n", limits), Error::body_too_large);
  EXPECT_EQ(error_of("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n",
                     limits),
            Error::body_too_large);
}

TEST(Parser, UnsupportedTransferCodingRejected) {
  EXPECT_EQ(error_of("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"),
            Error::unsupported_transfer_coding);
  EXPECT_EQ(error_of("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n"),
            Error::unsupported_transfer_coding);
}

TEST(Parser, UnsupportedVersionRejected) {
  EXPECT_EQ(error_of("GET / HTTP/2.0\r\n\r\n"), Error::unsupported_version);
  EXPECT_EQ(error_of("GET / HTTP/1.2\r\n\r\n"), Error::unsupported_version);
  EXPECT_EQ(error_of("GET / HTTP/0.9\r\n\r\n"), Error::unsupported_version);
}

TEST(Parser, MalformedInputsRejected) {
  // Content-Length together with Transfer-Encoding (request smuggling).
  EXPECT_EQ(error_of("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"),
            Error::malformed);
  // A bare CR.
  EXPECT_EQ(error_of("GET / HTTP/1.1\r\nHost: a\r\nX: a\rb\r\n\r\n"), Error::malformed);
  // obs-fold (a continuation line).
  EXPECT_EQ(error_of("GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n b\r\n\r\n"), Error::malformed);
  EXPECT_EQ(error_of("GET / HTTP/1.1\r\nHost: a\r\nBad Name: a\r\n\r\n"), Error::malformed);
  EXPECT_EQ(error_of("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1x\r\n\r\n"), Error::malformed);
  EXPECT_EQ(error_of("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"), Error::malformed);
  EXPECT_EQ(error_of("get / HTTP/1.1\r\nHost: a\r\n\r\n"), Error::malformed);
  EXPECT_EQ(error_of("GET / HTTP/1.1\nHost: a\n\n"), Error::malformed);
}

TEST(Parser, EofBetweenMessagesIsClean) {
  Parser parser(ParserMode::request);
  EXPECT_EQ(parser.finish(), ParseStatus::need_data);
}

TEST(Parser, EofInsideMessageIsPartial) {
  Parser parser(ParserMode::request);
  parser.feed("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nab");
  parser.feed("ab");
  EXPECT_EQ(parser.finish(), ParseStatus::error);
  EXPECT_EQ(parser.error(), make_error_code(Error::partial_message));
}

// ---- response mode ----------------------------------------------------------

Outcome parse_response(std::string_view input, bool head_request = false) {
  Parser parser(ParserMode::response);
  parser.expect_no_body(head_request);
  return parse_all(parser, input);
}

TEST(ParserResponse, ContentLength) {
  const auto out = parse_response("HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok");
  ASSERT_FALSE(out.error);
  EXPECT_EQ(out.heads[0].status, 201);
  EXPECT_EQ(out.heads[0].reason, "Created");
  EXPECT_EQ(out.bodies[0], "ok");
}

TEST(ParserResponse, ChunkedWithTrailers) {
  const auto out = parse_response(
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: x-sum\r\n\r\n"
      "3\r\nabc\r\n0\r\nX-Sum: 42\r\n\r\n");
  ASSERT_FALSE(out.error) << out.error.message();
  EXPECT_EQ(out.bodies[0], "abc");
  ASSERT_EQ(out.trailers[0].size(), 1u);
  EXPECT_EQ(out.trailers[0][0], (Header{"x-sum", "42"}));
}

TEST(ParserResponse, CloseDelimitedBodyEndsAtFinish) {
  Parser parser(ParserMode::response);
  auto r = parser.feed("HTTP/1.1 200 OK\r\n\r\npart one, ");
  EXPECT_EQ(r.status, ParseStatus::head_complete);
  r = parser.feed(std::string_view("HTTP/1.1 200 OK\r\n\r\npart one, ").substr(r.consumed));
  EXPECT_EQ(r.status, ParseStatus::need_data);
  EXPECT_EQ(parser.feed("part two").status, ParseStatus::need_data);
  EXPECT_FALSE(parser.head().keep_alive);
  EXPECT_EQ(parser.finish(), ParseStatus::message_complete);
  EXPECT_EQ(parser.body(), "part one, part two");
}

TEST(ParserResponse, HeadResponseHasNoBody) {
  const auto out = parse_response(
      "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n", true);
  ASSERT_FALSE(out.error);
  ASSERT_GE(out.bodies.size(), 1u);
  EXPECT_EQ(out.heads[0].content_length, 100u);
  EXPECT_EQ(out.bodies[0], "");
}

TEST(ParserResponse, InformationalResponsesComeFirst) {
  const auto out = parse_response(
      "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi");
  ASSERT_FALSE(out.error);
  ASSERT_EQ(out.heads.size(), 2u);
  EXPECT_EQ(out.heads[0].status, 100);
  EXPECT_EQ(out.heads[1].status, 200);
  EXPECT_EQ(out.bodies[1], "hi");
}

TEST(ParserResponse, NotModifiedIgnoresContentLength) {
  const auto out = parse_response(
      "HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
  ASSERT_FALSE(out.error);
  ASSERT_EQ(out.heads.size(), 2u);
  EXPECT_EQ(out.heads[1].status, 200);
}

TEST(ParserResponse, TruncatedBodyIsPartial) {
  Parser parser(ParserMode::response);
  parser.feed("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n");
  parser.feed("abc");
  EXPECT_EQ(parser.finish(), ParseStatus::error);
  EXPECT_EQ(parser.error(), make_error_code(Error::partial_message));
}

}  // namespace
}  // namespace csgi::protocol

namespace csgi::protocol {
namespace {

TEST(Parser, ByteByByteFeedsGiveTheSameResult) {
  Parser parser(ParserMode::request);
  const auto out = parse_all(parser,
                             "POST /x HTTP/1.1\r\nA-Long-Name: a long value\r\nHost: a\r\n"
                             "Transfer-Encoding: chunked\r\n\r\n4\r\nbody\r\n0\r\n\r\n",
                             1);
  ASSERT_FALSE(out.error) << out.error.message();
  ASSERT_EQ(out.heads.size(), 1u);
  EXPECT_EQ(out.heads[0].headers[0], (Header{"a-long-name", "a long value"}));
  EXPECT_EQ(out.bodies[0], "body");
}

TEST(Parser, Http11RequestNeedsExactlyOneHost) {
  EXPECT_EQ(error_of("GET / HTTP/1.1\r\n\r\n"), Error::bad_host);
  EXPECT_EQ(error_of("GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n"), Error::bad_host);
  EXPECT_FALSE(parse_request("GET / HTTP/1.0\r\n\r\n").error) << "HTTP/1.0 may omit it";
  Parser parser(ParserMode::response);
  EXPECT_FALSE(parse_all(parser, "HTTP/1.1 204 No Content\r\n\r\n", 100).error) << "responses have none";
}

TEST(Parser, ObsFoldRejectedEvenByteByByte) {
  for (std::size_t step : {1u, 2u, 5u, 100u}) {
    Parser parser(ParserMode::request);
    const auto out = parse_all(parser, "GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n b\r\n\r\n", step);
    EXPECT_EQ(out.error, make_error_code(Error::malformed)) << "step " << step;
  }
}

}  // namespace
}  // namespace csgi::protocol
