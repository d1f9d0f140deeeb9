// The app: a router with a sync view, an async view and a JSON endpoint.
#pragma once

#include <csgi/gateway/app.hpp>

namespace hello {

csgi::Application make_app();

}  // namespace hello
