// AsyncClient against misbehaving servers: each failure ends in the right
// exception, leaves no socket or coroutine behind, and the pool works after it.
#include <gtest/gtest.h>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "client/async_client.hpp"
#include "client/gather.hpp"
#include "client/url.hpp"
#include "tests/client/harness.hpp"

namespace csgi::client {
namespace {

using namespace std::chrono_literals;
using testing::answer_all;
using testing::count_open_fds;
using testing::read_request;
using testing::run;
using testing::ScriptedServer;
using testing::send_all;
using testing::wait_for_close;

const std::string ok_hello = "HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello";

class FailureTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Creates the reactor's own descriptors before the baseline is taken.
    run(io, []() -> awaitable<int> {
      boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor, 1ms);
      co_await timer.async_wait(boost::asio::use_awaitable);
      co_return 0;
    }());
    baseline_fds = count_open_fds();
    options.timeouts = Timeouts::all(150ms);
  }

  // After a failure: nothing leased or waiting, and once the idle connections
  // are closed and the server is gone, no descriptor is left open.
  void expect_clean(AsyncClient& client, std::unique_ptr<ScriptedServer>& server) {
    auto stats = client.pool_stats(server->origin());
    EXPECT_EQ(stats.leased, 0u);
    EXPECT_EQ(stats.waiting, 0u);
    client.close_idle();
    server.reset();
    EXPECT_EQ(count_open_fds(), baseline_fds);
  }

  // A request to `server` that a well-behaved origin answers: the pool still works.
  void expect_usable(AsyncClient& client) {
    ScriptedServer good(answer_all(ok_hello));
    EXPECT_EQ(run(io, client.get(good.url())).body, "hello");
    client.close_idle();  // lets the server's connection thread end
  }

  boost::asio::io_context io;
  ClientOptions options;
  int baseline_fds = 0;
};

template <class Error>
void expect_error(const std::function<void()>& call, const std::string& fragment) {
  try {
    call();
    ADD_FAILURE() << "no exception";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find(fragment), std::string::npos) << error.what();
  } catch (const std::exception& error) {
    ADD_FAILURE() << "wrong exception: " << error.what();
  }
}

// Runs `task` and cancels it (terminal cancellation, as gather does) after
// `delay`; returns what it ended with. Fails the test if it outlives the
// cancellation by much or leaves work behind.
std::exception_ptr cancelled_after(boost::asio::io_context& io, awaitable<Response> task,
                                   std::chrono::milliseconds delay) {
  boost::asio::cancellation_signal signal;
  std::exception_ptr error;
  bool done = false;
  boost::asio::co_spawn(io, std::move(task),
                        boost::asio::bind_cancellation_slot(
                            signal.slot(), [&](std::exception_ptr e, const Response&) {
                              error = e;
                              done = true;
                            }));
  boost::asio::steady_timer timer(io, delay);
  timer.async_wait(
      [&](boost::system::error_code) { signal.emit(boost::asio::cancellation_type::terminal); });
  auto started = std::chrono::steady_clock::now();
  io.restart();
  io.run_for(3s);
  EXPECT_TRUE(done);
  EXPECT_TRUE(io.stopped()) << "work left on the io_context after the cancellation";
  EXPECT_LT(std::chrono::steady_clock::now() - started, delay + 500ms);
  return error;
}

void expect_aborted(const std::exception_ptr& error) {
  try {
    if (error) std::rethrow_exception(error);
    ADD_FAILURE() << "no exception";
  } catch (const boost::system::system_error& e) {
    EXPECT_EQ(e.code(), boost::asio::error::operation_aborted) << e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "wrong exception: " << e.what();
  }
}

TEST_F(FailureTest, StallBeforeHeadRaisesReadTimeout) {
  auto server = std::make_unique<ScriptedServer>([](int fd, int) {
    read_request(fd);
    wait_for_close(fd);
    return true;
  });
  AsyncClient client(io.get_executor(), options);
  auto url = server->url("/api/");
  auto started = std::chrono::steady_clock::now();
  expect_error<ReadTimeout>([&] { run(io, client.get(url)); },
                            "ReadTimeout: no response from " + url + " within 0.15 s");
  EXPECT_LT(std::chrono::steady_clock::now() - started, 1s);
  expect_clean(client, server);
  expect_usable(client);
}

