// The loop connection's WebSocket path: the socket goes to a WebSocketSession
// (servers/websocket_session.hpp), which the context lists until it ends, so
// that graceful shutdown reaches it. This connection then ends; the session
// holds it only until the handshake is answered.
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/co_spawn.hpp>

#include "servers/loop/connection.hpp"
#include "servers/websocket_session.hpp"

namespace csgi::servers::loop {

boost::asio::awaitable<void> Connection::serve_websocket(protocol::MessageHead& head) {
  if (context_->stopping) co_return co_await answer_and_close(503);
  context_->request_budget.count();
  auto executor = socket_.get_executor();
  auto session = std::make_shared<WebSocketSession>(std::move(socket_), context_->config, conn_, client_,
                                                    shared_from_this());
  context_->websockets.insert(session);
  boost::asio::co_spawn(
      executor, session->run(context_->app, head, origin_),
      boost::asio::bind_cancellation_slot(
          session->cancellation_slot(), [context = context_, session](std::exception_ptr) {
            context->websockets.erase(session);
            context->closed_one();
          }));
}

}  // namespace csgi::servers::loop
