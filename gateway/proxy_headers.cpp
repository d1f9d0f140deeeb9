#include "gateway/proxy_headers.hpp"


#include "runtime/ascii.hpp"

namespace csgi {

namespace {

// One proxy hop as a header reports it: who connected (`node`, as written)
// and over what (`proto`, possibly empty).
struct Hop {
  std::string_view node;
  std::string_view proto;
};

// Calls `each` with every comma-separated item of every field `name`, trimmed,
// skipping empty ones. Commas inside a quoted string do not separate.
template <class Each>
void for_each_item(const Headers& headers, std::string_view name, Each each) {
  for (const auto& [field, value] : headers) {
    if (field != name) continue;
    std::string_view rest = value;
    while (!rest.empty()) {
      std::size_t end = 0;
      bool quoted = false;
      for (; end < rest.size() && (quoted || rest[end] != ','); ++end) {
        if (rest[end] == '"') quoted = !quoted;
        if (quoted && rest[end] == '\\') ++end;  // a quoted-pair
      }
      end = std::min(end, rest.size());
      if (auto item = ascii::trim(rest.substr(0, end)); !item.empty()) each(item);
      rest.remove_prefix(std::min(end + 1, rest.size()));
    }
  }
}

std::string_view unquote(std::string_view value) {
  if (value.size() >= 2 && value.front() == '"' && value.back() == '"')
    return value.substr(1, value.size() - 2);
  return value;
}

// The hops of RFC 7239 `Forwarded` elements ("for=192.0.2.1;proto=https").
// Elements without `for` report no hop; when none has one, a single hop with
// no node carries the last proto.
std::vector<Hop> forwarded_hops(const Headers& headers) {
  std::vector<Hop> hops;
  std::string_view last_proto;
  for_each_item(headers, "forwarded", [&](std::string_view element) {
    Hop hop;
    bool has_for = false;
    while (!element.empty()) {
      auto semicolon = element.find(';');
      std::string_view pair = ascii::trim(element.substr(0, semicolon));
      element.remove_prefix(semicolon == std::string_view::npos ? element.size() : semicolon + 1);
      auto equals = pair.find('=');
      if (equals == std::string_view::npos) continue;
      std::string_view key = ascii::trim(pair.substr(0, equals));
      std::string_view value = unquote(ascii::trim(pair.substr(equals + 1)));
      if (ascii::iequals_lower(key, "for")) {
        hop.node = value;
        has_for = true;
      } else if (ascii::iequals_lower(key, "proto")) {
        hop.proto = value;
      }
    }
    if (!hop.proto.empty()) last_proto = hop.proto;
    if (has_for) hops.push_back(hop);
  });
  if (hops.empty() && !last_proto.empty()) hops.push_back({{}, last_proto});
  return hops;
}

// The hops of X-Forwarded-For, each with its X-Forwarded-Proto entry.
std::vector<Hop> x_forwarded_hops(const Headers& headers) {
  std::vector<Hop> hops;
  std::vector<std::string_view> protos;
  for_each_item(headers, "x-forwarded-for", [&](std::string_view node) { hops.push_back({node, {}}); });
  for_each_item(headers, "x-forwarded-proto", [&](std::string_view proto) { protos.push_back(proto); });
  if (protos.empty()) return hops;
  if (hops.empty()) return {{{}, protos.back()}};
  for (std::size_t i = 0; i < hops.size(); ++i)
    hops[i].proto = protos.size() == hops.size() ? protos[i] : protos.back();
  return hops;
}

// A node's address and port (0 when none) as headers write it: "192.0.2.1",
// "192.0.2.1:8080", "2001:db8::1", "[2001:db8::1]", "[2001:db8::1]:8080".
// Nullopt for anything else ("unknown", "_hidden", garbage).
struct Node {
  IpAddress address;
  std::uint16_t port = 0;
};

std::optional<Node> parse_node(std::string_view node) {
  std::string_view host = node, port;
  if (node.starts_with('[')) {
    auto close = node.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    host = node.substr(1, close - 1);
    std::string_view after = node.substr(close + 1);
    if (!after.empty()) {
      if (!after.starts_with(':')) return std::nullopt;
      port = after.substr(1);
    }
  } else if (auto colon = node.find(':'); colon != std::string_view::npos &&
                                          node.find(':', colon + 1) == std::string_view::npos) {
    host = node.substr(0, colon);  // IPv4 with a port: IPv6 has more than one colon
    port = node.substr(colon + 1);
  }
  auto address = IpAddress::parse(host);
  if (!address) return std::nullopt;
  Node parsed{*address};
  if (!port.empty()) {
    auto number = ascii::parse_decimal<std::uint16_t>(port);
    if (!number) return std::nullopt;
    parsed.port = *number;
  }
  return parsed;
}

std::optional<Endpoint> node_endpoint(std::string_view node) {
  auto parsed = parse_node(node);
  if (!parsed) return std::nullopt;
  return Endpoint{parsed->address.to_string(), parsed->port};
}

bool trusted_hop(const ForwardedAllow& allow, std::string_view node) {
  auto parsed = parse_node(node);
  return parsed && allow.trusts(parsed->address);
}

}  // namespace

void apply_proxy_headers(const ForwardedAllow& allow, const Headers& headers,
                         std::optional<Endpoint>& client, std::string& scheme) {
  std::vector<Hop> hops = forwarded_hops(headers);
  if (hops.empty()) hops = x_forwarded_hops(headers);
  if (hops.empty()) return;
  // The rightmost hop was added by the direct peer: walk left past proxies.
  std::size_t chosen = hops.size() - 1;
  while (chosen > 0 && trusted_hop(allow, hops[chosen].node)) --chosen;
  const Hop& hop = hops[chosen];
  if (!hop.node.empty()) client = node_endpoint(hop.node);
  if (ascii::iequals_lower(hop.proto, "https"))
    scheme = "https";
  else if (ascii::iequals_lower(hop.proto, "http"))
    scheme = "http";
}

namespace middleware {

asgi::App proxy_headers(asgi::App app, ForwardedAllow allow) {
  return [app = std::move(app), allow = std::move(allow)](asgi::Scope scope, asgi::Receive receive,
                                                          asgi::Send send) {
    if (scope.type == asgi::ScopeType::http && allow.trusts(scope.client))
      apply_proxy_headers(allow, scope.headers, scope.client, scope.scheme);
    return app(std::move(scope), std::move(receive), std::move(send));
  };
}

wsgi::App proxy_headers(wsgi::App app, ForwardedAllow allow) {
  return [app = std::move(app), allow = std::move(allow)](wsgi::Environ& environ,
                                                          wsgi::StartResponse& start_response) {
    if (allow.trusts(environ.remote))
      apply_proxy_headers(allow, environ.headers, environ.remote, environ.url_scheme);
    return app(environ, start_response);
  };
}

Middleware proxy_headers(ForwardedAllow allow) {
  return {[allow](asgi::App app) { return proxy_headers(std::move(app), allow); },
          [allow](wsgi::App app) { return proxy_headers(std::move(app), allow); }};
}

}  // namespace middleware

}  // namespace csgi
