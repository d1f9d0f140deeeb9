#include "servers/request_head.hpp"

#include "gateway/convert.hpp"
#include "gateway/proxy_headers.hpp"
#include "protocol/request_target.hpp"

namespace csgi::servers {

namespace {

// A new scope or environ already holds the usual values ("1.1", "GET",
// "http", "/"): comparing first skips rewriting them.
void set(std::string& field, std::string_view value) {
  if (field != value) field.assign(value);
}

// The fields both forms share, whatever their names: all but the version.
struct RequestFields {
  std::string& method;
  std::string& scheme;
  std::string& path;
  std::string& raw_path;
  std::string& query_string;
  std::string& root_path;
  Headers& headers;
  std::optional<Endpoint>& client;
  std::optional<Endpoint>& server;
  std::shared_ptr<State>& state;
  Extensions& extensions;
  TraceContext& trace;
};

// Fills `fields` for `head`, moving the header fields out of it.
void fill_fields(const RequestFields& fields, protocol::MessageHead& head,
                 const ConnectionScope& connection) {
  set(fields.method, head.method);
  set(fields.scheme, connection.scheme);
  const auto [raw_path, query] = protocol::split_target(head.target);
  set(fields.raw_path, raw_path);
  set(fields.query_string, query);
  // Most paths have no escapes: skip the decoding copy for them.
  if (raw_path.find('%') == std::string_view::npos)
    set(fields.path, raw_path);
  else
    fields.path = csgi::percent_decode(raw_path);
  set(fields.root_path, connection.root_path);
  strip_root_path(fields.path, fields.root_path);
  fields.headers = std::move(head.headers);
  head.headers.clear();
  fields.client = connection.client;
  fields.server = connection.server;
  fields.state = connection.state;
  fields.extensions = connection.extensions;
  fields.trace = TraceContext::for_request(find_header(fields.headers, "traceparent"));
  if (connection.proxy_headers)
    apply_proxy_headers(*connection.proxy_headers, fields.headers, fields.client, fields.scheme);
}

}  // namespace

ConnectionScope connection_scope(const Config& config, std::optional<Endpoint> client,
                                 std::optional<Endpoint> server, std::shared_ptr<State> state) {
  ConnectionScope connection;
  if (config.proxy_headers && config.forwarded_allow_ips.trusts(client))
    connection.proxy_headers = &config.forwarded_allow_ips;
  connection.client = std::move(client);
  connection.server = std::move(server);
  connection.root_path = config.root_path;
  connection.extensions.http_response_trailers = true;
  connection.state = std::move(state);
  return connection;
}

void strip_root_path(std::string& path, std::string_view root_path) {
  if (root_path.empty() || !path.starts_with(root_path)) return;
  if (path.size() == root_path.size()) {
    path = "/";
  } else if (path[root_path.size()] == '/') {
    path.erase(0, root_path.size());
  }
}

void fill_scope(asgi::Scope& scope, protocol::MessageHead& head, const ConnectionScope& connection) {
  scope.type = asgi::ScopeType::http;
  set(scope.http_version, head.version_minor == 0 ? "1.0" : "1.1");
  fill_fields({scope.method, scope.scheme, scope.path, scope.raw_path, scope.query_string,
               scope.root_path, scope.headers, scope.client, scope.server, scope.state,
               scope.extensions, scope.trace},
              head, connection);
}

void fill_environ(wsgi::Environ& environ, protocol::MessageHead& head,
                  const ConnectionScope& connection) {
  set(environ.server_protocol, head.version_minor == 0 ? "HTTP/1.0" : "HTTP/1.1");
  fill_fields({environ.request_method, environ.url_scheme, environ.path_info, environ.raw_path,
               environ.query_string, environ.script_name, environ.headers, environ.remote,
               environ.server, environ.state, environ.extensions, environ.trace},
              head, connection);
  environ.extensions.http_response_trailers = false;
}

}  // namespace csgi::servers
