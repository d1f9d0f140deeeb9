// Settings of a client and of one request. A request's settings override the
// client's field by field where they are set.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>

#include "runtime/http_types.hpp"
#include "runtime/trace.hpp"

namespace csgi::client {

// The four limits of a request, each 5 s by default as in httpx.
struct Timeouts {
  // Establishing the TCP connection.
  std::chrono::milliseconds connect{5000};
  // Each wait for response bytes: the head, then every read of the body.
  std::chrono::milliseconds read{5000};
  // Writing the request.
  std::chrono::milliseconds write{5000};
  // Waiting for a pooled connection when the origin is at max_connections.
  std::chrono::milliseconds pool{5000};

  // The same limit for all four.
  static Timeouts all(std::chrono::milliseconds limit) { return {limit, limit, limit, limit}; }
};

struct PoolLimits {
  // Connections open at once to one origin (in use + idle); further requests
  // wait for one to be released, at most Timeouts::pool.
  std::size_t max_connections = 100;
  // Idle connections kept alive per origin; extra ones are closed on release.
  std::size_t max_keepalive = 20;
};

struct ClientOptions {
  Timeouts timeouts;
  PoolLimits limits;
  Headers headers;                 // sent with every request, before the request's own
  bool follow_redirects = false;   // as httpx: a 3xx is returned unless asked
  int max_redirects = 20;
  std::size_t max_response_head = 64 * 1024;  // RemoteProtocolError above it
  // The request being served, named as the parent of every request this
  // client sends (a `traceparent` header, runtime/trace.hpp). Unset, the
  // client names current_trace(): what a sync view or sync app runs under.
  // An async view sets it from its request (web::Request::trace).
  std::optional<TraceContext> trace;
};

// Adds `traceparent` naming `trace` to `headers`, unless `trace` is null or
// invalid or `headers` has one already (the caller's own wins).
void propagate_trace(Headers& headers, const TraceContext* trace);

struct RequestOptions {
  Headers headers;                            // added after the client's headers
  std::optional<Timeouts> timeouts;           // replaces the client's four limits
  std::optional<bool> follow_redirects;
  std::optional<int> max_redirects;
};

// Pool figures for one origin, for tests and stats.
struct PoolStats {
  std::size_t idle = 0;     // kept-alive, waiting for a request
  std::size_t leased = 0;   // carrying a request now
  std::size_t waiting = 0;  // requests waiting for a free slot
};

}  // namespace csgi::client
