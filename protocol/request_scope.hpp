// Building the asgi::Scope of a request from its parsed head.
#pragma once

#include <string>
#include <string_view>

#include "gateway/asgi.hpp"
#include "protocol/parser.hpp"

namespace csgi::protocol {

struct ConnectionInfo;

// The parts of a request-target (RFC 9112 3.2): origin-form "/p?q",
// absolute-form "http://host/p?q" (path from the first '/' after the
// authority), asterisk-form "*", and authority-form "host:port" (CONNECT),
// which is its own path.
struct TargetParts {
  std::string_view raw_path;      // without query and fragment, as sent
  std::string_view query_string;  // after '?', without the '?'
};
TargetParts split_target(std::string_view target);

// Removes `root_path` from the front of the decoded `path` when `path` equals it
// or continues it with '/', leaving at least "/" (spec/async.md, "Path and
// root_path"); any other path is left as it is.
void strip_root_path(std::string& path, std::string_view root_path);

// Fills `scope` for `head`, moving the header fields out of it. The strings of
// `scope` keep their capacity when it is reused.
void fill_scope(asgi::Scope& scope, MessageHead& head, const ConnectionInfo& info);

}  // namespace csgi::protocol
