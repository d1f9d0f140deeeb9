#include "runtime/async_event.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace csgi {

namespace asio = boost::asio;

// A timer that never expires: waiting on it parks a coroutine, cancelling it
// wakes every parked one.
struct AsyncEvent::Timer {
  explicit Timer(const asio::any_io_executor& executor) : timer(executor) {
    timer.expires_at(asio::steady_timer::time_point::max());
  }
  asio::steady_timer timer;
};

AsyncEvent::AsyncEvent(const asio::any_io_executor& executor)
    : timer_(std::make_unique<Timer>(executor)) {}

AsyncEvent::~AsyncEvent() = default;

void AsyncEvent::set() {
  set_ = true;
  timer_->timer.cancel();
}

void AsyncEvent::reset() { set_ = false; }

asio::awaitable<void> AsyncEvent::wait() {
  while (!set_) {
    auto [error] = co_await timer_->timer.async_wait(asio::as_tuple(asio::use_awaitable));
    // The timer only ends by cancellation: set() if the flag says so, else a
    // cancellation of this wait (or a reset() that raced a set(): wait again).
    if (!set_ && error == asio::error::operation_aborted) {
      auto state = co_await asio::this_coro::cancellation_state;
      if (state.cancelled() != asio::cancellation_type::none)
        throw boost::system::system_error(asio::error::operation_aborted);
    }
  }
}

}  // namespace csgi
