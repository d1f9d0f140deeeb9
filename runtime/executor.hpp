// Executors the adapters run on. Passed explicitly: nothing here is found
// through a thread-local or a global (spec/servers.md, "Executors").
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <vector>

#include <boost/asio/any_io_executor.hpp>

#include "runtime/sync_queue_watch.hpp"
#include "runtime/trace.hpp"

namespace csgi {

// How the threads of a SyncExecutor are scheduled.
enum class SyncScheduling {
  normal,  // the OS's default policy, inherited from the process
  // Linux's SCHED_BATCH: a thread that work wakes does not preempt the event
  // loop on a shared core, so the loop reads every ready request before the
  // sync thread answers them in one go. Threads that app code starts from a
  // sync thread inherit the policy (it is per thread, and pthread_create
  // copies it); elsewhere it changes nothing.
  batch,
};

// A pool of `threads` threads for sync apps called from an event loop. With one
// thread (the default) every sync call is serialised: the "thread-sensitive"
// executor of spec/servers.md. The threads start at the first get_executor(),
// which adapting a sync app does: a server hosting only async apps stays a
// single-threaded process, and the C library and shared_ptr then skip their
// thread-safety costs (cancellation points, locks, atomic counts).
//
// Its queue_watch() tells when a call waited longer than `queue_warning_after`
// to start; those who queue calls report it (gateway/wsgi_to_asgi.cpp logs it).
//
// Those who queue calls through the gateway also tell it which request each
// call serves (its TraceContext) as the call starts and ends. With that it
// knows when a call can never start: every thread is held by a call serving
// one of the new call's callers, each blocked waiting for the answer the new
// call would give (certain_deadlock). And it counts the calls queued or
// running into a load counter, when given one (set_load_counter): what a
// supervised worker publishes so that workers share connections by capacity.
class SyncExecutor {
 public:
  explicit SyncExecutor(std::size_t threads = 1,
                        SyncScheduling scheduling = SyncScheduling::normal,
                        std::chrono::milliseconds queue_warning_after = std::chrono::seconds(1));
  ~SyncExecutor();  // stops and joins
  SyncExecutor(const SyncExecutor&) = delete;
  SyncExecutor& operator=(const SyncExecutor&) = delete;

  boost::asio::any_io_executor get_executor();
  std::size_t threads() const { return threads_; }
  // Counts the calls queued through the gateway (wsgi_to_asgi, run_sync);
  // work posted straight to get_executor() is not counted.
  SyncQueueWatch& queue_watch() { return queue_watch_; }
  // Waits for queued work to finish, then joins the threads.
  void join();

  // True when a call serving `trace` would wait for ever: every thread runs a
  // call, and each serves the request that made `trace`'s request or one of
  // that request's own callers (followed through the calls running here).
  // False whenever a thread is free or runs anything else. Thread-safe.
  bool certain_deadlock(const TraceContext& trace) const;

  // Called by whoever queues a call (gateway/wsgi_to_asgi.cpp), from any
  // thread: queued() as it is queued, running()/finished() on the pool thread
  // around it, done() when it will not run or has run.
  void call_queued();
  void call_running(const TraceContext& trace);
  void call_finished(const TraceContext& trace);
  void call_done();

  // Adds the calls queued or running to `*counter` from now on (null: stop).
  // Set it before the first call; `counter` must outlive the executor's use.
  void set_load_counter(std::atomic<int>* counter) { load_counter_ = counter; }

 private:
  struct Impl;
  std::once_flag started_;
  SyncQueueWatch queue_watch_;  // outlives the pool, whose work tells it
  std::unique_ptr<Impl> impl_;
  std::size_t threads_;
  SyncScheduling scheduling_;
  // The span and parent of the call each busy thread runs (certain_deadlock).
  struct Running {
    std::uint64_t span;
    std::uint64_t parent;
  };
  mutable std::mutex running_mutex_;
  std::vector<Running> running_;
  std::atomic<int>* load_counter_ = nullptr;
};

// The answer for a call that certain_deadlock() refused: it never ran.
struct SyncDeadlock : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// True while the calling thread runs an event loop that csgi drives (a server's
// loop thread, or the private loop of asgi_to_wsgi). A blocking call made there
// would stall every other task on that loop.
bool this_thread_runs_event_loop();

// Marks the calling thread as an event-loop thread for its lifetime (nestable).
class EventLoopThreadMark {
 public:
  EventLoopThreadMark();
  ~EventLoopThreadMark();
  EventLoopThreadMark(const EventLoopThreadMark&) = delete;
  EventLoopThreadMark& operator=(const EventLoopThreadMark&) = delete;
};

}  // namespace csgi
