#include "gateway/testing/async_test.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "gateway/common.hpp"
#include "runtime/executor.hpp"

namespace csgi::testing {

void run_async_test(const std::function<boost::asio::awaitable<void>()>& body,
                    std::chrono::milliseconds timeout) {
  boost::asio::io_context context(1);
  bool done = false;
  std::exception_ptr error;
  boost::asio::co_spawn(context, body, [&](std::exception_ptr e) {
    done = true;
    error = e;
  });
  EventLoopThreadMark mark;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done) {
    auto left = deadline - std::chrono::steady_clock::now();
    if (left <= std::chrono::steady_clock::duration::zero()) {
      ADD_FAILURE() << "the test coroutine did not finish within " << timeout.count() << " ms";
      return;
    }
    if (context.run_one_for(left) == 0 && context.stopped() && !done) {
      ADD_FAILURE() << "deadlock: the test coroutine waits for something that nothing will do";
      return;
    }
  }
  if (error)
    ADD_FAILURE() << "exception escaped the test coroutine: " << exception_message(error);
}

boost::asio::awaitable<std::exception_ptr> overlap(boost::asio::awaitable<void> first,
                                                   boost::asio::awaitable<void> second) {
  namespace asio = boost::asio;
  auto executor = co_await asio::this_coro::executor;
  // Both starts are queued in order: `second` starts once `first` yields.
  auto [order, first_error, second_error] =
      co_await asio::experimental::make_parallel_group(
          asio::co_spawn(executor, std::move(first), asio::deferred),
          asio::co_spawn(executor, std::move(second), asio::deferred))
          .async_wait(asio::experimental::wait_for_one_error(), asio::use_awaitable);
  co_return second_error;
}

}  // namespace csgi::testing
