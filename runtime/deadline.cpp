#include "runtime/deadline.hpp"

#include <algorithm>
#include <cassert>

#include <boost/asio/post.hpp>

namespace csgi {

namespace asio = boost::asio;

Deadline::Deadline(DeadlineTimer& timer, std::function<void()> on_expired)
    : timer_(timer), on_expired_(std::move(on_expired)) {
  timer_.deadlines_.insert(*this);
}

Deadline::~Deadline() {
  stop();
  timer_.deadlines_.erase(*this);
}

DeadlineTimer::DeadlineTimer(const asio::any_io_executor& executor, AtRest at_rest)
    : timer_(executor), at_rest_(at_rest) {}

DeadlineTimer::~DeadlineTimer() { assert(deadlines_.empty()); }

void DeadlineTimer::post_rest_check() {
  if (!armed_ || rest_check_pending_) return;
  // Often another wait begins before the loop turns (the next request on a
  // kept-alive connection): look then, rather than disarm now and re-arm.
  rest_check_pending_ = true;
  asio::post(timer_.get_executor(), [this, owner = owner_.lock()] { disarm_at_rest(); });
}

void DeadlineTimer::arm(Clock::time_point at) {
  armed_ = true;
  armed_at_ = at;
  unsigned generation = ++generation_;
  timer_.expires_at(at);
  timer_.async_wait([this, generation, owner = owner_.lock()](const boost::system::error_code& error) {
    // A superseded wait may have completed before it was re-armed.
    if (error || generation != generation_) return;
    armed_ = false;
    on_fire();
  });
}

void DeadlineTimer::on_fire() {
  auto now = Clock::now();  // exact: deadlines may come from the coarse clock
  auto next = Clock::time_point::max();
  for (Deadline* deadline : deadlines_) {
    if (!deadline->running_ || deadline->expired_) continue;
    if (deadline->at_ > now) {
      next = std::min(next, deadline->at_);  // moved on since the timer was armed
      continue;
    }
    // The cancelled operations complete later, through the executor: the set
    // of deadlines does not change under this loop.
    deadline->expired_ = true;
    deadline->on_expired_();
  }
  if (next != Clock::time_point::max()) arm_by(next);
}

void DeadlineTimer::disarm() {
  armed_ = false;
  ++generation_;
  timer_.cancel();
}

void DeadlineTimer::disarm_at_rest() {
  rest_check_pending_ = false;
  if (running_ == 0 && armed_) disarm();
}

}  // namespace csgi