TEST_F(FailureTest, StallMidBodyRaisesReadTimeout) {
  auto server = std::make_unique<ScriptedServer>([](int fd, int) {
    read_request(fd);
    send_all(fd, "HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\npartial");
    wait_for_close(fd);
    return true;
  });
  AsyncClient client(io.get_executor(), options);
  expect_error<ReadTimeout>([&] { run(io, client.get(server->url())); }, "body stalled");
  expect_clean(client, server);
  expect_usable(client);
}

TEST_F(FailureTest, ResetBeforeResponseRaisesRemoteProtocolError) {
  auto server = std::make_unique<ScriptedServer>([](int fd, int) {
    read_request(fd);
    testing::reset(fd);
    return false;
  });
  AsyncClient client(io.get_executor(), options);
  expect_error<RemoteProtocolError>([&] { run(io, client.get(server->url())); },
                                    "RemoteProtocolError");
  expect_clean(client, server);
  expect_usable(client);
}

TEST_F(FailureTest, CloseMidBodyRaisesRemoteProtocolError) {
  auto server = std::make_unique<ScriptedServer>([](int fd, int) {
    read_request(fd);
    send_all(fd, "HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\npartial");
    return true;
  });
  AsyncClient client(io.get_executor(), options);
  expect_error<RemoteProtocolError>([&] { run(io, client.get(server->url())); },
                                    "after 7 body bytes");
  expect_clean(client, server);
  expect_usable(client);
}

TEST_F(FailureTest, MalformedHeadRaisesRemoteProtocolError) {
  auto server = std::make_unique<ScriptedServer>(answer_all("HTTP/1.1 OK maybe\r\n\r\n"));
  AsyncClient client(io.get_executor(), options);
  expect_error<RemoteProtocolError>([&] { run(io, client.get(server->url())); }, "malformed");
  expect_clean(client, server);
  expect_usable(client);
}

TEST_F(FailureTest, OversizedHeadRaisesRemoteProtocolError) {
  auto server = std::make_unique<ScriptedServer>([](int fd, int) {
    read_request(fd);
    send_all(fd, "HTTP/1.1 200 OK\r\n");
    std::string field = "x-filler: " + std::string(1000, 'a') + "\r\n";
    for (int i = 0; i < 100; ++i) send_all(fd, field);
    wait_for_close(fd);
    return true;
  });
  options.max_response_head = 16 * 1024;
  AsyncClient client(io.get_executor(), options);
  expect_error<RemoteProtocolError>([&] { run(io, client.get(server->url())); },
                                    "larger than 16384 bytes");
  expect_clean(client, server);
  expect_usable(client);
}

TEST_F(FailureTest, ServerClosingIdleConnectionIsReplaced) {
  auto server = std::make_unique<ScriptedServer>([](int fd, int) {
    read_request(fd);
    send_all(fd, ok_hello);
    return true;  // closes the kept-alive connection while it is idle
  });
  AsyncClient client(io.get_executor(), options);
  EXPECT_EQ(run(io, client.get(server->url())).body, "hello");
  std::this_thread::sleep_for(20ms);  // let the FIN arrive
  EXPECT_EQ(run(io, client.get(server->url())).body, "hello");
  EXPECT_EQ(server->accepted(), 2);
  expect_clean(client, server);
}

TEST_F(FailureTest, KeptAliveConnectionClosedUnderARequestIsRetriedOnce) {
  // The first connection answers once, then reads the next request and closes
  // without answering: the race a pool cannot see coming.
  auto server = std::make_unique<ScriptedServer>([](int fd, int index) {
    read_request(fd);
    send_all(fd, ok_hello);
    if (index == 0) read_request(fd);
    else while (!read_request(fd).empty()) send_all(fd, ok_hello);
    return true;
  });
  AsyncClient client(io.get_executor(), options);
  EXPECT_EQ(run(io, client.get(server->url())).body, "hello");
  EXPECT_EQ(run(io, client.get(server->url())).body, "hello");
  EXPECT_EQ(server->accepted(), 2);
  // Not for a POST: it might have been processed.
  auto post_server = std::make_unique<ScriptedServer>([](int fd, int) {
    read_request(fd);
    send_all(fd, ok_hello);
    read_request(fd);
    return true;
  });
  EXPECT_EQ(run(io, client.post(post_server->url(), "a")).body, "hello");
  expect_error<RemoteProtocolError>([&] { run(io, client.post(post_server->url(), "b")); },
                                    "without answering");
  EXPECT_EQ(post_server->accepted(), 1);
  post_server.reset();
  expect_clean(client, server);
}

