// The trace context of a request (W3C Trace Context, `traceparent`): how a
// request an app makes names the request it was made for.
//
// A server gives every request it serves a span id of its own, and takes the
// trace id and the caller's span id (the parent) from an incoming
// `traceparent` header; without one, the request starts a trace. The clients
// (client/) send `traceparent` with the trace id and the span id of the
// request being served, so the request they make has it as its parent: the
// way tracing headers propagate.
//
// csgi reads it for one purpose of its own: a sync call whose every sync
// thread is held by its own callers can never start (spec/servers.md,
// "Executors"). Tracing systems that understand the header see csgi's
// requests as spans of one trace.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace csgi {

struct TraceContext {
  std::uint64_t trace_high = 0;  // the 128-bit trace id
  std::uint64_t trace_low = 0;
  std::uint64_t span = 0;        // this request; 0: no context
  std::uint64_t parent = 0;      // the caller's span; 0: none (the trace starts here)
  // When the span started: the server had the request's head. Wall-clock
  // time, so that the processes of a trace can place each other's spans.
  std::chrono::system_clock::time_point received{};

  bool valid() const { return span != 0; }

  // A new span, received now, for a request that carried `traceparent` (the
  // header's value, or nullopt when absent or malformed: the request then
  // starts a trace).
  static TraceContext for_request(std::optional<std::string_view> traceparent);

  // The `traceparent` value for a request made while serving this one:
  // "00-<trace id>-<this span>-01".
  std::string traceparent() const;
};

// A `traceparent` value as (trace id, parent span); nullopt when malformed
// (version ff, all-zero ids, wrong lengths or characters).
struct ParsedTraceparent {
  std::uint64_t trace_high, trace_low, parent;
};
std::optional<ParsedTraceparent> parse_traceparent(std::string_view value);

// The request a thread is serving now: set while a sync app or a sync view
// runs on it (the threaded server's connection threads, the SyncExecutor's
// threads), read by the clients. Null elsewhere, and on event-loop threads,
// which serve many requests at once: an async view passes its request's
// trace to the client (ClientOptions::trace).
const TraceContext* current_trace();

// Sets current_trace() for its lifetime, restoring the previous one after.
class CurrentTrace {
 public:
  explicit CurrentTrace(const TraceContext* trace);
  ~CurrentTrace();
  CurrentTrace(const CurrentTrace&) = delete;
  CurrentTrace& operator=(const CurrentTrace&) = delete;

 private:
  const TraceContext* previous_;
};

}  // namespace csgi
