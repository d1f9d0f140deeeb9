// The exit codes of a worker, and of a server: Server::run() (servers/server.hpp)
// and serve() return them, a supervised worker exits with its server's code,
// and the supervisor (servers/supervisor/supervisor.hpp) acts on it. The
// numbers are gunicorn's.
#pragma once

namespace csgi::servers::worker_exit {

inline constexpr int ok = 0;
// Anything else that went wrong (logged). The supervisor replaces a worker that
// exits with it after booting.
inline constexpr int failure = 1;
// Lifespan startup failed. Before a worker has booted, this and the code below
// stop the supervisor instead of making it fork the same failure again.
inline constexpr int boot_failed = 3;
// The server could not build its form of the app (Application::as_async or
// as_sync threw).
inline constexpr int app_load_failed = 4;

}  // namespace csgi::servers::worker_exit
