// asgi_to_wsgi: an async app driven by hand, as a sync server would.
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <thread>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <gmock/gmock.h>

#include "gateway/adapters.hpp"
#include "tests/gateway/stubs.hpp"

namespace csgi {
namespace {

using test::SyncServerStub;
using test::Transcript;
using test::what;
using ::testing::ElementsAre;

asgi::awaitable<void> send_start(const asgi::Send& send, int status = 200) {
  co_await send(asgi::HttpResponseStart{status, {{"content-type", "text/plain"}}, false});
}

TEST(AsgiToWsgi, ResponseChunksAreHandedOverOneAtATimeAsTheServerPulls) {
  Transcript log;
  asgi::App app = [&](asgi::Scope, asgi::Receive, asgi::Send send) -> asgi::awaitable<void> {
    co_await send_start(send);
    for (std::string chunk : {"a", "b"}) {
      co_await send(asgi::HttpResponseBody{chunk, true});
      log.add("sent " + chunk);
    }
    co_await send(asgi::HttpResponseBody{"c", false});
    log.add("sent c");
  };
  SyncServerStub server;
  wsgi::Body body = server.call(asgi_to_wsgi(app));
  EXPECT_THAT(server.statuses, ElementsAre(200));
  EXPECT_EQ(server.headers, (Headers{{"content-type", "text/plain"}}));
  while (auto chunk = body.next()) log.add("pulled " + *chunk);
  body.close();
  // send completes only once the server has pulled the chunk.
  EXPECT_THAT(log.lines(), ElementsAre("pulled a", "sent a", "pulled b", "sent b", "pulled c",
                                       "sent c"));
}

TEST(AsgiToWsgi, ServerBuiltScopeReachesTheAppAsItIs) {
  asgi::Scope seen;
  asgi::App app = [&](asgi::Scope scope, asgi::Receive receive,
                      asgi::Send send) -> asgi::awaitable<void> {
    seen = scope;
    auto request = std::get<asgi::HttpRequest>(co_await receive());
    co_await send_start(send);
    co_await send(asgi::HttpResponseBody{request.body, false});
  };
  wsgi::App sync = asgi_to_wsgi(app);
  const AsyncAppAsSync* direct = sync.target<AsyncAppAsSync>();
  ASSERT_NE(direct, nullptr) << "a sync server finds the direct entry";
  asgi::Scope scope;
  scope.method = "POST";
  scope.path = "/caf\xC3\xA9";
  scope.raw_path = "/caf%C3%A9";
  scope.headers = {{"content-length", "2"}};
  SyncServerStub server("hi");
  wsgi::Body body = (*direct)(std::move(scope), server.environ.input, server.start_response);
  EXPECT_EQ(body.next(), "hi");
  body.close();
  EXPECT_EQ(seen.method, "POST");
  EXPECT_EQ(seen.path, "/caf\xC3\xA9");
  EXPECT_EQ(seen.raw_path, "/caf%C3%A9");
  EXPECT_THAT(server.statuses, ElementsAre(200));
}

TEST(AsgiToWsgi, RequestBodyArrivesInChunksOfAtMost64KiB) {
  std::vector<std::pair<std::size_t, bool>> events;
  bool disconnect_after_response = false;
  asgi::App app = [&](asgi::Scope, asgi::Receive receive,
                      asgi::Send send) -> asgi::awaitable<void> {
    for (bool more = true; more;) {
      auto request = std::get<asgi::HttpRequest>(co_await receive());
      events.emplace_back(request.body.size(), request.more_body);
      more = request.more_body;
    }
    co_await send_start(send);
    co_await send(asgi::HttpResponseBody{"done", false});
    disconnect_after_response =
        std::holds_alternative<asgi::HttpDisconnect>(co_await receive());
  };
  SyncServerStub server(std::string(150 * 1024, 'x'));
  wsgi::Body body = server.call(asgi_to_wsgi(app));
  EXPECT_EQ(body.next(), "done");
  EXPECT_EQ(body.next(), std::nullopt);
  EXPECT_THAT(events, ElementsAre(std::pair{65536u, true}, std::pair{65536u, true},
                                  std::pair{22528u, false}));
  EXPECT_TRUE(disconnect_after_response);
}

TEST(AsgiToWsgi, RequestBodyWithoutLengthEndsWithAnEmptyFinalEvent) {
  std::vector<std::pair<std::string, bool>> events;
  asgi::App app = [&](asgi::Scope, asgi::Receive receive,
                      asgi::Send send) -> asgi::awaitable<void> {
    for (bool more = true; more;) {
      auto request = std::get<asgi::HttpRequest>(co_await receive());
      events.emplace_back(request.body, request.more_body);
      more = request.more_body;
    }
    co_await send_start(send);
    co_await send(asgi::HttpResponseBody{"", false});
  };
  SyncServerStub server("hello", false);
  wsgi::Body body = server.call(asgi_to_wsgi(app));
  EXPECT_EQ(body.next(), std::nullopt);
  EXPECT_THAT(events, ElementsAre(std::pair{std::string("hello"), true},
                                  std::pair{std::string(""), false}));
}

TEST(AsgiToWsgi, ExceptionBeforeTheResponseStartsIsThrownFromTheCall) {
  asgi::App app = [](asgi::Scope, asgi::Receive, asgi::Send) -> asgi::awaitable<void> {
    throw std::runtime_error("boom");
    co_return;
  };
  SyncServerStub server;
  EXPECT_THROW(
      {
        try {
          server.call(asgi_to_wsgi(app));
        } catch (const std::runtime_error& e) {
          EXPECT_STREQ(e.what(), "boom");
          throw;
        }
      },
      std::runtime_error);
  EXPECT_TRUE(server.statuses.empty());
}

TEST(AsgiToWsgi, ExceptionAfterTheResponseStartedIsThrownFromNext) {
  asgi::App app = [](asgi::Scope, asgi::Receive, asgi::Send send) -> asgi::awaitable<void> {
    co_await send_start(send);
    co_await send(asgi::HttpResponseBody{"first", true});
    throw std::runtime_error("mid-body");
  };
  SyncServerStub server;
  wsgi::Body body = server.call(asgi_to_wsgi(app));
  EXPECT_EQ(body.next(), "first");
  std::exception_ptr error;
  try {
    body.next();
  } catch (...) {
    error = std::current_exception();
  }
  EXPECT_EQ(what(error), "mid-body");
  body.close();
}

TEST(AsgiToWsgi, AppReturningWithoutStartingAResponseIsAnError) {
  asgi::App app = [](asgi::Scope, asgi::Receive, asgi::Send) -> asgi::awaitable<void> {
    co_return;
  };
  SyncServerStub server;
  EXPECT_THROW(server.call(asgi_to_wsgi(app)), std::runtime_error);
}

TEST(AsgiToWsgi, AppReturningWithoutTheFinalBodyIsAnError) {
  asgi::App app = [](asgi::Scope, asgi::Receive, asgi::Send send) -> asgi::awaitable<void> {
    co_await send_start(send);
    co_await send(asgi::HttpResponseBody{"part", true});
  };
  SyncServerStub server;
  wsgi::Body body = server.call(asgi_to_wsgi(app));
  EXPECT_EQ(body.next(), "part");
  EXPECT_THROW(body.next(), std::runtime_error);
}

TEST(AsgiToWsgi, ClosingTheBodyEarlyCancelsTheAppAndItsSendSeesADisconnect) {
  Transcript log;
  asgi::App app = [&](asgi::Scope, asgi::Receive, asgi::Send send) -> asgi::awaitable<void> {
    co_await send_start(send);
    co_await send(asgi::HttpResponseBody{"a", true});
    try {
      co_await send(asgi::HttpResponseBody{"b", true});
    } catch (const asgi::ClientDisconnected&) {
      log.add("send threw ClientDisconnected");
      throw;
    }
    log.add("not reached");
  };
  SyncServerStub server;
  wsgi::Body body = server.call(asgi_to_wsgi(app));
  EXPECT_EQ(body.next(), "a");
  body.close();
  EXPECT_THAT(log.lines(), ElementsAre("send threw ClientDisconnected"));
}

TEST(AsgiToWsgi, ClosingTheBodyCancelsAnAppWaitingOnATimer) {
  Transcript log;
  asgi::App app = [&](asgi::Scope, asgi::Receive, asgi::Send send) -> asgi::awaitable<void> {
    co_await send_start(send);
    boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor,
                                    std::chrono::hours(1));
    try {
      co_await timer.async_wait(boost::asio::use_awaitable);
    } catch (const boost::system::system_error&) {
      log.add("timer cancelled");
      throw;
    }
  };
  SyncServerStub server;
  auto started = std::chrono::steady_clock::now();
  {
    wsgi::Body body = server.call(asgi_to_wsgi(app));
    // Destroying the body closes it.
  }
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(1));
  EXPECT_THAT(log.lines(), ElementsAre("timer cancelled"));
}

