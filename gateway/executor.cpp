#include "gateway/executor.hpp"

#include <boost/asio/thread_pool.hpp>

namespace csgi {

struct SyncExecutor::Impl {
  explicit Impl(std::size_t threads) : pool(threads) {}
  boost::asio::thread_pool pool;
};

SyncExecutor::SyncExecutor(std::size_t threads)
    : impl_(std::make_unique<Impl>(threads == 0 ? 1 : threads)), threads_(threads == 0 ? 1 : threads) {}

SyncExecutor::~SyncExecutor() { join(); }

boost::asio::any_io_executor SyncExecutor::get_executor() { return impl_->pool.get_executor(); }

void SyncExecutor::join() { impl_->pool.join(); }

namespace {
thread_local int event_loop_depth = 0;
}

bool this_thread_runs_event_loop() { return event_loop_depth > 0; }

EventLoopThreadMark::EventLoopThreadMark() { ++event_loop_depth; }
EventLoopThreadMark::~EventLoopThreadMark() { --event_loop_depth; }

}  // namespace csgi
