#include "servers/systemd.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "runtime/ascii.hpp"
#include "servers/logging.hpp"

namespace csgi::servers::systemd {

namespace {

std::optional<long> env_number(const char* name) {
  const char* value = std::getenv(name);
  if (!value) return std::nullopt;
  return ascii::parse_decimal<long>(value);
}

std::vector<std::string> split_names(const char* names) {
  std::vector<std::string> out;
  if (!names) return out;
  std::string_view rest(names);
  for (;;) {
    auto colon = rest.find(':');
    out.emplace_back(rest.substr(0, colon));
    if (colon == std::string_view::npos) break;
    rest.remove_prefix(colon + 1);
  }
  return out;
}

// After an upgrade's READY=1 went to the supervisor being replaced, the
// service manager is told the rest.
void report_to_manager() {
  const char* manager = std::getenv(manager_socket_variable);
  if (!manager) return;
  if (*manager)
    ::setenv("NOTIFY_SOCKET", manager, 1);
  else
    ::unsetenv("NOTIFY_SOCKET");  // no manager: nobody else listens
  ::unsetenv(manager_socket_variable);
}

}  // namespace

std::optional<int> listen_fd(std::string_view name) {
  auto pid = env_number("LISTEN_PID");
  auto count = env_number("LISTEN_FDS");
  std::vector<std::string> names = split_names(std::getenv("LISTEN_FDNAMES"));
  for (const char* variable : {"LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES"}) ::unsetenv(variable);
  if (!pid || *pid != ::getpid() || !count || *count < 1) return std::nullopt;
  for (int fd = first_listen_fd; fd < first_listen_fd + *count; ++fd) ::fcntl(fd, F_SETFD, FD_CLOEXEC);
  if (name.empty()) {
    if (*count == 1) return first_listen_fd;
    throw std::runtime_error("systemd passed " + std::to_string(*count) +
                             " sockets: choose one with --fd-name");
  }
  for (long i = 0; i < *count && i < static_cast<long>(names.size()); ++i)
    if (names[i] == name) return first_listen_fd + static_cast<int>(i);
  throw std::runtime_error("systemd passed no socket named '" + std::string(name) + "'");
}

bool unix_address(std::string_view path, sockaddr_un& address, socklen_t& length) {
  address = sockaddr_un{};
  address.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof address.sun_path) return false;
  std::memcpy(address.sun_path, path.data(), path.size());
  if (path[0] == '@') address.sun_path[0] = '\0';  // an abstract socket
  length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size());
  return true;
}

void notify(std::string_view state) {
  const char* path = std::getenv("NOTIFY_SOCKET");
  if (!path || !*path) return;
  sockaddr_un address;
  socklen_t size = 0;
  if (!unix_address(path, address, size)) return;
  int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return;
  if (::sendto(fd, state.data(), state.size(), MSG_NOSIGNAL, reinterpret_cast<sockaddr*>(&address),
               size) < 0)
    error_log()->debug("systemd notice {} not sent: {}", state, std::strerror(errno));
  ::close(fd);
  if (state == "READY=1") report_to_manager();
}

}  // namespace csgi::servers::systemd
