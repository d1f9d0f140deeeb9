// Asio's reactor tries every new read at once (a "speculative" recv) before it
// waits for epoll. For a keep-alive HTTP server that attempt nearly always
// fails: the next request cannot have arrived before the client has read the
// response just written. It costs a recv that returns EAGAIN on every request,
// half of the reads the loop makes.
//
// skip_speculative_read() tells the reactor that the socket is drained, so
// that the next read waits for epoll's next readiness report without trying
// first; the reactor resumes speculative reads by itself once epoll reports
// the socket readable again. Call it only after a read that returned fewer
// bytes than it asked for (on a stream socket, that read took everything the
// socket held): since sockets are registered edge-triggered, any byte
// arriving after it produces a new report, so no request is missed.
//
// Asio has no public call for this: the flag is the reactor's own, reached
// here for the Asio version this project builds against (checked at compile
// time); with any other version or reactor this is a no-op and reads are
// simply tried first, as Asio does by default.
#pragma once

#include <utility>

#include <boost/asio/buffer.hpp>
#include <boost/asio/generic/stream_protocol.hpp>

namespace csgi::servers {

// Completes once `socket` has a byte to read, or with an error (eof) once its
// peer has closed it, and consumes nothing: a one-byte receive with MSG_PEEK
// into `byte`, which must outlive the operation and which nobody reads.
// Asio's async_wait(wait_read) would do the same, but the reactor re-arms the
// socket with an epoll_ctl for every wait; this costs no system call on a
// socket known to be drained (skip_speculative_read) and one recv otherwise.
template <class Token>
auto async_wait_readable(boost::asio::generic::stream_protocol::socket& socket, char& byte, Token&& token) {
  return socket.async_receive(boost::asio::buffer(&byte, 1),
                              boost::asio::generic::stream_protocol::socket::message_peek,
                              std::forward<Token>(token));
}

void skip_speculative_read(boost::asio::generic::stream_protocol::socket& socket);

// Whether skip_speculative_read() does anything with the Asio this was built
// against (false: it is a no-op, and each request costs a recv more).
bool speculative_read_can_be_skipped();

}  // namespace csgi::servers
