// The blocking Client: same behaviour as AsyncClient, from any thread.
#include <gtest/gtest.h>

#include <atomic>

#include <boost/asio/io_context.hpp>

#include "client/client.hpp"
#include "runtime/executor.hpp"
#include "tests/client/harness.hpp"

namespace csgi::client {
namespace {

using namespace std::chrono_literals;
using testing::answer_all;
using testing::read_request;
using testing::ScriptedServer;
using testing::send_all;

const std::string ok_hello = "HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello";

ClientOptions small_timeouts() {
  ClientOptions options;
  options.timeouts = Timeouts::all(150ms);
  return options;
}

TEST(Client, GetBlocksUntilTheResponseIsRead) {
  ScriptedServer server(answer_all(ok_hello));
  Client client(small_timeouts());
  auto response = client.get(server.url());
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, "hello");
}

TEST(Client, ManyThreadsAtOnceShareOnePool) {
  ScriptedServer server(answer_all(ok_hello));
  auto options = small_timeouts();
  options.timeouts.pool = 2000ms;
  options.limits.max_connections = 4;
  Client client(options);
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 25; ++i)
        if (client.get(server.url()).body == "hello") ++ok;
    });
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(ok, 200);
  EXPECT_LE(server.accepted(), 4);
  client.close_idle();
}

TEST(Client, TimeoutIsTheSameTypedError) {
  ScriptedServer server([](int fd, int) {
    read_request(fd);
    testing::wait_for_close(fd);
    return true;
  });
  Client client(small_timeouts());
  EXPECT_THROW(client.get(server.url()), ReadTimeout);
  EXPECT_EQ(client.pool_stats(server.origin()).leased, 0u);
}

TEST(Client, PerRequestTimeoutOverridesTheClients) {
  ScriptedServer server([](int fd, int) {
    read_request(fd);
    std::this_thread::sleep_for(300ms);
    send_all(fd, ok_hello);
    testing::wait_for_close(fd);
    return true;
  });
  Client client(small_timeouts());
  RequestOptions patient;
  patient.timeouts = Timeouts::all(2000ms);
  EXPECT_EQ(client.get(server.url(), patient).body, "hello");
}

TEST(Client, StreamReadsTheBodyInPieces) {
  ScriptedServer server(answer_all(
      "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n3\r\ndef\r\n0\r\n\r\n"));
  Client client(small_timeouts());
  auto stream = client.stream("GET", server.url());
  EXPECT_EQ(stream.status(), 200);
  std::string body;
  while (auto piece = stream.read_chunk()) body += *piece;
  EXPECT_EQ(body, "abcdef");
  client.close_idle();
}

TEST(Client, CalledFromAnEventLoopThreadFailsLoudly) {
  ScriptedServer server(answer_all(ok_hello));
  Client client(small_timeouts());
  EventLoopThreadMark mark;
  EXPECT_THROW(client.get(server.url()), std::logic_error);
}

}  // namespace
}  // namespace csgi::client
