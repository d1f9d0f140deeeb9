// The threaded server end to end over real sockets: concurrency of sync apps,
// a loop per request for async apps, failures that stay contained, 503 when
// every thread is busy, keep-alive, lifespan, graceful shutdown, and the
// acceptor's heartbeat under a supervisor.
#include "servers/threaded/threaded_server.hpp"

#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <memory>

#include <gtest/gtest.h>

#include "servers/background_server.hpp"
#include "servers/logging.hpp"
#include "tests/servers/accept_queue.hpp"
#include "tests/servers/threaded/http.hpp"

namespace csgi::servers {
namespace {

using namespace std::chrono_literals;
using threaded::test::Response;
using threaded::test::TestClient;
using Clock = std::chrono::steady_clock;

Config test_config(std::size_t threads) {
  Config config;
  config.port = 0;
  config.threads = threads;
  config.access_log = false;
  config.lifespan = LifespanMode::off;
  config.timeout_keep_alive = 2s;
  config.timeout_graceful_shutdown = 2s;
  return config;
}

wsgi::Body text(wsgi::StartResponse& start_response, std::string body, int status = 200) {
  start_response(status, {{"content-type", "text/plain"}});
  return body;
}

// /sleep requests the app has started, for tests to wait on.
std::atomic<int> sleeps_started{0};

// A sync app: /sleep?ms=N blocks N ms, /throw throws, anything else says "ok".
Application sync_app() {
  sleeps_started = 0;
  return Application::from_sync("test-sync", [](wsgi::Environ& environ, wsgi::StartResponse& sr) {
    if (environ.path_info == "/throw") throw std::runtime_error("the app failed");
    if (environ.path_info == "/sleep") {
      ++sleeps_started;
      std::this_thread::sleep_for(std::chrono::milliseconds(std::stoi(environ.query_string.substr(3))));
    }
    return text(sr, "ok");
  });
}

// Waits until `condition` holds (true), or 5 s have passed (false).
template <class Condition>
bool wait_until(Condition condition) {
  auto deadline = Clock::now() + 5s;
  while (!condition()) {
    if (Clock::now() > deadline) return false;
    std::this_thread::yield();
  }
  return true;
}

// Waits until every connection made to `port` so far has been accepted.
bool all_accepted(std::uint16_t port) {
  return wait_until([&] { return testing::accept_queue_length(port) == 0; });
}

// Connects to `port`, and says so once the connection is made.
std::future<Response> get_in_background(std::uint16_t port, std::string target,
                                        std::promise<void>& connected) {
  return std::async(std::launch::async, [port, target, &connected] {
    TestClient client(port);
    connected.set_value();
    return client.get(target);
  });
}

// Runs `count` GETs of `target` at once, each on its own connection.
std::vector<Response> get_concurrently(std::uint16_t port, const std::string& target, int count) {
  std::vector<std::future<Response>> futures;
  for (int i = 0; i < count; ++i)
    futures.push_back(std::async(std::launch::async, [&] { return TestClient(port).get(target); }));
  std::vector<Response> responses;
  for (auto& future : futures) responses.push_back(future.get());
  return responses;
}

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

class ThreadedServerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { setup_logging("critical", false); }
};

TEST_F(ThreadedServerTest, ServesASyncApp) {
  BackgroundServer server(threaded_server_factory(), test_config(2), sync_app());
  TestClient client(server.port());
  Response response = client.get("/");
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, "ok");
}

TEST_F(ThreadedServerTest, TwentyBlockingRequestsRunConcurrently) {
  BackgroundServer server(threaded_server_factory(), test_config(32), sync_app());
  auto start = Clock::now();
  auto responses = get_concurrently(server.port(), "/sleep?ms=500", 20);
  double elapsed = seconds_since(start);
  for (const auto& response : responses) EXPECT_EQ(response.status, 200);
  EXPECT_GE(elapsed, 0.5);
  EXPECT_LT(elapsed, 2.0) << "20 x 500 ms would take 10 s serialised";
}

TEST_F(ThreadedServerTest, KeepAliveConnectionServesSeveralRequests) {
  BackgroundServer server(threaded_server_factory(), test_config(1), sync_app());
  TestClient client(server.port());
  for (int i = 0; i < 3; ++i) EXPECT_EQ(client.get("/").status, 200);
}

