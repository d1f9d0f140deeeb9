// A plugin served so that new code reaches it without a restart of the
// server: `csgi serve lib.so --reload`, and every worker of `--workers N`
// loading the file afresh when the supervisor forks it (HUP).
//
// Each process loads its own build. The Application that plugin_app() returns
// has loaded the file already (so that `csgi serve` reports a broken plugin
// before it serves); a process forked from the one that loaded it loads the
// file again when a server first asks it for a form, so a worker started by a
// rolling restart (HUP) runs the code on disk now, not the code its parent
// loaded at startup. If that load fails, the worker serves the build it
// inherited and logs why in one line.
//
// With `watch`, the process polls the file (stat: its inode, size and mtime)
// every `poll_interval`, from a thread it starts when a server first asks for
// a form. Once the file has changed and then kept the same signature for
// `settle`, the new build is loaded and serves every request that starts from
// then on; a request in flight finishes on the build it started on, whose
// library stays loaded until its last request has ended. A build that fails
// to load, or whose factory throws, leaves the previous one serving; the
// reason is logged in one line, and the next change of the file is tried.
// An exception of a type a build defines that escapes one of its requests
// reaches the server as a std::runtime_error with the same message, since the
// server may handle it after the build is gone.
//
// Polling rather than inotify: a linker that writes a new file and renames it
// over the old one (lld does) replaces the inode an inotify watch is on, so a
// watch would have to be on the directory and filter its events; polling sees
// a rename, an in-place write and a copy alike, also on file systems that do
// not report changes (network and bind mounts), for one stat() per interval.
//
// dlopen() returns the library already loaded for a path, so every build is
// loaded from a private copy of the file (in $TMPDIR, else /tmp), removed as
// soon as it is mapped. The copy is also a snapshot: a build that is being
// written while it loads cannot change under the loaded code.
//
// Lifespan: the lifespan scope goes to the build that serves at startup, and
// that build stays loaded until shutdown. A build loaded later gets no
// lifespan events; its requests see the state the first build's startup
// filled (spec/lifespan.md, "Reloading"). Work an app leaves running after its
// request has ended (a detached task, a thread) must not outlive the build: a
// build is unloaded after its last request.
#pragma once

#include <string>

#include "apps/loader.hpp"
#include "gateway/app.hpp"

namespace csgi::apps {

// The plugin `spec` (a file and its entry point) as an Application that
// reloads as described above. Loads it now; throws AppLoadError when it does
// not load.
Application plugin_app(const PluginSpec& spec, const ReloadOptions& options);

}  // namespace csgi::apps
