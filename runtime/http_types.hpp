// The HTTP vocabulary that both the wire protocol (protocol/) and the app
// interfaces (gateway/) speak: header fields, endpoints, reason phrases, and
// the two errors a response can end in. Apps know these as csgi::Headers,
// csgi::Endpoint, asgi::ClientDisconnected and asgi::ProtocolViolation.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace csgi {

// One header field. Names given to an app are lower-case (the server lower-cases
// them once); order and duplicates are kept as they arrived.
using Header = std::pair<std::string, std::string>;
using Headers = std::vector<Header>;

// The first value of `name` (compared case-insensitively), if any.
std::optional<std::string_view> find_header(const Headers& headers, std::string_view name);

// An address of a peer or of the listening socket. For a Unix socket `host` is
// the socket's path and `port` is 0.
struct Endpoint {
  std::string host;
  std::uint16_t port = 0;
  friend bool operator==(const Endpoint&, const Endpoint&) = default;
};

// The standard reason phrase for `status` ("OK" for 200), or "" when unknown.
std::string_view reason_phrase(int status);

// Thrown by a response's writer once the client has gone (spec/async.md,
// "Disconnects"). A server treats it escaping the app as the normal end of the
// request.
class ClientDisconnected : public std::runtime_error {
 public:
  ClientDisconnected() : std::runtime_error("client disconnected") {}
};

// Thrown by a response's writer when the app breaks the ordering rules (body
// before start, a second start, anything after the final body) or sends a
// malformed header.
class ProtocolViolation : public std::logic_error {
 public:
  using std::logic_error::logic_error;
};

// The checks of a response's status and fields that hold wherever they are
// sent from (a writer on the wire, a sync app's start_response): each throws
// ProtocolViolation, for a status outside 200-599, a field name that is not a
// token, or CR, LF or NUL in a field's value.
void check_response_status(int status);
void check_response_field(const Header& field);

}  // namespace csgi