TEST_F(ThreadedServerTest, PipelinedRequestsAnsweredInOrder) {
  BackgroundServer server(threaded_server_factory(), test_config(1), sync_app());
  TestClient client(server.port());
  client.send("GET /a HTTP/1.1\r\nHost: t\r\n\r\nGET /throw HTTP/1.1\r\nHost: t\r\n\r\n");
  EXPECT_EQ(client.read_response().status, 200);
  EXPECT_EQ(client.read_response().status, 500);
}

TEST_F(ThreadedServerTest, AppThatThrowsGets500AndTheServerKeepsServing) {
  BackgroundServer server(threaded_server_factory(), test_config(1), sync_app());
  {
    TestClient client(server.port());
    EXPECT_EQ(client.get("/throw").status, 500);
    EXPECT_TRUE(client.closed_by_server(1s));
  }
  TestClient next(server.port());
  EXPECT_EQ(next.get("/").status, 200);
}

TEST_F(ThreadedServerTest, AllThreadsBusyGives503AfterTheBoundedWait) {
  BackgroundServer server(threaded_server_factory({.queue_capacity = 4, .queue_timeout = 100ms}), test_config(1), sync_app());
  auto busy = std::async(std::launch::async, [&] { return TestClient(server.port()).get("/sleep?ms=800"); });
  ASSERT_TRUE(wait_until([] { return sleeps_started == 1; }));  // the only thread is taken
  auto start = Clock::now();
  Response refused = TestClient(server.port()).get("/");
  EXPECT_EQ(refused.status, 503);
  EXPECT_GE(seconds_since(start), 0.09);
  EXPECT_LT(seconds_since(start), 0.6);
  EXPECT_EQ(busy.get().status, 200);
  EXPECT_EQ(TestClient(server.port()).get("/").status, 200);
}

TEST_F(ThreadedServerTest, IdleKeepAliveConnectionGivesItsThreadToAWaitingOne) {
  BackgroundServer server(threaded_server_factory({.queue_capacity = 4, .queue_timeout = 1s}), test_config(1), sync_app());
  TestClient idle(server.port());
  ASSERT_EQ(idle.get("/").status, 200);
  // The only thread now waits for idle's next request; a new client must not
  // wait for the keep-alive timeout (2 s) nor get 503.
  auto start = Clock::now();
  EXPECT_EQ(TestClient(server.port()).get("/").status, 200);
  EXPECT_LT(seconds_since(start), 0.5);
  EXPECT_TRUE(idle.closed_by_server(1s));
}

TEST_F(ThreadedServerTest, IdleConnectionClosedAfterKeepAliveTimeout) {
  Config config = test_config(1);
  config.timeout_keep_alive = 100ms;
  BackgroundServer server(threaded_server_factory(), config, sync_app());
  TestClient client(server.port());
  ASSERT_EQ(client.get("/").status, 200);
  auto start = Clock::now();
  EXPECT_TRUE(client.closed_by_server(2s));
  EXPECT_LT(seconds_since(start), 1.0);
}

TEST_F(ThreadedServerTest, IncompleteHeadClosedAfterHeadTimeout) {
  Config config = test_config(1);
  config.timeout_request_head = 100ms;
  BackgroundServer server(threaded_server_factory(), config, sync_app());
  TestClient client(server.port());
  client.send("GET / HTTP/1.1\r\nHost:");
  auto start = Clock::now();
  EXPECT_TRUE(client.closed_by_server(2s));
  EXPECT_LT(seconds_since(start), 1.0);
}

TEST_F(ThreadedServerTest, RequestBodyStreamsToTheApp) {
  auto echo = Application::from_sync("echo", [](wsgi::Environ& environ, wsgi::StartResponse& sr) {
    return text(sr, "got " + environ.input->read());
  });
  BackgroundServer server(threaded_server_factory(), test_config(1), echo);
  TestClient client(server.port());
  client.send("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\n01234");
  std::this_thread::sleep_for(20ms);
  client.send("56789");
  Response response = client.read_response();
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, "got 0123456789");
}

TEST_F(ThreadedServerTest, BodyOfOneChunkGetsAContentLength) {
  auto one = Application::from_sync("one", [](wsgi::Environ&, wsgi::StartResponse& sr) {
    sr(200, {});
    return wsgi::Body("hello");
  });
  BackgroundServer server(threaded_server_factory(), test_config(1), one);
  TestClient client(server.port());
  Response response = client.get("/");
  EXPECT_EQ(response.status, 200);
  EXPECT_NE(response.head.find("content-length: 5"), std::string::npos) << response.head;
  EXPECT_EQ(response.head.find("chunked"), std::string::npos) << response.head;
  EXPECT_EQ(response.body, "hello");
}

