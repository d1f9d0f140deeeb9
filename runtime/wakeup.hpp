// A wake-up call for coroutines on one event loop: wait() suspends until the
// next notify(), which resumes every coroutine waiting at that moment. Waiters
// re-check their condition in a loop (the condition variable of the async
// world, without the lock: everything runs on one thread).
//
// Not thread-safe: call notify() and wait() on the thread running `executor`.
// A wait is cancellable per operation; when cancelled it simply returns.
#pragma once

#include <memory>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

namespace csgi {

class Wakeup {
 public:
  explicit Wakeup(const boost::asio::any_io_executor& executor);
  ~Wakeup();
  Wakeup(const Wakeup&) = delete;
  Wakeup& operator=(const Wakeup&) = delete;

  boost::asio::awaitable<void> wait();
  void notify();

 private:
  struct Timer;
  std::unique_ptr<Timer> timer_;
};

}  // namespace csgi
