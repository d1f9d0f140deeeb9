#include "servers/listener.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>
#include <utility>

#include "servers/systemd.hpp"

namespace csgi::servers {

static_assert(AF_UNIX == 1, "Listener::unix_family mirrors AF_UNIX");

namespace {

[[noreturn]] void throw_errno(int error, const std::string& what) {
  throw std::system_error(error, std::generic_category(), what);
}

Endpoint endpoint_from(const sockaddr_storage& address, socklen_t length) {
  Endpoint endpoint;
  if (address.ss_family == AF_INET) {
    const auto& in = reinterpret_cast<const sockaddr_in&>(address);
    char text[INET_ADDRSTRLEN] = {};
    inet_ntop(AF_INET, &in.sin_addr, text, sizeof text);
    endpoint.host = text;
    endpoint.port = ntohs(in.sin_port);
  } else if (address.ss_family == AF_INET6) {
    const auto& in6 = reinterpret_cast<const sockaddr_in6&>(address);
    char text[INET6_ADDRSTRLEN] = {};
    inet_ntop(AF_INET6, &in6.sin6_addr, text, sizeof text);
    endpoint.host = text;
    endpoint.port = ntohs(in6.sin6_port);
  } else if (address.ss_family == AF_UNIX) {
    const auto& un = reinterpret_cast<const sockaddr_un&>(address);
    std::size_t max = length > offsetof(sockaddr_un, sun_path)
                          ? length - offsetof(sockaddr_un, sun_path)
                          : 0;
    endpoint.host.assign(un.sun_path, strnlen(un.sun_path, max));
  }
  return endpoint;
}

int bind_tcp(const Config& config) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  std::string port = std::to_string(config.port);
  const char* host = config.host.empty() ? nullptr : config.host.c_str();
  std::string where = config.host + ":" + port;
  if (int rc = getaddrinfo(host, port.c_str(), &hints, &found); rc != 0)
    throw std::system_error(std::make_error_code(std::errc::invalid_argument),
                            "cannot resolve " + where + ": " + gai_strerror(rc));
  int last_error = EADDRNOTAVAIL;
  for (addrinfo* info = found; info; info = info->ai_next) {
    int fd = ::socket(info->ai_family, info->ai_socktype | SOCK_CLOEXEC, info->ai_protocol);
    if (fd < 0) {
      last_error = errno;
      continue;
    }
    int one = 1;
    // A restarted server must rebind at once, whatever TIME_WAIT sockets remain.
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(fd, info->ai_addr, info->ai_addrlen) == 0 && ::listen(fd, config.backlog) == 0) {
      freeaddrinfo(found);
      return fd;
    }
    last_error = errno;
    ::close(fd);
  }
  freeaddrinfo(found);
  throw_errno(last_error, "cannot listen on " + where);
}

int bind_unix(const Config& config) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (config.uds.size() >= sizeof address.sun_path)
    throw_errno(ENAMETOOLONG, "cannot listen on unix:" + config.uds);
  std::memcpy(address.sun_path, config.uds.data(), config.uds.size());
  // Replace a stale socket file (a previous run), but never a regular file.
  struct stat info {};
  if (::lstat(config.uds.c_str(), &info) == 0 && S_ISSOCK(info.st_mode)) ::unlink(config.uds.c_str());
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw_errno(errno, "cannot create a socket for unix:" + config.uds);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      ::listen(fd, config.backlog) != 0) {
    int error = errno;
    ::close(fd);
    throw_errno(error, "cannot listen on unix:" + config.uds);
  }
  return fd;
}

int socket_family(int fd) {
  sockaddr_storage address{};
  socklen_t length = sizeof address;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0)
    throw_errno(errno, "fd " + std::to_string(fd) + " is not a socket");
  return address.ss_family;
}

}  // namespace

Endpoint peer_endpoint(int fd) {
  sockaddr_storage address{};
  socklen_t length = sizeof address;
  if (::getpeername(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) return {};
  return endpoint_from(address, length);
}

Endpoint socket_endpoint(int fd) {
  sockaddr_storage address{};
  socklen_t length = sizeof address;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) return {};
  return endpoint_from(address, length);
}

Listener Listener::open(const Config& config) {
  if (config.fd >= 0) return adopt(config.fd);
  if (auto activated = systemd::listen_fd(config.fd_name)) return adopt(*activated);
  if (!config.uds.empty()) return Listener(bind_unix(config), AF_UNIX, config.uds);
  int fd = bind_tcp(config);
  return Listener(fd, socket_family(fd), {});
}

Listener Listener::adopt(int fd) {
  int family = socket_family(fd);
  int listening = 0;
  socklen_t length = sizeof listening;
  if (::getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &length) != 0 || !listening)
    throw_errno(EINVAL, "fd " + std::to_string(fd) + " is not a listening socket");
  return Listener(fd, family, {});
}

Listener::Listener(int fd, int family, std::string owned_path)
    : fd_(fd), family_(family), local_(socket_endpoint(fd)), owned_path_(std::move(owned_path)) {}

Listener::Listener(Listener&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      family_(other.family_),
      local_(std::move(other.local_)),
      owned_path_(std::exchange(other.owned_path_, {})) {}

Listener& Listener::operator=(Listener&& other) noexcept {
  if (this != &other) {
    close();
    fd_ = std::exchange(other.fd_, -1);
    family_ = other.family_;
    local_ = std::move(other.local_);
    owned_path_ = std::exchange(other.owned_path_, {});
  }
  return *this;
}

Listener::~Listener() { close(); }

void Listener::close() {
  if (fd_ >= 0) ::close(std::exchange(fd_, -1));
  if (!owned_path_.empty()) ::unlink(std::exchange(owned_path_, {}).c_str());
}

int Listener::release() {
  owned_path_.clear();
  return std::exchange(fd_, -1);
}

std::string Listener::url() const {
  if (family_ == AF_UNIX) return "unix:" + local_.host;
  if (family_ == AF_INET6) return "http://[" + local_.host + "]:" + std::to_string(local_.port);
  return "http://" + local_.host + ":" + std::to_string(local_.port);
}

std::uint64_t raise_open_file_limit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return 0;
  if (limit.rlim_cur < limit.rlim_max) {
    rlimit raised = limit;
    raised.rlim_cur = limit.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) limit = raised;
  }
  return limit.rlim_cur;
}

}  // namespace csgi::servers
