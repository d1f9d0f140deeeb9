// The PROXY protocol header that starts every connection of a server run with
// --proxy-protocol (spec/servers.md, "Proxies"). The drivers read; this
// decides: who may send one, when it is complete, and what it changes.
//
// Used once per connection, on the driver's thread, before the first request.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "protocol/server_connection.hpp"
#include "servers/config.hpp"
#include "servers/request_head.hpp"

namespace csgi::servers {

class ProxyPreamble {
 public:
  enum class Step {
    read_more,  // read again (within the request-head timeout) and call received()
    done,       // the header is taken; serve the connection
    close,      // close the connection: nothing more is read or answered
  };

  // For a connection from `peer` (nullopt on a Unix socket).
  ProxyPreamble(const Config& config, const std::optional<Endpoint>& peer);

  // What to do before reading: close (and logged why) when `peer` is not
  // trusted to name a client, else read_more.
  Step start() const;

  // `bytes` were read. Once the header is complete, the connection's client
  // (and its scheme, for TLS at the proxy) become the ones it names in
  // `origin`, and the bytes after it go to `conn`. A connection that does
  // not start with a valid header is closed, and the reason logged.
  Step received(std::string_view bytes, ConnectionScope& origin, protocol::ServerConnection& conn);

 private:
  bool trusted_;
  std::string peer_name_;
  std::string buffer_;
};

}  // namespace csgi::servers
