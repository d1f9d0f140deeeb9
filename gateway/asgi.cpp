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
      },
      event);
}

}  // namespace csgi::asgi
