#include "client/websocket.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "client/errors.hpp"
#include "client/url.hpp"
#include "protocol/parser.hpp"
#include "protocol/websocket.hpp"
#include "protocol/websocket_handshake.hpp"
#include "runtime/use_tuple.hpp"

namespace csgi::client {

namespace asio = boost::asio;
namespace ws = protocol::websocket;
using tcp = asio::ip::tcp;

namespace {

constexpr std::size_t read_chunk = 16 * 1024;

// ws://host/p is http://host/p for where to connect and what to ask.
Url websocket_url(std::string_view text) {
  std::string url(text);
  if (url.starts_with("ws://")) url.replace(0, 2, "http");
  if (url.starts_with("wss://")) throw InvalidUrl(std::string(text), "wss is not supported");
  return parse_url(url);
}

bool would_block(const boost::system::error_code& error) {
  return error == asio::error::would_block || error == asio::error::try_again;
}

}  // namespace

struct WebSocket::Impl {
  Impl(tcp::socket socket, std::string url, ws::Settings settings)
      : socket(std::move(socket)), url(std::move(url)), ws(settings) {}

  tcp::socket socket;
  std::string url;
  ws::Connection ws;
  std::optional<std::string> subprotocol;
  std::uint16_t close_code = ws::close_code::abnormal;
  std::string close_reason;
  bool closed = false;

  asio::awaitable<void> flush() {
    while (!ws.pending_output().empty()) {
      auto out = ws.pending_output();
      boost::system::error_code error;
      std::size_t n = socket.write_some(asio::buffer(out.data(), out.size()), error);
      if (would_block(error)) {
        auto [wait_error] = co_await socket.async_wait(tcp::socket::wait_write, use_tuple);
        if (wait_error) throw RemoteProtocolError(url, wait_error.message());
        continue;
      }
      if (error) throw RemoteProtocolError(url, "the connection broke: " + error.message());
      ws.consume_output(n);
    }
  }

  // Reads once into the protocol (EOF and errors end it).
  asio::awaitable<void> read_some() {
    auto space = ws.input_space(read_chunk);
    auto [error, n] = co_await socket.async_read_some(asio::buffer(space.data(), space.size()), use_tuple);
    ws.commit_input(n);
    if (error) ws.receive_eof();
  }

  asio::awaitable<void> send(ws::MessageType type, std::string data) {
    if (closed || ws.close_sent()) throw RemoteProtocolError(url, "the WebSocket is closed");
    ws.send_message(type, data);
    co_await flush();
  }

