// gather: the asyncio.gather analogue. Runs N awaitables concurrently on the
// calling coroutine's executor and collects their results in input order.
//
//   std::vector<awaitable<Response>> calls;
//   for (auto& url : urls) calls.push_back(client.get(url));
//   auto responses = co_await gather(std::move(calls));      // first error throws
//   auto outcomes = co_await gather_settled(std::move(calls2)); // errors in place
//
// T must be movable and default-constructible (co_spawn reports a failed
// coroutine as (exception, T{})). Awaiting the gather from a cancelled
// coroutine cancels every child.
#pragma once

#include <cstddef>
#include <exception>
#include <tuple>
#include <utility>
#include <variant>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace csgi::client {

template <class T>
using awaitable = boost::asio::awaitable<T>;

// The result of one gathered awaitable: its value or the exception it ended with.
template <class T>
using Outcome = std::variant<T, std::exception_ptr>;

namespace detail {

// Starts every task as its own coroutine and waits as `condition` says. Returns
// (completion order, exceptions by input index, values by input index).
template <class T, class Condition>
awaitable<std::tuple<std::vector<std::size_t>, std::vector<std::exception_ptr>, std::vector<T>>>
run_group(std::vector<awaitable<T>> tasks, Condition condition) {
  namespace asio = boost::asio;
  auto executor = co_await asio::this_coro::executor;
  using operation = decltype(asio::co_spawn(executor, std::declval<awaitable<T>>(), asio::deferred));
  std::vector<operation> operations;
  operations.reserve(tasks.size());
  for (auto& task : tasks) operations.push_back(asio::co_spawn(executor, std::move(task), asio::deferred));
  co_return co_await asio::experimental::make_parallel_group(std::move(operations))
      .async_wait(condition, asio::use_awaitable);
}

}  // namespace detail

// Results in input order. The first task to fail cancels the others; once
// they have finished, its exception is rethrown.
template <class T>
awaitable<std::vector<T>> gather(std::vector<awaitable<T>> tasks) {
  if (tasks.empty()) co_return std::vector<T>{};
  auto [order, errors, values] =
      co_await detail::run_group(std::move(tasks), boost::asio::experimental::wait_for_one_error());
  // The first failure in completion order is the cause; later ones are mostly
  // the cancellations it triggered.
  for (std::size_t index : order)
    if (errors[index]) std::rethrow_exception(errors[index]);
  co_return std::move(values);
}

// Waits for every task; each slot holds the task's value or its exception.
template <class T>
awaitable<std::vector<Outcome<T>>> gather_settled(std::vector<awaitable<T>> tasks) {
  std::vector<Outcome<T>> outcomes;
  if (tasks.empty()) co_return outcomes;
  auto [order, errors, values] =
      co_await detail::run_group(std::move(tasks), boost::asio::experimental::wait_for_all());
  outcomes.reserve(values.size());
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (errors[i])
      outcomes.emplace_back(std::in_place_index<1>, errors[i]);
    else
      outcomes.emplace_back(std::in_place_index<0>, std::move(values[i]));
  }
  co_return outcomes;
}

// Whether an outcome holds a value, and the value or the rethrown exception.
template <class T>
bool succeeded(const Outcome<T>& outcome) noexcept { return outcome.index() == 0; }

template <class T>
T& value_of(Outcome<T>& outcome) {
  if (outcome.index() == 1) std::rethrow_exception(std::get<1>(outcome));
  return std::get<0>(outcome);
}

}  // namespace csgi::client
