// The request and response a router view sees (gateway/router.hpp): buffered,
// simple values, like Django's HttpRequest and HttpResponse. Streaming apps use
// the interfaces in asgi.hpp and wsgi.hpp directly.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "gateway/asgi.hpp"
#include "gateway/common.hpp"

namespace boost::json {
class value;
}

namespace csgi::web {

struct Request {
  std::string method;        // upper-case
  std::string path;          // percent-decoded, without the root path
  std::string query_string;  // as sent
  Headers headers;           // lower-case names
  std::string body;          // the whole request body
  std::map<std::string, std::string> params;  // the route's <name> captures
  std::shared_ptr<State> state;               // lifespan state, when the server has one
  TraceContext trace;  // pass to ClientOptions::trace for calls made from an async view

  // The first value of query parameter `name`, decoded ("a+b%21" -> "a b!").
  std::optional<std::string> query(std::string_view name) const;
  // The first value of a header, by case-insensitive name.
  std::optional<std::string_view> header(std::string_view name) const {
    return find_header(headers, name);
  }
};

struct Response {
  int status = 200;
  Headers headers;  // Content-Type defaults to "text/html; charset=utf-8"
  std::string body;
};

// `value` serialised, with Content-Type application/json.
Response json_response(const boost::json::value& value, int status = 200);
// `text` with Content-Type text/plain; charset=utf-8.
Response text_response(std::string text, int status = 200);

// A view runs either on the event loop (async) or on a thread that may block
// (sync); the router runs each where it belongs (gateway/router.hpp).
using AsyncView = std::function<asgi::awaitable<Response>(Request)>;
using SyncView = std::function<Response(Request)>;

// The headers to send for `response`: its own, plus Content-Type and
// Content-Length when it has none.
Headers response_headers(const Response& response);

}  // namespace csgi::web
