// Executors the adapters run on. Passed explicitly: nothing here is found
// through a thread-local or a global (spec/servers.md, "Executors").
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <mutex>

#include <boost/asio/any_io_executor.hpp>

#include "runtime/sync_queue_watch.hpp"

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

 private:
  struct Impl;
  std::once_flag started_;
  SyncQueueWatch queue_watch_;  // outlives the pool, whose work tells it
  std::unique_ptr<Impl> impl_;
  std::size_t threads_;
  SyncScheduling scheduling_;
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