TEST(AsgiToWsgi, RefusesToRunOnAnEventLoopThread) {
  asgi::App app = [](asgi::Scope, asgi::Receive, asgi::Send send) -> asgi::awaitable<void> {
    co_await send_start(send);
    co_await send(asgi::HttpResponseBody{"", false});
  };
  SyncServerStub server;
  EventLoopThreadMark mark;
  EXPECT_THROW(server.call(asgi_to_wsgi(app)), NestedEventLoopError);
}

TEST(AsgiToWsgi, AsyncAppCallingASyncFormOfAnotherAsyncAppIsRefused) {
  asgi::App inner = [](asgi::Scope, asgi::Receive, asgi::Send send) -> asgi::awaitable<void> {
    co_await send_start(send);
    co_await send(asgi::HttpResponseBody{"", false});
  };
  std::string error;
  asgi::App outer = [&](asgi::Scope, asgi::Receive, asgi::Send send) -> asgi::awaitable<void> {
    SyncServerStub nested;
    try {
      nested.call(asgi_to_wsgi(inner));
    } catch (const NestedEventLoopError& e) {
      error = e.what();
    }
    co_await send_start(send);
    co_await send(asgi::HttpResponseBody{"", false});
  };
  SyncServerStub server;
  wsgi::Body body = server.call(asgi_to_wsgi(outer));
  EXPECT_EQ(body.next(), std::nullopt);
  EXPECT_THAT(error, ::testing::HasSubstr("event-loop thread"));
}

