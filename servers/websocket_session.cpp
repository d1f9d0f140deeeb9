#include "servers/websocket_session.hpp"

#include <algorithm>
#include <stdexcept>
#include <utility>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "gateway/error_log.hpp"
#include "protocol/request_target.hpp"
#include "runtime/use_tuple.hpp"
#include "servers/cycle.hpp"
#include "servers/logging.hpp"
#include "servers/speculative_read.hpp"

namespace csgi::servers {

namespace asio = boost::asio;
namespace ws = protocol::websocket;

namespace {

// Bytes asked of the socket per read.
constexpr std::size_t read_chunk = 16 * 1024;
// How long a close frame waits for the peer's before the socket is closed
// anyway.
constexpr auto close_timeout = std::chrono::seconds(5);

bool would_block(const boost::system::error_code& error) {
  return error == asio::error::would_block || error == asio::error::try_again;
}

// Bytes to write once, for write_out (the 101 head).
struct OneWrite {
  std::string bytes;
  std::size_t written = 0;
  std::string_view pending_output() const { return std::string_view(bytes).substr(written); }
  void consume_output(std::size_t n) { written += n; }
};

ws::MessageType wire_type(asgi::MessageType type) {
  return type == asgi::MessageType::text ? ws::MessageType::text : ws::MessageType::binary;
}

asgi::MessageType app_type(ws::MessageType type) {
  return type == ws::MessageType::text ? asgi::MessageType::text : asgi::MessageType::binary;
}

}  // namespace

bool takes_websocket_path(const Config& config, const protocol::MessageHead& head) {
  return config.ws == WsMode::auto_ && ws::is_upgrade_request(head);
}

WebSocketSession::WebSocketSession(StreamSocket socket, const Config& config,
                                   protocol::ServerConnection& http, std::optional<Endpoint> client,
                                   std::shared_ptr<const void> http_owner)
    : socket_(std::move(socket)),
      config_(config),
      http_(std::move(http_owner), &http),
      client_(std::move(client)),
      changed_(socket_.get_executor()),
      reader_done_(socket_.get_executor()),
      keepalive_done_(socket_.get_executor()),
      ping_timer_(socket_.get_executor()) {
  // Neither coroutine runs until the app accepts.
  reader_done_.set();
  keepalive_done_.set();
}

WebSocketSession::~WebSocketSession() = default;

asio::awaitable<void> WebSocketSession::run(const asgi::App& app, protocol::MessageHead& head,
                                            const ConnectionScope& origin) {
  path_ = protocol::split_target(head.target).raw_path;
  // Whatever HTTP answer the handshake gets, the connection ends with it.
  http_->close_after_response();
  auto checked = ws::check_upgrade(head);
  if (auto* refusal = std::get_if<ws::Refusal>(&checked)) {
    error_log()->info("WebSocket handshake refused ({}): {}", refusal->status, refusal->reason);
    http_->send_response_start({refusal->status, std::move(refusal->headers)});
    http_->send_response_body(refusal->reason, false);
    log_cycle(*http_, client_);
    try {
      co_await write_out(*http_);
    } catch (const std::exception&) {
    }
  } else {
    upgrade_ = std::get<ws::Upgrade>(std::move(checked));
    asgi::Scope scope;
    fill_scope(scope, head, origin);
    scope.type = asgi::ScopeType::websocket;
    scope.scheme = origin.scheme == "https" ? "wss" : "ws";
    scope.subprotocols = upgrade_.subprotocols;
    scope.extensions.websocket_http_response = true;
    std::exception_ptr error;
    try {
      // receive and send capture the bare pointer: the session outlives the
      // app's coroutine, which is awaited here.
      co_await app(std::move(scope), asgi::Receive([this] { return receive(); }),
                   asgi::Send([this](asgi::SendEvent&& event) { return send(std::move(event)); }));
    } catch (...) {
      error = std::current_exception();
    }
    co_await finish(error);
  }
  release_http();
  boost::system::error_code ignored;
  socket_.close(ignored);
}

void WebSocketSession::release_http() { http_.reset(); }

void WebSocketSession::cancel() {
  cancel_.emit(asio::cancellation_type::terminal);
  peer_gone_ = true;
  changed_.notify();
  boost::system::error_code ignored;
  socket_.close(ignored);
}

// ---- the app's receive() and send() ---------------------------------------------

asio::awaitable<asgi::ReceiveEvent> WebSocketSession::receive() {
  asgi::PendingCall pending(receiving_, "receive()");
  if (!std::exchange(connect_delivered_, true)) co_return asgi::WebSocketConnect{};
  for (;;) {
    if (!queue_.empty()) {
      asgi::WebSocketMessage message = std::move(queue_.front());
      queue_.erase(queue_.begin());
      changed_.notify();  // room in the queue: the reader may go on
      co_return message;
    }
    if (disconnect_) co_return *disconnect_;
    if (stage_ == Stage::finished) co_return asgi::WebSocketDisconnect{ws::close_code::abnormal, {}};
    co_await changed_.wait();
  }
}

asio::awaitable<void> WebSocketSession::send(asgi::SendEvent event) {
  asgi::PendingCall pending(sending_, "send()");
  if (auto* accepting = std::get_if<asgi::WebSocketAccept>(&event)) {
    co_await accept(std::move(*accepting));
  } else if (auto* message = std::get_if<asgi::WebSocketMessage>(&event)) {
    if (!ws_) throw asgi::ProtocolViolation("websocket.send before websocket.accept");
    if (peer_gone_ || disconnect_ || ws_->close_sent()) throw asgi::ClientDisconnected();
    ws_->send_message(wire_type(message->type), message->data);
    co_await write_out(*ws_);
  } else if (auto* close = std::get_if<asgi::WebSocketClose>(&event)) {
    if (!ws_) {
      // Closing before accepting refuses the handshake (spec: 403).
      if (denied_) throw asgi::ProtocolViolation("websocket.close during a denial response");
      denied_ = true;
      http_->send_error_response(403);
      stage_ = Stage::finished;
      co_await write_out(*http_);
      co_return;
    }
    if (disconnect_ || ws_->close_sent()) co_return;
    try {
      ws_->send_close(close->code, close->reason);
    } catch (const std::invalid_argument& e) {
      throw asgi::ProtocolViolation(e.what());
    }
    co_await write_out(*ws_);
  } else if (std::holds_alternative<asgi::HttpResponseStart>(event) ||
             std::holds_alternative<asgi::HttpResponseBody>(event)) {
    if (ws_) throw asgi::ProtocolViolation(std::string(asgi::event_name(event)) + " after websocket.accept");
    denied_ = true;
    send_event(*http_, std::move(event));
    if (http_->response_complete()) stage_ = Stage::finished;
    co_await write_out(*http_);
  } else {
    throw asgi::ProtocolViolation(std::string(asgi::event_name(event)) + " sent in a websocket scope");
  }
}

asio::awaitable<void> WebSocketSession::accept(asgi::WebSocketAccept accept) {
  if (ws_ || denied_) throw asgi::ProtocolViolation("websocket.accept after the handshake was answered");
  const auto& offered = upgrade_.subprotocols;
  if (accept.subprotocol && std::find(offered.begin(), offered.end(), *accept.subprotocol) == offered.end())
    throw asgi::ProtocolViolation("websocket.accept with a subprotocol the client did not offer");
  for (const auto& field : accept.headers) check_response_field(field);
  ws::Acceptance acceptance{std::move(accept.subprotocol), std::nullopt, std::move(accept.headers)};
  if (config_.ws_per_message_deflate && !upgrade_.extensions.empty())
    acceptance.deflate = ws::negotiate_deflate(upgrade_.extensions);
  ws::Settings settings{ws::Role::server, config_.ws_max_size, std::nullopt};
  if (acceptance.deflate) settings.deflate = acceptance.deflate->params;
  ws_.emplace(settings);
  ws_->receive_data(http_->take_input());
  stage_ = Stage::open;
  log_switch(*http_, client_);
  // HTTP is over on this connection: its object goes (an open WebSocket at
  // rest should cost little memory).
  release_http();
  {
    OneWrite head{ws::accept_response(upgrade_, acceptance, config_.server_header)};
    co_await write_out(head);
  }
  // Only now: a pong the reader writes must follow the 101.
  auto executor = socket_.get_executor();
  reader_done_.reset();
  asio::co_spawn(executor, read_loop(shared_from_this()), asio::detached);
  if (config_.ws_ping_interval.count() > 0) {
    keepalive_done_.reset();
    asio::co_spawn(executor, keepalive(shared_from_this()), asio::detached);
  }
}

// ---- the end ----------------------------------------------------------------------

asio::awaitable<void> WebSocketSession::finish(std::exception_ptr error) {
  if (!ws_) {
    // Never accepted: the HTTP connection answers, and closes.
    stage_ = Stage::finished;
    if (!http_->response_started() && (!error || holds_exception<asgi::UnsupportedScope>(error))) {
      http_->send_error_response(403);
    } else if (end_cycle(*http_, error, peer_gone_) == CycleEnd::abort) {
      co_return;
    }
    log_cycle(*http_, client_);
    try {
      co_await write_out(*http_);
    } catch (const std::exception&) {
      // The client went, or the caller cancelled: nothing left to say.
    }
    co_return;
  }
  if (error && !holds_exception<asgi::ClientDisconnected>(error))
    log_app_error("Exception in the WebSocket application", "GET", path_, error);
  try {
    co_await close_and_wait(error ? ws::close_code::internal_error : ws::close_code::normal);
  } catch (const std::exception&) {
    // Cancelled (a forced stop): the socket goes now.
  }
  stage_ = Stage::finished;
  changed_.notify();
  ping_timer_.cancel();
  boost::system::error_code ignored;
  socket_.shutdown(StreamSocket::shutdown_both, ignored);
  socket_.cancel(ignored);
  try {
    co_await reader_done_.wait();
    co_await keepalive_done_.wait();
  } catch (const std::exception&) {
    // Cancelled: they end on their own, holding the session and its owner.
  }
}

asio::awaitable<void> WebSocketSession::close_and_wait(std::uint16_t code) {
  using namespace asio::experimental::awaitable_operators;
  if (!disconnect_ && !ws_->close_sent() && !peer_gone_) {
    ws_->send_close(code);
    co_await write_out(*ws_);
  }
  // The client answers our close frame; a server then closes the TCP
  // connection first (RFC 6455 7.1.1).
  if (!reader_done_.is_set()) {
    asio::steady_timer timer(socket_.get_executor(), close_timeout);
    co_await (reader_done_.wait() || timer.async_wait(asio::use_awaitable));
  }
}

void WebSocketSession::going_away() {
  if (!ws_ || disconnect_ || ws_->close_sent()) return;
  queue_.clear();
  disconnect_ = asgi::WebSocketDisconnect{ws::close_code::going_away, "server shutting down"};
  changed_.notify();
  asio::co_spawn(socket_.get_executor(), flush_close(shared_from_this()), asio::detached);
}

asio::awaitable<void> WebSocketSession::flush_close(std::shared_ptr<WebSocketSession> self) {
  // Posted after the app's wake-up: it has been told when the frame leaves.
  if (ws_->close_sent() || peer_gone_) co_return;
  ws_->send_close(ws::close_code::going_away, "server shutting down");
  try {
    co_await write_out(*ws_);
  } catch (const std::exception&) {
  }
}

void WebSocketSession::drop(std::uint16_t code, std::string reason) {
  if (!disconnect_) disconnect_ = asgi::WebSocketDisconnect{code, std::move(reason)};
  changed_.notify();
  // The reader wakes to an end of file, and stops.
  boost::system::error_code ignored;
  socket_.shutdown(StreamSocket::shutdown_both, ignored);
}

// ---- the coroutines beside the app ---------------------------------------------------

asio::awaitable<void> WebSocketSession::read_loop(std::shared_ptr<WebSocketSession> self) {
  // One frame for the whole reader: every open WebSocket keeps it.
  try {
    while (stage_ != Stage::finished) {
      auto event = ws_->next_event();
      // Pongs, and the close frame that answers or fails the connection.
      if (!ws_->pending_output().empty()) co_await write_out(*ws_);
      if (auto* message = std::get_if<ws::Message>(&event)) {
        queue_.push_back(asgi::WebSocketMessage{std::move(message->data), app_type(message->type)});
        changed_.notify();
      } else if (std::holds_alternative<ws::Pong>(event)) {
        awaiting_pong_ = false;
      } else if (auto* closed = std::get_if<ws::Closed>(&event)) {
        if (closed->failed)
          error_log()->info("WebSocket closed with {}: {}", closed->code, closed->reason);
        if (!disconnect_) disconnect_ = asgi::WebSocketDisconnect{closed->code, std::move(closed->reason)};
        boost::system::error_code ignored;
        socket_.shutdown(StreamSocket::shutdown_send, ignored);
        break;
      } else if (queue_.size() >= config_.ws_max_queue) {
        // The app is behind: stop reading until it takes a message.
        co_await changed_.wait();
      } else if (!read_available()) {
        // Nothing to read: an idle connection holds no buffer while it waits.
        // The socket is drained, so the wait costs no system call.
        ws_->shrink_buffers();
        if (queue_.empty()) queue_.shrink_to_fit();
        auto [error, ignored] = co_await async_wait_readable(socket_, peeked_, use_tuple);
        if (error) {
          peer_gone_ = true;
          ws_->receive_eof();
        }
      }
    }
  } catch (const std::exception& e) {
    error_log()->debug("WebSocket reader ended: {}", e.what());
  }
  if (!disconnect_) disconnect_ = asgi::WebSocketDisconnect{ws::close_code::abnormal, {}};
  changed_.notify();
  reader_done_.set();
}

bool WebSocketSession::read_available() {
  auto space = ws_->input_space(read_chunk);
  boost::system::error_code error;
  std::size_t n = socket_.read_some(asio::buffer(space.data(), space.size()), error);
  if (would_block(error)) {
    skip_speculative_read(socket_);  // drained: the next wait needs no attempt first
    return false;
  }
  if (error || n == 0) {
    peer_gone_ = true;
    ws_->receive_eof();
    return true;
  }
  ws_->commit_input(n);
  return true;
}

asio::awaitable<void> WebSocketSession::keepalive(std::shared_ptr<WebSocketSession> self) {
  try {
    for (;;) {
      ping_timer_.expires_after(config_.ws_ping_interval);
      auto [error] = co_await ping_timer_.async_wait(use_tuple);
      if (error || disconnect_ || stage_ != Stage::open || ws_->close_sent()) break;
      awaiting_pong_ = true;
      ws_->send_ping("csgi");
      co_await write_out(*ws_);
      ping_timer_.expires_after(config_.ws_ping_timeout);
      std::tie(error) = co_await ping_timer_.async_wait(use_tuple);
      if (error || disconnect_) break;
      if (awaiting_pong_) {
        error_log()->info("WebSocket keepalive ping timeout; closing the connection");
        drop(ws::close_code::internal_error, "keepalive ping timeout");
        break;
      }
    }
  } catch (const std::exception& e) {
    error_log()->debug("WebSocket keepalive ended: {}", e.what());
  }
  keepalive_done_.set();
}

template <class Source>
asio::awaitable<void> WebSocketSession::write_out(Source& source) {
  while (!source.pending_output().empty()) {
    if (peer_gone_) throw asgi::ClientDisconnected();
    auto output = source.pending_output();
    boost::system::error_code error;
    std::size_t n = socket_.write_some(asio::buffer(output.data(), output.size()), error);
    if (would_block(error)) {
      auto [wait_error] = co_await socket_.async_wait(StreamSocket::wait_write, use_tuple);
      if (wait_error == asio::error::operation_aborted) throw boost::system::system_error(wait_error);
      continue;
    }
    if (error) {
      peer_gone_ = true;
      changed_.notify();
      throw asgi::ClientDisconnected();
    }
    source.consume_output(n);
  }
}

}  // namespace csgi::servers
