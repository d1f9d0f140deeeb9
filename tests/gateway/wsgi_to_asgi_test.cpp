// wsgi_to_asgi: a sync app driven by a hand-scripted async server.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <regex>
#include <thread>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <gmock/gmock.h>

#include "gateway/adapters.hpp"
#include "tests/gateway/stubs.hpp"

namespace csgi {
namespace {

using test::AsyncServerStub;
using test::what;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

wsgi::Body count_close(wsgi::Body body, std::atomic<int>& closes) {
  auto shared = std::make_shared<wsgi::Body>(std::move(body));
  return wsgi::Body::generate([shared] { return shared->next(); },
                              [shared, &closes] {
                                ++closes;
                                shared->close();
                              });
}

TEST(WsgiToAsgi, ResponseChunksAreSentOneAtATimeAsTheAppProducesThem) {
  SyncExecutor executor;
  AsyncServerStub server;
  auto chunks = std::make_shared<std::vector<std::string>>(std::vector<std::string>{"a", "b", "c"});
  wsgi::App app = [&](wsgi::Environ&, wsgi::StartResponse& start_response) {
    start_response(200, {{"Content-Type", "text/plain"}});
    auto index = std::make_shared<std::size_t>(0);
    return wsgi::Body::generate([&, index]() -> std::optional<std::string> {
      if (*index == chunks->size()) return std::nullopt;
      server.log.add("produce " + (*chunks)[*index]);
      return (*chunks)[(*index)++];
    });
  };
  EXPECT_EQ(test::run_async_app(wsgi_to_asgi(app, executor), server), nullptr);
  EXPECT_THAT(server.events(),
              ElementsAre("start 200", "body a more", "body b more", "body c more", "body  end"));
  // Interleaved: the app produces a chunk only after the previous one was sent.
  EXPECT_THAT(server.log.lines(),
              ElementsAre("produce a", "send start 200", "send body a more", "produce b",
                          "send body b more", "produce c", "send body c more", "send body  end"));
  auto* start = std::get_if<asgi::HttpResponseStart>(&server.sent[0]);
  ASSERT_NE(start, nullptr);
  EXPECT_EQ(start->headers, (Headers{{"content-type", "text/plain"}}));
}

// What the server is sent for a 200 whose body `make_body` makes.
std::vector<std::string> events_for(std::function<wsgi::Body()> make_body) {
  SyncExecutor executor;
  AsyncServerStub server;
  EXPECT_EQ(test::run_async_app(wsgi_to_asgi(test::returning(make_body), executor), server),
            nullptr);
  return server.events();
}

// The one chunk goes in the final body event, so the server's protocol layer
// frames it with a Content-Length rather than chunked.
TEST(WsgiToAsgi, BodyOfOneChunkIsSentAsTheWholeBody) {
  EXPECT_THAT(events_for([] { return wsgi::Body("hello"); }),
              ElementsAre("start 200", "body hello end"));
}

// A generator cannot tell that its chunk was the last: the response streams.
TEST(WsgiToAsgi, GeneratedBodyOfOneChunkStaysStreamed) {
  EXPECT_THAT(events_for([] { return test::generated({"hello"}); }),
              ElementsAre("start 200", "body hello more", "body  end"));
}

TEST(WsgiToAsgi, RequestBodyStreamsThroughTheBlockingInput) {
  SyncExecutor executor;
  AsyncServerStub server;
  server.incoming = {asgi::HttpRequest{"he", true}, asgi::HttpRequest{"", true},
                     asgi::HttpRequest{"llo", true}, asgi::HttpRequest{"", false}};
  wsgi::App app = [&](wsgi::Environ& environ, wsgi::StartResponse& start_response) {
    std::string body;
    char buffer[16];
    while (std::size_t n = environ.input->read_some(buffer)) {
      server.log.add("read " + std::string(buffer, n));
      body.append(buffer, n);
    }
    start_response(200, {});
    return wsgi::Body(body);
  };
  EXPECT_EQ(test::run_async_app(wsgi_to_asgi(app, executor), server), nullptr);
  EXPECT_THAT(server.log.lines(),
              ElementsAre("receive http.request", "read he", "receive http.request",
                          "receive http.request", "read llo", "receive http.request",
                          "send start 200", "send body hello end"));
}

TEST(WsgiToAsgi, HeadersAreHeldUntilTheFirstNonEmptyChunk) {
  SyncExecutor executor;
  AsyncServerStub server;
  wsgi::App app = [&](wsgi::Environ&, wsgi::StartResponse& start_response) {
    start_response(200, {});
    server.log.add("app returned");
    return wsgi::Body(std::vector<std::string>{"", "", "x"});
  };
  EXPECT_EQ(test::run_async_app(wsgi_to_asgi(app, executor), server), nullptr);
  // The last of the chunks: the whole body goes with the head.
  EXPECT_THAT(server.log.lines(),
              ElementsAre("app returned", "send start 200", "send body x end"));
}

TEST(WsgiToAsgi, ExcInfoReplacesTheResponseBeforeAnythingWasSent) {
  SyncExecutor executor;
  AsyncServerStub server;
  wsgi::App app = [](wsgi::Environ&, wsgi::StartResponse& start_response) {
    start_response(200, {{"x-first", "1"}});
    try {
      throw std::runtime_error("view failed");
    } catch (...) {
      start_response(500, {{"x-second", "1"}}, std::current_exception());
    }
    return wsgi::Body("oops");
  };
  EXPECT_EQ(test::run_async_app(wsgi_to_asgi(app, executor), server), nullptr);
  EXPECT_THAT(server.events(), ElementsAre("start 500", "body oops end"));
  EXPECT_EQ(std::get<asgi::HttpResponseStart>(server.sent[0]).headers,
            (Headers{{"x-second", "1"}}));
}

TEST(WsgiToAsgi, ExcInfoIsRethrownOnceTheHeadersWereSent) {
  SyncExecutor executor;
  AsyncServerStub server;
  wsgi::App app = [](wsgi::Environ&, wsgi::StartResponse& start_response) {
    wsgi::Write write = start_response(200, {});
    write("partial");
    try {
      throw std::runtime_error("view failed late");
    } catch (...) {
      start_response(500, {}, std::current_exception());
    }
    return wsgi::Body();
  };
  auto error = test::run_async_app(wsgi_to_asgi(app, executor), server);
  EXPECT_EQ(what(error), "view failed late");
  EXPECT_THAT(server.events(), ElementsAre("start 200", "body partial more"));
}

TEST(WsgiToAsgi, SecondStartResponseWithoutExcInfoIsAnError) {
  SyncExecutor executor;
  AsyncServerStub server;
  wsgi::App app = [](wsgi::Environ&, wsgi::StartResponse& start_response) {
    start_response(200, {});
    start_response(201, {});
    return wsgi::Body();
  };
  auto error = test::run_async_app(wsgi_to_asgi(app, executor), server);
  EXPECT_THAT(what(error), ::testing::HasSubstr("second time"));
  EXPECT_TRUE(server.sent.empty());
}

TEST(WsgiToAsgi, ExceptionBeforeTheResponseStartsReachesTheServerWithNothingSent) {
  SyncExecutor executor;
  AsyncServerStub server;
  wsgi::App app = [](wsgi::Environ&, wsgi::StartResponse&) -> wsgi::Body {
    throw std::runtime_error("boom");
  };
  EXPECT_EQ(what(test::run_async_app(wsgi_to_asgi(app, executor), server)), "boom");
  EXPECT_TRUE(server.sent.empty());
}

TEST(WsgiToAsgi, ExceptionAfterTheResponseStartedReachesTheServerAndBodyIsClosed) {
  SyncExecutor executor;
  AsyncServerStub server;
  std::atomic<int> closes = 0;
  wsgi::App app = [&](wsgi::Environ&, wsgi::StartResponse& start_response) {
    start_response(200, {});
    auto calls = std::make_shared<int>(0);
    return count_close(wsgi::Body::generate([calls]() -> std::optional<std::string> {
                         if ((*calls)++ == 0) return "first";
                         throw std::runtime_error("mid-body");
                       }),
                       closes);
  };
  EXPECT_EQ(what(test::run_async_app(wsgi_to_asgi(app, executor), server)), "mid-body");
  EXPECT_THAT(server.events(), ElementsAre("start 200", "body first more"));
  EXPECT_EQ(closes, 1);
}

TEST(WsgiToAsgi, BodyIsClosedAfterANormalEnd) {
  SyncExecutor executor;
  AsyncServerStub server;
  std::atomic<int> closes = 0;
  wsgi::App app = [&](wsgi::Environ&, wsgi::StartResponse& start_response) {
    start_response(204, {});
    return count_close(wsgi::Body(), closes);
  };
  EXPECT_EQ(test::run_async_app(wsgi_to_asgi(app, executor), server), nullptr);
  EXPECT_THAT(server.events(), ElementsAre("start 204", "body  end"));
  EXPECT_EQ(closes, 1);
}

TEST(WsgiToAsgi, ClientDisconnectStopsTheBodyAndClosesIt) {
  SyncExecutor executor;
  AsyncServerStub server;
  server.disconnect_at_body = 1;
  std::atomic<int> closes = 0;
  std::atomic<int> produced = 0;
  wsgi::App app = [&](wsgi::Environ&, wsgi::StartResponse& start_response) {
    start_response(200, {});
    return count_close(wsgi::Body::generate([&]() -> std::optional<std::string> {
                         return "chunk" + std::to_string(produced++);
                       }),
                       closes);
  };
  auto error = test::run_async_app(wsgi_to_asgi(app, executor), server);
  EXPECT_EQ(what(error), "client disconnected");
  EXPECT_THAT(server.events(), ElementsAre("start 200", "body chunk0 more"));
  EXPECT_EQ(produced, 2);  // the second chunk was refused, no third was asked for
  EXPECT_EQ(closes, 1);
}

TEST(WsgiToAsgi, WriteThrowsClientDisconnectedOnceTheClientIsGone) {
  SyncExecutor executor;
  AsyncServerStub server;
  server.disconnect_at_body = 0;
  std::atomic<bool> saw_disconnect = false;
  wsgi::App app = [&](wsgi::Environ&, wsgi::StartResponse& start_response) {
    wsgi::Write write = start_response(200, {});
    try {
      write("x");
    } catch (const asgi::ClientDisconnected&) {
      saw_disconnect = true;
      throw;
    }
    return wsgi::Body();
  };
  test::run_async_app(wsgi_to_asgi(app, executor), server);
  EXPECT_TRUE(saw_disconnect);
}

TEST(WsgiToAsgi, DisconnectWhileReadingTheBodyThrowsClientDisconnected) {
  SyncExecutor executor;
  AsyncServerStub server;
  server.incoming = {asgi::HttpRequest{"par", true}, asgi::HttpDisconnect{}};
  std::atomic<bool> saw_disconnect = false;
  wsgi::App app = [&](wsgi::Environ& environ, wsgi::StartResponse& start_response) {
    try {
      environ.input->read();
    } catch (const asgi::ClientDisconnected&) {
      saw_disconnect = true;
    }
    start_response(400, {});
    return wsgi::Body();
  };
  test::run_async_app(wsgi_to_asgi(app, executor), server);
  EXPECT_TRUE(saw_disconnect);
}

TEST(WsgiToAsgi, AppReturningWithoutStartResponseIsAnError) {
  SyncExecutor executor;
  AsyncServerStub server;
  wsgi::App app = [](wsgi::Environ&, wsgi::StartResponse&) { return wsgi::Body(); };
  auto error = test::run_async_app(wsgi_to_asgi(app, executor), server);
  EXPECT_THAT(what(error), ::testing::HasSubstr("without calling start_response"));
  EXPECT_TRUE(server.sent.empty());
}

TEST(WsgiToAsgi, LifespanScopeIsRefused) {
  SyncExecutor executor;
  AsyncServerStub server;
  wsgi::App app = [](wsgi::Environ&, wsgi::StartResponse&) { return wsgi::Body(); };
  asgi::Scope scope;
  scope.type = asgi::ScopeType::lifespan;
  auto error = test::run_async_app(wsgi_to_asgi(app, executor), server, scope);
  EXPECT_EQ(what(error), "scope type not supported");
}

TEST(WsgiToAsgi, ScopeBecomesTheEnviron) {
  SyncExecutor executor;
  AsyncServerStub server;
  asgi::Scope scope;
  scope.method = "POST";
  scope.path = "/a b";
  scope.raw_path = "/a%20b";
  scope.query_string = "x=1";
  scope.root_path = "/mount";
  scope.headers = {{"host", "example"}};
  wsgi::Environ seen;
  wsgi::App app = [&](wsgi::Environ& environ, wsgi::StartResponse& start_response) {
    seen = environ;
    start_response(200, {});
    return wsgi::Body();
  };
  test::run_async_app(wsgi_to_asgi(app, executor), server, scope);
  EXPECT_EQ(seen.request_method, "POST");
  EXPECT_EQ(seen.path_info, "/a b");
  EXPECT_EQ(seen.raw_path, "/a%20b");
  EXPECT_EQ(seen.query_string, "x=1");
  EXPECT_EQ(seen.script_name, "/mount");
  EXPECT_EQ(seen.server_protocol, "HTTP/1.1");
  EXPECT_EQ(seen.header("Host"), "example");
}

// Environ::multithread promises concurrent calls only where they can happen.
bool multithread_seen(std::size_t threads) {
  SyncExecutor executor(threads);
  AsyncServerStub server;
  std::atomic<bool> multithread = false;
  wsgi::App app = [&](wsgi::Environ& environ, wsgi::StartResponse& start_response) {
    multithread = environ.multithread;
    start_response(200, {});
    return wsgi::Body();
  };
  test::run_async_app(wsgi_to_asgi(app, executor), server);
  return multithread;
}

TEST(WsgiToAsgi, EnvironIsMultithreadOnlyWithSeveralExecutorThreads) {
  EXPECT_FALSE(multithread_seen(1));
  EXPECT_TRUE(multithread_seen(2));
}

// The sync app blocks until a timer on the loop fires: if the adapter blocked
// the loop while the app runs, the timer could never fire.
TEST(WsgiToAsgi, LoopKeepsRunningWhileTheSyncAppBlocks) {
  SyncExecutor executor;
  AsyncServerStub server;
  std::mutex mutex;
  std::condition_variable fired_cv;
  bool fired = false;
  wsgi::App app = [&](wsgi::Environ&, wsgi::StartResponse& start_response) {
    std::unique_lock lock(mutex);
    bool ok = fired_cv.wait_for(lock, std::chrono::seconds(2), [&] { return fired; });
    start_response(ok ? 200 : 504, {});
    return wsgi::Body();
  };
  boost::asio::io_context context;
  boost::asio::steady_timer timer(context, std::chrono::milliseconds(1));
  timer.async_wait([&](auto) {
    std::lock_guard lock(mutex);
    fired = true;
    fired_cv.notify_all();
  });
  boost::asio::co_spawn(context, wsgi_to_asgi(app, executor)({}, server.receive(), server.send()),
                        boost::asio::detached);
  context.run();
  EXPECT_THAT(server.events(), ElementsAre("start 200", "body  end"));
}

// Runs `calls` concurrent requests of `app` on one loop until all completed.
void serve_concurrently(const asgi::App& app, int calls) {
  boost::asio::io_context context;
  std::vector<std::unique_ptr<AsyncServerStub>> servers;
  for (int i = 0; i < calls; ++i) {
    servers.push_back(std::make_unique<AsyncServerStub>());
    boost::asio::co_spawn(context, app({}, servers.back()->receive(), servers.back()->send()),
                          boost::asio::detached);
  }
  context.run();
  for (auto& server : servers) EXPECT_EQ(server->sent.size(), 2u);
}

// Runs `calls` concurrent requests of an app that records how many of its
// calls overlap; returns the largest overlap seen.
int max_overlap(SyncExecutor& executor, int calls) {
  std::atomic<int> active = 0;
  std::atomic<int> most = 0;
  std::mutex mutex;
  std::condition_variable changed;
  wsgi::App app = [&](wsgi::Environ&, wsgi::StartResponse& start_response) {
    int now = ++active;
    for (int seen = most; now > seen && !most.compare_exchange_weak(seen, now);) {
    }
    {
      // Wait (briefly) for the others, so that parallel calls surely overlap.
      std::unique_lock lock(mutex);
      changed.notify_all();
      changed.wait_for(lock, std::chrono::milliseconds(20), [&] { return active == calls; });
    }
    --active;
    start_response(200, {});
    return wsgi::Body();
  };
  serve_concurrently(wsgi_to_asgi(app, executor), calls);
  return most;
}

TEST(WsgiToAsgi, OneThreadExecutorSerialisesCalls) {
  SyncExecutor executor(1);
  EXPECT_EQ(max_overlap(executor, 4), 1);
}

TEST(WsgiToAsgi, ExecutorWithNThreadsRunsNCallsInParallel) {
  SyncExecutor executor(4);
  EXPECT_EQ(max_overlap(executor, 4), 4);
}

// "Sync calls are queueing" (runtime/sync_queue_watch.hpp): the executors below
// warn after 50 ms; a call makes itself slow by sleeping.
constexpr auto queue_warning_after = std::chrono::milliseconds(50);

// A sync app whose first call holds the executor's one thread until the other
// `calls - 1` are queued, and every call then takes `duration`.
wsgi::App slow_app(SyncExecutor& executor, int calls, std::chrono::milliseconds duration) {
  auto started = std::make_shared<std::atomic<int>>(0);
  return [&executor, started, calls, duration](wsgi::Environ&,
                                               wsgi::StartResponse& start_response) {
    if ((*started)++ == 0) {
      while (executor.queue_watch().waiting() < std::size_t(calls - 1)) std::this_thread::yield();
    }
    std::this_thread::sleep_for(duration);
    start_response(200, {});
    return wsgi::Body();
  };
}

int warnings_in(const std::string& log) {
  int n = 0;
  for (auto at = log.find("Sync calls are queueing"); at != std::string::npos;
       at = log.find("Sync calls are queueing", at + 1))
    ++n;
  return n;
}

long waited_ms(const std::string& log) {
  std::smatch match;
  if (!std::regex_search(log, match, std::regex("waited ([0-9]+) ms"))) return -1;
  return std::stol(match[1]);
}

// The second call waits for the first and the third for both, but only the
// second reports: the episode lasts until no call is waiting.
TEST(SyncQueueWarning, QueueingCallsLogOneWarningNamingTheThreadsAndTheWait) {
  SyncExecutor executor(1, SyncScheduling::normal, queue_warning_after);
  testing::ErrorLogCapture log;
  auto app = slow_app(executor, 3, std::chrono::milliseconds(100));
  serve_concurrently(wsgi_to_asgi(app, executor), 3);
  const std::string text = log.text();
  EXPECT_EQ(warnings_in(text), 1) << text;
  EXPECT_THAT(text, HasSubstr("for one of the 1 sync thread(s), with 1 call(s) still waiting"));
  EXPECT_THAT(text, HasSubstr("Remedies: more threads (--threads), more workers (--workers)"));
  EXPECT_GE(waited_ms(text), 50) << text;
}

// Router sync views queue through run_sync: the same watch, the same warning.
TEST(SyncQueueWarning, SecondEpisodeAfterTheQueueDrainedWarnsAgain) {
  SyncExecutor executor(1, SyncScheduling::normal, queue_warning_after);
  testing::ErrorLogCapture log;
  auto slow_call = [] { std::this_thread::sleep_for(std::chrono::milliseconds(100)); };
  for (int episode = 1; episode <= 2; ++episode) {
    boost::asio::io_context context;
    for (int i = 0; i < 3; ++i)
      boost::asio::co_spawn(context, run_sync(executor, slow_call), boost::asio::detached);
    context.run();
    EXPECT_EQ(executor.queue_watch().waiting(), 0u);
    EXPECT_EQ(warnings_in(log.text()), episode) << log.text();
  }
}

TEST(SyncQueueWarning, CallsThatWaitLessThanTheThresholdLogNothing) {
  SyncExecutor executor(1, SyncScheduling::normal, std::chrono::milliseconds(1000));
  testing::ErrorLogCapture log;
  auto app = slow_app(executor, 3, std::chrono::milliseconds(20));
  serve_concurrently(wsgi_to_asgi(app, executor), 3);
  EXPECT_EQ(log.text(), "");
}

// Nothing watches a waiting call: while the one thread is held, the call
// queued behind it has waited past the threshold and nothing is logged yet.
// It is reported once it starts.
TEST(SyncQueueWarning, CallBehindAHeldThreadIsReportedOnlyWhenItStarts) {
  SyncExecutor executor(1, SyncScheduling::normal, queue_warning_after);
  testing::ErrorLogCapture log;
  std::string logged_while_held = "(not run)";
  std::atomic<int> started = 0;
  wsgi::App app = [&](wsgi::Environ&, wsgi::StartResponse& start_response) {
    if (started++ == 0) {
      while (executor.queue_watch().waiting() < 1) std::this_thread::yield();
      std::this_thread::sleep_for(3 * queue_warning_after);
      logged_while_held = log.text();
    }
    start_response(200, {});
    return wsgi::Body();
  };
  serve_concurrently(wsgi_to_asgi(app, executor), 2);
  EXPECT_EQ(logged_while_held, "");
  EXPECT_EQ(warnings_in(log.text()), 1) << log.text();
  EXPECT_THAT(log.text(), HasSubstr("with 0 call(s) still waiting"));
}

// A server builds its executor whatever the app; only a sync app needs its
// threads, and a process without them skips the C library's thread-safety costs.
TEST(SyncExecutorTest, ThreadsStartWhenAnAppIsFirstAdapted) {
  auto threads_of_this_process = [] {
    std::size_t n = 0;
    for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator("/proc/self/task")) ++n;
    return n;
  };
  const std::size_t before = threads_of_this_process();
  SyncExecutor executor(3);
  EXPECT_EQ(threads_of_this_process(), before);
  asgi::App app = wsgi_to_asgi(test::returning([] { return wsgi::Body("hi"); }), executor);
  EXPECT_EQ(threads_of_this_process(), before + 3);
}

}  // namespace
}  // namespace csgi

