// Deadline and DeadlineTimer: a deadline that passes calls its action once and
// reads expired(); one that stops first calls nothing; moving a deadline later
// delays the call; a timer at rest leaves no work on its loop when told so.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>

#include <boost/asio/io_context.hpp>

#include "runtime/deadline.hpp"

namespace csgi {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using Clock = Deadline::Clock;

class DeadlineTest : public ::testing::Test {
 protected:
  void make_timer(DeadlineTimer::AtRest at_rest) {
    first_.reset();  // deadlines go before their timer
    second_.reset();
    timer_ = std::make_shared<DeadlineTimer>(io_.get_executor(), at_rest);
    timer_->keep_alive_by(timer_);
    first_ = std::make_unique<Deadline>(*timer_, [this] { ++first_calls_; });
    second_ = std::make_unique<Deadline>(*timer_, [this] { ++second_calls_; });
  }
  void SetUp() override { make_timer(DeadlineTimer::AtRest::stay_armed); }
  void TearDown() override {
    first_.reset();
    second_.reset();
    if (timer_) timer_->disarm();
    io_.restart();
    io_.poll();
  }
  // Turns the loop until `condition` holds, for at most two seconds.
  template <class Condition>
  bool run_until(Condition condition) {
    auto give_up = Clock::now() + 2s;
    while (!condition() && Clock::now() < give_up) {
      io_.restart();
      io_.run_for(1ms);
    }
    return condition();
  }

  asio::io_context io_;
  std::shared_ptr<DeadlineTimer> timer_;
  std::unique_ptr<Deadline> first_;
  std::unique_ptr<Deadline> second_;
  int first_calls_ = 0;
  int second_calls_ = 0;
};

TEST_F(DeadlineTest, PassedDeadlineCallsItsActionOnceAndReadsExpired) {
  first_->start(Clock::now() + 5ms);
  EXPECT_FALSE(first_->expired());
  EXPECT_TRUE(run_until([&] { return first_calls_ == 1; }));
  EXPECT_TRUE(first_->expired());
  EXPECT_TRUE(first_->running());  // until the waiter stops it
  io_.restart();
  io_.run_for(20ms);
  EXPECT_EQ(first_calls_, 1);
  first_->stop();
  EXPECT_TRUE(first_->expired());  // still says why the wait ended
}

TEST_F(DeadlineTest, StoppedDeadlineCallsNothing) {
  {
    BoundedWait wait(*first_, Clock::now() + 5ms);
  }
  io_.restart();
  io_.run_for(30ms);
  EXPECT_EQ(first_calls_, 0);
  EXPECT_FALSE(first_->expired());
}

TEST_F(DeadlineTest, DeadlineMovedLaterIsCalledAtTheLaterTime) {
  auto begin = Clock::now();
  first_->start(begin + 5ms);
  first_->start(begin + 60ms);  // the timer stays armed for 5 ms and looks again then
  EXPECT_TRUE(run_until([&] { return first_calls_ == 1; }));
  EXPECT_GE(Clock::now() - begin, 60ms);
}

TEST_F(DeadlineTest, DeadlinesSharingATimerExpireEachAtItsOwnTime) {
  auto begin = Clock::now();
  first_->start(begin + 40ms);
  second_->start(begin + 5ms);
  EXPECT_TRUE(run_until([&] { return second_calls_ == 1; }));
  EXPECT_EQ(first_calls_, 0);
  EXPECT_FALSE(first_->expired());
  EXPECT_TRUE(run_until([&] { return first_calls_ == 1; }));
  EXPECT_GE(Clock::now() - begin, 40ms);
}

TEST_F(DeadlineTest, TimerAtRestDisarmsOnTheNextTurnOfTheLoop) {
  make_timer(DeadlineTimer::AtRest::disarm);
  first_->start(Clock::now() + 10s);
  first_->stop();
  EXPECT_TRUE(timer_->armed());
  io_.restart();
  io_.poll();
  EXPECT_FALSE(timer_->armed());
  EXPECT_TRUE(io_.stopped());  // no work left: a client at rest lets run() return
}

TEST_F(DeadlineTest, TimerAtRestStaysArmedWhenAWaitBeginsBeforeTheLoopTurns) {
  make_timer(DeadlineTimer::AtRest::disarm);
  first_->start(Clock::now() + 10s);
  first_->stop();
  first_->start(Clock::now() + 10s);  // the next request's wait
  io_.restart();
  io_.poll();
  EXPECT_TRUE(timer_->armed());
}

TEST_F(DeadlineTest, ServerTimerStaysArmedAtRest) {
  first_->start(Clock::now() + 10s);
  first_->stop();
  io_.restart();
  io_.poll();
  EXPECT_TRUE(timer_->armed());
}

}  // namespace
}  // namespace csgi
