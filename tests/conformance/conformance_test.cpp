// The same HTTP scenarios through real sockets against every server kind, each
// hosting the async and the sync conformance app (tests/conformance/test_apps.hpp).
// A new server joins by adding one line to server_kinds() (fixture.hpp).
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <ostream>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "tests/conformance/fixture.hpp"

namespace csgi::conformance {
namespace {

using namespace std::chrono_literals;
using servers::BackgroundServer;
using servers::Config;

TEST_P(Conformance, GetAnsweredWithBody) {
  start();
  RawClient client = connect();
  client.send_request("GET", "/hello");
  RawResponse response = client.read_response();
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, "Hello, world!");
  EXPECT_EQ(response.header("content-type"), "text/plain");
  EXPECT_TRUE(response.header("date"));
  EXPECT_EQ(response.header("server"), "csgi");
}

TEST_P(Conformance, StreamingPostBodyReachesApp) {
  start();
  RawClient client = connect();
  std::string body(200 * 1024, 'x');
  client.send("POST /echo HTTP/1.1\r\nHost: test\r\nContent-Length: " + std::to_string(body.size()) +
              "\r\n\r\n");
  // In pieces, with pauses, so the app sees several http.request events.
  for (std::size_t at = 0; at < body.size(); at += 50 * 1024) {
    client.send(std::string_view(body).substr(at, 50 * 1024));
    std::this_thread::sleep_for(5ms);
  }
  RawResponse response = client.read_response();
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body.size(), body.size());
  EXPECT_EQ(response.body, body);
}

TEST_P(Conformance, ChunkedRequestBodyReachesApp) {
  start();
  RawClient client = connect();
  client.send(
      "POST /echo HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5\r\nhello\r\n");
  std::this_thread::sleep_for(10ms);
  client.send("6\r\n world\r\n0\r\n\r\n");
  RawResponse response = client.read_response();
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, "hello world");
}

TEST_P(Conformance, ResponseWithoutContentLengthIsChunkedUnlessSentWhole) {
  start();
  RawClient client = connect();
  client.send_request("GET", "/chunked");
  RawResponse response = client.read_response();
  EXPECT_EQ(response.status, 200);
  EXPECT_TRUE(response.chunked);
  EXPECT_EQ(response.body, "one,two,three");
  // A body handed over whole, still without a length from the app, gets one.
  client.send_request("GET", "/whole");
  RawResponse whole = client.read_response();
  EXPECT_FALSE(whole.chunked);
  EXPECT_EQ(whole.header("content-length"), "11");
  EXPECT_EQ(whole.body, "all at once");
}

TEST_P(Conformance, KeepAliveReusesConnection) {
  start();
  RawClient client = connect();
  for (int i = 0; i < 3; ++i) {
    client.send_request("GET", "/hello");
    RawResponse response = client.read_response();
    EXPECT_EQ(response.status, 200);
    EXPECT_EQ(response.body, "Hello, world!");
  }
}

TEST_P(Conformance, ConnectionCloseRequestClosesAfterResponse) {
  start();
  RawClient client = connect();
  client.send_request("GET", "/hello", "Connection: close\r\n");
  EXPECT_EQ(client.read_response().status, 200);
  EXPECT_TRUE(client.wait_closed(1000ms));
}

TEST_P(Conformance, PipelinedRequestsAnsweredInOrder) {
  start();
  RawClient client = connect();
  // The slow one first: its answer must still come first.
  client.send(
      "GET /slow?ms=50 HTTP/1.1\r\nHost: test\r\n\r\n"
      "GET /hello HTTP/1.1\r\nHost: test\r\n\r\n"
      "POST /echo HTTP/1.1\r\nHost: test\r\nContent-Length: 4\r\n\r\nping");
  EXPECT_EQ(client.read_response().body, "done");
  EXPECT_EQ(client.read_response().body, "Hello, world!");
  EXPECT_EQ(client.read_response().body, "ping");
}

TEST_P(Conformance, HeadAnsweredWithoutBody) {
  start();
  RawClient client = connect();
  client.send_request("HEAD", "/hello");
  RawResponse response = client.read_response(/*head_request=*/true);
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.header("content-length"), "13");
  // The connection stays usable: no stray body bytes precede the next answer.
  client.send_request("GET", "/hello");
  EXPECT_EQ(client.read_response().body, "Hello, world!");
}

TEST_P(Conformance, ExpectContinueAnsweredWhenAppReads) {
  start();
  RawClient client = connect();
  client.send("POST /echo HTTP/1.1\r\nHost: test\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n");
  RawResponse interim = client.read_response();
  EXPECT_EQ(interim.status, 100);
  client.send("hello");
  RawResponse response = client.read_response();
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, "hello");
}

TEST_P(Conformance, ClientDisconnectStopsStreamingApp) {
  start();
  {
    RawClient client = connect();
    client.send_request("GET", "/stream");
    EXPECT_EQ(client.read_response(/*head_request=*/true).status, 200);
  }  // closes the connection mid-response
  EXPECT_TRUE(eventually([&] { return probe_->stream_stopped.load(); }));
}

