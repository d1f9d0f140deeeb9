// The loop connection driven through a socket pair on a loop the test turns:
// its phases, and the performance tricks that would otherwise fail silently
// (one recv per kept-alive request; buffers given back while idle; the watch
// beside a running app, a callback rather than a coroutine).
#include <gtest/gtest.h>

#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/this_coro.hpp>

#include "runtime/async_event.hpp"
#include "servers/cycle.hpp"
#include "servers/loop/connection.hpp"
#include "tests/servers/loop/recv_counter.hpp"

namespace csgi::servers::loop {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

constexpr std::string_view request = "GET / HTTP/1.1\r\nHost: test\r\n\r\n";

class ConnectionTest : public ::testing::Test {
 protected:
  ConnectionTest() {
    config_.access_log = false;
    context_ = std::make_shared<LoopContext>(config_, io_.get_executor());
    context_->limits = protocol_limits(config_);
    context_->app = [](asgi::Scope, asgi::Receive, asgi::Send send) -> asgi::awaitable<void> {
      co_await send(asgi::HttpResponseStart{200, {}});
      co_await send(asgi::HttpResponseBody{"ok", false});
    };
    int fds[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
    client_fd_ = fds[1];
    Socket socket(io_);
    socket.assign(asio::generic::stream_protocol(AF_UNIX, SOCK_STREAM), fds[0]);
    server_fd_ = fds[0];
    connection_ = std::make_shared<Connection>(std::move(socket), context_);
  }
  ~ConnectionTest() override {
    testing::count_recvs_on(-1);
    connection_->cancel();
    io_.restart();
    io_.poll();
    ::close(client_fd_);
  }

  void start() {
    asio::co_spawn(io_, connection_->run(),
                   asio::bind_cancellation_slot(connection_->cancellation_slot(),
                                                [connection = connection_](std::exception_ptr) {}));
  }
  // Turns the loop until `condition` holds, for at most two seconds.
  template <class Condition>
  bool run_until(Condition condition) {
    auto give_up = std::chrono::steady_clock::now() + 2s;
    while (!condition() && std::chrono::steady_clock::now() < give_up) {
      io_.restart();
      io_.run_for(1ms);
    }
    return condition();
  }
  void send_request() { ASSERT_EQ(::send(client_fd_, request.data(), request.size(), 0), ssize_t(request.size())); }
  // Turns the loop until one whole response (it ends with the body "ok")
  // arrived; `got` holds it.
  bool answered(std::string& got) {
    return run_until([&] {
      char buffer[512];
      auto n = ::recv(client_fd_, buffer, sizeof buffer, MSG_DONTWAIT);
      if (n > 0) got.append(buffer, static_cast<std::size_t>(n));
      return got.ends_with("\r\n\r\nok");
    });
  }
  bool answered() {
    std::string got;
    return answered(got);
  }

  asio::io_context io_{1};
  Config config_;
  std::shared_ptr<LoopContext> context_;
  std::shared_ptr<Connection> connection_;
  int server_fd_ = -1;
  int client_fd_ = -1;
};

TEST_F(ConnectionTest, PhasesFollowTheRequests) {
  EXPECT_EQ(connection_->phase(), Phase::fresh);
  start();
  io_.poll();
  EXPECT_EQ(connection_->phase(), Phase::fresh);
  ASSERT_EQ(::send(client_fd_, request.data(), 10, 0), 10);  // part of a head
  EXPECT_TRUE(run_until([&] { return connection_->phase() == Phase::reading_head; }));
  ASSERT_EQ(::send(client_fd_, request.data() + 10, request.size() - 10, 0), ssize_t(request.size() - 10));
  EXPECT_TRUE(answered());
  EXPECT_EQ(connection_->phase(), Phase::idle);
}

TEST_F(ConnectionTest, EachKeptAliveRequestCostsOneRecv) {
  start();
  send_request();
  ASSERT_TRUE(answered());
  // After a read that drained the socket, the next read waits for epoll
  // without trying first (speculative_read.hpp).
  testing::count_recvs_on(server_fd_);
  constexpr int requests = 5;
  for (int i = 0; i < requests; ++i) {
    send_request();
    ASSERT_TRUE(answered());
  }
  EXPECT_EQ(testing::counted_recvs(), requests);
}

TEST_F(ConnectionTest, IdleConnectionGivesItsBuffersBackAndServesAfterwards) {
  start();
  send_request();
  ASSERT_TRUE(answered());
  EXPECT_EQ(connection_->buffers(), Buffers::held);
  // Past shrink_after (250 ms) with no byte of a next request.
  EXPECT_TRUE(run_until([&] { return connection_->buffers() == Buffers::given_back; }));
  EXPECT_EQ(connection_->phase(), Phase::idle);
  send_request();
  EXPECT_TRUE(answered());
  EXPECT_EQ(connection_->buffers(), Buffers::held);
}

TEST_F(ConnectionTest, ClientLeavingWhileTheAppWaitsCancelsTheApp) {
  // The app yields to the loop and waits for something that never comes: the
  // watch beside it (a readiness wait, no coroutine) must see the client go.
  bool app_cancelled = false;
  context_->app = [&](asgi::Scope, asgi::Receive, asgi::Send) -> asgi::awaitable<void> {
    AsyncEvent never(co_await asio::this_coro::executor);
    try {
      co_await never.wait();
    } catch (const boost::system::system_error&) {
      app_cancelled = true;
      throw;
    }
  };
  start();
  send_request();
  ASSERT_TRUE(run_until([&] { return connection_->phase() == Phase::serving; }));
  io_.restart();
  io_.poll();  // the app parks; the watch starts on the next turn of the loop
  ::shutdown(client_fd_, SHUT_WR);
  EXPECT_TRUE(run_until([&] { return app_cancelled; }));
  EXPECT_TRUE(run_until([&] { return connection_->phase() == Phase::closed; }));
}

TEST_F(ConnectionTest, GracefulShutdownAnswersTheNextRequestOfAnIdleConnectionWithClose) {
  start();
  send_request();
  ASSERT_TRUE(answered());
  context_->stopping = true;
  connection_->stop_gracefully();
  io_.restart();
  io_.poll();
  // Not closed: the client may be reusing it right now.
  EXPECT_EQ(connection_->phase(), Phase::idle);
  send_request();
  std::string response;
  ASSERT_TRUE(answered(response));
  EXPECT_NE(response.find("connection: close\r\n"), std::string::npos) << response;
  EXPECT_TRUE(run_until([&] { return connection_->phase() == Phase::closed; }));
}

TEST_F(ConnectionTest, GracefulShutdownLeavesAnIdleConnectionToTheKeepAliveTimeout) {
  config_.timeout_keep_alive = 50ms;
  start();
  send_request();
  ASSERT_TRUE(answered());
  context_->stopping = true;
  connection_->stop_gracefully();
  EXPECT_TRUE(run_until([&] { return connection_->phase() == Phase::closed; }));
  char byte;
  EXPECT_EQ(::recv(client_fd_, &byte, 1, 0), 0);  // a close, not a reset
}

TEST_F(ConnectionTest, GracefulShutdownServesAFreshConnection) {
  start();
  io_.poll();
  context_->stopping = true;
  connection_->stop_gracefully();
  send_request();
  EXPECT_TRUE(answered());
}

}  // namespace
}  // namespace csgi::servers::loop
