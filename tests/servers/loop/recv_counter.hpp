// Counts the receives (recv and recvmsg) made on one descriptor, for real:
// this test executable defines both functions and forwards them to the C
// library, so every receive Asio makes passes through the count.
#pragma once

namespace csgi::servers::loop::testing {

// Counts from zero the receives on `fd` from now on (-1: none).
void count_recvs_on(int fd);
int counted_recvs();

}  // namespace csgi::servers::loop::testing
