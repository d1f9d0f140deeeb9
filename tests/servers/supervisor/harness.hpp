// Test helpers for the supervisor: a journal that forked processes write lines
// to, and a Supervisor run in a child process of the test (so its signal
// handlers and its children are not the test's).
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <sys/types.h>
#include <unistd.h>

#include "scenario/child_process.hpp"
#include "servers/supervisor/supervisor.hpp"

namespace csgi::servers::testing {

using namespace std::chrono_literals;
using std::chrono::milliseconds;

// A pipe every process forked after it was made can write whole lines to
// (lines under PIPE_BUF bytes are written atomically).
class Journal {
 public:
  Journal();
  ~Journal();
  Journal(const Journal&) = delete;
  Journal& operator=(const Journal&) = delete;

  // From any process: appends "`line`\n".
  void write(const std::string& line) const;
  // The next line, or nullopt after `timeout`.
  std::optional<std::string> next(milliseconds timeout = 2000ms);
  // Reads lines until one starts with `prefix`; returns it, or nullopt after
  // `timeout`. Lines read on the way are kept in skipped().
  std::optional<std::string> next_starting(const std::string& prefix,
                                           milliseconds timeout = 2000ms);
  const std::vector<std::string>& skipped() const { return skipped_; }

 private:
  int read_fd_ = -1;
  int write_fd_ = -1;
  std::string buffer_;
  std::vector<std::string> skipped_;
};

// The number in a journal line "word N ...", after the first space.
pid_t pid_in(const std::string& line);

// The direct children of `pid` (its workers), from /proc.
std::vector<pid_t> children_of(pid_t pid);

// Polls `condition` every 10 ms until it holds or `timeout` passes.
template <class Condition>
bool eventually(Condition condition, milliseconds timeout = 2000ms);

// The exit status of `pid` (the test's child) once it exits, reaping it.
using scenario::wait_exit;

// A process that became this one's child as a subreaper (PR_SET_CHILD_SUBREAPER):
// the new supervisor a USR2 upgrade starts, once the old one has exited. The
// guard stops it (TERM, then KILL) when it goes, so that a failed assertion
// does not leave it serving (and a test waiting for its log to end).
class AdoptedProcess {
 public:
  AdoptedProcess() = default;
  ~AdoptedProcess();
  AdoptedProcess(const AdoptedProcess&) = delete;
  AdoptedProcess& operator=(const AdoptedProcess&) = delete;

  void adopt(pid_t pid) { pid_ = pid; }
  // Sends SIGTERM and returns its exit status, as wait_exit().
  std::optional<int> stop(milliseconds timeout = 10000ms);

 private:
  pid_t pid_ = 0;
};

class SupervisorProcess {
 public:
  SupervisorProcess(SupervisorOptions options, WorkerTarget target, int listen_fd = -1);
  ~SupervisorProcess();  // SIGKILLs it if still running (its workers follow)
  SupervisorProcess(const SupervisorProcess&) = delete;
  SupervisorProcess& operator=(const SupervisorProcess&) = delete;

  pid_t pid() const { return pid_; }
  void signal(int signal_number) const;
  std::vector<pid_t> workers() const { return children_of(pid_); }
  std::optional<int> wait_exit(milliseconds timeout = 2000ms);

 private:
  pid_t pid_ = -1;
  bool exited_ = false;
};

template <class Condition>
bool eventually(Condition condition, milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    ::usleep(10'000);
  }
  return true;
}

}  // namespace csgi::servers::testing
