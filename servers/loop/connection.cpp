#include "servers/loop/connection.hpp"

#include <array>
#include <tuple>
#include <utility>

#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>

#include "runtime/coarse_clock.hpp"
#include "runtime/use_tuple.hpp"
#include "servers/listener.hpp"
#include "servers/logging.hpp"
#include "servers/speculative_read.hpp"
#include "servers/proxy_preamble.hpp"
#include "servers/websocket_session.hpp"

namespace csgi::servers::loop {

namespace asio = boost::asio;

namespace {

// An idle keep-alive connection that waits longer than this gives its buffers
// back, so that thousands of idle connections cost little memory, while a busy
// one reuses them request after request.
constexpr auto shrink_after = std::chrono::milliseconds(250);
// Bytes asked of the socket per read: a request head usually fits in the
// first (nginx starts with 1 KiB), and a connection holds no more than that
// until a head or body asks for more; bodies are read in larger chunks.
constexpr std::size_t head_read_chunk = 1024;
constexpr std::size_t read_chunk = 16 * 1024;
// After an error answer, how long unread request bytes are drained so that
// closing does not reset the connection before the client read the answer.
constexpr auto linger_time = std::chrono::milliseconds(200);

bool would_block(const boost::system::error_code& error) {
  return error == asio::error::would_block || error == asio::error::try_again;
}

std::optional<Endpoint> client_of(Socket& socket) {
  Endpoint peer = peer_endpoint(socket.native_handle());
  if (peer.host.empty()) return std::nullopt;  // a Unix socket's peer has no name
  return peer;
}

std::optional<Endpoint> server_of(Socket& socket, const LoopContext& context) {
  if (context.server_endpoint) return context.server_endpoint;
  return socket_endpoint(socket.native_handle());
}

// Counts a request as in flight for --limit-concurrency while it runs.
class ActiveRequest {
 public:
  explicit ActiveRequest(LoopContext& context) : context_(context) { ++context_.active_requests; }
  ~ActiveRequest() { --context_.active_requests; }
  ActiveRequest(const ActiveRequest&) = delete;
  ActiveRequest& operator=(const ActiveRequest&) = delete;