TEST_F(ThreadedServerTest, GeneratedBodyOfOneChunkIsChunked) {
  auto generated = Application::from_sync("generated", [](wsgi::Environ&, wsgi::StartResponse& sr) {
    sr(200, {});
    auto sent = std::make_shared<bool>(false);
    return wsgi::Body::generate([sent]() -> std::optional<std::string> {
      if (std::exchange(*sent, true)) return std::nullopt;
      return "hello";
    });
  });
  BackgroundServer server(threaded_server_factory(), test_config(1), generated);
  TestClient client(server.port());
  Response response = client.get("/");
  EXPECT_NE(response.head.find("chunked"), std::string::npos) << response.head;
  EXPECT_EQ(response.body, "hello");
}

TEST_F(ThreadedServerTest, StreamedBodyIsChunked) {
  auto stream = Application::from_sync("stream", [](wsgi::Environ&, wsgi::StartResponse& sr) {
    sr(200, {});
    return wsgi::Body(std::vector<std::string>{"a", "b", "c"});
  });
  BackgroundServer server(threaded_server_factory(), test_config(1), stream);
  TestClient client(server.port());
  client.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n");
  Response response = client.read_response();
  EXPECT_EQ(response.status, 200);
  EXPECT_NE(response.head.find("chunked"), std::string::npos);
  EXPECT_EQ(response.body, "abc");
}

TEST_F(ThreadedServerTest, StreamedChunkIsSentBeforeTheNextIsProduced) {
  auto slow = Application::from_sync("slow-stream", [](wsgi::Environ&, wsgi::StartResponse& sr) {
    sr(200, {});
    auto step = std::make_shared<int>(0);
    return wsgi::Body::generate([step]() -> std::optional<std::string> {
      switch ((*step)++) {
        case 0: return "first";
        case 1: std::this_thread::sleep_for(400ms); return "second";
        default: return std::nullopt;
      }
    });
  });
  BackgroundServer server(threaded_server_factory(), test_config(1), slow);
  TestClient client(server.port());
  client.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n");
  EXPECT_TRUE(client.received("first", 300ms));
  EXPECT_EQ(client.read_response().body, "firstsecond");
}

// ---- async apps: a fresh loop per request -----------------------------------

namespace asio = boost::asio;

asgi::awaitable<void> sleep_for(std::chrono::milliseconds duration) {
  asio::steady_timer timer(co_await asio::this_coro::executor, duration);
  co_await timer.async_wait(asio::use_awaitable);
}

TEST_F(ThreadedServerTest, AsyncAppGathersOnItsOwnLoopPerRequest) {
  std::mutex mutex;
  std::set<std::thread::id> threads;
  auto app = Application::from_async(
      "gather", [&](asgi::Scope, asgi::Receive, asgi::Send send) -> asgi::awaitable<void> {
        {
          std::lock_guard lock(mutex);
          threads.insert(std::this_thread::get_id());
        }
        using namespace asio::experimental::awaitable_operators;
        co_await (sleep_for(200ms) && sleep_for(200ms) && sleep_for(200ms) && sleep_for(200ms) &&
                  sleep_for(200ms));
        co_await send(asgi::HttpResponseStart{200, {}, false});
        co_await send(asgi::HttpResponseBody{"gathered", false});
      });
  BackgroundServer server(threaded_server_factory(), test_config(8), app);
  auto start = Clock::now();
  auto responses = get_concurrently(server.port(), "/", 4);
  double elapsed = seconds_since(start);
  for (const auto& response : responses) EXPECT_EQ(response.body, "gathered");
  EXPECT_GE(elapsed, 0.2);
  EXPECT_LT(elapsed, 0.7) << "5 x 200 ms timers gathered, 4 requests at once";
  EXPECT_EQ(threads.size(), 4u) << "each concurrent request runs on its own thread and loop";
}

