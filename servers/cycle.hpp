// The driver-side pieces of one request cycle that every server shares: the
// protocol settings a Config implies, the one place where an app's failure
// becomes a response, and the access log line.
//
// protocol::ServerConnection owns HTTP; a driver (the loop server's coroutine,
// the threaded server's blocking loop) moves bytes and runs the app, then calls
// end_cycle() and log_cycle() exactly once per request.
#pragma once

#include <exception>
#include <memory>
#include <optional>
#include <string>

#include "gateway/asgi.hpp"
#include "protocol/server_connection.hpp"
#include "servers/config.hpp"

namespace csgi::servers {

// The limits and backpressure bounds for every connection of a server.
protocol::Limits protocol_limits(const Config& config);

// What a connection's responses carry: the Server header (the Date is the
// process's).
protocol::ConnectionInfo connection_info(const Config& config);

// An app's send event, handed to `conn`: the response start, a body piece or
// the trailers; the fields move on without a copy. Lifespan events throw
// asgi::ProtocolViolation; so does misuse (see ServerConnection::send_*).
void send_event(protocol::ServerConnection& conn, asgi::SendEvent&& event);

// How a request ended, and what the driver does with the connection next.
enum class CycleEnd {
  keep_alive,  // response complete: write pending output, start_next_request()
  close,       // write pending output (maybe a 500), then close
  abort,       // close now without writing more: the response cannot be completed
};

// Called once per request after the app returned (`error` null) or threw, on
// the driver's thread, with nothing else touching `conn`. The one place where
// app errors are handled (spec: "Error handling"):
//  - the client went away (`client_gone`, or asgi::ClientDisconnected): abort,
//    nothing logged, since that is the normal end of such a request;
//  - an exception, or a return without a complete response: logged to
//    csgi.error with the message; a 500 with Connection: close is queued when
//    the response had not started, else abort.
CycleEnd end_cycle(protocol::ServerConnection& conn, std::exception_ptr error, bool client_gone);

// A peer as log lines name it: "127.0.0.1:54321", or "-" when it has no
// address (a Unix socket).
std::string peer_name(const std::optional<Endpoint>& client);

// Logs a request the protocol refused (malformed, too large, unsupported) on
// csgi.error as a warning, as uvicorn does, naming the peer and the reason.
// No access line: there was no request to name.
void log_request_error(const protocol::ServerConnection& conn, const protocol::RequestError& error,
                       const std::optional<Endpoint>& client);

// Writes the access line for the current request of `conn` (if its response
// started). `client` is the peer, as in the scope.
void log_cycle(const protocol::ServerConnection& conn, const std::optional<Endpoint>& client);
// The access line of a request that switched protocols: its status is 101,
// which the request's own response never carries.
void log_switch(const protocol::ServerConnection& conn, const std::optional<Endpoint>& client);

}  // namespace csgi::servers
