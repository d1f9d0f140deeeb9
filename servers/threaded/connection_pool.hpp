// The connection threads of the threaded server and the bounded queue of
// accepted connections that wait for one.
//
// The acceptor thread hands every accepted socket to submit(). A connection
// goes to an idle thread, or starts a new one while fewer than `threads` run,
// or waits in the queue. A connection that finds the queue full, or that waited
// longer than `queue_timeout`, is handed to `reject` (which answers 503); the
// pool never blocks the acceptor and never grows past its bounds.
//
// A thread serves one connection at a time with `serve` (keep-alive included)
// and closes the socket after it returns. A thread idle between keep-alive
// requests should watch attention_fd(): it becomes readable while connections
// wait for a thread (the idle connection should give its thread up). A
// stopping pool does not call on idle connections: they end at their next
// response or at the keep-alive timeout.
//
// Thread-safety: submit(), expire_waiting() and the stop functions are called by
// the acceptor / owner thread; the rest by the connection threads.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_set>
#include <vector>

namespace csgi::servers::threaded {

using Clock = std::chrono::steady_clock;

struct PoolOptions {
  std::size_t threads = 1;                       // connection threads, at most
  std::size_t queue_capacity = 64;               // connections waiting for a thread
  std::chrono::milliseconds queue_timeout{5000}; // longest wait before the 503
};

class ConnectionPool : public std::enable_shared_from_this<ConnectionPool> {
 public:
  // Serves the connection on `fd` until it is done; must not close `fd`. Runs on
  // a connection thread; an exception escaping it is logged and the socket closed.
  using Serve = std::function<void(int fd, ConnectionPool& pool)>;
  // Answers the refused connection on `fd` (503); must not block for long or
  // close `fd`. Runs on the thread that calls submit() or expire_waiting().
  using Reject = std::function<void(int fd)>;

  // Shared so that a thread still blocked in an app after join() timed out
  // keeps the pool alive until it returns.
  static std::shared_ptr<ConnectionPool> create(PoolOptions options, Serve serve, Reject reject);
  ~ConnectionPool();  // closes the sockets still queued
  ConnectionPool(const ConnectionPool&) = delete;
  ConnectionPool& operator=(const ConnectionPool&) = delete;

  // Takes ownership of the accepted socket `fd`.
  void submit(int fd);

  // Rejects the connections that waited longer than queue_timeout. Returns when
  // the next waiting connection expires (nullopt: none waits), so the acceptor
  // can bound its poll() by it.
  std::optional<Clock::time_point> expire_waiting();

  // Readable while connections wait for a thread.
  int attention_fd() const { return attention_fd_; }
  // Readable once the pool stopped accepting and every thread has returned:
  // what a graceful shutdown waits for, with the other wakeups, in one wait.
  int done_fd() const { return done_fd_; }
  // For an idle connection that saw attention_fd() readable: true when it
  // should close so that its thread serves a waiting connection (each waiting
  // connection is claimed by one idle thread only).
  bool yield_idle_connection();
  // True once stop_accepting() was called. Lock-free: a connection asks it
  // for every response.
  bool stopping() const;

  // Stops taking connections: later submits are rejected, and threads exit
  // once the queue is empty (the connections already queued are still
  // served). Every later response carries Connection: close (stopping()).
  void stop_accepting();
  // shutdown(2)s every socket being served, so blocked reads and writes fail,
  // and rejects the connections still queued.
  void abort_connections();
  // True once every thread has returned (after stop_accepting()); waits for it
  // until `deadline`.
  bool wait_until_done(Clock::time_point deadline);
  // Waits until every thread has returned or `deadline` passes, and joins them.
  // Returns false on timeout: the threads still running are detached (each holds
  // the pool) and finish on their own. Call once, after stop_accepting().
  bool join(Clock::time_point deadline);

  // Counts, for tests and logs.
  std::size_t threads_started() const;
  std::size_t connections_served() const;  // being served now
  std::size_t connections_waiting() const;

 private:
  struct Waiting {
    int fd;
    Clock::time_point since;
  };
  ConnectionPool(PoolOptions options, Serve serve, Reject reject);
  void run_thread();
  int take_locked(std::unique_lock<std::mutex>& lock);
  // Threads started and not serving a connection (waiting, or starting up).
  std::size_t free_threads_locked() const;
  void update_attention_locked();
  void signal_done_locked();
  void reject_and_close(int fd);

  PoolOptions options_;
  Serve serve_;
  Reject reject_;
  int attention_fd_ = -1;
  int done_fd_ = -1;

  mutable std::mutex mutex_;
  std::condition_variable work_ready_;
  std::condition_variable thread_done_;
  std::deque<Waiting> queue_;
  std::unordered_set<int> served_;
  std::vector<std::thread> threads_;
  std::size_t idle_threads_ = 0;
  std::size_t running_threads_ = 0;
  std::size_t claims_ = 0;          // idle connections yielding for a waiting one
  std::atomic<bool> stopping_{false};  // written under mutex_; read without it
  bool attention_on_ = false;
};

}  // namespace csgi::servers::threaded
