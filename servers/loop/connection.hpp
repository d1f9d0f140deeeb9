// One accepted connection of the loop server: a coroutine that drives a
// protocol::ServerConnection with a socket and runs the app for each request.
//
// The driver is thin: HTTP (parsing, framing, keep-alive, pipelining) is
// protocol/'s, app failures are end_cycle()'s (servers/cycle.hpp). What lives
// here is I/O and time: reads only while the protocol is not paused, one write
// per flush of head and body, the keep-alive and request-head timeouts, and a
// reader that runs beside the app so that a client that goes away is noticed
// (receive() yields http.disconnect, the app is cancelled).
//
// The per-request path avoids what costs most on a loop: no awaitable
// operators (each spawns coroutines), no timer re-armed per request, no bare
// readiness wait where a pending read does (a wait re-registers the socket
// with epoll every time).
//
// The phase of a connection is one value (Phase), and so is the reason a wait
// on its socket was cut short (Interrupt): serve() reads as a loop of "next
// event, then read or serve", like Beast's awaitable session.
//
// Everything runs on the loop's thread. Owned by shared_ptr: the coroutine
// holds one while it runs, and so do the timer's and the watch's handlers.
#pragma once

#include <chrono>
#include <cstdint>
#include <exception>
#include <memory>
#include <optional>

#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/generic/stream_protocol.hpp>

#include "gateway/asgi.hpp"
#include "protocol/server_connection.hpp"
#include "runtime/async_event.hpp"
#include "runtime/deadline.hpp"
#include "runtime/indexed_set.hpp"
#include "servers/cycle.hpp"
#include "servers/loop/loop_context.hpp"
#include "servers/request_head.hpp"

namespace csgi::servers::loop {

using Socket = boost::asio::generic::stream_protocol::socket;

// Where a connection stands.
enum class Phase : std::uint8_t {
  // Open, no byte of a first request yet; the request-head timeout runs from
  // the open. Shutdown serves such a connection instead of closing it: the
  // client connected to send a request, and may already have (a worker
  // stopping under HUP must not drop what it just accepted).
  fresh,
  // Between requests, no byte of the next one yet: the keep-alive timeout.
  // Shutdown does not close it either: its next request is answered with
  // Connection: close, or the keep-alive timeout closes it.
  idle,
  // Bytes of a request head arrived, not all of it: the request-head timeout.
  reading_head,
  // The app runs; the disconnect watch (Watch) may run beside it.
  serving,
  // An error answer is written: draining what the client still sends before
  // the close, so that it reads the answer rather than a reset.
  lingering,
  closed,
};

// The buffers of a connection with no byte of a request (fresh or idle): held
// while it is busy, given back after shrink_after, so that thousands of
// connections at rest cost little memory. Given back, the connection waits
// for readability, then takes them again and reads.
enum class Buffers : std::uint8_t { held, given_back };

// Why a wait on the socket ended with operation_aborted. Recorded by whoever
// cancelled it, read once by the waiter; none is the connection's own
// cancellation (shutdown, a forced stop).
enum class Interrupt : std::uint8_t { none, deadline, give_back_buffers };

// The reader beside a running app: one queued readiness wait at a time, whose
// completion is ignored once stopped (a newer generation started or none runs).
// The wait is async_wait_readable (servers/speculative_read.hpp), which
// costs no system call per request where Asio's async_wait costs one.
struct Watch {
  bool pending = false;
  unsigned generation = 0;
  char peeked = 0;  // async_wait_readable's byte
};

// An IndexedSetMember: listed in the context's apps_to_watch while its app
// has started and not yet been watched (begin_app).
class Connection : public std::enable_shared_from_this<Connection>, public IndexedSetMember {
 public:
  using Clock = std::chrono::steady_clock;

  // Registers with `context` (unregisters when destroyed). `socket` is open.
  Connection(Socket socket, std::shared_ptr<LoopContext> context);
  ~Connection();

  // Serves requests until the connection closes. Spawn it with this
  // connection's cancellation_slot() bound, so that cancel() reaches it.
  boost::asio::awaitable<void> run();

  boost::asio::cancellation_slot cancellation_slot() { return cancel_.slot(); }

  // Graceful shutdown: the connection's next response, or the current one
  // when not yet started, carries Connection: close and is its last. An idle
  // connection is not closed now: a proxy or client may be reusing it at this
  // very moment, and a close would reset that request. It waits for its next
  // request as always, until the keep-alive timeout (spec/servers.md,
  // "Graceful shutdown").
  void stop_gracefully();
  // Shutdown timeout or a forced stop: cancel whatever the connection awaits,
  // the app included.
  void cancel();

  Phase phase() const { return phase_; }
  Buffers buffers() const { return buffers_; }

