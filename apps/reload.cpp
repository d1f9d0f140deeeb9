#include "apps/reload.hpp"

#include <cxxabi.h>
#include <dlfcn.h>
#include <link.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>
#include <memory>
#include <mutex>
#include <stop_token>
#include <thread>

#include "gateway/error_log.hpp"

namespace csgi::apps {
namespace {

using Clock = std::chrono::steady_clock;

// What polling compares: a rename, an in-place write and a copy each change
// one of these.
struct FileSignature {
  bool present = false;
  dev_t device = 0;
  ino_t inode = 0;
  off_t size = 0;
  std::int64_t mtime_ns = 0;
  bool operator==(const FileSignature&) const = default;
};

FileSignature signature_of(const std::string& path) {
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) return {};
  return {true, info.st_dev, info.st_ino, info.st_size,
          std::int64_t{info.st_mtim.tv_sec} * 1'000'000'000 + info.st_mtim.tv_nsec};
}

// A copy of `path` under a name no library loaded in this process has, so
// that dlopen() loads it rather than returning the library of an earlier build.
std::string private_copy(const std::string& path) {
  const char* tmpdir = std::getenv("TMPDIR");
  std::string file_name = std::filesystem::path(path).filename().string();
  std::string copy = std::string(tmpdir && *tmpdir ? tmpdir : "/tmp") + "/csgi-build-XXXXXX-" +
                     file_name;
  int fd = ::mkstemps(copy.data(), static_cast<int>(file_name.size() + 1));
  if (fd < 0) {
    throw AppLoadError("cannot load plugin " + path + ": no private copy: " +
                       std::strerror(errno));
  }
  ::close(fd);
  std::error_code error;
  std::filesystem::copy_file(path, copy, std::filesystem::copy_options::overwrite_existing, error);
  if (error) {
    ::unlink(copy.c_str());
    throw AppLoadError("cannot load plugin " + path + ": " + error.message());
  }
  return copy;
}

// One load of the plugin file.
struct Build {
  LoadedPlugin plugin;
  std::size_t number = 0;  // 1 for the first build this process loaded
  std::string file;        // the loaded copy's name, unique to this build

  // True when the build's own code defines `type` (its type_info lies in
  // the build's library).
  bool defines(const std::type_info* type) const {
    Dl_info info{};
    return type && ::dladdr(type, &info) != 0 && info.dli_fname && file == info.dli_fname;
  }
};

std::string loaded_name(void* library) {
  link_map* map = nullptr;
  if (::dlinfo(library, RTLD_DI_LINKMAP, &map) != 0 || !map || !map->l_name) return {};
  return map->l_name;
}

// The exception being handled, made safe to outlive `build`: one of a type
// the build defines (its what() and destructor are the build's code) becomes
// a std::runtime_error with its message, since the build may be unloaded as
// soon as the request that threw has ended. Call from a catch block.
std::exception_ptr outliving(const Build& build) {
  if (!build.defines(abi::__cxa_current_exception_type())) return std::current_exception();
  try {
    throw;
  } catch (const std::exception& error) {
    return std::make_exception_ptr(std::runtime_error(error.what()));
  } catch (...) {
    return std::make_exception_ptr(
        std::runtime_error("an exception of a type defined by a replaced build"));
  }
}

class PluginHost {
 public:
  PluginHost(PluginSpec spec, ReloadOptions options)
      : spec_(std::move(spec)), options_(options), loaded_in_(::getpid()) {
    build_ = load();
  }

  const std::string& name() const { return build_->plugin.app.name; }
  const Application& first_app() const { return build_->plugin.app; }
  bool watching() const { return options_.watch; }

  std::shared_ptr<const Build> current() const {
    std::lock_guard lock(mutex_);
    return build_;
  }

  // Called whenever a server asks for a form: loads the file afresh in a
  // process forked since the last load, and starts the watcher there.
  void prepare_process() {
    std::lock_guard lock(mutex_);
    pid_t pid = ::getpid();
    if (prepared_in_ == pid) return;
    prepared_in_ = pid;
    if (loaded_in_ != pid) load_in_forked_process();
    if (options_.watch)
      watcher_ = std::jthread([this](std::stop_token stop) { watch(stop); });
  }

 private:
  // Throws AppLoadError. Takes the file's signature first: a change during
  // the load is seen by the next poll.
  std::shared_ptr<const Build> load() {
    loaded_signature_ = signature_of(spec_.path);
    std::string copy = private_copy(spec_.path);
    struct Remove {
      const std::string& path;
      ~Remove() { ::unlink(path.c_str()); }
    } remove{copy};
    LoadedPlugin plugin = open_plugin(copy, spec_.symbol, spec_.path);
    std::string file = loaded_name(plugin.library.get());
    return std::make_shared<const Build>(
        Build{std::move(plugin), ++builds_loaded_, std::move(file)});
  }

  void load_in_forked_process() {
    loaded_in_ = ::getpid();
    try {
      build_ = load();
    } catch (const std::exception& error) {
      error_log()->error("Loading {} afresh failed; serving the build loaded at startup: {}",
                         spec_.path, error.what());
    }
  }

