#include "gateway/forwarded_allow.hpp"

#include <stdexcept>

#include "runtime/ascii.hpp"

namespace csgi {

ForwardedAllow ForwardedAllow::parse(std::string_view list) {
  ForwardedAllow allow;
  allow.text_ = std::string(list);
  std::string_view rest = list;
  while (!rest.empty()) {
    auto comma = rest.find(',');
    std::string_view entry = ascii::trim(rest.substr(0, comma));
    rest.remove_prefix(comma == std::string_view::npos ? rest.size() : comma + 1);
    if (entry.empty()) continue;
    if (entry == "*") {
      allow.everyone_ = true;
      continue;
    }
    if (entry == "unix") {
      allow.unix_ = true;
      continue;
    }
    auto slash = entry.find('/');
    auto address = IpAddress::parse(entry.substr(0, slash));
    Network network{address.value_or(IpAddress{}), address && address->is_v4() ? 32u : 128u};
    if (address && slash != std::string_view::npos) {
      auto prefix = ascii::parse_decimal<unsigned>(entry.substr(slash + 1));
      if (!prefix || *prefix > network.prefix) address.reset();
      network.prefix = prefix.value_or(0);
    }
    if (!address)
      throw std::invalid_argument("'" + std::string(entry) +
                                  "' is not an IP address, a network (CIDR), 'unix' or '*'");
    allow.networks_.push_back(network);
  }
  return allow;
}

bool ForwardedAllow::trusts(const std::optional<Endpoint>& peer) const {
  if (everyone_) return true;
  auto address = peer ? IpAddress::parse(peer->host) : std::nullopt;
  // A peer with no address, or a path for one, came over a Unix socket.
  if (!address) return unix_;
  return trusts(*address);
}

bool ForwardedAllow::trusts(const IpAddress& address) const {
  if (everyone_) return true;
  for (const auto& network : networks_)
    if (address.in(network.address, network.prefix)) return true;
  return false;
}

}  // namespace csgi
