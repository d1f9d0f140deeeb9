// The worker-side hooks on their own: the heartbeat timer and the request budget.
#include <csignal>

#include <gtest/gtest.h>

#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "harness.hpp"
#include "servers/supervisor/worker.hpp"

namespace csgi::servers::testing {
namespace {

namespace asio = boost::asio;

class Channel {
 public:
  Channel() { ::socketpair(AF_UNIX, SOCK_STREAM, 0, fds_); }
  ~Channel() {
    ::close(fds_[0]);
    ::close(fds_[1]);
  }
  int worker_end() const { return fds_[1]; }
  std::string drain() const {
    std::string bytes;
    char buffer[256];
    for (ssize_t n; (n = ::recv(fds_[0], buffer, sizeof buffer, MSG_DONTWAIT)) > 0;)
      bytes.append(buffer, static_cast<std::size_t>(n));
    return bytes;
  }

 private:
  int fds_[2] = {-1, -1};
};

Config supervised(const Channel& channel, milliseconds interval) {
  Config config;
  config.heartbeat_fd = channel.worker_end();
  config.heartbeat_interval = interval;
  return config;
}

void run_for(asio::io_context& io, milliseconds duration) {
  asio::steady_timer stop(io, duration);
  stop.async_wait([&](auto) { io.stop(); });
  io.run();
}

TEST(HeartbeatTest, BeatsAtStartThenOnEveryInterval) {
  Channel channel;
  asio::io_context io;
  Heartbeat heartbeat(io.get_executor(), supervised(channel, 20ms));
  EXPECT_EQ(channel.drain(), "");  // nothing before start(): not booted yet
  heartbeat.start();
  EXPECT_EQ(channel.drain(), "b");  // the first beat says "booted" at once
  run_for(io, 110ms);
  auto beats = channel.drain().size();
  EXPECT_GE(beats, 3u);
  EXPECT_LE(beats, 6u);
}

TEST(HeartbeatTest, StopLetsTheLoopFinish) {
  Channel channel;
  asio::io_context io;
  Heartbeat heartbeat(io.get_executor(), supervised(channel, 10ms));
  heartbeat.start();
  asio::steady_timer later(io, 30ms);
  later.async_wait([&](auto) { heartbeat.stop(); });
  auto started = std::chrono::steady_clock::now();
  io.run();  // returns only because nothing is left to run
  EXPECT_LT(std::chrono::steady_clock::now() - started, 500ms);
}

TEST(HeartbeatTest, UnsupervisedDoesNothing) {
  asio::io_context io;
  Heartbeat heartbeat(io.get_executor(), Config{});
  heartbeat.start();
  EXPECT_EQ(io.run(), 0u);
}

TEST(PolledHeartbeatTest, BeatsAtOnceThenWhenTheIntervalHasPassed) {
  Channel channel;
  PolledHeartbeat heartbeat(supervised(channel, 100ms));
  auto start = PolledHeartbeat::Clock::now();
  EXPECT_EQ(channel.drain(), "");  // nothing before the first turn: not booted yet
  EXPECT_LE(heartbeat.next_beat(), PolledHeartbeat::Clock::now());
  heartbeat.beat_if_due(start);
  EXPECT_EQ(channel.drain(), "b");
  EXPECT_EQ(heartbeat.next_beat(), start + 100ms);
  heartbeat.beat_if_due(start + 99ms);
  EXPECT_EQ(channel.drain(), "");
  heartbeat.beat_if_due(start + 100ms);
  EXPECT_EQ(channel.drain(), "b");
  EXPECT_EQ(heartbeat.next_beat(), start + 200ms);
}

TEST(PolledHeartbeatTest, UnsupervisedNeverBoundsAWait) {
  PolledHeartbeat heartbeat(Config{});
  heartbeat.beat_if_due();
  EXPECT_EQ(heartbeat.next_beat(), std::nullopt);
}

TEST(RequestBudgetTest, AsksTheSupervisorOnceWhenTheLimitIsReached) {
  Channel channel;
  Config config = supervised(channel, 1000ms);
  config.limit_max_requests = 3;
  RequestBudget budget(config);
  budget.count();
  budget.count();
  EXPECT_EQ(channel.drain(), "");
  budget.count();
  EXPECT_EQ(channel.drain(), "r");
  budget.count();
  EXPECT_EQ(channel.drain(), "");
  EXPECT_EQ(budget.taken(), 4u);
}

TEST(RequestBudgetTest, NoLimitNeverRetires) {
  Channel channel;
  RequestBudget budget(supervised(channel, 1000ms));
  for (int i = 0; i < 1000; ++i) budget.count();
  EXPECT_EQ(channel.drain(), "");
}

TEST(RequestBudgetTest, UnsupervisedWorkerSendsItselfTerm) {
  pid_t child = ::fork();
  if (child == 0) {
    Config config;
    config.limit_max_requests = 2;
    RequestBudget budget(config);
    budget.count();
    budget.count();  // SIGTERM, default disposition: the process ends here
    ::pause();
    ::_exit(0);
  }
  EXPECT_EQ(wait_exit(child, 2000ms), 128 + SIGTERM);
}

}  // namespace
}  // namespace csgi::servers::testing
