#include "servers/threaded/websocket_thread.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "runtime/executor.hpp"
#include "runtime/use_tuple.hpp"
#include "servers/logging.hpp"
#include "servers/threaded/connection_pool.hpp"
#include "servers/websocket_session.hpp"

namespace csgi::servers::threaded {

namespace asio = boost::asio;

namespace {

// How often a WebSocket's loop looks whether the server is stopping: the pool
// says so with a flag, not an event this loop could wait on.
constexpr auto stop_poll = std::chrono::milliseconds(50);

int family_of(int fd) {
  sockaddr_storage address{};
  socklen_t size = sizeof address;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size) != 0) return AF_INET;
  return address.ss_family;
}

asio::awaitable<void> run_session(std::shared_ptr<WebSocketSession> session, const asgi::App& app,
                                  protocol::MessageHead& head, const ConnectionScope& origin,
                                  asio::steady_timer& stop_timer, bool& done) {
  co_await session->run(app, head, origin);
  done = true;
  stop_timer.cancel();
}

asio::awaitable<void> watch_stop(std::shared_ptr<WebSocketSession> session, const ConnectionPool& pool,
                                 asio::steady_timer& stop_timer, const bool& done) {
  while (!done) {
    if (pool.stopping()) co_return session->going_away();
    stop_timer.expires_after(stop_poll);
    co_await stop_timer.async_wait(use_tuple);
  }
}

}  // namespace

void serve_websocket(int fd, const ConnectionContext& context, const ConnectionPool& pool,
                     protocol::ServerConnection& conn, protocol::MessageHead& head,
                     const ConnectionScope& origin, const std::optional<Endpoint>& client) {
  asio::io_context io(1);
  // Async code on this thread runs on its own loop now: a blocking adapter
  // call from it must fail as it would on the loop server.
  EventLoopThreadMark mark;
  StreamSocket socket(io);
  boost::system::error_code error;
  // The socket gets its own descriptor: the caller closes `fd`.
  int own = ::dup(fd);
  if (own >= 0) socket.assign(asio::generic::stream_protocol(family_of(fd), SOCK_STREAM), own, error);
  if (own < 0 || error) {
    if (own >= 0) ::close(own);
    error_log()->error("WebSocket: cannot use the connection's socket");
    return;
  }
  socket.non_blocking(true, error);
  auto session = std::make_shared<WebSocketSession>(std::move(socket), context.config, conn, client, nullptr);
  asio::steady_timer stop_timer(io);
  bool done = false;
  asio::co_spawn(io, run_session(session, context.websocket_app, head, origin, stop_timer, done),
                 asio::detached);
  asio::co_spawn(io, watch_stop(session, pool, stop_timer, done), asio::detached);
  io.run();
}

}  // namespace csgi::servers::threaded
