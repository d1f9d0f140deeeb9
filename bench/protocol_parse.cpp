// Micro benchmarks of protocol/: the per-request cost of HTTP/1.1 without any
// socket, for the hello benchmark's request (a typical GET from wrk) and its
// small JSON response.
#include <benchmark/benchmark.h>

#include <string>
#include <variant>

#include "protocol/parser.hpp"
#include "protocol/server_connection.hpp"

namespace {

using namespace csgi::protocol;

constexpr std::string_view request =
    "GET /api/ HTTP/1.1\r\n"
    "Host: 127.0.0.1:8000\r\n"
    "User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0\r\n"
    "Accept: application/json, text/plain, */*\r\n"
    "Accept-Language: en-US,en;q=0.5\r\n"
    "Accept-Encoding: gzip, deflate, br\r\n"
    "Connection: keep-alive\r\n"
    "\r\n";

constexpr std::string_view json = R"({"message": "Hello World!"})";

// The llhttp wrapper alone: head and (empty) body of one request.
void ParseGet(benchmark::State& state) {
  Parser parser(ParserMode::request);
  for (auto _ : state) {
    std::string_view input = request;
    while (true) {
      const auto [status, used] = parser.feed(input);
      input.remove_prefix(used);
      if (status == ParseStatus::message_complete || status == ParseStatus::error) break;
    }
    benchmark::DoNotOptimize(parser.head().headers.data());
    parser.next_message();
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * request.size()));
}
BENCHMARK(ParseGet);

// The whole cycle a server runs per keep-alive request: bytes in, request
// head out, the app's start + body in, one buffer of response bytes out.
void GetAndJsonResponse(benchmark::State& state) {
  ServerConnection conn(Limits{}, ConnectionInfo{});
  std::size_t written = 0;
  for (auto _ : state) {
    conn.receive_data(request);
    auto event = conn.next_event();
    auto* started = std::get_if<RequestStarted>(&event);
    if (!started) {
      state.SkipWithError("request did not start");
      break;
    }
    benchmark::DoNotOptimize(started->head->target.data());
    conn.receive_body();
    conn.send_response_start({200, {{"content-type", "application/json"}}, false});
    conn.send_response_body(json, false);
    written += conn.pending_output().size();
    conn.consume_output(conn.pending_output().size());
    conn.start_next_request();
  }
  state.counters["response_bytes"] =
      benchmark::Counter(static_cast<double>(written), benchmark::Counter::kAvgIterations);
}
BENCHMARK(GetAndJsonResponse);

}  // namespace

BENCHMARK_MAIN();
