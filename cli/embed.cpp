#include "cli/embed.hpp"

#include <cstddef>
#include <iostream>
#include <span>

#include "cli/command_line.hpp"
#include "servers/serve.hpp"

namespace csgi {

int serve(int argc, const char* const* argv, const Application& app) {
  return cli::run_embedded(std::span(argv, static_cast<std::size_t>(argc)), app, servers::serve,
                           cli::process_environment(), std::cout, std::cerr);
}

int serve(const Config& config, const Application& app) { return servers::serve(config, app); }

}  // namespace csgi
