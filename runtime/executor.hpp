// Executors the adapters run on. Passed explicitly: nothing here is found
// through a thread-local or a global (spec/servers.md, "Executors").
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <memory>
#include <mutex>
#include <optional>
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

// A call queued on a SyncExecutor through submit(). run() is called on one of
// the executor's threads, then complete() on the loop that submitted it, which
// may destroy it. Neither may throw.
class SyncTask {
 public:
  explicit SyncTask(const TraceContext& trace) : trace_(trace) {}
  SyncTask(const SyncTask&) = delete;
  SyncTask& operator=(const SyncTask&) = delete;

  // On the executor's thread, with current_trace() naming the task's request.
  // `wait` is the queue watch's report when this call starts an episode of
  // calls queueing (SyncQueueWatch::started), for the caller to log.
  virtual void run(std::optional<SyncQueueWait> wait) noexcept = 0;
  // On the submitting loop, after run(), with the loop's work count released.
  virtual void complete() noexcept = 0;

 protected:
  ~SyncTask() = default;

 private:
  friend class SyncExecutor;
  TraceContext trace_;
  SyncQueueWatch::time_point queued_at_;
  boost::asio::any_io_executor home_;  // the submitting loop, its work counted
  SyncTask* next_ = nullptr;           // in the queue, then among the answers held
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
// It knows which request each call it runs serves (the TraceContext of its
// SyncTask). With that it knows when a call can never start: every thread is
// held by a call serving one of the new call's callers, each blocked waiting
// for the answer the new call would give (certain_deadlock). And it counts
// the calls queued or running into a load counter, when given one
// (set_load_counter): what a supervised worker publishes so that workers
// share connections by capacity.
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

  // Queues `task` from the event loop `home` (the loop's executor, which
  // counts the task as outstanding work until its complete()). Called on
  // `home`'s thread; `task` must live until its complete().
  //
  // Hand-overs are batched, which is what keeps a loop and a sync thread
  // sharing a core from switching twice per call: the threads are woken once
  // `home` has run the handlers already ready (every request it read in one
  // go), not at each call; and a one-thread executor hands its answers back
  // in one post once its queue is empty (at most `answers_batch` at a time),
  // or as soon as the running call waits for the loop (hand_back_answers).
  // It holds answers only while its calls are short: a call that takes
  // short_call() or longer hands back its answer at once, and for a while
  // after one (the longest recent call, which decays by an eighth per call,
  // is over short_call()) the answers of the calls before the next call go
  // back before it starts. A slow call then delays no answer but the ones
  // finished just before it, once in a while, after a run of quick calls.
  // With more than one thread each answer goes back as its call ends: a call
  // may wait for another's answer there.
  void submit(SyncTask& task, boost::asio::any_io_executor home);
  static constexpr std::size_t answers_batch = 32;
  // A call this long costs more than the wake-ups batching saves. 200 us
  // unless set (before the first call; tests set it).
  std::chrono::steady_clock::duration short_call() const { return short_call_; }
  void set_short_call(std::chrono::steady_clock::duration d) { short_call_ = d; }

  // On one of the executor's threads, from a running task: hands back at once
  // the answers of the calls that ran before it, before a wait for the loop
  // (a request body, a streamed chunk) that might depend on them. Does nothing
  // elsewhere.
  static void hand_back_answers();

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

  // The accounting submit() does for each task, public for work queued
  // another way, from any thread: queued() as it is queued, running() and
  // finished() on the pool thread around it, done() when it has run.
  void call_queued();
  void call_running(const TraceContext& trace);
  void call_finished(const TraceContext& trace);
  void call_done();

  // Adds the calls queued or running to `*counter` from now on (null: stop).
  // Set it before the first call; `counter` must outlive the executor's use.
  void set_load_counter(std::atomic<int>* counter) { load_counter_ = counter; }

 private:
  struct Impl;
  struct Answers;
  // The answers held by the drain() running on this thread (hand_back_answers).
  static thread_local Answers* held_answers_;
  void start();  // starts the threads, once
  void start_drainers();
  void drain();
  static void hand_back(Answers& answers);
  void forget_running(const TraceContext& trace);  // with mutex_ held

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
  // Guards the queue, the drainer counts and the running calls.
  mutable std::mutex mutex_;
  std::vector<Running> running_;
  SyncTask* head_ = nullptr;  // the calls submitted and not yet started
  SyncTask* tail_ = nullptr;
  std::size_t drainers_ = 0;  // drain() posted or running, at most threads_
  std::size_t wanted_ = 0;    // drainers to post at the next start_drainers()
  // The longest recent call of a one-thread executor, decaying (drain()).
  std::chrono::steady_clock::duration recent_call_{};
  std::chrono::steady_clock::duration short_call_ = std::chrono::microseconds(200);
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
