// A csgi server run by the scenario: `EXECUTABLE serve ARGS... --host
// 127.0.0.1 --port 0` as a child process in a process group of its own, its
// log (stderr) collected, stopped with TERM when the object goes.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "scenario/child_process.hpp"

namespace csgi::scenario {

class ServerProcess {
 public:
  // Starts the child; `workers` processes will serve (1 without --workers).
  ServerProcess(const std::string& executable, std::vector<std::string> serve_args,
                int workers);
  // TERM, then KILL of the group if it has not exited within 5 s.
  ~ServerProcess();
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  // Waits until the server listens and every worker process has started;
  // returns its port. Throws std::runtime_error after `timeout`, with the log.
  std::uint16_t wait_ready(std::chrono::milliseconds timeout);

  // The log's lines at WARNING level and above so far.
  std::vector<std::string> warnings() const;

 private:
  ChildProcess child_;
  int workers_ = 1;
};

// The path of the running executable (/proc/self/exe, resolved).
std::string current_executable();

}  // namespace csgi::scenario
