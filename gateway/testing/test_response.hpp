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

}  // namespace csgi::testing
