#include "protocol/error.hpp"

#include <array>
#include <string>

namespace csgi::protocol {

namespace {

class Category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "csgi.http"; }

  std::string message(int value) const override {
    switch (static_cast<Error>(value)) {
      case Error::malformed: return "malformed HTTP message";
      case Error::request_line_too_long: return "request line too long";
      case Error::head_too_large: return "request head too large";
      case Error::too_many_headers: return "too many header fields";
      case Error::body_too_large: return "body too large";
      case Error::unsupported_transfer_coding: return "unsupported transfer coding";
      case Error::unsupported_version: return "unsupported HTTP version";
      case Error::bad_host: return "missing or repeated Host header field";
      case Error::partial_message: return "connection closed in the middle of a message";
    }
    return "unknown HTTP error";
  }
};

// The one place where an error becomes a status. Listed explicitly so that
// reordering or extending the enum cannot shift a status.
constexpr std::array<ErrorStatus, 9> table{{
    {Error::malformed, 400},
    {Error::request_line_too_long, 414},
    {Error::head_too_large, 431},
    {Error::too_many_headers, 431},
    {Error::body_too_large, 413},
    {Error::unsupported_transfer_coding, 501},
    {Error::unsupported_version, 505},
    {Error::bad_host, 400},
    {Error::partial_message, 0},
}};

}  // namespace

const std::error_category& error_category() noexcept {
  static const Category category;
  return category;
}

int error_status(std::error_code ec) noexcept {
  if (ec.category() != error_category()) return 400;
  for (const auto& row : table)
    if (static_cast<int>(row.error) == ec.value()) return row.status;
  return 400;
}

std::span<const ErrorStatus> error_status_table() noexcept { return table; }

}  // namespace csgi::protocol
