#include "servers/proxy_preamble.hpp"

#include "protocol/proxy_protocol.hpp"
#include "servers/cycle.hpp"
#include "servers/logging.hpp"

namespace csgi::servers {

ProxyPreamble::ProxyPreamble(const Config& config, const std::optional<Endpoint>& peer)
    : trusted_(config.forwarded_allow_ips.trusts(peer)),
      peer_name_(peer_name(peer)) {}

ProxyPreamble::Step ProxyPreamble::start() const {
  if (trusted_) return Step::read_more;
  // Only a trusted proxy may name the client, and a connection here must
  // carry the header: this one cannot be served either way.
  error_log()->warn("PROXY protocol: connection from {} refused: not in --forwarded-allow-ips",
                       peer_name_);
  return Step::close;
}

ProxyPreamble::Step ProxyPreamble::received(std::string_view bytes, ConnectionScope& origin,
                                            protocol::ServerConnection& conn) {
  buffer_.append(bytes);
  auto result = protocol::parse_proxy_header(buffer_);
  if (result.status == protocol::ProxyParse::incomplete) return Step::read_more;
  if (result.status == protocol::ProxyParse::invalid) {
    error_log()->warn("PROXY protocol: connection from {} closed: it did not start with a "
                         "valid PROXY header",
                         peer_name_);
    return Step::close;
  }
  const auto& header = result.header;
  if (!header.local) origin.client = header.source;
  if (header.ssl) origin.scheme = "https";
  if (buffer_.size() > header.length) conn.receive_data(std::string_view(buffer_).substr(header.length));
  buffer_.clear();
  buffer_.shrink_to_fit();
  return Step::done;
}

}  // namespace csgi::servers
