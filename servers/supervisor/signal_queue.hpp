// Signals for the supervisor's one dispatch loop (the self-pipe pattern).
//
// The handlers installed here only write the signal's number into a pipe: no
// logging, no allocation, no locks, nothing that is unsafe in a handler. The
// supervisor polls fd() with everything else it waits for and, once it is
// readable, takes() the queued numbers and dispatches them in order on its own
// stack, where it may do anything.
//
// One SignalQueue per process at a time, created and destroyed on the thread
// that polls it.
#pragma once

#include <initializer_list>
#include <vector>

#include <signal.h>

namespace csgi::servers {

class SignalQueue {
 public:
  // Installs a handler for each of `signals` (with SA_RESTART), remembering
  // the dispositions it replaces. Throws std::system_error when the pipe
  // cannot be created.
  explicit SignalQueue(std::initializer_list<int> signals);
  // Restores the previous dispositions and closes the pipe.
  ~SignalQueue();
  SignalQueue(const SignalQueue&) = delete;
  SignalQueue& operator=(const SignalQueue&) = delete;

  // Readable while a signal is queued.
  int fd() const { return read_fd_; }

  // The queued signal numbers in arrival order; empty when none is queued.
  // Never blocks.
  std::vector<int> take();

  // Blocks the handled signals until unblock(), so that a fork cannot hand
  // the child a handler that writes into the parent's pipe.
  void block();
  void unblock();

  // For a child just forked while block() was in effect: gives every handled
  // signal its default disposition (except `ignored`, which it ignores), closes
  // the child's copy of the pipe, and unblocks. The parent's queue is untouched.
  void detach_in_child(std::initializer_list<int> ignored);

 private:
  std::vector<int> signals_;
  std::vector<struct sigaction> previous_;
  sigset_t previous_mask_{};
  int read_fd_ = -1;
  int write_fd_ = -1;
};

}  // namespace csgi::servers
