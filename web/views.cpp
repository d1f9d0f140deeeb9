#include "web/views.hpp"

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "gateway/convert.hpp"

namespace csgi::web {

std::optional<std::string> Request::query(std::string_view name) const {
  std::string_view rest = query_string;
  while (!rest.empty()) {
    std::size_t end = rest.find('&');
    std::string_view pair = rest.substr(0, end);
    rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
    std::size_t equals = pair.find('=');
    std::string_view key = pair.substr(0, equals);
    if (percent_decode(key, true) != name) continue;
    if (equals == std::string_view::npos) return std::string();
    return percent_decode(pair.substr(equals + 1), true);
  }
  return std::nullopt;
}

Response json_response(const boost::json::value& value, int status) {
  return Response{status, {{"content-type", "application/json"}}, boost::json::serialize(value)};
}

Response text_response(std::string text, int status) {
  return Response{status, {{"content-type", "text/plain; charset=utf-8"}}, std::move(text)};
}

Headers response_headers(const Response& response) {
  Headers headers = response.headers;
  if (!find_header(headers, "content-type"))
    headers.emplace_back("content-type", "text/html; charset=utf-8");
  if (!find_header(headers, "content-length"))
    headers.emplace_back("content-length", std::to_string(response.body.size()));
  return headers;
}

}  // namespace csgi::web
