// A request's Scope or Environ, built directly from the head that protocol/
// parsed (spec/servers.md, the mapping table): each server builds the form its
// app takes, and neither form is built from the other on the way.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "gateway/asgi.hpp"
#include "gateway/wsgi.hpp"
#include "protocol/parser.hpp"
#include "servers/config.hpp"

namespace csgi::servers {

// What every request of one connection carries besides its head, fixed when
// the connection is accepted.
struct ConnectionScope {
  std::optional<Endpoint> client;
  std::optional<Endpoint> server;
  std::string scheme = "http";
  std::string root_path;
  Extensions extensions;           // offered to apps in every scope
  std::shared_ptr<State> state;    // lifespan state shared by every request
  // Set when the server applies proxy headers and the peer is trusted: the
  // client and scheme of each request come from its headers.
  const ForwardedAllow* proxy_headers = nullptr;
};

// The ConnectionScope of a connection of a server run with `config`; `client`
// is the peer (nullopt on a Unix socket), judged for --proxy-headers here.
ConnectionScope connection_scope(const Config& config, std::optional<Endpoint> client,
                                 std::optional<Endpoint> server, std::shared_ptr<State> state);

// Removes `root_path` from the front of the decoded `path` when `path` equals it
// or continues it with '/', leaving at least "/" (spec/async.md, "Path and
// root_path"); any other path is left as it is.
void strip_root_path(std::string& path, std::string_view root_path);

// Fills `scope` for `head`, moving the header fields out of it. The strings of
// `scope` keep their capacity when it is reused.
void fill_scope(asgi::Scope& scope, protocol::MessageHead& head, const ConnectionScope& connection);

// Fills `environ` for `head` the same way. `input` is left alone: the server
// attaches the body stream. A sync body cannot carry trailers, so the
// trailers extension is off whatever the connection offers.
void fill_environ(wsgi::Environ& environ, protocol::MessageHead& head,
                  const ConnectionScope& connection);

}  // namespace csgi::servers
