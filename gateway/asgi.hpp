// The async app interface (spec/async.md, spec/lifespan.md) as C++ types.
//
// An app is a coroutine `App(Scope, Receive, Send)`. The server calls it once per
// connection scope (an HTTP request, or the lifespan of the process), on one of
// its event-loop threads, and awaits it. The app awaits `receive()` for incoming
// events and `send(event)` for outgoing ones; the event types are separate for
// each direction, so sending an incoming event does not compile.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <variant>

#include <boost/asio/awaitable.hpp>

#include "gateway/common.hpp"

namespace csgi::asgi {

template <class T>
using awaitable = boost::asio::awaitable<T>;

enum class ScopeType : std::uint8_t { http, lifespan, websocket };

// The connection scope (spec/async.md, "HTTP connection scope").
//
// Every app's coroutine frame holds one, and Asio recycles a frame per thread
// only up to 1,020 bytes (larger ones go to malloc on every request): keep it
// small. The one-byte fields sit together at the end, and what is the same
// for every scope is static.
struct Scope {
  // The version of spec/ the server implements; the same for every scope.
  static constexpr std::string_view spec_version = csgi::spec_version;
  std::string http_version = "1.1";   // "1.0" or "1.1"
  std::string method = "GET";         // upper-case
  std::string scheme = "http";        // "http" or "https"
  std::string path = "/";             // percent-decoded, UTF-8
  std::string raw_path = "/";         // as sent, without the query string
  std::string query_string;           // as sent, without the '?'
  std::string root_path;              // mount point; not part of `path`
  Headers headers;                    // lower-case names, in order, duplicates kept
  std::optional<Endpoint> client;     // the peer, when known
  std::optional<Endpoint> server;     // the listening address, when known
  std::shared_ptr<State> state;       // shared with lifespan; null when the server has none
  TraceContext trace;                 // this request's span and its caller's (runtime/trace.hpp)
  // websocket scopes: the subprotocols the client offered, in its order
  // (spec/websocket.md); empty for http.
  std::vector<std::string> subprotocols;
  Extensions extensions;
  ScopeType type = ScopeType::http;
};

// ---- receive events (server -> app) --------------------------------------

// http.request: a piece of the request body.
struct HttpRequest {
  std::string body;
  bool more_body = false;
};
// http.disconnect: the client went away, or the response is complete.
struct HttpDisconnect {};
// lifespan.startup / lifespan.shutdown
struct LifespanStartup {};
struct LifespanShutdown {};

// websocket.connect: the client asks to open the WebSocket (spec/websocket.md).
struct WebSocketConnect {};
// Whether a WebSocket message is text (valid UTF-8) or binary.
enum class MessageType : std::uint8_t { text, binary };
// websocket.receive (in ReceiveEvent) and websocket.send (in SendEvent): one
// whole message, from the client or to it. The one type serves both
// directions, so that an echo sends what it received as it is.
struct WebSocketMessage {
  std::string data;
  MessageType type = MessageType::text;
};
// websocket.disconnect: the WebSocket is closed; `code` is the client's close
// code, ours when the server closed it (1001 on shutdown), 1005 for a close
// without a code, 1006 when the connection broke without one.
struct WebSocketDisconnect {
  std::uint16_t code = 1005;
  std::string reason;
};

using ReceiveEvent = std::variant<HttpRequest, HttpDisconnect, LifespanStartup, LifespanShutdown,
                                  WebSocketConnect, WebSocketMessage, WebSocketDisconnect>;

// ---- send events (app -> server) -----------------------------------------

// http.response.start: status and headers; nothing is written until the first
// http.response.body (so a later error can still become a 500).
struct HttpResponseStart {
  int status = 200;
  Headers headers;
  bool trailers = false;  // an http.response.trailers event will follow the body
};
// http.response.body: a piece of the response body.
struct HttpResponseBody {
  std::string body;
  bool more_body = false;
};
// http.response.trailers (extension "http.response.trailers").
struct HttpResponseTrailers {
  Headers headers;
  bool more_trailers = false;
};
struct LifespanStartupComplete {};
struct LifespanStartupFailed {
  std::string message;
};
struct LifespanShutdownComplete {};
struct LifespanShutdownFailed {
  std::string message;
};

// websocket.accept: open the WebSocket, with one of the offered subprotocols
// (or none) and extra response fields.
struct WebSocketAccept {
  std::optional<std::string> subprotocol;
  Headers headers;
};
// websocket.close: close the WebSocket with `code` (1000, 1001, 1003,
// 1007-1014 or 3000-4999) and a reason of at most 123 bytes; before
// websocket.accept, refuses the handshake with 403.
struct WebSocketClose {
  std::uint16_t code = 1000;
  std::string reason;
};

using SendEvent =
    std::variant<HttpResponseStart, HttpResponseBody, HttpResponseTrailers, LifespanStartupComplete,
                 LifespanStartupFailed, LifespanShutdownComplete, LifespanShutdownFailed,
                 WebSocketAccept, WebSocketMessage, WebSocketClose>;

// The event name the spec uses ("http.response.start", ...).
std::string_view event_name(const ReceiveEvent& event);
std::string_view event_name(const SendEvent& event);

// ---- the callables --------------------------------------------------------

using Receive = std::function<awaitable<ReceiveEvent>()>;
using Send = std::function<awaitable<void>(SendEvent)>;
// The scope arrives as an rvalue, so that it is moved rather than copied on
// its way in; apps take it by value (spec/async.md, "The app").
using App = std::function<awaitable<void>(Scope&&, Receive, Send)>;
// An app written as a plain function, as most are. A server that holds one
// may call it directly instead of through App: the scope is then built in
// place as the argument, where std::function moves the whole Scope once more
// on its way to the parameter.
using AppFunction = awaitable<void> (*)(Scope, Receive, Send);
// The plain function `app` wraps; null when it wraps anything else (a lambda,
// middleware, an adapter).
AppFunction plain_function(const App& app);

// Thrown by `send` once the client has gone, and when the app breaks the
// ordering rules (runtime/http_types.hpp).
using csgi::ClientDisconnected;
using csgi::ProtocolViolation;

// The checks of http.response.start that do not depend on the connection
// (spec/async.md, "Response Start"): throws ProtocolViolation when `status` is
// outside 200 to 599, or a header name is not an RFC 9110 token, or a name or
// value holds CR, LF or NUL. Sync hosts run it inside start_response, so that
// the app's call throws rather than its first write.
void check_response_start(int status, const Headers& headers);

// One call of receive() or send() in progress (spec/async.md: an app MUST NOT
// have two receive() or two send() calls pending at once). A host keeps one
// flag per direction and puts a guard in the frame of each call: the guard
// raises the flag for as long as the call runs, and throws ProtocolViolation
// from its constructor, changing nothing, when the flag is already up.
class PendingCall {
 public:
  // `call` names the callable in the message: "receive()" or "send()".
  // Inline: it runs on every receive() and send() of every request.
  PendingCall(bool& pending, std::string_view call) : pending_(pending) {
    if (pending) refuse(call);
    pending = true;
  }
  ~PendingCall() { pending_ = false; }
  PendingCall(const PendingCall&) = delete;
  PendingCall& operator=(const PendingCall&) = delete;

 private:
  [[noreturn]] static void refuse(std::string_view call);
  bool& pending_;
};

// Thrown by an app to refuse a scope type it does not handle (spec/lifespan.md:
// an app that does not support lifespan raises on the lifespan scope).
class UnsupportedScope : public std::runtime_error {
 public:
  UnsupportedScope() : std::runtime_error("scope type not supported") {}
};

}  // namespace csgi::asgi
