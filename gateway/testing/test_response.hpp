// What the test clients return: the response as the client saw it.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/value.hpp>

#include "gateway/common.hpp"

namespace csgi::testing {

struct TestResponse {
  int status = 0;
  Headers headers;
  std::string body;                 // every chunk, joined
  std::vector<std::string> chunks;  // the non-empty chunks, as they arrived
  Headers trailers;                 // from http.response.trailers, if any

  std::optional<std::string_view> header(std::string_view name) const {
    return find_header(headers, name);
  }
  // The body parsed as JSON; throws boost::system::system_error when it is not.
  boost::json::value json() const;
};

namespace detail {

// For the clients: adds the framing header an HTTP/1.1 server adds when the
// app gave no content-length (spec/sync.md, "The Body"): a content-length of
// `whole_body` bytes when the whole body was known as the head went out,
// transfer-encoding: chunked when it was not (nullopt); nothing for a status
// that has no body (1xx, 204, 304).
void add_framing_header(TestResponse& response, std::optional<std::size_t> whole_body);

// What a server answers for an app's exception before its response started
// (spec/async.md, "Error Handling"): 500, text/plain, "Internal Server Error".
TestResponse server_error_response();

}  // namespace detail

}  // namespace csgi::testing
