// Deadlines on waits: the one timeout mechanism of the loop server's
// connections and the HTTP client's pools. A Deadline bounds one wait at a
// time (a read, a connect, a write); when it passes, the Deadline calls its
// owner's cancel action (a socket's cancel()) and records that it expired, so
// that the waiter, seeing operation_aborted, tells its timeout (expired())
// from a cancellation by its caller (not expired).
//
// The deadlines of a DeadlineTimer share its one timer, armed lazily: it stays
// armed for the earliest time asked of it, so a deadline later than that
// (the next request's keep-alive, the next read's limit) costs no timer
// operation; when the timer fires it looks at the deadlines running then and
// re-arms for the earliest one still ahead. A busy connection or pool thus
// pays no timer operation per request, no coroutine beside the operation and
// no exception.
//
// A timer walks its running deadlines when it fires: give each owner whose
// deadlines pass at times of their own (a server's connections) a timer of
// its own, and let owners that wait in step (a client pool's connections)
// share one.
//
// Not thread-safe: everything runs on the thread of the timer's executor.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>

#include "runtime/indexed_set.hpp"

namespace csgi {

class DeadlineTimer;

class Deadline : public IndexedSetMember {  // in its timer's set while it lives
 public:
  using Clock = std::chrono::steady_clock;

  // `on_expired` cancels what the bounded wait awaits. It is called from the
  // timer's handler, and must not start or stop a deadline of the same timer
  // (the cancelled wait completes later, through the executor). `timer` must
  // outlive this deadline.
  Deadline(DeadlineTimer& timer, std::function<void()> on_expired);
  ~Deadline();  // stops
  Deadline(const Deadline&) = delete;
  Deadline& operator=(const Deadline&) = delete;

  // Bounds the wait that follows by `at` (again: moves the deadline of the
  // running wait, clearing expired()). Inline, as stop() is: both run on
  // every request of a kept-alive connection.
  inline void start(Clock::time_point at);
  // The wait is over: nothing is called for it any more.
  inline void stop();
  bool running() const { return running_; }
  // Whether the deadline of the last wait passed before stop().
  bool expired() const { return expired_; }
  Clock::time_point at() const { return at_; }

 private:
  friend class DeadlineTimer;

  DeadlineTimer& timer_;
  std::function<void()> on_expired_;
  Clock::time_point at_{};
  bool running_ = false;
  bool expired_ = false;
};

class DeadlineTimer {
 public:
  using Clock = Deadline::Clock;
  // What the timer does once no deadline runs: stay armed until it fires (a
  // server, whose connections wait again soon), or disarm on the next turn of
  // the loop unless a deadline started meanwhile, so that a client at rest
  // leaves no work on its io_context.
  enum class AtRest { stay_armed, disarm };

  DeadlineTimer(const boost::asio::any_io_executor& executor, AtRest at_rest);
  ~DeadlineTimer();
  DeadlineTimer(const DeadlineTimer&) = delete;
  DeadlineTimer& operator=(const DeadlineTimer&) = delete;

  // Who keeps this timer alive: its own shared_ptr, or (aliasing) that of the
  // object it is a member of. The timer's pending handlers hold it, since a
  // wait can complete after the owner let go of everything else. Call before
  // the first deadline starts.
  void keep_alive_by(std::weak_ptr<const void> owner) { owner_ = std::move(owner); }

  // No call comes from the waits armed so far (the owner closes).
  void disarm();
  bool armed() const { return armed_; }

 private:
  friend class Deadline;

  // Arms for `at` unless already armed for `at` or earlier.
  void arm_by(Clock::time_point at) {
    if (!armed_ || at < armed_at_) arm(at);
  }
  void arm(Clock::time_point at);
  // A wait ended, and none runs now.
  void came_to_rest() {
    if (at_rest_ == AtRest::disarm) post_rest_check();
  }
  void post_rest_check();
  void on_fire();
  void disarm_at_rest();

  boost::asio::steady_timer timer_;
  IndexedSet<Deadline> deadlines_;  // all of them, running or not
  std::size_t running_ = 0;
  std::weak_ptr<const void> owner_;
  Clock::time_point armed_at_{};
  unsigned generation_ = 0;
  AtRest at_rest_;
  bool armed_ = false;
  bool rest_check_pending_ = false;
};

void Deadline::start(Clock::time_point at) {
  at_ = at;
  expired_ = false;
  if (!running_) {
    running_ = true;
    ++timer_.running_;
  }
  timer_.arm_by(at);
}

void Deadline::stop() {
  if (!running_) return;
  running_ = false;
  if (--timer_.running_ == 0) timer_.came_to_rest();
}

// One bounded wait, ended however the coroutine leaves its scope.
class BoundedWait {
 public:
  BoundedWait(Deadline& deadline, Deadline::Clock::time_point at) : deadline_(deadline) { deadline_.start(at); }
  ~BoundedWait() { deadline_.stop(); }
  BoundedWait(const BoundedWait&) = delete;
  BoundedWait& operator=(const BoundedWait&) = delete;

  bool expired() const { return deadline_.expired(); }

 private:
  Deadline& deadline_;
};

}  // namespace csgi
