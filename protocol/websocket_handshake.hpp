// The WebSocket opening handshake (RFC 6455 section 4), without I/O, for both
// ends: checking an upgrade request and writing the server's 101, and the
// client's request and its check of the answer.
//
// A server that sees is_upgrade_request() runs check_upgrade(): a refusal is
// an ordinary HTTP response (400, or 426 with Sec-WebSocket-Version: 13), an
// accepted request gives what the app's scope needs (the offered
// subprotocols) and what the 101 needs (the key, the deflate agreement).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "protocol/parser.hpp"
#include "protocol/websocket_deflate.hpp"
#include "runtime/http_types.hpp"

namespace csgi::protocol::websocket {

// "Upgrade: websocket" (the token, case-insensitively) on a request: the
// server takes its WebSocket path, where check_upgrade() decides.
bool is_upgrade_request(const MessageHead& head);

// An opening handshake that passed every check.
struct Upgrade {
  std::string key;                        // Sec-WebSocket-Key
  std::vector<std::string> subprotocols;  // Sec-WebSocket-Protocol, in the client's order
  std::string extensions;                 // Sec-WebSocket-Extensions values, joined by ", "
};

// The HTTP answer to a handshake that failed a check.
struct Refusal {
  int status = 400;
  Headers headers;     // 426: sec-websocket-version: 13
  std::string reason;  // for the log
};

// RFC 6455 4.2.1: GET on HTTP/1.1, Upgrade: websocket, Connection: upgrade,
// a Sec-WebSocket-Key of 16 base64-encoded bytes, no body, and version 13
// (else 426 naming it).
std::variant<Upgrade, Refusal> check_upgrade(const MessageHead& head);

// Sec-WebSocket-Accept for `key`: base64(SHA-1(key + the RFC's GUID)).
std::string accept_key(std::string_view key);

// What the server agrees to, given the app's accept.
struct Acceptance {
  std::optional<std::string> subprotocol;
  std::optional<DeflateAgreement> deflate;
  Headers headers;  // the app's own extra fields
};

// The complete "101 Switching Protocols" head. The app's fields must not
// hold CR, LF or NUL (check_response_field).
std::string accept_response(const Upgrade& upgrade, const Acceptance& acceptance,
                            std::string_view server_header);

// ---- client side -------------------------------------------------------------

// A fresh Sec-WebSocket-Key: 16 random bytes in base64.
std::string make_key();

// The client's GET request head.
std::string client_request(std::string_view host, std::string_view target, std::string_view key,
                           const std::vector<std::string>& subprotocols, bool offer_deflate,
                           const Headers& extra);

// What the server's answer agreed; nullopt (and `error`) when the answer is
// not a valid acceptance of the request with `key`.
struct Agreement {
  std::optional<std::string> subprotocol;
  std::optional<DeflateParams> deflate;
};
std::optional<Agreement> check_answer(const MessageHead& head, std::string_view key,
                                      const std::vector<std::string>& subprotocols,
                                      bool offered_deflate, std::string& error);

}  // namespace csgi::protocol::websocket
