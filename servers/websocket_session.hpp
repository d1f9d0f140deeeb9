// One WebSocket connection of a server, from the upgrade request to the
// closed socket (spec/websocket.md), shared by every server kind: the loop
// server runs it on its loop, the threaded server on a loop of the
// connection's own thread. It drives protocol/'s WebSocket with a socket and
// runs the async app for the websocket scope.
//
// The HTTP connection hands over its socket, for good, once it has read a
// head that asks for WebSocket (takes_websocket_path), and lends its
// ServerConnection until the handshake is answered. Until the app accepts,
// every answer is HTTP and goes through that ServerConnection: a
// handshake that fails a check (400, 426), the app's denial response, the
// 403 of an app that closes, returns, or refuses the scope without accepting,
// a 500 when it fails first. After websocket.accept the 101 is written, the
// bytes read past the head go to protocol::websocket::Connection, and three
// coroutines share the socket: the app, a reader that feeds the protocol and
// queues messages (at most --ws-max-queue; above it, it stops reading, so a
// slow app applies backpressure to its client), and the keepalive pinger.
//
// Writes are synchronous while the socket takes bytes and wait for
// writability when it is full: send() completes when the socket has taken the
// message, so a slow client applies backpressure to the app.
//
// Everything runs on the socket's executor, one thread.
#pragma once

#include <cstdint>
#include <vector>
#include <exception>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/generic/stream_protocol.hpp>
#include <boost/asio/steady_timer.hpp>

#include "gateway/asgi.hpp"
#include "protocol/server_connection.hpp"
#include "protocol/websocket.hpp"
#include "protocol/websocket_handshake.hpp"
#include "runtime/async_event.hpp"
#include "servers/config.hpp"
#include "servers/request_head.hpp"

namespace csgi::servers {

using StreamSocket = boost::asio::generic::stream_protocol::socket;

// True when a request with `head` goes the WebSocket path: --ws auto and an
// "Upgrade: websocket" header. With --ws none, it is an ordinary request.
bool takes_websocket_path(const Config& config, const protocol::MessageHead& head);

class WebSocketSession : public std::enable_shared_from_this<WebSocketSession> {
 public:
  // Takes `socket` (open, non-blocking) for good. `http` is its HTTP
  // connection, with the upgrade request active: it answers the handshake
  // when the app does not accept, and is let go as soon as the handshake is
  // answered, with `http_owner`, which keeps it alive until then (the
  // driver's connection object; null when the driver outlives the session).
  WebSocketSession(StreamSocket socket, const Config& config, protocol::ServerConnection& http,
                   std::optional<Endpoint> client, std::shared_ptr<const void> http_owner);
  ~WebSocketSession();

  // Runs the app for the websocket scope of `head`, and the connection until
  // it is closed; then closes the socket. Returns when every coroutine of the
  // session has ended. `head` and `origin` are used before the first
  // suspension only. Never throws but for the caller's cancellation.
  boost::asio::awaitable<void> run(const asgi::App& app, protocol::MessageHead& head,
                                   const ConnectionScope& origin);

  // Graceful shutdown: the app's receive() yields websocket.disconnect with
  // 1001, then the client gets a close frame with 1001. Before the app
  // accepted, nothing: the handshake's answer already closes the connection.
  void going_away();
  // Shutdown timeout or a forced stop: the socket closes now, and whatever
  // the app awaits is cancelled (spawn run() with cancellation_slot() bound).
  void cancel();
  boost::asio::cancellation_slot cancellation_slot() { return cancel_.slot(); }

 private:
  enum class Stage : std::uint8_t { handshake, open, finished };

  boost::asio::awaitable<asgi::ReceiveEvent> receive();
  boost::asio::awaitable<void> send(asgi::SendEvent event);
  boost::asio::awaitable<void> accept(asgi::WebSocketAccept accept);
  boost::asio::awaitable<void> finish(std::exception_ptr error);
  boost::asio::awaitable<void> close_and_wait(std::uint16_t code);
  // The coroutines beside the app; each holds the session.
  boost::asio::awaitable<void> read_loop(std::shared_ptr<WebSocketSession> self);
  boost::asio::awaitable<void> keepalive(std::shared_ptr<WebSocketSession> self);
  boost::asio::awaitable<void> flush_close(std::shared_ptr<WebSocketSession> self);
  // Reads what the socket has into the protocol: false when it has nothing.
  bool read_available();
  // Writes what `source` holds (a ServerConnection, the WebSocket connection,
  // the 101), waiting for writability when the socket is full. Throws
  // ClientDisconnected when the peer has gone.
  template <class Source>
  boost::asio::awaitable<void> write_out(Source& source);
  // The connection ends without a close handshake (a dead peer): the app
  // hears `code`, the reader stops.
  void drop(std::uint16_t code, std::string reason);
  // The handshake is answered: the HTTP connection is not needed any more.
  void release_http();

  StreamSocket socket_;
  const Config& config_;
  // `http`, kept alive by `http_owner` (an aliasing pointer); null once the
  // handshake is answered.
  std::shared_ptr<protocol::ServerConnection> http_;
  std::optional<Endpoint> client_;
  boost::asio::cancellation_signal cancel_;
  std::string path_;  // for the error log
  protocol::websocket::Upgrade upgrade_;
  std::optional<protocol::websocket::Connection> ws_;
  Stage stage_ = Stage::handshake;
  bool connect_delivered_ = false;
  bool denied_ = false;     // the app answers the handshake with an HTTP response
  bool peer_gone_ = false;  // a read or write failed
  char peeked_ = 0;         // async_wait_readable's byte
  bool awaiting_pong_ = false;
  bool receiving_ = false;
  bool sending_ = false;
  // Messages received and not yet taken: at most --ws-max-queue, taken from
  // the front. A vector, which holds nothing while empty and released (a
  // deque holds a block even then), because most WebSockets are at rest.
  std::vector<asgi::WebSocketMessage> queue_;
  std::optional<asgi::WebSocketDisconnect> disconnect_;
  AsyncEvent changed_;  // a message, a disconnect, or room in the queue
  AsyncEvent reader_done_;
  AsyncEvent keepalive_done_;
  boost::asio::steady_timer ping_timer_;
};

}  // namespace csgi::servers
