// Typed errors of the HTTP/1.1 layer and the status a server answers each with.
//
// Parser and ServerConnection report failures as `std::error_code`s in the
// category below (`make_error_code(Error)`), so a driver can log or compare them
// without knowing llhttp. The mapping to an HTTP status is an explicit table
// (`error_status`), never the enum's order; a test checks every row.
#pragma once

#include <span>
#include <system_error>
#include <type_traits>

namespace csgi::protocol {

enum class Error {
  // 400: anything llhttp rejects in strict mode (bad token, bare CR, obs-fold,
  // Content-Length together with Transfer-Encoding, bad chunk size, ...).
  malformed = 1,
  // 414: method + request-target + version longer than Limits::request_line.
  request_line_too_long,
  // 431: start line plus header fields longer than Limits::request_head.
  head_too_large,
  // 431: more header fields than Limits::request_fields.
  too_many_headers,
  // 413: the body is (or announces to be) longer than Limits::request_body.
  body_too_large,
  // 501: a Transfer-Encoding other than "chunked".
  unsupported_transfer_coding,
  // 505: a well-formed version other than HTTP/1.0 and HTTP/1.1.
  unsupported_version,
  // 400: an HTTP/1.1 request without exactly one Host field (RFC 9112 3.2).
  bad_host,
  // The peer closed the connection in the middle of a message. No status: a
  // server does not answer, a client reports it.
  partial_message,
};

const std::error_category& error_category() noexcept;

inline std::error_code make_error_code(Error e) noexcept {
  return {static_cast<int>(e), error_category()};
}

// The status a server answers `e` with (400, 413, 414, 431, 501, 505), or 0 for
// errors that get no answer (partial_message). Also accepts codes of other
// categories: 400 for any of them.
int error_status(std::error_code ec) noexcept;

// Every (error, status) pair of the table, for tests and documentation.
struct ErrorStatus {
  Error error;
  int status;
};
std::span<const ErrorStatus> error_status_table() noexcept;

}  // namespace csgi::protocol

template <>
struct std::is_error_code_enum<csgi::protocol::Error> : std::true_type {};
