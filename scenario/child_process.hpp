// A command run as a child process in a process group of its own, its stdout
// and stderr collected into one text as they come. What `csgi scenario` and
// the end-to-end tests share; each decides how its child is stopped.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <sys/types.h>

namespace csgi::scenario {

class ChildProcess {
 public:
  // Starts `argv` (argv[0] is a path). Throws std::runtime_error when the
  // pipe or the fork fails; a command that cannot be run exits with 127.
  explicit ChildProcess(std::vector<std::string> argv);
  // Waits until the output ends: the owner stops the child first, and every
  // process that inherited its output (the workers of a supervisor).
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  // All the output so far.
  std::string output() const;
  // How many times `text` occurs in the output so far.
  std::size_t count_in_output(std::string_view text) const;
  // Waits until `condition` holds for the output, woken by each piece that
  // arrives; false after `timeout`.
  bool wait_for_output(const std::function<bool(const std::string& output)>& condition,
                       std::chrono::milliseconds timeout);
  // The exit status once the child exits (scenario::wait_exit), the same
  // again on later calls.
  std::optional<int> wait_exit(std::chrono::milliseconds timeout);

 private:
  void collect(int fd);

  pid_t pid_ = -1;
  std::optional<int> status_;
  mutable std::mutex mutex_;
  std::condition_variable grew_;
  std::string output_;
  std::thread reader_;
};

// The exit status of `pid`, a child of this process, once it exits (its code,
// or 128 + the signal that killed it), reaping it; nullopt after `timeout`.
std::optional<int> wait_exit(pid_t pid, std::chrono::milliseconds timeout);

// How many times `part` occurs in `text` (overlapping ones too).
std::size_t occurrences(std::string_view text, std::string_view part);

}  // namespace csgi::scenario
