#include "gateway/convert.hpp"

#include <charconv>

namespace csgi {

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

namespace {

// SERVER_PROTOCOL for a scope's http_version, without building a string for
// the two versions every request has.
std::string server_protocol(const std::string& http_version) {
  if (http_version == "1.1") return "HTTP/1.1";
  if (http_version == "1.0") return "HTTP/1.0";
  return "HTTP/" + http_version;
}

// Both forms of environ_from_scope: `Scope` is a const or an rvalue scope, and
// each field is copied or moved accordingly.
template <class Scope>
wsgi::Environ environ_from(Scope&& scope) {
  wsgi::Environ environ;
  environ.request_method = std::forward<Scope>(scope).method;
  environ.script_name = std::forward<Scope>(scope).root_path;
  environ.path_info = std::forward<Scope>(scope).path;
  environ.raw_path = std::forward<Scope>(scope).raw_path;
  environ.query_string = std::forward<Scope>(scope).query_string;
  environ.server_protocol = server_protocol(scope.http_version);
  environ.url_scheme = std::forward<Scope>(scope).scheme;
  environ.headers = std::forward<Scope>(scope).headers;
  environ.remote = std::forward<Scope>(scope).client;
  environ.server = std::forward<Scope>(scope).server;
  environ.state = std::forward<Scope>(scope).state;
  environ.extensions = scope.extensions;
  environ.trace = scope.trace;
  // A sync body has no way to carry trailers.
  environ.extensions.http_response_trailers = false;
  return environ;
}

}  // namespace

wsgi::Environ environ_from_scope(const asgi::Scope& scope) { return environ_from(scope); }

wsgi::Environ environ_from_scope(asgi::Scope&& scope) { return environ_from(std::move(scope)); }

asgi::Scope scope_from_environ(const wsgi::Environ& environ) {
  asgi::Scope scope;
  scope.type = asgi::ScopeType::http;
  scope.method = environ.request_method;
  scope.root_path = environ.script_name;
  scope.path = environ.path_info;
  scope.raw_path = environ.raw_path;
  scope.query_string = environ.query_string;
  std::string_view protocol = environ.server_protocol;
  if (protocol.starts_with("HTTP/")) protocol.remove_prefix(5);
  scope.http_version = std::string(protocol);
  scope.scheme = environ.url_scheme;
  scope.headers = environ.headers;
  scope.client = environ.remote;
  scope.server = environ.server;
  scope.state = environ.state;
  scope.extensions = environ.extensions;
  scope.trace = environ.trace;
  // The sync side cannot pass trailers on, so the async app must not send them.
  scope.extensions.http_response_trailers = false;
  return scope;
}

std::string percent_decode(std::string_view text, bool plus_as_space) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '%' && i + 2 < text.size()) {
      int high = hex_value(text[i + 1]);
      int low = hex_value(text[i + 2]);
      if (high >= 0 && low >= 0) {
        out.push_back(static_cast<char>(high * 16 + low));
        i += 2;
        continue;
      }
    }
    out.push_back(plus_as_space && c == '+' ? ' ' : c);
  }
  return out;
}

std::optional<std::uint64_t> content_length(const Headers& headers) {
  auto value = find_header(headers, "content-length");
  if (!value) return std::nullopt;
  std::uint64_t length = 0;
  auto [end, error] = std::from_chars(value->data(), value->data() + value->size(), length);
  if (error != std::errc() || end != value->data() + value->size()) return std::nullopt;
  return length;
}

}  // namespace csgi
