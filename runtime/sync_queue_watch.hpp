// SyncQueueWatch: the accounting behind "sync calls are queueing" (spec/servers.md,
// "Executors"). A SyncExecutor owns one; whoever queues a call on the executor
// tells it when the call is queued and when it starts, and logs what it
// reports. It knows nothing of logging: runtime/ sits below the error log.
//
// An episode starts when a call waits longer than the threshold before it
// starts, and ends when the queue has drained (no queued call is waiting to
// start). started() reports the first such call of an episode, and no other.
// It is asked as a call starts, and nothing watches the calls still waiting:
// a call queued behind a held thread is reported only when it, or a call
// queued after it, starts. While the one thread of an executor stays held (a
// sync view waiting for a request to its own server), nothing is reported.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>

#include "runtime/coarse_clock.hpp"

namespace csgi {

// What the first call of an episode reports as it starts.
struct SyncQueueWait {
  std::chrono::milliseconds waited;  // how long that call waited to start
  std::size_t waiting;               // the calls still waiting behind it
};

// Thread-safe and lock-free: one atomic word holds the number of calls queued
// and not yet started, and whether the current episode was reported. The
// clock is the coarse one: thresholds are tens of milliseconds or more.
class SyncQueueWatch {
 public:
  using time_point = std::chrono::steady_clock::time_point;

  explicit SyncQueueWatch(std::chrono::milliseconds threshold) : threshold_(threshold) {}
  SyncQueueWatch(const SyncQueueWatch&) = delete;
  SyncQueueWatch& operator=(const SyncQueueWatch&) = delete;

  // Called as a call is queued, from any thread; counts it as waiting and
  // returns the time to hand to started().
  time_point queued() {
    state_.fetch_add(1, std::memory_order_relaxed);
    return coarse_steady_now();
  }

  // Called on the executor's thread as the call queued at `queued_at` starts,
  // before it runs, exactly once per queued(). Returns the wait to report when
  // this call is the first of its episode to have waited beyond the threshold.
  std::optional<SyncQueueWait> started(time_point queued_at) {
    const auto waited = coarse_steady_now() - queued_at;
    const bool slow = waited > threshold_;
    std::uint64_t state = state_.load(std::memory_order_relaxed);
    std::uint64_t next = 0;
    do {
      const std::uint64_t waiting = (state & ~reported_bit) - 1;
      const bool reported = (state & reported_bit) != 0 || slow;
      // A drained queue ends the episode: the next slow call reports anew.
      next = waiting == 0 ? 0 : waiting | (reported ? reported_bit : 0);
    } while (!state_.compare_exchange_weak(state, next, std::memory_order_relaxed));
    if (!slow || (state & reported_bit) != 0) return std::nullopt;
    return SyncQueueWait{std::chrono::duration_cast<std::chrono::milliseconds>(waited),
                         static_cast<std::size_t>(next & ~reported_bit)};
  }

  // The calls queued and not yet started.
  std::size_t waiting() const {
    return static_cast<std::size_t>(state_.load(std::memory_order_relaxed) & ~reported_bit);
  }
  std::chrono::milliseconds threshold() const { return threshold_; }

 private:
  static constexpr std::uint64_t reported_bit = std::uint64_t{1} << 63;

  std::chrono::milliseconds threshold_;
  std::atomic<std::uint64_t> state_{0};
};

}  // namespace csgi