 private:
  LoopContext& context_;
};

}  // namespace

Connection::Connection(Socket socket, std::shared_ptr<LoopContext> context)
    : socket_(std::move(socket)),
      context_(std::move(context)),
      client_(client_of(socket_)),
      origin_(connection_scope(context_->config, client_, server_of(socket_, *context_),
                               context_->state)),
      conn_(context_->limits, connection_info(context_->config)),
      timer_(socket_.get_executor(), DeadlineTimer::AtRest::stay_armed),
      deadline_(timer_, [this] { on_deadline(); }),
      input_arrived_(socket_.get_executor()) {
  // Reads and writes are attempted at once and only wait for readiness when
  // the socket has nothing: no buffer is held by a pending read.
  socket_.non_blocking(true);
  context_->connections.insert(this);
  if (context_->load) {
    context_->load->fetch_add(1, std::memory_order_relaxed);
    awaiting_first_request_ = true;
  }
}

void Connection::first_request_started() {
  if (!std::exchange(awaiting_first_request_, false)) return;
  context_->load->fetch_sub(1, std::memory_order_relaxed);
  if (context_->waiting_for_room) context_->waiting_for_room->cancel();
}

Connection::~Connection() {
  first_request_started();  // or never will
  unlist_from_watch();
  context_->connections.erase(this);
  context_->closed_one();
}

asio::awaitable<void> Connection::run() {
  auto self = shared_from_this();
  // The timer's handlers keep the connection (the timer's owner) alive.
  timer_.keep_alive_by(std::weak_ptr<const void>(self));
  try {
    co_await serve();
  } catch (const std::exception& e) {
    // Cancellation by shutdown, a timeout, or a socket error: nobody to answer.
    error_log()->debug("connection ended: {}", e.what());
  }
  close_socket();
}

void Connection::stop_gracefully() {
  // The response not yet started says that the connection closes after it.
  conn_.close_after_response();
}

void Connection::cancel() {
  cancel_.emit(asio::cancellation_type::terminal);
  // Work that cancellation cannot reach (a sync app on its thread) learns it
  // at its next send or receive: the client is gone as far as it is concerned.
  peer_gone_ = true;
  input_arrived_.set();
  close_socket();
}

asio::awaitable<void> Connection::serve() {
  const auto& config = context_->config;
  // A new connection must deliver its first head within the head timeout;
  // between requests the keep-alive timeout applies until a byte arrives,
  // then the head timeout again (a client that trickles its head is cut off).
  auto deadline = coarse_steady_now() + config.timeout_request_head;
  if (config.proxy_protocol && !co_await read_proxy_header()) co_return;
  for (;;) {
    auto event = conn_.next_event();
    if (auto* started = std::get_if<protocol::RequestStarted>(&event)) {
      phase_ = Phase::serving;
      if (takes_websocket_path(config, *started->head)) co_return co_await serve_websocket(*started->head);
      if (!co_await serve_request(*started->head)) co_return;
      phase_ = Phase::idle;
      deadline = coarse_steady_now() + config.timeout_keep_alive;
    } else if (std::holds_alternative<protocol::NeedData>(event)) {
      enter_read_phase(deadline);
      if (!start_wait(deadline)) co_return co_await time_out();
      boost::system::error_code error;
      if (buffers_ == Buffers::given_back) {
        std::tie(error) = co_await socket_.async_wait(Socket::wait_read, use_tuple);
      } else {
        auto space = conn_.input_space(head_read_chunk);
        auto [read_error, n] = co_await socket_.async_read_some(asio::buffer(space.data(), space.size()), use_tuple);
        conn_.commit_input(n);
        if (read_error != asio::error::operation_aborted) read_returned(read_error, n, space.size());
        error = read_error;
      }
      // A wait that completed before its cancel took effect is not cut
      // short: the cause recorded then does not apply.
      Interrupt interrupt = end_wait();
      if (error == asio::error::operation_aborted) {
        switch (interrupt) {
          case Interrupt::deadline:
            if (request_arrived_late()) continue;
            co_return co_await time_out();
          case Interrupt::give_back_buffers:
            conn_.shrink_buffers();
            buffers_ = Buffers::given_back;
            continue;
          case Interrupt::none:
            throw boost::system::system_error(error);  // the connection's cancellation: shutdown
        }
      }
      if (buffers_ == Buffers::given_back) {
        // Readable: take the buffers again and read what came.
        buffers_ = Buffers::held;
        read_available(head_read_chunk);
      }
    } else if (auto* refused = std::get_if<protocol::RequestError>(&event)) {
      log_request_error(conn_, *refused, client_);
      co_await flush();
      co_return co_await linger_close();
    } else {
      // Closed; or Paused, which cannot happen with no request running.
      co_await flush();
      co_return;
    }
  }
}

asio::awaitable<bool> Connection::read_proxy_header() {
  ProxyPreamble preamble(context_->config, client_);
  auto step = preamble.start();
  auto deadline = coarse_steady_now() + context_->config.timeout_request_head;
  std::array<char, 512> buffer;
  while (step == ProxyPreamble::Step::read_more) {
    if (!co_await wait_readable(deadline)) {
      // The wait is also cut short to give idle buffers back: only the
      // deadline ends it.
      if (Clock::now() < deadline) continue;
      co_return false;
    }
    boost::system::error_code error;
    std::size_t n = socket_.read_some(asio::buffer(buffer), error);
    if (would_block(error)) continue;
    if (error || n == 0) co_return false;
    step = preamble.received({buffer.data(), n}, origin_, conn_);
  }
  client_ = origin_.client;
  co_return step == ProxyPreamble::Step::done;
}

void Connection::enter_read_phase(Clock::time_point& deadline) {
  if (!conn_.head_in_progress()) return;  // fresh or idle stays
  if (phase_ == Phase::idle)
    deadline = coarse_steady_now() + context_->config.timeout_request_head;
  phase_ = Phase::reading_head;  // from fresh: the deadline still runs from the open
}

bool Connection::start_wait(Clock::time_point deadline) {
  auto now = coarse_steady_now();
  if (now >= deadline) return false;
  wait_deadline_ = deadline;
  interrupt_ = Interrupt::none;
  // A connection holding buffers with no byte of a request gives them back
  // after shrink_after.
  bool holds_idle_buffers = (phase_ == Phase::fresh || phase_ == Phase::idle) && buffers_ == Buffers::held;
  deadline_.start(holds_idle_buffers ? std::min(deadline, now + shrink_after) : deadline);
  return true;
}

Interrupt Connection::end_wait() {
  deadline_.stop();
  return std::exchange(interrupt_, Interrupt::none);
}

void Connection::on_deadline() {
  // Exact: the timer fired at a time of the coarse clock.
  interrupt_ = Clock::now() >= wait_deadline_ ? Interrupt::deadline : Interrupt::give_back_buffers;
  boost::system::error_code ignored;
  socket_.cancel(ignored);
}

void Connection::read_returned(const boost::system::error_code& error, std::size_t n, std::size_t asked) {
  if (!error && n < asked) skip_speculative_read(socket_);
  if (error) {
    // EOF or a reset: the protocol says what that means for a request.
    peer_gone_ = true;
    conn_.receive_eof();
  }
}

bool Connection::request_arrived_late() {
  if (phase_ != Phase::idle) return false;
  // The read that was pending is cancelled; one more without waiting sees
  // what came meanwhile.
  buffers_ = Buffers::held;
  return read_available(head_read_chunk) && conn_.head_in_progress();
}

asio::awaitable<void> Connection::time_out() {
  // Keep-alive expired, or the head was too slow. Only a head in progress has
  // a client waiting for an answer.
  if (!conn_.head_timed_out()) co_return;
  co_await flush();
  co_await linger_close();
}

asio::awaitable<bool> Connection::wait_readable(Clock::time_point deadline) {
  if (!start_wait(deadline)) co_return false;
  auto [error] = co_await socket_.async_wait(Socket::wait_read, use_tuple);
  Interrupt interrupt = end_wait();
  if (!error) co_return true;
  // Not ours: the connection's own cancellation (shutdown).
  if (interrupt == Interrupt::none) throw boost::system::system_error(error);
  co_return false;
}

bool Connection::read_available(std::size_t size) {
  auto space = conn_.input_space(size);
  boost::system::error_code error;
  std::size_t n = socket_.read_some(asio::buffer(space.data(), space.size()), error);
  if (would_block(error)) {
    conn_.commit_input(0);
    return true;
  }
  if (error || n == 0) {
    conn_.commit_input(0);
    peer_gone_ = true;
    conn_.receive_eof();
    return false;
  }
  conn_.commit_input(n);
  if (n < space.size()) skip_speculative_read(socket_);
  return true;
}

asio::awaitable<bool> Connection::serve_request(protocol::MessageHead& head) {
  if (context_->over_limit()) {
    co_await answer_and_close(503);
    co_return false;
  }
  // Graceful shutdown began: this response says that the connection closes.
  if (context_->stopping) conn_.close_after_response();
  context_->request_budget.count();
  std::optional<Endpoint> forwarded_client;  // set by call_app when proxy headers apply
  CycleEnd end;
  {
    ActiveRequest active(*context_);
    // From here the request's sync call, if it makes one, counts instead.
    first_request_started();
    begin_app();
    std::exception_ptr error;
    try {
      co_await call_app(head, forwarded_client);
    } catch (...) {
      error = std::current_exception();
    }
    end_app();
    // A request cancelled by a disconnect or by shutdown ends like one whose
    // client went away.
    auto state = co_await asio::this_coro::cancellation_state;
    bool cancelled = state.cancelled() != asio::cancellation_type::none;
    end = end_cycle(conn_, error, peer_gone_ || cancelled);
  }
  log_cycle(conn_, origin_.proxy_headers ? forwarded_client : client_);
  if (end == CycleEnd::abort) co_return false;
  if (!write_available()) co_await flush();
  if (end == CycleEnd::close || context_->stopping) co_return false;
  conn_.start_next_request();
  co_return true;
}

void Connection::begin_app() {
  // The reader runs beside the app: when the client goes away it cancels
  // whatever the app awaits (spec/async.md, "Cancellation").
  // It starts once the app first yields to the loop, so an app that answers
  // without waiting costs nothing for it: the connection is listed, and one
  // task per turn of the loop starts the watch of every app still running.
  context_->apps_to_watch.insert(*this);
  if (!std::exchange(context_->watch_sweep_posted, true)) {
    asio::post(socket_.get_executor(), [context = context_] { watch_yielded_apps(*context); });
  }
}

void Connection::end_app() {
  unlist_from_watch();
  stop_watch();
}

asgi::awaitable<void> Connection::call_app(protocol::MessageHead& head,
                                           std::optional<Endpoint>& forwarded_client) {
  // receive and send capture the bare pointer, which std::function stores
  // without an allocation. The spec lets an app call them only while its
  // coroutine runs (spec/async.md), and the connection outlives every
  // request it serves.
  asgi::Receive receive([this] { return this->receive(); });
  asgi::Send send([this](asgi::SendEvent&& event) { return this->send(std::move(event)); });
  // A plain function takes the scope as it is built; App would move it once
  // more (gateway/asgi.hpp, AppFunction).
  if (context_->app_function)
    return context_->app_function(request_scope(head, forwarded_client), std::move(receive),
                                  std::move(send));
  return context_->app(request_scope(head, forwarded_client), std::move(receive), std::move(send));
}

asgi::Scope Connection::request_scope(protocol::MessageHead& head,
                                      std::optional<Endpoint>& forwarded_client) {
  asgi::Scope scope;
  fill_scope(scope, head, origin_);
  // Proxy headers name each request's client: the access line shows it.
  if (origin_.proxy_headers) forwarded_client = scope.client;
  return scope;
}

void Connection::unlist_from_watch() {
  if (in_indexed_set()) context_->apps_to_watch.erase(*this);
}

void Connection::watch_yielded_apps(LoopContext& context) {
  context.watch_sweep_posted = false;
  // Everything listed is an app that yielded to the loop: the ones that
  // finished without yielding have unlisted themselves.
  // start_watch() only queues a wait, so the set does not change meanwhile.
  for (Connection* connection : context.apps_to_watch) connection->start_watch();
  context.apps_to_watch.clear();
}

void Connection::start_watch() {
  // Backpressure: while the app has not taken the body, read nothing more;
  // receive() starts the watch again when it takes some.
  if (watch_.pending || peer_gone_ || conn_.reading_paused()) return;
  watch_.pending = true;
  unsigned generation = ++watch_.generation;
  async_wait_readable(socket_, watch_.peeked,
                      [self = shared_from_this(), generation](const boost::system::error_code& error,
                                                              std::size_t) {
                        self->on_watch(error, generation);
                      });
}

void Connection::stop_watch() {
  if (!watch_.pending) return;
  watch_.pending = false;
  ++watch_.generation;
  boost::system::error_code ignored;
  socket_.cancel(ignored);
}

void Connection::on_watch(const boost::system::error_code& error, unsigned generation) {
  if (generation != watch_.generation) return;  // stopped: the app finished first
  watch_.pending = false;
  if (error == asio::error::operation_aborted) return;
  bool open = !error && read_available(read_chunk);
  if (error && !peer_gone_) {
    peer_gone_ = true;
    conn_.receive_eof();
  }
  input_arrived_.set();
  if (!open) {
    // The client went away: cancel the app (receive() and send() already
    // answer as after a disconnect).
    if (phase_ == Phase::serving) cancel_.emit(asio::cancellation_type::terminal);
    return;
  }
  if (phase_ == Phase::serving) start_watch();
}

asio::awaitable<asgi::ReceiveEvent> Connection::receive() {
  asgi::PendingCall pending(receiving_, "receive()");
  for (;;) {
    // Reset before looking, so that bytes arriving during the flush below
    // are not missed by the wait at the end.
    input_arrived_.reset();
    bool was_paused = conn_.reading_paused();
    protocol::BodyEvent event = conn_.receive_body();
    if (was_paused && phase_ == Phase::serving) start_watch();  // taking body resumed reading
    if (!conn_.pending_output().empty()) {
      // "100 Continue", asked for by this first receive.
      try {
        co_await flush();
      } catch (const asgi::ClientDisconnected&) {
        co_return asgi::HttpDisconnect{};
      }
    }
    if (auto* chunk = std::get_if<protocol::BodyChunk>(&event))
      co_return asgi::HttpRequest{std::move(chunk->body), chunk->more_body};
    if (std::holds_alternative<protocol::BodyGone>(event) || peer_gone_) co_return asgi::HttpDisconnect{};
    if (phase_ == Phase::serving) start_watch();
    try {
      co_await input_arrived_.wait();
    } catch (const boost::system::system_error&) {
      // Cancelled because the client went away: a pending receive() answers
      // http.disconnect (spec/async.md, "Cancellation").
      if (peer_gone_) co_return asgi::HttpDisconnect{};
      throw;
    }
  }
}

asio::awaitable<void> Connection::send(asgi::SendEvent event) {
  asgi::PendingCall pending(sending_, "send()");
  if (peer_gone_) throw asgi::ClientDisconnected();
  send_event(conn_, std::move(event));
  if (!write_available()) co_await flush();
}

bool Connection::write_available() {
  while (!conn_.pending_output().empty()) {
    if (peer_gone_) throw asgi::ClientDisconnected();
    auto output = conn_.pending_output();
    boost::system::error_code error;
    std::size_t n = socket_.write_some(asio::buffer(output.data(), output.size()), error);
    if (would_block(error)) return false;
    if (error) {
      peer_gone_ = true;
      conn_.receive_eof();
      input_arrived_.set();
      throw asgi::ClientDisconnected();
    }
    conn_.consume_output(n);
  }
  return true;
}

asio::awaitable<void> Connection::flush() {
  // Write synchronously while the socket takes bytes (the usual case: one
  // write of head and body); wait for writability only when it is full.
  while (!write_available()) {
    auto [wait_error] = co_await socket_.async_wait(Socket::wait_write, use_tuple);
    if (wait_error == asio::error::operation_aborted) throw boost::system::system_error(wait_error);
  }
}

asio::awaitable<void> Connection::answer_and_close(int status) {
  conn_.send_error_response(status);
  log_cycle(conn_, client_);
  co_await flush();
  co_await linger_close();
}

asio::awaitable<void> Connection::linger_close() {
  phase_ = Phase::lingering;
  boost::system::error_code error;
  socket_.shutdown(Socket::shutdown_send, error);
  if (error || peer_gone_) co_return;
  auto deadline = coarse_steady_now() + linger_time;
  std::array<char, 4096> sink;
  while (co_await wait_readable(deadline)) {
    socket_.read_some(asio::buffer(sink), error);
    if (error && !would_block(error)) co_return;
  }
}

void Connection::close_socket() {
  boost::system::error_code ignored;
  phase_ = Phase::closed;
  deadline_.stop();
  timer_.disarm();
  socket_.shutdown(Socket::shutdown_both, ignored);
  socket_.close(ignored);
}

}  // namespace csgi::servers::loop
