// The PROXY protocol header (HAProxy's, versions 1 and 2) that a load balancer
// sends before a connection's first request, naming the client it accepted
// the connection from. Sans-I/O: a driver reads bytes into a buffer and asks
// parse_proxy_header() about the whole buffer until it is complete or invalid;
// the bytes after the header are the connection's HTTP.
//
// Whether a header is believed (only from a trusted peer) is the server's
// decision, not this file's (spec/servers.md, "Proxies").
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

#include "runtime/http_types.hpp"

namespace csgi::protocol {

// The largest header accepted: a v1 line is at most 107 bytes, a v2 header
// 16 bytes and its addresses and TLVs. Longer TLV lists are refused rather
// than buffered.
inline constexpr std::size_t proxy_header_limit = 4096;

struct ProxyHeader {
  // The connection's own addresses stand: a v2 LOCAL command (the proxy's
  // health check), a v1 UNKNOWN line, or a v2 address family csgi does not
  // name (AF_UNSPEC).
  bool local = false;
  // The client and the address it connected to, for a proxied TCP
  // connection. A Unix-socket client has no name: nullopt.
  std::optional<Endpoint> source;
  std::optional<Endpoint> destination;
  // v2 only: the client spoke TLS to the proxy (PP2_TYPE_SSL with the
  // PP2_CLIENT_SSL bit), so the request's scheme is https.
  bool ssl = false;
  // Bytes the header took: the connection's HTTP starts after them.
  std::size_t length = 0;
};

enum class ProxyParse {
  incomplete,  // a prefix of a valid header: read more
  invalid,     // not a PROXY header, or a malformed or oversized one: close
  complete,    // the header; see ProxyHeader::length
};

struct ProxyParseResult {
  ProxyParse status = ProxyParse::incomplete;
  ProxyHeader header;  // set when complete
};

// Parses the header at the start of `bytes` (everything read so far). Pure:
// call again with the longer buffer after each read.
ProxyParseResult parse_proxy_header(std::string_view bytes);

}  // namespace csgi::protocol
