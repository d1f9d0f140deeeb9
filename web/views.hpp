// The request and response a router view sees (web/router.hpp): simple
// values, like Django's HttpRequest and HttpResponse. The request body is
// buffered; a response body is a string, or chunks produced one at a time
// (streaming_response).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "gateway/asgi.hpp"
#include "gateway/common.hpp"

namespace boost::json {
class value;
}

namespace csgi::web {

// Thrown by a view (or by Request::json) to answer with `status` and a JSON
// body {"detail": detail}, as Django's Http404 and Starlette's HTTPException:
// the router catches it, so a view need not.
class HttpError : public std::runtime_error {
 public:
  HttpError(int status, const std::string& detail) : std::runtime_error(detail), status_(status) {}
  int status() const { return status_; }

 private:
  int status_;
};

struct Request {
  std::string method;        // upper-case
  std::string scheme;        // "http" or "https"
  std::string path;          // percent-decoded, without the root path
  std::string query_string;  // as sent
  Headers headers;           // lower-case names
  std::optional<Endpoint> client;  // the peer's address and port, when the server knows them
  std::string body;          // the whole request body
  std::map<std::string, std::string> params;  // the route's <name> captures
  std::shared_ptr<State> state;               // lifespan state, when the server has one
  TraceContext trace;  // pass to ClientOptions::trace for calls made from an async view

  // The first value of query parameter `name`, decoded ("a+b%21" -> "a b!").
  std::optional<std::string> query(std::string_view name) const;
  // The value of an <int:name> capture. Throws std::out_of_range when the
  // route has no capture `name`, std::invalid_argument when it is not an
  // integer (a plain <name> capture).
  std::int64_t int_param(const std::string& name) const;
  // The body parsed as JSON. Throws HttpError(400) when it is not JSON, so a
  // view can let the router answer 400.
  boost::json::value json() const;
  // The first value of a header, by case-insensitive name.
  std::optional<std::string_view> header(std::string_view name) const {
    return find_header(headers, name);
  }
};

// The chunks of a streamed body, pulled one at a time until nullopt. Sync
// chunks may block: the async form of a router pulls them on its sync
// executor. Async chunks run on the event loop.
using SyncChunks = std::function<std::optional<std::string>()>;
using AsyncChunks = std::function<asgi::awaitable<std::optional<std::string>>()>;

struct Response {
  int status = 200;
  Headers headers = {};  // Content-Type defaults to "text/html; charset=utf-8"
  std::string body = {};
  // A streamed body instead of `body`: at most one of the two is set. It is
  // sent as it is produced, each chunk as one piece, without Content-Length.
  SyncChunks sync_chunks = {};
  AsyncChunks async_chunks = {};

  bool streamed() const { return sync_chunks || async_chunks; }
};

// `value` serialised, with Content-Type application/json.
Response json_response(const boost::json::value& value, int status = 200);
// `text` with Content-Type text/plain; charset=utf-8.
Response text_response(std::string text, int status = 200);
// A response whose body is the chunks of `next`.
Response streaming_response(SyncChunks next, Headers headers = {}, int status = 200);
Response streaming_response(AsyncChunks next, Headers headers = {}, int status = 200);

// A view runs either on the event loop (async) or on a thread that may block
// (sync); the router runs each where it belongs (gateway/router.hpp).
using AsyncView = std::function<asgi::awaitable<Response>(Request)>;
using SyncView = std::function<Response(Request)>;

// The headers to send for `response`: its own, plus Content-Type and, unless
// it is streamed, Content-Length when it has none.
Headers response_headers(const Response& response);

}  // namespace csgi::web
