// ErrorLogCapture: what is logged to "csgi.error" (gateway/error_log.hpp) while
// it lives, for tests that check what an app's failure logs:
//
//   ErrorLogCapture log;
//   client.get("/boom");
//   EXPECT_THAT(log.text(), HasSubstr("GET /boom"));
//
// It adds a sink to the logger and removes it when destroyed: create and
// destroy it while nothing else logs (before a server starts, after it
// stopped). The lines it keeps are the messages, without the log's pattern.
#pragma once

#include <memory>
#include <string>

namespace csgi::testing {

class ErrorLogCapture {
 public:
  ErrorLogCapture();
  ~ErrorLogCapture();
  ErrorLogCapture(const ErrorLogCapture&) = delete;
  ErrorLogCapture& operator=(const ErrorLogCapture&) = delete;

  // Every message so far, one a line. Safe while other threads log.
  std::string text() const;

 private:
  class Sink;
  std::shared_ptr<Sink> sink_;
};

}  // namespace csgi::testing
