#include "runtime/executor.hpp"

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

}  // namespace
}  // namespace csgi
