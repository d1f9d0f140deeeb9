#include "client/watchdog.hpp"

#include <algorithm>

#include <boost/asio/post.hpp>

namespace csgi::client::detail {
namespace asio = boost::asio;

Watchdog::Watchdog(std::shared_ptr<Deadlines> deadlines, asio::ip::tcp::socket& socket)
    : deadlines_(std::move(deadlines)), socket_(socket) {}

Watchdog::~Watchdog() { end(); }

void Watchdog::begin(Clock::time_point deadline, asio::ip::tcp::resolver* resolver) {
  expired_ = false;
  deadline_ = deadline;
  resolver_ = resolver;
  if (!in_indexed_set()) deadlines_->waiting_.insert(*this);
  deadlines_->arm(deadline);
}

void Watchdog::end() {
  resolver_ = nullptr;
  if (in_indexed_set()) deadlines_->remove(*this);
}

Deadlines::Deadlines(const asio::any_io_executor& executor) : timer_(executor) {}

void Deadlines::remove(Watchdog& watchdog) {
  waiting_.erase(watchdog);
  if (!waiting_.empty() || !timer_.armed() || rest_check_pending_) return;
  // Often another wait begins before the loop turns (the next request on a
  // kept-alive connection): look then, rather than disarm now and re-arm.
  rest_check_pending_ = true;
  asio::post(timer_.get_executor(), [self = shared_from_this()] { self->disarm_at_rest(); });
}

void Deadlines::arm(Clock::time_point at) {
  timer_.arm_by(at, [self = shared_from_this()] { self->on_timer(); });
}

void Deadlines::on_timer() {
  auto now = Clock::now();
  auto next = Clock::time_point::max();
  for (Watchdog* watchdog : waiting_) {
    if (watchdog->expired_) continue;
    if (watchdog->deadline_ > now) {
      next = std::min(next, watchdog->deadline_);  // moved on since the timer was armed
      continue;
    }
    // The cancelled operations complete later, through the executor: the
    // waiting list does not change under this loop.
    watchdog->expired_ = true;
    boost::system::error_code ignored;
    watchdog->socket_.cancel(ignored);
    if (watchdog->resolver_) watchdog->resolver_->cancel();
  }
  if (next != Clock::time_point::max()) arm(next);
}

void Deadlines::disarm_at_rest() {
  rest_check_pending_ = false;
  if (!waiting_.empty() || !timer_.armed()) return;
  timer_.disarm();
}

}  // namespace csgi::client::detail
