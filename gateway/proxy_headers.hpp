// Proxy headers: the client and scheme a trusted reverse proxy reports in
// X-Forwarded-For and X-Forwarded-Proto, or in RFC 7239's Forwarded, become the
// request's client and scheme (spec/servers.md, "Proxies").
//
// It lives in gateway/ because it is a rewrite of the scope and the environ,
// nothing more: an embedding program composes middleware::proxy_headers() like
// any middleware. The servers call apply_proxy_headers() themselves when they
// build each request (--proxy-headers), so that their access log shows the
// same client as the app sees; the rule is the one function below either way.
#pragma once

#include <optional>
#include <string>

#include "gateway/forwarded_allow.hpp"
#include "gateway/middleware.hpp"

namespace csgi {

// Rewrites `client` and `scheme` from the proxy headers in `headers` (names
// lower-case). Precondition: the request's direct peer is trusted (the caller
// checks, once per connection if it likes).
//  - `Forwarded` wins when present; else `X-Forwarded-For` and
//    `X-Forwarded-Proto`. Several fields of one name are one list, in order.
//  - The client is the rightmost hop that is not a trusted proxy (the
//    leftmost when all are); its port when the header gives one, else 0; no
//    client (nullopt) when that hop is not an address ("unknown", an
//    obfuscated name).
//  - The scheme is that hop's proto (X-Forwarded-Proto entries pair with
//    X-Forwarded-For entries when there are as many, else its last entry
//    counts), when it is "http" or "https" in any case; else unchanged.
// Nothing changes when there is no such header.
void apply_proxy_headers(const ForwardedAllow& allow, const Headers& headers,
                         std::optional<Endpoint>& client, std::string& scheme);

namespace middleware {

// Applies apply_proxy_headers() to an http scope (client, scheme) or an
// environ (remote, url_scheme) whose peer `allow` trusts; anything else
// passes unchanged. Do not also enable the server's --proxy-headers: a
// rewritten client would be judged again.
asgi::App proxy_headers(asgi::App app, ForwardedAllow allow);
wsgi::App proxy_headers(wsgi::App app, ForwardedAllow allow);
Middleware proxy_headers(ForwardedAllow allow);

}  // namespace middleware

}  // namespace csgi
