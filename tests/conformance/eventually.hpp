// Polls a condition that another thread (a server under test) makes true.
#pragma once

#include <chrono>
#include <thread>

namespace csgi::conformance {

// Polls `condition` for up to `limit`.
template <class Condition>
bool eventually(Condition condition, std::chrono::milliseconds limit = std::chrono::milliseconds(2000)) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return condition();
}

}  // namespace csgi::conformance
