// The listening socket a server accepts on: bound from a Config (TCP host and
// port, or a Unix socket path) or adopted from an inherited descriptor.
//
// Held as a plain descriptor, not an Asio object, so that the supervisor can
// bind once before forking and hand the same socket to every worker, and so
// that both the loop server (Asio) and the threaded server (blocking accept)
// can wrap it their own way.
#pragma once

#include <cstdint>
#include <string>

#include "gateway/common.hpp"
#include "servers/config.hpp"

namespace csgi::servers {

class Listener {
 public:
  // Binds and listens as `config` says: on `config.fd` when it is >= 0, else on
  // the socket systemd passed (servers/systemd.hpp; `config.fd_name` picks
  // one of several), else on
  // `config.uds` when it is set (an existing socket file there is replaced),
  // else on `config.host`:`config.port` (port 0 picks a free port) with
  // SO_REUSEADDR. The backlog is `config.backlog`. Throws std::system_error
  // whose what() names the address.
  static Listener open(const Config& config);

  // Takes ownership of `fd`, a socket that is already listening.
  static Listener adopt(int fd);

  Listener(Listener&& other) noexcept;
  Listener& operator=(Listener&& other) noexcept;
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;
  ~Listener();  // closes the socket, and removes the socket file it created

  int fd() const { return fd_; }
  // Gives the descriptor up (the caller now closes it); the socket file stays.
  int release();

  // The address family (AF_INET, AF_INET6 or AF_UNIX).
  int family() const { return family_; }
  bool is_unix() const { return family_ == unix_family; }
  // The bound address: host and port, or for a Unix socket its path and 0.
  const Endpoint& local_endpoint() const { return local_; }
  std::uint16_t port() const { return local_.port; }
  // What the startup line shows: "http://127.0.0.1:8000" or "unix:/run/app.sock".
  std::string url() const;
  // Closes this process's descriptor (and removes a socket file it created)
  // now rather than at destruction; what it describes stays. Idempotent.
  void close();

 private:
  static constexpr int unix_family = 1;  // AF_UNIX, without <sys/socket.h> here
  Listener(int fd, int family, std::string owned_path);

  int fd_ = -1;
  int family_ = 0;
  Endpoint local_;
  std::string owned_path_;  // a socket file we created and remove at close
};

// The address of a connected socket's peer, and of a socket's own end, in the
// form the scope carries (client and server). Empty when the call fails.
Endpoint peer_endpoint(int fd);
Endpoint socket_endpoint(int fd);

// Raises this process's soft limit on open files to its hard limit, so that
// a burst of connections is not refused with EMFILE. Returns the new limit.
std::uint64_t raise_open_file_limit();

}  // namespace csgi::servers
