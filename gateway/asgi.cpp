#include "gateway/asgi.hpp"


namespace csgi::asgi {

namespace {
template <class... F>
struct overloaded : F... {
  using F::operator()...;
};
}  // namespace

std::string_view event_name(const ReceiveEvent& event) {
  return std::visit(overloaded{
                        [](const HttpRequest&) { return "http.request"; },
                        [](const HttpDisconnect&) { return "http.disconnect"; },
                        [](const LifespanStartup&) { return "lifespan.startup"; },
                        [](const LifespanShutdown&) { return "lifespan.shutdown"; },
                        [](const WebSocketConnect&) { return "websocket.connect"; },
                        [](const WebSocketMessage&) { return "websocket.receive"; },
                        [](const WebSocketDisconnect&) { return "websocket.disconnect"; },
                    },
                    event);
}

std::string_view event_name(const SendEvent& event) {
  return std::visit(
      overloaded{
          [](const HttpResponseStart&) { return "http.response.start"; },
          [](const HttpResponseBody&) { return "http.response.body"; },
          [](const HttpResponseTrailers&) { return "http.response.trailers"; },
          [](const LifespanStartupComplete&) { return "lifespan.startup.complete"; },
          [](const LifespanStartupFailed&) { return "lifespan.startup.failed"; },
          [](const LifespanShutdownComplete&) { return "lifespan.shutdown.complete"; },
          [](const LifespanShutdownFailed&) { return "lifespan.shutdown.failed"; },
          [](const WebSocketAccept&) { return "websocket.accept"; },
          [](const WebSocketMessage&) { return "websocket.send"; },
          [](const WebSocketClose&) { return "websocket.close"; },
      },
      event);
}

AppFunction plain_function(const App& app) {
  const AppFunction* function = app.target<AppFunction>();
  return function ? *function : nullptr;
}

void check_response_start(int status, const Headers& headers) {
  check_response_status(status);
  for (const auto& field : headers) check_response_field(field);
}

void PendingCall::refuse(std::string_view call) {
  throw ProtocolViolation(std::string(call) + " called while another " + std::string(call) +
                          " is pending");
}

}  // namespace csgi::asgi
