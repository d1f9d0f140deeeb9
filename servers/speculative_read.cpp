#include "servers/speculative_read.hpp"

#include <boost/version.hpp>

#if BOOST_VERSION == 108100 && defined(BOOST_ASIO_HAS_EPOLL) && !defined(BOOST_ASIO_HAS_IO_URING_AS_DEFAULT)
#define CSGI_SKIP_SPECULATIVE_READ 1
#include <boost/asio/detail/epoll_reactor.hpp>
#endif

namespace csgi::servers {

#if defined(CSGI_SKIP_SPECULATIVE_READ)
namespace {

using Socket = boost::asio::generic::stream_protocol::socket;
using Reactor = boost::asio::detail::epoll_reactor;
using DescriptorState = Reactor::descriptor_state;
using SpeculativeFlags = bool (DescriptorState::*)[Reactor::max_ops];

// The socket's implementation is a protected member: named through a derived
// class, its address may be taken.
struct SocketAccess : Socket {
  static auto& implementation(Socket& socket) { return (socket.*(&SocketAccess::impl_)).get_implementation(); }
};

// The flag is private to the reactor's per-descriptor state. An explicit
// instantiation may name a private member (C++20 [temp.spec.general]), which
// lets a friend function hand its address out.
struct SpeculativeFlagsTag {
  friend SpeculativeFlags speculative_flags(SpeculativeFlagsTag);
};
template <SpeculativeFlags Member>
struct ExposeSpeculativeFlags {
  friend SpeculativeFlags speculative_flags(SpeculativeFlagsTag) { return Member; }
};
template struct ExposeSpeculativeFlags<&DescriptorState::try_speculative_>;

}  // namespace

void skip_speculative_read(Socket& socket) {
  DescriptorState* state = SocketAccess::implementation(socket).reactor_data_;
  if (state != nullptr) (state->*speculative_flags(SpeculativeFlagsTag{}))[Reactor::read_op] = false;
}

bool speculative_read_can_be_skipped() { return true; }
#else
void skip_speculative_read(boost::asio::generic::stream_protocol::socket&) {}

bool speculative_read_can_be_skipped() { return false; }
#endif

}  // namespace csgi::servers
