// Server obligations that every server kind meets alike (spec/servers.md),
// each as a scenario over a real socket, on every server with both app kinds.
#include <gtest/gtest.h>

#include <string>

#include "tests/conformance/fixture.hpp"

namespace csgi::conformance {
namespace {

using Contract = Conformance;

TEST_P(Contract, Http11RequestWithoutHostAnswered400) {
  start();
  RawClient client = connect();
  client.send("GET /hello HTTP/1.1\r\n\r\n");
  expect_answer_then_close(client, 400);
}

TEST_P(Contract, Http10RequestWithoutHostAnswered) {
  start();
  RawClient client = connect();
  client.send("GET /hello HTTP/1.0\r\n\r\n");
  EXPECT_EQ(client.read_response().status, 200);
}

TEST_P(Contract, SlowRequestBodyIsNotCutOffByTheHeadTimeout) {
  Config config = base_config();
  config.timeout_request_head = 100ms;
  start(config);
  RawClient client = connect();
  client.send("POST /echo HTTP/1.1\r\nHost: test\r\nContent-Length: 4\r\n\r\nab");
  ASSERT_TRUE(client.stays_silent(300ms)) << "the body waits for its end, for longer than a head may";
  client.send("cd");
  RawResponse response = client.read_response();
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, "abcd");
}

TEST_P(Contract, HeadTimeoutAnswers408) {
  Config config = base_config();
  config.timeout_request_head = 100ms;
  start(config);
  RawClient client = connect();
  client.send("GET /hello HTTP/1.1\r\nHost: test\r\n");
  expect_answer_then_close(client, 408);
}

TEST_P(Contract, HeadTimeoutClosesASilentConnectionWithoutAnswer) {
  Config config = base_config();
  config.timeout_request_head = 100ms;
  start(config);
  RawClient client = connect();
  std::string received;
  EXPECT_TRUE(client.wait_closed(2000ms, &received));
  EXPECT_EQ(received, "");
}

TEST_P(Contract, HeadTimeoutAfterAKeptAliveRequestAnswers408) {
  Config config = base_config();
  config.timeout_request_head = 100ms;
  start(config);
  RawClient client = connect();
  client.send_request("GET", "/hello");
  EXPECT_EQ(client.read_response().status, 200);
  client.send("GET /hello HTTP/1.1\r\n");  // the next head never ends
  EXPECT_EQ(client.read_response().status, 408);
}

TEST_P(Contract, IdleKeepAliveExpiryClosesWithoutAnAnswer) {
  Config config = base_config();
  config.timeout_keep_alive = 100ms;
  start(config);
  RawClient client = connect();
  client.send_request("GET", "/hello");
  EXPECT_EQ(client.read_response().status, 200);
  // Nothing more comes, not even a 408: the close is all.
  std::string received;
  EXPECT_TRUE(client.wait_closed(2000ms, &received));
  EXPECT_EQ(received, "");
}

TEST_P(Contract, LimitConcurrencyCountsRequestsNotConnections) {
  Config config = base_config();
  config.limit_concurrency = 1;
  start(config);
  RawClient first = connect();
  first.send_request("GET", "/hello");
  EXPECT_EQ(first.read_response().status, 200);
  // `first` stays open and idle: no request of it is in flight. (On the
  // threaded server the first request still counts for the moment between
  // its last byte and the end of its app's call: ask until that has passed.)
  EXPECT_TRUE(eventually([&] {
    RawClient second = connect();
    second.send_request("GET", "/hello");
    return second.read_response().status == 200;
  }));
}

INSTANTIATE_TEST_SUITE_P(Servers, Contract, server_params(), param_name);

}  // namespace
}  // namespace csgi::conformance
