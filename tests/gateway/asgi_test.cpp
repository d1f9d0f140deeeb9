// plain_function: which apps a server may call directly, building the scope
// in place as the argument (gateway/asgi.hpp, AppFunction).
#include <gtest/gtest.h>

#include "gateway/asgi.hpp"

namespace csgi::asgi {
namespace {

awaitable<void> plain(Scope, Receive, Send) { co_return; }

TEST(PlainFunction, AnAppMadeOfAPlainFunctionGivesItBack) {
  App app = plain;
  EXPECT_EQ(plain_function(app), &plain);
}

TEST(PlainFunction, AnyOtherAppHasNone) {
  // A lambda, even one without captures, and a function wrapped in one: the
  // server cannot know what they do before calling the function.
  App lambda = [](Scope, Receive, Send) -> awaitable<void> { co_return; };
  App wrapped = [](Scope scope, Receive receive, Send send) {
    return plain(std::move(scope), std::move(receive), std::move(send));
  };
  EXPECT_EQ(plain_function(lambda), nullptr);
  EXPECT_EQ(plain_function(wrapped), nullptr);
  EXPECT_EQ(plain_function(App()), nullptr);
}

}  // namespace
}  // namespace csgi::asgi
