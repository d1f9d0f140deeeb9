// SyncQueueWatch: the first call of an episode that waited beyond the threshold
// is reported, with how long it waited and how many still wait; later calls of
// the same episode are not; a drained queue ends the episode. Waits are made by
// handing started() a time before the call was queued: no test sleeps.
#include <gtest/gtest.h>

#include <chrono>

#include "runtime/sync_queue_watch.hpp"

namespace csgi {
namespace {

using namespace std::chrono_literals;

// A call queued now that has waited `wait` by the time it starts.
SyncQueueWatch::time_point queued_waiting(SyncQueueWatch& watch, std::chrono::milliseconds wait) {
  return watch.queued() - wait;
}

TEST(SyncQueueWatchTest, FirstCallBeyondTheThresholdReportsItsWaitAndTheCallsBehindIt) {
  SyncQueueWatch watch(50ms);
  auto first = queued_waiting(watch, 0ms);
  auto second = queued_waiting(watch, 2s);
  auto third = queued_waiting(watch, 3s);
  EXPECT_EQ(watch.waiting(), 3u);
  EXPECT_FALSE(watch.started(first));
  auto report = watch.started(second);
  ASSERT_TRUE(report);
  EXPECT_GE(report->waited, 2s);
  EXPECT_LT(report->waited, 3s);
  EXPECT_EQ(report->waiting, 1u);
  EXPECT_FALSE(watch.started(third)) << "the episode was reported already";
  EXPECT_EQ(watch.waiting(), 0u);
}

TEST(SyncQueueWatchTest, EpisodeLastsWhileCallsKeepWaiting) {
  SyncQueueWatch watch(50ms);
  auto first = queued_waiting(watch, 1s);
  auto second = queued_waiting(watch, 1s);
  EXPECT_TRUE(watch.started(first));
  auto third = queued_waiting(watch, 1s);  // queued before the queue drained
  EXPECT_FALSE(watch.started(second));
  EXPECT_FALSE(watch.started(third));
}

TEST(SyncQueueWatchTest, DrainedQueueEndsTheEpisodeAndTheNextOneIsReportedAgain) {
  SyncQueueWatch watch(50ms);
  auto report = watch.started(queued_waiting(watch, 1s));
  ASSERT_TRUE(report);
  EXPECT_EQ(report->waiting, 0u);
  EXPECT_TRUE(watch.started(queued_waiting(watch, 1s)));
}

TEST(SyncQueueWatchTest, CallsWithinTheThresholdReportNothing) {
  SyncQueueWatch watch(1s);
  auto first = queued_waiting(watch, 0ms);
  auto second = queued_waiting(watch, 500ms);
  EXPECT_FALSE(watch.started(first));
  EXPECT_FALSE(watch.started(second));
  EXPECT_EQ(watch.waiting(), 0u);
}

}  // namespace
}  // namespace csgi
