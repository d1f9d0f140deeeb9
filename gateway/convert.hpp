// Conversions between the two request descriptions (spec/servers.md, the
// mapping table): an async Scope and a sync Environ carry the same request.
// Used by the adapters, the router and the test clients; a server builds the
// form native to it directly.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "gateway/asgi.hpp"
#include "gateway/wsgi.hpp"

namespace csgi {

// The Environ for an http Scope. `input` is left null: the caller attaches the
// request body stream.
wsgi::Environ environ_from_scope(const asgi::Scope& scope);
// The same, taking the scope's strings instead of copying them (an adapter
// that owns the scope of its one call).
wsgi::Environ environ_from_scope(asgi::Scope&& scope);

// The http Scope for an Environ (the input stream is not part of a scope).
asgi::Scope scope_from_environ(const wsgi::Environ& environ);

// "%41+b" -> "A+b"; with `plus_as_space` (query strings) "+" becomes " ".
// Invalid escapes are kept as they are.
std::string percent_decode(std::string_view text, bool plus_as_space = false);

// The value of a Content-Length header, or nullopt when absent or malformed.
std::optional<std::uint64_t> content_length(const Headers& headers);

}  // namespace csgi
