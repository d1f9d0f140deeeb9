// Coroutine test bodies for GoogleTest, like Django's `async def test_...`:
//
//   CSGI_ASYNC_TEST(Api, ReturnsOk) {
//     AsyncClient client(app);
//     auto r = co_await client.get("/api/");
//     EXPECT_EQ(r.status, 200);
//   }
//
// The body runs on a fresh io_context in the test's thread, which counts as an
// event-loop thread while it runs (so a blocking asgi_to_wsgi call is refused,
// as on a server's loop). The test fails when an exception escapes the body,
// when the body waits for something nothing will ever do (the loop ran out of
// work), or when it runs longer than the timeout. Work the body left running
// is abandoned when it returns.
//
// ASSERT_* macros `return`, which a coroutine cannot: use EXPECT_*.
#pragma once

#include <chrono>
#include <exception>
#include <functional>

#include <boost/asio/awaitable.hpp>
#include <gtest/gtest.h>

namespace csgi::testing {

// Runs `body` as described above; `timeout` bounds the whole run.
void run_async_test(const std::function<boost::asio::awaitable<void>()>& body,
                    std::chrono::milliseconds timeout = std::chrono::seconds(10));

// Runs `first` and, once it waits, `second` beside it on the caller's
// executor; when one fails the other is cancelled, and the call returns once
// both ended, with what `second` threw (null if nothing). For tests of what
// overlapping calls do, such as a second receive() while one is pending.
boost::asio::awaitable<std::exception_ptr> overlap(boost::asio::awaitable<void> first,
                                                   boost::asio::awaitable<void> second);

}  // namespace csgi::testing

#define CSGI_ASYNC_TEST(suite, name)                                                  \
  static ::boost::asio::awaitable<void> csgi_async_test_##suite##_##name();           \
  TEST(suite, name) {                                                                 \
    ::csgi::testing::run_async_test([] { return csgi_async_test_##suite##_##name(); }); \
  }                                                                                   \
  static ::boost::asio::awaitable<void> csgi_async_test_##suite##_##name()
