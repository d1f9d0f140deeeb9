#include "scenario/scenario.hpp"

#include <algorithm>
#include <cstdio>
#include <map>
#include <utility>

#include <boost/json.hpp>

#include "client/client.hpp"
#include "scenario/server_process.hpp"

namespace csgi::scenario {

namespace {

namespace json = boost::json;
using wall_clock = std::chrono::system_clock;

// A row of the story: a server set-up and what each aggregated view does on it.
struct RowPlan {
  std::string title;
  std::vector<std::string> serve_args;  // after `csgi serve`
  int workers = 1;
  Expectation async_view;  // /api/aggregated/
  Expectation sync_view;   // /api/aggregated/sync/
  std::string why;
};

// In sleeps: "about one sleep" and "about ten sleeps" (ten calls in a row).
constexpr Expectation one_round{200, 0, 1.6};
constexpr Expectation ten_rounds{200, 9.5, 16};
constexpr Expectation answered{200, 0, 0};

std::vector<RowPlan> story() {
  return {
      {"loop server, 1 worker", {"mysite"}, 1, {504, 0, 0}, {503, 0, 0.2},
       "The one sync thread serves the /api/ calls one after another, so the async view's "
       "client gives up on those still queued at its timeout (504); the sync view holds that "
       "very thread while it waits for its first call, a wait that can never end, so the "
       "server refuses the call at once (503) and says why."},
      {"loop server, --workers 10", {"mysite", "--workers", "10"}, 10, one_round, ten_rounds,
       "Ten processes with a sync thread each, and a worker whose thread is busy leaves new "
       "connections to one that has room: the ten concurrent calls run side by side, and "
       "each call of the sync view finds a free worker."},
      {"loop server, --threads 10", {"mysite", "--threads", "10"}, 1, answered, answered,
       "Ten sync threads in one process: the ten calls sleep side by side, and the sync view "
       "holds one thread while the others serve its calls."},
      {"loop server, async /api/ (mysite-async)", {"mysite-async"}, 1, one_round, ten_rounds,
       "An async /api/ awaits a timer instead of holding a thread, so the ten calls wait "
       "together on the one event loop; the sync view makes them one after another."},
      {"threaded server", {"mysite", "--server", "threaded", "--threads", "32"}, 1, answered,
       answered,
       "A thread per connection: the async view runs on an event loop in its own thread, and "
       "every call it makes gets a thread of its own."},
  };
}

std::string serve_command(const RowPlan& plan) {
  std::string command = "csgi serve";
  for (const std::string& arg : plan.serve_args) command += " " + arg;
  return command;
}

double ms_between(wall_clock::time_point from, std::int64_t unix_us) {
  auto from_us =
      std::chrono::duration_cast<std::chrono::microseconds>(from.time_since_epoch()).count();
  return static_cast<double>(unix_us - from_us) / 1000.0;
}

std::string classify(const Call& call) {
  if (call.error.empty()) return "ok";
  if (call.status == 503) return "refused";
  if (call.error.find("Timeout") != std::string::npos) return "timeout";
  return "error";
}

// The caller counts from when the view started, a moment after the scenario
// sent its request. Shifts the caller's times by the least delay that puts
// every answer after its /api/ view finished (and no send after its
// receipt): both sides then read on one clock.
void align_caller(std::vector<Call>& calls) {
  double shift = 0;
  std::optional<double> most;
  for (const Call& call : calls) {
    if (!call.finished_ms) continue;
    shift = std::max(shift, *call.finished_ms - call.answered_ms);
    most = std::min(most.value_or(*call.received_ms), *call.received_ms - call.sent_ms);
  }
  if (most) shift = std::min(shift, std::max(0.0, *most));
  for (Call& call : calls) {
    call.sent_ms += shift;
    call.answered_ms += shift;
  }
}

// The calls of an aggregated view's answer, the caller's side (`calls[]`)
// joined with the callee's (`served` of each /api/ answer) by task id.
std::vector<Call> timeline(const json::object& answer, wall_clock::time_point sent) {
  std::map<std::string, const json::object*> served;
  for (const char* key : {"responses", "aggregated_responses"}) {
    if (!answer.contains(key)) continue;
    for (const json::value& response : answer.at(key).as_array()) {
      const json::object& payload = response.as_object();
      if (payload.contains("task_id") && payload.contains("served"))
        served[std::string(payload.at("task_id").as_string())] = &payload.at("served").as_object();
    }
  }
  std::vector<Call> calls;
  for (const json::value& value : answer.at("calls").as_array()) {
    const json::object& c = value.as_object();
    Call call;
    call.task_id = static_cast<int>(c.at("task_id").to_number<std::int64_t>());
    call.sent_ms = c.at("started_ms").to_number<double>();
    call.answered_ms = c.at("finished_ms").to_number<double>();
    if (c.contains("status")) call.status = static_cast<int>(c.at("status").to_number<std::int64_t>());
    if (c.contains("error")) call.error = std::string(c.at("error").as_string());
    if (auto it = served.find(std::to_string(call.task_id)); it != served.end()) {
      const json::object& s = *it->second;
      call.pid = static_cast<long>(s.at("pid").to_number<std::int64_t>());
      call.thread = static_cast<long>(s.at("thread").to_number<std::int64_t>());
      call.received_ms = ms_between(sent, s.at("received_us").to_number<std::int64_t>());
      call.started_ms = ms_between(sent, s.at("started_us").to_number<std::int64_t>());
      call.finished_ms = ms_between(sent, s.at("finished_us").to_number<std::int64_t>());
    }
    call.outcome = classify(call);
    calls.push_back(std::move(call));
  }
  align_caller(calls);
  return calls;
}

std::string seconds(double ms) {
  char text[32];
  std::snprintf(text, sizeof text, "%.2f s", ms / 1000.0);
  return text;
}

// Empty when `view` behaved as `view.expected` says; what differs otherwise.
std::string judge(const ViewRun& view, const Options& options) {
  const Expectation& expected = view.expected;
  if (view.status == 0) return "no answer: " + view.error;
  if (view.status != expected.status)
    return "answered " + std::to_string(view.status) + ", the story says " +
           std::to_string(expected.status);
  double low = expected.min_ms(options.sleep);
  double high = expected.max_ms(options.sleep);
  if (expected.min_sleeps > 0 && view.elapsed_ms < low)
    return "took " + seconds(view.elapsed_ms) + ", the story says at least " + seconds(low);
  if (expected.max_sleeps > 0 && view.elapsed_ms > high)
    return "took " + seconds(view.elapsed_ms) + ", the story says at most " + seconds(high);
  return "";
}

// Serves `plan`'s set-up afresh and asks `path` once: a view never waits for
// what another left behind (the calls of a timed-out view still queued or
// running). The server's warnings go to `warnings`.
ViewRun ask(const RowPlan& plan, const std::string& executable, const std::string& path,
            const Expectation& expected, const Options& options,
            std::vector<std::string>& warnings) {
  ServerProcess server(executable, plan.serve_args, plan.workers);
  std::uint16_t port = server.wait_ready(std::chrono::seconds(10));
  client::ClientOptions client_options;
  // Room for the slowest answer of the story: ten sleeps in a row, or a
  // timeout, and as much again.
  client_options.timeouts = client::Timeouts::all(2 * (options.timeout + 10 * options.sleep));
  client::Client client(std::move(client_options));
  ViewRun view;
  view.path = path;
  view.expected = expected;
  std::string url = "http://127.0.0.1:" + std::to_string(port) + path +
                    "?delay_ms=" + std::to_string(options.sleep.count()) +
                    "&timeout_ms=" + std::to_string(options.timeout.count());
  auto sent = wall_clock::now();
  auto start = std::chrono::steady_clock::now();
  try {
    client::Response response = client.get(url);
    view.status = response.status;
    json::value answer = json::parse(response.text());
    const json::object& object = answer.as_object();
    if (object.contains("error")) view.error = std::string(object.at("error").as_string());
    if (object.contains("calls")) view.calls = timeline(object, sent);
  } catch (const std::exception& e) {  // no answer, or not the views' JSON
    view.error = e.what();
  }
  view.elapsed_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  view.verdict = judge(view, options);
  view.as_expected = view.verdict.empty();
  for (std::string& line : server.warnings()) warnings.push_back(std::move(line));
  return view;
}

RowRun run_row(const RowPlan& plan, const Options& options, const std::string& executable) {
  RowRun row;
  row.title = plan.title;
  row.command = serve_command(plan);
  row.why = plan.why;
  row.views.push_back(
      ask(plan, executable, "/api/aggregated/", plan.async_view, options, row.warnings));
  row.views.push_back(
      ask(plan, executable, "/api/aggregated/sync/", plan.sync_view, options, row.warnings));
  row.as_expected = row.views[0].as_expected && row.views[1].as_expected;
  return row;
}

}  // namespace

double Expectation::min_ms(milliseconds sleep) const {
  return min_sleeps * static_cast<double>(sleep.count());
}

double Expectation::max_ms(milliseconds sleep) const {
  return max_sleeps * static_cast<double>(sleep.count()) +
         static_cast<double>(answer_allowance.count());
}

Report run_scenario(const Options& options) {
  Report report;
  report.options = options;
  // The servers are this very executable's own children.
  const std::string executable = current_executable();
  report.as_expected = true;
  for (const RowPlan& plan : story()) {
    report.rows.push_back(run_row(plan, options, executable));
    report.as_expected = report.as_expected && report.rows.back().as_expected;
  }
  return report;
}

}  // namespace csgi::scenario
