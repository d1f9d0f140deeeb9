#include "runtime/executor.hpp"

#include <chrono>
#include <functional>
#include <future>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <gtest/gtest.h>

namespace csgi {
namespace {

// A request made by `caller` (its traceparent names the caller's span).
TraceContext made_by(const TraceContext& caller) {
  return TraceContext::for_request(caller.traceparent());
}

TEST(CertainDeadlock, TheOnlyThreadHeldByTheCallerIsOne) {
  SyncExecutor executor(1);
  TraceContext caller = TraceContext::for_request(std::nullopt);
  TraceContext call = made_by(caller);
  EXPECT_FALSE(executor.certain_deadlock(call));  // the thread is free
  executor.call_running(caller);
  EXPECT_TRUE(executor.certain_deadlock(call));
  executor.call_finished(caller);
  EXPECT_FALSE(executor.certain_deadlock(call));
}

TEST(CertainDeadlock, AThreadHeldByAnotherRequestWillFreeItself) {
  SyncExecutor executor(1);
  TraceContext caller = TraceContext::for_request(std::nullopt);
  TraceContext sibling = made_by(caller);  // same trace, not an ancestor
  executor.call_running(sibling);
  EXPECT_FALSE(executor.certain_deadlock(made_by(caller)));
  EXPECT_FALSE(executor.certain_deadlock(TraceContext::for_request(std::nullopt)));
  executor.call_finished(sibling);
}

TEST(CertainDeadlock, AFreeThreadMeansNoDeadlock) {
  SyncExecutor executor(2);
  TraceContext caller = TraceContext::for_request(std::nullopt);
  executor.call_running(caller);
  EXPECT_FALSE(executor.certain_deadlock(made_by(caller)));
  executor.call_finished(caller);
}

TEST(CertainDeadlock, EveryThreadHeldByAChainOfCallersIsOne) {
  // grandparent (thread 1) called parent (thread 2), which calls again.
  SyncExecutor executor(2);
  TraceContext grandparent = TraceContext::for_request(std::nullopt);
  TraceContext parent = made_by(grandparent);
  executor.call_running(grandparent);
  executor.call_running(parent);
  EXPECT_TRUE(executor.certain_deadlock(made_by(parent)));
  // The grandparent calling again finds its thread and its child's held, but
  // the child is not its caller: the child may still finish.
  EXPECT_FALSE(executor.certain_deadlock(made_by(grandparent)));
  executor.call_finished(parent);
  executor.call_finished(grandparent);
}

TEST(SyncExecutorLoad, CountsCallsQueuedOrRunningIntoTheCounter) {
  SyncExecutor executor(1);
  std::atomic<int> load = 0;
  executor.set_load_counter(&load);
  executor.call_queued();
  executor.call_queued();
  EXPECT_EQ(load.load(), 2);
  executor.call_done();
  EXPECT_EQ(load.load(), 1);
  executor.call_done();
  EXPECT_EQ(load.load(), 0);
}

// A task whose run() and complete() call the functions given, recording the
// threads they ran on.
class RecordingTask final : public SyncTask {
 public:
  explicit RecordingTask(std::function<void()> on_run = {}, std::function<void()> on_complete = {})
      : SyncTask(TraceContext::for_request(std::nullopt)),
        on_run_(std::move(on_run)),
        on_complete_(std::move(on_complete)) {}

  void run(std::optional<SyncQueueWait>) noexcept override {
    ran_on = std::this_thread::get_id();
    if (on_run_) on_run_();
  }
  void complete() noexcept override {
    completed_on = std::this_thread::get_id();
    if (on_complete_) on_complete_();
  }

  std::thread::id ran_on;
  std::thread::id completed_on;

 private:
  std::function<void()> on_run_;
  std::function<void()> on_complete_;
};

// Submits `tasks` from one handler of `io` and runs `io` until every task
// completed; returns the number of handlers `io` ran.
std::size_t submit_together(SyncExecutor& executor, std::vector<RecordingTask*> tasks) {
  boost::asio::io_context io;
  boost::asio::post(io, [&] {
    for (auto* task : tasks) executor.submit(*task, io.get_executor());
  });
  return io.run();
}

TEST(SyncExecutorSubmit, TasksRunOnThePoolAndCompleteOnTheirLoop) {
  SyncExecutor executor(1);
  RecordingTask first, second;
  submit_together(executor, {&first, &second});
  EXPECT_NE(first.ran_on, std::this_thread::get_id());
  EXPECT_EQ(first.completed_on, std::this_thread::get_id());
  EXPECT_EQ(second.ran_on, first.ran_on);
  EXPECT_EQ(second.completed_on, std::this_thread::get_id());
}

TEST(SyncExecutorSubmit, OneThreadWokenOnceAndAnswersBackInOnePost) {
  SyncExecutor executor(1);
  executor.set_short_call(std::chrono::hours(1));  // a preempted call stays short
  RecordingTask a, b, c;
  // The submitting handler, the one that wakes the pool, the one of the answers.
  EXPECT_EQ(submit_together(executor, {&a, &b, &c}), 3u);
}

// One task's completion on the loop, awaited by another task on the pool:
// whether its answer was handed back while that other task ran.
struct Completion {
  std::promise<void> promise;
  std::future<void> future = promise.get_future();
  void set() { promise.set_value(); }
  bool arrives() { return future.wait_for(std::chrono::seconds(5)) == std::future_status::ready; }
};

TEST(SyncExecutorSubmit, AnswersHeldGoBackBeforeAWaitForTheLoop) {
  SyncExecutor executor(1);
  Completion first_completed;
  bool waited = false;
  RecordingTask first({}, [&] { first_completed.set(); });
  RecordingTask second([&] {
    SyncExecutor::hand_back_answers();
    waited = first_completed.arrives();
  });
  submit_together(executor, {&first, &second});
  EXPECT_TRUE(waited);
}

// A slow call hands its answer back as it ends: the call after it, which
// waits for that answer, is not left holding it.
TEST(SyncExecutorSubmit, ASlowCallsAnswerGoesBackAtOnce) {
  SyncExecutor executor(1);
  Completion slow_completed;
  bool waited = false;
  RecordingTask slow([&] { std::this_thread::sleep_for(2 * executor.short_call()); },
                     [&] { slow_completed.set(); });
  RecordingTask next([&] { waited = slow_completed.arrives(); });
  submit_together(executor, {&slow, &next});
  EXPECT_TRUE(waited);
}

// After a slow call, the answers of quick calls go back before the next call
// starts: a slow call behind them would otherwise hold them.
TEST(SyncExecutorSubmit, AfterASlowCallQuickAnswersAreNotHeldBehindTheNext) {
  SyncExecutor executor(1);
  Completion quick_completed;
  bool waited = false;
  RecordingTask slow([&] { std::this_thread::sleep_for(2 * executor.short_call()); });
  RecordingTask quick({}, [&] { quick_completed.set(); });
  RecordingTask next([&] { waited = quick_completed.arrives(); });
  submit_together(executor, {&slow, &quick, &next});
  EXPECT_TRUE(waited);
}

TEST(SyncExecutorSubmit, WithMoreThreadsEachAnswerReturnsAsItsCallEnds) {
  SyncExecutor executor(2);
  Completion second_completed;
  bool waited = false;
  RecordingTask first([&] { waited = second_completed.arrives(); });
  RecordingTask second({}, [&] { second_completed.set(); });
  submit_together(executor, {&first, &second});
  EXPECT_TRUE(waited);
  EXPECT_NE(first.ran_on, second.ran_on);
}

}  // namespace
}  // namespace csgi
