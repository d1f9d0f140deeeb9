#include "apps/mysite_websocket.hpp"

#include <cstddef>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>

#include "runtime/async_event.hpp"

namespace csgi::apps {
namespace {

namespace asio = boost::asio;
using asgi::awaitable;

// Messages waiting for one chat member: above this, the member is closed.
constexpr std::size_t member_queue_limit = 256;

// One connection in the room. Its queue and event are touched only on its
// own executor (a loop server's loop, or a threaded connection's own loop).
struct Member {
  explicit Member(const asio::any_io_executor& executor) : executor(executor), arrived(executor) {}
  asio::any_io_executor executor;
  AsyncEvent arrived;
  std::deque<std::shared_ptr<const std::string>> inbox;
  bool overflowed = false;
};

// The members, from any thread: broadcast() posts each message to each
// member's executor.
class ChatRoom {
 public:
  void join(const std::shared_ptr<Member>& member) {
    std::lock_guard lock(mutex_);
    members_.push_back(member);
  }
  void leave(const Member* member) {
    std::lock_guard lock(mutex_);
    std::erase_if(members_, [member](const auto& m) { return m.get() == member; });
  }
  void broadcast(std::string text) {
    auto message = std::make_shared<const std::string>(std::move(text));
    std::lock_guard lock(mutex_);
    for (const auto& member : members_) {
      asio::post(member->executor, [member, message] {
        if (member->inbox.size() >= member_queue_limit) member->overflowed = true;
        else member->inbox.push_back(message);
        member->arrived.notify();
      });
    }
  }
  std::size_t size() {
    std::lock_guard lock(mutex_);
    return members_.size();
  }

 private:
  std::mutex mutex_;
  std::vector<std::shared_ptr<Member>> members_;
};

awaitable<void> echo(asgi::Receive receive, asgi::Send send) {
  co_await receive();  // websocket.connect
  co_await send(asgi::WebSocketAccept{});
  for (;;) {
    auto event = co_await receive();
    auto* message = std::get_if<asgi::WebSocketMessage>(&event);
    if (!message) co_return;  // websocket.disconnect
    co_await send(std::move(*message));
  }
}

// Everything the member says goes to the room.
awaitable<void> chat_reader(ChatRoom& room, asgi::Receive& receive) {
  for (;;) {
    auto event = co_await receive();
    auto* message = std::get_if<asgi::WebSocketMessage>(&event);
    if (!message) co_return;
    if (message->type == asgi::MessageType::text) room.broadcast(std::move(message->data));
  }
}

// Everything the room says goes to the member.
awaitable<void> chat_writer(Member& member, asgi::Send& send) {
  for (;;) {
    while (member.inbox.empty() && !member.overflowed) co_await member.arrived.wait();
    if (member.overflowed) {
      co_await send(asgi::WebSocketClose{1008, "too far behind the room"});
      co_return;
    }
    auto message = std::move(member.inbox.front());
    member.inbox.pop_front();
    co_await send(asgi::WebSocketMessage{*message, asgi::MessageType::text});
  }
}

awaitable<void> chat(std::shared_ptr<ChatRoom> room, asgi::Receive receive, asgi::Send send) {
  using namespace asio::experimental::awaitable_operators;
  co_await receive();  // websocket.connect
  co_await send(asgi::WebSocketAccept{});
  auto member = std::make_shared<Member>(co_await asio::this_coro::executor);
  room->join(member);
  room->broadcast("* someone joined (" + std::to_string(room->size()) + " here)");
  try {
    // Whichever ends first (the member left, or fell behind) ends the other.
    co_await (chat_reader(*room, receive) || chat_writer(*member, send));
  } catch (const asgi::ClientDisconnected&) {
  }
  room->leave(member.get());
  room->broadcast("* someone left (" + std::to_string(room->size()) + " here)");
}

constexpr std::string_view chat_page = R"html(<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>csgi chat</title>
<style>
body { font: 16px system-ui, sans-serif; max-width: 40em; margin: 2em auto; }
#log { border: 1px solid #ccc; height: 20em; overflow-y: auto; padding: .5em; }
#log p { margin: .2em 0; }
form { display: flex; gap: .5em; margin-top: .5em; }
#text { flex: 1; }
</style></head>
<body>
<h1>csgi chat</h1>
<p id="status">connecting...</p>
<div id="log"></div>
<form id="form"><input id="text" autocomplete="off" autofocus><button>Send</button></form>
<script>
const log = document.getElementById("log");
const status = document.getElementById("status");
const scheme = location.protocol === "https:" ? "wss:" : "ws:";
const socket = new WebSocket(scheme + "//" + location.host + "/ws/chat/");
function show(text) {
  const line = document.createElement("p");
  line.textContent = text;
  log.appendChild(line);
  log.scrollTop = log.scrollHeight;
}
socket.onopen = () => { status.textContent = "connected"; document.title = "csgi chat: connected"; };
socket.onmessage = (event) => show(event.data);
socket.onclose = (event) => { status.textContent = "closed (" + event.code + ")"; };
document.getElementById("form").onsubmit = (event) => {
  event.preventDefault();
  const input = document.getElementById("text");
  if (input.value) socket.send(input.value);
  input.value = "";
};
</script>
</body>
</html>
)html";

}  // namespace

void add_chat_page(web::Router& router) {
  router.path("chat/", web::SyncView([](web::Request) { return web::Response{200, {}, std::string(chat_page)}; }));
}

Application with_websockets(Application site) {
  auto room = std::make_shared<ChatRoom>();
  site.as_async = [as_async = std::move(site.as_async), room](SyncExecutor& executor) -> asgi::App {
    return [http = as_async(executor), room](asgi::Scope&& scope, asgi::Receive receive,
                                             asgi::Send send) -> awaitable<void> {
      if (scope.type == asgi::ScopeType::websocket) {
        // Neither endpoint needs the scope past this point: it goes now
        // rather than staying with the connection for its whole life.
        asgi::Scope taken = std::move(scope);
        if (taken.path == "/ws/echo/") return echo(std::move(receive), std::move(send));
        if (taken.path == "/ws/chat/") return chat(room, std::move(receive), std::move(send));
        return http(std::move(taken), std::move(receive), std::move(send));
      }
      return http(std::move(scope), std::move(receive), std::move(send));
    };
  };
  return site;
}

}  // namespace csgi::apps
