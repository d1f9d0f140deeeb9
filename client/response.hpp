// A buffered HTTP response: what AsyncClient::request and Client::request return.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <boost/json/value.hpp>

#include "runtime/http_types.hpp"

namespace csgi::client {

struct Response {
  int status = 0;
  std::string reason;              // as the server sent it
  std::string http_version;        // "1.1" or "1.0"
  Headers headers;                 // lower-case names, in order, duplicates kept
  std::string body;                // decoded from chunked framing; empty for HEAD
  std::string url;                 // the URL answered (the last one after redirects)

  // The first value of header `name` (any case), if present.
  std::optional<std::string_view> header(std::string_view name) const;
  // The body parsed as JSON. Throws boost::system::system_error when it is not.
  boost::json::value json() const;
  // The body as text (the client does not transcode; UTF-8 is assumed).
  const std::string& text() const noexcept { return body; }
  bool is_success() const noexcept { return status >= 200 && status < 300; }
  bool is_redirect() const noexcept;
  // Throws HttpStatusError for a 4xx or 5xx status; returns *this otherwise.
  const Response& raise_for_status() const;
};

}  // namespace csgi::client
