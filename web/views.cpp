#include "web/views.hpp"


#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "gateway/convert.hpp"
#include "runtime/ascii.hpp"

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

std::int64_t Request::int_param(const std::string& name) const {
  const std::string& text = params.at(name);
  if (auto value = ascii::parse_decimal<std::int64_t>(text)) return *value;
  throw std::invalid_argument("parameter " + name + " is not an integer: " + text);
}

boost::json::value Request::json() const {
  boost::system::error_code error;
  boost::json::value value = boost::json::parse(body, error);
  if (error) throw HttpError(400, "Malformed JSON: " + error.message());
  return value;
}

Response json_response(const boost::json::value& value, int status) {
  return Response{.status = status,
                  .headers = {{"content-type", "application/json"}},
                  .body = boost::json::serialize(value)};
}

Response text_response(std::string text, int status) {
  return Response{.status = status,
                  .headers = {{"content-type", "text/plain; charset=utf-8"}},
                  .body = std::move(text)};
}

Response streaming_response(SyncChunks next, Headers headers, int status) {
  return Response{.status = status, .headers = std::move(headers), .sync_chunks = std::move(next)};
}

Response streaming_response(AsyncChunks next, Headers headers, int status) {
  return Response{.status = status, .headers = std::move(headers), .async_chunks = std::move(next)};
}

Headers response_headers(const Response& response) {
  Headers headers = response.headers;
  if (!find_header(headers, "content-type"))
    headers.emplace_back("content-type", "text/html; charset=utf-8");
  if (!response.streamed() && !find_header(headers, "content-length"))
    headers.emplace_back("content-length", std::to_string(response.body.size()));
  return headers;
}

}  // namespace csgi::web
