// Absolute http:// URLs as the client needs them: where to connect (the
// origin) and what to put in the request line (the target).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace csgi::client {

struct Url {
  std::string scheme = "http";  // lower-case; only "http" is spoken
  std::string host;             // lower-case; an IPv6 literal without brackets
  std::uint16_t port = 80;
  std::string target = "/";     // path and query as sent, never empty

  // "http://host:port": the key of a connection pool. The port is always
  // written, so http://a/ and http://a:80/ share one pool.
  std::string origin() const;
  // Appends origin() to `out`: no allocation once `out` has the room.
  void append_origin(std::string& out) const;
  // The Host header value: the port is left out when it is the default.
  std::string host_header() const;
  // origin() + target: the URL as it appears in error messages.
  std::string to_string() const;
};

// Parses an absolute URL ("http://127.0.0.1:8000/api/?x=1"). The fragment is
// dropped; an empty path becomes "/". Throws InvalidUrl for anything else,
// including https (no TLS in this client) and user information.
Url parse_url(std::string_view text);

// The URL a redirect's Location header names, relative to `base` (RFC 3986
// section 5.2, for the forms servers send: absolute, "//host/p", "/p", "p",
// "?q"). Throws InvalidUrl when the result is not an http URL.
Url resolve_url(const Url& base, std::string_view location);

}  // namespace csgi::client