TEST_F(FailureTest, ConnectionRefusedRaisesConnectError) {
  std::string url;
  {
    ScriptedServer closed([](int, int) { return true; });
    url = closed.url("/");
  }
  AsyncClient client(io.get_executor(), options);
  expect_error<ConnectError>([&] { run(io, client.get(url)); }, "ConnectError: cannot connect for " + url);
  EXPECT_EQ(client.pool_stats(parse_url(url).origin()).leased, 0u);
  EXPECT_EQ(count_open_fds(), baseline_fds);
  expect_usable(client);
}

TEST_F(FailureTest, PoolExhaustionRaisesPoolTimeout) {
  auto server = std::make_unique<ScriptedServer>(answer_all(ok_hello));
  options.limits.max_connections = 1;
  AsyncClient client(io.get_executor(), options);
  auto url = server->url("/x");
  auto held = std::make_shared<StreamedResponse>(run(io, client.stream("GET", url)));
  expect_error<PoolTimeout>([&] { run(io, client.get(url)); },
                            "PoolTimeout: no free pooled connection for " + url + " within 0.15 s");
  EXPECT_EQ(client.pool_stats(server->origin()).waiting, 0u);
  held.reset();  // unread body: the connection is closed, the slot freed
  EXPECT_EQ(run(io, client.get(url)).body, "hello");
  expect_clean(client, server);
}

TEST_F(FailureTest, WriteStalledByAServerThatDoesNotReadRaisesWriteTimeout) {
  // Never reads: the request fills the socket buffers and the write stalls.
  std::atomic<bool> gave_up{false};
  auto server = std::make_unique<ScriptedServer>([&](int fd, int) {
    for (int i = 0; i < 300 && !gave_up; ++i) std::this_thread::sleep_for(10ms);
    return true;
  });
  AsyncClient client(io.get_executor(), options);
  expect_error<WriteTimeout>(
      [&] { run(io, client.post(server->url(), std::string(64 << 20, 'x'))); },
      "WriteTimeout: request not sent to");
  gave_up = true;
  expect_clean(client, server);
  expect_usable(client);
}

// A listener that never accepts, with its accept queue filled: a further
// connect gets no answer (the kernel drops its SYN) until it gives up.
class UnansweredListener {
 public:
  UnansweredListener() {
    listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof address);
    ::listen(listener_, 0);
    socklen_t length = sizeof address;
    ::getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
    for (int i = 0; i < 8; ++i) {
      int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
      fillers_.push_back(fd);
      ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
      pollfd p{fd, POLLOUT, 0};
      if (::poll(&p, 1, 100) == 0) break;  // this one got no answer: the queue is full
    }
  }
  ~UnansweredListener() {
    for (int fd : fillers_) ::close(fd);
    ::close(listener_);
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/"; }

 private:
  int listener_ = -1;
  std::uint16_t port_ = 0;
  std::vector<int> fillers_;
};

TEST_F(FailureTest, UnansweredConnectRaisesConnectTimeout) {
  AsyncClient client(io.get_executor(), options);
  {
    UnansweredListener listener;
    auto url = listener.url();
    auto started = std::chrono::steady_clock::now();
    expect_error<ConnectTimeout>([&] { run(io, client.get(url)); },
                                 "ConnectTimeout: no connection for " + url + " within 0.15 s");
    EXPECT_LT(std::chrono::steady_clock::now() - started, 1s);
    EXPECT_EQ(client.pool_stats(parse_url(url).origin()).leased, 0u);
  }
  EXPECT_EQ(count_open_fds(), baseline_fds);
  expect_usable(client);
}

TEST_F(FailureTest, CancellingAnUnansweredConnectAbortsIt) {
  options.timeouts = Timeouts::all(5s);
  AsyncClient client(io.get_executor(), options);
  {
    UnansweredListener listener;
    expect_aborted(cancelled_after(io, client.get(listener.url()), 50ms));
    EXPECT_EQ(client.pool_stats(parse_url(listener.url()).origin()).leased, 0u);
  }
  EXPECT_EQ(count_open_fds(), baseline_fds);
}

