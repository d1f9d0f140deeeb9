#include "servers/lifespan.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <stdexcept>
#include <string>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/sinks/ringbuffer_sink.h>

#include "servers/logging.hpp"

namespace csgi::servers {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

// Runs `work` on `io` until it finished (a lifespan app may stay parked, so
// the loop is not run until it runs out of work).
template <class T>
T finish(asio::io_context& io, asio::awaitable<T> work) {
  std::optional<T> result;
  std::exception_ptr error;
  asio::co_spawn(io, std::move(work), [&](std::exception_ptr e, T value) {
    error = e;
    result = value;
  });
  while (!result && io.run_one()) {
  }
  if (error) std::rethrow_exception(error);
  return *result;
}

void finish(asio::io_context& io, asio::awaitable<void> work) {
  bool done = false;
  asio::co_spawn(io, std::move(work), [&](std::exception_ptr) { done = true; });
  while (!done && io.run_one()) {
  }
}

struct Seen {
  int calls = 0;
  bool shutdown = false;
};

// A well-behaved lifespan app that stores a value in the state, or fails.
asgi::App lifespan_app(Seen& seen, std::optional<std::string> failure = std::nullopt) {
  return [&seen, failure](asgi::Scope scope, asgi::Receive receive,
                          asgi::Send send) -> asgi::awaitable<void> {
    ++seen.calls;
    co_await receive();
    if (failure) {
      co_await send(asgi::LifespanStartupFailed{*failure});
      co_return;
    }
    scope.state->set("ready", true);
    co_await send(asgi::LifespanStartupComplete{});
    co_await receive();
    seen.shutdown = true;
    co_await send(asgi::LifespanShutdownComplete{});
  };
}

asgi::App throwing_app(Seen& seen) {
  return [&seen](asgi::Scope, asgi::Receive, asgi::Send) -> asgi::awaitable<void> {
    ++seen.calls;
    throw asgi::UnsupportedScope();
    co_return;
  };
}

TEST(Lifespan, StartupCompleteFillsTheSharedStateAndShutdownReachesApp) {
  asio::io_context io;
  Seen seen;
  auto lifespan = make_lifespan(LifespanMode::on, lifespan_app(seen), io.get_executor(), 1s);
  EXPECT_TRUE(finish(io, lifespan->startup()));
  ASSERT_TRUE(lifespan->state());
  EXPECT_TRUE(lifespan->state()->contains("ready"));
  finish(io, lifespan->shutdown());
  EXPECT_TRUE(seen.shutdown);
}

TEST(Lifespan, StartupFailedMakesStartupReturnFalse) {
  asio::io_context io;
  Seen seen;
  auto lifespan =
      make_lifespan(LifespanMode::on, lifespan_app(seen, "no database"), io.get_executor(), 1s);
  EXPECT_FALSE(finish(io, lifespan->startup()));
}

TEST(Lifespan, AutoModeServesAnAppWithoutLifespanSupport) {
  asio::io_context io;
  Seen seen;
  auto lifespan = make_lifespan(LifespanMode::auto_, throwing_app(seen), io.get_executor(), 1s);
  EXPECT_TRUE(finish(io, lifespan->startup()));
  EXPECT_EQ(seen.calls, 1);
  finish(io, lifespan->shutdown());  // nothing to wait for: the app has returned
}

TEST(Lifespan, OnModeTreatsAnAppThatThrowsAsFailedStartup) {
  asio::io_context io;
  Seen seen;
  auto lifespan = make_lifespan(LifespanMode::on, throwing_app(seen), io.get_executor(), 1s);
  EXPECT_FALSE(finish(io, lifespan->startup()));
}

TEST(Lifespan, OffModeNeverCallsTheApp) {
  asio::io_context io;
  Seen seen;
  auto lifespan = make_lifespan(LifespanMode::off, lifespan_app(seen), io.get_executor(), 1s);
  EXPECT_TRUE(finish(io, lifespan->startup()));
  finish(io, lifespan->shutdown());
  EXPECT_EQ(seen.calls, 0);
  EXPECT_TRUE(lifespan->state());
}

TEST(Lifespan, SendingAnHttpEventOnTheLifespanScopeIsAViolation) {
  asio::io_context io;
  bool violation = false;
  asgi::App app = [&](asgi::Scope, asgi::Receive receive, asgi::Send send) -> asgi::awaitable<void> {
    co_await receive();
    try {
      co_await send(asgi::HttpResponseStart{});
    } catch (const asgi::ProtocolViolation&) {
      violation = true;
    }
    co_await send(asgi::LifespanStartupComplete{});
  };
  auto lifespan = make_lifespan(LifespanMode::on, app, io.get_executor(), 1s);
  EXPECT_TRUE(finish(io, lifespan->startup()));
  EXPECT_TRUE(violation);
}

// Keeps what csgi.error logs while it lives.
class LogCapture {
 public:
  LogCapture() : sink_(std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(64)) {
    sink_->set_pattern("%l %v");
    saved_level_ = error_log()->level();
    error_log()->set_level(spdlog::level::info);
    error_log()->sinks().push_back(sink_);
  }
  ~LogCapture() {
    auto& sinks = error_log()->sinks();
    sinks.erase(std::find(sinks.begin(), sinks.end(), sink_));
    error_log()->set_level(saved_level_);
  }
  LogCapture(const LogCapture&) = delete;
  LogCapture& operator=(const LogCapture&) = delete;