TEST_P(Conformance, ClientDisconnectDeliveredToWaitingReceive) {
  if (app_kind() == AppKind::sync) GTEST_SKIP() << "no sync form of this scenario";
  start();
  {
    RawClient client = connect();
    client.send_request("GET", "/wait-disconnect");
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_TRUE(eventually([&] { return probe_->saw_disconnect.load(); }));
}

TEST_P(Conformance, ExceptionBeforeStartGives500AndClose) {
  start();
  RawClient client = connect();
  client.send_request("GET", "/raise-before");
  expect_answer_then_close(client, 500);
}

TEST_P(Conformance, ExceptionAfterStartAbortsConnection) {
  start();
  RawClient client = connect();
  client.send_request("GET", "/raise-after");
  // The head arrives, the body never completes: the connection is cut.
  EXPECT_THROW(client.read_response(), std::runtime_error);
}

TEST_P(Conformance, ReturnWithoutCompletingAbortsConnection) {
  if (app_kind() == AppKind::sync) GTEST_SKIP() << "no sync form of this scenario";
  start();
  RawClient client = connect();
  client.send_request("GET", "/incomplete");
  EXPECT_THROW(client.read_response(), std::runtime_error);
}

TEST_P(Conformance, ServerStaysUpAfterAppErrors) {
  start();
  for (const char* path : {"/raise-before", "/raise-after"}) {
    RawClient client = connect();
    client.send_request("GET", path);
    client.wait_closed(1000ms);
  }
  RawClient client = connect();
  client.send_request("GET", "/hello");
  EXPECT_EQ(client.read_response().status, 200);
}

TEST_P(Conformance, LifespanStateVisibleToRequests) {
  start();
  {
    RawClient client = connect();
    client.send_request("GET", "/state");
    EXPECT_EQ(client.read_response().body, "hello from startup");
  }  // closed: a stop would leave an idle connection its keep-alive timeout
  server_->stop();
  EXPECT_EQ(server_->wait(), 0);
  EXPECT_TRUE(probe_->shutdown_ran.load());
}

TEST_P(Conformance, FailedStartupExitsWithCode3) {
  probe_->fail_startup = true;
  server_ = std::make_unique<BackgroundServer>(std::get<0>(GetParam()).factory, base_config(),
                                               conformance_app(app_kind(), probe_));
  EXPECT_FALSE(server_->serving());
  EXPECT_EQ(server_->wait(), 3);
}

// The response, started after the stop began, also says that the connection
// closes (spec/servers.md, "Graceful shutdown").
TEST_P(Conformance, GracefulShutdownFinishesRequestInFlight) {
  start();
  RawClient busy = connect();
  RawClient idle = connect();
  idle.send_request("GET", "/hello");
  EXPECT_EQ(idle.read_response().status, 200);
  busy.send_request("GET", "/slow?ms=300");
  ASSERT_TRUE(busy.stays_silent(50ms));  // the request is in flight
  server_->stop();
  RawResponse response = busy.read_response();
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, "done");
  EXPECT_EQ(response.header("connection"), "close");
  EXPECT_TRUE(busy.wait_closed(1000ms));
  // An idle keep-alive connection is not closed under its client, who may be
  // reusing it: its next request is answered, as the last one.
  idle.send_request("GET", "/hello");
  RawResponse last = idle.read_response();
  EXPECT_EQ(last.status, 200);
  EXPECT_EQ(last.header("connection"), "close");
  EXPECT_TRUE(idle.wait_closed(1000ms));
  idle.close();  // a server may linger until its client has closed too
  busy.close();
  EXPECT_EQ(server_->wait(), 0);
}

TEST_P(Conformance, GracefulShutdownTimeoutCancelsRemainingRequests) {
  Config config = base_config();
  config.timeout_graceful_shutdown = 100ms;
  start(config);
  RawClient client = connect();
  client.send_request("GET", "/stream");
  EXPECT_EQ(client.read_response(/*head_request=*/true).status, 200);
  auto begin = std::chrono::steady_clock::now();
  server_->stop();
  EXPECT_TRUE(client.wait_closed(2000ms));
  EXPECT_EQ(server_->wait(), 0);
  EXPECT_LT(std::chrono::steady_clock::now() - begin, 1500ms);
}

TEST_P(Conformance, KeepAliveTimeoutClosesIdleConnection) {
  Config config = base_config();
  config.timeout_keep_alive = 100ms;
  start(config);
  RawClient client = connect();
  client.send_request("GET", "/hello");
  EXPECT_EQ(client.read_response().status, 200);
  auto begin = std::chrono::steady_clock::now();
  EXPECT_TRUE(client.wait_closed(1000ms));
  EXPECT_GE(std::chrono::steady_clock::now() - begin, 80ms);
}

TEST_P(Conformance, SlowRequestHeadIsCutOff) {
  Config config = base_config();
  config.timeout_request_head = 200ms;
  start(config);
  RawClient client = connect();
  client.send("GET /hello HTTP/1.1\r\n");
  // One header line every 50 ms: each arrives in time, the whole head does not.
  bool closed = false;
  for (int i = 0; i < 20 && !closed; ++i) {
    try {
      client.send("X-Trickle: " + std::to_string(i) + "\r\n");
    } catch (const std::runtime_error&) {
      closed = true;
    }
    closed = closed || client.wait_closed(50ms);
  }
  EXPECT_TRUE(closed);
}

TEST_P(Conformance, LimitConcurrencyAnswers503) {
  // The limit holds per process (spec/servers.md), and which worker accepts
  // a connection is the kernel's choice.
  if (std::get<0>(GetParam()).name == "supervisor")
    GTEST_SKIP() << "per-process limit: the connections may land on different workers";
  Config config = base_config();
  config.limit_concurrency = 1;
  start(config);
  RawClient busy = connect();
  busy.send_request("GET", "/slow?ms=300");
  ASSERT_TRUE(busy.stays_silent(50ms));
  RawClient refused = connect();
  refused.send_request("GET", "/hello");
  RawResponse response = refused.read_response();
  EXPECT_EQ(response.status, 503);
  EXPECT_EQ(busy.read_response().status, 200);
}

INSTANTIATE_TEST_SUITE_P(Servers, Conformance, server_params(), param_name);

}  // namespace
}  // namespace csgi::conformance
