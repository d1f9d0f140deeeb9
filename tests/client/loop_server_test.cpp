// The client against the real loop server running the built-in `hello` app.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include "apps/builtin.hpp"
#include "client/async_client.hpp"
#include "client/client.hpp"
#include "client/gather.hpp"
#include "servers/background_server.hpp"
#include "servers/logging.hpp"
#include "servers/server.hpp"
#include "tests/client/harness.hpp"

namespace csgi::client {
namespace {

using namespace std::chrono_literals;
using testing::run;

servers::Config quiet_config() {
  servers::setup_logging("critical", false);
  servers::Config config;
  config.port = 0;
  config.log_level = "critical";
  config.access_log = false;
  return config;
}

class LoopServerTest : public ::testing::Test {
 protected:
  explicit LoopServerTest(servers::Config config = quiet_config())
      : server(servers::make_loop_server, config, apps::hello_app()) {}

  std::string url(const std::string& target = "/") const {
    return "http://127.0.0.1:" + std::to_string(server.port()) + target;
  }
  std::string origin() const { return "http://127.0.0.1:" + std::to_string(server.port()); }

  servers::BackgroundServer server;
  boost::asio::io_context io;
};

TEST_F(LoopServerTest, HelloAnswersJson) {
  AsyncClient client(io.get_executor());
  auto response = run(io, client.get(url()));
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.header("content-type"), "application/json");
  EXPECT_EQ(response.json().at("message").as_string(), "Hello World!");
}

TEST_F(LoopServerTest, SequentialRequestsReuseOneConnection) {
  AsyncClient client(io.get_executor());
  for (int i = 0; i < 50; ++i) EXPECT_EQ(run(io, client.get(url())).status, 200);
  auto stats = client.pool_stats(origin());
  EXPECT_EQ(stats.idle, 1u);
  EXPECT_EQ(stats.leased, 0u);
}

TEST_F(LoopServerTest, HeadHasNoBody) {
  AsyncClient client(io.get_executor());
  auto response = run(io, client.head(url()));
  EXPECT_EQ(response.status, 200);
  EXPECT_TRUE(response.body.empty());
  EXPECT_EQ(run(io, client.get(url())).json().at("message").as_string(), "Hello World!");
}

TEST_F(LoopServerTest, TenDelayedCallsGatheredOverlapOnTheLoop) {
  // The article's aggregated view against an async /api/: ~one delay, not ten.
  AsyncClient client(io.get_executor());
  std::vector<awaitable<Response>> calls;
  for (int i = 0; i < 10; ++i) calls.push_back(client.get(url("/api/?delay_ms=100")));
  auto started = std::chrono::steady_clock::now();
  auto responses = run(io, gather(std::move(calls)));
  EXPECT_LT(std::chrono::steady_clock::now() - started, 500ms);
  for (auto& response : responses) EXPECT_EQ(response.status, 200);
  EXPECT_LE(client.pool_stats(origin()).idle, 10u);
}

TEST_F(LoopServerTest, DelayBeyondTheReadTimeoutRaisesReadTimeout) {
  ClientOptions options;
  options.timeouts.read = 100ms;
  AsyncClient client(io.get_executor(), options);
  EXPECT_THROW(run(io, client.get(url("/api/?delay_ms=1000"))), ReadTimeout);
  EXPECT_EQ(run(io, client.get(url())).status, 200);  // the pool recovers
}

TEST_F(LoopServerTest, BlockingClientFromManyThreads) {
  Client client;
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 6; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 20; ++i)
        if (client.get(url()).json().at("message").as_string() == "Hello World!") ++ok;
    });
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(ok, 120);
}

class LoopServerShortKeepAliveTest : public LoopServerTest {
 protected:
  static servers::Config short_keep_alive() {
    auto config = quiet_config();
    config.timeout_keep_alive = 50ms;
    return config;
  }
  LoopServerShortKeepAliveTest() : LoopServerTest(short_keep_alive()) {}
};

TEST_F(LoopServerShortKeepAliveTest, ConnectionTheServerClosedIsReplaced) {
  AsyncClient client(io.get_executor());
  EXPECT_EQ(run(io, client.get(url())).status, 200);
  std::this_thread::sleep_for(150ms);  // the server closes the idle connection
  EXPECT_EQ(run(io, client.get(url())).status, 200);
  EXPECT_EQ(client.pool_stats(origin()).idle, 1u);
}

}  // namespace
}  // namespace csgi::client
