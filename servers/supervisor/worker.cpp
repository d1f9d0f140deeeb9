#include "servers/supervisor/worker.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include "servers/logging.hpp"

namespace csgi::servers {

bool send_heartbeat_byte(int fd, unsigned char byte) {
  // The channel is a socketpair, so MSG_NOSIGNAL works whatever the server
  // does with SIGPIPE, and MSG_DONTWAIT keeps a busy supervisor from ever
  // blocking the loop (a dropped beat is harmless; the next one follows).
  return ::send(fd, &byte, 1, MSG_NOSIGNAL | MSG_DONTWAIT) == 1;
}

std::atomic<int>* SupervisedWorkerHooks::join_load_sharing(int capacity) {
  if (board_) slot_ = board_->claim(::getpid(), capacity);
  return slot_ ? &slot_->load : nullptr;
}

bool SupervisedWorkerHooks::another_worker_has_room() const {
  return slot_ && board_->another_has_room(slot_);
}

void SupervisedWorkerHooks::leave_load_sharing() {
  // The slot stays ours (the load counter lives in it) until the supervisor
  // reaps this process; a capacity of 0 says it takes nothing more.
  if (slot_) slot_->capacity.store(0);
}

void SupervisedWorkerHooks::beat() { send_heartbeat_byte(fd_, heartbeat_beat); }

void SupervisedWorkerHooks::request_limit_reached(const std::function<void()>& /*stop_server*/) {
  error_log()->info("Asking the supervisor for a replacement");
  // The supervisor stops this worker once the replacement has booted. If it
  // cannot be told, keep serving: it will still replace this worker when it
  // dies, and a limit is not worth a lost request.
  send_heartbeat_byte(fd_, heartbeat_retire);
}

}  // namespace csgi::servers
