// What the kernel says of a listening TCP socket, for tests that must wait
// until the connections they made have been accepted by a server (in this
// process or another) instead of sleeping for it.
#pragma once

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <string>

namespace csgi::servers::testing {

// Connections waiting in the accept queue of the IPv4 socket listening on
// `port`, or -1 when none listens there.
inline int accept_queue_length(std::uint16_t port) {
  std::ifstream table("/proc/net/tcp");
  std::string line;
  std::getline(table, line);  // the column names
  while (std::getline(table, line)) {
    unsigned local_port = 0, state = 0, tx = 0, rx = 0;
    // For a socket in LISTEN (0A) the "receive queue" is its accept queue.
    if (std::sscanf(line.c_str(), " %*u: %*x:%x %*x:%*x %x %x:%x", &local_port, &state, &tx,
                    &rx) == 4 &&
        local_port == port && state == 0x0A)
      return static_cast<int>(rx);
  }
  return -1;
}

}  // namespace csgi::servers::testing
