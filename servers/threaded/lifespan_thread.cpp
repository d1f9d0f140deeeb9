#include "servers/threaded/lifespan_thread.hpp"

#include <future>
#include <thread>
#include <utility>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include "runtime/executor.hpp"
#include "servers/lifespan.hpp"

namespace csgi::servers::threaded {

namespace asio = boost::asio;

struct LifespanThread::Impl {
  asio::io_context context{1};
  asio::executor_work_guard<asio::io_context::executor_type> work{context.get_executor()};
  // The executor a sync app's async form runs its sync code on.
  SyncExecutor sync_executor{1};
  std::unique_ptr<Lifespan> lifespan;
  asgi::App async_app;
  std::thread thread;

  // Runs `function` on the loop thread and waits for its result.
  template <class F>
  auto on_loop(F function) {
    std::packaged_task<decltype(function())()> task(std::move(function));
    auto result = task.get_future();
    asio::post(context, [&task] { task(); });
    return result.get();
  }

  // Runs the coroutine `make()` returns on the loop and waits for it.
  template <class F>
  auto await_on_loop(F make) {
    using T = typename decltype(make())::value_type;
    std::promise<T> promise;
    asio::co_spawn(context, make(), [&promise](std::exception_ptr error, auto... value) {
      if (error)
        promise.set_exception(error);
      else
        promise.set_value(value...);
    });
    return promise.get_future().get();
  }
};

LifespanThread::LifespanThread(LifespanMode mode, const Application& app,
                               std::chrono::milliseconds return_timeout)
    : impl_(std::make_unique<Impl>()) {
  impl_->thread = std::thread([impl = impl_.get()] {
    EventLoopThreadMark mark;
    impl->context.run();
  });
  // A server without an async form of its app has no lifespan to run.
  if (!app.as_async) mode = LifespanMode::off;
  try {
    impl_->lifespan = impl_->on_loop([&] {
      if (app.as_async) impl_->async_app = app.as_async(impl_->sync_executor);
      return make_lifespan(mode, mode == LifespanMode::off ? asgi::App{} : impl_->async_app,
                           impl_->context.get_executor(), return_timeout);
    });
  } catch (...) {
    // The app's async form could not be built: no destructor runs, so the
    // loop thread must be joined here, or destroying it would terminate.
    stop_loop();
    throw;
  }
}

LifespanThread::~LifespanThread() {
  impl_->on_loop([this] { impl_->lifespan.reset(); });
  stop_loop();
}

void LifespanThread::stop_loop() {
  impl_->work.reset();
  // Whatever the app left on the loop (a task it never stopped) is dropped.
  impl_->context.stop();
  impl_->thread.join();
}

bool LifespanThread::startup() {
  return impl_->await_on_loop([this] { return impl_->lifespan->startup(); });
}

void LifespanThread::shutdown() {
  impl_->await_on_loop([this] { return impl_->lifespan->shutdown(); });
}

const asgi::App& LifespanThread::async_app() const { return impl_->async_app; }

std::shared_ptr<State> LifespanThread::state() const { return impl_->lifespan->state(); }

}  // namespace csgi::servers::threaded