TEST(AsgiToWsgi, EnvironBecomesTheScope) {
  asgi::Scope seen;
  asgi::App app = [&](asgi::Scope scope, asgi::Receive,
                      asgi::Send send) -> asgi::awaitable<void> {
    seen = scope;
    co_await send_start(send);
    co_await send(asgi::HttpResponseBody{"", false});
  };
  SyncServerStub server;
  server.environ.request_method = "PUT";
  server.environ.path_info = "/x y";
  server.environ.raw_path = "/x%20y";
  server.environ.query_string = "q=1";
  server.environ.server_protocol = "HTTP/1.0";
  server.environ.extensions.http_response_trailers = true;
  server.call(asgi_to_wsgi(app)).close();
  EXPECT_EQ(seen.method, "PUT");
  EXPECT_EQ(seen.path, "/x y");
  EXPECT_EQ(seen.raw_path, "/x%20y");
  EXPECT_EQ(seen.query_string, "q=1");
  EXPECT_EQ(seen.http_version, "1.0");
  EXPECT_FALSE(seen.extensions.http_response_trailers);  // a sync body cannot carry them
}

TEST(AsgiToWsgi, AwaitsInsideTheAppRunConcurrentlyOnThePrivateLoop) {
  // Two timers of 50 ms each, awaited together: about 50 ms, not 100.
  asgi::App app = [](asgi::Scope, asgi::Receive, asgi::Send send) -> asgi::awaitable<void> {
    auto executor = co_await boost::asio::this_coro::executor;
    boost::asio::steady_timer first(executor, std::chrono::milliseconds(50));
    boost::asio::steady_timer second(executor, std::chrono::milliseconds(50));
    int pending = 2;
    auto done = [&](auto) { --pending; };
    first.async_wait(done);
    second.async_wait(done);
    boost::asio::steady_timer poll(executor);
    while (pending > 0) {
      poll.expires_after(std::chrono::milliseconds(1));
      co_await poll.async_wait(boost::asio::use_awaitable);
    }
    co_await send_start(send);
    co_await send(asgi::HttpResponseBody{"", false});
  };
  SyncServerStub server;
  auto started = std::chrono::steady_clock::now();
  server.call(asgi_to_wsgi(app)).close();
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(95));
}

asgi::awaitable<void> set_after(std::chrono::milliseconds delay, std::shared_ptr<bool> flag) {
  boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor, delay);
  co_await timer.async_wait(boost::asio::use_awaitable);
  *flag = true;
}

