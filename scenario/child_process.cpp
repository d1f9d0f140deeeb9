#include "scenario/child_process.hpp"

#include <cerrno>
#include <stdexcept>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

namespace csgi::scenario {

ChildProcess::ChildProcess(std::vector<std::string> args) {
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  int output_pipe[2];
  if (::pipe2(output_pipe, O_CLOEXEC) != 0) throw std::runtime_error("child process: pipe failed");
  pid_ = ::fork();
  if (pid_ < 0) {
    ::close(output_pipe[0]);
    ::close(output_pipe[1]);
    throw std::runtime_error("child process: fork failed");
  }
  if (pid_ == 0) {
    ::setpgid(0, 0);  // the child and its own children, signalled together
    ::dup2(output_pipe[1], STDERR_FILENO);
    ::dup2(output_pipe[1], STDOUT_FILENO);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  ::close(output_pipe[1]);
  reader_ = std::thread([this, fd = output_pipe[0]] { collect(fd); });
}

ChildProcess::~ChildProcess() { reader_.join(); }

void ChildProcess::collect(int fd) {
  char chunk[4096];
  for (;;) {
    auto n = ::read(fd, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    {
      std::lock_guard lock(mutex_);
      output_.append(chunk, static_cast<std::size_t>(n));
    }
    grew_.notify_all();
  }
  ::close(fd);
}

std::string ChildProcess::output() const {
  std::lock_guard lock(mutex_);
  return output_;
}

std::size_t ChildProcess::count_in_output(std::string_view text) const {
  std::lock_guard lock(mutex_);
  return occurrences(output_, text);
}

bool ChildProcess::wait_for_output(const std::function<bool(const std::string&)>& condition,
                                   std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  return grew_.wait_for(lock, timeout, [&] { return condition(output_); });
}

std::optional<int> ChildProcess::wait_exit(std::chrono::milliseconds timeout) {
  if (!status_) status_ = scenario::wait_exit(pid_, timeout);
  return status_;
}

std::optional<int> wait_exit(pid_t pid, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    int status = 0;
    pid_t done = ::waitpid(pid, &status, WNOHANG);
    if (done == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    // Not yet; or not yet a child: a process adopted as a subreaper becomes
    // one when its parent exits.
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    // Nothing tells a parent that a child exited but a SIGCHLD handler,
    // which would be the whole process's: poll, briefly.
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

std::size_t occurrences(std::string_view text, std::string_view part) {
  std::size_t count = 0;
  for (auto at = text.find(part); at != std::string_view::npos; at = text.find(part, at + 1)) ++count;
  return count;
}

}  // namespace csgi::scenario
