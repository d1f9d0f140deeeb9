// The loop connection's WebSocket path: the socket and the HTTP connection go
// to a WebSocketSession for as long as it runs (servers/websocket_session.hpp).
#include "servers/loop/connection.hpp"

namespace csgi::servers::loop {

boost::asio::awaitable<void> Connection::serve_websocket(protocol::MessageHead& head) {
  if (context_->stopping) co_return co_await answer_and_close(503);
  context_->request_budget.count();
  phase_ = Phase::websocket;
  websocket_ = std::make_shared<WebSocketSession>(socket_, context_->config, conn_, client_, shared_from_this());
  // The session holds this connection while its coroutines run; this
  // connection holds it only until it returns.
  struct Release {
    std::shared_ptr<WebSocketSession>& session;
    ~Release() { session.reset(); }
  } release{websocket_};
  co_await websocket_->run(context_->app, head, origin_);
}

}  // namespace csgi::servers::loop
