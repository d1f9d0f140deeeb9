#include "scenario/server_process.hpp"

#include <csignal>
#include <filesystem>
#include <regex>
#include <sstream>
#include <stdexcept>

namespace csgi::scenario {

std::string current_executable() {
  return std::filesystem::read_symlink("/proc/self/exe").string();
}

namespace {

std::vector<std::string> serve_command(const std::string& executable,
                                       std::vector<std::string> serve_args) {
  std::vector<std::string> args{executable, "serve"};
  args.insert(args.end(), serve_args.begin(), serve_args.end());
  for (const char* extra : {"--host", "127.0.0.1", "--port", "0", "--no-access-log"})
    args.emplace_back(extra);
  return args;
}

}  // namespace

ServerProcess::ServerProcess(const std::string& executable, std::vector<std::string> serve_args,
                             int workers)
    : child_(serve_command(executable, std::move(serve_args))), workers_(workers) {}

ServerProcess::~ServerProcess() {
  ::kill(child_.pid(), SIGTERM);
  if (!child_.wait_exit(std::chrono::seconds(5))) {
    ::kill(-child_.pid(), SIGKILL);
    child_.wait_exit(std::chrono::seconds(5));
  }
  // The output ends once the server and every worker are gone (~ChildProcess).
}

std::uint16_t ServerProcess::wait_ready(std::chrono::milliseconds timeout) {
  static const std::regex running(R"(running on http://127\.0\.0\.1:(\d+))");
  std::uint16_t port = 0;
  bool ready = child_.wait_for_output(
      [&](const std::string& output) {
        std::smatch match;
        if (!std::regex_search(output, match, running)) return false;
        port = static_cast<std::uint16_t>(std::stoi(match[1]));
        return occurrences(output, "Started server process") >= static_cast<std::size_t>(workers_);
      },
      timeout);
  if (!ready)
    throw std::runtime_error("scenario: the server did not start; its log:\n" + child_.output());
  return port;
}

std::vector<std::string> ServerProcess::warnings() const {
  std::vector<std::string> lines;
  std::istringstream in(child_.output());
  for (std::string line; std::getline(in, line);)
    if (line.starts_with("WARNING") || line.starts_with("ERROR") || line.starts_with("CRITICAL"))
      lines.push_back(line);
  return lines;
}

}  // namespace csgi::scenario
