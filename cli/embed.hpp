// Serving an app from your own program, with everything `csgi serve` has:
//
//   int main(int argc, char** argv) {
//     return csgi::serve(argc, argv, make_app());
//   }
//
// reads the settings of `csgi serve` (its flags without APP, and the CSGI_*
// variables), answers --help and --version, and serves until TERM or INT:
// the loop or threaded server, under the supervisor with --workers. A program
// that has settings of its own fills a Config and calls serve(config, app).
//
// Link the CMake target csgi::embed (or `pkg-config --libs csgi`).
// Call from the main thread, once: the server owns the process's signal
// handling (TERM, INT; HUP, TTIN and TTOU under the supervisor) until it
// returns, and with --workers it forks.
#pragma once

#include "gateway/app.hpp"
#include "servers/config.hpp"

namespace csgi {

using servers::Config;

// Serves `app` with the settings of `argv` and the environment. Returns the
// exit code for main(): 0 after a clean stop, 2 for a bad flag (reported on
// stderr), and the others of `csgi serve --help`.
int serve(int argc, const char* const* argv, const Application& app);

// Serves `app` with `config`. Returns the exit code as above.
int serve(const Config& config, const Application& app);

}  // namespace csgi
