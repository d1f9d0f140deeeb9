// A plugin as another csgi release would build it: its entry point answers
// with another plugin ABI and never touches the host's Application, and it
// names its release the way apps/plugin.hpp does.
#include <cstdint>

#include "apps/plugin.hpp"

extern "C" [[gnu::visibility("default")]] std::uint32_t csgi_other_release(std::uint32_t,
                                                                            csgi::Application*) {
  return csgi::plugin::abi_version + 1;
}