TEST_F(ThreadedServerTest, WorkAnAsyncRequestLeavesBehindNeverRunsInTheNextOne) {
  // /leave spawns a task that would count after 30 ms and answers at once;
  // /count, next on the same connection and thread, waits 100 ms and answers
  // the count: had the loop been shared, the task would have counted by then.
  std::atomic<int> counted{0};
  auto app = Application::from_async(
      "leftover", [&](asgi::Scope scope, asgi::Receive, asgi::Send send) -> asgi::awaitable<void> {
        auto executor = co_await asio::this_coro::executor;
        if (scope.path == "/leave") {
          asio::co_spawn(
              executor,
              [&]() -> asgi::awaitable<void> {
                co_await sleep_for(30ms);
                ++counted;
              },
              asio::detached);
        } else {
          co_await sleep_for(100ms);
        }
        co_await send(asgi::HttpResponseStart{200, {}, false});
        co_await send(asgi::HttpResponseBody{std::to_string(counted.load()), false});
      });
  BackgroundServer server(threaded_server_factory(), test_config(1), app);
  TestClient client(server.port());
  EXPECT_EQ(client.get("/leave").body, "0");
  EXPECT_EQ(client.get("/count").body, "0");
  EXPECT_EQ(client.get("/count").body, "0");
  EXPECT_EQ(counted.load(), 0);
}

TEST_F(ThreadedServerTest, AsyncAppThatThrowsGets500) {
  auto app = Application::from_async("throws", [](asgi::Scope, asgi::Receive, asgi::Send) -> asgi::awaitable<void> {
    throw std::runtime_error("async failure");
    co_return;
  });
  BackgroundServer server(threaded_server_factory(), test_config(1), app);
  EXPECT_EQ(TestClient(server.port()).get("/").status, 500);
  EXPECT_EQ(TestClient(server.port()).get("/").status, 500);
}

// ---- lifespan and shutdown ---------------------------------------------------

TEST_F(ThreadedServerTest, LifespanStateReachesSyncRequests) {
  auto app = Application::from_async(
      "lifespan", [](asgi::Scope scope, asgi::Receive receive, asgi::Send send) -> asgi::awaitable<void> {
        if (scope.type == asgi::ScopeType::lifespan) {
          co_await receive();
          scope.state->set<std::string>("greeting", "from startup");
          co_await send(asgi::LifespanStartupComplete{});
          co_await receive();
          co_await send(asgi::LifespanShutdownComplete{});
          co_return;
        }
        auto greeting = scope.state ? scope.state->get<std::string>("greeting") : nullptr;
        co_await send(asgi::HttpResponseStart{200, {}, false});
        co_await send(asgi::HttpResponseBody{greeting ? *greeting : "none", false});
      });
  Config config = test_config(1);
  config.lifespan = LifespanMode::on;
  BackgroundServer server(threaded_server_factory(), config, app);
  EXPECT_EQ(TestClient(server.port()).get("/").body, "from startup");
  server.stop();
  EXPECT_EQ(server.wait(), 0);
}

TEST_F(ThreadedServerTest, FailedLifespanStartupRefusesToServe) {
  auto app = Application::from_async(
      "fails", [](asgi::Scope scope, asgi::Receive receive, asgi::Send send) -> asgi::awaitable<void> {
        co_await receive();
        co_await send(asgi::LifespanStartupFailed{"no database"});
      });
  Config config = test_config(1);
  config.lifespan = LifespanMode::on;
  BackgroundServer server(threaded_server_factory(), config, app);
  EXPECT_FALSE(server.serving());
  EXPECT_EQ(server.wait(), 3);
}

TEST_F(ThreadedServerTest, GracefulShutdownFinishesTheRequestInFlight) {
  BackgroundServer server(threaded_server_factory(), test_config(2), sync_app());
  auto idle_client = std::make_unique<TestClient>(server.port());
  TestClient& idle = *idle_client;
  ASSERT_EQ(idle.get("/").status, 200);
  auto in_flight =
      std::async(std::launch::async, [&] { return TestClient(server.port()).get("/sleep?ms=300"); });
  ASSERT_TRUE(wait_until([] { return sleeps_started == 1; }));
  auto start = Clock::now();
  server.stop();
  Response finished = in_flight.get();
  EXPECT_EQ(finished.status, 200);
  EXPECT_NE(finished.head.find("connection: close"), std::string::npos) << finished.head;
  // The idle keep-alive connection was left open: its next request is
  // answered, as the last one.
  Response last = idle.get("/");
  EXPECT_EQ(last.status, 200);
  EXPECT_NE(last.head.find("connection: close"), std::string::npos) << last.head;
  EXPECT_TRUE(idle.closed_by_server(100ms));
  idle_client.reset();  // the server lingers until its client has closed too
  EXPECT_EQ(server.wait(), 0);
  EXPECT_GE(seconds_since(start), 0.1);
  EXPECT_LT(seconds_since(start), 1.5);
}

