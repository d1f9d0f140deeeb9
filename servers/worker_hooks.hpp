// What a server tells whoever runs it while it serves, and how it is told to
// stop for it: the worker hooks. A server is handed them (RunOptions::hooks,
// servers/server.hpp) and never knows who implements them; the supervisor's
// worker side (servers/supervisor/worker.hpp) is one implementation, and the
// base class itself is the do-nothing one a server uses when nobody watches it.
//
//  - Heartbeat: while it serves, the server calls beat() from its own loop every
//    heartbeat_interval(), so that a watcher can tell a blocked loop from a
//    live one. The first beat also says the server is up: the app loaded and
//    lifespan startup succeeded. Heartbeat (a timer on an event loop) and
//    PolledHeartbeat (for a thread that waits in poll()) drive it.
//  - Load sharing: a server whose capacity is bounded (the loop server's sync
//    threads) joins with its capacity and keeps the counter it is given up
//    to date; before it takes a connection it has no room for, it asks
//    whether another worker has room, and leaves the connection to it if so.
//    The default has nobody to share with: the server takes every connection.
//  - Request budget: RequestBudget counts the requests a server starts; at
//    Config::limit_max_requests it calls request_limit_reached() once, with
//    the server's own graceful stop. The default calls it: an embedded server
//    stops itself, finishing the requests in flight, and signals nobody.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>

#include <boost/asio/any_io_executor.hpp>

namespace csgi::servers {

class WorkerHooks {
 public:
  virtual ~WorkerHooks() = default;

  // How often the server calls beat() while it serves; nullopt: never (the
  // default). Must return the same value for the whole run.
  virtual std::optional<std::chrono::milliseconds> heartbeat_interval() const {
    return std::nullopt;
  }
  // Called from the server's loop (the thread whose being stuck matters): once
  // when the server starts serving, then on every interval until its graceful
  // stop begins. Must not block.
  virtual void beat() {}
  // Called once, from the thread that counted the request, when the server has
  // started its limit_max_requests-th request. `stop_server` begins the
  // server's graceful stop (thread-safe; it returns at once). The default
  // calls it. Must not block.
  virtual void request_limit_reached(const std::function<void()>& stop_server) { stop_server(); }

  // Called once, from the server's loop, as it starts serving: where to count
  // its load (connections waiting for their first request, sync calls queued
  // or running) against `capacity`; null: nobody to share with (the default),
  // and the server counts nothing. The counter outlives the server's run.
  virtual std::atomic<int>* join_load_sharing(int capacity) { return nullptr; }
  // After a non-null join: true when another worker has room for a
  // connection. Called often; must be cheap and must not block.
  virtual bool another_worker_has_room() const { return false; }
  // The server takes no more connections (its graceful stop began).
  virtual void leave_load_sharing() {}
};

// The do-nothing hooks, shared: what a server uses when RunOptions has none.
WorkerHooks& default_worker_hooks();

// Calls hooks.beat() from a timer on an event loop, every heartbeat_interval().
class Heartbeat {
 public:
  // Construct and call start()/stop() on the loop's thread; `hooks` must
  // outlive this.
  Heartbeat(boost::asio::any_io_executor executor, WorkerHooks& hooks);
  ~Heartbeat();  // stop()s
  Heartbeat(const Heartbeat&) = delete;
  Heartbeat& operator=(const Heartbeat&) = delete;

  // Call once the server is ready to serve: beats now, then on every interval.
  void start();
  // Call when the server begins its graceful stop, so that the timer does not
  // keep the loop alive.
  void stop();

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;  // shared with the pending timer handler
};

// The same for a server without an event loop: the thread that waits in poll()
// (the threaded server's acceptor) beats between its waits.
class PolledHeartbeat {
 public:
  using Clock = std::chrono::steady_clock;

  // Use from one thread: the one whose waits it bounds. `hooks` must outlive
  // this.
  explicit PolledHeartbeat(WorkerHooks& hooks);

  // Call on every turn of the loop, once serving: beats when the interval has
  // passed since the last beat (the first call beats at once).
  void beat_if_due(Clock::time_point now = Clock::now());
  // When beat_if_due() is next due; bound every wait by it, so that only a
  // stuck loop misses a beat. nullopt when the hooks want no heartbeat.
  std::optional<Clock::time_point> next_beat() const;

 private:
  WorkerHooks& hooks_;
  std::optional<std::chrono::milliseconds> interval_;
  std::optional<Clock::time_point> last_;
};

// Counts the requests a server starts against Config::limit_max_requests.
class RequestBudget {
 public:
  // Counts, but never reaches a limit, until start() gives it one.
  RequestBudget() = default;
  RequestBudget(const RequestBudget&) = delete;
  RequestBudget& operator=(const RequestBudget&) = delete;

  // Call once, before the server starts serving: at `limit` requests (none:
  // never) the budget calls hooks.request_limit_reached(stop_server). `hooks`
  // must outlive the counting.
  void start(std::optional<std::size_t> limit, WorkerHooks& hooks,
             std::function<void()> stop_server);

  // Call once per request the server starts handling, from any thread. The
  // call that reaches the limit calls the hooks (once); later calls are still
  // counted, and the server keeps serving until its graceful stop. Counts
  // nothing without a limit.
  void count();

  std::size_t taken() const { return taken_.load(std::memory_order_relaxed); }

 private:
  std::optional<std::size_t> limit_;
  WorkerHooks* hooks_ = nullptr;
  std::function<void()> stop_server_;
  std::atomic<std::size_t> taken_{0};
};

}  // namespace csgi::servers
