// `csgi scenario`: the Django 3.1 async article's story, reproduced on local
// servers and checked. Each row is one server set-up; for each of mysite's two
// aggregated views it serves mysite afresh (a child process of the csgi
// executable, on a free loopback port), asks the view once, and keeps a
// timeline of the calls it makes: when each
// call was sent and answered (the caller's side, from the view's `calls[]`),
// and when the server received it, when the /api/ view started and finished,
// on which worker and thread (the callee's side, from each answer's `served`).
//
// A row states what the story expects of it; run_scenario() says whether each
// view behaved so. report.hpp prints the result as text, JSON or an HTML page.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace csgi::scenario {

using std::chrono::milliseconds;

struct Options {
  milliseconds sleep{1000};    // how long each /api/ call sleeps (the article's 1 s)
  milliseconds timeout{5000};  // the aggregated views' read timeout (httpx's 5 s)
};

// What the story expects of one view in one row.
struct Expectation {
  int status = 200;
  // Bounds of the view's answer time, in sleeps (`Options::sleep`); a bound
  // of 0 is not checked.
  double min_sleeps = 0;
  double max_sleeps = 0;

  // The bounds in milliseconds for sleeps of `sleep`; the upper one gets
  // answer_allowance on top.
  double min_ms(milliseconds sleep) const;
  double max_ms(milliseconds sleep) const;
};

// One call of an aggregated view, on one timeline: milliseconds since the
// scenario sent the view's request. Callee-side times are absent when the
// call never reached a view (refused, timed out in a queue, ...).
struct Call {
  int task_id = 0;
  double sent_ms = 0;
  double answered_ms = 0;
  std::optional<double> received_ms, started_ms, finished_ms;
  long pid = 0;       // the worker that ran /api/; 0: unknown
  long thread = 0;    // its thread (the kernel's thread id)
  int status = 0;     // 0: no answer
  std::string outcome;  // "ok", "timeout", "refused" (a 503) or "error"
  std::string error;    // the caller's reason when the call failed
};

struct ViewRun {
  std::string path;        // "/api/aggregated/"
  Expectation expected;
  int status = 0;
  double elapsed_ms = 0;   // until the scenario had the whole answer
  std::string error;       // the view's own summary of failed calls, if any
  std::vector<Call> calls;
  bool as_expected = false;
  std::string verdict;     // what differs from the story; empty when as_expected
};

struct RowRun {
  std::string title;       // "loop server, 1 worker"
  std::string command;     // the `csgi serve ...` line a reader can paste
  std::string why;         // one sentence: the reason of what happens
  std::vector<ViewRun> views;
  std::vector<std::string> warnings;  // the server's WARNING and ERROR lines
  bool as_expected = false;
};

struct Report {
  Options options;
  std::vector<RowRun> rows;
  bool as_expected = false;  // every row
};

// Runs every row. Throws std::runtime_error when a server cannot be started.
Report run_scenario(const Options& options);

// Added to every upper bound of an answer's time: connecting, parsing and
// answering take this much whatever the sleep (the fail-fast 503's bound is
// a fifth of a sleep plus this).
inline constexpr milliseconds answer_allowance{50};

}  // namespace csgi::scenario
