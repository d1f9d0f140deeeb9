#include "runtime/wakeup.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace csgi {

// A timer that never expires: cancelling it completes every pending wait.
struct Wakeup::Timer {
  explicit Timer(const boost::asio::any_io_executor& executor) : timer(executor) {
    timer.expires_at(boost::asio::steady_timer::time_point::max());
  }
  boost::asio::steady_timer timer;
};

Wakeup::Wakeup(const boost::asio::any_io_executor& executor)
    : timer_(std::make_unique<Timer>(executor)) {}

Wakeup::~Wakeup() = default;

boost::asio::awaitable<void> Wakeup::wait() {
  co_await timer_->timer.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
}

void Wakeup::notify() { timer_->timer.cancel(); }

}  // namespace csgi
