#include "protocol/request_target.hpp"

namespace csgi::protocol {

TargetParts split_target(std::string_view target) {
  if (const auto fragment = target.find('#'); fragment != std::string_view::npos)
    target = target.substr(0, fragment);
  if (!target.empty() && target.front() != '/' && target != "*") {
    // absolute-form: skip "scheme://authority"; authority-form stays whole.
    if (const auto scheme_end = target.find("://"); scheme_end != std::string_view::npos) {
      const auto path_start = target.find_first_of("/?", scheme_end + 3);
      target = path_start == std::string_view::npos ? std::string_view("/")
                                                    : target.substr(path_start);
      if (target.front() == '?') return {"/", target.substr(1)};
    }
  }
  const auto query = target.find('?');
  if (query == std::string_view::npos) return {target, {}};
  return {target.substr(0, query), target.substr(query + 1)};
}

}  // namespace csgi::protocol
