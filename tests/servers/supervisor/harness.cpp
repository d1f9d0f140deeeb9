#include "harness.hpp"

#include <cerrno>
#include <csignal>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

namespace csgi::servers::testing {

Journal::Journal() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe");
  read_fd_ = fds[0];
  write_fd_ = fds[1];
}

Journal::~Journal() {
  ::close(read_fd_);
  ::close(write_fd_);
}

void Journal::write(const std::string& line) const {
  std::string text = line + "\n";
  [[maybe_unused]] auto n = ::write(write_fd_, text.data(), text.size());
}

std::optional<std::string> Journal::next(milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (auto end = buffer_.find('\n'); end != std::string::npos) {
      std::string line = buffer_.substr(0, end);
      buffer_.erase(0, end + 1);
      return line;
    }
    auto left = std::chrono::duration_cast<milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return std::nullopt;
    pollfd fd{read_fd_, POLLIN, 0};
    if (::poll(&fd, 1, static_cast<int>(left.count())) <= 0) continue;
    char chunk[512];
    auto n = ::read(read_fd_, chunk, sizeof chunk);
    if (n > 0) buffer_.append(chunk, static_cast<std::size_t>(n));
  }
}

std::optional<std::string> Journal::next_starting(const std::string& prefix, milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto left = std::chrono::duration_cast<milliseconds>(deadline - std::chrono::steady_clock::now());
    auto line = next(std::max(left, milliseconds(0)));
    if (!line) return std::nullopt;
    if (line->rfind(prefix, 0) == 0) return line;
    skipped_.push_back(*line);
  }
}

pid_t pid_in(const std::string& line) {
  auto space = line.find(' ');
  return space == std::string::npos ? 0 : static_cast<pid_t>(std::stol(line.substr(space + 1)));
}

std::vector<pid_t> children_of(pid_t pid) {
  std::ifstream file("/proc/" + std::to_string(pid) + "/task/" + std::to_string(pid) + "/children");
  std::vector<pid_t> children;
  for (pid_t child; file >> child;) children.push_back(child);
  return children;
}

AdoptedProcess::~AdoptedProcess() {
  if (pid_ <= 0) return;
  if (!stop(milliseconds(3000))) {
    ::kill(pid_, SIGKILL);
    wait_exit(pid_, milliseconds(3000));
  }
}

std::optional<int> AdoptedProcess::stop(milliseconds timeout) {
  if (pid_ <= 0) return std::nullopt;
  ::kill(pid_, SIGTERM);
  auto code = wait_exit(pid_, timeout);
  if (code) pid_ = 0;
  return code;
}

SupervisorProcess::SupervisorProcess(SupervisorOptions options, WorkerTarget target,
                                     int listen_fd) {
  pid_ = ::fork();
  if (pid_ == 0) {
    int code = Supervisor(options, listen_fd, std::move(target)).run();
    ::_exit(code);
  }
}

SupervisorProcess::~SupervisorProcess() {
  if (exited_ || pid_ <= 0) return;
  ::kill(pid_, SIGKILL);  // its workers get SIGTERM (PR_SET_PDEATHSIG)
  int status = 0;
  ::waitpid(pid_, &status, 0);
}

void SupervisorProcess::signal(int signal_number) const { ::kill(pid_, signal_number); }

std::optional<int> SupervisorProcess::wait_exit(milliseconds timeout) {
  auto code = testing::wait_exit(pid_, timeout);
  if (code) exited_ = true;
  return code;
}

}  // namespace csgi::servers::testing