namespace csgi {
namespace {

// A thread that stays held until release(): a sync view waiting on its own
// server, say.
struct HeldThread {
  std::mutex mutex;
  std::condition_variable changed;
  bool held = false, released = false;

  void hold() {
    std::unique_lock lock(mutex);
    held = true;
    changed.notify_all();
    changed.wait(lock, [&] { return released; });
  }
  void wait_until_held() {
    std::unique_lock lock(mutex);
    changed.wait(lock, [&] { return held; });
  }
  void release() {
    std::lock_guard lock(mutex);
    released = true;
    changed.notify_all();
  }
};

TEST(RunSync, ACallWhoseOnlyThreadIsHeldByItsCallerIsRefusedAtOnce) {
  SyncExecutor executor(1);
  testing::ErrorLogCapture log;
  HeldThread caller_thread;
  TraceContext caller = TraceContext::for_request(std::nullopt);
  boost::asio::io_context context;
  boost::asio::co_spawn(context, run_sync(executor, [&] { caller_thread.hold(); }, {caller, "GET", "/outer"}),
                        boost::asio::detached);
  std::thread loop([&] { context.run(); });
  caller_thread.wait_until_held();

  boost::asio::io_context inner;
  std::exception_ptr refused;
  bool ran = false;
  TraceContext call = TraceContext::for_request(caller.traceparent());
  boost::asio::co_spawn(inner, run_sync(executor, [&] { ran = true; }, {call, "GET", "/api/"}),
                        [&](std::exception_ptr error) { refused = error; });
  inner.run();  // returns once the call is answered: at once
  caller_thread.release();
  loop.join();

  EXPECT_FALSE(ran);
  ASSERT_TRUE(refused);
  EXPECT_THAT(what(refused), HasSubstr("Deadlock avoided: GET /api/ needs a sync thread"));
  EXPECT_THAT(log.text(), HasSubstr("Deadlock avoided: GET /api/"));
  EXPECT_THAT(log.text(), HasSubstr("--workers"));
}

TEST(RunSync, ASyncCallRunsUnderItsRequestsTrace) {
  SyncExecutor executor(1);
  TraceContext trace = TraceContext::for_request(std::nullopt);
  std::uint64_t seen = 0;
  boost::asio::io_context context;
  boost::asio::co_spawn(
      context, run_sync(executor, [&] { seen = current_trace() ? current_trace()->span : 0; }, {trace}),
      boost::asio::detached);
  context.run();
  EXPECT_EQ(seen, trace.span);
}

// A client that went away while its call waited for a thread: the call never
// runs, and its coroutine ends with ClientDisconnected.
TEST(RunSync, AQueuedCallCancelledBeforeItStartsNeverRuns) {
  SyncExecutor executor(1);
  HeldThread busy;
  boost::asio::io_context context;
  boost::asio::co_spawn(context, run_sync(executor, [&] { busy.hold(); }), boost::asio::detached);
  std::atomic<bool> ran = false;
  std::exception_ptr outcome;
  bool done = false;
  boost::asio::cancellation_signal cancel;
  boost::asio::co_spawn(context, run_sync(executor, [&] { ran = true; }),
                        boost::asio::bind_cancellation_slot(cancel.slot(), [&](std::exception_ptr e) {
                          outcome = e;
                          done = true;
                        }));
  // Queue both calls, then cancel the second. co_spawn hands a cancellation
  // to the coroutine through its executor, so the loop must run to deliver
  // it, before the held thread is let go.
  context.poll();
  busy.wait_until_held();
  cancel.emit(boost::asio::cancellation_type::terminal);
  context.poll();
  busy.release();
  context.run();
  EXPECT_TRUE(done);
  EXPECT_FALSE(ran.load());
  EXPECT_THAT(what(outcome), HasSubstr("disconnect"));
}

}  // namespace
}  // namespace csgi
