// The worker's side of supervision: the worker hooks (servers/worker_hooks.hpp)
// of a server that the supervisor (servers/supervisor/supervisor.hpp) forked,
// writing to the worker's heartbeat channel.
//
//  - beat(): one byte on the channel. A loop that is blocked (an app stuck in
//    a blocking call on the loop thread) stops beating, and the supervisor
//    kills the worker after `timeout_worker_healthcheck`. The first beat also
//    tells the supervisor the worker has booted.
//  - request_limit_reached(): asks to be retired. The supervisor starts a
//    replacement and, once it has booted, stops this worker gracefully with
//    SIGTERM, so no request is dropped and the two never serve short-handed.
#pragma once

#include <chrono>

#include "servers/supervisor/load_board.hpp"
#include "servers/worker_hooks.hpp"

namespace csgi::servers {

// What a worker writes on its heartbeat channel.
inline constexpr unsigned char heartbeat_beat = 'b';    // alive (the first one: booted)
inline constexpr unsigned char heartbeat_retire = 'r';  // request limit reached: replace me

class SupervisedWorkerHooks final : public WorkerHooks {
 public:
  // Writes to `heartbeat_fd` (the worker's end of its channel, not owned)
  // every `interval`.
  // `board` (may be null: no sharing) is the supervisor's load board.
  SupervisedWorkerHooks(int heartbeat_fd, std::chrono::milliseconds interval,
                        LoadBoard* board = nullptr)
      : fd_(heartbeat_fd), interval_(interval), board_(board) {}

  std::optional<std::chrono::milliseconds> heartbeat_interval() const override { return interval_; }
  void beat() override;
  void request_limit_reached(const std::function<void()>& stop_server) override;
  std::atomic<int>* join_load_sharing(int capacity) override;
  bool another_worker_has_room() const override;
  void leave_load_sharing() override;

 private:
  int fd_;
  std::chrono::milliseconds interval_;
  LoadBoard* board_;
  LoadBoard::Slot* slot_ = nullptr;
};

// Writes one byte to a heartbeat channel without blocking and without
// SIGPIPE. False when the supervisor is gone or not reading (channel full).
bool send_heartbeat_byte(int fd, unsigned char byte);

}  // namespace csgi::servers
