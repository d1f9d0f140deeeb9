// The deadlines of the waits of a pool's connections (connect, write, each
// read). Internal to client/: included by its .cpp files only (it pulls in
// Asio).
//
// Each connection has a Watchdog; the pool's Deadlines keeps all of them with
// one timer, armed lazily: a wait whose deadline is later than the one the
// timer is armed for leaves the timer alone (it looks again when it fires), so
// a busy pool pays no timer operation per request, no coroutine beside the
// operation and no exception. When the deadline of a wait in progress passes,
// its socket's pending operations (and those of the resolver it was given, if
// any) are cancelled and its expired() turns true: the waiting coroutine sees
// operation_aborted and tells its timeout (expired) from a cancellation by
// its caller (not expired). Once no connection of the pool waits, the timer is
// disarmed on the next turn of the loop, so that a client at rest leaves no
// work on its io_context.
//
// Everything runs on the pool's executor, one thread at a time, like the pool.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "runtime/indexed_set.hpp"
#include "runtime/lazy_timer.hpp"

namespace csgi::client::detail {

class Deadlines;

class Watchdog : public IndexedSetMember {  // in its Deadlines while waiting
 public:
  using Clock = std::chrono::steady_clock;

  // `socket` must outlive the watchdog (both belong to one Connection).
  Watchdog(std::shared_ptr<Deadlines> deadlines, boost::asio::ip::tcp::socket& socket);
  ~Watchdog();
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;

  // Bounds the wait that follows by `deadline`; `resolver`, when given, is
  // cancelled with the socket. One wait at a time; end() it when it is over.
  void begin(Clock::time_point deadline, boost::asio::ip::tcp::resolver* resolver = nullptr);
  void end();
  // Whether the deadline of the last wait passed before end().
  bool expired() const { return expired_; }

 private:
  friend class Deadlines;

  std::shared_ptr<Deadlines> deadlines_;
  boost::asio::ip::tcp::socket& socket_;
  boost::asio::ip::tcp::resolver* resolver_ = nullptr;
  Clock::time_point deadline_{};
  bool expired_ = false;
};

// The one timer of a pool. Create with make_shared (its handlers hold it).
class Deadlines : public std::enable_shared_from_this<Deadlines> {
 public:
  explicit Deadlines(const boost::asio::any_io_executor& executor);

 private:
  friend class Watchdog;
  using Clock = Watchdog::Clock;

  void remove(Watchdog& watchdog);
  void arm(Clock::time_point at);
  void on_timer();
  void disarm_at_rest();

  LazyTimer timer_;
  IndexedSet<Watchdog> waiting_;
  bool rest_check_pending_ = false;
};

// One bounded wait, ended however the coroutine leaves its scope.
class BoundedWait {
 public:
  BoundedWait(Watchdog& watchdog, Watchdog::Clock::time_point deadline,
              boost::asio::ip::tcp::resolver* resolver = nullptr)
      : watchdog_(watchdog) {
    watchdog_.begin(deadline, resolver);
  }
  ~BoundedWait() { watchdog_.end(); }
  BoundedWait(const BoundedWait&) = delete;
  BoundedWait& operator=(const BoundedWait&) = delete;

  bool expired() const { return watchdog_.expired(); }

 private:
  Watchdog& watchdog_;
};

}  // namespace csgi::client::detail
