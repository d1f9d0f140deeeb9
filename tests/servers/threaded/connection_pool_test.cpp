// The threaded server's connection pool on its own: thread bounds, the wait
// queue, 503 for connections that find it full or wait too long, idle
// connections yielding their thread, and stopping. Sockets are socketpairs;
// the "serve" callbacks block on a gate the test opens.
#include "servers/threaded/connection_pool.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>

#include <gtest/gtest.h>

namespace csgi::servers::threaded {
namespace {

using namespace std::chrono_literals;

// Blocks callers until opened.
class Gate {
 public:
  void wait() {
    std::unique_lock lock(mutex_);
    ++waiting_;
    changed_.notify_all();
    changed_.wait(lock, [&] { return open_; });
  }
  void open() {
    std::lock_guard lock(mutex_);
    open_ = true;
    changed_.notify_all();
  }
  // Waits until `n` callers are blocked in wait().
  bool await_waiting(int n) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, 2s, [&] { return waiting_ >= n; });
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  int waiting_ = 0;
  bool open_ = false;
};

// One end of a fresh socketpair, as if accepted; the other end is closed.
int accepted_socket() {
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0)
    throw std::runtime_error("socketpair");
  ::close(fds[1]);
  return fds[0];
}

bool readable(int fd) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, 0) == 1;
}

PoolOptions options(std::size_t threads, std::size_t queue_capacity,
                    std::chrono::milliseconds queue_timeout) {
  PoolOptions options;
  options.threads = threads;
  options.queue_capacity = queue_capacity;
  options.queue_timeout = queue_timeout;
  return options;
}

struct Fixture : ::testing::Test {
  std::shared_ptr<ConnectionPool> make(PoolOptions options) {
    return ConnectionPool::create(
        options,
        [this](int, ConnectionPool&) {
          ++served;
          gate.wait();
        },
        [this](int) { ++rejected; });
  }
  void TearDown() override {
    gate.open();
    if (pool) {
      pool->stop_accepting();
      EXPECT_TRUE(pool->join(Clock::time_point::max()));
    }
  }

  Gate gate;
  std::atomic<int> served{0};
  std::atomic<int> rejected{0};
  std::shared_ptr<ConnectionPool> pool;
};

using ConnectionPoolTest = Fixture;

TEST_F(ConnectionPoolTest, StartsOneThreadPerConnectionUpToTheBound) {
  pool = make(options(3, 8, 5s));
  for (int i = 0; i < 5; ++i) pool->submit(accepted_socket());
  ASSERT_TRUE(gate.await_waiting(3));
  EXPECT_EQ(pool->threads_started(), 3u);
  EXPECT_EQ(pool->connections_served(), 3u);
  EXPECT_EQ(pool->connections_waiting(), 2u);
  EXPECT_EQ(rejected, 0);
}

TEST_F(ConnectionPoolTest, WaitingConnectionIsServedWhenAThreadFrees) {
  pool = make(options(1, 8, 5s));
  pool->submit(accepted_socket());
  pool->submit(accepted_socket());
  ASSERT_TRUE(gate.await_waiting(1));
  EXPECT_EQ(pool->connections_waiting(), 1u);
  gate.open();
  auto deadline = Clock::now() + 2s;
  while (served < 2 && Clock::now() < deadline) std::this_thread::sleep_for(1ms);
  EXPECT_EQ(served, 2);
  EXPECT_EQ(rejected, 0);
  EXPECT_EQ(pool->threads_started(), 1u);
}

TEST_F(ConnectionPoolTest, FullQueueAnswers503AtOnce) {
  pool = make(options(1, 1, 5s));
  pool->submit(accepted_socket());
  ASSERT_TRUE(gate.await_waiting(1));
  pool->submit(accepted_socket());  // waits
  pool->submit(accepted_socket());  // no room
  EXPECT_EQ(rejected, 1);
  EXPECT_EQ(pool->connections_waiting(), 1u);
}

TEST_F(ConnectionPoolTest, WaitingConnectionGets503AfterTheQueueTimeout) {
  pool = make(options(1, 4, 50ms));
  pool->submit(accepted_socket());
  ASSERT_TRUE(gate.await_waiting(1));
  pool->submit(accepted_socket());
  auto next = pool->expire_waiting();
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(rejected, 0);
  std::this_thread::sleep_until(*next);
  EXPECT_FALSE(pool->expire_waiting().has_value());
  EXPECT_EQ(rejected, 1);
  EXPECT_EQ(pool->connections_waiting(), 0u);
}

