// USR2: a new supervisor started from the executable on disk, handed the
// listening socket, and watched until it is ready (gunicorn's re-exec).
//
// The new process is the same command line exec'd afresh, so it runs whatever
// build is installed now. It receives the socket the way systemd passes one
// (servers/systemd.hpp): at descriptor 3 with LISTEN_FDS=1, LISTEN_PID its
// own pid and LISTEN_FDNAMES, which Listener::open adopts. Its readiness comes
// back the way systemd hears it: NOTIFY_SOCKET names a datagram socket of the
// old supervisor, and the new one sends READY=1 there once its workers have
// booted. Until then the old supervisor serves on; afterwards it stops its
// workers gracefully and exits.
//
// Used by the supervisor's loop only (one thread, no other thread running).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <sys/types.h>

#include "servers/systemd.hpp"

namespace csgi::servers {

// What a new supervisor is started from: the executable's path (resolved when
// this process started, so that a file replaced since is the one run) and
// the arguments, argv[0] included.
struct UpgradeCommand {
  std::string executable;
  std::vector<std::string> arguments;
  std::string fd_name;  // LISTEN_FDNAMES for the socket; "" gives "csgi"
  // Where the new process finds the socket: --fd N, else where systemd puts it.
  int listen_fd_number = systemd::first_listen_fd;

  // This process's own command: /proc/self/exe resolved and /proc/self/cmdline.
  // Empty `executable` when /proc cannot tell.
  static UpgradeCommand of_this_process();
};

class Upgrade {
 public:
  // Forks and execs `command` with `listen_fd` handed over. nullopt, logged,
  // when the notice socket cannot be created or the fork fails; an exec that
  // fails shows as the child's exit (127). `before_exec` runs in the child
  // right after the fork (the supervisor restores its signal dispositions).
  static std::optional<Upgrade> start(const UpgradeCommand& command, int listen_fd,
                                      const std::function<void()>& before_exec);

  Upgrade(Upgrade&& other) noexcept;
  Upgrade& operator=(Upgrade&& other) noexcept;
  Upgrade(const Upgrade&) = delete;
  Upgrade& operator=(const Upgrade&) = delete;
  ~Upgrade();  // closes the notice socket

  pid_t pid() const { return pid_; }
  // Readable when the new supervisor sent a notice.
  int notice_fd() const { return notice_fd_; }
  // Reads the notices that arrived, without blocking: true once one of them
  // said READY=1.
  bool read_notices();

 private:
  Upgrade(pid_t pid, int notice_fd) : pid_(pid), notice_fd_(notice_fd) {}

  pid_t pid_ = 0;
  int notice_fd_ = -1;
};

}  // namespace csgi::servers
