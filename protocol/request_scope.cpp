#include "protocol/request_scope.hpp"

#include "gateway/convert.hpp"
#include "protocol/server_connection.hpp"

namespace csgi::protocol {

TargetParts split_target(std::string_view target) {
  if (const auto fragment = target.find('#'); fragment != std::string_view::npos)
    target = target.substr(0, fragment);
  if (!target.empty() && target.front() != '/' && target != "*") {
    // absolute-form: skip "scheme://authority"; authority-form stays whole.
    if (const auto scheme_end = target.find("://"); scheme_end != std::string_view::npos) {
      const auto path_start = target.find_first_of("/?", scheme_end + 3);
      target = path_start == std::string_view::npos ? std::string_view("/")
                                                    : target.substr(path_start);
      if (target.front() == '?') return {"/", target.substr(1)};
    }
  }
  const auto query = target.find('?');
  if (query == std::string_view::npos) return {target, {}};
  return {target.substr(0, query), target.substr(query + 1)};
}

void strip_root_path(std::string& path, std::string_view root_path) {
  if (root_path.empty() || !path.starts_with(root_path)) return;
  if (path.size() == root_path.size()) {
    path = "/";
  } else if (path[root_path.size()] == '/') {
    path.erase(0, root_path.size());
  }
}

void fill_scope(asgi::Scope& scope, MessageHead& head, const ConnectionInfo& info) {
  // A new scope already holds the usual values ("1.1", "GET", "http", "/"):
  // comparing first skips rewriting them.
  auto set = [](std::string& field, std::string_view value) {
    if (field != value) field.assign(value);
  };
  scope.type = asgi::ScopeType::http;
  set(scope.http_version, head.version_minor == 0 ? "1.0" : "1.1");
  set(scope.method, head.method);
  set(scope.scheme, info.scheme);
  const auto [raw_path, query] = split_target(head.target);
  set(scope.raw_path, raw_path);
  set(scope.query_string, query);
  // Most paths have no escapes: skip the decoding copy for them.
  if (raw_path.find('%') == std::string_view::npos)
    set(scope.path, raw_path);
  else
    scope.path = csgi::percent_decode(raw_path);
  set(scope.root_path, info.root_path);
  strip_root_path(scope.path, scope.root_path);
  scope.headers = std::move(head.headers);
  head.headers.clear();
  scope.client = info.client;
  scope.server = info.server;
  scope.state = info.state;
  scope.extensions = info.extensions;
}

}  // namespace csgi::protocol