TEST_F(ConnectionPoolTest, IdleConnectionYieldsOncePerWaitingConnection) {
  pool = make(options(1, 4, 5s));
  pool->submit(accepted_socket());
  ASSERT_TRUE(gate.await_waiting(1));
  EXPECT_FALSE(readable(pool->attention_fd()));
  EXPECT_FALSE(pool->yield_idle_connection());

  pool->submit(accepted_socket());
  EXPECT_TRUE(readable(pool->attention_fd()));
  EXPECT_TRUE(pool->yield_idle_connection());
  // Claimed: a second idle connection keeps its thread.
  EXPECT_FALSE(readable(pool->attention_fd()));
  EXPECT_FALSE(pool->yield_idle_connection());
}

TEST_F(ConnectionPoolTest, StoppingLeavesAnIdleConnectionItsThread) {
  pool = make(options(1, 4, 5s));
  pool->submit(accepted_socket());
  ASSERT_TRUE(gate.await_waiting(1));
  pool->stop_accepting();
  // It ends at its next response (Connection: close) or its keep-alive timeout.
  EXPECT_FALSE(readable(pool->attention_fd()));
  EXPECT_FALSE(pool->yield_idle_connection());
  gate.open();
  EXPECT_TRUE(pool->wait_until_done(Clock::now() + 2s));
}

TEST_F(ConnectionPoolTest, StoppingServesWaitingConnectionsAndRefusesNewOnes) {
  pool = make(options(1, 4, 5s));
  pool->submit(accepted_socket());
  ASSERT_TRUE(gate.await_waiting(1));
  pool->submit(accepted_socket());
  pool->stop_accepting();
  EXPECT_EQ(rejected, 0);
  // The waiting connection still calls on the idle one for its thread.
  EXPECT_TRUE(readable(pool->attention_fd()));
  EXPECT_TRUE(pool->yield_idle_connection());
  pool->submit(accepted_socket());
  EXPECT_EQ(rejected, 1);
  gate.open();
  EXPECT_TRUE(pool->wait_until_done(Clock::now() + 2s));
  EXPECT_EQ(served, 2);  // the one that waited got a thread before the threads exited
}

TEST_F(ConnectionPoolTest, AbortRefusesTheConnectionsStillWaiting) {
  pool = make(options(1, 4, 5s));
  pool->submit(accepted_socket());
  ASSERT_TRUE(gate.await_waiting(1));
  pool->submit(accepted_socket());
  pool->stop_accepting();
  pool->abort_connections();
  EXPECT_EQ(rejected, 1);
  EXPECT_EQ(pool->connections_waiting(), 0u);
  gate.open();
  EXPECT_TRUE(pool->wait_until_done(Clock::now() + 2s));
  EXPECT_EQ(served, 1);
}

TEST_F(ConnectionPoolTest, JoinTimesOutWhileAConnectionIsServed) {
  pool = make(options(1, 4, 5s));
  pool->submit(accepted_socket());
  ASSERT_TRUE(gate.await_waiting(1));
  pool->stop_accepting();
  EXPECT_FALSE(pool->wait_until_done(Clock::now() + 20ms));
  gate.open();
  EXPECT_TRUE(pool->wait_until_done(Clock::now() + 2s));
}

TEST(ConnectionPool, ThrowingServeKeepsTheThreadServing) {
  std::atomic<int> calls{0};
  auto pool = ConnectionPool::create(
      options(1, 4, 5s),
      [&](int, ConnectionPool&) {
        ++calls;
        throw std::runtime_error("boom");
      },
      [](int) {});
  for (int i = 0; i < 3; ++i) pool->submit(accepted_socket());
  auto deadline = Clock::now() + 2s;
  while (calls < 3 && Clock::now() < deadline) std::this_thread::sleep_for(1ms);
  EXPECT_EQ(calls, 3);
  EXPECT_EQ(pool->threads_started(), 1u);
  pool->stop_accepting();
  EXPECT_TRUE(pool->join(Clock::now() + 2s));
}

}  // namespace
}  // namespace csgi::servers::threaded