TEST(AsgiToWsgi, WorkARequestLeavesInItsLoopIsDroppedNotRunByTheNextRequest) {
  // The first request leaves a task waiting 20 ms behind; the second, on the
  // same thread, runs for 60 ms: on a shared loop the task would wake in it.
  auto woke = std::make_shared<bool>(false);
  std::weak_ptr<bool> left_behind = woke;
  asgi::App spawner = [&](asgi::Scope, asgi::Receive, asgi::Send send) -> asgi::awaitable<void> {
    boost::asio::co_spawn(co_await boost::asio::this_coro::executor,
                          set_after(std::chrono::milliseconds(20), std::exchange(woke, nullptr)),
                          boost::asio::detached);
    co_await send_start(send);
    co_await send(asgi::HttpResponseBody{"", false});
  };
  bool second_done = false;
  asgi::App slow = [&](asgi::Scope, asgi::Receive, asgi::Send send) -> asgi::awaitable<void> {
    boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor,
                                    std::chrono::milliseconds(60));
    co_await timer.async_wait(boost::asio::use_awaitable);
    second_done = true;
    co_await send_start(send);
    co_await send(asgi::HttpResponseBody{"", false});
  };
  wsgi::LoopCache loops;  // as a threaded server lends each connection's
  SyncServerStub first;
  first.environ.loop_cache = &loops;
  first.call(asgi_to_wsgi(spawner)).close();
  // Ending the call destroyed the task, and with it the flag it would set.
  EXPECT_TRUE(left_behind.expired());
  EXPECT_EQ(loops.spare, nullptr) << "a loop with work left in it is not kept";
  SyncServerStub second;
  second.environ.loop_cache = &loops;
  second.call(asgi_to_wsgi(slow)).close();
  EXPECT_TRUE(second_done);
}

TEST(AsgiToWsgi, RequestsThatLeaveNothingBehindRunOneAfterAnotherOnAThread) {
  // Each request waits on a timer and spawns a task it waits for: a loop a
  // request left clean serves the next one just as a new loop would.
  std::vector<std::string> ran;
  asgi::App app = [&](asgi::Scope scope, asgi::Receive,
                      asgi::Send send) -> asgi::awaitable<void> {
    auto executor = co_await boost::asio::this_coro::executor;
    auto flag = std::make_shared<bool>(false);
    boost::asio::co_spawn(executor, set_after(std::chrono::milliseconds(0), flag),
                          boost::asio::detached);
    boost::asio::steady_timer timer(executor, std::chrono::milliseconds(5));
    co_await timer.async_wait(boost::asio::use_awaitable);
    ran.push_back(scope.path + (*flag ? " task done" : " task pending"));
    co_await send_start(send);
    co_await send(asgi::HttpResponseBody{"", false});
  };
  wsgi::LoopCache loops;
  boost::asio::io_context* first_loop = nullptr;
  for (std::string path : {"/1", "/2", "/3"}) {
    SyncServerStub server;
    server.environ.path_info = path;
    server.environ.loop_cache = &loops;
    server.call(asgi_to_wsgi(app)).close();
    ASSERT_NE(loops.spare, nullptr) << "a loop left clean goes back to the cache";
    if (!first_loop) first_loop = loops.spare.get();
    EXPECT_EQ(loops.spare.get(), first_loop) << "one loop serves every call";
  }
  EXPECT_THAT(ran, ElementsAre("/1 task done", "/2 task done", "/3 task done"));
}

int open_descriptors() {
  auto entries = std::filesystem::directory_iterator("/proc/self/fd");
  return static_cast<int>(std::distance(begin(entries), end(entries)));
}

TEST(AsgiToWsgi, AnAppThatAwaitsOnlyTheServerOpensNoDescriptors) {
  // Handing chunks over waits on the server alone, which needs no reactor in
  // the loop: no epoll instance, eventfd or timerfd, and no system call.
  int before = -1;
  int during = -1;
  asgi::App app = [&](asgi::Scope, asgi::Receive, asgi::Send send) -> asgi::awaitable<void> {
    co_await send_start(send);
    co_await send(asgi::HttpResponseBody{"a", true});
    during = open_descriptors();
    co_await send(asgi::HttpResponseBody{"b", false});
  };
  // A thread of its own, which has no loop kept from an earlier test.
  std::thread([&] {
    SyncServerStub server;
    before = open_descriptors();
    wsgi::Body body = server.call(asgi_to_wsgi(app));
    EXPECT_EQ(body.next(), "a");
    EXPECT_EQ(body.next(), "b");
    body.close();
  }).join();
  EXPECT_EQ(during, before);
}

