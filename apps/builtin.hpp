// The built-in apps, each a factory the registry (apps/registry.hpp) lists,
// and the small pieces they share.
#pragma once

#include <chrono>
#include <optional>
#include <string_view>

#include "gateway/app.hpp"
#include "gateway/asgi.hpp"

namespace csgi::apps {

// `hello`, async: any request is answered 200 with the JSON body
// {"message": "Hello World!"}, Content-Type application/json and a
// Content-Length. With ?delay_ms=N it first awaits an N ms timer (the loop
// stays free). The benchmark target: body and headers are built once.
Application hello_app();

// `hello-sync`: the same through the sync interface; ?delay_ms=N blocks the
// calling thread for N ms, as a sync view doing blocking I/O would.
Application hello_sync_app();

// `echo`, async: reads the whole request body, then answers the request's
// scope as a JSON object: method, path, raw_path, query_string, headers (a
// list of [name, value]), client and server ([host, port] or null), scheme,
// root_path, http_version and body_length.
Application echo_app();

// The value of `delay_ms` in a query string ("a=1&delay_ms=250"), when present
// and a whole number of at most max_delay; nullopt otherwise.
inline constexpr std::chrono::milliseconds max_delay{60'000};
std::optional<std::chrono::milliseconds> delay_from_query(std::string_view query_string);

// Answers a lifespan scope for an app with nothing to start or stop: completes
// startup, then shutdown, then returns. Call it when scope.type is lifespan.
asgi::awaitable<void> accept_lifespan(asgi::Receive receive, asgi::Send send);

}  // namespace csgi::apps
