#include "gateway/testing/test_response.hpp"

#include <boost/json/parse.hpp>

namespace csgi::testing {

boost::json::value TestResponse::json() const { return boost::json::parse(body); }

void detail::add_framing_header(TestResponse& response, std::optional<std::size_t> whole_body) {
  int status = response.status;
  if (status < 200 || status == 204 || status == 304) return;
  if (response.header("content-length")) return;
  if (whole_body)
    response.headers.emplace_back("content-length", std::to_string(*whole_body));
  else
    response.headers.emplace_back("transfer-encoding", "chunked");
}

TestResponse detail::server_error_response() {
  const std::string body = "Internal Server Error";
  return TestResponse{500, {{"content-type", "text/plain; charset=utf-8"}}, body, {body}, {}};
}

}  // namespace csgi::testing
