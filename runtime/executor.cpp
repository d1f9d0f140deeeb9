#include "runtime/executor.hpp"

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <utility>

#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/prefer.hpp>
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

void SyncExecutor::start() {
  std::call_once(started_, [this] { impl_ = std::make_unique<Impl>(threads_, scheduling_); });
}

boost::asio::any_io_executor SyncExecutor::get_executor() {
  start();
  return impl_->pool.get_executor();
}

void SyncExecutor::join() {
  if (!impl_) return;  // no pool before the first get_executor() or submit()
  {
    // Calls whose loop stopped before it woke the threads still run.
    std::lock_guard lock(mutex_);
    if (head_ && drainers_ == 0) {
      ++drainers_;
      boost::asio::post(impl_->pool, [this] { drain(); });
    }
  }
  impl_->pool.join();
}

// The answers a drain() holds: tasks that ran, linked through next_, to hand
// back to their loops.
struct SyncExecutor::Answers {
  SyncTask* head = nullptr;
  SyncTask* tail = nullptr;
  std::size_t count = 0;

  void push(SyncTask* task) {
    task->next_ = nullptr;
    (tail ? tail->next_ : head) = task;
    tail = task;
    ++count;
  }
};

thread_local SyncExecutor::Answers* SyncExecutor::held_answers_ = nullptr;

void SyncExecutor::submit(SyncTask& task, boost::asio::any_io_executor home) {
  start();
  task.home_ = boost::asio::prefer(std::move(home), boost::asio::execution::outstanding_work.tracked);
  task.next_ = nullptr;
  bool kick = false;
  {
    std::lock_guard lock(mutex_);
    task.queued_at_ = queue_watch_.queued();
    call_queued();
    (tail_ ? tail_->next_ : head_) = &task;
    tail_ = &task;
    // A drainer already running takes the task; more run only up to one per
    // thread, since each may be held by its call.
    if (drainers_ + wanted_ < threads_) kick = wanted_++ == 0;
  }
  // Posted behind the handlers the loop already has ready: the threads wake
  // once for all the calls those handlers submit.
  if (kick) boost::asio::post(task.home_, [this] { start_drainers(); });
}

void SyncExecutor::start_drainers() {
  std::size_t wanted = 0;
  {
    std::lock_guard lock(mutex_);
    wanted = std::exchange(wanted_, 0);
    drainers_ += wanted;
  }
  for (std::size_t i = 0; i < wanted; ++i) boost::asio::post(impl_->pool, [this] { drain(); });
}

// On a pool thread: runs the queued calls until none is left, handing the
// answers back to their loops in batches (see submit()).
void SyncExecutor::drain() {
  Answers answers;
  Answers* outer = std::exchange(held_answers_, &answers);
  const bool hold = threads_ == 1;
  std::unique_lock lock(mutex_);
  while (SyncTask* task = head_) {
    head_ = task->next_;
    if (!head_) tail_ = nullptr;
    running_.push_back({task->trace_.span, task->trace_.parent});
    lock.unlock();
    // After a slow call, the next may be slow too: what is held goes first.
    if (answers.count > 0 && recent_call_ >= short_call_) hand_back(answers);
    // Only a one-thread executor holds answers, and only it times its calls
    // (recent_call_ is then touched by its one thread alone).
    const auto started = hold ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point{};
    {
      CurrentTrace current(&task->trace_);
      task->run(queue_watch_.started(task->queued_at_));
    }
    bool slow = false;
    if (hold) {
      const auto took = std::chrono::steady_clock::now() - started;
      recent_call_ = std::max(took, recent_call_ - recent_call_ / 8);
      slow = took >= short_call_;
    }
    call_done();
    lock.lock();
    forget_running(task->trace_);
    answers.push(task);
    if (!hold || answers.count >= answers_batch || slow) {
      lock.unlock();
      hand_back(answers);
      lock.lock();
    }
  }
  --drainers_;
  lock.unlock();
  hand_back(answers);
  held_answers_ = outer;
}

void SyncExecutor::hand_back_answers() {
  if (held_answers_) hand_back(*held_answers_);
}

// Posts the answers held to their loops, one post per run of answers bound
// for the same loop. The count of outstanding work goes back with each answer
// and ends on its loop: once an answer is queued, this thread must not touch
// it nor the loop, which may be gone as soon as the awaiting coroutine resumes.
void SyncExecutor::hand_back(Answers& answers) {
  SyncTask* task = std::exchange(answers.head, nullptr);
  answers.tail = nullptr;
  answers.count = 0;
  while (task) {
    SyncTask* first = task;
    SyncTask* last = first;
    while (last->next_ && last->next_->home_ == first->home_) last = last->next_;
    task = std::exchange(last->next_, nullptr);
    auto loop = boost::asio::prefer(first->home_, boost::asio::execution::outstanding_work.untracked);
    boost::asio::post(loop, [first] {
      for (SyncTask* answer = first; answer;) {
        SyncTask* next = answer->next_;
        answer->home_ = {};
        answer->complete();
        answer = next;
      }
    });
  }
}

void SyncExecutor::call_queued() {
  if (load_counter_) load_counter_->fetch_add(1, std::memory_order_relaxed);
}

void SyncExecutor::call_done() {
  if (load_counter_) load_counter_->fetch_sub(1, std::memory_order_relaxed);
}

void SyncExecutor::call_running(const TraceContext& trace) {
  std::lock_guard lock(mutex_);
  running_.push_back({trace.span, trace.parent});
}

void SyncExecutor::call_finished(const TraceContext& trace) {
  std::lock_guard lock(mutex_);
  forget_running(trace);
}

void SyncExecutor::forget_running(const TraceContext& trace) {
  auto it = std::find_if(running_.begin(), running_.end(),
                         [&](const Running& r) { return r.span == trace.span; });
  if (it == running_.end()) return;
  *it = running_.back();
  running_.pop_back();
}

bool SyncExecutor::certain_deadlock(const TraceContext& trace) const {
  if (trace.parent == 0) return false;
  std::lock_guard lock(mutex_);
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
