#include "servers/cycle.hpp"

#include <string>

#include "protocol/request_target.hpp"
#include "servers/logging.hpp"

namespace csgi::servers {

protocol::Limits protocol_limits(const Config& config) {
  protocol::Limits limits;
  limits.request_line = config.limit_request_line;
  limits.request_head = config.limit_request_head;
  limits.request_fields = config.limit_request_fields;
  limits.request_body = config.limit_request_body;
  return limits;
}

protocol::ConnectionInfo connection_info(const Config& config) {
  protocol::ConnectionInfo info;
  info.server_header = config.server_header;
  return info;
}

void send_event(protocol::ServerConnection& conn, asgi::SendEvent&& event) {
  if (auto* start = std::get_if<asgi::HttpResponseStart>(&event))
    return conn.send_response_start({start->status, std::move(start->headers), start->trailers});
  if (auto* body = std::get_if<asgi::HttpResponseBody>(&event))
    return conn.send_response_body(body->body, body->more_body);
  if (auto* trailers = std::get_if<asgi::HttpResponseTrailers>(&event))
    return conn.send_response_trailers(trailers->headers, trailers->more_trailers);
  throw asgi::ProtocolViolation(std::string(asgi::event_name(event)) + " sent in an http scope");
}

namespace {

// Logs the app's failure, naming the request. Before the response started the
// client still gets an answer; after, the only honest signal left is to cut
// the connection.
CycleEnd fail_response(protocol::ServerConnection& conn, std::string_view what_happened,
                       std::exception_ptr error = nullptr) {
  log_app_error(what_happened, conn.method(), protocol::split_target(conn.raw_target()).raw_path,
                error);
  if (conn.response_started()) return CycleEnd::abort;
  conn.send_error_response(500);
  return CycleEnd::close;
}

}  // namespace

CycleEnd end_cycle(protocol::ServerConnection& conn, std::exception_ptr error, bool client_gone) {
  if (client_gone || holds_exception<asgi::ClientDisconnected>(error)) return CycleEnd::abort;
  if (error) return fail_response(conn, "Exception in the application", error);
  if (!conn.response_started())
    return fail_response(conn, "The application returned without starting its response");
  if (!conn.response_complete())
    return fail_response(conn, "The application returned without completing its response");
  return conn.keep_alive() ? CycleEnd::keep_alive : CycleEnd::close;
}

std::string peer_name(const std::optional<Endpoint>& client) {
  return client ? client->host + ":" + std::to_string(client->port) : "-";
}

void log_request_error(const protocol::ServerConnection& conn, const protocol::RequestError& error,
                       const std::optional<Endpoint>& client) {
  error_log()->warn("Invalid HTTP request received from {}: {} ({})", peer_name(client),
                    error.error.message(), error.status);
}

namespace {

void log_line(const protocol::ServerConnection& conn, const std::optional<Endpoint>& client, int status) {
  if (status == 0 || !access_log_enabled()) return;
  std::string peer = peer_name(client);
  auto [path, query] = protocol::split_target(conn.raw_target());
  log_access(peer, conn.method(), path, query, conn.http_version(), status);
}

}  // namespace

void log_cycle(const protocol::ServerConnection& conn, const std::optional<Endpoint>& client) {
  log_line(conn, client, conn.status());
}

void log_switch(const protocol::ServerConnection& conn, const std::optional<Endpoint>& client) {
  log_line(conn, client, 101);
}

}  // namespace csgi::servers
