#include "servers/loop/connection.hpp"

#include <array>
#include <utility>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "servers/listener.hpp"
#include "servers/logging.hpp"

namespace csgi::servers::loop {

namespace asio = boost::asio;
using asio::use_awaitable;
using namespace asio::experimental::awaitable_operators;

namespace {

// An idle keep-alive connection that waits longer than this gives its buffers
// back, so that thousands of idle connections cost little memory, while a busy
// one reuses them request after request.
constexpr auto shrink_after = std::chrono::milliseconds(250);
// Bytes asked of the socket per read.
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
      conn_(context_->limits, connection_info(context_->config, client_, server_of(socket_, *context_),
                                              context_->state)),
      timer_(socket_.get_executor()),
      input_arrived_(socket_.get_executor()),
      body_taken_(socket_.get_executor()) {
  // Reads and writes are attempted at once and only wait for readiness when
  // the socket has nothing: no buffer is held by a pending read.
  socket_.non_blocking(true);
  context_->connections.insert(this);
}

Connection::~Connection() {
  context_->connections.erase(this);
  if (context_->stopping && context_->connections.empty()) context_->all_closed.set();
}

asio::awaitable<void> Connection::run() {
  auto self = shared_from_this();
  try {
    co_await serve();
  } catch (const std::exception& e) {
    // Cancellation by shutdown, a timeout, or a socket error: nobody to answer.
    error_log()->debug("connection ended: {}", e.what());
  }
  close_socket();
}

void Connection::close_if_idle() {
  if (idle_ && !fresh_) cancel_.emit(asio::cancellation_type::terminal);
}

void Connection::cancel() {
  cancel_.emit(asio::cancellation_type::terminal);
  // Work that cancellation cannot reach (a sync app on its thread) learns it
  // at its next send or receive: the client is gone as far as it is concerned.
  gone_ = true;
  input_arrived_.set();
  close_socket();
}

asio::awaitable<void> Connection::serve() {
  const auto& config = context_->config;
  // A new connection must deliver its first head within the head timeout;
  // between requests the keep-alive timeout applies until a byte arrives,
  // then the head timeout again (a client that trickles its head is cut off).
  auto deadline = Clock::now() + config.timeout_request_head;
  bool between_requests = false;
  for (;;) {
    auto event = conn_.next_event();
    if (auto* started = std::get_if<protocol::RequestStarted>(&event)) {
      fresh_ = false;
      if (!co_await serve_request(std::move(started->scope))) co_return;
      between_requests = true;
      deadline = Clock::now() + config.timeout_keep_alive;
    } else if (std::holds_alternative<protocol::NeedData>(event)) {
      bool head_started = conn_.head_in_progress();
      if (between_requests && head_started) {
        between_requests = false;
        deadline = Clock::now() + config.timeout_request_head;
      }
      idle_ = !head_started;
      if (idle_ && !fresh_ && context_->stopping) co_return;
      bool readable = co_await wait_for_input(deadline);
      idle_ = false;
      if (!readable) co_return;  // keep-alive expired, or the head was too slow
      read_available();
    } else if (std::holds_alternative<protocol::RequestError>(event)) {
      co_await flush();
      co_await linger_close();
      co_return;
    } else {
      // Closed; or Paused, which cannot happen with no request running.
      co_await flush();
      co_return;
    }
  }
}

asio::awaitable<bool> Connection::wait_for_input(Clock::time_point deadline) {
  if (idle_) {
    timer_.expires_at(std::min(deadline, Clock::now() + shrink_after));
    auto first = co_await (socket_.async_wait(Socket::wait_read, use_awaitable) ||
                           timer_.async_wait(use_awaitable));
    if (first.index() == 0) co_return true;
    conn_.shrink_buffers();
    if (Clock::now() >= deadline) co_return false;
  }
  timer_.expires_at(deadline);
  auto result = co_await (socket_.async_wait(Socket::wait_read, use_awaitable) ||
                          timer_.async_wait(use_awaitable));
  co_return result.index() == 0;
}

bool Connection::read_available() {
  auto space = conn_.input_space(read_chunk);
  boost::system::error_code error;
  std::size_t n = socket_.read_some(asio::buffer(space.data(), space.size()), error);
  if (would_block(error)) {
    conn_.commit_input(0);
    return true;
  }
  if (error || n == 0) {
    conn_.commit_input(0);
    gone_ = true;
    conn_.receive_eof();
    return false;
  }
  conn_.commit_input(n);
  return true;
}

asio::awaitable<bool> Connection::serve_request(asgi::Scope scope) {
  if (context_->over_limit()) {
    co_await answer_and_close(503);
    co_return false;
  }
  context_->request_budget.count();
  CycleEnd end;
  {
    ActiveRequest active(*context_);
    end = co_await run_app(std::move(scope));
  }
  log_cycle(conn_, client_);
  if (end == CycleEnd::abort) co_return false;
  co_await flush();
  if (end == CycleEnd::close || context_->stopping) co_return false;
  conn_.start_next_request();
  co_return true;
}

asio::awaitable<CycleEnd> Connection::run_app(asgi::Scope scope) {
  auto self = shared_from_this();
  asgi::Receive receive = [self] { return self->receive(); };
  asgi::Send send = [self](asgi::SendEvent event) { return self->send(std::move(event)); };
  std::exception_ptr error;
  try {
    // The reader runs beside the app: when the client goes away it returns,
    // and the race cancels whatever the app awaits. The app's exception comes
    // back as a value: `||` waits for a success, so a throwing app would
    // otherwise wait for the reader.
    auto winner = co_await (call_app(std::move(scope), std::move(receive), std::move(send)) ||
                            watch_input());
    if (winner.index() == 0) error = std::get<0>(winner);
  } catch (...) {
    error = std::current_exception();
  }
  // A request cancelled by shutdown ends like one whose client went away.
  auto state = co_await asio::this_coro::cancellation_state;
  bool cancelled = state.cancelled() != asio::cancellation_type::none;
  co_return end_cycle(conn_, error, gone_ || cancelled);
}

asio::awaitable<std::exception_ptr> Connection::call_app(asgi::Scope scope, asgi::Receive receive,
                                                         asgi::Send send) {
  try {
    co_await context_->app(std::move(scope), std::move(receive), std::move(send));
  } catch (...) {
    co_return std::current_exception();
  }
  co_return nullptr;
}

asio::awaitable<void> Connection::watch_input() {
  for (;;) {
    body_taken_.reset();
    if (conn_.reading_paused()) {
      // Backpressure: the app has not taken the body yet; read nothing more.
      co_await body_taken_.wait();
      continue;
    }
    auto [error] = co_await socket_.async_wait(Socket::wait_read, asio::as_tuple(use_awaitable));
    if (error == asio::error::operation_aborted) co_return;  // the app finished first
    bool open = !error && read_available();
    if (error && !gone_) {
      gone_ = true;
      conn_.receive_eof();
    }
    input_arrived_.set();
    if (!open) co_return;
  }
}

asio::awaitable<asgi::ReceiveEvent> Connection::receive() {
  for (;;) {
    // Reset before looking, so that bytes arriving during the flush below
    // are not missed by the wait at the end.
    input_arrived_.reset();
    protocol::BodyEvent event = conn_.receive_body();
    body_taken_.set();
    if (!conn_.pending_output().empty()) {
      // "100 Continue", asked for by this first receive.
      try {
        co_await flush();
      } catch (const asgi::ClientDisconnected&) {
        co_return asgi::HttpDisconnect{};
      }
    }
    if (auto* request = std::get_if<asgi::HttpRequest>(&event)) co_return std::move(*request);
    if (std::holds_alternative<asgi::HttpDisconnect>(event) || gone_) co_return asgi::HttpDisconnect{};
    co_await input_arrived_.wait();
  }
}

asio::awaitable<void> Connection::send(asgi::SendEvent event) {
  if (gone_) throw asgi::ClientDisconnected();
  conn_.send(std::move(event));
  co_await flush();
}

asio::awaitable<void> Connection::flush() {
  // Write synchronously while the socket takes bytes (the usual case: one
  // write of head and body); wait for writability only when it is full.
  while (!conn_.pending_output().empty()) {
    if (gone_) throw asgi::ClientDisconnected();
    auto output = conn_.pending_output();
    boost::system::error_code error;
    std::size_t n = socket_.write_some(asio::buffer(output.data(), output.size()), error);
    if (would_block(error)) {
      auto [wait_error] =
          co_await socket_.async_wait(Socket::wait_write, asio::as_tuple(use_awaitable));
      if (wait_error == asio::error::operation_aborted) throw boost::system::system_error(wait_error);
      continue;
    }
    if (error) {
      gone_ = true;
      conn_.receive_eof();
      input_arrived_.set();
      throw asgi::ClientDisconnected();
    }
    conn_.consume_output(n);
  }
}

asio::awaitable<void> Connection::answer_and_close(int status) {
  conn_.send_error_response(status);
  log_cycle(conn_, client_);
  co_await flush();
  co_await linger_close();
}

asio::awaitable<void> Connection::linger_close() {
  boost::system::error_code error;
  socket_.shutdown(Socket::shutdown_send, error);
  if (error || gone_) co_return;
  auto deadline = Clock::now() + linger_time;
  std::array<char, 4096> sink;
  while (co_await wait_for_input(deadline)) {
    socket_.read_some(asio::buffer(sink), error);
    if (error && !would_block(error)) co_return;
  }
}

void Connection::close_socket() {
  boost::system::error_code ignored;
  socket_.shutdown(Socket::shutdown_both, ignored);
  socket_.close(ignored);
}

}  // namespace csgi::servers::loop