  void watch(const std::stop_token& stop) {
    FileSignature seen = loaded_signature_;
    Clock::time_point changed_at = Clock::now();
    // A sleep that a stop request cuts short.
    std::mutex sleep_mutex;
    std::condition_variable_any sleep;
    for (;;) {
      {
        std::unique_lock lock(sleep_mutex);
        sleep.wait_for(lock, stop, options_.poll_interval, [] { return false; });
        if (stop.stop_requested()) return;
      }
      FileSignature now = signature_of(spec_.path);
      if (now != seen) {
        seen = now;
        changed_at = Clock::now();
      } else if (now.present && now != loaded_signature_ &&
                 Clock::now() - changed_at >= options_.settle) {
        reload();
      }
    }
  }

  // On the watcher thread. The build is loaded without the lock held, so
  // requests keep starting on the current build meanwhile.
  void reload() {
    std::shared_ptr<const Build> next;
    try {
      next = load();
    } catch (const std::exception& error) {
      error_log()->error("Reloading {} failed; build {} keeps serving: {}", spec_.path,
                         current()->number, error.what());
      return;
    }
    error_log()->info("Reloaded {}: build {} serves new requests", spec_.path, next->number);
    std::lock_guard lock(mutex_);
    build_ = std::move(next);
  }

  PluginSpec spec_;
  ReloadOptions options_;
  mutable std::mutex mutex_;
  std::shared_ptr<const Build> build_;
  std::size_t builds_loaded_ = 0;
  FileSignature loaded_signature_;  // of the file the last load copied
  pid_t loaded_in_;                 // the process that loaded build_
  pid_t prepared_in_ = 0;
  std::jthread watcher_;  // last: stopped and joined before the rest is destroyed
};

// A form made from one build, holding the build for as long as the form is used.
template <class App>
struct Form {
  std::shared_ptr<const Build> build;  // first: released after `app`
  App app;
};

// The form of the current build, made once per build.
template <class App>
class FormCache {
 public:
  template <class Make>
  std::shared_ptr<const Form<App>> get(std::shared_ptr<const Build> build, const Make& make) {
    std::lock_guard lock(mutex_);
    if (!form_ || form_->build != build) {
      App app = make(build->plugin.app);
      form_ = std::make_shared<const Form<App>>(Form<App>{std::move(build), std::move(app)});
    }
    return form_;
  }

 private:
  std::mutex mutex_;
  std::shared_ptr<const Form<App>> form_;
};

// `form` is a parameter, so it lives in the coroutine frame until the request
// has ended.
asgi::awaitable<void> call_async(std::shared_ptr<const Form<asgi::App>> form, asgi::Scope scope,
                                 asgi::Receive receive, asgi::Send send) {
  std::exception_ptr error;
  try {
    co_await form->app(std::move(scope), std::move(receive), std::move(send));
  } catch (...) {
    error = outliving(*form->build);
  }
  if (error) std::rethrow_exception(error);
}

// Runs `call` (which runs the build's code), rethrowing what escapes it in a
// form that may outlive the build.
template <class Call>
auto call_sync(const Build& build, Call call) {
  try {
    return call();
  } catch (...) {
    std::rethrow_exception(outliving(build));
  }
}

// A sync body that keeps the build it came from until it is destroyed.
class BuildBoundBody final : public wsgi::Body::Source {
 public:
  BuildBoundBody(std::shared_ptr<const Form<wsgi::App>> form, wsgi::Body body)
      : form_(std::move(form)), body_(std::move(body)) {}
  std::optional<std::string> next() override {
    return call_sync(*form_->build, [&] { return body_.next(); });
  }
  void close() override {
    call_sync(*form_->build, [&] { body_.close(); });
  }
  bool exhausted() const override { return body_.exhausted(); }

 private:
  std::shared_ptr<const Form<wsgi::App>> form_;  // first: released after `body_`
  wsgi::Body body_;
};

asgi::App async_form(const std::shared_ptr<PluginHost>& host, SyncExecutor& executor) {
  host->prepare_process();
  if (!host->watching()) return host->current()->plugin.app.as_async(executor);
  auto cache = std::make_shared<FormCache<asgi::App>>();
  return [host, cache, &executor](asgi::Scope&& scope, asgi::Receive receive, asgi::Send send) {
    auto form = cache->get(host->current(),
                           [&](const Application& app) { return app.as_async(executor); });
    return call_async(std::move(form), std::move(scope), std::move(receive), std::move(send));
  };
}

wsgi::App sync_form(const std::shared_ptr<PluginHost>& host) {
  host->prepare_process();
  if (!host->watching()) return host->current()->plugin.app.as_sync();
  auto cache = std::make_shared<FormCache<wsgi::App>>();
  return [host, cache](wsgi::Environ& environ, wsgi::StartResponse& start_response) {
    auto form = cache->get(host->current(), [](const Application& app) { return app.as_sync(); });
    wsgi::Body body =
        call_sync(*form->build, [&] { return form->app(environ, start_response); });
    return wsgi::Body(std::make_unique<BuildBoundBody>(std::move(form), std::move(body)));
  };
}

}  // namespace

Application plugin_app(const PluginSpec& spec, const ReloadOptions& options) {
  auto host = std::make_shared<PluginHost>(spec, options);
  Application app;
  app.name = host->name();
  // A form the plugin's app lacks stays missing (a server then adapts the
  // other one, or runs without lifespan).
  if (host->first_app().as_async)
    app.as_async = [host](SyncExecutor& executor) { return async_form(host, executor); };
  if (host->first_app().as_sync) app.as_sync = [host] { return sync_form(host); };
  return app;
}

}  // namespace csgi::apps
