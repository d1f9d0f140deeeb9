#include "apps/mysite.hpp"

#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>

#include "apps/builtin.hpp"
#include "apps/mysite_websocket.hpp"
#include "client/async_client.hpp"
#include "client/client.hpp"
#include "client/gather.hpp"
#include "web/router.hpp"

namespace csgi::apps {
namespace {

namespace json = boost::json;
using clock_type = std::chrono::steady_clock;
using web::Request;
using web::Response;

constexpr std::chrono::milliseconds default_api_delay{1000};

// What the aggregated views need from their query string.
struct Fanout {
  int calls = 10;
  std::string delay_query;  // "&delay_ms=N" passed on to each call, or empty
  std::chrono::milliseconds read_timeout{5000};
  std::string api_path = "/api/";
};

// A query parameter out of its range: the view answers 400 with the message.
struct BadQuery : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Query parameter `name` as an integer in [low, high]; `fallback` when absent.
// Throws BadQuery for anything else: a silent fallback would run another
// experiment than the one asked for.
int query_int(const Request& request, std::string_view name, int fallback, int low, int high) {
  auto value = request.query(name);
  if (!value) return fallback;
  int parsed = 0;
  const char* end = value->data() + value->size();
  auto [stop, error] = std::from_chars(value->data(), end, parsed);
  if (error != std::errc() || stop != end || parsed < low || parsed > high) {
    throw BadQuery(std::string(name) + " must be an integer from " + std::to_string(low) + " to " +
                   std::to_string(high) + ", not \"" + *value + "\"");
  }
  return parsed;
}

constexpr int max_calls = 10000;

Fanout fanout_from(const Request& request) {
  Fanout fanout;
  fanout.calls = query_int(request, "n", 10, 1, max_calls);
  if (request.query("delay_ms")) {
    int delay = query_int(request, "delay_ms", 0, 0, static_cast<int>(max_delay.count()));
    fanout.delay_query = "&delay_ms=" + std::to_string(delay);
  }
  fanout.read_timeout = std::chrono::milliseconds(query_int(request, "timeout_ms", 5000, 1, 600000));
  if (request.query("target") == "async") fanout.api_path = "/api/async/";
  return fanout;
}

Response bad_query(const BadQuery& error) {
  return web::json_response(json::object{{"error", error.what()}}, 400);
}

// The URL of call `task_id`, on the server that received `request`.
std::string api_url(const Request& request, const Fanout& fanout, int task_id) {
  std::string host(request.header("host").value_or("127.0.0.1:8000"));
  return "http://" + host + fanout.api_path + "?task_id=" + std::to_string(task_id) +
         fanout.delay_query;
}

json::object api_payload(const Request& request, std::string_view message) {
  json::object payload{{"message", message}};
  if (auto task_id = request.query("task_id")) payload["task_id"] = *task_id;
  return payload;
}

std::chrono::milliseconds api_delay(const Request& request) {
  return delay_from_query(request.query_string).value_or(default_api_delay);
}

// ---- /api/ -------------------------------------------------------------

std::int64_t unix_us(std::chrono::system_clock::time_point time) {
  return std::chrono::duration_cast<std::chrono::microseconds>(time.time_since_epoch()).count();
}

// Where and when an /api/ call ran, for a timeline that spans processes
// (`csgi scenario`): the worker's pid and the thread's id, and in wall-clock
// microseconds when the server received the request, when the view started
// and (finish_served) when it finished.
json::object served_start(const Request& request) {
  return {{"pid", ::getpid()},
          {"thread", ::gettid()},
          {"received_us", unix_us(request.trace.received)},
          {"started_us", unix_us(std::chrono::system_clock::now())}};
}

Response finish_served(json::object payload, json::object served) {
  served["finished_us"] = unix_us(std::chrono::system_clock::now());
  payload["served"] = std::move(served);
  return web::json_response(payload);
}

Response api(Request request) {
  json::object served = served_start(request);
  std::this_thread::sleep_for(api_delay(request));
  return finish_served(api_payload(request, "Hello World!"), std::move(served));
}

asgi::awaitable<Response> api_async(Request request) {
  json::object served = served_start(request);
  boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor, api_delay(request));
  co_await timer.async_wait(boost::asio::use_awaitable);
  co_return finish_served(api_payload(request, "Hello Async World!"), std::move(served));
}

// ---- /health/ ----------------------------------------------------------

// 200 once the server serves: lifespan startup is done before any request.
asgi::awaitable<Response> health(Request) {
  co_return Response{200, {{"content-type", "text/plain; charset=utf-8"}}, "ok\n"};
}

// ---- the aggregated views ----------------------------------------------

double seconds_since(clock_type::time_point start) {
  return std::chrono::duration<double>(clock_type::now() - start).count();
}

// Whole milliseconds: what a person reads in the answer (a double would print
// as 1.0012E3).
std::int64_t round_ms(double seconds) { return std::llround(seconds * 1000); }

// One call's outcome, as the aggregated views report it.
struct Call {
  int task_id = 0;
  double started = 0;   // seconds after the view started
  double finished = 0;
  int status = 0;
  json::value response;
  std::string error;    // "ReadTimeout: ..." when the call failed
};

json::object describe(const Call& call) {
  json::object out{{"task_id", call.task_id},
                   {"started_ms", round_ms(call.started)},
                   {"finished_ms", round_ms(call.finished)},
                   {"elapsed_ms", round_ms(call.finished - call.started)}};
  if (call.status != 0) out["status"] = call.status;
  if (!call.error.empty()) out["error"] = call.error;
  return out;
}

Call begin_call(int task_id, clock_type::time_point start) {
  Call call;
  call.task_id = task_id;
  call.started = seconds_since(start);
  return call;
}

// A server error counts as a failed call, as it does for an HTTP client that
// raises on it (httpx's raise_for_status): its body says why.
void record(Call& call, const client::Response& response) {
  call.status = response.status;
  if (response.status >= 500) {
    std::string why = response.text();
    while (!why.empty() && why.back() == '\n') why.pop_back();
    call.error = "HTTP " + std::to_string(response.status) + ": " + why;
    return;
  }
  call.response = response.json();
}

asgi::awaitable<Call> timed_async_call(client::AsyncClient& client, std::string url, int task_id,
                                       clock_type::time_point start) {
  Call call = begin_call(task_id, start);
  try {
    record(call, co_await client.get(std::move(url)));
  } catch (const std::exception& e) {
    call.error = e.what();
  }
  call.finished = seconds_since(start);
  co_return call;
}

Call timed_call(client::Client& client, std::string url, int task_id, clock_type::time_point start) {
  Call call = begin_call(task_id, start);
  try {
    record(call, client.get(std::move(url)));
  } catch (const std::exception& e) {
    call.error = e.what();
  }
  call.finished = seconds_since(start);
  return call;
}

// The aggregated views' answer: the responses, a timing line per call, and,
// when calls failed, why (the explanation the article leaves to the reader).
Response aggregate(std::vector<Call> calls, int asked, double elapsed, std::string_view message,
                   std::string_view responses_key, std::string_view how) {
  json::array responses, timings;
  int failed = 0;
  int status = 504;  // a call timed out or found no server
  for (const Call& call : calls) {
    if (call.error.empty()) {
      responses.push_back(call.response);
    } else {
      ++failed;
      if (call.status >= 500) status = call.status;  // the server's own answer, passed on
    }
    timings.push_back(describe(call));
  }
  char debug[96];
  std::snprintf(debug, sizeof debug, "fetch executed in %.2f seconds.", elapsed);
  json::object result{{"message", message},
                      {responses_key, std::move(responses)},
                      {"debug_message", debug},
                      {"calls", std::move(timings)},
                      {"how", how}};
  if (failed == 0) return web::json_response(result);
  std::string error = std::to_string(failed) + " of " + std::to_string(calls.size()) +
                      " calls failed; see calls[].error and their finished_ms";
  if (static_cast<int>(calls.size()) < asked)
    error += " (stopped at the first failure: " + std::to_string(asked) + " calls asked)";
  result["error"] = std::move(error);
  return web::json_response(result, status);
}

client::ClientOptions client_options(const Fanout& fanout, std::size_t connections) {
  client::ClientOptions options;  // a sync view's calls name its request by themselves
  options.timeouts.read = fanout.read_timeout;
  options.limits.max_connections = connections;
  return options;
}

asgi::awaitable<Response> api_aggregated(Request request) {
  Fanout fanout;
  try {
    fanout = fanout_from(request);
  } catch (const BadQuery& error) {
    co_return bad_query(error);
  }
  auto start = clock_type::now();
  client::ClientOptions options = client_options(fanout, static_cast<std::size_t>(fanout.calls));
  options.trace = request.trace;  // each call names this request as its parent
  client::AsyncClient client(co_await boost::asio::this_coro::executor, std::move(options));
  std::vector<asgi::awaitable<Call>> pending;
  for (int i = 0; i < fanout.calls; ++i)
    pending.push_back(timed_async_call(client, api_url(request, fanout, i), i, start));
  std::vector<Call> calls = co_await client::gather(std::move(pending));
  co_return aggregate(std::move(calls), fanout.calls, seconds_since(start), "Hello Async World!", "responses",
                      "async view: all calls started at once (gather) on the event loop");
}

Response api_aggregated_sync(Request request) {
  Fanout fanout;
  try {
    fanout = fanout_from(request);
  } catch (const BadQuery& error) {
    return bad_query(error);
  }
  auto start = clock_type::now();
  client::Client client(client_options(fanout, 1));
  std::vector<Call> calls;
  // One call after another, stopping at the first that fails, as a view whose
  // HTTP client raises would.
  for (int i = 0; i < fanout.calls; ++i) {
    calls.push_back(timed_call(client, api_url(request, fanout, i), i, start));
    if (!calls.back().error.empty()) break;
  }
  return aggregate(std::move(calls), fanout.calls, seconds_since(start), "Hello Sync World!",
                   "aggregated_responses", "sync view: one call after another on its thread");
}

Application make_site(std::string name, bool async_api) {
  web::Router router;
  if (async_api) router.path("api/", web::AsyncView(api_async));
  else router.path("api/", web::SyncView(api));
  // The readiness probe of docs/deployment.md: async, so that it answers at
  // once even while every sync thread is busy with /api/ calls.
  router.path("health/", web::AsyncView(health));
  router.path("api/async/", web::AsyncView(api_async))
      .path("api/aggregated/", web::AsyncView(api_aggregated))
      .path("api/aggregated/sync/", web::SyncView(api_aggregated_sync));
  add_chat_page(router);
  return with_websockets(router.application(std::move(name)));
}

}  // namespace

Application mysite_app() { return make_site("mysite", false); }
Application mysite_async_app() { return make_site("mysite-async", true); }

}  // namespace csgi::apps
