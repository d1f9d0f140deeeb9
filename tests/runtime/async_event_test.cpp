// AsyncEvent: set() and notify() wake waiters, cancellation throws, and
// waiters parked when the loop shuts down are destroyed with it.
#include <gtest/gtest.h>

#include <memory>
#include <stdexcept>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/this_coro.hpp>

#include "runtime/async_event.hpp"

namespace csgi {
namespace {

namespace asio = boost::asio;

class AsyncEventTest : public ::testing::Test {
 protected:
  // Spawns a coroutine that waits once and counts how it ended.
  void spawn_waiter(AsyncEvent& event, asio::cancellation_slot slot = {}) {
    asio::co_spawn(
        io_,
        [&event, this]() -> asio::awaitable<void> {
          try {
            co_await event.wait();
            ++woken_;
          } catch (const boost::system::system_error& e) {
            if (e.code() == asio::error::operation_aborted) ++cancelled_;
          }
        },
        asio::bind_cancellation_slot(slot, asio::detached));
  }
  // Runs what is ready, without blocking.
  void run_ready() {
    io_.restart();
    io_.poll();
  }

  asio::io_context io_;
  AsyncEvent event_{io_.get_executor()};
  int woken_ = 0;
  int cancelled_ = 0;
};

TEST_F(AsyncEventTest, SetWakesEveryWaiter) {
  spawn_waiter(event_);
  spawn_waiter(event_);
  run_ready();
  EXPECT_EQ(event_.waiting(), 2u);
  EXPECT_EQ(woken_, 0);
  event_.set();
  run_ready();
  EXPECT_EQ(woken_, 2);
  EXPECT_EQ(event_.waiting(), 0u);
}

TEST_F(AsyncEventTest, WaitOnASetEventCompletesAtOnce) {
  event_.set();
  spawn_waiter(event_);
  run_ready();
  EXPECT_EQ(woken_, 1);
  event_.reset();
  spawn_waiter(event_);
  run_ready();
  EXPECT_EQ(woken_, 1);
  EXPECT_EQ(event_.waiting(), 1u);
}

TEST_F(AsyncEventTest, NotifyWakesOnlyTheWaitersOfThatMoment) {
  spawn_waiter(event_);
  run_ready();
  event_.notify();
  EXPECT_FALSE(event_.is_set());
  spawn_waiter(event_);  // begun after the notify: waits for the next one
  run_ready();
  EXPECT_EQ(woken_, 1);
  EXPECT_EQ(event_.waiting(), 1u);
}

TEST_F(AsyncEventTest, CancelledWaitThrowsOperationAborted) {
  asio::cancellation_signal cancel;
  spawn_waiter(event_, cancel.slot());
  run_ready();
  cancel.emit(asio::cancellation_type::terminal);
  run_ready();
  EXPECT_EQ(cancelled_, 1);
  EXPECT_EQ(event_.waiting(), 0u);
  event_.set();  // nothing left to wake
  run_ready();
  EXPECT_EQ(woken_, 0);
}

TEST_F(AsyncEventTest, ParkedWaiterKeepsTheLoopRunning) {
  spawn_waiter(event_);
  io_.restart();
  EXPECT_EQ(io_.run_one(), 1u);  // the coroutine starts and parks
  // A parked waiter is outstanding work: with nothing ready, the loop does not
  // stop for lack of work.
  EXPECT_EQ(io_.poll(), 0u);
  EXPECT_FALSE(io_.stopped());
}

TEST(AsyncEventShutdown, WaiterParkedOnAnEventInItsOwnFrameIsFreedWithTheLoop) {
  auto alive = std::make_shared<int>(0);
  std::weak_ptr<int> watch = alive;
  {
    asio::io_context io;
    asio::co_spawn(
        io,
        [alive = std::move(alive)]() -> asio::awaitable<void> {
          AsyncEvent never(co_await asio::this_coro::executor);
          co_await never.wait();
        },
        asio::detached);
    io.poll();
    EXPECT_FALSE(watch.expired());
  }
  EXPECT_TRUE(watch.expired());
}

TEST(AsyncEventShutdown, DestroyedEventDropsItsWaitersUnresumed) {
  asio::io_context io;
  auto event = std::make_unique<AsyncEvent>(io.get_executor());
  bool resumed = false;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        co_await event->wait();
        resumed = true;
      },
      asio::detached);
  io.poll();
  EXPECT_EQ(event->waiting(), 1u);
  event.reset();
  io.restart();
  io.poll();
  EXPECT_FALSE(resumed);
  EXPECT_TRUE(io.stopped());  // the dropped waiter's work was released
}

}  // namespace
}  // namespace csgi
