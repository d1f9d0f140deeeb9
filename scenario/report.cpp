#include "scenario/report.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ostream>
#include <string>

#include <boost/json.hpp>

namespace csgi::scenario {

namespace {

namespace json = boost::json;

std::string fixed(double value, int decimals) {
  char text[32];
  std::snprintf(text, sizeof text, "%.*f", decimals, value);
  return text;
}

// Seconds with millisecond digits, right-aligned in `width`; "-" when absent.
std::string column(std::optional<double> ms, int width) {
  std::string text = ms ? fixed(*ms / 1000.0, 3) : "-";
  return std::string(static_cast<std::size_t>(std::max<int>(0, width - static_cast<int>(text.size()))), ' ') + text;
}

std::string worker(const Call& call) {
  return call.pid ? std::to_string(call.pid) + "/" + std::to_string(call.thread) : "-";
}

std::string outcome_text(const Call& call) {
  if (call.outcome == "ok") return "ok";
  // The start of the caller's reason: the JSON has all of it.
  std::string reason = call.error.substr(0, call.error.find('\n'));
  if (reason.size() > 48) reason = reason.substr(0, reason.rfind(' ', 48)) + " ...";
  return reason.empty() ? call.outcome : call.outcome + ": " + reason;
}

std::string view_line(const ViewRun& view) {
  std::string line = view.path;
  line.resize(std::max<std::size_t>(line.size(), 23), ' ');
  line += (view.status ? std::to_string(view.status) : "---") + " in " +
          fixed(view.elapsed_ms / 1000.0, 2) + " s";
  std::size_t ok = std::count_if(view.calls.begin(), view.calls.end(),
                                 [](const Call& call) { return call.outcome == "ok"; });
  line += ", " + std::to_string(ok) + " of " + std::to_string(view.calls.size()) + " calls answered";
  line += view.as_expected ? "  [as the story says]" : "  [NOT as the story says: " + view.verdict + "]";
  return line;
}

void write_view(std::ostream& out, const ViewRun& view) {
  out << "   " << view_line(view) << '\n';
  if (view.calls.empty()) return;
  out << "     call    sent  received  started  finished  answered  worker/thread  outcome\n";
  for (const Call& call : view.calls) {
    std::string who = worker(call);
    who.resize(std::max<std::size_t>(who.size(), 13), ' ');
    std::string id = std::to_string(call.task_id);
    out << "     " << std::string(4 - std::min<std::size_t>(4, id.size()), ' ') << id << column(call.sent_ms, 8) << column(call.received_ms, 10)
        << column(call.started_ms, 9) << column(call.finished_ms, 10)
        << column(call.answered_ms, 10) << "  " << who << "  " << outcome_text(call) << '\n';
  }
}

json::value optional_ms(std::optional<double> ms) {
  if (!ms) return nullptr;
  return std::round(*ms * 10) / 10;
}

json::object call_json(const Call& call) {
  json::object out{{"task_id", call.task_id},
                   {"sent_ms", std::round(call.sent_ms * 10) / 10},
                   {"received_ms", optional_ms(call.received_ms)},
                   {"started_ms", optional_ms(call.started_ms)},
                   {"finished_ms", optional_ms(call.finished_ms)},
                   {"answered_ms", std::round(call.answered_ms * 10) / 10},
                   {"outcome", call.outcome}};
  if (call.pid) {
    out["pid"] = call.pid;
    out["thread"] = call.thread;
  }
  if (call.status) out["status"] = call.status;
  if (!call.error.empty()) out["error"] = call.error;
  return out;
}

json::object view_json(const ViewRun& view, const Options& options) {
  json::array calls;
  for (const Call& call : view.calls) calls.push_back(call_json(call));
  json::object expected{{"status", view.expected.status}};
  if (view.expected.min_sleeps > 0) expected["min_ms"] = view.expected.min_ms(options.sleep);
  if (view.expected.max_sleeps > 0) expected["max_ms"] = view.expected.max_ms(options.sleep);
  json::object out{{"path", view.path},
                   {"status", view.status},
                   {"elapsed_ms", std::round(view.elapsed_ms * 10) / 10},
                   {"expected", std::move(expected)},
                   {"as_expected", view.as_expected},
                   {"calls", std::move(calls)}};
  if (!view.verdict.empty()) out["verdict"] = view.verdict;
  if (!view.error.empty()) out["error"] = view.error;
  return out;
}

// ---- HTML ------------------------------------------------------------------

std::string escape(std::string_view text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

const char* colour(const std::string& outcome) {
  if (outcome == "ok") return "#3a9d5d";
  if (outcome == "timeout") return "#e8912d";
  if (outcome == "refused") return "#d64545";
  return "#8a8a8a";
}

// A tick spacing of 1, 2 or 5 times a power of ten that gives about six ticks.
double tick_step(double span_ms) {
  double raw = span_ms / 6;
  double power = std::pow(10.0, std::floor(std::log10(raw)));
  for (double factor : {1.0, 2.0, 5.0})
    if (factor * power >= raw) return factor * power;
  return 10 * power;
}

constexpr int label_width = 150, plot_width = 640, lane = 18, axis = 22;

// The axis spans at least `least_ms` (one sleep), so that an answer that
// came at once looks like one.
void write_svg(std::ostream& out, const ViewRun& view, double least_ms) {
  double span = std::max(view.elapsed_ms, least_ms);
  for (const Call& call : view.calls) span = std::max(span, call.answered_ms);
  span = std::max(span, 1.0);
  auto x = [&](double ms) { return label_width + ms / span * plot_width; };
  int height = static_cast<int>(view.calls.size()) * lane + axis + 4;
  out << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << label_width + plot_width + 20
      << "\" height=\"" << height << "\" font-family=\"sans-serif\" font-size=\"11\">\n";
  double step = tick_step(span);
  for (double t = 0; t <= span + 1e-9; t += step) {
    out << "<line x1=\"" << x(t) << "\" x2=\"" << x(t) << "\" y1=\"0\" y2=\"" << height - axis
        << "\" stroke=\"#ddd\"/><text x=\"" << x(t) << "\" y=\"" << height - 8
        << "\" text-anchor=\"middle\" fill=\"#555\">" << fixed(t / 1000, step < 100 ? 2 : 1)
        << " s</text>\n";
  }
  for (std::size_t i = 0; i < view.calls.size(); ++i) {
    const Call& call = view.calls[i];
    int y = static_cast<int>(i) * lane + 2;
    out << "<text x=\"4\" y=\"" << y + 12 << "\">call " << call.task_id << "  " << worker(call)
        << "</text>\n";
    out << "<rect x=\"" << x(call.sent_ms) << "\" y=\"" << y + 2 << "\" width=\""
        << std::max(1.0, x(call.answered_ms) - x(call.sent_ms)) << "\" height=\"" << lane - 6
        << "\" rx=\"2\" fill=\"" << colour(call.outcome) << "\" fill-opacity=\"0.45\"><title>"
        << escape(outcome_text(call)) << "</title></rect>\n";
    if (call.started_ms && call.finished_ms)
      out << "<rect x=\"" << x(*call.started_ms) << "\" y=\"" << y + 5 << "\" width=\""
          << std::max(1.0, x(*call.finished_ms) - x(*call.started_ms)) << "\" height=\""
          << lane - 12 << "\" fill=\"" << colour(call.outcome) << "\"/>\n";
    if (call.received_ms)
      out << "<line x1=\"" << x(*call.received_ms) << "\" x2=\"" << x(*call.received_ms)
          << "\" y1=\"" << y + 1 << "\" y2=\"" << y + lane - 3 << "\" stroke=\"#222\"/>\n";
  }
  out << "</svg>\n";
}

constexpr const char* page_head = R"(<!doctype html>
<html><head><meta charset="utf-8"><title>csgi scenario</title>
<style>
body { font-family: sans-serif; margin: 1.5em; color: #222; max-width: 60em; }
h2 { font-size: 1.1em; margin-top: 1.6em; }
code { background: #f3f3f3; padding: 0 .3em; }
.view { margin: .6em 0 .2em; font-weight: bold; }
.bad { color: #b00; } .good { color: #276738; }
.legend span { display: inline-block; width: 1em; height: .8em; margin: 0 .3em 0 1em; }
</style></head><body>
)";

}  // namespace

void write_text(std::ostream& out, const Report& report) {
  out << "csgi scenario: the article's story, each /api/ call sleeping "
      << report.options.sleep.count() << " ms, the calls' read timeout "
      << report.options.timeout.count() << " ms\n"
      << "Times in seconds since the aggregated view was asked; received, started and "
         "finished are the server's, sent and answered the caller's.\n";
  int number = 0;
  for (const RowRun& row : report.rows) {
    out << '\n' << ++number << ". " << row.title << "   (" << row.command << ")\n";
    for (const ViewRun& view : row.views) write_view(out, view);
    for (const std::string& warning : row.warnings) out << "   server log: " << warning << '\n';
    out << "   Why: " << row.why << '\n';
  }
  std::size_t differ = std::count_if(report.rows.begin(), report.rows.end(),
                                     [](const RowRun& row) { return !row.as_expected; });
  if (differ == 0)
    out << "\nEvery row behaved as the story says.\n";
  else
    out << '\n' << differ << " of " << report.rows.size()
        << " rows did NOT behave as the story says.\n";
}

json::value to_json(const Report& report) {
  json::array rows;
  for (const RowRun& row : report.rows) {
    json::array views, warnings;
    for (const ViewRun& view : row.views) views.push_back(view_json(view, report.options));
    for (const std::string& warning : row.warnings) warnings.push_back(json::string(warning));
    rows.push_back(json::object{{"title", row.title},
                                {"command", row.command},
                                {"why", row.why},
                                {"as_expected", row.as_expected},
                                {"views", std::move(views)},
                                {"warnings", std::move(warnings)}});
  }
  return json::object{{"sleep_ms", report.options.sleep.count()},
                      {"timeout_ms", report.options.timeout.count()},
                      {"as_expected", report.as_expected},
                      {"rows", std::move(rows)}};
}

void write_html(std::ostream& out, const Report& report) {
  out << page_head << "<h1>csgi scenario</h1>\n<p>Each <code>/api/</code> call sleeps "
      << report.options.sleep.count() << " ms; the aggregated views give each call "
      << report.options.timeout.count()
      << " ms. One lane per call: the pale bar runs from when the caller sent it to when it "
         "had the answer, the solid bar is the <code>/api/</code> view running, the tick is "
         "when the server received the request.</p>\n<p class=\"legend\">"
      << "<span style=\"background:" << colour("ok") << "\"></span>answered"
      << "<span style=\"background:" << colour("timeout") << "\"></span>timed out"
      << "<span style=\"background:" << colour("refused") << "\"></span>refused (503)"
      << "<span style=\"background:" << colour("error") << "\"></span>other error</p>\n";
  int number = 0;
  for (const RowRun& row : report.rows) {
    out << "<h2>" << ++number << ". " << escape(row.title) << " <code>" << escape(row.command)
        << "</code></h2>\n<p>" << escape(row.why) << "</p>\n";
    for (const ViewRun& view : row.views) {
      out << "<div class=\"view " << (view.as_expected ? "good" : "bad") << "\">"
          << escape(view_line(view)) << "</div>\n";
      write_svg(out, view, static_cast<double>(report.options.sleep.count()));
    }
  }
  out << "<p class=\"" << (report.as_expected ? "good\">Every row behaved as the story says."
                                              : "bad\">Some rows did NOT behave as the story says.")
      << "</p>\n</body></html>\n";
}

}  // namespace csgi::scenario
