// The one entry point the CLI calls: runs the server `config` names (loop or
// threaded, under the supervisor when workers > 1) until it is stopped.
#pragma once

#include <cstddef>

#include "gateway/app.hpp"
#include "servers/config.hpp"

namespace csgi::servers {

// Returns the process exit code: 0 after a clean stop, 3 when lifespan startup
// failed, 1 for other failures (the reason is logged to csgi.error).
int serve(const Config& config, const Application& app);

// Lets the C library keep up to `bytes` of freed heap memory instead of
// returning it to the system at each free (glibc's M_TRIM_THRESHOLD, 128 KiB
// by default). A server allocates and frees a large message's buffers once per
// message; handing those pages back and faulting them in again costs more than
// the message (a 64 KiB WebSocket echo runs 3.5x faster). serve() calls it
// with 16 MiB. Returns the threshold set, or 0 when the environment already
// sets MALLOC_TRIM_THRESHOLD_ (the operator's choice stands) or the C library
// is not glibc.
std::size_t keep_freed_heap_memory(std::size_t bytes);

}  // namespace csgi::servers
