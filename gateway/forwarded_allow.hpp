// The peers trusted to speak for the client (--forwarded-allow-ips): which
// direct peers' proxy headers and PROXY protocol headers a server believes
// (spec/servers.md, "Proxies"). Apart from gateway/proxy_headers.hpp so that
// servers/config.hpp holds it without the app interface's headers.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/http_types.hpp"
#include "runtime/ip_address.hpp"

namespace csgi {

// The direct peers trusted to speak for the client (--forwarded-allow-ips).
class ForwardedAllow {
 public:
  // Trusts nobody.
  ForwardedAllow() = default;
  // A comma-separated list of addresses ("127.0.0.1", "::1"), networks
  // ("10.0.0.0/8", "fd00::/8"), "unix" (peers on a Unix socket, which have no
  // address) and "*" (everyone). Throws std::invalid_argument naming the
  // entry that is none of these.
  static ForwardedAllow parse(std::string_view list);

  // Whether `peer` may speak for the client: a peer with an address by that
  // address, a peer without one (a Unix socket; nullopt) when "unix" is listed.
  bool trusts(const std::optional<Endpoint>& peer) const;
  bool trusts(const IpAddress& address) const;

  // The list as given to parse(), for --help and messages.
  const std::string& text() const { return text_; }
  friend bool operator==(const ForwardedAllow& a, const ForwardedAllow& b) {
    return a.text_ == b.text_;
  }

 private:
  struct Network {
    IpAddress address;
    unsigned prefix = 128;
  };
  std::string text_;
  std::vector<Network> networks_;
  bool everyone_ = false;
  bool unix_ = false;
};

}  // namespace csgi
