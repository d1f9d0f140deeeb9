// The parts of a request-target (RFC 9112 3.2), for the servers that turn a
// request head into a Scope or an Environ.
#pragma once

#include <string_view>

namespace csgi::protocol {

// The parts of a request-target: origin-form "/p?q", absolute-form
// "http://host/p?q" (path from the first '/' after the authority),
// asterisk-form "*", and authority-form "host:port" (CONNECT), which is its own
// path.
struct TargetParts {
  std::string_view raw_path;      // without query and fragment, as sent
  std::string_view query_string;  // after '?', without the '?'
};
TargetParts split_target(std::string_view target);

}  // namespace csgi::protocol
