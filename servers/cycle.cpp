#include "servers/cycle.hpp"

#include <string>

#include "gateway/asgi.hpp"
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

protocol::ConnectionInfo connection_info(const Config& config, std::optional<Endpoint> client,
                                         std::optional<Endpoint> server,
                                         std::shared_ptr<State> state) {
  protocol::ConnectionInfo info;
  info.client = std::move(client);
  info.server = std::move(server);
  info.root_path = config.root_path;
  info.server_header = config.server_header;
  info.extensions.http_response_trailers = true;
  info.state = std::move(state);
  return info;
}

namespace {

// Before the response started the client still gets an answer; after, the
// only honest signal left is to cut the connection.
CycleEnd fail_response(protocol::ServerConnection& conn) {
  if (conn.response_started()) return CycleEnd::abort;
  conn.send_error_response(500);
  return CycleEnd::close;
}

}  // namespace

CycleEnd end_cycle(protocol::ServerConnection& conn, std::exception_ptr error, bool client_gone) {
  if (client_gone || holds_exception<asgi::ClientDisconnected>(error)) return CycleEnd::abort;
  if (error) {
    error_log()->error("Exception in the application: {}", describe_exception(error));
    return fail_response(conn);
  }
  if (!conn.response_started()) {
    error_log()->error("The application returned without starting its response.");
    return fail_response(conn);
  }
  if (!conn.response_complete()) {
    error_log()->error("The application returned without completing its response.");
    return fail_response(conn);
  }
  return conn.keep_alive() ? CycleEnd::keep_alive : CycleEnd::close;
}

namespace {

std::string peer_name(const std::optional<Endpoint>& client) {
  return client ? client->host + ":" + std::to_string(client->port) : "-";
}

}  // namespace

void log_request_error(const protocol::ServerConnection& conn, const protocol::RequestError& error,
                       const std::optional<Endpoint>& client) {
  error_log()->warn("Invalid HTTP request received from {}: {} ({})", peer_name(client),
                    error.error.message(), error.status);
}

void log_cycle(const protocol::ServerConnection& conn, const std::optional<Endpoint>& client) {
  if (conn.status() == 0 || !access_log_enabled()) return;
  std::string peer = peer_name(client);
  std::string_view target = conn.raw_target();
  std::string_view path = target, query;
  if (auto mark = target.find('?'); mark != std::string_view::npos) {
    path = target.substr(0, mark);
    query = target.substr(mark + 1);
  }
  log_access(peer, conn.method(), path, query, conn.http_version(), conn.status());
}

}  // namespace csgi::servers
