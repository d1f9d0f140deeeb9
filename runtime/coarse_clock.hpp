// The steady clock as of the kernel's last tick: a few milliseconds behind
// std::chrono::steady_clock (whose epoch it shares), and several times cheaper
// to read. For deadlines set on every request (keep-alive, request heads),
// which tolerate that lag; a timer that fired reads the exact clock.
#pragma once

#include <time.h>

#include <chrono>

namespace csgi {

inline std::chrono::steady_clock::time_point coarse_steady_now() {
#if defined(CLOCK_MONOTONIC_COARSE)
  timespec now{};
  ::clock_gettime(CLOCK_MONOTONIC_COARSE, &now);
  return std::chrono::steady_clock::time_point(
      std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::seconds(now.tv_sec) +
                                                                      std::chrono::nanoseconds(now.tv_nsec)));
#else
  return std::chrono::steady_clock::now();
#endif
}

}  // namespace csgi
