// gather and gather_settled: order, first error cancels the rest, errors in place.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "client/gather.hpp"
#include "tests/client/harness.hpp"

namespace csgi::client {
namespace {

using namespace std::chrono_literals;
using testing::run;

// Returns `value` after `delay`; counts cancellations.
awaitable<int> after(std::chrono::milliseconds delay, int value, int* cancelled = nullptr) {
  boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor, delay);
  try {
    co_await timer.async_wait(boost::asio::use_awaitable);
  } catch (const boost::system::system_error&) {
    if (cancelled) ++*cancelled;
    throw;
  }
  co_return value;
}

awaitable<int> fail_after(std::chrono::milliseconds delay) {
  co_await after(delay, 0);
  throw std::runtime_error("boom");
}

TEST(Gather, ResultsComeInInputOrder) {
  boost::asio::io_context io;
  std::vector<awaitable<int>> tasks;
  tasks.push_back(after(30ms, 1));
  tasks.push_back(after(10ms, 2));
  tasks.push_back(after(20ms, 3));
  auto started = std::chrono::steady_clock::now();
  EXPECT_EQ(run(io, gather(std::move(tasks))), (std::vector<int>{1, 2, 3}));
  EXPECT_LT(std::chrono::steady_clock::now() - started, 55ms);  // concurrently, not 60 ms
}

TEST(Gather, EmptyInputGivesEmptyResult) {
  boost::asio::io_context io;
  EXPECT_TRUE(run(io, gather(std::vector<awaitable<int>>{})).empty());
  EXPECT_TRUE(run(io, gather_settled(std::vector<awaitable<int>>{})).empty());
}

TEST(Gather, FirstErrorPropagatesAndCancelsTheRest) {
  boost::asio::io_context io;
  int cancelled = 0;
  std::vector<awaitable<int>> tasks;
  tasks.push_back(after(5s, 1, &cancelled));
  tasks.push_back(fail_after(10ms));
  tasks.push_back(after(5s, 3, &cancelled));
  auto started = std::chrono::steady_clock::now();
  EXPECT_THROW(
      {
        try {
          run(io, gather(std::move(tasks)));
        } catch (const std::runtime_error& error) {
          EXPECT_STREQ(error.what(), "boom");
          throw;
        }
      },
      std::runtime_error);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 1s);
  EXPECT_EQ(cancelled, 2);
}

TEST(Gather, SettledModeReturnsErrorsInPlace) {
  boost::asio::io_context io;
  std::vector<awaitable<int>> tasks;
  tasks.push_back(after(20ms, 1));
  tasks.push_back(fail_after(5ms));
  tasks.push_back(after(10ms, 3));
  auto outcomes = run(io, gather_settled(std::move(tasks)));
  ASSERT_EQ(outcomes.size(), 3u);
  EXPECT_EQ(value_of(outcomes[0]), 1);
  EXPECT_FALSE(succeeded(outcomes[1]));
  EXPECT_THROW(value_of(outcomes[1]), std::runtime_error);
  EXPECT_EQ(value_of(outcomes[2]), 3);
}

}  // namespace
}  // namespace csgi::client