  asio::awaitable<std::optional<WebSocketReceived>> receive() {
    for (;;) {
      if (closed) co_return std::nullopt;
      auto event = ws.next_event();
      if (!ws.pending_output().empty()) {
        try {
          co_await flush();  // pongs, the answer to a close
        } catch (const RemoteProtocolError&) {
        }
      }
      if (auto* message = std::get_if<ws::Message>(&event))
        co_return WebSocketReceived{std::move(message->data), message->type == ws::MessageType::binary};
      if (auto* ended = std::get_if<ws::Closed>(&event)) {
        closed = true;
        close_code = ended->code;
        close_reason = std::move(ended->reason);
        boost::system::error_code ignored;
        socket.close(ignored);
        co_return std::nullopt;
      }
      if (std::holds_alternative<ws::NeedData>(event)) co_await read_some();
    }
  }
};

WebSocket::WebSocket(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
WebSocket::WebSocket() = default;
WebSocket::WebSocket(WebSocket&&) noexcept = default;
WebSocket& WebSocket::operator=(WebSocket&&) noexcept = default;
WebSocket::~WebSocket() = default;

asio::awaitable<void> WebSocket::send(std::string text) {
  co_await impl_->send(ws::MessageType::text, std::move(text));
}

asio::awaitable<void> WebSocket::send_binary(std::string bytes) {
  co_await impl_->send(ws::MessageType::binary, std::move(bytes));
}

asio::awaitable<std::optional<WebSocketReceived>> WebSocket::receive() { return impl_->receive(); }

asio::awaitable<void> WebSocket::close(std::uint16_t code, std::string reason) {
  if (impl_->closed) co_return;
  if (!impl_->ws.close_sent()) {
    impl_->ws.send_close(code, reason);
    co_await impl_->flush();
  }
  // Messages still on their way are dropped until the server's close.
  while (co_await impl_->receive()) {
  }
}

const std::optional<std::string>& WebSocket::subprotocol() const { return impl_->subprotocol; }
std::uint16_t WebSocket::close_code() const { return impl_->close_code; }
const std::string& WebSocket::close_reason() const { return impl_->close_reason; }

namespace {

// The handshake on a connected socket: the request, then the answer's head;
// the bytes after it belong to the WebSocket.
asio::awaitable<WebSocket> handshake(tcp::socket socket, const Url& url, const WebSocketOptions& options) {
  const std::string where = url.to_string();
  const std::string key = ws::make_key();
  std::string request = ws::client_request(url.host_header(), url.target, key, options.subprotocols,
                                           options.per_message_deflate, options.headers);
  auto [write_error, written] = co_await asio::async_write(socket, asio::buffer(request), use_tuple);
  if (write_error) throw ConnectError(where, write_error.message());
  protocol::Parser parser(protocol::ParserMode::response);
  std::string input;
  std::array<char, 4096> buffer;
  for (;;) {
    auto [error, n] = co_await socket.async_read_some(asio::buffer(buffer), use_tuple);
    if (error) throw RemoteProtocolError(where, "the server closed during the WebSocket handshake");
    input.append(buffer.data(), n);
    auto [status, used] = parser.feed(input);
    input.erase(0, used);
    if (status == protocol::ParseStatus::error)
      throw RemoteProtocolError(where, "malformed handshake answer");
    if (status == protocol::ParseStatus::head_complete) break;
  }
  std::string why;
  auto agreement = ws::check_answer(parser.head(), key, options.subprotocols,
                                    options.per_message_deflate, why);
  if (!agreement) throw RemoteProtocolError(where, "WebSocket handshake failed: " + why);
  socket.non_blocking(true);
  auto impl = std::make_unique<WebSocket::Impl>(
      std::move(socket), where, ws::Settings{ws::Role::client, options.max_size, agreement->deflate});
  impl->subprotocol = agreement->subprotocol;
  impl->ws.receive_data(input);
  co_return WebSocket(std::move(impl));
}

asio::awaitable<tcp::socket> connect(asio::any_io_executor executor, const Url& url) {
  tcp::resolver resolver(executor);
  auto [resolve_error, endpoints] =
      co_await resolver.async_resolve(url.host, std::to_string(url.port), use_tuple);
  if (resolve_error) throw ConnectError(url.to_string(), resolve_error.message());
  tcp::socket socket(executor);
  auto [connect_error, endpoint] = co_await asio::async_connect(socket, endpoints, use_tuple);
  if (connect_error) throw ConnectError(url.to_string(), connect_error.message());
  socket.set_option(tcp::no_delay(true));
  co_return socket;
}

// The connection and handshake, their failure as a value: a parallel group's
// "||" waits for the first to succeed, so a failure must not be thrown there.
asio::awaitable<std::pair<WebSocket, std::exception_ptr>> open(asio::any_io_executor executor, Url url,
                                                                WebSocketOptions options) {
  try {
    co_return std::pair{co_await handshake(co_await connect(executor, url), url, options), nullptr};
  } catch (...) {
    co_return std::pair{WebSocket(), std::current_exception()};
  }
}

}  // namespace

asio::awaitable<WebSocket> websocket_connect(asio::any_io_executor executor, std::string url,
                                             WebSocketOptions options) {
  using namespace asio::experimental::awaitable_operators;
  Url parsed = websocket_url(url);
  const auto limit = options.connect_timeout;
  asio::steady_timer timer(executor, limit);
  auto result = co_await (open(executor, parsed, std::move(options)) ||
                          timer.async_wait(asio::use_awaitable));
  if (result.index() == 1) throw ConnectTimeout(parsed.to_string(), limit);
  auto& [socket, error] = std::get<0>(result);
  if (error) std::rethrow_exception(error);
  co_return std::move(socket);
}

}  // namespace csgi::client
