// Lifespan handling for built-in apps that have no startup or shutdown work.
#include <variant>

#include "apps/builtin.hpp"

namespace csgi::apps {

asgi::awaitable<void> accept_lifespan(asgi::Receive receive, asgi::Send send) {
  for (;;) {
    asgi::ReceiveEvent event = co_await receive();
    if (std::holds_alternative<asgi::LifespanStartup>(event)) {
      co_await send(asgi::LifespanStartupComplete{});
    } else if (std::holds_alternative<asgi::LifespanShutdown>(event)) {
      co_await send(asgi::LifespanShutdownComplete{});
      co_return;
    }
  }
}

}  // namespace csgi::apps