TEST_F(ThreadedServerTest, GracefulShutdownServesConnectionsWaitingForAThread) {
  BackgroundServer server(threaded_server_factory(), test_config(1), sync_app());
  auto in_flight =
      std::async(std::launch::async, [&] { return TestClient(server.port()).get("/sleep?ms=300"); });
  ASSERT_TRUE(wait_until([] { return sleeps_started == 1; }));  // the only thread is taken
  std::promise<void> connected;
  auto waiting = get_in_background(server.port(), "/", connected);
  connected.get_future().wait();
  ASSERT_TRUE(all_accepted(server.port()));  // accepted, queued for the thread
  server.stop();
  EXPECT_EQ(server.wait(), 0);
  EXPECT_EQ(in_flight.get().status, 200);
  EXPECT_EQ(waiting.get().status, 200);
}

TEST_F(ThreadedServerTest, ConnectionWhoseRequestIsOnTheWayKeepsItsThreadFromAWaitingOne) {
  BackgroundServer server(threaded_server_factory(), test_config(1), sync_app());
  auto busy =
      std::async(std::launch::async, [&] { return TestClient(server.port()).get("/sleep?ms=200"); });
  ASSERT_TRUE(wait_until([] { return sleeps_started == 1; }));
  TestClient late(server.port());  // connected; its request follows
  ASSERT_TRUE(all_accepted(server.port()));
  std::promise<void> connected;
  auto waiting = get_in_background(server.port(), "/", connected);
  connected.get_future().wait();
  ASSERT_TRUE(all_accepted(server.port()));
  // The thread frees up and takes `late`, queued first, before `waiting`;
  // `late` is a slow client: its request comes a while after.
  EXPECT_EQ(busy.get().status, 200);
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(late.get("/").status, 200);
  EXPECT_EQ(waiting.get().status, 200);
}

TEST_F(ThreadedServerTest, GracefulShutdownServesAConnectionWhoseRequestIsOnTheWay) {
  BackgroundServer server(threaded_server_factory(), test_config(2), sync_app());
  TestClient late(server.port());
  ASSERT_TRUE(all_accepted(server.port()));  // accepted and handed to a thread
  server.stop();
  EXPECT_EQ(late.get("/").status, 200);
  EXPECT_EQ(server.wait(), 0);
}

// Hooks that count beats and can wait for a number of them.
class CountingHooks final : public WorkerHooks {
 public:
  std::optional<std::chrono::milliseconds> heartbeat_interval() const override { return 5ms; }
  void beat() override {
    std::lock_guard lock(mutex_);
    ++beats_;
    changed_.notify_all();
  }
  bool wait_for_beats(int count) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, 5s, [&] { return beats_ >= count; });
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  int beats_ = 0;
};

TEST_F(ThreadedServerTest, AcceptorBeatsOnEveryIntervalWhileNothingArrives) {
  CountingHooks hooks;
  BackgroundServer server(threaded_server_factory(), test_config(1), sync_app(), &hooks);
  // Nothing arrives: only the heartbeat bounds the acceptor's waits.
  EXPECT_TRUE(hooks.wait_for_beats(5));
  server.stop();
  EXPECT_EQ(server.wait(), 0);
}

TEST_F(ThreadedServerTest, ShutdownTimeoutAbortsStuckConnections) {
  Config config = test_config(1);
  config.timeout_graceful_shutdown = 100ms;
  BackgroundServer server(threaded_server_factory(), config, sync_app());
  auto stuck = std::async(std::launch::async, [&] { return TestClient(server.port()).get("/sleep?ms=600"); });
  ASSERT_TRUE(wait_until([] { return sleeps_started == 1; }));
  auto start = Clock::now();
  server.stop();
  server.wait();
  EXPECT_LT(seconds_since(start), 1.5);
  EXPECT_EQ(stuck.get().status, 0) << "the stuck request's socket was shut down";
}

}  // namespace
}  // namespace csgi::servers
