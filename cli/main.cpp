// The csgi executable: the command line of cli/command_line.hpp, serving with
// the real servers.
#include <iostream>
#include <span>

#include "cli/command_line.hpp"
#include "servers/serve.hpp"

int main(int argc, char** argv) {
  return csgi::cli::run(std::span<const char* const>(argv, static_cast<std::size_t>(argc)),
                        csgi::servers::serve, csgi::cli::process_environment(), std::cout,
                        std::cerr);
}
