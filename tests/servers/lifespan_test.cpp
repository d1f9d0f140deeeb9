#include "servers/lifespan.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <stdexcept>
#include <string>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

namespace csgi::servers {
namespace {

namespace asio = boost::asio;

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
  auto lifespan = make_lifespan(LifespanMode::on, lifespan_app(seen), io.get_executor());
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
      make_lifespan(LifespanMode::on, lifespan_app(seen, "no database"), io.get_executor());
  EXPECT_FALSE(finish(io, lifespan->startup()));
}

TEST(Lifespan, AutoModeServesAnAppWithoutLifespanSupport) {
  asio::io_context io;
  Seen seen;
  auto lifespan = make_lifespan(LifespanMode::auto_, throwing_app(seen), io.get_executor());
  EXPECT_TRUE(finish(io, lifespan->startup()));
  EXPECT_EQ(seen.calls, 1);
  finish(io, lifespan->shutdown());  // nothing to wait for: the app has returned
}

TEST(Lifespan, OnModeTreatsAnAppThatThrowsAsFailedStartup) {
  asio::io_context io;
  Seen seen;
  auto lifespan = make_lifespan(LifespanMode::on, throwing_app(seen), io.get_executor());
  EXPECT_FALSE(finish(io, lifespan->startup()));
}

TEST(Lifespan, OffModeNeverCallsTheApp) {
  asio::io_context io;
  Seen seen;
  auto lifespan = make_lifespan(LifespanMode::off, lifespan_app(seen), io.get_executor());
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
  auto lifespan = make_lifespan(LifespanMode::on, app, io.get_executor());
  EXPECT_TRUE(finish(io, lifespan->startup()));
  EXPECT_TRUE(violation);
}

}  // namespace
}  // namespace csgi::servers
