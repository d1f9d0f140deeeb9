// The worker's side of supervision: two small hooks a server calls so that the
// supervisor (servers/supervisor/supervisor.hpp) can watch it.
//
//  - Heartbeat: the server's event loop writes one byte to the supervisor every
//    `Config::heartbeat_interval` from a timer on that loop. A loop that is
//    blocked (an app stuck in a blocking call on the loop thread) stops beating,
//    and the supervisor kills the worker after `timeout_worker_healthcheck`.
//    The first beat also tells the supervisor the worker has booted: the app
//    loaded and lifespan startup succeeded. PolledHeartbeat is the same for a
//    server without an event loop: the thread that waits in poll() (the
//    threaded server's acceptor) beats between its waits.
//  - RequestBudget: counts requests; at `Config::limit_max_requests` it asks to
//    be retired. Supervised, the supervisor starts a replacement and, once it
//    has booted, stops this worker gracefully with SIGTERM; unsupervised, the
//    worker sends itself SIGTERM. Either way the server's normal graceful stop
//    finishes the requests in flight, so none is dropped.
//
// Both do nothing when the Config says the worker is not supervised (no
// heartbeat_fd) or has no request limit, so a server calls them unconditionally.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>

#include <boost/asio/any_io_executor.hpp>

#include "servers/config.hpp"

namespace csgi::servers {

// What a worker writes on its heartbeat channel.
inline constexpr unsigned char heartbeat_beat = 'b';    // alive (the first one: booted)
inline constexpr unsigned char heartbeat_retire = 'r';  // request limit reached: replace me

class Heartbeat {
 public:
  // Beats on `executor` (the server's event loop) to `config.heartbeat_fd`,
  // every `config.heartbeat_interval`. Construct and call start()/stop() on the
  // loop's thread.
  Heartbeat(boost::asio::any_io_executor executor, const Config& config);
  ~Heartbeat();  // stop()s
  Heartbeat(const Heartbeat&) = delete;
  Heartbeat& operator=(const Heartbeat&) = delete;

  // Call once the worker is ready to serve (after lifespan startup, before or
  // as it starts accepting): beats now, then on every interval.
  void start();
  // Call when the server begins its graceful stop, so the timer does not keep
  // the loop alive. The supervisor no longer expects beats from a worker it
  // asked to stop.
  void stop();

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;  // shared with the pending timer handler
};

class PolledHeartbeat {
 public:
  using Clock = std::chrono::steady_clock;

  // Beats to `config.heartbeat_fd` every `config.heartbeat_interval`; does
  // nothing when not supervised. Use from one thread: the one whose waits it
  // bounds.
  explicit PolledHeartbeat(const Config& config);

  // Call on every turn of the loop, once the worker is ready to serve: beats
  // when the interval has passed since the last beat (the first call beats at
  // once: booted).
  void beat_if_due(Clock::time_point now = Clock::now());
  // When beat_if_due() is next due; bound every wait by it, so that only a
  // stuck loop misses a beat. nullopt when not supervised.
  std::optional<Clock::time_point> next_beat() const;

 private:
  int fd_;
  std::chrono::milliseconds interval_;
  std::optional<Clock::time_point> last_;
};

class RequestBudget {
 public:
  // Reads `config.limit_max_requests` (the supervisor has already added this
  // worker's jitter) and `config.heartbeat_fd`.
  explicit RequestBudget(const Config& config);

  // Call once per request the server starts handling, from any thread. The
  // call that reaches the limit asks for retirement (once); later calls are
  // still counted, and the server keeps serving until its graceful stop.
  void count();

  std::size_t taken() const { return taken_.load(std::memory_order_relaxed); }

 private:
  void retire();

  std::optional<std::size_t> limit_;
  int heartbeat_fd_;
  std::atomic<std::size_t> taken_{0};
};

// Writes one byte to a heartbeat channel without blocking and without
// SIGPIPE. False when the supervisor is gone or not reading (channel full).
bool send_heartbeat_byte(int fd, unsigned char byte);

}  // namespace csgi::servers
