// The supervised worker's hooks on their own: what they write on the
// heartbeat channel.
#include <gtest/gtest.h>

#include <sys/socket.h>
#include <unistd.h>

#include "harness.hpp"
#include "servers/supervisor/worker.hpp"

namespace csgi::servers::testing {
namespace {

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

TEST(SupervisedWorkerHooksTest, BeatWritesOneByte) {
  Channel channel;
  SupervisedWorkerHooks hooks(channel.worker_end(), 250ms);
  EXPECT_EQ(hooks.heartbeat_interval(), 250ms);
  hooks.beat();
  hooks.beat();
  EXPECT_EQ(channel.drain(), "bb");
}

TEST(SupervisedWorkerHooksTest, LimitAsksForReplacementInsteadOfStopping) {
  Channel channel;
  SupervisedWorkerHooks hooks(channel.worker_end(), 1000ms);
  RequestBudget budget;
  int stops = 0;
  budget.start(2, hooks, [&] { ++stops; });
  budget.count();
  EXPECT_EQ(channel.drain(), "");
  budget.count();
  EXPECT_EQ(channel.drain(), "r");
  EXPECT_EQ(stops, 0) << "the supervisor stops the worker once its replacement is up";
}

TEST(SupervisedWorkerHooksTest, ChannelGoneIsNotAnError) {
  int fds[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
  ::close(fds[0]);
  EXPECT_FALSE(send_heartbeat_byte(fds[1], heartbeat_beat));
  SupervisedWorkerHooks hooks(fds[1], 1000ms);
  hooks.beat();  // no SIGPIPE
  ::close(fds[1]);
}

}  // namespace
}  // namespace csgi::servers::testing