 private:
  // Load sharing (LoopContext::load): a new connection counts as one unit of
  // load until its first request starts (or it closes without one).
  void first_request_started();
  bool awaiting_first_request_ = false;
  boost::asio::awaitable<void> serve();
  // --proxy-protocol: reads the PROXY header that must start the connection
  // (servers/proxy_preamble.hpp) within the request-head timeout; false when
  // the connection is to be closed.
  boost::asio::awaitable<bool> read_proxy_header();
  // Request bytes are read by serve() itself (one frame less per request). A
  // busy connection keeps a read pending (a bare wait would re-register the
  // socket with epoll each time), and after a read that drained the socket the
  // next one waits for epoll without trying first (speculative_read.hpp): one
  // recv per request. A connection with no byte of a request that waits past
  // shrink_after gives its buffers back (Buffers) and waits for readability.
  //
  // The phase for a NeedData event: a head that began moves a fresh or idle
  // connection to reading_head, an idle one with the request-head deadline
  // from now.
  void enter_read_phase(Clock::time_point& deadline);
  // Bounds the wait that follows by `deadline` (and, while idle with buffers,
  // by the time to give them back); false when `deadline` has passed.
  bool start_wait(Clock::time_point deadline);
  // The wait ended: the cause of an operation_aborted, taken once.
  Interrupt end_wait();
  // A read of `asked` bytes returned `n` bytes or an error other than abort.
  void read_returned(const boost::system::error_code& error, std::size_t n, std::size_t asked);
  // The keep-alive timeout of an idle connection passed just as its next
  // request arrived: takes what the socket holds, true when a request began
  // (it is served rather than reset by the close).
  bool request_arrived_late();
  // The deadline of the current wait passed: a head in progress is answered
  // 408 (spec/servers.md, "Timeouts"); a connection with no byte of a request
  // is just closed.
  boost::asio::awaitable<void> time_out();
  // The Deadline's action: records why the wait is cut short, cancels it.
  void on_deadline();
  // Waits until the socket is readable or `deadline` passes (false).
  boost::asio::awaitable<bool> wait_readable(Clock::time_point deadline);
  // One request: the app on a scope built from `head`, its end, the access
  // line; false when the connection must close. A frame of its own, so that
  // what a request needs while it runs is not part of the frame of serve(),
  // which every idle connection keeps.
  boost::asio::awaitable<bool> serve_request(protocol::MessageHead& head);
  // A request that asks for WebSocket: the socket goes to a WebSocketSession
  // (servers/websocket_session.hpp), listed in the context, and this
  // connection ends (connection_websocket.cpp).
  boost::asio::awaitable<void> serve_websocket(protocol::MessageHead& head);
  // Around each call of the app: the watch for a disconnect starts once the
  // app yields to the loop (begin_app) and stops when it returns (end_app).
  void begin_app();
  void end_app();
  // The app's coroutine for the request of `head`, not yet started. Not a
  // coroutine itself: the scope and the callables are built on the stack as
  // the app's arguments, and only the app's frame keeps them.
  // `forwarded_client` receives the client that proxy headers named.
  asgi::awaitable<void> call_app(protocol::MessageHead& head,
                                 std::optional<Endpoint>& forwarded_client);
  asgi::Scope request_scope(protocol::MessageHead& head,
                            std::optional<Endpoint>& forwarded_client);
  void unlist_from_watch();
  // The task begin_app() posts, once per turn of the loop for all connections.
  static void watch_yielded_apps(LoopContext& context);
  // The reader beside a running app: a wait for readability whose handler
  // feeds the protocol, wakes receive(), and cancels the app when the client
  // has gone. Callback-driven, so a request that never waits costs one queued
  // wait and its cancellation, not a coroutine.
  void start_watch();
  void stop_watch();
  void on_watch(const boost::system::error_code& error, unsigned generation);
  boost::asio::awaitable<asgi::ReceiveEvent> receive();
  boost::asio::awaitable<void> send(asgi::SendEvent event);
  // Writes pending output while the socket takes it: true when all of it is
  // written, false when the socket is full. Throws ClientDisconnected.
  bool write_available();
  // Writes all pending output, waiting for writability when the socket is full.
  boost::asio::awaitable<void> flush();
  boost::asio::awaitable<void> answer_and_close(int status);
  boost::asio::awaitable<void> linger_close();

  // Reads what the socket has, up to `size` bytes, without blocking; false at
  // EOF or on an error (the protocol has been told: receive_eof()).
  bool read_available(std::size_t size);
  void close_socket();

  Socket socket_;
  std::shared_ptr<LoopContext> context_;
  std::optional<Endpoint> client_;
  ConnectionScope origin_;      // what every request's scope carries besides its head
  protocol::ServerConnection conn_;
  // The one timer of the connection, for the deadline of its waits
  // (keep-alive, request head, linger) and the time to give buffers back.
  DeadlineTimer timer_;
  Deadline deadline_;
  boost::asio::cancellation_signal cancel_;
  AsyncEvent input_arrived_;    // the reader fed bytes or EOF (wakes receive())
  Clock::time_point wait_deadline_{};  // the timeout of the current wait
  Phase phase_ = Phase::fresh;
  Buffers buffers_ = Buffers::held;
  Interrupt interrupt_ = Interrupt::none;
  Watch watch_;
  bool peer_gone_ = false;  // the peer closed, or a read/write failed
  // The app's receive() or send() is in progress: a second one while it is
  // throws (asgi::PendingCall).
  bool receiving_ = false;
  bool sending_ = false;
};

}  // namespace csgi::servers::loop
