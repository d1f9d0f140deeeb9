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
// Everything runs on the loop's thread. Owned by shared_ptr: the coroutine
// holds one while it runs, and so do the timer's and the watch's handlers.
#pragma once

#include <chrono>
#include <exception>
#include <memory>
#include <optional>

#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/generic/stream_protocol.hpp>

#include "gateway/asgi.hpp"
#include "runtime/indexed_set.hpp"
#include "runtime/lazy_timer.hpp"
#include "protocol/server_connection.hpp"
#include "runtime/async_event.hpp"
#include "servers/cycle.hpp"
#include "servers/loop/loop_context.hpp"

namespace csgi::servers::loop {

using Socket = boost::asio::generic::stream_protocol::socket;

// An IndexedSetMember: listed in the context's apps_to_watch while its app
// has started and not yet been watched (begin_app).
class Connection : public std::enable_shared_from_this<Connection>, public IndexedSetMember {
 public:
  // Registers with `context` (unregisters when destroyed). `socket` is open.
  Connection(Socket socket, std::shared_ptr<LoopContext> context);
  ~Connection();

  // Serves requests until the connection closes. Spawn it with this
  // connection's cancellation_slot() bound, so that cancel() reaches it.
  boost::asio::awaitable<void> run();

  boost::asio::cancellation_slot cancellation_slot() { return cancel_.slot(); }

  // Graceful shutdown: a connection waiting for its next request closes now;
  // one serving a request closes after the response.
  void close_if_idle();
  // Shutdown timeout or a forced stop: cancel whatever the connection awaits,
  // the app included.
  void cancel();

 private:
  using Clock = std::chrono::steady_clock;

  boost::asio::awaitable<void> serve();
  // Request bytes are read by serve(), waiting until a deadline. A busy
  // connection keeps a read pending (a bare wait would re-register the socket
  // with epoll each time), and after a read that drained the socket the next
  // one waits for epoll without trying first (speculative_read.hpp): one recv
  // per request. A connection idle past `shrink_after` gives its buffers back
  // and waits for readability.
  // Before a read: false when `deadline` has passed, else the timer is set.
  bool arm_read(Clock::time_point deadline);
  // After a read of `asked` bytes returned: the bytes or the end of input go
  // to the protocol. False when the deadline cancelled it; a cancel to give
  // the buffers back sets `shrunk_`; shutdown throws.
  bool read_returned(const boost::system::error_code& error, std::size_t n, std::size_t asked);
  // Waits until the socket is readable or `deadline` passes (false).
  boost::asio::awaitable<bool> wait_readable(Clock::time_point deadline);
  // One request: the app on `scope` (moved from), its end, the access line;
  // false when the connection must close. A frame of its own, so that what a
  // request needs while it runs is not part of the frame of serve(), which
  // every idle connection keeps.
  boost::asio::awaitable<bool> serve_request(asgi::Scope& scope);
  // Around each call of the app: the watch for a disconnect starts once the
  // app yields to the loop (begin_app) and stops when it returns (end_app).
  void begin_app();
  void end_app();
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
  // The one deadline of the connection (keep-alive, request head, linger),
  // kept by one timer that is re-armed lazily: moving the deadline later does
  // not touch the timer; it re-checks when it fires. Reaching the deadline
  // cancels the socket's pending wait (timed_out_).
  void set_deadline(Clock::time_point deadline);
  void arm_timer(Clock::time_point at);
  void on_timer();
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
  protocol::ServerConnection conn_;
  LazyTimer timer_;
  boost::asio::cancellation_signal cancel_;
  AsyncEvent input_arrived_;    // the reader fed bytes or EOF (wakes receive())
  asgi::Receive receive_;       // what each request's app is given
  asgi::Send send_;
  Clock::time_point deadline_ = Clock::time_point::max();
  Clock::time_point idle_since_{};
  unsigned watch_generation_ = 0;
  bool timed_out_ = false;         // the deadline cancelled the pending wait
  bool shrink_due_ = false;        // the timer cancelled the pending read to shrink
  bool shrunk_ = false;            // idle with no buffers: wait, then read
  bool watch_pending_ = false;
  bool app_running_ = false;
  bool receiving_ = false;         // the app's receive() is in progress
  bool sending_ = false;           // the app's send() is in progress
  bool idle_ = false;              // waiting for the first byte of a request
  // No request started yet. Shutdown serves such a connection instead of
  // closing it: the client connected to send one, and may already have (a
  // worker stopping under HUP must not drop what it just accepted).
  bool fresh_ = true;
  bool gone_ = false;              // the peer closed, or a read/write failed
};

}  // namespace csgi::servers::loop
