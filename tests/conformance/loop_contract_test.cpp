// The loop server's side of the contract items that spec/servers.md states
// and that only the loop implements as tested here: the 408 of a request head
// that times out, Connection: close on responses during a graceful shutdown,
// and --limit-concurrency counting requests, not connections.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "gateway/app.hpp"
#include "servers/background_server.hpp"
#include "servers/server.hpp"
#include "tests/conformance/eventually.hpp"
#include "tests/conformance/raw_client.hpp"

namespace csgi::conformance {
namespace {

using namespace std::chrono_literals;
using servers::BackgroundServer;
using servers::Config;

// Answers "ok" after `delay`, counting the requests it has started.
Application delayed_app(std::shared_ptr<std::atomic<int>> started, std::chrono::milliseconds delay) {
  return Application::from_async(
      "delayed", [started, delay](asgi::Scope, asgi::Receive, asgi::Send send) -> asgi::awaitable<void> {
        ++*started;
        if (delay.count() > 0) {
          boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor, delay);
          co_await timer.async_wait(boost::asio::use_awaitable);
        }
        co_await send(asgi::HttpResponseStart{200, {{"content-type", "text/plain"}}});
        co_await send(asgi::HttpResponseBody{"ok", false});
      });
}

class LoopContract : public ::testing::Test {
 protected:
  // The defaults, with `timeout` (a member of Config) set to `value`.
  static Config with(std::chrono::milliseconds Config::*timeout, std::chrono::milliseconds value) {
    Config config = base_config();
    config.*timeout = value;
    return config;
  }
  static Config base_config() {
    Config config;
    config.port = 0;
    config.access_log = false;
    config.lifespan = servers::LifespanMode::off;
    config.timeout_graceful_shutdown = 2000ms;
    return config;
  }
  void start(Config config, std::chrono::milliseconds delay = 0ms) {
    server_ = std::make_unique<BackgroundServer>(servers::make_loop_server, config, delayed_app(started_, delay));
    ASSERT_TRUE(server_->serving());
  }
  RawClient connect() { return RawClient(server_->port()); }
  // One request answered on `client`, which stays open (kept alive).
  static void exchange_one(RawClient& client) {
    client.send_request("GET", "/first");
    EXPECT_EQ(client.read_response().status, 200);
  }

  std::shared_ptr<std::atomic<int>> started_ = std::make_shared<std::atomic<int>>(0);
  std::unique_ptr<BackgroundServer> server_;
};

TEST_F(LoopContract, HeadTimeoutAnswers408) {
  start(with(&Config::timeout_request_head, 150ms));
  RawClient client = connect();
  client.send("GET /hello HTTP/1.1\r\nHost: test\r\n");  // the head never ends
  RawResponse response = client.read_response();
  EXPECT_EQ(response.status, 408);
  EXPECT_EQ(response.header("connection"), "close");
  EXPECT_TRUE(client.wait_closed(2000ms));
  EXPECT_EQ(*started_, 0);
}

TEST_F(LoopContract, HeadTimeoutAfterAKeptAliveRequestAnswers408) {
  start(with(&Config::timeout_request_head, 150ms));
  RawClient client = connect();
  exchange_one(client);
  client.send("GET /second HTTP/1.1\r\n");
  EXPECT_EQ(client.read_response().status, 408);
}

TEST_F(LoopContract, ConnectionThatNeverSentAByteIsClosedWithoutAnAnswer) {
  start(with(&Config::timeout_request_head, 150ms));
  RawClient client = connect();
  std::string received;
  EXPECT_TRUE(client.wait_closed(3000ms, &received));
  EXPECT_EQ(received, "");
}

TEST_F(LoopContract, IdleKeepAliveExpiryClosesWithoutAnAnswer) {
  start(with(&Config::timeout_keep_alive, 100ms));
  RawClient client = connect();
  exchange_one(client);
  // Nothing more comes, not even a 408: the close is all.
  std::string received;
  EXPECT_TRUE(client.wait_closed(2000ms, &received));
  EXPECT_EQ(received, "");
}

TEST_F(LoopContract, ResponseDuringGracefulShutdownCarriesConnectionClose) {
  start(base_config(), 200ms);
  RawClient client = connect();
  client.send_request("GET", "/slow");
  ASSERT_TRUE(eventually([&] { return *started_ == 1; }));
  server_->stop();
  RawResponse response = client.read_response();
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.header("connection"), "close");
  EXPECT_TRUE(client.wait_closed(2000ms));
  EXPECT_EQ(server_->wait(), 0);
}

TEST_F(LoopContract, LimitConcurrencyCountsRequestsNotConnections) {
  Config config = base_config();
  config.limit_concurrency = 1;
  start(config);
  // Open connections with no request in flight do not count.
  RawClient idle1 = connect();
  RawClient idle2 = connect();
  RawClient client = connect();
  client.send_request("GET", "/hello");
  EXPECT_EQ(client.read_response().status, 200);
  idle1.send_request("GET", "/hello");
  EXPECT_EQ(idle1.read_response().status, 200);
}

}  // namespace
}  // namespace csgi::conformance
