#include "servers/supervisor/upgrade.hpp"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <utility>

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "servers/logging.hpp"
#include "servers/systemd.hpp"

namespace csgi::servers {

namespace {

// An abstract socket (no file to remove) unique to this process and upgrade.
std::string notice_socket_name() {
  static unsigned count = 0;
  return "@csgi-upgrade-" + std::to_string(::getpid()) + "-" + std::to_string(++count);
}

int bind_notice_socket(const std::string& name) {
  int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return -1;
  sockaddr_un address;
  socklen_t length = 0;
  systemd::unix_address(name, address, length);  // fits: the name is short
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), length) != 0) {
    int error = errno;
    ::close(fd);
    errno = error;
    return -1;
  }
  return fd;
}

// In the child, between fork and exec: the socket where the new process
// looks for it, and the variables that say so.
void hand_over(const UpgradeCommand& command, int listen_fd, const std::string& notice_socket) {
  int target = command.listen_fd_number;
  if (listen_fd == target)
    ::fcntl(target, F_SETFD, 0);  // keep it across exec
  else if (::dup2(listen_fd, target) < 0)
    ::_exit(127);
  ::setenv("LISTEN_FDS", "1", 1);
  ::setenv("LISTEN_PID", std::to_string(::getpid()).c_str(), 1);
  ::setenv("LISTEN_FDNAMES", command.fd_name.empty() ? "csgi" : command.fd_name.c_str(), 1);
  // The service manager's socket, if any, is where the new supervisor's
  // notices go once it has told this one it is ready (systemd::notify).
  const char* manager = std::getenv("NOTIFY_SOCKET");
  ::setenv(systemd::manager_socket_variable, manager ? manager : "", 1);
  ::setenv("NOTIFY_SOCKET", notice_socket.c_str(), 1);
}

[[noreturn]] void exec(const UpgradeCommand& command) {
  std::vector<char*> argv;
  for (const auto& argument : command.arguments) argv.push_back(const_cast<char*>(argument.c_str()));
  argv.push_back(nullptr);
  ::execv(command.executable.c_str(), argv.data());
  std::fprintf(stderr, "cannot run %s: %s\n", command.executable.c_str(), std::strerror(errno));
  ::_exit(127);
}

}  // namespace

UpgradeCommand UpgradeCommand::of_this_process() {
  UpgradeCommand command;
  char path[4096];
  auto n = ::readlink("/proc/self/exe", path, sizeof path - 1);
  if (n <= 0) return command;
  command.executable.assign(path, static_cast<std::size_t>(n));
  std::ifstream cmdline("/proc/self/cmdline", std::ios::binary);
  std::string all((std::istreambuf_iterator<char>(cmdline)), std::istreambuf_iterator<char>());
  for (std::size_t begin = 0; begin < all.size();) {
    auto end = all.find('\0', begin);
    if (end == std::string::npos) end = all.size();
    command.arguments.push_back(all.substr(begin, end - begin));
    begin = end + 1;
  }
  if (command.arguments.empty()) command.executable.clear();
  return command;
}

std::optional<Upgrade> Upgrade::start(const UpgradeCommand& command, int listen_fd,
                                      const std::function<void()>& before_exec) {
  std::string name = notice_socket_name();
  int notice_fd = bind_notice_socket(name);
  if (notice_fd < 0) {
    error_log()->error("Cannot create the upgrade's notice socket: {}", std::strerror(errno));
    return std::nullopt;
  }
  pid_t pid = ::fork();
  if (pid == 0) {
    before_exec();
    hand_over(command, listen_fd, name);
    exec(command);
  }
  if (pid < 0) {
    error_log()->error("Cannot fork the new supervisor: {}", std::strerror(errno));
    ::close(notice_fd);
    return std::nullopt;
  }
  return Upgrade(pid, notice_fd);
}

Upgrade::Upgrade(Upgrade&& other) noexcept
    : pid_(std::exchange(other.pid_, 0)), notice_fd_(std::exchange(other.notice_fd_, -1)) {}

Upgrade& Upgrade::operator=(Upgrade&& other) noexcept {
  if (this != &other) {
    if (notice_fd_ >= 0) ::close(notice_fd_);
    pid_ = std::exchange(other.pid_, 0);
    notice_fd_ = std::exchange(other.notice_fd_, -1);
  }
  return *this;
}

Upgrade::~Upgrade() {
  if (notice_fd_ >= 0) ::close(notice_fd_);
}

bool Upgrade::read_notices() {
  bool ready = false;
  char buffer[512];
  for (;;) {
    auto n = ::recv(notice_fd_, buffer, sizeof buffer, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return ready;
    // A notice is lines of VARIABLE=value.
    std::string_view notice(buffer, static_cast<std::size_t>(n));
    for (std::size_t begin = 0; begin < notice.size();) {
      auto end = notice.find('\n', begin);
      if (end == std::string_view::npos) end = notice.size();
      if (notice.substr(begin, end - begin) == "READY=1") ready = true;
      begin = end + 1;
    }
  }
}

}  // namespace csgi::servers
