// The csgi executable: the command line of cli/command_line.hpp, serving with
// the real servers.
#include <csignal>
#include <iostream>
#include <span>

#include "cli/command_line.hpp"
#include "servers/serve.hpp"

int main(int argc, char** argv) {
  // The process is ours, so its signal dispositions are too. Servers send with
  // MSG_NOSIGNAL and never need this; it keeps a closed stderr pipe (csgi
  // serve ... | head) from killing the process at its next log line.
  std::signal(SIGPIPE, SIG_IGN);
  return csgi::cli::run(std::span<const char* const>(argv, static_cast<std::size_t>(argc)),
                        csgi::servers::serve, csgi::cli::process_environment(), std::cout,
                        std::cerr);
}
