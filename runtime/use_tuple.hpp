// The completion token for I/O awaited in a coroutine: outcomes as values
// (an error_code first), not exceptions; a deferred operation is awaited
// directly, without a coroutine frame of its own for its initiation.
#pragma once

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/deferred.hpp>

namespace csgi {

inline constexpr auto use_tuple = boost::asio::as_tuple(boost::asio::deferred);

}  // namespace csgi
