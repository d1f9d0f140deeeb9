#include "servers/supervisor/signal_queue.hpp"

#include <algorithm>
#include <cerrno>
#include <system_error>

#include <fcntl.h>
#include <unistd.h>

namespace csgi::servers {

namespace {

// The write end the handler uses. A plain int: a handler may read it, and only
// one queue exists per process.
volatile sig_atomic_t queue_write_fd = -1;

void enqueue(int signal_number) {
  int saved = errno;  // the interrupted code may be about to read errno
  unsigned char byte = static_cast<unsigned char>(signal_number);
  // A full pipe (thousands of unread signals) drops this one: the loop is
  // already awake, and SIGCHLD is handled by reaping every exited child.
  [[maybe_unused]] auto written = ::write(queue_write_fd, &byte, 1);
  errno = saved;
}

sigset_t set_of(const std::vector<int>& signals) {
  sigset_t set;
  sigemptyset(&set);
  for (int s : signals) sigaddset(&set, s);
  return set;
}

}  // namespace

SignalQueue::SignalQueue(std::initializer_list<int> signals) : signals_(signals) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0)
    throw std::system_error(errno, std::generic_category(), "signal pipe");
  read_fd_ = fds[0];
  write_fd_ = fds[1];
  queue_write_fd = write_fd_;

  struct sigaction action {};
  action.sa_handler = enqueue;
  action.sa_flags = SA_RESTART;
  sigemptyset(&action.sa_mask);
  previous_.resize(signals_.size());
  for (std::size_t i = 0; i < signals_.size(); ++i)
    ::sigaction(signals_[i], &action, &previous_[i]);
}

SignalQueue::~SignalQueue() {
  for (std::size_t i = 0; i < signals_.size(); ++i)
    ::sigaction(signals_[i], &previous_[i], nullptr);
  queue_write_fd = -1;
  ::close(read_fd_);
  ::close(write_fd_);
}

std::vector<int> SignalQueue::take() {
  std::vector<int> taken;
  unsigned char buffer[64];
  for (;;) {
    auto n = ::read(read_fd_, buffer, sizeof buffer);
    if (n <= 0) break;  // EAGAIN: drained
    taken.insert(taken.end(), buffer, buffer + n);
  }
  return taken;
}

void SignalQueue::block() {
  sigset_t set = set_of(signals_);
  ::sigprocmask(SIG_BLOCK, &set, &previous_mask_);
}

void SignalQueue::unblock() { ::sigprocmask(SIG_SETMASK, &previous_mask_, nullptr); }

void SignalQueue::detach_in_child(std::initializer_list<int> ignored) {
  for (int s : signals_) {
    bool ignore = std::find(ignored.begin(), ignored.end(), s) != ignored.end();
    ::signal(s, ignore ? SIG_IGN : SIG_DFL);
  }
  queue_write_fd = -1;
  ::close(read_fd_);
  ::close(write_fd_);
  read_fd_ = write_fd_ = -1;
  // Signals that arrived between fork and here were meant for this worker
  // (a TERM to the process group, say): they are delivered now, by default.
  unblock();
}

}  // namespace csgi::servers
