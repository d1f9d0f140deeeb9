#include "servers/threaded/blocking_socket.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <iterator>

namespace csgi::servers::threaded {

namespace {

int milliseconds_until(std::chrono::steady_clock::time_point deadline) {
  auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline -
                                                           std::chrono::steady_clock::now());
  return static_cast<int>(std::clamp<long long>(left.count(), 0, 1 << 30));
}

}  // namespace

std::optional<std::size_t> wait_readable(std::initializer_list<int> fds,
                                         std::chrono::steady_clock::time_point deadline) {
  pollfd polled[4];
  const std::size_t count = std::min(fds.size(), std::size(polled));
  std::size_t i = 0;
  for (int fd : fds) {
    if (i == count) break;
    polled[i++] = {fd, POLLIN, 0};
  }
  for (;;) {
    const bool bounded = deadline != std::chrono::steady_clock::time_point::max();
    int rc = ::poll(polled, count, bounded ? milliseconds_until(deadline) : -1);
    if (rc < 0 && errno == EINTR) continue;
    if (rc < 0) return 0;  // let the read report the error
    if (rc == 0) {
      if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
      continue;  // poll rounds to whole milliseconds
    }
    for (std::size_t at = 0; at < count; ++at)
      if (polled[at].revents != 0) return at;
  }
}

long read_some(int fd, std::span<char> buffer) {
  for (;;) {
    ssize_t n = ::recv(fd, buffer.data(), buffer.size(), 0);
    if (n < 0 && errno == EINTR) continue;
    return static_cast<long>(n);
  }
}

bool peer_closed(int fd) {
  for (;;) {
    char byte;
    ssize_t n = ::recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n < 0 && errno == EINTR) continue;
    if (n > 0) return false;
    return n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK);
  }
}

bool write_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

void configure_accepted(int fd) {
  int on = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
}

void refuse(int fd, std::string_view response) {
  char scratch[4096];
  for (int i = 0; i < 16; ++i) {
    if (::recv(fd, scratch, sizeof scratch, MSG_DONTWAIT) <= 0) break;
  }
  ::send(fd, response.data(), response.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
  ::shutdown(fd, SHUT_WR);
}

void close_gracefully(int fd, std::chrono::milliseconds linger) {
  if (::shutdown(fd, SHUT_WR) != 0) return;
  auto deadline = std::chrono::steady_clock::now() + linger;
  char scratch[4096];
  while (wait_readable({fd}, deadline)) {
    if (read_some(fd, scratch) <= 0) return;
  }
}

}  // namespace csgi::servers::threaded
