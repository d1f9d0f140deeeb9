#include "runtime/executor.hpp"

#include <algorithm>
#include <condition_variable>
#include <mutex>

#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>

#if defined(__linux__)
#include <pthread.h>
#include <sched.h>
#endif

namespace csgi {

namespace {

// SyncScheduling::batch: the calling thread runs under SCHED_BATCH, with its
// fair share of the CPU but no wake-up preemption. When the loop and the sync
// threads share a core, the loop then queues every request it has read before
// a sync thread takes the core, instead of one switch of threads in each
// direction per request. With a free core the sync thread starts at once
// either way. Best effort: where the policy cannot be set, nothing changes.
void apply(SyncScheduling scheduling) {
  if (scheduling != SyncScheduling::batch) return;
#if defined(__linux__) && defined(SCHED_BATCH)
  sched_param param{};
  param.sched_priority = 0;
  pthread_setschedparam(pthread_self(), SCHED_BATCH, &param);
#endif
}

}  // namespace

struct SyncExecutor::Impl {
  Impl(std::size_t threads, SyncScheduling scheduling) : pool(threads) {
    // One task per thread, each holding its thread until all have started,
    // so that every thread of the pool runs exactly one of them. The tasks
    // share the rendezvous: a task may still be waking from it after the
    // constructor has seen the count complete and returned.
    struct Rendezvous {
      std::mutex mutex;
      std::condition_variable all_started;
      std::size_t started = 0;
    };
    auto rendezvous = std::make_shared<Rendezvous>();
    for (std::size_t i = 0; i < threads; ++i) {
      boost::asio::post(pool, [rendezvous, threads, scheduling] {
        apply(scheduling);
        std::unique_lock lock(rendezvous->mutex);
        if (++rendezvous->started == threads) rendezvous->all_started.notify_all();
        rendezvous->all_started.wait(lock, [&] { return rendezvous->started == threads; });
      });
    }
    std::unique_lock lock(rendezvous->mutex);
    rendezvous->all_started.wait(lock, [&] { return rendezvous->started == threads; });
  }
  boost::asio::thread_pool pool;
};

SyncExecutor::SyncExecutor(std::size_t threads, SyncScheduling scheduling,
                           std::chrono::milliseconds queue_warning_after)
    : queue_watch_(queue_warning_after),
      threads_(threads == 0 ? 1 : threads),
      scheduling_(scheduling) {}

SyncExecutor::~SyncExecutor() { join(); }

boost::asio::any_io_executor SyncExecutor::get_executor() {
  std::call_once(started_, [this] { impl_ = std::make_unique<Impl>(threads_, scheduling_); });
  return impl_->pool.get_executor();
}

void SyncExecutor::join() {
  if (impl_) impl_->pool.join();  // no pool before the first get_executor()
}

void SyncExecutor::call_queued() {
  if (load_counter_) load_counter_->fetch_add(1, std::memory_order_relaxed);
}

void SyncExecutor::call_done() {
  if (load_counter_) load_counter_->fetch_sub(1, std::memory_order_relaxed);
}

void SyncExecutor::call_running(const TraceContext& trace) {
  std::lock_guard lock(running_mutex_);
  running_.push_back({trace.span, trace.parent});
}

void SyncExecutor::call_finished(const TraceContext& trace) {
  std::lock_guard lock(running_mutex_);
  auto it = std::find_if(running_.begin(), running_.end(),
                         [&](const Running& r) { return r.span == trace.span; });
  if (it == running_.end()) return;
  *it = running_.back();
  running_.pop_back();
}

bool SyncExecutor::certain_deadlock(const TraceContext& trace) const {
  if (trace.parent == 0) return false;
  std::lock_guard lock(running_mutex_);
  if (running_.size() < threads_) return false;
  // Mark the running calls that serve an ancestor of `trace`: its parent, that
  // call's parent, and so on while they run here.
  std::vector<bool> ancestor(running_.size(), false);
  std::size_t marked = 0;
  std::uint64_t wanted = trace.parent;
  for (bool found = true; found && marked < running_.size();) {
    found = false;
    for (std::size_t i = 0; i < running_.size(); ++i) {
      if (ancestor[i] || running_[i].span != wanted) continue;
      ancestor[i] = true;
      ++marked;
      wanted = running_[i].parent;
      found = wanted != 0;
      break;
    }
  }
  return marked == running_.size();
}

namespace {
thread_local int event_loop_depth = 0;
}

bool this_thread_runs_event_loop() { return event_loop_depth > 0; }

EventLoopThreadMark::EventLoopThreadMark() { ++event_loop_depth; }
EventLoopThreadMark::~EventLoopThreadMark() { --event_loop_depth; }

}  // namespace csgi
