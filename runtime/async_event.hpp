// The one-thread event of csgi: coroutines on one event loop wait until
// another sets it or pulses it. The condition variable of the async world,
// without the lock: everything runs on one thread. Used where a connection's
// reader, its app and the server's shutdown wake each other, and where an
// adapter's loop waits for the server that pulls a response.
//
// Two ways to wake waiters:
//   set()     the event stays set: every waiter resumes, and waits that start
//             later complete at once, until reset();
//   notify()  resumes the coroutines waiting at that moment, and nothing else:
//             a wait begun later waits for the next set() or notify(). Waiters
//             re-check their condition in a loop.
//
// A waiter is parked in the event, not in a timer: an event costs the loop no
// reactor (no descriptors, no epoll or timerfd calls), and one that was never
// waited on holds nothing but a null pointer and a flag (a loop connection
// keeps one, and most connections never wait on it). A parked waiter counts
// as work on its loop, as a timer wait does. When the loop's execution context
// shuts down (the io_context is destroyed), waiters still parked are destroyed
// unresumed, as the loop's own pending handlers are: an event may live in the
// frame of the very coroutine that waits on it. Destroying an event also
// destroys its parked waiters unresumed.
//
// Not thread-safe: construct, set(), reset(), notify() and wait() on the
// thread that runs the executor the event was made with.
#pragma once

#include <memory>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

namespace csgi {

class AsyncEvent {
 public:
  // Waits must come from coroutines running on `executor`'s loop.
  explicit AsyncEvent(const boost::asio::any_io_executor& executor);
  ~AsyncEvent();
  AsyncEvent(const AsyncEvent&) = delete;
  AsyncEvent& operator=(const AsyncEvent&) = delete;

  // Sets the event and resumes every waiter.
  void set();
  void reset();
  bool is_set() const { return set_; }
  // Resumes every coroutine waiting now; the event stays as it is.
  void notify();

  // Completes at once when the event is set, else at the next set() or
  // notify(). Cancellable per operation (so it composes with awaitable
  // operators): a cancelled wait throws
  // boost::system::system_error(operation_aborted).
  boost::asio::awaitable<void> wait();

  // Coroutines parked in wait() now.
  std::size_t waiting() const;

 private:
  struct Waiters;
  struct Service;
  std::unique_ptr<Waiters> waiters_;
  bool set_ = false;
};

}  // namespace csgi
