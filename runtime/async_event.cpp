#include "runtime/async_event.hpp"

#include <list>
#include <utility>

#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/execution_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/prefer.hpp>
#include <boost/asio/query.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "runtime/indexed_set.hpp"

namespace csgi {

namespace asio = boost::asio;
using boost::system::error_code;

namespace {
// The completion handler of a wait: wait() only completes through use_awaitable.
using Handler = asio::async_result<asio::use_awaitable_t<>, void(error_code)>::handler_type;
}  // namespace

// The coroutines parked in one event. Listed in the loop's Service while any
// is parked, so that the loop's shutdown can destroy them.
struct AsyncEvent::Waiters : IndexedSetMember {
  struct Waiter {
    Handler handler;
    asio::any_io_executor work;  // outstanding work on the loop while parked
    asio::cancellation_slot slot;
  };
  using List = std::list<Waiter>;

  Waiters(const asio::any_io_executor& executor, Service& service) : executor(executor), service(service) {}

  void park(Handler handler);
  // Posts the waiter's resumption with `error`; the work it held is released
  // only after the posted handler counts as work.
  void resume(List::iterator waiter, error_code error);
  void resume_all();
  // Destroys every parked waiter unresumed. `this` may be destroyed with them
  // (an event in the frame of its own waiter): nothing touches it after.
  void abandon();
  void unlist();

  asio::any_io_executor executor;
  Service& service;
  List list;
};

// Per execution context: the events with parked waiters, destroyed when the
// context shuts down, as its pending operations are.
struct AsyncEvent::Service : asio::execution_context::service {
  static asio::execution_context::id id;
  explicit Service(asio::execution_context& context) : asio::execution_context::service(context) {}
  void shutdown() override {
    while (!parked.empty()) (*parked.begin())->abandon();
  }
  IndexedSet<Waiters> parked;
};

asio::execution_context::id AsyncEvent::Service::id;

void AsyncEvent::Waiters::park(Handler handler) {
  asio::cancellation_slot slot = asio::get_associated_cancellation_slot(handler);
  auto waiter = list.insert(
      list.end(), Waiter{std::move(handler), asio::prefer(executor, asio::execution::outstanding_work.tracked), slot});
  if (!in_indexed_set()) service.parked.insert(*this);
  if (slot.is_connected()) {
    slot.assign([this, waiter](asio::cancellation_type) { resume(waiter, asio::error::operation_aborted); });
  }
}

void AsyncEvent::Waiters::resume(List::iterator waiter, error_code error) {
  if (waiter->slot.is_connected()) waiter->slot.clear();
  auto handler_executor = asio::get_associated_executor(waiter->handler, executor);
  asio::post(handler_executor, [handler = std::move(waiter->handler), error]() mutable { std::move(handler)(error); });
  list.erase(waiter);
  if (list.empty()) unlist();
}

void AsyncEvent::Waiters::resume_all() {
  while (!list.empty()) resume(list.begin(), {});
}

void AsyncEvent::Waiters::abandon() {
  unlist();
  List doomed;
  doomed.splice(doomed.begin(), list);
  for (Waiter& waiter : doomed)
    if (waiter.slot.is_connected()) waiter.slot.clear();
}

void AsyncEvent::Waiters::unlist() {
  if (in_indexed_set()) service.parked.erase(*this);
}

// The waiters' list is made at the first wait, on the waiting coroutine's
// executor (the loop's, as the constructor's contract says).
AsyncEvent::AsyncEvent(const asio::any_io_executor&) {}

AsyncEvent::~AsyncEvent() {
  if (waiters_) waiters_->abandon();
}

void AsyncEvent::set() {
  set_ = true;
  notify();
}

void AsyncEvent::reset() { set_ = false; }

void AsyncEvent::notify() {
  if (waiters_) waiters_->resume_all();
}

std::size_t AsyncEvent::waiting() const { return waiters_ ? waiters_->list.size() : 0; }

asio::awaitable<void> AsyncEvent::wait() {
  if (set_) co_return;
  if (!waiters_) {
    asio::any_io_executor executor = co_await asio::this_coro::executor;
    waiters_ = std::make_unique<Waiters>(
        executor, asio::use_service<Service>(asio::query(executor, asio::execution::context)));
  }
  co_await asio::async_initiate<const asio::use_awaitable_t<>&, void(error_code)>(
      [this](Handler handler) { waiters_->park(std::move(handler)); }, asio::use_awaitable);
}

}  // namespace csgi
