// skip_speculative_read(): after it, a read waits for the next readiness
// report instead of trying at once, and no byte that arrives later is missed.
#include <gtest/gtest.h>

#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <string_view>

#include <boost/asio/generic/stream_protocol.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/write.hpp>

#include "servers/loop/speculative_read.hpp"

namespace csgi::servers::loop {
namespace {

namespace asio = boost::asio;
using Socket = asio::generic::stream_protocol::socket;

struct Pair {
  explicit Pair(asio::io_context& io) : server(io), client(io) {
    int fds[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
    server.assign(asio::generic::stream_protocol(AF_UNIX, SOCK_STREAM), fds[0]);
    client.assign(asio::generic::stream_protocol(AF_UNIX, SOCK_STREAM), fds[1]);
    server.non_blocking(true);
  }
  Socket server;
  Socket client;
};

// A socket pair whose server side has read a first request to exhaustion,
// as the loop server does, and then told the reactor so.
class SpeculativeReadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    asio::write(pair_.client, asio::buffer(std::string_view("first")));
    start_read();
    run_until_read();
    ASSERT_TRUE(done_);
    ASSERT_EQ(received(), "first");
    skip_speculative_read(pair_.server);
  }

  void start_read() {
    done_ = false;
    pair_.server.async_read_some(asio::buffer(buffer_), [this](const boost::system::error_code& error,
                                                               std::size_t n) {
      EXPECT_FALSE(error) << error.message();
      got_ = n;
      done_ = true;
    });
  }
  void run_until_read() {
    io_.restart();
    for (int i = 0; i < 100 && !done_; ++i) io_.run_for(std::chrono::milliseconds(10));
  }
  std::string_view received() const { return {buffer_.data(), got_}; }

  asio::io_context io_{1};
  Pair pair_{io_};
  std::array<char, 64> buffer_{};
  std::size_t got_ = 0;
  bool done_ = false;
};

TEST_F(SpeculativeReadTest, ReadAfterSkipStillSeesLaterBytes) {
  // The next read waits for readiness; the bytes sent afterwards reach it.
  start_read();
  io_.restart();
  io_.poll();
  EXPECT_FALSE(done_);
  asio::write(pair_.client, asio::buffer(std::string_view("second")));
  run_until_read();
  ASSERT_TRUE(done_);
  EXPECT_EQ(received(), "second");
}

TEST_F(SpeculativeReadTest, BytesThatArrivedBeforeTheReadAreNotMissed) {
  // Bytes that arrive after the draining read but before the next read is
  // started raise a readiness report of their own (edge-triggered epoll).
  asio::write(pair_.client, asio::buffer(std::string_view("early")));
  start_read();
  run_until_read();
  ASSERT_TRUE(done_);
  EXPECT_EQ(received(), "early");
}

}  // namespace
}  // namespace csgi::servers::loop
