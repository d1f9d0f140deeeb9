// The default size limits of a request, written once: the parser's and the
// server connection's limits start from them, and so do the servers' settings
// (servers/config.hpp), which the command line shows as defaults.
#pragma once

#include <cstddef>

namespace csgi::protocol::default_limits {

inline constexpr std::size_t request_line = 8190;    // method SP target SP version: 414 above
inline constexpr std::size_t request_head = 65536;   // start line + fields, CRLFs counted: 431 above
inline constexpr std::size_t request_fields = 100;   // header fields (trailers count too): 431 above

}  // namespace csgi::protocol::default_limits