  // The line that contains `text`, with its level first; "" if none.
  std::string line_with(const std::string& text) const {
    for (const auto& line : sink_->last_formatted())
      if (line.find(text) != std::string::npos) return line;
    return "";
  }

 private:
  std::shared_ptr<spdlog::sinks::ringbuffer_sink_mt> sink_;
  spdlog::level::level_enum saved_level_;
};

asgi::App returning_app() {
  return [](asgi::Scope, asgi::Receive receive, asgi::Send) -> asgi::awaitable<void> {
    co_await receive();
  };
}

TEST(Lifespan, OnModeTreatsAnAppThatReturnsBeforeSendingAsFailedStartup) {
  asio::io_context io;
  auto lifespan = make_lifespan(LifespanMode::on, returning_app(), io.get_executor(), 1s);
  EXPECT_FALSE(finish(io, lifespan->startup()));
}

TEST(Lifespan, AutoModeServesAnAppThatReturnsBeforeSending) {
  asio::io_context io;
  LogCapture log;
  auto lifespan = make_lifespan(LifespanMode::auto_, returning_app(), io.get_executor(), 1s);
  EXPECT_TRUE(finish(io, lifespan->startup()));
  EXPECT_EQ(log.line_with("does not support").substr(0, 5), "info ");
}

TEST(Lifespan, AutoModeLogsUnsupportedScopeAtInfo) {
  asio::io_context io;
  Seen seen;
  LogCapture log;
  auto lifespan = make_lifespan(LifespanMode::auto_, throwing_app(seen), io.get_executor(), 1s);
  EXPECT_TRUE(finish(io, lifespan->startup()));
  EXPECT_EQ(log.line_with("does not support").substr(0, 5), "info ");
}

TEST(Lifespan, AutoModeLogsAnyOtherExceptionAtWarning) {
  asio::io_context io;
  LogCapture log;
  asgi::App app = [](asgi::Scope, asgi::Receive receive, asgi::Send) -> asgi::awaitable<void> {
    co_await receive();
    throw std::runtime_error("cannot reach the database");
  };
  auto lifespan = make_lifespan(LifespanMode::auto_, app, io.get_executor(), 1s);
  EXPECT_TRUE(finish(io, lifespan->startup()));
  EXPECT_EQ(log.line_with("cannot reach the database").substr(0, 8), "warning ");
}

TEST(Lifespan, ReturnAfterStartupIsLogged) {
  asio::io_context io;
  LogCapture log;
  asgi::App app = [](asgi::Scope, asgi::Receive receive, asgi::Send send) -> asgi::awaitable<void> {
    co_await receive();
    co_await send(asgi::LifespanStartupComplete{});
  };
  auto lifespan = make_lifespan(LifespanMode::on, app, io.get_executor(), 1s);
  EXPECT_TRUE(finish(io, lifespan->startup()));
  io.poll();  // the app's return
  EXPECT_EQ(log.line_with("returned after startup").substr(0, 6), "error ");
  finish(io, lifespan->shutdown());  // nothing to deliver: the app has returned
}

// Sets its flag when destroyed: put in a coroutine frame, it says the frame
// has been unwound.
struct Unwound {
  bool& flag;
  ~Unwound() { flag = true; }
};

TEST(Lifespan, ShutdownWaitsForTheCoroutineToReturn) {
  asio::io_context io;
  bool returned = false;
  asgi::App app = [&](asgi::Scope, asgi::Receive receive, asgi::Send send) -> asgi::awaitable<void> {
    co_await receive();
    co_await send(asgi::LifespanStartupComplete{});
    co_await receive();
    co_await send(asgi::LifespanShutdownComplete{});
    // Cleanup that suspends after the answer.
    for (int i = 0; i < 3; ++i) co_await asio::post(io, asio::use_awaitable);
    returned = true;
  };
  auto lifespan = make_lifespan(LifespanMode::on, app, io.get_executor(), 1s);
  EXPECT_TRUE(finish(io, lifespan->startup()));
  finish(io, lifespan->shutdown());
  EXPECT_TRUE(returned);
}

TEST(Lifespan, CoroutineThatDoesNotReturnIsCancelledAfterTheTimeout) {
  asio::io_context io;
  bool unwound = false;
  asgi::App app = [&](asgi::Scope, asgi::Receive receive, asgi::Send send) -> asgi::awaitable<void> {
    Unwound guard{unwound};
    co_await receive();
    co_await send(asgi::LifespanStartupComplete{});
    co_await receive();
    co_await send(asgi::LifespanShutdownComplete{});
    co_await receive();  // nothing follows lifespan.shutdown: parks
  };
  auto lifespan = make_lifespan(LifespanMode::on, app, io.get_executor(), 10ms);
  EXPECT_TRUE(finish(io, lifespan->startup()));
  finish(io, lifespan->shutdown());
  EXPECT_TRUE(unwound) << "shutdown() returned with the coroutine still suspended";
}

TEST(Lifespan, FailedStartupWaitsForTheCoroutineToReturn) {
  asio::io_context io;
  bool returned = false;
  asgi::App app = [&](asgi::Scope, asgi::Receive receive, asgi::Send send) -> asgi::awaitable<void> {
    co_await receive();
    co_await send(asgi::LifespanStartupFailed{"no database"});
    co_await asio::post(io, asio::use_awaitable);
    returned = true;
  };
  auto lifespan = make_lifespan(LifespanMode::on, app, io.get_executor(), 1s);
  EXPECT_FALSE(finish(io, lifespan->startup()));
  EXPECT_TRUE(returned);
}

}  // namespace
}  // namespace csgi::servers