// An empty request body whose disconnect watch is one end of a socket pair:
// the test plays the client on the other end.
class WatchedInput : public wsgi::InputStream {
 public:
  WatchedInput() { EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds_), 0); }
  ~WatchedInput() override {
    ::close(fds_[0]);
    if (fds_[1] >= 0) ::close(fds_[1]);
  }
  std::size_t read_some(std::span<char>) override { return 0; }
  int disconnect_fd() const override { return fds_[0]; }
  int peer_fd() const { return fds_[1]; }
  bool client_gone() override {
    ++gone_calls;
    char byte;
    return ::recv(fds_[0], &byte, 1, MSG_PEEK | MSG_DONTWAIT) == 0;
  }
  void client_closes() { ::close(std::exchange(fds_[1], -1)); }
  void client_sends(std::string_view bytes) {
    EXPECT_EQ(::write(fds_[1], bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
  }

  int gone_calls = 0;

 private:
  int fds_[2] = {-1, -1};
};

TEST(AsgiToWsgi, DisconnectWatchDeliversHttpDisconnectToAWaitingReceive) {
  WatchedInput input;
  bool saw_disconnect = false;
  asgi::App app = [&](asgi::Scope, asgi::Receive receive, asgi::Send) -> asgi::awaitable<void> {
    EXPECT_FALSE(std::get<asgi::HttpRequest>(co_await receive()).more_body);
    input.client_closes();  // while the app is about to wait for more
    saw_disconnect = std::holds_alternative<asgi::HttpDisconnect>(co_await receive());
  };
  SyncServerStub server;
  server.environ.input = &input;
  // The app then returns without a response, which the server hears as an error.
  EXPECT_THROW(server.call(asgi_to_wsgi(app)), std::runtime_error);
  EXPECT_TRUE(saw_disconnect);
  EXPECT_EQ(input.gone_calls, 1);
}

TEST(AsgiToWsgi, DisconnectWatchIgnoresBytesOfAPipelinedRequest) {
  using namespace boost::asio::experimental::awaitable_operators;
  WatchedInput input;
  bool timer_won = false;
  asgi::App app = [&](asgi::Scope, asgi::Receive receive,
                      asgi::Send send) -> asgi::awaitable<void> {
    co_await receive();
    input.client_sends("GET /next HTTP/1.1\r\n");
    boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor,
                                    std::chrono::milliseconds(30));
    auto first = co_await (receive() || timer.async_wait(boost::asio::use_awaitable));
    // The operators flatten receive()'s variant: the timer's result is the monostate.
    timer_won = std::holds_alternative<std::monostate>(first);
    co_await send_start(send);
    co_await send(asgi::HttpResponseBody{"", false});
  };
  SyncServerStub server;
  server.environ.input = &input;
  server.call(asgi_to_wsgi(app)).close();
  EXPECT_TRUE(timer_won);
  EXPECT_EQ(input.gone_calls, 1);  // readable once, then no longer watched
}

TEST(AsgiToWsgi, DisconnectWatchIsClosedWhenTheCallEnds) {
  using namespace boost::asio::experimental::awaitable_operators;
  auto input = std::make_unique<WatchedInput>();
  int peer = ::dup(input->peer_fd());
  asgi::App app = [&](asgi::Scope, asgi::Receive receive,
                      asgi::Send send) -> asgi::awaitable<void> {
    co_await receive();
    // Watched, and still watched once the timer wins.
    boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor,
                                    std::chrono::milliseconds(5));
    co_await (receive() || timer.async_wait(boost::asio::use_awaitable));
    co_await send_start(send);
    co_await send(asgi::HttpResponseBody{"", false});
  };
  SyncServerStub server;
  server.environ.input = input.get();
  server.call(asgi_to_wsgi(app)).close();
  input.reset();
  // The server's end is closed, and no duplicate of it is left open: the
  // client sees the end of the stream.
  char byte;
  EXPECT_EQ(::recv(peer, &byte, 1, MSG_DONTWAIT), 0);
  ::close(peer);
}

}  // namespace
}  // namespace csgi
