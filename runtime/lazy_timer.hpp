// A timer for deadlines that move often and pass rarely (keep-alive, request
// heads, a client's read limits): it stays armed for the earliest time asked
// of it, so moving a deadline later costs no timer operation; the owner looks
// again when it fires and asks for the next time then.
//
// Not thread-safe: use it on the thread that runs its executor. The handler
// given to arm_by() must keep the timer's owner alive (capture a shared_ptr of
// it): a wait can complete after the owner let go of everything else.
#pragma once

#include <chrono>
#include <utility>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>

namespace csgi {

class LazyTimer {
 public:
  using Clock = std::chrono::steady_clock;

  explicit LazyTimer(const boost::asio::any_io_executor& executor) : timer_(executor) {}

  // Calls `on_fire` at `at`, unless the timer is already armed for `at` or
  // earlier (then that earlier call stands, and this handler is dropped).
  template <class OnFire>
  void arm_by(Clock::time_point at, OnFire on_fire) {
    if (armed_ && at_ <= at) return;
    armed_ = true;
    at_ = at;
    unsigned generation = ++generation_;
    timer_.expires_at(at);
    timer_.async_wait([this, generation, on_fire = std::move(on_fire)](
                          const boost::system::error_code& error) mutable {
      // A superseded wait may have completed before it was re-armed.
      if (error || generation != generation_) return;
      armed_ = false;
      on_fire();
    });
  }

  // No call comes from the waits armed so far.
  void disarm() {
    armed_ = false;
    ++generation_;
    timer_.cancel();
  }

  bool armed() const { return armed_; }
  const boost::asio::any_io_executor& get_executor() { return timer_.get_executor(); }

 private:
  boost::asio::steady_timer timer_;
  Clock::time_point at_{};
  unsigned generation_ = 0;
  bool armed_ = false;
};

}  // namespace csgi