TEST_F(FailureTest, ShorterTimeoutOnAConnectionThatWaitedLongerStillApplies) {
  // The second request reuses the connection whose first waits were bounded
  // by 5 s; its own 150 ms limit is the one that counts.
  auto server = std::make_unique<ScriptedServer>([](int fd, int) {
    read_request(fd);
    send_all(fd, ok_hello);
    read_request(fd);
    wait_for_close(fd);
    return true;
  });
  options.timeouts = Timeouts::all(5s);
  AsyncClient client(io.get_executor(), options);
  RequestOptions quick;
  quick.timeouts = Timeouts::all(150ms);
  auto url = server->url();
  auto started = std::chrono::steady_clock::now();
  expect_error<ReadTimeout>(
      [&] {
        run(io, [&]() -> awaitable<int> {
          EXPECT_EQ((co_await client.get(url)).body, "hello");
          co_await client.get(url, quick);
          co_return 0;
        }());
      },
      "within 0.15 s");
  EXPECT_LT(std::chrono::steady_clock::now() - started, 1s);
  EXPECT_EQ(server->accepted(), 1);
  expect_clean(client, server);
}

TEST_F(FailureTest, OnlyTheStalledOfTwoConcurrentRequestsTimesOut) {
  // The first connection the server accepts never answers; the second does.
  auto server = std::make_unique<ScriptedServer>([](int fd, int index) {
    if (index == 0) {
      read_request(fd);
      wait_for_close(fd);
    } else {
      while (!read_request(fd).empty()) send_all(fd, ok_hello);
    }
    return true;
  });
  AsyncClient client(io.get_executor(), options);
  std::vector<awaitable<Response>> calls;
  calls.push_back(client.get(server->url()));
  calls.push_back(client.get(server->url()));
  auto outcomes = run(io, gather_settled(std::move(calls)));
  int answered = 0, timed_out = 0;
  for (auto& outcome : outcomes) {
    try {
      answered += value_of(outcome).body == "hello";
    } catch (const ReadTimeout&) {
      ++timed_out;
    }
  }
  EXPECT_EQ(answered, 1);
  EXPECT_EQ(timed_out, 1);
  expect_clean(client, server);
}

TEST_F(FailureTest, BodyTricklingWithinTheReadTimeoutIsNotCutOff) {
  // Each read is bounded, not the whole body: ten bytes 50 ms apart take
  // 500 ms against a 150 ms read timeout.
  auto server = std::make_unique<ScriptedServer>([](int fd, int) {
    read_request(fd);
    send_all(fd, "HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\n");
    for (char c = '0'; c <= '9'; ++c) {
      std::this_thread::sleep_for(50ms);
      send_all(fd, std::string(1, c));
    }
    wait_for_close(fd);
    return true;
  });
  AsyncClient client(io.get_executor(), options);
  EXPECT_EQ(run(io, client.get(server->url())).body, "0123456789");
  expect_clean(client, server);
}

TEST_F(FailureTest, CancellingARequestWaitingForTheResponseAbortsIt) {
  auto server = std::make_unique<ScriptedServer>([](int fd, int) {
    read_request(fd);
    wait_for_close(fd);
    return true;
  });
  options.timeouts = Timeouts::all(5s);
  AsyncClient client(io.get_executor(), options);
  expect_aborted(cancelled_after(io, client.get(server->url()), 50ms));
  expect_clean(client, server);
  expect_usable(client);
}

TEST_F(FailureTest, CancellingAStalledWriteAbortsIt) {
  std::atomic<bool> gave_up{false};
  auto server = std::make_unique<ScriptedServer>([&](int fd, int) {
    for (int i = 0; i < 300 && !gave_up; ++i) std::this_thread::sleep_for(10ms);
    return true;
  });
  options.timeouts = Timeouts::all(5s);
  AsyncClient client(io.get_executor(), options);
  expect_aborted(cancelled_after(io, client.post(server->url(), std::string(64 << 20, 'x')), 50ms));
  gave_up = true;
  expect_clean(client, server);
  expect_usable(client);
}

TEST_F(FailureTest, CancellingARequestWaitingForThePoolAbortsIt) {
  auto server = std::make_unique<ScriptedServer>(answer_all(ok_hello));
  options.limits.max_connections = 1;
  options.timeouts = Timeouts::all(5s);
  AsyncClient client(io.get_executor(), options);
  auto url = server->url();
  auto held = std::make_shared<StreamedResponse>(run(io, client.stream("GET", url)));
  expect_aborted(cancelled_after(io, client.get(url), 50ms));
  EXPECT_EQ(client.pool_stats(server->origin()).waiting, 0u);
  held.reset();
  EXPECT_EQ(run(io, client.get(url)).body, "hello");
  expect_clean(client, server);
}

}  // namespace
}  // namespace csgi::client
