// A one-thread event for coroutines on an event loop: some coroutines wait
// until another sets it. Used where a connection's reader, its app and the
// server's shutdown have to wake each other (the condition variable of the
// async world).
//
// Not thread-safe: set(), reset() and wait() must be called on the thread that
// runs the executor the event was made with.
#pragma once

#include <memory>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

namespace csgi {

class AsyncEvent {
 public:
  explicit AsyncEvent(const boost::asio::any_io_executor& executor);
  ~AsyncEvent();
  AsyncEvent(const AsyncEvent&) = delete;
  AsyncEvent& operator=(const AsyncEvent&) = delete;

  // Wakes every waiter; waits that start later complete at once until reset().
  void set();
  void reset();
  bool is_set() const { return set_; }

  // Completes when the event is set. Cancellable (per-operation cancellation,
  // so it composes with awaitable operators): a cancelled wait throws
  // boost::system::system_error(operation_aborted).
  boost::asio::awaitable<void> wait();

 private:
  struct Timer;
  std::unique_ptr<Timer> timer_;
  bool set_ = false;
};

}  // namespace csgi
