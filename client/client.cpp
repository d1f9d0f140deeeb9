#include "client/client.hpp"

#include <future>
#include <stdexcept>
#include <thread>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_future.hpp>

#include "runtime/executor.hpp"

namespace csgi::client {
namespace asio = boost::asio;

struct Client::Impl {
  explicit Impl(ClientOptions options)
      : work(io.get_executor()), async(io.get_executor(), std::move(options)) {
    thread = std::thread([this] {
      EventLoopThreadMark mark;  // a Client call made from here would deadlock
      io.run();
    });
  }
  ~Impl() {
    // The async client's idle connections are closed on the I/O thread, which
    // owns them; then the thread runs out of work and ends.
    asio::post(io, [this] { async.close_idle(); });
    work.reset();
    thread.join();
  }

  // Runs `make()`'s coroutine on the I/O thread and blocks until it is done,
  // rethrowing what it threw.
  template <class F>
  auto call(F make) {
    if (this_thread_runs_event_loop())
      throw std::logic_error(
          "csgi::client::Client called from an event-loop thread; use AsyncClient there");
    return asio::co_spawn(io, std::move(make), asio::use_future).get();
  }

  asio::io_context io{1};
  asio::executor_work_guard<asio::io_context::executor_type> work;
  AsyncClient async;
  std::thread thread;
};

struct ClientStream::State {
  std::shared_ptr<Client::Impl> client;
  StreamedResponse stream;
};

Client::Client(ClientOptions options) : impl_(std::make_shared<Impl>(std::move(options))) {}

Client::~Client() = default;

Response Client::request(std::string method, std::string url, Headers headers, std::string body,
                         RequestOptions options) {
  // The request this thread serves, if any: the I/O thread knows none.
  propagate_trace(options.headers, current_trace());
  auto& async = impl_->async;
  return impl_->call([&]() -> awaitable<Response> {
    co_return co_await async.request(std::move(method), std::move(url), std::move(headers),
                                     std::move(body), std::move(options));
  });
}

Response Client::get(std::string url, RequestOptions options) {
  return request("GET", std::move(url), {}, {}, std::move(options));
}

Response Client::head(std::string url, RequestOptions options) {
  return request("HEAD", std::move(url), {}, {}, std::move(options));
}

Response Client::post(std::string url, std::string body, RequestOptions options) {
  return request("POST", std::move(url), {}, std::move(body), std::move(options));
}

Response Client::put(std::string url, std::string body, RequestOptions options) {
  return request("PUT", std::move(url), {}, std::move(body), std::move(options));
}

Response Client::delete_(std::string url, RequestOptions options) {
  return request("DELETE", std::move(url), {}, {}, std::move(options));
}

ClientStream Client::stream(std::string method, std::string url, Headers headers,
                            std::string body, RequestOptions options) {
  propagate_trace(options.headers, current_trace());
  auto state = std::make_unique<ClientStream::State>();
  state->client = impl_;
  auto& async = impl_->async;
  state->stream = impl_->call([&]() -> awaitable<StreamedResponse> {
    co_return co_await async.stream(std::move(method), std::move(url), std::move(headers),
                                    std::move(body), std::move(options));
  });
  Response head = state->stream.head();
  return ClientStream(std::move(state), std::move(head));
}

AsyncClient::PoolStats Client::pool_stats(const std::string& origin) const {
  auto& async = impl_->async;
  return impl_->call([&]() -> awaitable<AsyncClient::PoolStats> { co_return async.pool_stats(origin); });
}

void Client::close_idle() {
  auto& async = impl_->async;
  impl_->call([&]() -> awaitable<void> {
    async.close_idle();
    co_return;
  });
}

// ---- ClientStream ----------------------------------------------------------

ClientStream::ClientStream(std::unique_ptr<State> state, Response head)
    : state_(std::move(state)), head_(std::move(head)) {}
ClientStream::ClientStream(ClientStream&&) noexcept = default;
ClientStream& ClientStream::operator=(ClientStream&& other) noexcept {
  if (this != &other) {
    close();
    state_ = std::move(other.state_);
    head_ = std::move(other.head_);
  }
  return *this;
}

ClientStream::~ClientStream() { close(); }

std::optional<std::string> ClientStream::read_chunk() {
  if (!state_) return std::nullopt;
  auto& stream = state_->stream;
  return state_->client->call(
      [&]() -> awaitable<std::optional<std::string>> { co_return co_await stream.read_chunk(); });
}

std::string ClientStream::read_all() {
  if (!state_) return {};
  auto& stream = state_->stream;
  return state_->client->call(
      [&]() -> awaitable<std::string> { co_return co_await stream.read_all(); });
}

void ClientStream::close() {
  if (!state_) return;
  // The stream's connection belongs to the I/O thread's pool: release it there.
  auto state = std::move(state_);
  auto client = state->client;
  std::promise<void> done;
  asio::post(client->io, [&] {
    state.reset();
    done.set_value();
  });
  done.get_future().wait();
}

// ---- WebSocket ----------------------------------------------------------------

struct ClientWebSocket::State {
  std::shared_ptr<Client::Impl> client;
  WebSocket socket;
};

ClientWebSocket::ClientWebSocket(std::unique_ptr<State> state) : state_(std::move(state)) {}
ClientWebSocket::ClientWebSocket(ClientWebSocket&&) noexcept = default;
ClientWebSocket& ClientWebSocket::operator=(ClientWebSocket&&) noexcept = default;

ClientWebSocket::~ClientWebSocket() {
  if (!state_) return;
  // The socket belongs to the I/O thread: it is closed there. The client is
  // not handed over with it, so that the last reference to the client is
  // never dropped on its own I/O thread.
  auto client = std::move(state_->client);
  auto socket = std::make_shared<WebSocket>(std::move(state_->socket));
  state_.reset();
  client->call([socket = std::move(socket)]() mutable -> awaitable<void> {
    socket.reset();
    co_return;
  });
}

void ClientWebSocket::send(std::string text) {
  state_->client->call([&]() -> awaitable<void> { co_await state_->socket.send(std::move(text)); });
}

void ClientWebSocket::send_binary(std::string bytes) {
  state_->client->call([&]() -> awaitable<void> { co_await state_->socket.send_binary(std::move(bytes)); });
}

std::optional<WebSocketReceived> ClientWebSocket::receive() {
  return state_->client->call([&]() { return state_->socket.receive(); });
}

void ClientWebSocket::close(std::uint16_t code, std::string reason) {
  state_->client->call([&]() -> awaitable<void> { co_await state_->socket.close(code, std::move(reason)); });
}

const std::optional<std::string>& ClientWebSocket::subprotocol() const { return state_->socket.subprotocol(); }
std::uint16_t ClientWebSocket::close_code() const { return state_->socket.close_code(); }

ClientWebSocket Client::websocket_connect(std::string url, WebSocketOptions options) {
  auto& async = impl_->async;
  auto socket = impl_->call([&]() -> awaitable<WebSocket> {
    co_return co_await async.websocket_connect(std::move(url), std::move(options));
  });
  return ClientWebSocket(std::make_unique<ClientWebSocket::State>(impl_, std::move(socket)));
}

}  // namespace csgi::client
