#include "gateway/common.hpp"

namespace csgi {

// The build's CSGI_SPEC_VERSION (CMakeLists.txt, which the ctest of
// `csgi --version` also reads) must name the version the code implements.
static_assert(spec_version == CSGI_SPEC_VERSION,
              "CSGI_SPEC_VERSION in CMakeLists.txt and csgi::spec_version disagree");

bool State::contains(const std::string& key) const {
  std::lock_guard lock(mutex_);
  return values_.contains(key);
}

std::string exception_message(std::exception_ptr error) {
  if (!error) return {};
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    return e.what();
  } catch (...) {
    return "an exception not derived from std::exception";
  }
}

}  // namespace csgi
