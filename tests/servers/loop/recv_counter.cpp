#include "tests/servers/loop/recv_counter.hpp"

#include <dlfcn.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <atomic>

namespace {

std::atomic<int> counted_fd{-1};
std::atomic<int> recv_calls{0};

template <class Function>
Function* next_definition(const char* name) {
  return reinterpret_cast<Function*>(::dlsym(RTLD_NEXT, name));
}

void count(int fd) {
  if (fd == counted_fd.load(std::memory_order_relaxed)) recv_calls.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace

extern "C" ssize_t recv(int fd, void* data, size_t size, int flags) {
  static auto* real = next_definition<ssize_t(int, void*, size_t, int)>("recv");
  count(fd);
  return real(fd, data, size, flags);
}

extern "C" ssize_t recvmsg(int fd, msghdr* message, int flags) {
  static auto* real = next_definition<ssize_t(int, msghdr*, int)>("recvmsg");
  count(fd);
  return real(fd, message, flags);
}

namespace csgi::servers::loop::testing {

void count_recvs_on(int fd) {
  recv_calls = 0;
  counted_fd = fd;
}

int counted_recvs() { return recv_calls; }

}  // namespace csgi::servers::loop::testing
