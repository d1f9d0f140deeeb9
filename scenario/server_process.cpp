#include "scenario/server_process.hpp"

#include <cerrno>
#include <csignal>
#include <filesystem>
#include <regex>
#include <sstream>
#include <stdexcept>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

namespace csgi::scenario {

namespace {

// Waits up to `timeout` for the child to exit; true when it did (and is reaped).
bool reap(pid_t pid, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    int status = 0;
    pid_t done = ::waitpid(pid, &status, WNOHANG);
    if (done == pid || (done < 0 && errno != EINTR)) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    // No event tells a parent that a child exited without a SIGCHLD handler,
    // which would be the whole process's: poll, briefly.
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

}  // namespace

std::string current_executable() {
  return std::filesystem::read_symlink("/proc/self/exe").string();
}

ServerProcess::ServerProcess(const std::string& executable, std::vector<std::string> serve_args,
                             int workers)
    : workers_(workers) {
  std::vector<std::string> args{executable, "serve"};
  args.insert(args.end(), serve_args.begin(), serve_args.end());
  for (const char* extra : {"--host", "127.0.0.1", "--port", "0", "--no-access-log"})
    args.emplace_back(extra);
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);

  int log_pipe[2];
  if (::pipe2(log_pipe, O_CLOEXEC) != 0) throw std::runtime_error("scenario: pipe failed");
  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error("scenario: fork failed");
  if (pid_ == 0) {
    ::setpgid(0, 0);  // the server and its workers, stopped together
    ::dup2(log_pipe[1], STDERR_FILENO);
    ::dup2(log_pipe[1], STDOUT_FILENO);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  ::close(log_pipe[1]);
  reader_ = std::thread([this, fd = log_pipe[0]] { collect(fd); });
}

ServerProcess::~ServerProcess() {
  ::kill(pid_, SIGTERM);
  if (!reap(pid_, std::chrono::seconds(5))) {
    ::kill(-pid_, SIGKILL);
    reap(pid_, std::chrono::seconds(5));
  }
  // The log pipe ends once the server and every worker are gone.
  if (reader_.joinable()) reader_.join();
}

void ServerProcess::collect(int fd) {
  char chunk[4096];
  for (;;) {
    auto n = ::read(fd, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    {
      std::lock_guard lock(mutex_);
      log_.append(chunk, static_cast<std::size_t>(n));
    }
    grew_.notify_all();
  }
  ::close(fd);
}

std::size_t ServerProcess::count_in_log(const std::string& text) const {
  std::size_t count = 0;
  for (auto at = log_.find(text); at != std::string::npos; at = log_.find(text, at + 1)) ++count;
  return count;
}

std::uint16_t ServerProcess::wait_ready(std::chrono::milliseconds timeout) {
  static const std::regex running(R"(running on http://127\.0\.0\.1:(\d+))");
  std::unique_lock lock(mutex_);
  std::smatch match;
  bool ready = grew_.wait_for(lock, timeout, [&] {
    return std::regex_search(log_, match, running) &&
           count_in_log("Started server process") >= static_cast<std::size_t>(workers_);
  });
  if (!ready)
    throw std::runtime_error("scenario: the server did not start; its log:\n" + log_);
  return static_cast<std::uint16_t>(std::stoi(match[1]));
}

std::vector<std::string> ServerProcess::warnings() const {
  std::lock_guard lock(mutex_);
  std::vector<std::string> lines;
  std::istringstream in(log_);
  for (std::string line; std::getline(in, line);)
    if (line.starts_with("WARNING") || line.starts_with("ERROR") || line.starts_with("CRITICAL"))
      lines.push_back(line);
  return lines;
}

}  // namespace csgi::scenario
