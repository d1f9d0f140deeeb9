// Blocking socket calls for the threaded server: the one wait bounded by a
// deadline and interruptible by wakeup descriptors, complete writes, and the non-blocking refusal (503) of a connection that
// never gets a thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <initializer_list>
#include <optional>
#include <span>
#include <string_view>

namespace csgi::servers::threaded {

// The one blocking wait of the threaded server, for the acceptor, the
// shutdown and the connection threads alike: blocks until one of `fds` is
// readable (or has an EOF or error to report) or `deadline` passes;
// time_point::max() waits with no deadline. Returns the index in `fds` of the
// first readable descriptor (earlier ones win: list the one whose bytes
// matter most first), or nullopt once the deadline passed. Negative
// descriptors are ignored. Retries on EINTR; when poll itself fails, reports
// fds[0], so that its read reports the error. Wakeups are descriptors (a
// socket, an eventfd), never a timer: nothing wakes up to look.
std::optional<std::size_t> wait_readable(std::initializer_list<int> fds,
                                         std::chrono::steady_clock::time_point deadline);

// One read into `buffer`: > 0 bytes read, 0 at EOF, < 0 when the read failed
// (reset, shut down). Blocks only if `fd` is not readable yet.
long read_some(int fd, std::span<char> buffer);

// True when the peer closed or reset the connection, judged without blocking
// and without consuming bytes: false when `fd` has data to read or nothing yet.
bool peer_closed(int fd);

// Writes every byte of `bytes` (blocking, no SIGPIPE). False when the peer is
// gone or the socket was shut down.
bool write_all(int fd, std::string_view bytes);

// Prepares an accepted socket: TCP_NODELAY (responses are written whole, so
// Nagle only adds latency). Harmless on Unix sockets.
void configure_accepted(int fd);

// Answers a connection that will not be served with `response` without ever
// blocking: reads what the client already sent (so that closing does not reset
// the connection before the client reads the answer), writes what the socket
// takes, and shuts the sending side. The caller closes `fd`.
void refuse(int fd, std::string_view response);

// Ends a served connection politely: shuts the sending side, then reads and
// discards for up to `linger` until the peer closes, so that unread request
// bytes do not turn the close into a reset that loses the last response.
void close_gracefully(int fd, std::chrono::milliseconds linger);

}  // namespace csgi::servers::threaded
