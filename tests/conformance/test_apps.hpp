// The conformance apps: the same behaviour written once against the async
// interface and once against the sync one (run through wsgi_to_asgi), chosen
// by path, plus a lifespan layer that both share. A Probe records what the
// app saw, for tests that check the app side of a scenario.
//
//   /hello            200 "Hello, world!" with Content-Length
//   /echo             200 with the request body (read to the end) as body
//   /chunked          "one," "two," "three" in three pieces, no Content-Length
//   /whole            "all at once" in one piece that ends the body, no Content-Length
//   /state            the "greeting" lifespan startup stored in the state
//   /slow?ms=N        waits N ms, then 200 "done"
//   /stream           sends "tick" every 20 ms until the client goes away
//   /raise-before     throws before the response starts
//   /raise-after      starts, sends "partial", throws
//   /incomplete       starts, sends "partial" with more_body, returns (async only)
//   /wait-disconnect  receives until http.disconnect (async only)
//   /bad-start        starts with an invalid header name; 200 "refused at start"
//                     when that start threw, as it must, at the call
//   /late-write       calls write from Body::next, after returning (sync only);
//                     200 "late write refused" when write threw
//   /double-receive   reads the body, then calls receive() while another is
//                     pending; 200 "second receive refused" when it threw
//                     (async only)
//   /double-send      sends pieces, each with a second send() beside it, until
//                     one is pending when its second comes (the client must not
//                     read); sets Probe::second_send and throws (async only)
//
// WebSocket (async only; the sync app's adapter refuses the scope: 403):
//   /ws/echo          accepts (with the first subprotocol offered), echoes every
//                     message, records the disconnect's code in
//                     Probe::websocket_disconnect
//   /ws/deny          answers the handshake with 401 "denied" (the denial response)
//   /ws/close         sends websocket.close before accepting (403)
//   /ws/flood         accepts, then sends 1 MiB messages until the client goes,
//                     counting them in Probe::flood_sent
#pragma once

#include <atomic>
#include <memory>
#include <ostream>

#include "gateway/app.hpp"

namespace csgi::conformance {

struct Probe {
  std::atomic<bool> stream_stopped{false};   // /stream noticed the client left
  std::atomic<bool> saw_disconnect{false};   // /wait-disconnect got http.disconnect
  std::atomic<bool> fail_startup{false};     // lifespan startup fails when set
  std::atomic<bool> shutdown_ran{false};     // lifespan shutdown reached the app
  std::atomic<int> slow_finished{0};         // /slow requests that completed
  // /double-send: 1 when the second send() was refused, 2 when it was not.
  std::atomic<int> second_send{0};
  std::atomic<int> websocket_disconnect{0};  // /ws/echo's websocket.disconnect code
  std::atomic<int> flood_sent{0};            // /ws/flood's messages the server took
};

enum class AppKind { async, sync };

inline void PrintTo(AppKind kind, std::ostream* out) {
  *out << (kind == AppKind::async ? "async app" : "sync app");
}

// The app of `kind`, with the lifespan layer, reporting to `probe`.
Application conformance_app(AppKind kind, std::shared_ptr<Probe> probe);

}  // namespace csgi::conformance
